"""Publishing a finding's state changes on the alerts topic: one SNS message per change
(``chalicelib.render.messages.sns_message`` renders it), sent alone (``publish``) or ten
a request (``publish_batch``). The SNS client is an argument."""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from chalicelib.core.model import Change
from chalicelib.render.messages import SNS_MESSAGE_MAX_BYTES, sns_message

log = logging.getLogger("vpcwatch.notify")

# PublishBatch: at most 10 messages a request, whose aggregate size (bodies and
# attributes) is at most the topic's maximum message size (256 KiB by default).
SNS_BATCH_MAX = 10
SNS_BATCH_BUDGET = SNS_MESSAGE_MAX_BYTES - 2048  # what the size estimate may miss


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
