"""Markdown fit for a pull-request comment (GitHub-flavoured): a summary line, a table by
severity, then one folded section per severity (the most severe open) with its findings
and each finding's own fix (``chalicelib.core.fixes``: commands, Terraform, CloudFormation),
folded. It stays under GitHub's 65,536-character comment limit: past ``LIMIT`` the least severe
rows are left out and counted."""

from __future__ import annotations

from collections import Counter
from html import escape

from chalicelib.core.audit import AuditResult
from chalicelib.core.fixes import fix_for
from chalicelib.core.model import Finding, Severity
from chalicelib.render.table import summary_line

LIMIT = 60_000  # characters; GitHub refuses comments over 65,536
OPEN_BY_DEFAULT = (Severity.CRITICAL, Severity.HIGH)


def cell(text: str) -> str:
    """Text safe inside a table cell: no line breaks, pipes escaped, HTML neutralised."""
    return " ".join(text.split()).replace("\\", "\\\\").replace("|", "\\|").replace("<", "&lt;").replace(">", "&gt;")


def code_span(text: str) -> str:
    """An inline code span (GitHub Markdown): backticks inside turned into quotes."""
    return "`" + text.replace("`", "'") + "`"


def _summary_table(result: AuditResult) -> list[str]:
    lines = ["| Severity | Findings | Checks |", "|---|---:|---|"]
    for severity in sorted(Severity, reverse=True):
        group = [f for f in result.findings if f.severity == severity]
        if group:
            checks = Counter(f.check for f in group)
            ranked = sorted(checks.items(), key=lambda kv: (-kv[1], kv[0]))
            names = ", ".join(f"{code_span(c)} ({n})" for c, n in ranked)
            lines.append(f"| **{severity.name}** | {len(group)} | {names} |")
    return lines


def _row(f: Finding) -> str:
    where = f"{cell(f.vpc_id or '')} | {f.region}"
    return f"| {code_span(f.check)} | {code_span(f.resource_id)} | {where} | {cell(f.detail)} |"


def _fix_block(f: Finding) -> list[str]:
    """One folded fix per finding: the console step, then the commands, Terraform and
    CloudFormation, each in a fenced block that copies whole."""
    fix = fix_for(f)
    service = f" ({escape(str(f.evidence['service']))})" if f.evidence.get("service") else ""
    lines = [
        f"<details><summary>Fix: <code>{escape(f.check)}</code> on <code>{escape(f.resource_id)}</code>"
        f"{service}</summary>",
        "",
        cell(" ".join([fix.console, *fix.notes])),
    ]
    for lang, text in (("sh", "\n".join(fix.cli)), ("hcl", fix.terraform), ("yaml", fix.cloudformation)):
        if text:
            lines += ["", f"```{lang}", text.replace("```", "'''"), "```"]
    return [*lines, "", "</details>"]


def _fix_line(f: Finding) -> str:
    """The short form, when the folded fix does not fit: the commands on one line."""
    fix = fix_for(f)
    how = code_span(fix.cli_text) if fix.cli else cell(fix.console)
    return f"- {code_span(f.check)} on {code_span(f.resource_id)}: {how}"


def render(result: AuditResult, limit: int = LIMIT) -> str:
    regions = ", ".join(result.regions)
    head = [
        f"### vpcwatch: {summary_line(result)}",
        "",
        f"Account {code_span(result.account_id)}, {regions}; {result.api_calls} API calls in {result.duration_ms} ms.",
        "",
    ]
    tail: list[str] = []
    if result.suppressed:
        tail += ["", f"<details><summary>{len(result.suppressed)} suppressed</summary>", ""]
        tail += [
            f"- {code_span(f.check)} on {code_span(f.resource_id)}: {cell(f.reason or '')}" for f in result.suppressed
        ]
        tail += ["", "</details>"]
    if result.not_evaluated:
        tail += ["", "**Not evaluated** (data could not be collected):", ""]
        tail += [f"- {code_span(n.check)} in {n.region}: missing {', '.join(n.missing)}" for n in result.not_evaluated]
    if not result.findings:
        return "\n".join([*head, "No findings.", *tail]) + "\n"

    body = [*_summary_table(result)]
    budget = limit - len("\n".join(head + body + tail)) - 400  # room for the truncation notes
    left_out: Counter[Severity] = Counter()
    # First the rows of every severity (the findings come before their fixes), then the fixes
    # of the listed findings, most severe first, while the comment has room.
    sections: list[tuple[list[str], list[str], list[Finding], list[str]]] = []
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
        fixes = ["", "**Fixes** (vpcwatch applies nothing: review them, then run or commit them)", ""]
        closing = ["", "</details>"]
        cost = len("\n".join(section + fixes + closing)) + 1
        rows: list[str] = []
        shown: list[Finding] = []
        for f in group:
            row = _row(f)
            if cost + len(row) + 1 > budget:
                left_out[severity] += 1
                continue
            rows.append(row)
            shown.append(f)
            cost += len(row) + 1
        if not rows:
            continue
        budget -= cost
        sections.append((section + rows, fixes, shown, closing))
    fixes_left_out = 0
    for table, fixes, shown, closing in sections:
        for f in shown:  # folded with its snippets, else the commands on one line
            for candidate in (_fix_block(f), [_fix_line(f)]):
                size = len("\n".join(candidate)) + 1
                if size <= budget:
                    fixes += candidate
                    budget -= size
                    break
            else:
                fixes_left_out += 1
        body += table + fixes + closing
    if left_out:
        counts = ", ".join(f"{n} {s.name}" for s, n in sorted(left_out.items(), reverse=True))
        body += ["", f"_Not listed to fit a comment: {counts}. The full list: `vpcwatch audit --format html`._"]
    if fixes_left_out:
        body += ["", f"_{fixes_left_out} fixes not shown to fit a comment: `vpcwatch audit --format html` has each._"]
    return "\n".join(head + body + tail) + "\n"
