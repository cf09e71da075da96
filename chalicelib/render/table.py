"""Plain-text table for terminals: grouped by severity, readable at 100 columns."""

from __future__ import annotations

import re
import textwrap
from collections import Counter

from chalicelib.core.audit import AuditResult
from chalicelib.core.fixes import fix_for
from chalicelib.core.model import Finding, Severity

WIDTH = 100


def summary_line(result: AuditResult) -> str:
    counts = Counter(f.severity for f in result.findings)
    by_severity = ", ".join(f"{counts[s]} {s.name}" for s in sorted(counts, reverse=True))
    parts = [f"{len(result.findings)} finding{'s' if len(result.findings) != 1 else ''}"]
    if by_severity:
        parts[0] += f" ({by_severity})"
    parts.append(f"{len(result.suppressed)} suppressed")
    parts.append(f"{len(result.not_evaluated)} not evaluated")
    return " · ".join(parts)


def _finding_lines(finding: Finding, indent: str = "  ") -> list[str]:
    head = f"{indent}{finding.check:<36} {finding.resource_id:<28} {finding.region}"
    lines = [head[:WIDTH]]
    body = finding.detail
    if finding.reason:
        body += f" [suppressed: {finding.reason}]"
    lines += textwrap.wrap(body, WIDTH, initial_indent=indent + "  ", subsequent_indent=indent + "  ")
    if finding.status == "OPEN":
        for command in fix_for(finding).cli:
            lines += shell_lines(command, f"{indent}  $ ", f"{indent}      ")
    return lines


def shell_lines(command: str, first: str, rest: str, width: int = WIDTH) -> list[str]:
    """A command folded at its options with shell line continuations, so it still pastes whole
    (an option longer than the width stays on its own line)."""
    lines: list[str] = []
    current = first
    for part in re.split(r" (?=--|Name=)", command):  # options, and each --filters filter
        if current.strip() not in ("", "$") and len(current) + 1 + len(part) + 2 > width:
            lines.append(current + " \\")
            current = rest + part
        else:
            current = current + ("" if current.endswith(" ") else " ") + part
    return [*lines, current]


def render(result: AuditResult) -> str:
    out = [
        f"vpcwatch audit · account {result.account_id} · {', '.join(result.regions)}"
        f" · {result.api_calls} API calls · {result.duration_ms} ms",
    ]
    if result.scope_vpc_ids:
        out.append(textwrap.fill("scope: " + ", ".join(result.scope_vpc_ids), WIDTH))
    out.append(summary_line(result))
    for severity in sorted(Severity, reverse=True):
        group = [f for f in result.findings if f.severity == severity]
        if not group:
            continue
        out += ["", f"{severity.name} ({len(group)})"]
        for finding in group:
            out += _finding_lines(finding)
    if result.suppressed:
        out += ["", f"SUPPRESSED ({len(result.suppressed)})"]
        for finding in result.suppressed:
            out += _finding_lines(finding)
    errors = [e for s in result.snapshots for e in s.errors]
    if errors:
        out += ["", f"COLLECTION ERRORS ({len(errors)}): these checks were not evaluated"]
        for e in errors:
            out.append(f"  {e.region:<14} {e.action:<50} {e.code}"[:WIDTH])
        for n in result.not_evaluated:
            out.append(f"  not evaluated: {n.check} in {n.region} (missing {', '.join(n.missing)})"[:WIDTH])
    if not result.findings and not errors:
        out += ["", "No findings."]
    return "\n".join(out) + "\n"
