"""A finding's state change as a Slack Block Kit message (for an incoming webhook): pure;
``chalicelib.aws.publish.slack`` posts it.

The input is the ``default`` JSON of the change's SNS message (``render.messages``), so
the forwarder needs nothing but what the topic delivered.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from chalicelib.core.model import RESOLVED, Finding
from chalicelib.render.messages import (
    CHANGE_TYPES,
    VERB,
    change_emoji,
    check_title,
    clip,
    evidence_lines,
    remediation_parts,
)

# Block Kit (docs.slack.dev/reference/block-kit): header plain_text 150, section text
# 3000, at most 10 fields of 2000 each, context text 3000; the top-level `text` is the
# notification fallback (Slack truncates it past 40,000; keep it short).
SLACK_HEADER_MAX = 150
SLACK_TEXT_MAX = 3000
SLACK_FIELDS_MAX = 10
SLACK_FIELD_MAX = 2000
SLACK_FALLBACK_MAX = 3000


def escape_mrkdwn(text: str) -> str:
    """Slack mrkdwn reserves &, < and > (and CLI placeholders look like <vpc-id>)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def mrkdwn_code(text: str) -> str:
    """A Slack mrkdwn code span: escaped, its backticks turned into quotes."""
    return "`" + escape_mrkdwn(text).replace("`", "'") + "`"


def slack_blocks(message: Mapping[str, Any]) -> dict[str, Any]:
    """A Block Kit payload ({"text", "blocks"}) for the ``default`` JSON of a change."""
    change_type = str(message["type"])
    if change_type not in CHANGE_TYPES:
        raise ValueError(f"not a vpcwatch change type: {change_type!r}")
    finding = Finding.from_dict(message["finding"])
    verb = VERB[change_type]
    emoji = change_emoji(change_type, finding.severity)
    step, cli = remediation_parts(finding)
    title = check_title(finding)

    fields = [
        ("Check", mrkdwn_code(finding.check)),
        ("Severity", finding.severity.name),
        ("Resource", f"{mrkdwn_code(finding.resource_id)} ({escape_mrkdwn(finding.resource_type)})"),
        ("Region", escape_mrkdwn(finding.region)),
        ("Account", escape_mrkdwn(finding.account_id)),
        ("VPC", mrkdwn_code(finding.vpc_id) if finding.vpc_id else "-"),
        ("Status", escape_mrkdwn(finding.status)),
        ("First seen", escape_mrkdwn(finding.first_seen)),
        ("Last seen", escape_mrkdwn(finding.last_seen)),
    ]
    if finding.resolved_at:
        fields.append(("Resolved at", escape_mrkdwn(finding.resolved_at)))
    blocks: list[dict[str, Any]] = [
        {
            "type": "header",
            "text": {
                "type": "plain_text",
                "text": clip(f"{emoji} {finding.severity.name} {verb}: {title}", SLACK_HEADER_MAX),
                "emoji": True,
            },
        },
        {
            "type": "section",
            "fields": [
                {"type": "mrkdwn", "text": clip(f"*{name}*\n{value}", SLACK_FIELD_MAX)}
                for name, value in fields[:SLACK_FIELDS_MAX]
            ],
        },
        {"type": "section", "text": {"type": "mrkdwn", "text": clip(escape_mrkdwn(finding.detail), SLACK_TEXT_MAX)}},
    ]
    evidence = "\n".join(evidence_lines(finding.evidence))
    if evidence:
        # Inside a code block nothing but &, < and > needs escaping; the fence must survive
        # the cut, so clip the content to what is left after the label and the fences.
        room = SLACK_TEXT_MAX - len("*Evidence*\n```\n\n```")
        body = clip(escape_mrkdwn(evidence).replace("```", "'''"), room)
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": f"*Evidence*\n```\n{body}\n```"}})
    context: list[dict[str, Any]] = []
    if change_type != RESOLVED:
        context.append({"type": "mrkdwn", "text": clip(f"*Remediation:* {escape_mrkdwn(step)}", SLACK_TEXT_MAX)})
        if cli:
            context.append({"type": "mrkdwn", "text": clip(f"*CLI:* {mrkdwn_code(cli)}", SLACK_TEXT_MAX)})
    if finding.reason:
        context.append(
            {"type": "mrkdwn", "text": clip(f"*Suppressed:* {escape_mrkdwn(finding.reason)}", SLACK_TEXT_MAX)}
        )
    if context:
        blocks.append({"type": "context", "elements": context})
    blocks.append(
        {
            "type": "context",
            "elements": [
                {"type": "mrkdwn", "text": f"vpcwatch {escape_mrkdwn(change_type)} · finding {mrkdwn_code(finding.id)}"}
            ],
        }
    )
    fallback = (
        f"{emoji} [vpcwatch] {finding.severity.name} {verb}: {title} — {finding.resource_id} "
        f"({finding.account_id}, {finding.region})"
    )
    return {"text": clip(escape_mrkdwn(fallback), SLACK_FALLBACK_MAX), "blocks": blocks}
