"""The findings: reads, queries, and recording an audit (SPEC §4), each state change
written in one transaction with the outbox entry that announces it.

What an audit costs: one Query of the active findings of each (account, region) it
covers, one BatchGetItem per 100 observed findings that are not active, and writes only
for what changed, in TransactWriteItems of up to 100 items (``FindingStore.apply``). An
unchanged finding is not rewritten: its ``last_seen`` is refreshed at most once a day
(``LAST_SEEN_REFRESH``), or with a transaction the audit makes anyway.

``FindingStore`` is the whole store: it is also the outbox (``OutboxStore``) and the
resource memory (``ResourceMemoryStore``), all in the one table (``table.py``).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from chalicelib.aws.session import error_code
from chalicelib.aws.store.items import Stored, finding_item, is_finding_item, item_finding, key, marshal, unmarshal
from chalicelib.aws.store.memory import ResourceMemoryStore
from chalicelib.aws.store.outbox import OutboxEntry, OutboxStore, outbox_entry, outbox_item
from chalicelib.aws.store.planning import Task, Write, plan_writes, transaction_chunks
from chalicelib.aws.store.table import (
    INDEX_ACTIVE,
    INDEX_ALL,
    INDEX_CHECK,
    INDEX_REGION,
    INDEX_STATUS,
    INDEX_VPC,
    INDEXES,
    KIND_FINDING,
    TABLE_KEY,
    Item,
    utcnow,
)
from chalicelib.aws.store.tokens import decode_token, encode_token
from chalicelib.aws.store.transact import (
    MAX_ATTEMPTS,
    Cancelled,
    StoreConflictError,
    backoff,
    batch_get,
    cancelled_items,
)
from chalicelib.core.audit import AuditResult, iso
from chalicelib.core.lifecycle import STATUSES, Coverage, Transition, refresh_only, transition
from chalicelib.core.model import Change, Finding, Severity

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient


@dataclass(frozen=True)
class Recorded:
    """What ``FindingStore.apply`` recorded: the changes, and their outbox entries when
    it claimed them for the caller."""

    changes: list[Change]
    claimed: list[OutboxEntry]


class FindingStore(OutboxStore, ResourceMemoryStore):
    """Findings, outbox and topology memory in one DynamoDB table, through an injected boto3
    DynamoDB *client*. ``max_workers`` > 1 lets reconcile write findings in parallel (boto3
    clients are thread-safe; moto is not, so the default stays sequential)."""

    def __init__(
        self,
        table_name: str,
        dynamodb: DynamoDBClient,
        *,
        max_workers: int = 1,
        clock: Callable[[], dt.datetime] = utcnow,
    ) -> None:
        super().__init__(table_name, dynamodb, clock=clock)
        self._max_workers = max(1, max_workers)

    # -- reads --------------------------------------------------------------------
    def get(self, finding_id: str) -> Finding | None:
        stored = self._get_stored(finding_id)
        return stored.finding if stored else None

    def query(
        self,
        status: str | None = None,
        severity: str | Severity | None = None,
        check: str | None = None,
        vpc_id: str | None = None,
        region: str | None = None,
        limit: int = 50,
        next_token: str | None = None,
    ) -> tuple[list[Finding], str | None]:
        """Findings matching every filter given, most severe then most recently seen first;
        a page of at most ``limit`` and the token of the next page (None at the end)."""
        if status is not None and status not in STATUSES:
            raise ValueError(f"status must be one of {', '.join(STATUSES)}")
        rank = severity if isinstance(severity, Severity) else None
        if isinstance(severity, str):
            rank = Severity.parse(severity)
        if not 1 <= limit <= 1000:
            raise ValueError("limit must be between 1 and 1000")
        filters = {"vpc_id": vpc_id, "check": check, "region": region, "status": status}
        for name, given in filters.items():
            if given == "":  # an index key can never be empty
                raise ValueError(f"{name} must not be empty")
        # The most selective index first; the other filters are applied to its items.
        index, partition = INDEX_ALL, ("kind", KIND_FINDING)
        for candidate in (INDEX_VPC, INDEX_CHECK, INDEX_REGION, INDEX_STATUS):
            attribute = INDEXES[candidate][0]
            value = filters[attribute]
            if value is not None:
                index, partition = candidate, (attribute, value)
                break
        names = {"#p": partition[0]}
        values = {":p": partition[1]}
        key_condition = "#p = :p"
        if rank is not None:
            names["#o"] = "order_key"
            values[":rank"] = f"{int(rank)}#"
            key_condition += " AND begins_with(#o, :rank)"
        conditions: list[str] = []
        if partition[0] != "kind":  # (a FilterExpression may not name the queried index's keys)
            names["#kind"], values[":kind"] = "kind", KIND_FINDING
            conditions.append("#kind = :kind")  # never matters but for a foreign item: costs nothing
        for number, (attribute, value) in enumerate(filters.items()):
            if value is not None and attribute != partition[0]:
                names[f"#f{number}"], values[f":f{number}"] = attribute, value
                conditions.append(f"#f{number} = :f{number}")
        selective = sum(v is not None for v in filters.values()) > 1  # filters beyond the partition
        key_attributes = (TABLE_KEY, partition[0], "order_key")
        start: Item | None = None
        if next_token is not None:
            start = decode_token(next_token, key_attributes)
            if unmarshal(start)[partition[0]] != partition[1]:
                raise ValueError("next_token does not belong to this query")
        request: dict[str, Any] = {
            "TableName": self.table_name,
            "IndexName": index,
            "KeyConditionExpression": key_condition,
            "ExpressionAttributeNames": names,
            "ExpressionAttributeValues": marshal(values),
            "ScanIndexForward": False,
        }
        if conditions:
            request["FilterExpression"] = " AND ".join(conditions)
        items: list[Item] = []
        more = False
        while True:
            # With a filter, a page can hold fewer matches than it read: read generously
            # and cut, then resume after the last item returned, not after the page.
            page_size = max(limit - len(items), 100) if selective else limit - len(items)
            page: dict[str, Any] = {**request, "Limit": page_size}
            if start is not None:
                page["ExclusiveStartKey"] = start
            try:
                response = self._ddb.query(**page)
            except ClientError as error:
                if next_token is not None and error_code(error) == "ValidationException":
                    raise ValueError("next_token does not belong to this query") from None
                raise
            found = [i for i in response.get("Items", []) if is_finding_item(i)]
            items.extend(found)
            start = response.get("LastEvaluatedKey")
            if len(items) >= limit:
                more = len(items) > limit or start is not None
                items = items[:limit]
                break
            if start is None:
                break
        token = encode_token({a: items[-1][a] for a in key_attributes}) if more and items else None
        return [item_finding(i) for i in items], token

    def _get_stored(self, finding_id: str) -> Stored | None:
        item = self._ddb.get_item(TableName=self.table_name, Key=key(finding_id), ConsistentRead=True)
        found = item.get("Item")
        return Stored.of(found) if found and is_finding_item(found) else None

    def _active(self, account_id: str, region: str) -> dict[str, Stored]:
        """The OPEN and SUPPRESSED findings of one account and region: one (paginated) Query."""
        result: dict[str, Stored] = {}
        request: dict[str, Any] = {
            "TableName": self.table_name,
            "IndexName": INDEX_ACTIVE,
            "KeyConditionExpression": "#scope = :scope",
            "ExpressionAttributeNames": {"#scope": "active_scope"},
            "ExpressionAttributeValues": marshal({":scope": f"{account_id}#{region}"}),
        }
        while True:
            response = self._ddb.query(**request)
            for item in response.get("Items", []):
                if is_finding_item(item):
                    stored = Stored.of(item)
                    result[stored.finding.id] = stored
            if "LastEvaluatedKey" not in response:
                return result
            request["ExclusiveStartKey"] = response["LastEvaluatedKey"]

    def _batch_get(self, finding_ids: Sequence[str]) -> dict[str, Stored]:
        items = batch_get(self._ddb, self.table_name, finding_ids)
        stored = [Stored.of(item) for item in items if is_finding_item(item)]
        return {s.finding.id: s for s in stored}

    # -- the lifecycle ------------------------------------------------------------
    def reconcile(self, result: AuditResult, now: dt.datetime) -> list[Change]:
        """Record an audit (SPEC §4) and return the changes it caused, each exactly once
        across concurrent audits: every state change is a conditional write, made in one
        transaction with the outbox entry that announces it. See ``apply``."""
        return self.apply(result, now).changes

    def apply(self, result: AuditResult, now: dt.datetime, *, claim: dt.timedelta | None = None) -> Recorded:
        """``reconcile``, returning also the outbox entries of this audit's changes. With
        ``claim`` they are written already claimed for that lease (as ``pending`` would
        claim them), so the caller publishes them without reading the outbox back; an
        entry it never marks sent is due again when the lease ends.

        What is written, and how (the cost at rest is none):

        - Reads: one Query of the active findings per (account, region) the result holds
          a snapshot of, one BatchGetItem per 100 observed findings that are not active.
        - A finding whose state or content changes is written; one that is merely seen
          again is not, so an unchanged audit writes nothing. Its ``last_seen`` is
          refreshed when it is at least ``LAST_SEEN_REFRESH`` old (then every unchanged
          finding of its (account, region) the audit observed is refreshed with it, so
          one audit a day does it), and otherwise only where a transaction this audit
          makes anyway has room (``_plan``).
        - All of it goes in TransactWriteItems of up to 100 items (a change and its
          outbox entry are two), each write conditioned on the version it read. A write
          whose condition failed (another audit wrote that finding first) is re-read and
          decided again on its own, so the loser of a race makes no change; the others
          are written again without it."""
        stamp = iso(now)
        lease_until = iso(self._clock() + claim) if claim is not None else None
        writes = plan_writes(self._tasks(result), stamp, now)
        recorded = Recorded([], [])
        suspects: list[Write] = []
        for chunk in transaction_chunks(writes):
            suspects += self._commit(chunk, stamp, lease_until, recorded)
        if not suspects:
            return recorded
        fresh = self._batch_get([w.finding_id for w in suspects])

        def settle(write: Write) -> tuple[Change, OutboxEntry | None] | None:
            return self._settle(write.finding_id, fresh.get(write.finding_id), write.observed, stamp, lease_until)

        if self._max_workers == 1 or len(suspects) == 1:
            settled = [settle(w) for w in suspects]
        else:
            with ThreadPoolExecutor(max_workers=self._max_workers) as pool:
                settled = list(pool.map(settle, suspects))
        for outcome in settled:
            if outcome is not None:
                recorded.changes.append(outcome[0])
                if outcome[1] is not None:
                    recorded.claimed.append(outcome[1])
        return recorded

    def _tasks(self, result: AuditResult) -> list[Task]:
        """(finding id, as stored, as observed or None when covered and not found) for
        every finding the audit may move."""
        observed = {f.id: f for f in (*result.findings, *result.suppressed)}
        by_scope: dict[tuple[str, str], list[Finding]] = defaultdict(list)
        for finding in observed.values():
            by_scope[(finding.account_id, finding.region)].append(finding)
        tasks: list[Task] = []
        for snapshot in result.snapshots:
            scope = (snapshot.account_id, snapshot.region)
            coverage = Coverage.of(snapshot, result.not_evaluated, result.checks)
            active = self._active(*scope)
            mine = by_scope.pop(scope, [])
            stored = {**active, **self._batch_get([f.id for f in mine if f.id not in active])}
            tasks.extend((f.id, stored.get(f.id), f) for f in mine)
            tasks.extend(
                (fid, record, None)
                for fid, record in active.items()
                if fid not in observed and coverage.covers(record.finding)
            )
        # Findings of a region the result holds no snapshot of: recorded, nothing resolved.
        leftovers = [f for findings in by_scope.values() for f in findings]
        stored = self._batch_get([f.id for f in leftovers])
        tasks.extend((f.id, stored.get(f.id), f) for f in leftovers)
        return tasks

    def _commit(self, chunk: list[Write], stamp: str, lease_until: str | None, recorded: Recorded) -> list[Write]:
        """Write ``chunk`` in one transaction; the writes whose condition failed are
        returned (to be re-read and settled one by one) and the others written again."""
        suspects: list[Write] = []
        while chunk:
            planned = [self._actions(w.step, w.expected, stamp, lease_until) for w in chunk]
            actions = [action for written in planned for action in written]
            owner = [n for n, written in enumerate(planned) for _ in written]  # action -> write
            try:
                self._write_actions(actions)
            except Cancelled as cancelled:
                failed = {owner[i] for i in cancelled.failed} or set(range(len(chunk)))
                suspects += [w for n, w in enumerate(chunk) if n in failed]
                chunk = [w for n, w in enumerate(chunk) if n not in failed]
                continue
            for write, written in zip(chunk, planned, strict=True):
                if write.step.change is None:
                    continue
                recorded.changes.append(Change(write.step.change, write.step.finding))
                if lease_until is not None:
                    recorded.claimed.append(outbox_entry(written[1]["Put"]["Item"]))
            break
        return suspects

    def _settle(
        self, finding_id: str, stored: Stored | None, observed: Finding | None, now: str, lease_until: str | None
    ) -> tuple[Change, OutboxEntry | None] | None:
        """Apply the audit's view of one finding that lost a race: re-read and decide
        again until the write holds, so the loser of a transition makes no Change (it
        finds the transition done). A mere refresh of ``last_seen`` is dropped here: the
        finding was just written by someone else."""
        for attempt in range(MAX_ATTEMPTS):
            current = stored.finding if stored else None
            step = transition(current, observed, now, stored.announced if stored else None)
            if step is None or (current is not None and refresh_only(current, step)):
                return None
            actions = self._actions(step, stored.version if stored else None, now, lease_until)
            try:
                self._write_actions(actions)
            except Cancelled:
                if attempt:
                    backoff(attempt)
                stored = self._get_stored(finding_id)
                continue
            if step.change is None:
                return None
            claimed = outbox_entry(actions[1]["Put"]["Item"]) if lease_until is not None else None
            return Change(step.change, step.finding), claimed
        raise StoreConflictError(f"finding {finding_id}: {MAX_ATTEMPTS} conflicting writes in a row")

    def _write_actions(self, actions: list[dict[str, Any]]) -> None:
        """One request: a lone silent write as a conditional PutItem, anything else as one
        transaction. Raises ``Cancelled`` naming the actions whose condition failed (or
        that met a concurrent transaction): the caller re-reads and decides again."""
        if len(actions) == 1:
            try:
                self._ddb.put_item(**actions[0]["Put"])
            except ClientError as error:
                if error_code(error) == "ConditionalCheckFailedException":
                    raise Cancelled((0,)) from error
                raise
            return
        # No ClientRequestToken: two racing audits would send the same token for the same
        # transition, and DynamoDB would report success to both, announcing it twice.
        try:
            self._ddb.transact_write_items(TransactItems=actions)  # type: ignore[arg-type]
        except ClientError as error:
            failed = cancelled_items(error, len(actions))
            if failed is None:
                raise
            raise Cancelled(failed) from error

    def _actions(
        self, step: Transition, expected_version: int | None, now: str, lease_until: str | None
    ) -> list[dict[str, Any]]:
        """The write of one transition: the finding's Put conditioned on the version read
        (on its absence for a new one), and for a state change the Put of its outbox
        entry, claimed until ``lease_until`` when given."""
        version = (expected_version or 0) + 1
        stored = finding_item(step.finding, version, step.announced)
        put: dict[str, Any] = {"TableName": self.table_name, "Item": stored}
        if expected_version is None:
            put["ConditionExpression"] = "attribute_not_exists(#id)"
            put["ExpressionAttributeNames"] = {"#id": TABLE_KEY}
        else:
            put["ConditionExpression"] = "#v = :v"
            put["ExpressionAttributeNames"] = {"#v": "version"}
            put["ExpressionAttributeValues"] = marshal({":v": expected_version})
        if step.change is None:
            return [{"Put": put}]
        item = outbox_item(Change(step.change, step.finding), version, now)
        if lease_until is not None:  # claimed as ``pending`` claims: due when the lease ends
            item = {**item, **marshal({"due": lease_until, "attempts": 1})}
        outbox = {
            "TableName": self.table_name,
            "Item": item,
            "ConditionExpression": "attribute_not_exists(#id)",
            "ExpressionAttributeNames": {"#id": TABLE_KEY},
        }
        return [{"Put": put}, {"Put": outbox}]
