"""Notifications (SPEC §4): pure renderers of a finding's state change, and thin adapters
that take their client as an argument.

One SNS message per change, published with ``MessageStructure=json`` so each protocol
gets its own rendering from a single publish:

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
a run dying between publishing and recording it causes. The Slack forwarder turns the ``default`` JSON into Block
Kit for teams that use an incoming webhook instead of Chatbot.
"""

from __future__ import annotations

import json
import logging
import re
import unicodedata
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from aws_lambda_powertools.utilities import parameters
from botocore.exceptions import BotoCoreError, ClientError
from slack_sdk.webhook import WebhookClient

from chalicelib.core.checks import CHECK_BY_ID
from chalicelib.core.model import OPENED, REOPENED, RESOLVED, Change, Finding, Severity

log = logging.getLogger("vpcwatch.notify")

CHANGE_TYPES = (OPENED, RESOLVED, REOPENED)
_VERB = {OPENED: "opened", RESOLVED: "resolved", REOPENED: "reopened"}

# SNS: Subject is ASCII, printable, at most 100 characters; the whole message (all
# protocols' renderings, attributes, subject) at most 256 KiB.
SUBJECT_MAX = 100
SNS_MESSAGE_MAX_BYTES = 256 * 1024
# PublishBatch: at most 10 messages a request, whose aggregate size (bodies and
# attributes) is at most the topic's maximum message size (256 KiB by default).
SNS_BATCH_MAX = 10
SNS_BATCH_BUDGET = SNS_MESSAGE_MAX_BYTES - 2048  # what the size estimate may miss
# The message attribute naming one state change (finding id # state version): the same
# change published twice carries the same key, so a consumer can drop the second.
DEDUPE_ATTRIBUTE = "dedupe_key"
# Chatbot: the guide gives no length limits for custom notifications; chat platforms
# cut long posts, and every character here also counts against the SNS limit.
CHATBOT_TITLE_MAX = 250
CHATBOT_DESCRIPTION_MAX = 8000
# Block Kit (docs.slack.dev/reference/block-kit): header plain_text 150, section text
# 3000, at most 10 fields of 2000 each, context text 3000; the top-level `text` is the
# notification fallback (Slack truncates it past 40,000; keep it short).
SLACK_HEADER_MAX = 150
SLACK_TEXT_MAX = 3000
SLACK_FIELDS_MAX = 10
SLACK_FIELD_MAX = 2000
SLACK_FALLBACK_MAX = 3000

_EMOJI = {
    Severity.CRITICAL: ":rotating_light:",
    Severity.HIGH: ":red_circle:",
    Severity.MEDIUM: ":large_orange_circle:",
    Severity.LOW: ":large_yellow_circle:",
    Severity.INFORMATIONAL: ":information_source:",
}
_RESOLVED_EMOJI = ":white_check_mark:"
_REOPENED_EMOJI = ":repeat:"


class SlackDeliveryError(RuntimeError):
    """The webhook did not take the message; raised so Lambda retries the SNS event."""


# ---------------------------------------------------------------------------------
# Shared text helpers
# ---------------------------------------------------------------------------------


def _clip(text: str, limit: int, ellipsis: str = "…") -> str:
    return text if len(text) <= limit else text[: max(limit - len(ellipsis), 0)] + ellipsis


def _ascii(text: str) -> str:
    """Printable ASCII only: accents folded, the rest dropped, whitespace collapsed."""
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    return re.sub(r"\s+", " ", re.sub(r"[^\x20-\x7e]", " ", folded)).strip()


def _remediation_parts(finding: Finding) -> tuple[str, str | None]:
    """(console step, CLI command): the audit stores them as '<step> CLI: <command>'."""
    step, sep, cli = finding.remediation.partition(" CLI: ")
    if sep:
        return step.strip(), cli.strip()
    spec = CHECK_BY_ID.get(finding.check)
    return finding.remediation.strip(), spec.cli if spec else None


def _check_title(finding: Finding) -> str:
    spec = CHECK_BY_ID.get(finding.check)
    return finding.title or (spec.title if spec else finding.check)


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
            lines.append(head + _clip(shown, max(max_line - len(head) - len(more), 1)) + more)
        else:
            lines.append(_clip(f"{key}: {_compact(value)}", max_line))
    return lines


def _when(finding: Finding) -> str:
    """The moment of this change: resolution time, else the latest sighting."""
    return finding.resolved_at or finding.last_seen


# ---------------------------------------------------------------------------------
# SNS renderers
# ---------------------------------------------------------------------------------


def subject(change: Change) -> str:
    finding = change.finding
    verb = _VERB.get(change.type, change.type)
    text = _ascii(f"[vpcwatch] {finding.severity.name} {verb}: {finding.check} {finding.resource_id}")
    return _clip(text, SUBJECT_MAX, ellipsis="...")


def email_text(change: Change, max_evidence_chars: int = 4000) -> str:
    finding = change.finding
    verb = _VERB.get(change.type, change.type)
    step, cli = _remediation_parts(finding)
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
        f"Check:       {_check_title(finding)} ({finding.check})",
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
        _clip(evidence, max_evidence_chars),
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
    verb = _VERB.get(change.type, change.type)
    step, cli = _remediation_parts(finding)
    emoji = _emoji(change.type, finding.severity)
    title = f"{emoji} vpcwatch: {finding.severity.name} finding {verb}: {_check_title(finding)}"
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
        head += "\n\n**Evidence:**\n" + _clip(evidence, max(room, 0))
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
            "title": _clip(title, CHATBOT_TITLE_MAX),
            "description": _clip(head, CHATBOT_DESCRIPTION_MAX),
            "nextSteps": next_steps,
            "keywords": [finding.severity.name, finding.check, finding.region],
        },
        "metadata": {
            # The finding id, not the change id: opening, resolution and reopening of one
            # finding land in one chat thread.
            "threadId": finding.id,
            "summary": _clip(f"{finding.severity.name} {verb}: {finding.check} on {finding.resource_id}", 250),
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


def publish(sns: Any, topic_arn: str, change: Change, dedupe_key: str) -> str:
    """Publish one change; returns the MessageId. Raises on failure so the caller keeps the
    change in its outbox for the next run."""
    response = sns.publish(TopicArn=topic_arn, **sns_message(change, dedupe_key))
    message_id = str(response["MessageId"])
    log.info("published %s for finding %s as %s", change.type, change.finding.id, message_id)
    return message_id


@dataclass(frozen=True)
class Published:
    """What became of one message of ``publish_batch``: its MessageId, or the error."""

    message_id: str | None
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.message_id is not None


def _size(kwargs: Mapping[str, Any]) -> int:
    """What a message counts against PublishBatch's aggregate limit: body, subject and
    attributes (names, types and values)."""
    attributes = sum(
        len(name.encode()) + len(value["DataType"].encode()) + len(value["StringValue"].encode())
        for name, value in kwargs["MessageAttributes"].items()
    )
    return len(kwargs["Message"].encode()) + len(kwargs["Subject"].encode()) + attributes


def _batches(messages: Sequence[dict[str, Any]]) -> Iterator[list[int]]:
    """Indexes of ``messages`` grouped as PublishBatch takes them: at most
    ``SNS_BATCH_MAX`` a request, their aggregate size within ``SNS_MESSAGE_MAX_BYTES``."""
    batch: list[int] = []
    size = 0
    for index, kwargs in enumerate(messages):
        this = _size(kwargs)
        if batch and (len(batch) == SNS_BATCH_MAX or size + this > SNS_BATCH_BUDGET):
            yield batch
            batch, size = [], 0
        batch.append(index)
        size += this
    if batch:
        yield batch


def publish_batch(sns: Any, topic_arn: str, changes: Sequence[tuple[Change, str]]) -> list[Published]:
    """Publish (change, dedupe_key) pairs with PublishBatch (authorized by ``sns:Publish``),
    up to ten a request: a tenth of the requests of one Publish each. Returns one
    ``Published`` per pair, in order; never raises for SNS: a refused request or entry is
    reported as that message's error, so the caller keeps it for the next run."""
    messages = [sns_message(change, key) for change, key in changes]
    results: list[Published] = [Published(None, "not sent")] * len(messages)
    for batch in _batches(messages):
        entries = [{"Id": str(n), **messages[index]} for n, index in enumerate(batch)]
        try:
            response = sns.publish_batch(TopicArn=topic_arn, PublishBatchRequestEntries=entries)
        except (ClientError, BotoCoreError) as exc:
            code = exc.response.get("Error", {}).get("Code", "") if isinstance(exc, ClientError) else ""
            reason = f"{code or type(exc).__name__}: {exc}"
            for index in batch:
                results[index] = Published(None, reason)
            continue
        for success in response.get("Successful") or ():
            results[batch[int(success["Id"])]] = Published(str(success["MessageId"]))
        for failure in response.get("Failed") or ():
            reason = f"{failure.get('Code', 'Failed')}: {failure.get('Message', '')}"
            results[batch[int(failure["Id"])]] = Published(None, reason)
    for (change, key), result in zip(changes, results, strict=True):
        if result.ok:
            log.info("published %s for finding %s (%s) as %s", change.type, change.finding.id, key, result.message_id)
    return results


# ---------------------------------------------------------------------------------
# Slack (incoming webhook)
# ---------------------------------------------------------------------------------


def _emoji(change_type: str, severity: Severity) -> str:
    if change_type == RESOLVED:
        return _RESOLVED_EMOJI
    if change_type == REOPENED:
        return f"{_REOPENED_EMOJI} {_EMOJI[severity]}"
    return _EMOJI[severity]


def _mrkdwn(text: str) -> str:
    """Slack mrkdwn reserves &, < and > (and CLI placeholders look like <vpc-id>)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _code(text: str) -> str:
    return "`" + _mrkdwn(text).replace("`", "'") + "`"


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


def slack_blocks(message: Mapping[str, Any]) -> dict[str, Any]:
    """A Block Kit payload ({"text", "blocks"}) for the ``default`` JSON of a change."""
    change_type = str(message["type"])
    if change_type not in CHANGE_TYPES:
        raise ValueError(f"not a vpcwatch change type: {change_type!r}")
    finding = Finding.from_dict(message["finding"])
    verb = _VERB[change_type]
    emoji = _emoji(change_type, finding.severity)
    step, cli = _remediation_parts(finding)
    title = _check_title(finding)

    fields = [
        ("Check", _code(finding.check)),
        ("Severity", finding.severity.name),
        ("Resource", f"{_code(finding.resource_id)} ({_mrkdwn(finding.resource_type)})"),
        ("Region", _mrkdwn(finding.region)),
        ("Account", _mrkdwn(finding.account_id)),
        ("VPC", _code(finding.vpc_id) if finding.vpc_id else "-"),
        ("Status", _mrkdwn(finding.status)),
        ("First seen", _mrkdwn(finding.first_seen)),
        ("Last seen", _mrkdwn(finding.last_seen)),
    ]
    if finding.resolved_at:
        fields.append(("Resolved at", _mrkdwn(finding.resolved_at)))
    blocks: list[dict[str, Any]] = [
        {
            "type": "header",
            "text": {
                "type": "plain_text",
                "text": _clip(f"{emoji} {finding.severity.name} {verb}: {title}", SLACK_HEADER_MAX),
                "emoji": True,
            },
        },
        {
            "type": "section",
            "fields": [
                {"type": "mrkdwn", "text": _clip(f"*{name}*\n{value}", SLACK_FIELD_MAX)}
                for name, value in fields[:SLACK_FIELDS_MAX]
            ],
        },
        {"type": "section", "text": {"type": "mrkdwn", "text": _clip(_mrkdwn(finding.detail), SLACK_TEXT_MAX)}},
    ]
    evidence = "\n".join(evidence_lines(finding.evidence))
    if evidence:
        # Inside a code block nothing but &, < and > needs escaping; the fence must survive
        # the cut, so clip the content to what is left after the label and the fences.
        room = SLACK_TEXT_MAX - len("*Evidence*\n```\n\n```")
        body = _clip(_mrkdwn(evidence).replace("```", "'''"), room)
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": f"*Evidence*\n```\n{body}\n```"}})
    context: list[dict[str, Any]] = []
    if change_type != RESOLVED:
        context.append({"type": "mrkdwn", "text": _clip(f"*Remediation:* {_mrkdwn(step)}", SLACK_TEXT_MAX)})
        if cli:
            context.append({"type": "mrkdwn", "text": _clip(f"*CLI:* {_code(cli)}", SLACK_TEXT_MAX)})
    if finding.reason:
        context.append({"type": "mrkdwn", "text": _clip(f"*Suppressed:* {_mrkdwn(finding.reason)}", SLACK_TEXT_MAX)})
    if context:
        blocks.append({"type": "context", "elements": context})
    blocks.append(
        {
            "type": "context",
            "elements": [{"type": "mrkdwn", "text": f"vpcwatch {_mrkdwn(change_type)} · finding {_code(finding.id)}"}],
        }
    )
    fallback = (
        f"{emoji} [vpcwatch] {finding.severity.name} {verb}: {title} — {finding.resource_id} "
        f"({finding.account_id}, {finding.region})"
    )
    return {"text": _clip(_mrkdwn(fallback), SLACK_FALLBACK_MAX), "blocks": blocks}


# slack_sdk logs the full webhook URL (the secret) at DEBUG, and in some errors; its own
# logger is therefore silenced, and forward_to_slack reports every failure itself.
_SLACK_SDK_LOG = logging.getLogger("vpcwatch.notify.slack_sdk")
_SLACK_SDK_LOG.propagate = False
_SLACK_SDK_LOG.setLevel(logging.CRITICAL + 1)
_SLACK_SDK_LOG.addHandler(logging.NullHandler())


def webhook_client(url: str) -> WebhookClient:
    """A WebhookClient that cannot leak its URL into the logs."""
    return WebhookClient(url, timeout=10, logger=_SLACK_SDK_LOG)


def _redact(text: str, secret: str) -> str:
    return text.replace(secret, "<webhook-url>") if secret else text


def _records(sns_event: Mapping[str, Any]) -> Iterator[tuple[str, Any]]:
    for record in sns_event.get("Records") or ():
        sns = record.get("Sns") if isinstance(record, Mapping) else None
        if isinstance(sns, Mapping):
            yield str(sns.get("MessageId", "?")), sns.get("Message")
        else:
            yield "?", None


def forward_to_slack(
    sns_event: Mapping[str, Any],
    webhook_url: str,
    client_factory: Callable[[str], Any] = webhook_client,
) -> int:
    """Post each vpcwatch change of an SNS Lambda event to a Slack incoming webhook.

    Returns the number posted. Messages that are not vpcwatch changes are logged and
    skipped; a webhook failure raises SlackDeliveryError (naming the HTTP status) so
    Lambda retries the event. SNS hands a Lambda one record per invocation, so a retry
    never re-posts a message that went through.
    """
    client: Any = None
    posted = 0
    for message_id, raw in _records(sns_event):
        message = parse_message(raw)
        if message is None:
            log.warning("skipped SNS message %s: not a vpcwatch finding change", message_id)
            continue
        payload = slack_blocks(message)
        finding_id = message["finding"]["id"]
        if client is None:
            client = client_factory(webhook_url)
        try:
            response = client.send(text=payload["text"], blocks=payload["blocks"])
        except Exception as exc:
            # `from None`: the original exception may carry the URL into the traceback.
            reason = _redact(f"{type(exc).__name__}: {exc}", webhook_url)
            raise SlackDeliveryError(f"posting finding {finding_id} to Slack failed: {reason}") from None
        status = getattr(response, "status_code", None)
        if status != 200:
            body = _redact(_clip(str(getattr(response, "body", "") or ""), 200), webhook_url)
            raise SlackDeliveryError(f"Slack webhook answered HTTP {status} for finding {finding_id}: {body}")
        posted += 1
        log.info("posted %s of finding %s to Slack (SNS message %s)", message["type"], finding_id, message_id)
    return posted


# ---------------------------------------------------------------------------------
# The webhook URL, from an SSM SecureString
# ---------------------------------------------------------------------------------

WEBHOOK_URL_MAX_AGE = 300  # seconds a warm Lambda reuses the decrypted value

_providers: dict[int, tuple[Any, parameters.SSMProvider]] = {}  # id(client) -> (client, SSMProvider)


class _SecureStringRedactor(logging.Filter):
    """botocore logs raw response bodies at DEBUG: never let a decrypted SecureString
    (the webhook URL) reach the logs that way."""

    def filter(self, record: logging.LogRecord) -> bool:
        if str(record.msg).startswith("Response body") and "SecureString" in repr(record.args):
            record.args = ("<redacted: SSM SecureString response>",)
        return True


def _guard_botocore_logs() -> None:
    parser_log = logging.getLogger("botocore.parsers")
    if not any(isinstance(f, _SecureStringRedactor) for f in parser_log.filters):
        parser_log.addFilter(_SecureStringRedactor())


def _ssm_provider(ssm: Any) -> parameters.SSMProvider:
    cached = _providers.get(id(ssm))
    if cached is None or cached[0] is not ssm:
        if len(_providers) >= 16:  # a Lambda uses one client; tests make many
            _providers.clear()
        cached = (ssm, parameters.SSMProvider(boto3_client=ssm))
        _providers[id(ssm)] = cached
    return cached[1]


def webhook_url(parameter_name: str, ssm: Any | None = None) -> str:
    """The Slack incoming webhook URL, decrypted from an SSM SecureString parameter and
    cached for WEBHOOK_URL_MAX_AGE seconds (by Powertools' parameter cache)."""
    _guard_botocore_logs()
    if ssm is None:
        value: Any = parameters.get_parameter(parameter_name, decrypt=True, max_age=WEBHOOK_URL_MAX_AGE)
    else:
        value = _ssm_provider(ssm).get(parameter_name, decrypt=True, max_age=WEBHOOK_URL_MAX_AGE)
    url = (value.decode() if isinstance(value, bytes) else str(value or "")).strip()
    if not url.startswith(("https://", "http://")):
        # Never echo the value: it is a secret, even when malformed.
        raise ValueError(f"SSM parameter {parameter_name} does not hold an http(s) webhook URL")
    return url
