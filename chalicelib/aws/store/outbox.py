"""The outbox: each announced change is an item written in the same transaction as the
state change it announces, ``PENDING`` and ``due`` while it waits. A caller claims due
entries for a lease (``pending``), publishes them, and marks them sent (they leave the
index and expire through the TTL) or releases them (due again at once)."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from chalicelib.aws.session import error_code
from chalicelib.aws.store.items import key, marshal, unmarshal
from chalicelib.aws.store.table import INDEX_OUTBOX, KIND_OUTBOX, TABLE_KEY, TTL_ATTRIBUTE, Item, TableStore
from chalicelib.aws.store.transact import TRANSACTION_ITEMS, cancelled_items
from chalicelib.core.audit import iso
from chalicelib.core.model import Change, Finding

PENDING = "PENDING"
OUTBOX_PAGE = 100  # outbox entries claimed at once
SENT_RETENTION = dt.timedelta(days=7)  # sent outbox entries stay this long, for inspection
DEFAULT_LEASE = dt.timedelta(minutes=5)


@dataclass(frozen=True)
class OutboxEntry:
    key: str  # the outbox item's id
    change: Change
    delivered: frozenset[str] = frozenset()  # channels that already have it ("sns", "securityhub")
    version: int = 0  # of the finding's state the change produced

    @property
    def dedupe_key(self) -> str:
        """The same for every publish of this change (``<finding id>#<version>``)."""
        return f"{self.change.finding.id}#{self.version}"


def outbox_item(change: Change, version: int, now: str) -> Item:
    finding = change.finding
    return marshal(
        {
            TABLE_KEY: f"outbox#{finding.id}#{change.type}#{version}",
            "kind": KIND_OUTBOX,
            "outbox": PENDING,
            "due": now,
            "created_at": now,
            "finding_id": finding.id,
            "type": change.type,
            "version": version,
            "message": json.dumps(change.to_message(), separators=(",", ":")),
        }
    )


def outbox_entry(item: Mapping[str, Any]) -> OutboxEntry:
    data = unmarshal(item)
    message = json.loads(data["message"])
    # Entries written before ``version`` was kept carry it as the id's last part.
    version = data["version"] if "version" in data else int(data[TABLE_KEY].rsplit("#", 1)[1])
    return OutboxEntry(
        key=data[TABLE_KEY],
        change=Change(message["type"], Finding.from_dict(message["finding"])),
        delivered=frozenset(data.get("delivered", ())),
        version=version,
    )


class OutboxStore(TableStore):
    """The outbox's reads and writes (``FindingStore`` writes its entries)."""

    def pending(
        self, limit: int = OUTBOX_PAGE, *, now: dt.datetime | None = None, lease: dt.timedelta = DEFAULT_LEASE
    ) -> list[OutboxEntry]:
        """Up to ``limit`` changes waiting to be announced, oldest first, each claimed for
        ``lease`` (a conditional write): concurrent callers never get the same entry, and an
        entry claimed by a caller that died before ``mark_sent`` is due again afterwards.
        One page of the outbox: a caller drains it by calling again until it answers
        nothing (an entry it claimed stays claimed, so it never comes back in the same
        run)."""
        moment = now or self._clock()
        stamp, until = iso(moment), iso(moment + lease)
        request: dict[str, Any] = {
            "TableName": self.table_name,
            "IndexName": INDEX_OUTBOX,
            "KeyConditionExpression": "#o = :pending AND #due <= :now",
            "ExpressionAttributeNames": {"#o": "outbox", "#due": "due"},
            "ExpressionAttributeValues": marshal({":pending": PENDING, ":now": stamp}),
            "ScanIndexForward": True,
        }
        claimed: list[OutboxEntry] = []
        while len(claimed) < limit:
            response = self._ddb.query(**{**request, "Limit": limit - len(claimed)})
            items = [i for i in response.get("Items", []) if i.get("kind") == {"S": KIND_OUTBOX}]
            claimed += [outbox_entry(item) for item in self._claim_all(items, until)]
            if "LastEvaluatedKey" not in response:
                break
            request["ExclusiveStartKey"] = response["LastEvaluatedKey"]
        return claimed

    def _claim_update(self, item: Item, until: str) -> dict[str, Any]:
        """Claim ``item`` until ``until``, on condition that it is still as read: pending,
        and due when it was (not claimed, released or sent by another caller meanwhile)."""
        return {
            "TableName": self.table_name,
            "Key": {TABLE_KEY: item[TABLE_KEY]},
            "UpdateExpression": "SET #due = :until ADD #attempts :one",
            "ConditionExpression": "#o = :pending AND #due = :seen",
            "ExpressionAttributeNames": {"#due": "due", "#o": "outbox", "#attempts": "attempts"},
            "ExpressionAttributeValues": {
                **marshal({":until": until, ":one": 1, ":pending": PENDING}),
                ":seen": item["due"],
            },
        }

    def _claim_all(self, items: Sequence[Item], until: str) -> list[Item]:
        """The items this caller claimed: up to 100 in one transaction (one request for a
        page), or, when another caller got some first (the transaction is cancelled as a
        whole), those still to be had, one at a time."""
        claimed: list[Item] = []
        for start in range(0, len(items), TRANSACTION_ITEMS):
            chunk = items[start : start + TRANSACTION_ITEMS]
            if len(chunk) > 1:
                claims: list[Any] = [{"Update": self._claim_update(item, until)} for item in chunk]
                try:
                    self._ddb.transact_write_items(TransactItems=claims)
                except ClientError as error:
                    if error_code(error) != "TransactionCanceledException":
                        raise
                else:
                    claimed += chunk
                    continue
            claimed += [item for item in chunk if self._claim(item, until)]
        return claimed

    def _claim(self, item: Item, until: str) -> bool:
        try:
            self._ddb.update_item(**self._claim_update(item, until))
        except ClientError as error:
            # Claimed or sent by another caller meanwhile, or being claimed in another's
            # transaction right now.
            if error_code(error) in ("ConditionalCheckFailedException", "TransactionConflictException"):
                return False
            raise
        return True

    def mark_sent(self, entry: OutboxEntry) -> None:
        """The change was published: it leaves the outbox and expires through the TTL."""
        try:
            self._ddb.update_item(**self._sent_update(entry, self._clock()))
        except ClientError as error:
            if error_code(error) != "ConditionalCheckFailedException":  # already expired: nothing to mark
                raise

    def mark_sent_many(self, entries: Sequence[OutboxEntry]) -> None:
        """``mark_sent`` of each entry, up to 100 in one transaction (one entry: one
        UpdateItem). When a transaction is refused (an entry expired meanwhile), its
        entries are marked one by one."""
        moment = self._clock()
        for start in range(0, len(entries), TRANSACTION_ITEMS):
            chunk = entries[start : start + TRANSACTION_ITEMS]
            if len(chunk) == 1:
                self.mark_sent(chunk[0])
                continue
            try:
                updates = [{"Update": self._sent_update(entry, moment)} for entry in chunk]
                self._ddb.transact_write_items(TransactItems=updates)  # type: ignore[arg-type]
            except ClientError as error:
                if cancelled_items(error, len(chunk)) is None:
                    raise
                for entry in chunk:
                    self.mark_sent(entry)

    def _sent_update(self, entry: OutboxEntry, moment: dt.datetime) -> dict[str, Any]:
        """The UpdateItem that marks ``entry`` sent at ``moment``."""
        expires = int((moment + SENT_RETENTION).timestamp())
        return {
            "TableName": self.table_name,
            "Key": key(entry.key),
            "UpdateExpression": "SET #sent = :sent, #exp = :exp REMOVE #o, #due",
            "ConditionExpression": "attribute_exists(#id)",
            "ExpressionAttributeNames": {
                "#sent": "sent_at",
                "#exp": TTL_ATTRIBUTE,
                "#o": "outbox",
                "#due": "due",
                "#id": TABLE_KEY,
            },
            "ExpressionAttributeValues": marshal({":sent": iso(moment), ":exp": expires}),
        }

    def mark_delivered(self, entry: OutboxEntry, channel: str) -> None:
        """One channel has the change: a retry of the entry skips that channel, so a change
        is never announced twice on it while another channel still fails."""
        self._ddb.update_item(
            TableName=self.table_name,
            Key=key(entry.key),
            UpdateExpression="ADD #delivered :channel",
            ConditionExpression="attribute_exists(#id)",
            ExpressionAttributeNames={"#delivered": "delivered", "#id": TABLE_KEY},
            ExpressionAttributeValues=marshal({":channel": {channel}}),
        )

    def release(self, entry: OutboxEntry) -> None:
        """Publishing failed: the entry is due again at once (back in its place by age)
        rather than when its lease ends."""
        try:
            self._ddb.update_item(
                TableName=self.table_name,
                Key=key(entry.key),
                UpdateExpression="SET #due = #created",
                ConditionExpression="#o = :pending",
                ExpressionAttributeNames={"#due": "due", "#created": "created_at", "#o": "outbox"},
                ExpressionAttributeValues=marshal({":pending": PENDING}),
            )
        except ClientError as error:
            if error_code(error) != "ConditionalCheckFailedException":  # sent meanwhile
                raise
