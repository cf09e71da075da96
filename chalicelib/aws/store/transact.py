"""The mechanics every write of the store shares: the limits of a transaction, what a
cancelled one means (someone else wrote first: re-read and decide again), retries with
jittered backoff, and reading many items by key."""

from __future__ import annotations

import random
import time
from collections.abc import Iterable, Iterator, Sequence
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from chalicelib.aws.session import error_code
from chalicelib.aws.store.items import key
from chalicelib.aws.store.table import Item

MAX_ATTEMPTS = 12  # optimistic-lock retries per write before giving up
TRANSACTION_ITEMS = 100  # TransactWriteItems' maximum
TRANSACTION_BYTES = 3 * 1024 * 1024  # of its 4 MB, leaving room for the estimate's error
BATCH_GET_KEYS = 100  # BatchGetItem's maximum

# Reasons of a cancelled transaction that mean "someone else wrote first": re-read, retry.
_RETRYABLE_REASONS = frozenset({"None", "ConditionalCheckFailed", "TransactionConflict", "ThrottlingError"})

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient


class StoreConflictError(RuntimeError):
    """A write lost the optimistic lock MAX_ATTEMPTS times in a row."""


class Conflict(Exception):
    """Internal: the condition of a write failed; re-read and decide again."""


class Cancelled(Exception):
    """Internal: a write was refused; ``failed`` are the indexes of the actions whose
    condition failed or that met a concurrent transaction (empty: unknown, all)."""

    def __init__(self, failed: Iterable[int]) -> None:
        super().__init__("write cancelled")
        self.failed = tuple(failed)


def cancelled_items(error: ClientError, actions: int) -> tuple[int, ...] | None:
    """The actions of a cancelled transaction that were refused for a reason worth a
    re-read (``_RETRYABLE_REASONS``), () when DynamoDB did not say which; None when the
    error is not such a cancellation (a validation error, say): it is raised."""
    if error_code(error) != "TransactionCanceledException":
        return None
    reasons = [str(r.get("Code") or "None") for r in error.response.get("CancellationReasons", [])]
    if not reasons or not set(reasons) <= _RETRYABLE_REASONS:
        return None
    if len(reasons) != actions:
        return ()
    return tuple(n for n, reason in enumerate(reasons) if reason != "None")


def chunks(values: Sequence[str], size: int) -> Iterator[Sequence[str]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


def backoff(attempt: int) -> None:
    time.sleep(min(0.5, 0.01 * 2**attempt) * random.random())  # full jitter


def batch_get(dynamodb: DynamoDBClient, table_name: str, keys: Sequence[str]) -> list[Item]:
    """The items of ``keys`` that exist, read consistently: one BatchGetItem per 100 keys,
    and again for the keys DynamoDB left unprocessed."""
    found: list[Item] = []
    for chunk in chunks(keys, BATCH_GET_KEYS):
        request: dict[str, Any] = {table_name: {"Keys": [key(k) for k in chunk], "ConsistentRead": True}}
        attempt = 0
        while request:
            response = dynamodb.batch_get_item(RequestItems=request)
            found += response.get("Responses", {}).get(table_name, [])
            request = dict(response.get("UnprocessedKeys") or {})
            if request:
                backoff(attempt)
                attempt += 1
    return found
