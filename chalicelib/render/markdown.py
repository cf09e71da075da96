"""Markdown fit for a pull-request comment: summary, a table by severity, details folded."""

from __future__ import annotations

from chalicelib.audit import AuditResult
from chalicelib.model import Finding, Severity
from chalicelib.render.table import summary_line


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _details(finding: Finding) -> str:
    evidence = "\n".join(f"- `{k}`: {_cell(str(v))}" for k, v in finding.evidence.items())
    return (
        f"<details><summary><code>{finding.check}</code> on <code>{finding.resource_id}</code></summary>\n\n"
        f"{_cell(finding.detail)}\n\n**Remediation:** {_cell(finding.remediation)}\n\n"
        f"{evidence}\n\n`{finding.resource_arn}` · id `{finding.id}`\n\n</details>"
    )


def render(result: AuditResult) -> str:
    regions = ", ".join(result.regions)
    lines = [
        f"### vpcwatch: {summary_line(result)}",
        "",
        f"Account `{result.account_id}`, {regions}; {result.api_calls} API calls in {result.duration_ms} ms.",
    ]
    if result.findings:
        lines += ["", "| Severity | Check | Resource | Region | Detail |", "|---|---|---|---|---|"]
        for f in result.findings:
            lines.append(f"| {f.severity.name} | `{f.check}` | `{f.resource_id}` | {f.region} | {_cell(f.detail)} |")
        for severity in sorted(Severity, reverse=True):
            group = [f for f in result.findings if f.severity == severity]
            if group:
                lines += ["", f"#### {severity.name} ({len(group)})", ""]
                lines += [_details(f) for f in group]
    else:
        lines += ["", "No findings."]
    if result.suppressed:
        lines += ["", f"<details><summary>{len(result.suppressed)} suppressed</summary>", ""]
        lines += [f"- `{f.check}` on `{f.resource_id}`: {_cell(f.reason or '')}" for f in result.suppressed]
        lines += ["", "</details>"]
    if result.not_evaluated:
        lines += ["", "**Not evaluated** (data could not be collected):", ""]
        lines += [f"- `{n.check}` in {n.region}: missing {', '.join(n.missing)}" for n in result.not_evaluated]
    return "\n".join(lines) + "\n"
