"""The HTML report: one self-contained file (no external fonts, scripts, styles or images;
a Content-Security-Policy that forbids loading any), that works offline and in a
locked-down browser.

It holds a summary by severity and by check, the topology diagram (inline SVG, see
``topology``) with each finding drawn on its element, the policy's reachability intents
judged per source subnet (SPEC §7; the first failing path drawn on the diagram), and the
findings table, sortable and filterable by a small inline script. ``render`` draws an audit (the CLI's
``--format html``, the demo); ``render_findings`` draws stored findings (``GET /report``),
with the diagram when snapshots are given.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

from chalicelib.core.audit import AuditResult, NotEvaluated
from chalicelib.core.checks import CHECK_BY_ID
from chalicelib.core.checks.reachability import PUBLIC_HOPS, audited_source_subnets, intent_questions, trace_intent
from chalicelib.core.fixes import fix_for
from chalicelib.core.intents import Intent
from chalicelib.core.model import CollectionError, Finding, NetworkSnapshot, Severity
from chalicelib.core.paths import UNKNOWN, Hop, PathIndex, PathResult
from chalicelib.render import topology

# Forbids every fetch: the page can only use what it carries inline.
CSP = "default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:"

STYLE = """
:root{--fg:#1d2330;--muted:#5b6473;--line:#dde1e8;--bg:#f3f5f8;--CRITICAL:#7b1020;--HIGH:#c62828;
--MEDIUM:#d9822b;--LOW:#3a6fb0;--INFORMATIONAL:#6b7380}
*{box-sizing:border-box}
body{font:14px system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans",sans-serif;margin:0;color:var(--fg)}
header,main{padding:0 1.5rem}header{padding-top:1rem}
h1{font-size:1.4rem;margin:.2rem 0}h2{font-size:1.1rem;margin:1.4rem 0 .6rem}
.meta{color:var(--muted);margin:.2rem 0}.meta code{color:var(--fg)}
code{font:12px ui-monospace,"DejaVu Sans Mono",Menlo,Consolas,monospace}
.cards{display:flex;gap:.6rem;flex-wrap:wrap}
.sev-card{border:1px solid var(--line);border-left:6px solid var(--c);border-radius:6px;padding:.45rem .8rem;
background:#fff;min-width:8.5rem;text-align:left;cursor:pointer;font:inherit;color:inherit}
.sev-card b{font-size:1.5rem;display:block}.sev-card.zero{opacity:.45}
.sev-card[aria-pressed=true]{background:var(--bg);outline:2px solid var(--c)}
.sev{font-weight:700;color:var(--c)}
.CRITICAL{--c:var(--CRITICAL)}.HIGH{--c:var(--HIGH)}.MEDIUM{--c:var(--MEDIUM)}.LOW{--c:var(--LOW)}
.INFORMATIONAL{--c:var(--INFORMATIONAL)}
table{border-collapse:collapse;width:100%}
th,td{border-bottom:1px solid var(--line);padding:.4rem .5rem;text-align:left;vertical-align:top}
th{background:var(--bg)}#findings th{position:sticky;top:0;z-index:1}
th button{all:unset;cursor:pointer;font-weight:700}th button::after{content:" ↕";color:#aab}
th[aria-sort=ascending] button::after{content:" ▲";color:var(--fg)}
th[aria-sort=descending] button::after{content:" ▼";color:var(--fg)}
#by-check td.n{text-align:right}#by-check button{all:unset;cursor:pointer;color:#1f4f9a}
.filters{display:flex;gap:.6rem;flex-wrap:wrap;align-items:center;margin:.5rem 0}
.filters input[type=search]{min-width:18rem}
.filters input,.filters select,.filters button{font:inherit;padding:.25rem .4rem}
#shown{color:var(--muted)}
tr.SUPPRESSED,tr.RESOLVED{color:var(--muted)}
td.detail details{margin-top:.3rem}td.detail pre{white-space:pre-wrap;font-size:12px;background:var(--bg);
padding:.4rem;margin:.3rem 0}
button.locate{font-size:12px;margin-top:.3rem}
.diagram{overflow:auto;max-height:82vh;border:1px solid var(--line);border-radius:6px;background:#fff}
.diagram svg{display:block}
.tools{display:flex;gap:.4rem;align-items:center;margin:.4rem 0}
.legend{display:flex;gap:1rem;flex-wrap:wrap;color:var(--muted);font-size:12px;margin:.4rem 0}
.legend i{display:inline-block;width:1.8rem;height:.7rem;vertical-align:middle;margin-right:.3rem;border-radius:2px}
.notice{background:#fff8e1;border:1px solid #f0d48a;padding:.5rem .8rem;border-radius:6px}
#intents td.verdict b{display:inline-block;padding:0 .4rem;border-radius:3px;color:#fff}
#intents tr.holds td.verdict b{background:#1f8a4c}#intents tr.fails td.verdict b{background:#c62828}
#intents ol{margin:.2rem 0;padding-left:1.4rem}#intents .blocked{color:#9b1c1c}
footer{color:var(--muted);padding:1.5rem}
"""

SCRIPT = """
(function () {
  "use strict";
  var table = document.getElementById("findings");
  var body = table.tBodies[0];
  var rows = Array.prototype.slice.call(body.rows);
  var q = document.getElementById("q"), sev = document.getElementById("f-severity");
  var chk = document.getElementById("f-check"), st = document.getElementById("f-status");
  var rg = document.getElementById("f-region"), shown = document.getElementById("shown");
  function apply() {
    var text = q.value.trim().toLowerCase(), n = 0;
    rows.forEach(function (r) {
      var d = r.dataset, ok = (!sev.value || d.severity === sev.value) && (!chk.value || d.check === chk.value) &&
        (!st.value || d.status === st.value) && (!rg.value || d.region === rg.value) &&
        (!text || d.search.indexOf(text) !== -1);
      r.hidden = !ok;
      if (ok) { n += 1; }
    });
    shown.textContent = n + " of " + rows.length + " shown";
    document.querySelectorAll(".sev-card").forEach(function (b) {
      b.setAttribute("aria-pressed", String(b.dataset.severity === sev.value));
    });
  }
  [q, sev, chk, st, rg].forEach(function (el) { el.addEventListener("input", apply); });
  document.getElementById("clear").addEventListener("click", function () {
    q.value = sev.value = chk.value = st.value = rg.value = ""; apply();
  });
  document.querySelectorAll(".sev-card").forEach(function (b) {
    b.addEventListener("click", function () {
      sev.value = sev.value === b.dataset.severity ? "" : b.dataset.severity; apply();
      table.scrollIntoView({block: "start"});
    });
  });
  document.querySelectorAll("#by-check button[data-check]").forEach(function (b) {
    b.addEventListener("click", function () { chk.value = b.dataset.check; apply(); table.scrollIntoView(); });
  });
  table.querySelectorAll("th[data-key]").forEach(function (th) {
    th.querySelector("button").addEventListener("click", function () {
      var key = th.dataset.key, numeric = th.dataset.type === "number";
      var dir = th.getAttribute("aria-sort") === "ascending" ? -1 : 1;
      table.querySelectorAll("th[data-key]").forEach(function (o) { o.removeAttribute("aria-sort"); });
      th.setAttribute("aria-sort", dir === 1 ? "ascending" : "descending");
      rows.sort(function (a, b) {
        var x = a.dataset[key], y = b.dataset[key];
        var c = numeric ? Number(x) - Number(y) : x.localeCompare(y);
        return (c || Number(a.dataset.order) - Number(b.dataset.order)) * dir;
      });
      rows.forEach(function (r) { body.appendChild(r); });
    });
  });
  var svg = document.getElementById("topology");
  if (svg) {
    svg.addEventListener("click", function (e) {
      var el = e.target.closest("[data-resource]");
      if (!el) { return; }
      q.value = el.getAttribute("data-resource"); sev.value = chk.value = st.value = rg.value = "";
      apply();
      document.getElementById("findings-section").scrollIntoView({block: "start"});
    });
    var width = Number(svg.getAttribute("width")), scale = 1;
    function zoom(s) { scale = s; svg.setAttribute("width", String(width * s));
      svg.setAttribute("height", String(Number(svg.viewBox.baseVal.height) * s)); }
    document.getElementById("zoom-in").addEventListener("click", function () { zoom(scale * 1.25); });
    document.getElementById("zoom-out").addEventListener("click", function () { zoom(scale / 1.25); });
    document.getElementById("zoom-fit").addEventListener("click", function () {
      zoom(Math.min(1, (svg.parentNode.clientWidth - 4) / width)); });
    table.addEventListener("click", function (e) {
      var b = e.target.closest("button.locate");
      if (!b) { return; }
      svg.querySelectorAll(".hl").forEach(function (h) { h.classList.remove("hl"); });
      var hit = svg.querySelectorAll('[data-resource="' + b.dataset.resource + '"]');
      hit.forEach(function (h) { h.classList.add("hl"); });
      if (hit.length) { hit[0].scrollIntoView({block: "center", inline: "center"}); }
    });
  }
  apply();
}());
"""


def _severity_cards(findings: Sequence[Finding]) -> str:
    counts = Counter(f.severity for f in findings if f.status == "OPEN")
    return "".join(
        f'<button type="button" class="sev-card {s.name}{" zero" if not counts[s] else ""}" '
        f'data-severity="{s.name}" aria-pressed="false"><b>{counts[s]}</b>{s.name}</button>'
        for s in sorted(Severity, reverse=True)
    )


def _by_check(findings: Sequence[Finding]) -> str:
    open_counts = Counter(f.check for f in findings if f.status == "OPEN")
    other = Counter(f.check for f in findings if f.status != "OPEN")
    checks = sorted(
        set(open_counts) | set(other),
        key=lambda c: (-max((f.severity for f in findings if f.check == c), default=0), -open_counts[c], c),
    )
    if not checks:
        return "<p>No findings.</p>"
    rows = []
    for check in checks:
        spec = CHECK_BY_ID.get(check)
        severity = max(f.severity for f in findings if f.check == check)
        rows.append(
            f'<tr data-check="{escape(check)}"><td><button type="button" data-check="{escape(check)}">'
            f"<code>{escape(check)}</code></button></td><td>{escape(spec.title if spec else '')}</td>"
            f'<td class="sev {severity.name}">{severity.name}</td><td class="n">{open_counts[check]}</td>'
            f'<td class="n">{other[check]}</td></tr>'
        )
    return (
        '<table id="by-check"><thead><tr><th>Check</th><th>What it wants</th><th>Severity</th>'
        '<th class="n">Open</th><th class="n">Suppressed / resolved</th></tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table>"
    )


def _options(values: Sequence[str], label: str) -> str:
    return f'<option value="">{escape(label)}</option>' + "".join(
        f'<option value="{escape(v)}">{escape(v)}</option>' for v in values
    )


def _row(finding: Finding, order: int, drawn: frozenset[str]) -> str:
    f = finding
    search = " ".join((f.id, f.check, f.resource_id, f.vpc_id or "", f.region, f.account_id, f.detail)).lower()
    evidence = json.dumps(dict(f.evidence), indent=2, sort_keys=True, default=str)
    locate = (
        f'<br><button type="button" class="locate" data-resource="{escape(f.resource_id)}">show on diagram</button>'
        if f.resource_id in drawn
        else ""
    )
    reason = f"<br><small>suppressed: {escape(f.reason)}</small>" if f.reason else ""
    resolved = f"<br><small>since {escape(f.resolved_at)}</small>" if f.resolved_at else ""
    return (
        f'<tr class="finding {escape(f.status)}" data-id="{escape(f.id)}" data-order="{order}" '
        f'data-severity="{f.severity.name}" data-rank="{int(f.severity)}" data-check="{escape(f.check)}" '
        f'data-resource="{escape(f.resource_id)}" data-region="{escape(f.region)}" data-status="{escape(f.status)}" '
        f'data-search="{escape(search)}" data-seen="{escape(f.last_seen)}">'
        f'<td class="sev {f.severity.name}">{f.severity.name}</td>'
        f"<td><code>{escape(f.check)}</code></td>"
        f"<td><code>{escape(f.resource_id)}</code><br><small>{escape(f.vpc_id or '')}</small>{locate}</td>"
        f"<td>{escape(f.region)}<br><small>{escape(f.account_id)}</small></td>"
        f"<td>{escape(f.status)}{reason}{resolved}</td>"
        f'<td class="detail">{escape(f.detail)}<details><summary>Remediation and evidence</summary>'
        f"{_fix(f)}<pre>{escape(evidence)}</pre>"
        f"<small>first seen {escape(f.first_seen)}, last seen {escape(f.last_seen)} · <code>{escape(f.id)}</code>"
        "</small></details></td></tr>"
    )


def _fix(finding: Finding) -> str:
    """The finding's own fix: the console step, the commands, the Terraform and CloudFormation."""
    fix = fix_for(finding)
    parts = [f'<p class="fix-step">{escape(" ".join([fix.console, *fix.notes]))}</p>']
    blocks = (("AWS CLI", "cli", "\n".join(fix.cli)), ("Terraform", "tf", fix.terraform))
    for label, kind, text in (*blocks, ("CloudFormation", "cfn", fix.cloudformation)):
        if text:
            parts.append(f'<p><small>{label}</small></p><pre class="fix-{kind}">{escape(text)}</pre>')
    return "".join(parts)


def _findings_table(findings: Sequence[Finding], drawn: frozenset[str]) -> str:
    checks = sorted({f.check for f in findings})
    statuses = sorted({f.status for f in findings})
    regions = sorted({f.region for f in findings})
    severities = [s.name for s in sorted(Severity, reverse=True)]
    head = (
        '<th data-key="rank" data-type="number"><button type="button">Severity</button></th>'
        '<th data-key="check"><button type="button">Check</button></th>'
        '<th data-key="resource"><button type="button">Resource</button></th>'
        '<th data-key="region"><button type="button">Region</button></th>'
        '<th data-key="status"><button type="button">Status</button></th><th>Detail</th>'
    )
    rows = "".join(_row(f, n, drawn) for n, f in enumerate(findings))
    return (
        '<div class="filters" role="search">'
        '<input type="search" id="q" placeholder="Filter: id, resource, VPC, text…" aria-label="Filter findings">'
        f'<select id="f-severity" aria-label="Severity">{_options(severities, "any severity")}</select>'
        f'<select id="f-check" aria-label="Check">{_options(checks, "any check")}</select>'
        f'<select id="f-status" aria-label="Status">{_options(statuses, "any status")}</select>'
        f'<select id="f-region" aria-label="Region">{_options(regions, "any region")}</select>'
        '<button type="button" id="clear">Clear</button><span id="shown" aria-live="polite"></span></div>'
        f'<table id="findings"><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>'
    )


LEGEND = (
    '<div class="legend">'
    '<span><i style="background:#fff;border:2px solid #c62828"></i>'
    "element with a finding (frame colour: severity)</span>"
    '<span><i style="background:#c62828"></i>overlapping CIDR (marked on both sides)</span>'
    '<span><i style="background:#fde8ea;border:1px solid #c62828"></i>missing endpoint, failing element</span>'
    '<span><i style="background:#e7f5ec;border:1px solid #7cb98b"></i>endpoint, flow log in place</span>'
    '<span><i style="border-top:3px solid #2f6db5;height:0"></i>peering (red: joins overlapping CIDRs)</span>'
    '<span><i style="border-top:3px solid #8a4fbf;height:0"></i>TGW route table bus: solid stub associated, '
    "dashed propagating</span>"
    '<span><i style="background:#f8f8f8;border:1px dashed #9aa4b5"></i>VPC outside this audit</span>'
    "<span>click an element to list its findings</span></div>"
)


def _diagram(
    snapshots: Sequence[NetworkSnapshot], findings: Sequence[Finding], highlight: IntentVerdict | None = None
) -> tuple[str, frozenset[str]]:
    if not snapshots:
        return (
            '<p class="notice" id="no-topology">No topology in this report: it was built from stored findings. '
            "<code>vpcwatch audit --format html</code> draws the network with the findings on it.</p>",
            frozenset(),
        )
    diagram = topology.build(snapshots, findings, highlight.result if highlight is not None else None)
    tools = (
        '<div class="tools"><button type="button" id="zoom-out" aria-label="Zoom out">−</button>'
        '<button type="button" id="zoom-in" aria-label="Zoom in">+</button>'
        '<button type="button" id="zoom-fit">Fit width</button></div>'
    )
    return tools + LEGEND + _highlight_note(highlight) + f'<div class="diagram">{diagram.svg}</div>', diagram.drawn


@dataclass(frozen=True)
class IntentVerdict:
    """One (intent, source subnet, destination) pair of the policy, judged as the
    ``reachability-intent`` check judges it."""

    intent: Intent
    region: str
    subnet_id: str
    vpc_id: str
    destination: str
    holds: bool
    result: PathResult | None  # None: the question could not be asked (``reason``)
    reason: str = ""


def judge_intents(snapshots: Sequence[NetworkSnapshot], intents: Sequence[Intent]) -> list[IntentVerdict]:
    """Every intent's verdict per source subnet and destination, in policy order, from the
    region-wide snapshots (a scoped audit judges none, as the check)."""
    indexes: dict[str, PathIndex] = {}
    verdicts: list[IntentVerdict] = []
    for intent in intents:
        for snapshot in snapshots:
            for source, destination in intent_questions(intent, snapshot):
                index = indexes.get(snapshot.region)
                if index is None:
                    index = indexes[snapshot.region] = PathIndex([snapshot])
                pair = (intent, snapshot.region, source.subnet_id, source.vpc_id, destination)
                result = trace_intent(index, intent, source.subnet_id, destination)
                if isinstance(result, str):
                    verdicts.append(IntentVerdict(*pair, holds=False, result=None, reason=result))
                else:
                    verdicts.append(
                        IntentVerdict(*pair, holds=intent.holds(result.verdict, result.private), result=result)
                    )
    return verdicts


def _traffic(intent: Intent) -> str:
    return intent.protocol + (f"/{intent.port}" if intent.port is not None else "")


def _hops(hops: Sequence[Hop]) -> str:
    return "".join(
        f"<li><code>{escape(h.resource_id)}</code> {escape(h.type)}"
        + (f" <small>{escape(h.detail)}</small>" if h.detail else "")
        + "</li>"
        for h in hops
    )


def _verdict_text(v: IntentVerdict) -> str:
    if v.result is None:
        return f"{UNKNOWN}: {escape(v.reason)}"
    result = v.result
    if result.verdict != "reachable":
        return escape(result.verdict)
    return "reachable, " + ("private" if result.private else "over the internet (not private)")


def _path_cell(v: IntentVerdict) -> str:
    result = v.result
    if result is None:
        return ""
    parts = []
    if result.blocked_at is not None:
        b = result.blocked_at
        parts.append(
            f'<p class="blocked">blocked at <code>{escape(b.resource_id)}</code> ({escape(b.type)}): '
            f"{escape(b.reason)}</p>"
        )
    public = next((h for h in result.hops if h.type in PUBLIC_HOPS), None)
    if public is not None and not v.holds:
        parts.append(
            f'<p class="public">crosses the internet at <code>{escape(public.resource_id)}</code> '
            f"({escape(public.type)})</p>"
        )
    count = len(result.hops) + len(result.return_hops)
    hops = f'<ol class="hops">{_hops(result.hops)}</ol>'
    if result.return_hops:
        hops += f'<small>return</small><ol class="return-hops">{_hops(result.return_hops)}</ol>'
    summary = f"{count} hop{'s' if count != 1 else ''}"
    parts.append(f"<details{'' if parts else ' open'}><summary>{summary}</summary>{hops}</details>")
    return "".join(parts)


def _intents(
    intents: Sequence[Intent],
    verdicts: Sequence[IntentVerdict],
    *,
    has_snapshots: bool,
    judged: bool,
    highlighted: IntentVerdict | None,
) -> str:
    if not has_snapshots:
        return (
            '<p id="intents-not-judged">Intents are judged on an audit\'s snapshots, and this report was built '
            "from stored findings: the failing ones are its <code>reachability-intent</code> findings.</p>"
        )
    if not intents:
        return (
            '<p id="no-intents">No reachability intents configured (the policy has no '
            "<code>reachability</code> list).</p>"
        )
    if not judged:
        return (
            '<p class="notice" id="intents-not-judged">Intents not judged: they are judged by region-wide '
            "audits only (a path may cross any VPC of the region), and this one was scoped.</p>"
        )
    rows = []
    for intent in intents:
        mine = [v for v in verdicts if v.intent is intent]
        head = (
            f"<td><b>{escape(intent.name)}</b><br><small>expects {escape(intent.expect)} · "
            f"{escape(_traffic(intent))}</small></td>"
        )
        if not mine:
            rows.append(
                f'<tr class="intent none" data-intent="{escape(intent.name)}">{head}'
                '<td colspan="4">no audited source subnet matches <code>from</code></td></tr>'
            )
            continue
        for v in mine:
            status = "holds" if v.holds else "fails"
            marker = ' data-highlighted="true"' if v is highlighted else ""
            rows.append(
                f'<tr class="intent {status}" data-intent="{escape(intent.name)}" '
                f'data-source="{escape(v.subnet_id)}" data-destination="{escape(v.destination)}"'
                f' data-verdict="{escape(v.result.verdict if v.result else UNKNOWN)}"{marker}>{head}'
                f"<td><code>{escape(v.subnet_id)}</code><br><small>{escape(v.vpc_id)} · {escape(v.region)}</small></td>"
                f"<td><code>{escape(v.destination)}</code></td>"
                f'<td class="verdict"><b>{status}</b><br><small>{_verdict_text(v)}</small></td>'
                f'<td class="path">{_path_cell(v)}</td></tr>'
            )
    failing = sum(1 for v in verdicts if not v.holds)
    summary = (
        f"{len(intents)} intent{'s' if len(intents) != 1 else ''}, {len(verdicts)} source/destination "
        f"pair{'s' if len(verdicts) != 1 else ''}: {len(verdicts) - failing} hold, {failing} fail"
    )
    return (
        f'<p class="meta" id="intents-summary">{escape(summary)}</p>'
        '<table id="intents"><thead><tr><th>Intent</th><th>Source subnet</th><th>Destination</th>'
        f"<th>Verdict</th><th>Path</th></tr></thead><tbody>{''.join(rows)}</tbody></table>"
    )


def _highlight_note(v: IntentVerdict | None) -> str:
    if v is None or v.result is None:
        return ""
    where = (
        f", blocked at <code>{escape(v.result.blocked_at.resource_id)}</code>"
        if v.result.blocked_at is not None
        else ""
    )
    return (
        f'<p class="meta" id="highlighted-path">Drawn on the diagram (green, the blocking hop red): intent '
        f"<b>{escape(v.intent.name)}</b>, <code>{escape(v.subnet_id)}</code> to "
        f"<code>{escape(v.destination)}</code>{where}.</p>"
    )


def _problems(errors: Sequence[CollectionError], not_evaluated: Sequence[NotEvaluated]) -> str:
    if not errors and not not_evaluated:
        return ""
    items = "".join(
        f"<li><code>{escape(e.action)}</code> in {escape(e.region)}: {escape(e.code)}</li>" for e in errors
    ) + "".join(
        f"<li>not evaluated: <code>{escape(n.check)}</code> in {escape(n.region)} "
        f"(missing {escape(', '.join(n.missing))})</li>"
        for n in not_evaluated
    )
    return f'<section id="problems"><h2>Data that could not be collected</h2><ul>{items}</ul></section>'


def render_findings(
    findings: Sequence[Finding],
    title: str = "vpcwatch findings",
    *,
    snapshots: Sequence[NetworkSnapshot] = (),
    meta: str = "",
    not_evaluated: Sequence[NotEvaluated] = (),
    intents: Sequence[Intent] = (),
) -> str:
    """The report of ``findings`` (any statuses); with ``snapshots``, the topology too, and
    the policy's ``intents`` judged on them (the first failing path drawn on the diagram)."""
    verdicts = judge_intents(snapshots, intents) if intents else []
    judged = any(audited_source_subnets(s) for s in snapshots)
    highlight = next((v for v in verdicts if not v.holds and v.result is not None), None)
    diagram, drawn = _diagram(snapshots, findings, highlight)
    intents_html = _intents(intents, verdicts, has_snapshots=bool(snapshots), judged=judged, highlighted=highlight)
    errors = [e for s in snapshots for e in s.errors]
    open_count = sum(1 for f in findings if f.status == "OPEN")
    other = len(findings) - open_count
    summary = f"{open_count} open finding{'s' if open_count != 1 else ''}" + (f", {other} other" if other else "")
    return (
        "<!doctype html><html lang=en><head><meta charset=utf-8>"
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">'
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        f'<meta name="generator" content="vpcwatch"><title>{escape(title)}</title><style>{STYLE}</style></head><body>'
        f'<header><h1>{escape(title)}</h1><p class="meta" id="summary-line">{escape(summary)}</p>{meta}</header><main>'
        f'<section id="summary"><h2>By severity</h2><div class="cards">{_severity_cards(findings)}</div>'
        f"<h2>By check</h2>{_by_check(findings)}</section>"
        f'<section id="topology-section"><h2>Topology</h2>{diagram}</section>'
        f'<section id="intents-section"><h2>Intents</h2>{intents_html}</section>'
        f"{_problems(errors, not_evaluated)}"
        f'<section id="findings-section"><h2>Findings</h2>{_findings_table(findings, drawn)}</section>'
        "</main><footer>vpcwatch · self-contained report: it loads nothing from the network.</footer>"
        f"<script>{SCRIPT}</script></body></html>\n"
    )


def render(result: AuditResult, title: str = "vpcwatch report", *, intents: Sequence[Intent] = ()) -> str:
    """The report of an audit: its findings and suppressed findings, its topology, and the
    policy's reachability ``intents`` (the policy is not part of the result: pass
    ``policy.intents``)."""
    resources = result.resources()
    meta = (
        f'<p class="meta">Account <code>{escape(result.account_id)}</code> · '
        f"{escape(', '.join(result.regions))} · started {escape(result.started_at)} · "
        f"{result.duration_ms} ms · {result.api_calls} API calls · {resources['vpcs']} VPCs, "
        f"{resources['route_tables']} route tables, {resources['peerings']} peerings, "
        f"{resources['transit_gateways']} transit gateways"
        + (f" · scope {escape(', '.join(result.scope_vpc_ids))}" if result.scope_vpc_ids else "")
        + "</p>"
    )
    return render_findings(
        [*result.findings, *result.suppressed],
        title,
        snapshots=result.snapshots,
        meta=meta,
        not_evaluated=result.not_evaluated,
        intents=intents,
    )
