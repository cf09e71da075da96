"""A finding's state change as the messages that announce it (SPEC §4): pure text, no I/O.

One SNS message per change, published with ``MessageStructure=json`` so each protocol
gets its own rendering from a single publish (``sns_message`` builds it;
``chalicelib.aws.publish.sns`` sends it):

- ``default`` (SQS, Lambda, every protocol without its own key): the machine contract
  ``{"type": "finding.opened|finding.resolved|finding.reopened", "finding": FINDING}``;
- ``email``: readable plain text;
- ``https``: an Amazon Q Developer in chat applications (formerly AWS Chatbot) custom
  notification, which is what Chatbot's HTTPS subscription to the topic receives. Schema:
  https://docs.aws.amazon.com/chatbot/latest/adminguide/custom-notifs.html ("Event
  schema" and "Parameter details": ``version`` must be "1.0", ``source`` must be
  "custom", optional ``id``, ``content.textType`` only "client-markdown", ``title``,
  ``description``, ``nextSteps`` and ``keywords`` lists of strings; ``metadata`` with
  ``threadId``, ``summary``, ``eventType``, ``relatedResources`` (strings) and
  ``additionalContext`` (string to string)).

Message attributes ``severity``, ``check`` and ``type`` let subscriptions filter (e.g.
email only HIGH and CRITICAL); ``dedupe_key`` (finding id # state version) names the
state change, the same on every publish of it, so a consumer can drop the duplicate that
a run dying between publishing and recording it causes. ``parse_message`` reads the
``default`` JSON back (the Slack forwarder's input; ``chalicelib.render.slack`` turns it
into Block Kit).
"""

from __future__ import annotations

import json
import re
import unicodedata
import uuid
from collections.abc import Mapping
from typing import Any

from chalicelib.core.checks import CHECK_BY_ID
from chalicelib.core.fixes import CLI_SEPARATOR
from chalicelib.core.model import OPENED, REOPENED, RESOLVED, Change, Finding, Severity

CHANGE_TYPES = (OPENED, RESOLVED, REOPENED)
VERB = {OPENED: "opened", RESOLVED: "resolved", REOPENED: "reopened"}

# SNS: Subject is ASCII, printable, at most 100 characters; the whole message (all
# protocols' renderings, attributes, subject) at most 256 KiB.
SUBJECT_MAX = 100
SNS_MESSAGE_MAX_BYTES = 256 * 1024
# The message attribute naming one state change (finding id # state version): the same
# change published twice carries the same key, so a consumer can drop the second.
DEDUPE_ATTRIBUTE = "dedupe_key"
# Chatbot: the guide gives no length limits for custom notifications; chat platforms
# cut long posts, and every character here also counts against the SNS limit.
CHATBOT_TITLE_MAX = 250
CHATBOT_DESCRIPTION_MAX = 8000

_SEVERITY_EMOJI = {
    Severity.CRITICAL: ":rotating_light:",
    Severity.HIGH: ":red_circle:",
    Severity.MEDIUM: ":large_orange_circle:",
    Severity.LOW: ":large_yellow_circle:",
    Severity.INFORMATIONAL: ":information_source:",
}
_RESOLVED_EMOJI = ":white_check_mark:"
_REOPENED_EMOJI = ":repeat:"


# ---------------------------------------------------------------------------------
# Shared text helpers (the Slack renderer uses them too)
# ---------------------------------------------------------------------------------


def clip(text: str, limit: int, ellipsis: str = "…") -> str:
    """``text`` cut to ``limit`` characters, the cut marked by ``ellipsis``."""
    return text if len(text) <= limit else text[: max(limit - len(ellipsis), 0)] + ellipsis


def _ascii(text: str) -> str:
    """Printable ASCII only: accents folded, the rest dropped, whitespace collapsed."""
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    return re.sub(r"\s+", " ", re.sub(r"[^\x20-\x7e]", " ", folded)).strip()


def remediation_parts(finding: Finding) -> tuple[str, str | None]:
    """(console step, CLI command): the audit stores them as '<step> CLI: <command>'."""
    step, sep, cli = finding.remediation.partition(CLI_SEPARATOR)
    if sep:
        return step.strip(), cli.strip()
    spec = CHECK_BY_ID.get(finding.check)
    return finding.remediation.strip(), spec.cli if spec else None


def check_title(finding: Finding) -> str:
    spec = CHECK_BY_ID.get(finding.check)
    return finding.title or (spec.title if spec else finding.check)


def change_emoji(change_type: str, severity: Severity) -> str:
    """The chat emoji of a change: a tick when resolved, else the severity's (after a
    repeat sign when reopened)."""
    if change_type == RESOLVED:
        return _RESOLVED_EMOJI
    if change_type == REOPENED:
        return f"{_REOPENED_EMOJI} {_SEVERITY_EMOJI[severity]}"
    return _SEVERITY_EMOJI[severity]


def _references(finding: Finding) -> list[str]:
    spec = CHECK_BY_ID.get(finding.check)
    if spec is None:
        return []
    refs = [f"Security Hub {', '.join(spec.security_hub)}"] if spec.security_hub else []
    refs += [f"AWS Config {', '.join(spec.config_rule)}"] if spec.config_rule else []
    refs += [f"CIS AWS Foundations {', '.join(spec.cis)}"] if spec.cis else []
    return refs


def _compact(value: Any) -> str:
    if isinstance(value, str):
        return value
    return json.dumps(value, sort_keys=True, default=str, separators=(", ", ": "))


def evidence_lines(evidence: Mapping[str, Any], max_items: int = 5, max_line: int = 300) -> list[str]:
    """A readable summary of the evidence: one line per key, long lists cut to their first
    items with a count of the rest (the full evidence stays in the `default` JSON)."""
    lines: list[str] = []
    for key in sorted(evidence):
        value = evidence[key]
        if isinstance(value, list | tuple):
            head = f"{key} ({len(value)}): "
            more = f" (+{len(value) - max_items} more)" if len(value) > max_items else ""
            shown = "; ".join(_compact(item) for item in value[:max_items])
            # The count of the rest survives the cut: clip the items, not the suffix.
            lines.append(head + clip(shown, max(max_line - len(head) - len(more), 1)) + more)
        else:
            lines.append(clip(f"{key}: {_compact(value)}", max_line))
    return lines


def _when(finding: Finding) -> str:
    """The moment of this change: resolution time, else the latest sighting."""
    return finding.resolved_at or finding.last_seen


# ---------------------------------------------------------------------------------
# The SNS message: subject, email, chat-app notification, attributes
# ---------------------------------------------------------------------------------


def subject(change: Change) -> str:
    finding = change.finding
    verb = VERB.get(change.type, change.type)
    text = _ascii(f"[vpcwatch] {finding.severity.name} {verb}: {finding.check} {finding.resource_id}")
    return clip(text, SUBJECT_MAX, ellipsis="...")


def email_text(change: Change, max_evidence_chars: int = 4000) -> str:
    finding = change.finding
    verb = VERB.get(change.type, change.type)
    step, cli = remediation_parts(finding)
    what = {
        OPENED: "A new finding was opened.",
        REOPENED: "A finding that had been resolved is failing again.",
        RESOLVED: "This finding is resolved: the latest audit no longer finds it.",
    }.get(change.type, f"Finding {verb}.")
    evidence = "\n".join(f"  - {line}" for line in evidence_lines(finding.evidence)) or "  (none)"
    lines = [
        f"vpcwatch: {finding.severity.name} finding {verb}",
        "",
        what,
        "",
        f"Check:       {check_title(finding)} ({finding.check})",
        f"Severity:    {finding.severity.name}",
        f"Status:      {finding.status}",
        f"Resource:    {finding.resource_id} ({finding.resource_type})",
        f"ARN:         {finding.resource_arn}",
        f"Account:     {finding.account_id}",
        f"Region:      {finding.region}",
        f"VPC:         {finding.vpc_id or '-'}",
        "",
        "Detail:",
        f"  {finding.detail}",
        "",
        "Evidence:",
        clip(evidence, max_evidence_chars),
        "",
        "Remediation:",
        f"  {step}",
    ]
    if cli:
        lines += [f"  CLI: {cli}"]
    references = _references(finding)
    if references:
        lines += ["", "References:", *(f"  - {ref}" for ref in references)]
    if finding.reason:
        lines += ["", f"Suppressed because: {finding.reason}"]
    lines += [
        "",
        f"Finding id:  {finding.id}",
        f"First seen:  {finding.first_seen}",
        f"Last seen:   {finding.last_seen}",
    ]
    if finding.resolved_at:
        lines += [f"Resolved at: {finding.resolved_at}"]
    return "\n".join(lines) + "\n"


def notification_id(change: Change) -> str:
    """Unique per change and stable across retries of it (same outbox entry, same id)."""
    finding = change.finding
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"vpcwatch:{change.type}:{finding.id}:{_when(finding)}"))


def chatbot_notification(change: Change) -> dict[str, Any]:
    """The Amazon Q Developer in chat applications custom notification of a change."""
    finding = change.finding
    verb = VERB.get(change.type, change.type)
    step, cli = remediation_parts(finding)
    emoji = change_emoji(change.type, finding.severity)
    title = f"{emoji} vpcwatch: {finding.severity.name} finding {verb}: {check_title(finding)}"
    facts = [
        f"**Resource:** `{finding.resource_id}` ({finding.resource_type})",
        f"**Account / region / VPC:** {finding.account_id} / {finding.region} / {finding.vpc_id or '-'}",
        f"**Check:** `{finding.check}` · **Severity:** {finding.severity.name} · **Status:** {finding.status}",
        f"**First seen:** {finding.first_seen} · **Last seen:** {finding.last_seen}"
        + (f" · **Resolved:** {finding.resolved_at}" if finding.resolved_at else ""),
    ]
    head = f"{finding.detail}\n\n" + "\n".join(facts)
    evidence = "\n".join(f"• {line}" for line in evidence_lines(finding.evidence))
    if evidence:
        room = CHATBOT_DESCRIPTION_MAX - len(head) - len("\n\n**Evidence:**\n")
        head += "\n\n**Evidence:**\n" + clip(evidence, max(room, 0))
    if change.type == RESOLVED:
        next_steps = ["Nothing to do: the latest audit no longer finds this condition."]
    else:
        next_steps = [step] + ([f"CLI: `{cli}`"] if cli else [])
    next_steps.append(f"Finding id: `{finding.id}`")
    context = {
        "findingId": finding.id,
        "check": finding.check,
        "severity": finding.severity.name,
        "status": finding.status,
        "accountId": finding.account_id,
        "region": finding.region,
        "resourceType": finding.resource_type,
        "resourceId": finding.resource_id,
        "vpcId": finding.vpc_id,
        "firstSeen": finding.first_seen,
        "lastSeen": finding.last_seen,
        "resolvedAt": finding.resolved_at,
    }
    return {
        "version": "1.0",
        "source": "custom",
        "id": notification_id(change),
        "content": {
            "textType": "client-markdown",
            "title": clip(title, CHATBOT_TITLE_MAX),
            "description": clip(head, CHATBOT_DESCRIPTION_MAX),
            "nextSteps": next_steps,
            "keywords": [finding.severity.name, finding.check, finding.region],
        },
        "metadata": {
            # The finding id, not the change id: opening, resolution and reopening of one
            # finding land in one chat thread.
            "threadId": finding.id,
            "summary": clip(f"{finding.severity.name} {verb}: {finding.check} on {finding.resource_id}", 250),
            "eventType": change.type,
            "relatedResources": [finding.resource_arn],
            # additionalContext is a string-to-string map: absent values are left out.
            "additionalContext": {k: v for k, v in context.items() if v is not None},
        },
    }


def dedupe_key(finding_id: str, version: int) -> str:
    """The ``dedupe_key`` of a change: the finding id and the version of the finding's
    state the change produced (``vw-...#3``). One state change has one key, however many
    times it is published: a run that published it but died before recording so makes the
    next run publish it again, under the same key."""
    return f"{finding_id}#{version}"


def message_attributes(change: Change, dedupe_key: str) -> dict[str, dict[str, str]]:
    finding = change.finding
    return {
        "severity": {"DataType": "String", "StringValue": finding.severity.name},
        "check": {"DataType": "String", "StringValue": finding.check},
        "type": {"DataType": "String", "StringValue": change.type},
        DEDUPE_ATTRIBUTE: {"DataType": "String", "StringValue": dedupe_key},
    }


def sns_message(change: Change, dedupe_key: str) -> dict[str, Any]:
    """The keyword arguments of ``sns.publish`` for a change, all but ``TopicArn``."""
    if change.type not in CHANGE_TYPES:
        raise ValueError(f"unknown change type {change.type!r} (expected one of: {', '.join(CHANGE_TYPES)})")
    if not dedupe_key:
        raise ValueError("every message carries a dedupe_key (finding id # state version)")
    default = json.dumps(change.to_message())
    email = email_text(change)
    https = json.dumps(chatbot_notification(change))
    kwargs: dict[str, Any] = {
        "Subject": subject(change),
        "MessageStructure": "json",
        "MessageAttributes": message_attributes(change, dedupe_key),
    }
    kwargs["Message"] = json.dumps({"default": default, "email": email, "https": https})
    if len(kwargs["Message"].encode()) > SNS_MESSAGE_MAX_BYTES - 4096:
        # A huge evidence: `default` is the contract and stays whole; the readable
        # renderings shrink so the publish is not refused (and retried forever).
        email = email_text(change, max_evidence_chars=500)
        kwargs["Message"] = json.dumps({"default": default, "email": email, "https": https})
    return kwargs


def parse_message(message: Any) -> dict[str, Any] | None:
    """The vpcwatch change in an SNS ``Message``: the ``default`` JSON, or the whole
    JSON-structure message holding it. None when it is not a vpcwatch change."""
    try:
        data = json.loads(message) if isinstance(message, str | bytes) else message
        if isinstance(data, Mapping) and "type" not in data and isinstance(data.get("default"), str):
            data = json.loads(data["default"])
    except ValueError:
        return None
    if not isinstance(data, Mapping) or data.get("type") not in CHANGE_TYPES:
        return None
    if not isinstance(data.get("finding"), Mapping):
        return None
    try:
        Finding.from_dict(data["finding"])
    except (KeyError, TypeError, ValueError):
        return None
    return dict(data)
