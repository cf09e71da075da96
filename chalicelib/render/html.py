"""A self-contained HTML report (no external fonts, scripts or styles): a summary by
severity and check, and the findings table."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from html import escape

from chalicelib.model import Finding, Severity

STYLE = """
body{font:14px system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:2rem;color:#1d2330}
h1{font-size:1.4rem}table{border-collapse:collapse;width:100%}
th,td{border-bottom:1px solid #dde1e8;padding:.4rem .5rem;text-align:left;vertical-align:top}
th{background:#f3f5f8}.sev{font-weight:600}.CRITICAL,.HIGH{color:#b00020}.MEDIUM{color:#a15c00}
.LOW,.INFORMATIONAL{color:#3a5a8c}code{font-size:12px}.summary span{margin-right:1.2rem}
"""


def render_findings(findings: Sequence[Finding], title: str = "vpcwatch findings") -> str:
    counts = Counter(f.severity for f in findings)
    summary = "".join(
        f'<span class="sev {s.name}">{counts[s]} {s.name}</span>' for s in sorted(Severity, reverse=True) if counts[s]
    )
    rows = "".join(
        "<tr>"
        f'<td class="sev {f.severity.name}">{f.severity.name}</td>'
        f"<td><code>{escape(f.check)}</code></td>"
        f"<td><code>{escape(f.resource_id)}</code><br>{escape(f.vpc_id or '')}</td>"
        f"<td>{escape(f.account_id)}<br>{escape(f.region)}</td>"
        f"<td>{escape(f.status)}</td>"
        f"<td>{escape(f.detail)}<br><small>{escape(f.remediation)}</small></td>"
        "</tr>"
        for f in findings
    )
    return (
        "<!doctype html><html lang=en><head><meta charset=utf-8>"
        f"<title>{escape(title)}</title><style>{STYLE}</style></head><body>"
        f"<h1>{escape(title)}</h1><p class=summary>{len(findings)} findings {summary}</p>"
        "<table><thead><tr><th>Severity</th><th>Check</th><th>Resource</th><th>Where</th><th>Status</th>"
        f"<th>Detail</th></tr></thead><tbody>{rows}</tbody></table></body></html>\n"
    )
