"""The DynamoDB finding store: findings and their lifecycle (SPEC §4), the outbox of state
changes to announce, and a memory of which VPC each resource belongs to.

One table, shared with Powertools Idempotency (whose records have only ``id``,
``expiration``, ``status``, ``data``...): partition key ``id`` (string), no sort key, TTL
on ``expiration``. Item kinds, told apart by ``kind`` and by the id:

- finding   ``id`` = finding id (``vw-...``): the Finding's fields (evidence as a JSON
            string, so nested lists and numbers round-trip exactly), ``version`` (bumped
            by every write: the optimistic lock), ``order_key`` = ``<severity rank>#
            <last_seen>#<id>`` (so every index lists the most severe, most recently seen
            first, and a severity filter is a ``begins_with`` key condition), and
            ``active_scope`` = ``<account>#<region>`` while OPEN or SUPPRESSED only,
            ``announced`` = the change subscribers last heard of it (``finding.opened``,
            ``...resolved``, ``...reopened``, or ``none`` while nothing was announced;
            absent on items written before it was kept: then unknown).
- outbox    ``id`` = ``outbox#<finding id>#<type>#<version>``: one announced change,
            written in the same transaction as the state change it announces, with
            ``version`` (of the finding's state it announces: the message's dedupe key).
            ``outbox`` = ``PENDING`` and ``due`` while it waits; once sent they are removed and the
            item expires through the TTL. The run that records a change writes its entry
            already claimed (``due`` = the end of its lease) and publishes it itself.
- topology  ``id`` = ``topology#<account>#<region>``: the head of the resource memory
            (resource id -> VPC id): the gzipped JSON itself up to a few thousand
            resources, else the list of its shards, ``topology#<account>#<region>#
            <shard>#<token>`` (kind ``topology-shard``), split by a hash of the resource
            id, each with a digest so that an unchanged memory is never rewritten.

What an audit costs: one Query of the active findings of each (account, region) it
covers, one BatchGetItem per 100 observed findings that are not active, and writes only
for what changed, in TransactWriteItems of up to 100 items (``FindingStore.apply``). An
unchanged finding is not rewritten: its ``last_seen`` is refreshed at most once a day
(``LAST_SEEN_REFRESH``), or with a transaction the audit makes anyway.

Global secondary indexes, all sparse (an item without an index's key attributes is not in
it, so foreign items never are), all projecting every attribute:

==================  ===============  ===========  =================================================
index               partition        sort         serves
==================  ===============  ===========  =================================================
findings-by-vpc     ``vpc_id``       order_key    query(vpc_id=...)  (most selective, checked first)
findings-by-check   ``check``        order_key    query(check=...)
findings-by-region  ``region``       order_key    query(region=...)
findings-by-status  ``status``       order_key    query(status=...)
findings-all        ``kind``         order_key    query() with no filter but severity
findings-active     ``active_scope`` -            reconcile: one Query per (account, region)
outbox-pending      ``outbox``       ``due``      pending(): entries due now, oldest first
==================  ===============  ===========  =================================================

Filters beyond the chosen index's partition become a FilterExpression (plus
``kind = finding``, so a foreign item could never be returned); severity is always a key
condition. No operation scans the table.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import gzip
import hashlib
import json
import logging
import random
import secrets
import time
from collections import defaultdict
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from chalicelib.core.audit import AuditResult, NotEvaluated, iso
from chalicelib.core.checks import REGISTRY
from chalicelib.core.model import OPENED, REOPENED, RESOLVED, Change, Finding, NetworkSnapshot, Severity

log = logging.getLogger("vpcwatch.store")

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
else:
    DynamoDBClient = Any

TABLE_KEY = "id"
TTL_ATTRIBUTE = "expiration"  # Powertools Idempotency's default expiry attribute

OPEN, SUPPRESSED, RESOLVED_STATUS = "OPEN", "SUPPRESSED", "RESOLVED"
STATUSES = (OPEN, RESOLVED_STATUS, SUPPRESSED)
ACTIVE_STATUSES = (OPEN, SUPPRESSED)  # the statuses a later audit can resolve

KIND_FINDING, KIND_OUTBOX, KIND_TOPOLOGY = "finding", "outbox", "topology"
KIND_TOPOLOGY_SHARD = "topology-shard"
PENDING = "PENDING"
NOTHING_ANNOUNCED = "none"  # ``announced`` of a finding no change of which was announced yet
OUTBOX_PAGE = 100  # outbox entries claimed at once

INDEX_ALL = "findings-all"
INDEX_STATUS = "findings-by-status"
INDEX_CHECK = "findings-by-check"
INDEX_VPC = "findings-by-vpc"
INDEX_REGION = "findings-by-region"
INDEX_ACTIVE = "findings-active"
INDEX_OUTBOX = "outbox-pending"

# index -> (partition attribute, sort attribute or None)
INDEXES: dict[str, tuple[str, str | None]] = {
    INDEX_ALL: ("kind", "order_key"),
    INDEX_STATUS: ("status", "order_key"),
    INDEX_CHECK: ("check", "order_key"),
    INDEX_VPC: ("vpc_id", "order_key"),
    INDEX_REGION: ("region", "order_key"),
    INDEX_ACTIVE: ("active_scope", None),
    INDEX_OUTBOX: ("outbox", "due"),
}

MAX_ITEM_BYTES = 400 * 1024
SENT_RETENTION = dt.timedelta(days=7)  # sent outbox entries stay this long, for inspection
DEFAULT_LEASE = dt.timedelta(minutes=5)
MAX_ATTEMPTS = 12  # optimistic-lock retries per write before giving up
LAST_SEEN_REFRESH = dt.timedelta(days=1)  # an unchanged finding's last_seen is rewritten at most this often
TRANSACTION_ITEMS = 100  # TransactWriteItems' maximum
TRANSACTION_BYTES = 3 * 1024 * 1024  # of its 4 MB, leaving room for the estimate's error

# Reasons of a cancelled transaction that mean "someone else wrote first": re-read, retry.
_RETRYABLE_REASONS = frozenset({"None", "ConditionalCheckFailed", "TransactionConflict", "ThrottlingError"})

Item = dict[str, Any]  # a low-level DynamoDB item: attribute -> {"S": ...} / {"N": ...} / {"B": ...}


class StoreConflictError(RuntimeError):
    """A write lost the optimistic lock MAX_ATTEMPTS times in a row."""


class _Conflict(Exception):
    """Internal: the condition of a write failed; re-read and decide again."""


class _Cancelled(Exception):
    """Internal: a write was refused; ``failed`` are the indexes of the actions whose
    condition failed or that met a concurrent transaction (empty: unknown, all)."""

    def __init__(self, failed: Iterable[int]) -> None:
        super().__init__("write cancelled")
        self.failed = tuple(failed)


def _cancelled_items(error: ClientError, actions: int) -> tuple[int, ...] | None:
    """The actions of a cancelled transaction that were refused for a reason worth a
    re-read (``_RETRYABLE_REASONS``), () when DynamoDB did not say which; None when the
    error is not such a cancellation (a validation error, say): it is raised."""
    if _code(error) != "TransactionCanceledException":
        return None
    reasons = [str(r.get("Code") or "None") for r in error.response.get("CancellationReasons", [])]
    if not reasons or not set(reasons) <= _RETRYABLE_REASONS:
        return None
    if len(reasons) != actions:
        return ()
    return tuple(n for n, reason in enumerate(reasons) if reason != "None")


# ---------------------------------------------------------------------------------
# The table
# ---------------------------------------------------------------------------------


def table_definition(table_name: str) -> dict[str, Any]:
    """The CreateTable request (also the shape a CloudFormation template must match)."""
    attributes = sorted({TABLE_KEY} | {a for keys in INDEXES.values() for a in keys if a})
    indexes = []
    for name, (partition, sort) in INDEXES.items():
        schema = [{"AttributeName": partition, "KeyType": "HASH"}]
        if sort:
            schema.append({"AttributeName": sort, "KeyType": "RANGE"})
        indexes.append({"IndexName": name, "KeySchema": schema, "Projection": {"ProjectionType": "ALL"}})
    return {
        "TableName": table_name,
        "AttributeDefinitions": [{"AttributeName": a, "AttributeType": "S"} for a in attributes],
        "KeySchema": [{"AttributeName": TABLE_KEY, "KeyType": "HASH"}],
        "GlobalSecondaryIndexes": indexes,
        "BillingMode": "PAY_PER_REQUEST",
    }


def create_table(dynamodb: DynamoDBClient, table_name: str) -> bool:
    """Create the table where missing, wait until it is active, enable the TTL. Idempotent;
    returns True when this call created it. An existing table with another key or missing
    indexes is an error naming them (the store could not work on it)."""
    created = False
    try:
        description = dynamodb.describe_table(TableName=table_name)["Table"]
    except ClientError as error:
        if _code(error) != "ResourceNotFoundException":
            raise
        try:
            dynamodb.create_table(**table_definition(table_name))
            created = True
        except ClientError as race:
            if _code(race) != "ResourceInUseException":  # created concurrently: fine
                raise
        dynamodb.get_waiter("table_exists").wait(TableName=table_name, WaiterConfig={"Delay": 2, "MaxAttempts": 60})
        description = dynamodb.describe_table(TableName=table_name)["Table"]
    key = [(k["AttributeName"], k["KeyType"]) for k in description.get("KeySchema", [])]
    if key != [(TABLE_KEY, "HASH")]:
        raise ValueError(f"table {table_name} has key {key}, expected a string partition key {TABLE_KEY!r} only")
    present = {i["IndexName"] for i in description.get("GlobalSecondaryIndexes", [])}
    missing = sorted(set(INDEXES) - present)
    if missing:
        raise ValueError(f"table {table_name} lacks the indexes {', '.join(missing)}")
    ttl = dynamodb.describe_time_to_live(TableName=table_name)["TimeToLiveDescription"]
    if ttl.get("TimeToLiveStatus") not in ("ENABLED", "ENABLING"):
        dynamodb.update_time_to_live(
            TableName=table_name, TimeToLiveSpecification={"Enabled": True, "AttributeName": TTL_ATTRIBUTE}
        )
    return created


# ---------------------------------------------------------------------------------
# Items <-> findings (pure)
# ---------------------------------------------------------------------------------


def _s(value: str) -> dict[str, str]:
    return {"S": value}


def _n(value: int) -> dict[str, str]:
    return {"N": str(value)}


def order_key(finding: Finding) -> str:
    return f"{int(finding.severity)}#{finding.last_seen}#{finding.id}"


def finding_item(finding: Finding, version: int, announced: str | None = None) -> Item:
    item: Item = {
        TABLE_KEY: _s(finding.id),
        "kind": _s(KIND_FINDING),
        "check": _s(finding.check),
        "severity": _s(finding.severity.name),
        "account_id": _s(finding.account_id),
        "region": _s(finding.region),
        "resource_type": _s(finding.resource_type),
        "resource_id": _s(finding.resource_id),
        "resource_arn": _s(finding.resource_arn),
        "title": _s(finding.title),
        "detail": _s(finding.detail),
        "remediation": _s(finding.remediation),
        "evidence": _s(json.dumps(finding.evidence, separators=(",", ":"))),
        "first_seen": _s(finding.first_seen),
        "last_seen": _s(finding.last_seen),
        "status": _s(finding.status),
        "version": _n(version),
        "order_key": _s(order_key(finding)),
    }
    # Index keys can be neither null nor empty: absent means "not in that index".
    if finding.vpc_id:
        item["vpc_id"] = _s(finding.vpc_id)
    if finding.status in ACTIVE_STATUSES:
        item["active_scope"] = _s(f"{finding.account_id}#{finding.region}")
    if finding.reason is not None:
        item["reason"] = _s(finding.reason)
    if finding.resolved_at is not None:
        item["resolved_at"] = _s(finding.resolved_at)
    if announced is not None:
        item["announced"] = _s(announced)
    return item


def is_finding_item(item: Mapping[str, Any]) -> bool:
    return item.get("kind") == {"S": KIND_FINDING}


def _plain(item: Mapping[str, Any]) -> dict[str, Any]:
    """String and number attributes as Python values (the only types findings use)."""
    plain: dict[str, Any] = {}
    for name, value in item.items():
        if "S" in value:
            plain[name] = value["S"]
        elif "N" in value:
            plain[name] = int(value["N"])
    return plain


def item_finding(item: Mapping[str, Any]) -> Finding:
    data = _plain(item)
    data["evidence"] = json.loads(data.get("evidence") or "{}")
    return Finding.from_dict(data)


@dataclass(frozen=True)
class Stored:
    """A finding as stored, with the version its next write must be conditioned on and
    the change its subscribers last heard (None: not recorded, an item of an older
    version of vpcwatch)."""

    finding: Finding
    version: int
    announced: str | None = None


def _stored(item: Mapping[str, Any]) -> Stored:
    announced = item.get("announced", {}).get("S")
    return Stored(item_finding(item), int(item["version"]["N"]), announced)


# ---------------------------------------------------------------------------------
# The lifecycle (pure)
# ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Transition:
    finding: Finding  # as it is to be stored
    change: str | None  # the Change type to announce, or None for a silent write
    announced: str | None = None  # what subscribers will have heard last (None: unknown, not written)


def transition(
    current: Finding | None, observed: Finding | None, now: str, announced: str | None = None
) -> Transition | None:
    """What an audit at ``now`` does to a stored finding (``current``, None when absent).
    ``observed`` is the audit's finding (OPEN or SUPPRESSED), or None when the audit covers
    the finding and did not find it; ``announced`` is the change of ``current`` its
    subscribers last heard (``NOTHING_ANNOUNCED``; None when not recorded). Returns None
    when nothing is to be written.

    Suppression is never announced, so leaving it is an opening; and a finding that
    returns from RESOLVED is ``reopened`` only when its resolution was announced. One
    resolved while suppressed (silently) comes back ``opened``: nobody heard it resolve,
    and if it was first seen suppressed, nobody ever heard it open. Where ``announced``
    was not recorded (items of an older version), a return from RESOLVED is a reopening,
    as it always was."""
    if current is not None and max(current.last_seen, current.resolved_at or "") > now:
        return None  # a more recent audit already decided; an older view must not undo it
    if announced is None and current is not None and current.status == OPEN:
        announced = OPENED  # every way into OPEN is announced
    if observed is None:
        if current is None or current.status not in ACTIVE_STATUSES:
            return None
        resolved = replace(current, status=RESOLVED_STATUS, resolved_at=now, reason=None)
        change = RESOLVED if current.status == OPEN else None
        return Transition(resolved, change, change or announced)
    suppressed = observed.status == SUPPRESSED
    new = replace(
        observed,
        evidence=json.loads(json.dumps(observed.evidence)),  # as stored: tuples become lists
        first_seen=current.first_seen if current is not None else now,
        last_seen=now,
        status=SUPPRESSED if suppressed else OPEN,
        reason=observed.reason if suppressed else None,
        resolved_at=None,
    )
    if new == current:
        return None  # the same audit again (a replayed event): nothing new to record
    change = None
    if not suppressed and (current is None or current.status == SUPPRESSED):
        change = OPENED  # suppression is never announced, so leaving it is an opening
    elif not suppressed and current is not None and current.status == RESOLVED_STATUS:
        change = REOPENED if announced in (None, RESOLVED) else OPENED  # (see above)
    if current is None:
        announced = NOTHING_ANNOUNCED
    return Transition(new, change, change or announced)


def _refresh_only(current: Finding, step: Transition) -> bool:
    """The transition changes nothing but ``last_seen`` (the finding seen again)."""
    return step.change is None and replace(step.finding, last_seen=current.last_seen) == current


def _parse(stamp: str) -> dt.datetime:
    return dt.datetime.fromisoformat(stamp)


@dataclass(frozen=True)
class _Write:
    """One transition to write, conditioned on the version read (None: absent)."""

    finding_id: str
    step: Transition
    expected: int | None
    observed: Finding | None
    last_seen_before: str = ""

    @property
    def items(self) -> int:
        return 2 if self.step.change else 1  # the finding, and the outbox entry of a change

    @property
    def size(self) -> int:
        """An upper bound of the bytes the write puts (the outbox entry holds the finding)."""
        return self.items * (len(json.dumps(self.step.finding.to_dict(), separators=(",", ":"))) + 1024)


def _transaction_chunks(writes: Sequence[_Write]) -> Iterator[list[_Write]]:
    """``writes`` in groups that fit one TransactWriteItems (100 items, 4 MB)."""
    chunk: list[_Write] = []
    items = size = 0
    for write in writes:
        if chunk and (items + write.items > TRANSACTION_ITEMS or size + write.size > TRANSACTION_BYTES):
            yield chunk
            chunk, items, size = [], 0, 0
        chunk.append(write)
        items += write.items
        size += write.size
    if chunk:
        yield chunk


# ---------------------------------------------------------------------------------
# Coverage: what an audit may resolve (pure)
# ---------------------------------------------------------------------------------


def collected_resource_ids(snapshot: NetworkSnapshot) -> frozenset[str]:
    """Every resource id the snapshot describes."""
    ids: set[str] = set()
    ids.update(v.vpc_id for v in snapshot.vpcs)
    ids.update(s.subnet_id for s in snapshot.subnets)
    ids.update(r.route_table_id for r in snapshot.route_tables)
    ids.update(g.gateway_id for g in snapshot.internet_gateways)
    ids.update(n.nat_gateway_id for n in snapshot.nat_gateways)
    ids.update(f.flow_log_id for f in snapshot.flow_logs)
    ids.update(e.endpoint_id for e in snapshot.vpc_endpoints)
    ids.update(s.service_id for s in snapshot.endpoint_services)
    ids.update(p.peering_id for p in snapshot.peerings)
    ids.update(t.tgw_id for t in snapshot.transit_gateways)
    ids.update(a.attachment_id for a in snapshot.tgw_attachments)
    ids.update(t.route_table_id for t in snapshot.tgw_route_tables)
    ids.update(c.endpoint_id for c in snapshot.client_vpn_endpoints)
    ids.update(p.prefix_list_id for p in snapshot.prefix_lists)
    return frozenset(ids)


@dataclass(frozen=True)
class Coverage:
    """What one region snapshot of an audit can vouch for: a stored finding it did not find
    is resolved only when covered (SPEC §4: scope, and complete data for the check).

    A region-wide audit covers every finding of its region for the checks it evaluated. A
    scoped audit covers exactly what it evaluated: each check's subjects in the snapshot
    (``CheckSpec.subjects``), and the findings of its VPCs on resources that no longer
    exist (a deleted route table's findings resolve with the event that deleted it)."""

    account_id: str
    region: str
    evaluated_checks: frozenset[str]
    scope_vpc_ids: frozenset[str]  # empty: the whole region
    collected: frozenset[str]
    subjects: Mapping[str, frozenset[str]]  # check -> resource ids judged (scoped audits)

    @classmethod
    def of(
        cls,
        snapshot: NetworkSnapshot,
        not_evaluated: Iterable[NotEvaluated] = (),
        checks: Collection[str] | None = None,
    ) -> Coverage:
        """``checks``: the checks the audit ran (None: all of them)."""
        skipped = {n.check for n in not_evaluated if n.region == snapshot.region}
        failed = snapshot.failed_actions
        evaluated = [
            spec
            for spec in REGISTRY
            if (checks is None or spec.id in checks) and spec.id not in skipped and not failed.intersection(spec.needs)
        ]
        scoped = bool(snapshot.scope_vpc_ids)
        return cls(
            account_id=snapshot.account_id,
            region=snapshot.region,
            evaluated_checks=frozenset(spec.id for spec in evaluated),
            scope_vpc_ids=frozenset(snapshot.scope_vpc_ids),
            collected=collected_resource_ids(snapshot) if scoped else frozenset(),
            subjects={spec.id: spec.subjects(snapshot) for spec in evaluated} if scoped else {},
        )

    def covers(self, finding: Finding) -> bool:
        if (finding.account_id, finding.region) != (self.account_id, self.region):
            return False
        if finding.check not in self.evaluated_checks:  # includes checks no longer registered
            return False
        if not self.scope_vpc_ids:
            return True
        if finding.resource_id in self.subjects.get(finding.check, ()):
            return True
        # Gone: a resource of the scope that the scoped collection no longer finds.
        return (
            finding.vpc_id is not None
            and finding.vpc_id in self.scope_vpc_ids
            and finding.resource_id not in self.collected
        )


# ---------------------------------------------------------------------------------
# Topology memory (pure helpers)
# ---------------------------------------------------------------------------------


def resource_vpc_map(snapshot: NetworkSnapshot) -> dict[str, str]:
    """Resource id -> the VPC it belongs to, for every resource of the snapshot that has
    one: what a CloudTrail event about a deleted resource no longer lets us describe."""
    mapping: dict[str, str] = {}
    mapping.update({s.subnet_id: s.vpc_id for s in snapshot.subnets})
    mapping.update({r.route_table_id: r.vpc_id for r in snapshot.route_tables})
    mapping.update({g.gateway_id: g.vpc_ids[0] for g in snapshot.internet_gateways if g.vpc_ids})
    mapping.update({n.nat_gateway_id: n.vpc_id for n in snapshot.nat_gateways})
    mapping.update({e.endpoint_id: e.vpc_id for e in snapshot.vpc_endpoints})
    mapping.update({c.endpoint_id: c.vpc_id for c in snapshot.client_vpn_endpoints if c.vpc_id})
    mapping.update({a.attachment_id: a.resource_id for a in snapshot.tgw_attachments if a.resource_type == "vpc"})
    for peering in snapshot.peerings:
        # One VPC per id: the side that lives in this account and region, requester first.
        sides = (peering.requester, peering.accepter)
        local = [s for s in sides if s.region in ("", snapshot.region) and snapshot.owns(s.owner_id)]
        mapping[peering.peering_id] = (local or list(sides))[0].vpc_id
    for flow_log in snapshot.flow_logs:
        kind = flow_log.resource_kind
        if kind == "vpc":
            mapping[flow_log.flow_log_id] = flow_log.resource_id
        elif kind in ("subnet", "tgw-attach") and flow_log.resource_id in mapping:
            mapping[flow_log.flow_log_id] = mapping[flow_log.resource_id]
    return mapping


def pack_topology(mapping: Mapping[str, str]) -> bytes:
    """gzip of {vpc: [sorted resource ids]}: grouped and sorted ids compress well, so 10k
    resources take well under 400 KB."""
    grouped: dict[str, list[str]] = defaultdict(list)
    for resource_id, vpc_id in mapping.items():
        grouped[vpc_id].append(resource_id)
    document = {vpc: sorted(ids) for vpc, ids in sorted(grouped.items())}
    return gzip.compress(json.dumps(document, separators=(",", ":")).encode(), mtime=0)


def unpack_topology(blob: bytes) -> dict[str, str]:
    document: dict[str, list[str]] = json.loads(gzip.decompress(blob))
    return {resource_id: vpc_id for vpc_id, ids in document.items() for resource_id in ids}


# The memory of one (account, region) is a head item, ``topology#<account>#<region>``:
# small memories live in it (gzipped, as ``pack_topology`` writes them); larger ones are
# split by a hash of the resource id into ``shards`` items, ``topology#<account>#<region>#
# <shard>#<token>``, which the head lists (token and digest of each). A lookup reads the
# head, and only the shards of the ids it asks about; a write rewrites only the shards
# whose content changed (new tokens), switching the head to them in the same
# transaction, so a reader never sees a head naming shards that were not written.
MEMORY_INLINE_MAX = 4096  # resources kept in the head itself (about 50 KB gzipped)...
MEMORY_INLINE_KEEP = 8192  # ...and kept there while at most this many
MEMORY_SHARD_TARGET = 4096  # resources per shard when (re)sharding
MEMORY_SHARD_MAX = 16384  # a layout is kept while its shards average at most this many...
MEMORY_SHARD_MIN = 1024  # ...and at least this many
MEMORY_BLOB_MAX = 300 * 1024  # gzipped bytes of one item's document, well under the 400 KB item limit


def shard_of(resource_id: str, shards: int) -> int:
    """The shard (0 .. shards-1) that holds ``resource_id``."""
    return int.from_bytes(hashlib.sha256(resource_id.encode()).digest()[:8], "big") % shards


def topology_digest(mapping: Mapping[str, str]) -> str:
    """A short digest of a mapping's content, to tell an unchanged memory without reading it."""
    document = json.dumps(sorted(mapping.items()), separators=(",", ":")).encode()
    return hashlib.sha256(document).hexdigest()[:24]


def memory_shards(count: int, current: int) -> int:
    """The shard count for ``count`` resources (0: in the head), keeping ``current`` while
    it still fits, so that an unchanged memory keeps its layout and digests."""
    if current == 0 and count <= MEMORY_INLINE_KEEP:
        return 0
    if current > 0 and current * MEMORY_SHARD_MIN <= count <= current * MEMORY_SHARD_MAX:
        return current
    if count <= MEMORY_INLINE_MAX:
        return 0
    shards = 2
    while shards * MEMORY_SHARD_TARGET < count:
        shards *= 2
    return shards


def split_topology(mapping: Mapping[str, str], shards: int) -> list[dict[str, str]]:
    groups: list[dict[str, str]] = [{} for _ in range(shards)]
    for resource_id, vpc_id in mapping.items():
        groups[shard_of(resource_id, shards)][resource_id] = vpc_id
    return groups


@dataclass(frozen=True)
class _Part:
    token: str
    digest: str


class ResourceMemory(Mapping[str, str]):
    """Resource id -> VPC id of one account and region, as the store last saw them,
    read lazily: the head when made, then a shard the first time an id of it is asked
    about (``load`` fetches the shards of many ids at once). A shard gone meanwhile
    (rewritten by another writer) reads as empty: memory is a hint, never a verdict."""

    def __init__(
        self,
        account_id: str,
        region: str,
        head: Mapping[str, Any] | None = None,
        fetch: Callable[[Sequence[str]], Mapping[str, Mapping[str, Any]]] | None = None,
    ) -> None:
        self.account_id, self.region = account_id, region
        self.version: int | None = int(head["version"]["N"]) if head and "version" in head else None
        self.exists = head is not None
        self.shards = int(head["shards"]["N"]) if head and "shards" in head else 0
        listed = head["parts"]["L"] if head and self.shards else []
        self.parts = tuple(_Part(*str(p["S"]).split(":", 1)) for p in listed)
        self.digest: str | None = head["digest"]["S"] if head and "digest" in head else None
        self.count = int(head["resources"]["N"]) if head and "resources" in head else 0
        self._fetch = fetch
        self._inline: dict[str, str] | None = None
        if not self.shards:
            self._inline = unpack_topology(bytes(head["data"]["B"])) if head and "data" in head else {}
        self._loaded: dict[int, dict[str, str]] = {}

    @property
    def key(self) -> str:
        return f"topology#{self.account_id}#{self.region}"

    def shard_key(self, index: int, token: str | None = None) -> str:
        return f"{self.key}#{index}#{token if token is not None else self.parts[index].token}"

    def load(self, resource_ids: Iterable[str]) -> None:
        """Read, in one request, every shard holding one of ``resource_ids`` not read yet."""
        if not self.shards:
            return
        wanted = sorted({shard_of(i, self.shards) for i in resource_ids} - set(self._loaded))
        self._load(wanted)

    def shard(self, index: int) -> dict[str, str]:
        if index not in self._loaded:
            self._load([index])
        return self._loaded[index]

    def _load(self, indexes: Sequence[int]) -> None:
        if not indexes:
            return
        if self._fetch is None:
            raise RuntimeError("this memory cannot read its shards")
        items = self._fetch([self.shard_key(i) for i in indexes])
        for index in indexes:
            item = items.get(self.shard_key(index))
            self._loaded[index] = unpack_topology(bytes(item["data"]["B"])) if item else {}

    def everything(self) -> dict[str, str]:
        if self._inline is not None:
            return self._inline
        self._load([i for i in range(self.shards) if i not in self._loaded])
        return {k: v for i in range(self.shards) for k, v in self._loaded[i].items()}

    def __getitem__(self, resource_id: str) -> str:
        if self._inline is not None:
            return self._inline[resource_id]
        return self.shard(shard_of(resource_id, self.shards))[resource_id]

    def __iter__(self) -> Iterator[str]:
        return iter(self.everything())

    def __len__(self) -> int:
        return len(self.everything())


@dataclass(frozen=True)
class _MemoryWrite:
    """A new state of one memory: in the head (``inline``), or ``shards`` whose ``parts``
    the head lists, of which ``puts`` (index -> content) are new items and ``deletes``
    the keys of items they replace."""

    count: int
    inline: dict[str, str] | None = None
    shards: int = 0
    parts: tuple[_Part, ...] = ()
    puts: Mapping[int, dict[str, str]] = field(default_factory=dict)
    deletes: tuple[str, ...] = ()


def _token() -> str:
    """A new shard item's name: never that of the item it replaces in the same transaction."""
    return secrets.token_hex(6)


def _memory_write(memory: ResourceMemory, mapping: Mapping[str, str], replace: bool) -> _MemoryWrite | None:
    """What remembering ``mapping`` changes in ``memory`` (None: nothing). ``replace``: the
    mapping is the whole region (a full audit), else merged into what is known."""
    if replace:
        if not memory.exists and not mapping:
            return None
        return _layout(memory, dict(mapping))
    memory.load(mapping)
    new = {k: v for k, v in mapping.items() if memory.get(k) != v}
    if not new:
        return None
    if memory.shards:
        merged = _merge_shards(memory, new)
        if merged is not None:
            return merged
    return _layout(memory, {**memory.everything(), **new})


def _merge_shards(memory: ResourceMemory, new: Mapping[str, str]) -> _MemoryWrite | None:
    """``new`` merged into the shards it falls in (read by ``load``), the layout kept;
    None when it no longer fits (the caller lays the whole memory out again)."""
    touched: dict[int, dict[str, str]] = {}
    added = 0
    for resource_id, vpc_id in new.items():
        index = shard_of(resource_id, memory.shards)
        content = touched.setdefault(index, dict(memory.shard(index)))
        added += resource_id not in content
        content[resource_id] = vpc_id
    total = memory.count + added
    if memory_shards(total, memory.shards) != memory.shards:
        return None
    if any(len(pack_topology(content)) > MEMORY_BLOB_MAX for content in touched.values()):
        return None
    parts = tuple(
        _Part(_token(), topology_digest(touched[i])) if i in touched else memory.parts[i] for i in range(memory.shards)
    )
    return _MemoryWrite(total, None, memory.shards, parts, touched, tuple(memory.shard_key(i) for i in touched))


def _layout(memory: ResourceMemory, target: dict[str, str]) -> _MemoryWrite | None:
    """``target`` as the whole memory: in the head or in shards (the current layout while
    it fits, so unchanged shards are neither compared by content nor rewritten)."""
    shards = memory_shards(len(target), memory.shards)
    while True:
        if shards == 0:
            if memory.exists and not memory.shards:
                if memory.digest is not None and memory.digest == topology_digest(target):
                    return None
                if memory.digest is None and memory.everything() == target:
                    return None  # written before digests were kept: left as it is
            if len(pack_topology(target)) <= MEMORY_BLOB_MAX:
                old = tuple(memory.shard_key(i) for i in range(memory.shards))
                return _MemoryWrite(count=len(target), inline=target, deletes=old)
            shards = 2
            continue
        groups = split_topology(target, shards)
        if any(len(pack_topology(g)) > MEMORY_BLOB_MAX for g in groups):
            shards *= 2  # ids far longer than AWS's: smaller shards
            continue
        digests = [topology_digest(g) for g in groups]
        if shards == memory.shards:
            changed = [i for i in range(shards) if digests[i] != memory.parts[i].digest]
            if not changed:
                return None
            deletes = tuple(memory.shard_key(i) for i in changed)
        else:
            changed = list(range(shards))
            deletes = tuple(memory.shard_key(i) for i in range(memory.shards))
        parts = tuple(_Part(_token(), digests[i]) if i in changed else memory.parts[i] for i in range(shards))
        return _MemoryWrite(len(target), None, shards, parts, {i: groups[i] for i in changed}, deletes)


# ---------------------------------------------------------------------------------
# Pagination tokens (pure)
# ---------------------------------------------------------------------------------


def encode_token(key: Mapping[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(key, separators=(",", ":"), sort_keys=True).encode()).decode()


def decode_token(token: str, attributes: Collection[str]) -> Item:
    """The LastEvaluatedKey a token carries; ValueError unless it is one of ``attributes``' keys."""
    try:
        key = json.loads(base64.urlsafe_b64decode(token.encode("ascii")))
    except (binascii.Error, UnicodeError, ValueError):
        raise ValueError("next_token is not a valid token") from None
    if (
        not isinstance(key, dict)
        or set(key) != set(attributes)
        or not all(isinstance(v, dict) and set(v) == {"S"} and isinstance(v["S"], str) for v in key.values())
    ):
        raise ValueError("next_token does not belong to this query")
    return key


# ---------------------------------------------------------------------------------
# The store
# ---------------------------------------------------------------------------------


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


@dataclass(frozen=True)
class Recorded:
    """What ``FindingStore.apply`` recorded: the changes, and their outbox entries when
    it claimed them for the caller."""

    changes: list[Change]
    claimed: list[OutboxEntry]


def _code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))


def _chunks(values: Sequence[str], size: int) -> Iterator[Sequence[str]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


def _backoff(attempt: int) -> None:
    time.sleep(min(0.5, 0.01 * 2**attempt) * random.random())  # full jitter


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class FindingStore:
    """Findings, outbox and topology memory in one DynamoDB table, through an injected boto3
    DynamoDB *client*. ``max_workers`` > 1 lets reconcile write findings in parallel (boto3
    clients are thread-safe; moto is not, so the default stays sequential)."""

    def __init__(
        self,
        table_name: str,
        dynamodb: DynamoDBClient,
        *,
        max_workers: int = 1,
        clock: Callable[[], dt.datetime] = _utcnow,
    ) -> None:
        self.table_name = table_name
        self._ddb = dynamodb
        self._max_workers = max(1, max_workers)
        self._clock = clock

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
        values: dict[str, Any] = {":p": _s(partition[1])}
        key_condition = "#p = :p"
        if rank is not None:
            names["#o"] = "order_key"
            values[":rank"] = _s(f"{int(rank)}#")
            key_condition += " AND begins_with(#o, :rank)"
        conditions: list[str] = []
        if partition[0] != "kind":  # (a FilterExpression may not name the queried index's keys)
            names["#kind"], values[":kind"] = "kind", _s(KIND_FINDING)
            conditions.append("#kind = :kind")  # never matters but for a foreign item: costs nothing
        for number, (attribute, value) in enumerate(filters.items()):
            if value is not None and attribute != partition[0]:
                names[f"#f{number}"], values[f":f{number}"] = attribute, _s(value)
                conditions.append(f"#f{number} = :f{number}")
        selective = sum(v is not None for v in filters.values()) > 1  # filters beyond the partition
        key_attributes = (TABLE_KEY, partition[0], "order_key")
        start: Item | None = None
        if next_token is not None:
            start = decode_token(next_token, key_attributes)
            if start[partition[0]] != _s(partition[1]):
                raise ValueError("next_token does not belong to this query")
        request: dict[str, Any] = {
            "TableName": self.table_name,
            "IndexName": index,
            "KeyConditionExpression": key_condition,
            "ExpressionAttributeNames": names,
            "ExpressionAttributeValues": values,
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
                if next_token is not None and _code(error) == "ValidationException":
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
        item = self._ddb.get_item(TableName=self.table_name, Key={TABLE_KEY: _s(finding_id)}, ConsistentRead=True)
        found = item.get("Item")
        return _stored(found) if found and is_finding_item(found) else None

    def _active(self, account_id: str, region: str) -> dict[str, Stored]:
        """The OPEN and SUPPRESSED findings of one account and region: one (paginated) Query."""
        result: dict[str, Stored] = {}
        request: dict[str, Any] = {
            "TableName": self.table_name,
            "IndexName": INDEX_ACTIVE,
            "KeyConditionExpression": "#scope = :scope",
            "ExpressionAttributeNames": {"#scope": "active_scope"},
            "ExpressionAttributeValues": {":scope": _s(f"{account_id}#{region}")},
        }
        while True:
            response = self._ddb.query(**request)
            for item in response.get("Items", []):
                if is_finding_item(item):
                    stored = _stored(item)
                    result[stored.finding.id] = stored
            if "LastEvaluatedKey" not in response:
                return result
            request["ExclusiveStartKey"] = response["LastEvaluatedKey"]

    def _batch_get(self, finding_ids: Sequence[str]) -> dict[str, Stored]:
        result: dict[str, Stored] = {}
        for chunk in _chunks(finding_ids, 100):
            request: dict[str, Any] = {
                self.table_name: {"Keys": [{TABLE_KEY: _s(i)} for i in chunk], "ConsistentRead": True}
            }
            attempt = 0
            while request:
                response = self._ddb.batch_get_item(RequestItems=request)
                for item in response.get("Responses", {}).get(self.table_name, []):
                    if is_finding_item(item):
                        stored = _stored(item)
                        result[stored.finding.id] = stored
                request = dict(response.get("UnprocessedKeys") or {})
                if request:
                    _backoff(attempt)
                    attempt += 1
        return result

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
        writes = self._plan(self._tasks(result), stamp, now)
        recorded = Recorded([], [])
        suspects: list[_Write] = []
        for chunk in _transaction_chunks(writes):
            suspects += self._commit(chunk, stamp, lease_until, recorded)
        if not suspects:
            return recorded
        fresh = self._batch_get([w.finding_id for w in suspects])

        def settle(write: _Write) -> tuple[Change, OutboxEntry | None] | None:
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

    def _tasks(self, result: AuditResult) -> list[tuple[str, Stored | None, Finding | None]]:
        """(finding id, as stored, as observed or None when covered and not found) for
        every finding the audit may move."""
        observed = {f.id: f for f in (*result.findings, *result.suppressed)}
        by_scope: dict[tuple[str, str], list[Finding]] = defaultdict(list)
        for finding in observed.values():
            by_scope[(finding.account_id, finding.region)].append(finding)
        tasks: list[tuple[str, Stored | None, Finding | None]] = []
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

    @staticmethod
    def _plan(tasks: Iterable[tuple[str, Stored | None, Finding | None]], stamp: str, now: dt.datetime) -> list[_Write]:
        """The writes of an audit: every transition but a mere refresh of ``last_seen``,
        and those refreshes where due (a finding of the (account, region) is at least
        ``LAST_SEEN_REFRESH`` old: all of its refreshes, so they stay in step) or free
        (room left in the transactions the other writes need, oldest first)."""
        writes: list[_Write] = []
        refreshes: dict[tuple[str, str], list[_Write]] = defaultdict(list)
        for finding_id, stored, observed in tasks:
            current = stored.finding if stored is not None else None
            step = transition(current, observed, stamp, stored.announced if stored is not None else None)
            if step is None:
                continue
            version = stored.version if stored is not None else None
            write = _Write(finding_id, step, version, observed, current.last_seen if current else "")
            if current is not None and _refresh_only(current, step):
                refreshes[(current.account_id, current.region)].append(write)
            else:
                writes.append(write)
        optional: list[tuple[str, _Write]] = []
        for scope_writes in refreshes.values():
            ages = [now - _parse(w.last_seen_before) for w in scope_writes]
            if max(ages) >= LAST_SEEN_REFRESH:
                writes.extend(scope_writes)
            else:
                optional.extend((w.last_seen_before, w) for w in scope_writes)
        items = sum(w.items for w in writes)
        room = -items % TRANSACTION_ITEMS if items else 0
        writes.extend(w for _, w in sorted(optional, key=lambda pair: pair[0])[:room])
        return writes

    def _commit(self, chunk: list[_Write], stamp: str, lease_until: str | None, recorded: Recorded) -> list[_Write]:
        """Write ``chunk`` in one transaction; the writes whose condition failed are
        returned (to be re-read and settled one by one) and the others written again."""
        suspects: list[_Write] = []
        while chunk:
            planned = [self._actions(w.step, w.expected, stamp, lease_until) for w in chunk]
            actions = [action for written in planned for action in written]
            owner = [n for n, written in enumerate(planned) for _ in written]  # action -> write
            try:
                self._write_actions(actions)
            except _Cancelled as cancelled:
                failed = {owner[i] for i in cancelled.failed} or set(range(len(chunk)))
                suspects += [w for n, w in enumerate(chunk) if n in failed]
                chunk = [w for n, w in enumerate(chunk) if n not in failed]
                continue
            for write, written in zip(chunk, planned, strict=True):
                if write.step.change is None:
                    continue
                recorded.changes.append(Change(write.step.change, write.step.finding))
                if lease_until is not None:
                    recorded.claimed.append(_outbox_entry(written[1]["Put"]["Item"]))
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
            if step is None or (current is not None and _refresh_only(current, step)):
                return None
            actions = self._actions(step, stored.version if stored else None, now, lease_until)
            try:
                self._write_actions(actions)
            except _Cancelled:
                if attempt:
                    _backoff(attempt)
                stored = self._get_stored(finding_id)
                continue
            if step.change is None:
                return None
            claimed = _outbox_entry(actions[1]["Put"]["Item"]) if lease_until is not None else None
            return Change(step.change, step.finding), claimed
        raise StoreConflictError(f"finding {finding_id}: {MAX_ATTEMPTS} conflicting writes in a row")

    def _write_actions(self, actions: list[dict[str, Any]]) -> None:
        """One request: a lone silent write as a conditional PutItem, anything else as one
        transaction. Raises ``_Cancelled`` naming the actions whose condition failed (or
        that met a concurrent transaction): the caller re-reads and decides again."""
        if len(actions) == 1:
            try:
                self._ddb.put_item(**actions[0]["Put"])
            except ClientError as error:
                if _code(error) == "ConditionalCheckFailedException":
                    raise _Cancelled((0,)) from error
                raise
            return
        # No ClientRequestToken: two racing audits would send the same token for the same
        # transition, and DynamoDB would report success to both, announcing it twice.
        try:
            self._ddb.transact_write_items(TransactItems=actions)  # type: ignore[arg-type]
        except ClientError as error:
            failed = _cancelled_items(error, len(actions))
            if failed is None:
                raise
            raise _Cancelled(failed) from error

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
            put["ExpressionAttributeValues"] = {":v": _n(expected_version)}
        if step.change is None:
            return [{"Put": put}]
        item = _outbox_item(Change(step.change, step.finding), version, now)
        if lease_until is not None:  # claimed as ``pending`` claims: due when the lease ends
            item = {**item, "due": _s(lease_until), "attempts": _n(1)}
        outbox = {
            "TableName": self.table_name,
            "Item": item,
            "ConditionExpression": "attribute_not_exists(#id)",
            "ExpressionAttributeNames": {"#id": TABLE_KEY},
        }
        return [{"Put": put}, {"Put": outbox}]

    # -- the outbox ---------------------------------------------------------------
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
            "ExpressionAttributeValues": {":pending": _s(PENDING), ":now": _s(stamp)},
            "ScanIndexForward": True,
        }
        claimed: list[OutboxEntry] = []
        while len(claimed) < limit:
            response = self._ddb.query(**{**request, "Limit": limit - len(claimed)})
            items = [i for i in response.get("Items", []) if i.get("kind") == _s(KIND_OUTBOX)]
            claimed += [_outbox_entry(item) for item in self._claim_all(items, until)]
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
                ":until": _s(until),
                ":one": _n(1),
                ":pending": _s(PENDING),
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
                    if _code(error) != "TransactionCanceledException":
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
            if _code(error) in ("ConditionalCheckFailedException", "TransactionConflictException"):
                return False
            raise
        return True

    def mark_sent(self, entry: OutboxEntry) -> None:
        """The change was published: it leaves the outbox and expires through the TTL."""
        try:
            self._ddb.update_item(**self._sent_update(entry, self._clock()))
        except ClientError as error:
            if _code(error) != "ConditionalCheckFailedException":  # already expired: nothing to mark
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
                if _cancelled_items(error, len(chunk)) is None:
                    raise
                for entry in chunk:
                    self.mark_sent(entry)

    def _sent_update(self, entry: OutboxEntry, moment: dt.datetime) -> dict[str, Any]:
        """The UpdateItem that marks ``entry`` sent at ``moment``."""
        expires = int((moment + SENT_RETENTION).timestamp())
        return {
            "TableName": self.table_name,
            "Key": {TABLE_KEY: _s(entry.key)},
            "UpdateExpression": "SET #sent = :sent, #exp = :exp REMOVE #o, #due",
            "ConditionExpression": "attribute_exists(#id)",
            "ExpressionAttributeNames": {
                "#sent": "sent_at",
                "#exp": TTL_ATTRIBUTE,
                "#o": "outbox",
                "#due": "due",
                "#id": TABLE_KEY,
            },
            "ExpressionAttributeValues": {":sent": _s(iso(moment)), ":exp": _n(expires)},
        }

    def mark_delivered(self, entry: OutboxEntry, channel: str) -> None:
        """One channel has the change: a retry of the entry skips that channel, so a change
        is never announced twice on it while another channel still fails."""
        self._ddb.update_item(
            TableName=self.table_name,
            Key={TABLE_KEY: _s(entry.key)},
            UpdateExpression="ADD #delivered :channel",
            ConditionExpression="attribute_exists(#id)",
            ExpressionAttributeNames={"#delivered": "delivered", "#id": TABLE_KEY},
            ExpressionAttributeValues={":channel": {"SS": [channel]}},
        )

    def release(self, entry: OutboxEntry) -> None:
        """Publishing failed: the entry is due again at once (back in its place by age)
        rather than when its lease ends."""
        try:
            self._ddb.update_item(
                TableName=self.table_name,
                Key={TABLE_KEY: _s(entry.key)},
                UpdateExpression="SET #due = #created",
                ConditionExpression="#o = :pending",
                ExpressionAttributeNames={"#due": "due", "#created": "created_at", "#o": "outbox"},
                ExpressionAttributeValues={":pending": _s(PENDING)},
            )
        except ClientError as error:
            if _code(error) != "ConditionalCheckFailedException":  # sent meanwhile
                raise

    # -- topology memory ----------------------------------------------------------
    def remember_resources(
        self,
        account_id: str,
        region: str,
        mapping: Mapping[str, str],
        replace: bool,
        known: ResourceMemory | None = None,
    ) -> bool:
        """Store resource id -> VPC id for one account and region: ``replace`` for a full
        audit (what it did not see is gone), merged otherwise (a scoped audit saw only part).
        ``known``: the memory as this caller read it already (``resource_vpcs``), which
        spares reading it again. Writes nothing when nothing changes (one GetItem of the
        head for a full audit; nothing more for a merge of what ``known`` holds), else
        only the shards that changed and the head, in one transaction conditioned on the
        head's version: a concurrent writer makes this one re-read and merge again.
        Returns whether it wrote."""
        for attempt in range(MAX_ATTEMPTS):
            memory = known if known is not None and attempt == 0 else self.resource_vpcs(account_id, region, ())
            change = _memory_write(memory, mapping, replace)
            if change is None:
                return False
            try:
                self._write_memory(memory, change)
                return True
            except _Conflict:
                _backoff(attempt)
        raise StoreConflictError(f"topology of {account_id}/{region}: {MAX_ATTEMPTS} conflicting writes in a row")

    def resource_vpcs(self, account_id: str, region: str, ids: Iterable[str] | None = None) -> ResourceMemory:
        """What the store remembers of one account and region: one GetItem of the head,
        then (for a memory large enough to be sharded) one more request for the shards
        of ``ids``; any other shard is read when first asked about. ``ids`` None: read
        it all."""
        key = f"topology#{account_id}#{region}"
        response = self._ddb.get_item(TableName=self.table_name, Key={TABLE_KEY: _s(key)}, ConsistentRead=True)
        memory = ResourceMemory(account_id, region, response.get("Item"), self._fetch)
        if ids is None:
            memory.everything()
        else:
            memory.load(ids)
        return memory

    def _fetch(self, keys: Sequence[str]) -> dict[str, Item]:
        """Items by key: a GetItem for one, BatchGetItem (100 a request) for more."""
        if len(keys) == 1:
            got = self._ddb.get_item(TableName=self.table_name, Key={TABLE_KEY: _s(keys[0])}, ConsistentRead=True)
            item = got.get("Item")
            return {keys[0]: item} if item else {}
        found: dict[str, Item] = {}
        for chunk in _chunks(keys, 100):
            request: dict[str, Any] = {
                self.table_name: {"Keys": [{TABLE_KEY: _s(k)} for k in chunk], "ConsistentRead": True}
            }
            attempt = 0
            while request:
                response = self._ddb.batch_get_item(RequestItems=request)
                for item in response.get("Responses", {}).get(self.table_name, []):
                    found[item[TABLE_KEY]["S"]] = item
                request = dict(response.get("UnprocessedKeys") or {})
                if request:
                    _backoff(attempt)
                    attempt += 1
        return found

    def _write_memory(self, memory: ResourceMemory, change: _MemoryWrite) -> None:
        """Write the new shards and switch the head to them in one transaction (several
        when the shards exceed one: the earlier ones put shards nobody lists yet, which
        the last, holding the head, makes visible); raises ``_Conflict`` when the head
        moved since ``memory`` was read."""
        head: Item = {
            TABLE_KEY: _s(memory.key),
            "kind": _s(KIND_TOPOLOGY),
            "resources": _n(change.count),
            "updated_at": _s(iso(self._clock())),
            "version": _n((memory.version or 0) + 1),
        }
        if change.inline is not None:
            head["data"] = {"B": pack_topology(change.inline)}
            head["digest"] = _s(topology_digest(change.inline))
        else:
            head["shards"] = _n(change.shards)
            head["parts"] = {"L": [_s(f"{p.token}:{p.digest}") for p in change.parts]}
        put: dict[str, Any] = {"TableName": self.table_name, "Item": head}
        if memory.version is None:
            put["ConditionExpression"] = "attribute_not_exists(#id)"
            put["ExpressionAttributeNames"] = {"#id": TABLE_KEY}
        else:
            put["ConditionExpression"] = "#v = :v"
            put["ExpressionAttributeNames"] = {"#v": "version"}
            put["ExpressionAttributeValues"] = {":v": _n(memory.version)}
        shards: list[dict[str, Any]] = []
        for index, content in change.puts.items():
            item = {
                TABLE_KEY: _s(memory.shard_key(index, change.parts[index].token)),
                "kind": _s(KIND_TOPOLOGY_SHARD),
                "data": {"B": pack_topology(content)},
                "resources": _n(len(content)),
            }
            shards.append({"Put": {"TableName": self.table_name, "Item": item}})
        deletes = [{"Delete": {"TableName": self.table_name, "Key": {TABLE_KEY: _s(k)}}} for k in change.deletes]
        if not shards and not deletes:
            try:
                self._ddb.put_item(**put)
            except ClientError as error:
                if _code(error) == "ConditionalCheckFailedException":
                    raise _Conflict from error
                raise
            return
        # The head last, with as many shards and deletes as fit beside it.
        batches: list[list[dict[str, Any]]] = [[]]
        size = 0
        for action in shards:
            blob = len(action["Put"]["Item"]["data"]["B"]) + 512
            if len(batches[-1]) + 1 >= TRANSACTION_ITEMS or size + blob > TRANSACTION_BYTES - MEMORY_BLOB_MAX:
                batches.append([])
                size = 0
            batches[-1].append(action)
            size += blob
        room = TRANSACTION_ITEMS - 1 - len(batches[-1])
        final = [*batches[-1], *deletes[:room], {"Put": put}]
        earlier = batches[:-1]
        try:
            for batch in earlier:
                self._ddb.transact_write_items(TransactItems=batch)  # type: ignore[arg-type]
            self._ddb.transact_write_items(TransactItems=final)  # type: ignore[arg-type]
        except ClientError as error:
            if _cancelled_items(error, len(final)) is None:
                raise
            self._delete_quietly([a["Put"]["Item"][TABLE_KEY]["S"] for batch in earlier for a in batch])
            raise _Conflict from error
        self._delete_quietly(change.deletes[room:])

    def _delete_quietly(self, keys: Sequence[str]) -> None:
        """Remove shard items nobody lists (any more): best effort, logged on failure."""
        for chunk in _chunks(keys, TRANSACTION_ITEMS):
            actions = [{"Delete": {"TableName": self.table_name, "Key": {TABLE_KEY: _s(k)}}} for k in chunk]
            try:
                self._ddb.transact_write_items(TransactItems=actions)  # type: ignore[arg-type]
            except ClientError as error:
                log.warning("topology shards left behind (%s): %s", _code(error), ", ".join(chunk[:3]))


def _outbox_item(change: Change, version: int, now: str) -> Item:
    finding = change.finding
    return {
        TABLE_KEY: _s(f"outbox#{finding.id}#{change.type}#{version}"),
        "kind": _s(KIND_OUTBOX),
        "outbox": _s(PENDING),
        "due": _s(now),
        "created_at": _s(now),
        "finding_id": _s(finding.id),
        "type": _s(change.type),
        "version": _n(version),
        "message": _s(json.dumps(change.to_message(), separators=(",", ":"))),
    }


def _outbox_entry(item: Mapping[str, Any]) -> OutboxEntry:
    message = json.loads(item["message"]["S"])
    key = item[TABLE_KEY]["S"]
    # Entries written before ``version`` was kept carry it as the id's last part.
    version = int(item["version"]["N"]) if "version" in item else int(key.rsplit("#", 1)[1])
    return OutboxEntry(
        key=key,
        change=Change(message["type"], Finding.from_dict(message["finding"])),
        delivered=frozenset(item.get("delivered", {}).get("SS", [])),
        version=version,
    )
