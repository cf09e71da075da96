"""The HTML report: one self-contained file (no external fonts, scripts, styles or images;
a Content-Security-Policy that forbids loading any), that works offline and in a
locked-down browser.

It holds a summary by severity and by check, the topology diagram (inline SVG, see
``topology``) with each finding drawn on its element, and the findings table, sortable
and filterable by a small inline script. ``render`` draws an audit (the CLI's
``--format html``, the demo); ``render_findings`` draws stored findings (``GET /report``),
with the diagram when snapshots are given.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence
from html import escape

from chalicelib.core.audit import AuditResult, NotEvaluated
from chalicelib.core.checks import CHECK_BY_ID
from chalicelib.core.fixes import fix_for
from chalicelib.core.model import CollectionError, Finding, NetworkSnapshot, Severity
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


def _diagram(snapshots: Sequence[NetworkSnapshot], findings: Sequence[Finding]) -> tuple[str, frozenset[str]]:
    if not snapshots:
        return (
            '<p class="notice" id="no-topology">No topology in this report: it was built from stored findings. '
            "<code>vpcwatch audit --format html</code> draws the network with the findings on it.</p>",
            frozenset(),
        )
    diagram = topology.build(snapshots, findings)
    tools = (
        '<div class="tools"><button type="button" id="zoom-out" aria-label="Zoom out">−</button>'
        '<button type="button" id="zoom-in" aria-label="Zoom in">+</button>'
        '<button type="button" id="zoom-fit">Fit width</button></div>'
    )
    return tools + LEGEND + f'<div class="diagram">{diagram.svg}</div>', diagram.drawn


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
) -> str:
    """The report of ``findings`` (any statuses); with ``snapshots``, the topology too."""
    diagram, drawn = _diagram(snapshots, findings)
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
        f"{_problems(errors, not_evaluated)}"
        f'<section id="findings-section"><h2>Findings</h2>{_findings_table(findings, drawn)}</section>'
        "</main><footer>vpcwatch · self-contained report: it loads nothing from the network.</footer>"
        f"<script>{SCRIPT}</script></body></html>\n"
    )


def render(result: AuditResult, title: str = "vpcwatch report") -> str:
    """The report of an audit: its findings and suppressed findings, and its topology."""
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
    )
