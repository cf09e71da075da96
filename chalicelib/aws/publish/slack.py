"""The Slack forwarder: each vpcwatch change an SNS event carries, posted to an incoming
webhook as Block Kit (``chalicelib.render.slack`` renders it), and the webhook URL read
from an SSM SecureString. Neither the URL nor a decrypted value ever reaches the logs."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from aws_lambda_powertools.utilities import parameters
from slack_sdk.webhook import WebhookClient

from chalicelib.render.messages import clip, parse_message
from chalicelib.render.slack import slack_blocks

log = logging.getLogger("vpcwatch.notify")


class SlackDeliveryError(RuntimeError):
    """The webhook did not take the message; raised so Lambda retries the SNS event."""


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
            body = _redact(clip(str(getattr(response, "body", "") or ""), 200), webhook_url)
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
