"""Markdown fit for a pull-request comment (GitHub-flavoured): a summary line, a table by
severity, then one folded section per severity (the most severe open) with its findings
and, once per check, the remediation. It stays under GitHub's 65,536-character comment
limit: past ``LIMIT`` the least severe rows are left out and counted."""

from __future__ import annotations

from collections import Counter

from chalicelib.core.audit import AuditResult
from chalicelib.core.checks import CHECK_BY_ID
from chalicelib.core.model import Finding, Severity
from chalicelib.render.table import summary_line

LIMIT = 60_000  # characters; GitHub refuses comments over 65,536
OPEN_BY_DEFAULT = (Severity.CRITICAL, Severity.HIGH)


def cell(text: str) -> str:
    """Text safe inside a table cell: no line breaks, pipes escaped, HTML neutralised."""
    return " ".join(text.split()).replace("\\", "\\\\").replace("|", "\\|").replace("<", "&lt;").replace(">", "&gt;")


def _code(text: str) -> str:
    return "`" + text.replace("`", "'") + "`"


def _summary_table(result: AuditResult) -> list[str]:
    lines = ["| Severity | Findings | Checks |", "|---|---:|---|"]
    for severity in sorted(Severity, reverse=True):
        group = [f for f in result.findings if f.severity == severity]
        if group:
            checks = Counter(f.check for f in group)
            names = ", ".join(f"{_code(c)} ({n})" for c, n in sorted(checks.items(), key=lambda kv: (-kv[1], kv[0])))
            lines.append(f"| **{severity.name}** | {len(group)} | {names} |")
    return lines


def _row(f: Finding) -> str:
    return f"| {_code(f.check)} | {_code(f.resource_id)} | {cell(f.vpc_id or '')} | {f.region} | {cell(f.detail)} |"


def _remediation(checks: list[str]) -> list[str]:
    lines = []
    for check in checks:
        spec = CHECK_BY_ID.get(check)
        if spec is not None:
            lines.append(f"- {_code(check)}: {cell(spec.remediation)} CLI: {_code(spec.cli)}")
    return lines


def render(result: AuditResult, limit: int = LIMIT) -> str:
    regions = ", ".join(result.regions)
    head = [
        f"### vpcwatch: {summary_line(result)}",
        "",
        f"Account {_code(result.account_id)}, {regions}; {result.api_calls} API calls in {result.duration_ms} ms.",
        "",
    ]
    tail: list[str] = []
    if result.suppressed:
        tail += ["", f"<details><summary>{len(result.suppressed)} suppressed</summary>", ""]
        tail += [f"- {_code(f.check)} on {_code(f.resource_id)}: {cell(f.reason or '')}" for f in result.suppressed]
        tail += ["", "</details>"]
    if result.not_evaluated:
        tail += ["", "**Not evaluated** (data could not be collected):", ""]
        tail += [f"- {_code(n.check)} in {n.region}: missing {', '.join(n.missing)}" for n in result.not_evaluated]
    if not result.findings:
        return "\n".join([*head, "No findings.", *tail]) + "\n"

    body = [*_summary_table(result)]
    budget = limit - len("\n".join(head + body + tail)) - 400  # room for the truncation notes
    left_out: Counter[Severity] = Counter()
    for severity in sorted(Severity, reverse=True):
        group = [f for f in result.findings if f.severity == severity]
        if not group:
            continue
        opened = " open" if severity in OPEN_BY_DEFAULT else ""
        section = [
            "",
            f"<details{opened}><summary><b>{severity.name}</b> ({len(group)})</summary>",
            "",
            "| Check | Resource | VPC | Region | Detail |",
            "|---|---|---|---|---|",
        ]
        fixes = ["", "**Remediation**", "", *_remediation(sorted({f.check for f in group}))]
        closing = ["", "</details>"]
        cost = len("\n".join(section + fixes + closing)) + 1
        rows: list[str] = []
        for f in group:
            row = _row(f)
            if cost + len(row) + 1 > budget:
                left_out[severity] += 1
                continue
            rows.append(row)
            cost += len(row) + 1
        if not rows:
            continue
        budget -= cost
        body += section + rows + fixes + closing
    if left_out:
        counts = ", ".join(f"{n} {s.name}" for s, n in sorted(left_out.items(), reverse=True))
        body += ["", f"_Not listed to fit a comment: {counts}. The full list: `vpcwatch audit --format html`._"]
    return "\n".join(head + body + tail) + "\n"
