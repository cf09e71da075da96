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
            ``outbox`` = ``PENDING`` and ``due`` while it waits; once sent they are
            removed and the item expires through the TTL.
- topology  ``id`` = ``topology#<account>#<region>``: resource id -> VPC id, gzipped JSON.

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
import json
import random
import time
from collections import defaultdict
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from chalicelib.audit import AuditResult, NotEvaluated, iso
from chalicelib.checks import REGISTRY
from chalicelib.model import OPENED, REOPENED, RESOLVED, Change, Finding, NetworkSnapshot, Severity

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
PENDING = "PENDING"
NOTHING_ANNOUNCED = "none"  # ``announced`` of a finding no change of which was announced yet
OUTBOX_PAGE = 100  # outbox entries claimed at once
MAX_TRANSACTION_ITEMS = 100  # TransactWriteItems' maximum

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

# Reasons of a cancelled transaction that mean "someone else wrote first": re-read, retry.
_RETRYABLE_REASONS = frozenset({"None", "ConditionalCheckFailed", "TransactionConflict", "ThrottlingError"})

Item = dict[str, Any]  # a low-level DynamoDB item: attribute -> {"S": ...} / {"N": ...} / {"B": ...}


class StoreConflictError(RuntimeError):
    """A write lost the optimistic lock MAX_ATTEMPTS times in a row."""


class _Conflict(Exception):
    """Internal: the condition of a write failed; re-read and decide again."""


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
    item: Mapping[str, Any] = field(default_factory=dict, compare=False, repr=False)  # as claimed

    @property
    def dedupe_key(self) -> str:
        """The same for every publish of this change (``<finding id>#<version>``)."""
        from chalicelib.notify import dedupe_key

        return dedupe_key(self.change.finding.id, self.version)


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
        transaction with the outbox entry that announces it."""
        stamp = iso(now)
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

        def settle(task: tuple[str, Stored | None, Finding | None]) -> Change | None:
            return self._settle(*task, stamp)

        if self._max_workers == 1:
            changes = [settle(task) for task in tasks]
        else:
            with ThreadPoolExecutor(max_workers=self._max_workers) as pool:
                changes = list(pool.map(settle, tasks))
        return [c for c in changes if c is not None]

    def _settle(self, finding_id: str, stored: Stored | None, observed: Finding | None, now: str) -> Change | None:
        """Apply the audit's view of one finding; on a lost race re-read and decide again,
        so the loser of a transition makes no Change (it finds the transition done)."""
        for attempt in range(MAX_ATTEMPTS):
            step = transition(stored.finding if stored else None, observed, now, stored.announced if stored else None)
            if step is None:
                return None
            try:
                self._write(step, stored.version if stored else None, now)
            except _Conflict:
                if attempt:
                    _backoff(attempt)
                stored = self._get_stored(finding_id)
                continue
            return Change(step.change, step.finding) if step.change else None
        raise StoreConflictError(f"finding {finding_id}: {MAX_ATTEMPTS} conflicting writes in a row")

    def _write(self, step: Transition, expected_version: int | None, now: str) -> None:
        version = (expected_version or 0) + 1
        put: dict[str, Any] = {
            "TableName": self.table_name,
            "Item": finding_item(step.finding, version, step.announced),
        }
        if expected_version is None:
            put["ConditionExpression"] = "attribute_not_exists(#id)"
            put["ExpressionAttributeNames"] = {"#id": TABLE_KEY}
        else:
            put["ConditionExpression"] = "#v = :v"
            put["ExpressionAttributeNames"] = {"#v": "version"}
            put["ExpressionAttributeValues"] = {":v": _n(expected_version)}
        if step.change is None:
            try:
                self._ddb.put_item(**put)
            except ClientError as error:
                if _code(error) == "ConditionalCheckFailedException":
                    raise _Conflict from error
                raise
            return
        outbox: dict[str, Any] = {
            "TableName": self.table_name,
            "Item": _outbox_item(Change(step.change, step.finding), version, now),
            "ConditionExpression": "attribute_not_exists(#id)",
            "ExpressionAttributeNames": {"#id": TABLE_KEY},
        }
        # No ClientRequestToken: two racing audits would send the same token for the same
        # transition, and DynamoDB would report success to both, announcing it twice.
        try:
            transact: list[Any] = [{"Put": put}, {"Put": outbox}]
            self._ddb.transact_write_items(TransactItems=transact)
        except ClientError as error:
            if _code(error) != "TransactionCanceledException":
                raise
            reasons = {str(r.get("Code", "None")) for r in error.response.get("CancellationReasons", [])}
            if reasons and reasons <= _RETRYABLE_REASONS:
                raise _Conflict from error
            raise

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
        for start in range(0, len(items), MAX_TRANSACTION_ITEMS):
            chunk = items[start : start + MAX_TRANSACTION_ITEMS]
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

    def mark_sent_all(self, entries: Sequence[OutboxEntry]) -> None:
        """``mark_sent`` of many entries, 25 a BatchWriteItem request: each claimed entry is
        written back as sent (no condition needed: this caller holds its claim, and an
        entry a late duplicate marks sent again was sent)."""
        moment = self._clock()
        expires = _n(int((moment + SENT_RETENTION).timestamp()))
        puts: list[dict[str, Any]] = []
        for entry in entries:
            if not entry.item:
                self.mark_sent(entry)
                continue
            item = {k: v for k, v in entry.item.items() if k not in ("outbox", "due")}
            item.update(sent_at=_s(iso(moment)), **{TTL_ATTRIBUTE: expires})
            puts.append({"PutRequest": {"Item": item}})
        for start in range(0, len(puts), 25):
            request: dict[str, Any] = {self.table_name: puts[start : start + 25]}
            attempt = 0
            while request:
                response = self._ddb.batch_write_item(RequestItems=request)
                request = dict(response.get("UnprocessedItems") or {})
                if request:
                    _backoff(attempt)
                    attempt += 1

    def mark_sent(self, entry: OutboxEntry) -> None:
        """The change was published: it leaves the outbox and expires through the TTL."""
        moment = self._clock()
        expires = int((moment + SENT_RETENTION).timestamp())
        try:
            self._ddb.update_item(
                TableName=self.table_name,
                Key={TABLE_KEY: _s(entry.key)},
                UpdateExpression="SET #sent = :sent, #exp = :exp REMOVE #o, #due",
                ConditionExpression="attribute_exists(#id)",
                ExpressionAttributeNames={
                    "#sent": "sent_at",
                    "#exp": TTL_ATTRIBUTE,
                    "#o": "outbox",
                    "#due": "due",
                    "#id": TABLE_KEY,
                },
                ExpressionAttributeValues={":sent": _s(iso(moment)), ":exp": _n(expires)},
            )
        except ClientError as error:
            if _code(error) != "ConditionalCheckFailedException":  # already expired: nothing to mark
                raise

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
    def remember_resources(self, account_id: str, region: str, mapping: Mapping[str, str], replace: bool) -> None:
        """Store resource id -> VPC id for one account and region: ``replace`` for a full
        audit (what it did not see is gone), merged otherwise (a scoped audit saw only part).
        Optimistic: a concurrent writer makes this one re-read and merge again."""
        key = _s(f"topology#{account_id}#{region}")
        for attempt in range(MAX_ATTEMPTS):
            response = self._ddb.get_item(TableName=self.table_name, Key={TABLE_KEY: key}, ConsistentRead=True)
            current = response.get("Item")
            known = unpack_topology(bytes(current["data"]["B"])) if current else {}
            merged = dict(mapping) if replace else {**known, **mapping}
            if current is not None and merged == known:
                return
            blob = pack_topology(merged)
            if len(blob) > MAX_ITEM_BYTES - 1024:
                raise ValueError(f"topology of {account_id}/{region} is too large to store ({len(blob)} bytes)")
            put: dict[str, Any] = {
                "TableName": self.table_name,
                "Item": {
                    TABLE_KEY: key,
                    "kind": _s(KIND_TOPOLOGY),
                    "data": {"B": blob},
                    "resources": _n(len(merged)),
                    "updated_at": _s(iso(self._clock())),
                    "version": _n(int(current["version"]["N"]) + 1 if current else 1),
                },
            }
            if current is None:
                put["ConditionExpression"] = "attribute_not_exists(#id)"
                put["ExpressionAttributeNames"] = {"#id": TABLE_KEY}
            else:
                put["ConditionExpression"] = "#v = :v"
                put["ExpressionAttributeNames"] = {"#v": "version"}
                put["ExpressionAttributeValues"] = {":v": current["version"]}
            try:
                self._ddb.put_item(**put)
                return
            except ClientError as error:
                if _code(error) != "ConditionalCheckFailedException":
                    raise
                _backoff(attempt)
        raise StoreConflictError(f"topology of {account_id}/{region}: {MAX_ATTEMPTS} conflicting writes in a row")

    def resource_vpcs(self, account_id: str, region: str) -> dict[str, str]:
        response = self._ddb.get_item(
            TableName=self.table_name, Key={TABLE_KEY: _s(f"topology#{account_id}#{region}")}, ConsistentRead=True
        )
        item = response.get("Item")
        return unpack_topology(bytes(item["data"]["B"])) if item else {}


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
        item=item,
    )
