"""The finding store against moto's DynamoDB: lifecycle (SPEC §4), exactly-once changes
under racing audits, the outbox, queries without scans, the topology memory."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
import threading
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import replace
from typing import Any

import boto3
import pytest

from chalicelib.aws.store.findings import FindingStore
from chalicelib.aws.store.items import item_finding
from chalicelib.aws.store.outbox import OutboxEntry
from chalicelib.aws.store.table import INDEXES, MAX_ITEM_BYTES, create_table
from chalicelib.aws.store.transact import StoreConflictError
from chalicelib.core.audit import AuditResult, NotEvaluated, build_finding, iso
from chalicelib.core.checks import REGISTRY
from chalicelib.core.lifecycle import NOTHING_ANNOUNCED, Coverage, resource_vpc_map, transition
from chalicelib.core.model import (
    OPENED,
    REOPENED,
    RESOLVED,
    ClientVpnEndpoint,
    CollectionError,
    EndpointService,
    Finding,
    FlowLog,
    InternetGateway,
    NatGateway,
    NetworkSnapshot,
    Peering,
    PeeringSide,
    RouteTable,
    Severity,
    Subnet,
    TgwAttachment,
    TgwRouteTable,
    TransitGateway,
    Violation,
    VpcEndpoint,
)
from chalicelib.core.policy import Policy
from tests.integration.conftest import ACCOUNT, PEER_ACCOUNT, PEER_REGION, REGION

TABLE = "vpcwatch-findings"
T0 = dt.datetime(2026, 11, 26, 3, 0, tzinfo=dt.UTC)
T1, T2, T3, T4 = (T0 + dt.timedelta(hours=h) for h in (1, 2, 3, 4))
SPECS = {spec.id: spec for spec in REGISTRY}


# ---------------------------------------------------------------------------------
# Fixtures and builders
# ---------------------------------------------------------------------------------


@pytest.fixture
def dynamodb(aws: None) -> Any:
    return boto3.client("dynamodb", region_name=REGION)


@pytest.fixture
def store(dynamodb: Any) -> FindingStore:
    create_table(dynamodb, TABLE)
    return FindingStore(TABLE, dynamodb)


def finding(
    check: str,
    resource_id: str,
    vpc_id: str | None = None,
    *,
    region: str = REGION,
    account: str = ACCOUNT,
    service: str | None = None,
    detail: str = "",
    evidence: dict[str, Any] | None = None,
    severity: Severity | None = None,
) -> Finding:
    evidence = dict(evidence or {})
    if service:
        evidence["service"] = service
    policy = Policy(severity={check: severity} if severity is not None else {})
    violation = Violation(resource_id, vpc_id, detail or f"{check} fails on {resource_id}", evidence)
    return build_finding(SPECS[check], violation, NetworkSnapshot(account, region), policy, iso(T0))


def suppress(f: Finding, reason: str = "policy exemption: sandbox") -> Finding:
    return replace(f, status="SUPPRESSED", reason=reason)


def snapshot(region: str = REGION, **fields: Any) -> NetworkSnapshot:
    return NetworkSnapshot(account_id=ACCOUNT, region=region, **fields)


def audit(
    findings: Iterable[Finding] = (),
    suppressed: Iterable[Finding] = (),
    snapshots: Sequence[NetworkSnapshot] | None = None,
    not_evaluated: Iterable[NotEvaluated] = (),
) -> AuditResult:
    snapshots = tuple(snapshots) if snapshots is not None else (snapshot(),)
    return AuditResult(
        account_id=ACCOUNT,
        regions=tuple(s.region for s in snapshots),
        scope_vpc_ids=tuple(v for s in snapshots for v in s.scope_vpc_ids),
        started_at=iso(T0),
        duration_ms=1,
        snapshots=snapshots,
        findings=tuple(findings),
        suppressed=tuple(suppressed),
        not_evaluated=tuple(not_evaluated),
    )


def kinds(changes: Iterable[Any]) -> dict[str, str]:
    """finding id -> change type (and no finding changed twice)."""
    result: dict[str, str] = {}
    for change in changes:
        assert change.finding.id not in result
        result[change.finding.id] = change.type
    return result


def raw_items(dynamodb: Any, kind: str) -> list[dict[str, Any]]:
    """Test-side inspection only (the store itself never scans)."""
    pages = dynamodb.get_paginator("scan").paginate(TableName=TABLE)
    return [i for page in pages for i in page["Items"] if i.get("kind", {}).get("S") == kind]


FLOW = finding("vpc-flow-logs-enabled", "vpc-a", "vpc-a")
GATEWAY_S3 = finding(
    "private-subnet-gateway-endpoints", "rtb-a", "vpc-a", service="s3", evidence={"subnet_ids": ["s1"]}
)
GATEWAY_DDB = finding("private-subnet-gateway-endpoints", "rtb-b", "vpc-b", service="dynamodb")
TGW = finding("tgw-auto-accept-disabled", "tgw-1")
SERVICE = finding("endpoint-service-trusted-principals", "vpce-svc-1", evidence={"principals": ["*"]})


# ---------------------------------------------------------------------------------
# The table
# ---------------------------------------------------------------------------------


def test_create_table_is_idempotent_and_shared_with_idempotency(dynamodb: Any) -> None:
    assert create_table(dynamodb, TABLE) is True
    assert create_table(dynamodb, TABLE) is False
    table = dynamodb.describe_table(TableName=TABLE)["Table"]
    assert table["KeySchema"] == [{"AttributeName": "id", "KeyType": "HASH"}]
    assert table["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
    assert {i["IndexName"] for i in table["GlobalSecondaryIndexes"]} == set(INDEXES)
    ttl = dynamodb.describe_time_to_live(TableName=TABLE)["TimeToLiveDescription"]
    assert (ttl["TimeToLiveStatus"], ttl["AttributeName"]) == ("ENABLED", "expiration")


def test_create_table_rejects_an_incompatible_table(dynamodb: Any) -> None:
    dynamodb.create_table(
        TableName=TABLE,
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        BillingMode="PAY_PER_REQUEST",
    )
    with pytest.raises(ValueError, match="partition key 'id'"):
        create_table(dynamodb, TABLE)


# ---------------------------------------------------------------------------------
# Lifecycle
# ---------------------------------------------------------------------------------


def test_first_audit_opens_every_finding_and_round_trips_it(store: FindingStore) -> None:
    nested = finding("connected-cidrs-non-overlapping", "vpc-a", "vpc-a", evidence={"pairs": [["a", [1, 2.5]], []]})
    changes = store.reconcile(audit([FLOW, GATEWAY_S3, nested]), T0)

    assert kinds(changes) == {FLOW.id: OPENED, GATEWAY_S3.id: OPENED, nested.id: OPENED}
    stored = store.get(nested.id)
    expected = replace(nested, first_seen=iso(T0), last_seen=iso(T0))
    assert stored == expected
    assert stored is not None and stored.evidence == {"pairs": [["a", [1, 2.5]], []]}
    assert [c.finding for c in changes if c.finding.id == nested.id] == [expected]
    assert store.get("vw-unknown") is None


def test_the_same_audit_again_changes_nothing_but_last_seen(store: FindingStore, dynamodb: Any) -> None:
    store.reconcile(audit([FLOW, GATEWAY_S3]), T0)
    assert store.reconcile(audit([FLOW, GATEWAY_S3]), T0) == []  # a replayed event: not even a write
    assert dynamodb.get_item(TableName=TABLE, Key={"id": {"S": FLOW.id}})["Item"]["version"] == {"N": "1"}

    changed = replace(FLOW, detail="now with more detail", severity=Severity.HIGH, evidence={"k": [1]})
    assert store.reconcile(audit([changed, GATEWAY_S3]), T1) == []

    stored = store.get(FLOW.id)
    assert stored is not None
    assert (stored.first_seen, stored.last_seen, stored.status) == (iso(T0), iso(T1), "OPEN")
    assert (stored.detail, stored.severity, stored.evidence) == ("now with more detail", Severity.HIGH, {"k": [1]})
    assert len(raw_items(dynamodb, "outbox")) == 2  # the two openings only


def test_a_finding_gone_is_resolved_and_reopened_when_it_returns(store: FindingStore) -> None:
    store.reconcile(audit([FLOW, GATEWAY_S3]), T0)

    resolved = store.reconcile(audit([FLOW]), T1)
    assert kinds(resolved) == {GATEWAY_S3.id: RESOLVED}
    assert resolved[0].finding == replace(
        GATEWAY_S3, first_seen=iso(T0), last_seen=iso(T0), status="RESOLVED", resolved_at=iso(T1)
    )
    assert store.get(GATEWAY_S3.id) == resolved[0].finding
    assert store.reconcile(audit([FLOW]), T2) == []  # resolved once

    reopened = store.reconcile(audit([FLOW, GATEWAY_S3]), T3)
    assert kinds(reopened) == {GATEWAY_S3.id: REOPENED}
    assert reopened[0].finding == replace(GATEWAY_S3, first_seen=iso(T0), last_seen=iso(T3))
    assert store.get(GATEWAY_S3.id) == reopened[0].finding


def test_a_scoped_audit_never_resolves_a_finding_of_another_vpc(store: FindingStore) -> None:
    store.reconcile(audit([FLOW, GATEWAY_S3, GATEWAY_DDB]), T0)

    changes = store.reconcile(audit([], snapshots=[snapshot(scope_vpc_ids=("vpc-a",))]), T1)

    assert kinds(changes) == {FLOW.id: RESOLVED, GATEWAY_S3.id: RESOLVED}
    assert store.get(GATEWAY_DDB.id) == replace(GATEWAY_DDB, first_seen=iso(T0), last_seen=iso(T0))


def test_a_vpc_less_finding_is_resolved_by_a_scoped_audit_only_when_it_collected_the_resource(
    store: FindingStore,
) -> None:
    store.reconcile(audit([TGW, SERVICE]), T0)

    assert store.reconcile(audit([], snapshots=[snapshot(scope_vpc_ids=("vpc-a",))]), T1) == []

    # Collected as context (another VPC's gateway) is not evaluated: nothing resolved.
    tgw = TransitGateway("tgw-1", ACCOUNT, "available")
    changes = store.reconcile(audit([], snapshots=[snapshot(scope_vpc_ids=("vpc-a",), transit_gateways=(tgw,))]), T2)
    assert changes == []
    # Attached to the scoped VPC, the gateway is one the scoped audit judges.
    attachment = TgwAttachment("tgw-attach-a", "tgw-1", "vpc", "vpc-a", ACCOUNT, "available")
    scoped = snapshot(scope_vpc_ids=("vpc-a",), transit_gateways=(tgw,), tgw_attachments=(attachment,))
    changes = store.reconcile(audit([], snapshots=[scoped]), T3)
    assert kinds(changes) == {TGW.id: RESOLVED}
    assert store.query(status="OPEN")[0] == [store.get(SERVICE.id)]


@pytest.mark.parametrize(
    ("errors", "not_evaluated"),
    [
        pytest.param(True, True, id="error-and-not-evaluated"),
        pytest.param(True, False, id="collection-error-only"),
        pytest.param(False, True, id="not-evaluated-only"),
    ],
)
def test_missing_data_never_resolves_what_it_decides(store: FindingStore, errors: bool, not_evaluated: bool) -> None:
    delivering = finding("vpc-flow-logs-delivering", "fl-1", "vpc-a")
    store.reconcile(audit([FLOW, delivering, TGW, GATEWAY_S3]), T0)

    error = CollectionError("ec2:DescribeFlowLogs", REGION, "AccessDenied")
    skipped = [
        NotEvaluated(check, REGION, ("ec2:DescribeFlowLogs",))
        for check in ("vpc-flow-logs-enabled", "vpc-flow-logs-traffic-type", "vpc-flow-logs-delivering")
    ]
    result = audit(
        [GATEWAY_S3],
        snapshots=[snapshot(errors=(error,) if errors else ())],
        not_evaluated=skipped if not_evaluated else (),
    )
    changes = store.reconcile(result, T1)

    assert kinds(changes) == {TGW.id: RESOLVED}
    assert {f.id for f in store.query(status="OPEN")[0]} == {FLOW.id, delivering.id, GATEWAY_S3.id}


def test_an_error_in_one_region_does_not_shield_another(store: FindingStore) -> None:
    west_flow = finding("vpc-flow-logs-enabled", "vpc-w", "vpc-w", region=PEER_REGION)
    store.reconcile(audit([FLOW, west_flow], snapshots=[snapshot(), snapshot(PEER_REGION)]), T0)

    error = CollectionError("ec2:DescribeFlowLogs", PEER_REGION, "Throttling")
    skipped = NotEvaluated("vpc-flow-logs-enabled", PEER_REGION, ("ec2:DescribeFlowLogs",))
    result = audit([], snapshots=[snapshot(), snapshot(PEER_REGION, errors=(error,))], not_evaluated=[skipped])

    assert kinds(store.reconcile(result, T1)) == {FLOW.id: RESOLVED}


def test_an_audit_of_some_checks_resolves_only_their_findings(store: FindingStore) -> None:
    store.reconcile(audit([FLOW, TGW, GATEWAY_S3]), T0)
    only = replace(audit([]), checks=("vpc-flow-logs-enabled", "vpc-flow-logs-traffic-type"))
    assert kinds(store.reconcile(only, T1)) == {FLOW.id: RESOLVED}


def test_a_region_or_account_the_audit_did_not_visit_is_left_alone(store: FindingStore) -> None:
    other_account = finding("tgw-auto-accept-disabled", "tgw-9", account=PEER_ACCOUNT)
    west = finding("tgw-auto-accept-disabled", "tgw-8", region=PEER_REGION)
    store.reconcile(audit([FLOW, other_account, west], snapshots=[snapshot(), snapshot(PEER_REGION)]), T0)

    assert kinds(store.reconcile(audit([]), T1)) == {FLOW.id: RESOLVED}
    assert {f.id for f in store.query(status="OPEN")[0]} == {other_account.id, west.id}


def test_suppression_is_silent_and_leaving_it_is_an_opening(store: FindingStore, dynamodb: Any) -> None:
    assert store.reconcile(audit([], [suppress(TGW)]), T0) == []  # first seen suppressed
    assert store.get(TGW.id) == replace(suppress(TGW), first_seen=iso(T0), last_seen=iso(T0))

    store.reconcile(audit([FLOW], [suppress(TGW)]), T0)
    assert store.reconcile(audit([], [suppress(FLOW), suppress(TGW)]), T1) == []  # OPEN -> SUPPRESSED
    stored = store.get(FLOW.id)
    assert stored is not None and (stored.status, stored.reason) == ("SUPPRESSED", "policy exemption: sandbox")

    reopened = store.reconcile(audit([FLOW], [suppress(TGW)]), T2)  # the exemption expired
    assert kinds(reopened) == {FLOW.id: OPENED}
    assert reopened[0].finding == replace(FLOW, first_seen=iso(T0), last_seen=iso(T2))

    assert kinds(store.reconcile(audit([]), T3)) == {FLOW.id: RESOLVED}  # TGW resolved silently
    stored = store.get(TGW.id)
    assert stored is not None and (stored.status, stored.resolved_at, stored.reason) == ("RESOLVED", iso(T3), None)
    announced = Counter(json.loads(i["message"]["S"])["type"] for i in raw_items(dynamodb, "outbox"))
    assert announced == {OPENED: 2, RESOLVED: 1}


def test_a_finding_resolved_while_suppressed_comes_back_opened(store: FindingStore, dynamodb: Any) -> None:
    """Suppression is never announced, so a finding resolved while suppressed was resolved
    silently: when it comes back, nobody heard it resolve (nor, first seen suppressed,
    open), so it is announced opened, not reopened. Each story in a region of its own."""

    def story(region: str, steps: list[tuple[str, ...]]) -> list[str | None]:
        """Each step: "open", "suppressed" or "gone"; the change each audit announced."""
        found = finding("tgw-auto-accept-disabled", "tgw-1", region=region)
        said: list[str | None] = []
        for hour, step in enumerate(steps):
            result = audit(
                [found] if step == ("open",) else [],
                [suppress(found)] if step == ("suppressed",) else [],
                snapshots=[snapshot(region)],
            )
            changes = kinds(store.reconcile(result, T0 + dt.timedelta(hours=hour)))
            said.append(changes.get(found.id))
        return said

    open_, suppressed, gone = ("open",), ("suppressed",), ("gone",)
    # First seen suppressed, resolved silently, back: never heard of, so opened.
    assert story("eu-west-1", [suppressed, gone, open_]) == [None, None, OPENED]
    # Heard open, then suppressed and resolved silently: nobody heard it resolve, so a
    # "reopened" would announce a resolution they never saw: opened, as leaving suppression is.
    assert story("eu-west-2", [open_, suppressed, gone, open_]) == [OPENED, None, None, OPENED]
    # Heard resolved: it comes back reopened, suppressed in between or not.
    assert story("eu-west-3", [open_, gone, open_]) == [OPENED, RESOLVED, REOPENED]
    assert story("eu-north-1", [open_, gone, suppressed, gone, open_]) == [OPENED, RESOLVED, None, None, REOPENED]
    outbox = Counter(i["type"]["S"] for i in raw_items(dynamodb, "outbox"))
    assert outbox == {OPENED: 5, RESOLVED: 2, REOPENED: 2}
    # The FINDING shape is unchanged: what was announced is kept on the item only.
    (item,) = [i for i in raw_items(dynamodb, "finding") if i["region"]["S"] == "eu-north-1"]
    assert item["announced"] == {"S": REOPENED}
    assert "announced" not in item_finding(item).to_dict()


def test_findings_stored_before_announcements_were_kept_behave_as_before(store: FindingStore, dynamodb: Any) -> None:
    """An item without ``announced`` (written by an older version): RESOLVED -> OPEN is a
    reopening, as it always was; an OPEN one is known to have been announced."""
    store.reconcile(audit([FLOW, TGW]), T0)
    store.reconcile(audit([]), T1)
    for finding_id in (FLOW.id, TGW.id):
        dynamodb.update_item(TableName=TABLE, Key={"id": {"S": finding_id}}, UpdateExpression="REMOVE announced")
    assert kinds(store.reconcile(audit([FLOW]), T2)) == {FLOW.id: REOPENED}
    store.reconcile(audit([FLOW], [suppress(TGW)]), T3)  # TGW: RESOLVED -> SUPPRESSED, still unknown
    item = dynamodb.get_item(TableName=TABLE, Key={"id": {"S": TGW.id}})["Item"]
    assert "announced" not in item


def test_reconcile_reads_with_one_query_per_region_and_batched_gets(store: FindingStore, dynamodb: Any) -> None:
    many = [finding("tgw-auto-accept-disabled", f"tgw-{i}") for i in range(150)]
    store.reconcile(audit(many[:120]), T0)
    calls: Counter[str] = Counter()
    dynamodb.meta.events.register("before-call.dynamodb.*", lambda model, **_: calls.update([model.name]))

    changes = store.reconcile(audit(many[20:]), T1)  # 100 stay, 20 resolved, 30 new

    assert Counter(kinds(changes).values()) == {RESOLVED: 20, OPENED: 30}
    assert calls["Query"] == 1
    assert calls["BatchGetItem"] == 1  # the 30 not among the active ones
    assert calls["GetItem"] == calls["Scan"] == 0


def test_an_older_audit_never_undoes_a_newer_one(store: FindingStore) -> None:
    """Ordered by what the newer audit recorded. An audit that only sees a finding again
    records nothing (the cost at rest is none): ``last_seen`` then says when it was last
    written, and an older view is ordered against that (see ``FindingStore.apply``)."""
    store.reconcile(audit([FLOW]), T0)
    store.reconcile(audit([replace(FLOW, detail="seen again, with more detail")]), T2)
    assert store.reconcile(audit([]), T1) == []  # collected before FLOW was last seen
    assert store.reconcile(audit([]), T3) != []
    assert store.reconcile(audit([FLOW]), T2) == []  # resolved by a later audit
    assert kinds(store.reconcile(audit([FLOW]), T4)) == {FLOW.id: REOPENED}
    assert store.reconcile(audit([]), T3) == []  # collected before the reopening


# ---------------------------------------------------------------------------------
# Racing audits
# ---------------------------------------------------------------------------------


class AtomicRequests:
    """The client with each request applied atomically, as DynamoDB applies it. moto applies
    a request without a lock (and rolls a cancelled transaction back by restoring a copy of
    the whole table), so truly concurrent requests could corrupt each other in the emulator.
    Audits still race between requests, which is where the store must hold."""

    def __init__(self, client: Any, lock: threading.Lock) -> None:
        self._client, self._lock = client, lock

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self._client, name)
        if not callable(attribute):
            return attribute

        def call(*args: Any, **kwargs: Any) -> Any:
            with self._lock:
                return attribute(*args, **kwargs)

        return call


def race(dynamodb: Any, result: AuditResult, now: dt.datetime, workers: int = 8) -> list[Any]:
    lock, barrier = threading.Lock(), threading.Barrier(workers)
    changes: list[Any] = []
    errors: list[BaseException] = []

    def run() -> None:
        store = FindingStore(TABLE, AtomicRequests(dynamodb, lock), max_workers=4)
        barrier.wait()
        try:
            found = store.reconcile(result, now)
        except BaseException as error:
            errors.append(error)
            return
        with lock:
            changes.extend(found)

    threads = [threading.Thread(target=run) for _ in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    return changes


def test_racing_audits_make_each_change_once(store: FindingStore, dynamodb: Any) -> None:
    findings = [finding("tgw-auto-accept-disabled", f"tgw-{i}") for i in range(12)]

    def outbox() -> Counter[tuple[str, str]]:
        return Counter((i["finding_id"]["S"], i["type"]["S"]) for i in raw_items(dynamodb, "outbox"))

    opened = race(dynamodb, audit(findings), T0)
    assert Counter(c.type for c in opened) == {OPENED: 12} and len(kinds(opened)) == 12
    assert set(outbox().values()) == {1} and len(outbox()) == 12

    resolved = race(dynamodb, audit(findings[4:]), T1)
    assert kinds(resolved) == {f.id: RESOLVED for f in findings[:4]}

    reopened = race(dynamodb, audit(findings), T2)
    assert kinds(reopened) == {f.id: REOPENED for f in findings[:4]}
    assert set(outbox().values()) == {1} and len(outbox()) == 20
    assert all(store.get(f.id) == replace(f, first_seen=iso(T0), last_seen=iso(T2)) for f in findings)


def test_a_state_change_is_never_recorded_without_its_outbox_entry(store: FindingStore, dynamodb: Any) -> None:
    # An item in the way of the outbox entry cancels the whole transaction, every time.
    dynamodb.put_item(TableName=TABLE, Item={"id": {"S": f"outbox#{FLOW.id}#{OPENED}#1"}})
    with pytest.raises(StoreConflictError):
        store.reconcile(audit([FLOW]), T0)
    assert store.get(FLOW.id) is None


# ---------------------------------------------------------------------------------
# Outbox
# ---------------------------------------------------------------------------------


def test_outbox_hands_out_each_pending_change_once_until_sent(store: FindingStore, dynamodb: Any) -> None:
    opened = store.reconcile(audit([FLOW, GATEWAY_S3, TGW]), T0)
    resolved = store.reconcile(audit([FLOW, GATEWAY_S3]), T1)

    entries = store.pending(now=T1)
    assert [e.change for e in entries] == [*sorted(opened, key=lambda c: c.finding.id), *resolved]
    assert all(isinstance(e, OutboxEntry) and e.key.startswith(f"outbox#{e.change.finding.id}#") for e in entries)
    assert store.pending(now=T1) == []  # claimed by the first caller
    assert store.pending(limit=2, now=T0) == []  # not due before they happened

    for entry in entries[:3]:
        store.mark_sent(entry)
    store.release(entries[3])  # its publish failed: due again at once
    assert [e.key for e in store.pending(now=T1)] == [entries[3].key]

    later = store.pending(now=T1 + dt.timedelta(minutes=10))  # the lease ran out: delivered again
    assert [e.key for e in later] == [entries[3].key]
    store.mark_sent(later[0])
    store.mark_sent(later[0])  # idempotent
    assert store.pending(now=T4) == []
    sent = raw_items(dynamodb, "outbox")
    assert all("outbox" not in i and "due" not in i and "expiration" in i and "sent_at" in i for i in sent)


def test_channels_already_delivered_travel_with_the_entry(store: FindingStore) -> None:
    store.reconcile(audit([FLOW]), T0)
    (entry,) = store.pending(now=T0)
    assert entry.delivered == frozenset()
    store.mark_delivered(entry, "sns")
    store.mark_delivered(entry, "sns")  # a set: idempotent
    store.release(entry)  # another channel failed: due again, knowing SNS has it
    (again,) = store.pending(now=T0)
    assert again.key == entry.key and again.delivered == frozenset({"sns"})
    store.mark_delivered(again, "securityhub")
    store.mark_sent(again)
    assert store.pending(now=T4) == []


def test_pending_pages_through_more_than_limit(store: FindingStore) -> None:
    store.reconcile(audit([finding("tgw-auto-accept-disabled", f"tgw-{i}") for i in range(7)]), T0)
    assert len(store.pending(limit=3, now=T0)) == 3
    assert len(store.pending(limit=10, now=T0)) == 4


def test_a_page_is_claimed_in_one_request_and_a_contended_one_entry_by_entry(
    store: FindingStore, dynamodb: Any
) -> None:
    many = [finding("tgw-auto-accept-disabled", f"tgw-{i}") for i in range(7)]
    store.reconcile(audit(many), T0)
    calls: Counter[str] = Counter()
    dynamodb.meta.events.register("before-call.dynamodb.*", lambda model, **_: calls.update([model.name]))
    first = store.pending(now=T0)
    assert len(first) == 7
    assert calls == {"Query": 1, "TransactWriteItems": 1}
    store.mark_sent_many(first)
    assert calls["TransactWriteItems"] == 2 and store.pending(now=T4) == []  # one claim, one marking sent
    sent = raw_items(dynamodb, "outbox")
    assert len(sent) == 7 and all("outbox" not in i and "due" not in i for i in sent)
    assert all("expiration" in i and "sent_at" in i and "message" in i for i in sent)

    # Another caller claims two of the page between our query and our claim: the
    # transaction is cancelled as a whole, and we claim the five left one at a time.
    store.reconcile(audit([]), T1)  # seven resolutions to announce
    rival = FindingStore(TABLE, boto3.client("dynamodb", region_name=REGION))
    stolen: list[str] = []

    def rival_first(params: dict[str, Any], **kwargs: Any) -> None:
        if not stolen:
            entries = rival.pending(limit=2, now=T1)
            stolen.extend(e.key for e in entries)

    dynamodb.meta.events.register("before-parameter-build.dynamodb.TransactWriteItems", rival_first)
    calls.clear()
    mine = store.pending(now=T1)
    assert len(stolen) == 2 and len(mine) == 5 and not {e.key for e in mine} & set(stolen)
    assert calls == {"Query": 1, "TransactWriteItems": 1, "UpdateItem": 7}
    assert store.pending(now=T1) == []


def test_each_entry_knows_the_state_version_it_announces(store: FindingStore, dynamodb: Any) -> None:
    store.reconcile(audit([FLOW]), T0)  # version 1: opened
    store.reconcile(audit([FLOW, TGW]), T1)  # seen again: not written; TGW opened in the same transaction
    store.reconcile(audit([TGW]), T2)  # version 2 (or 3, when T1 refreshed it): resolved
    version = int(dynamodb.get_item(TableName=TABLE, Key={"id": {"S": FLOW.id}})["Item"]["version"]["N"])
    entries = [e for e in store.pending(now=T2) if e.change.finding.id == FLOW.id]
    assert version > 1
    assert [(e.change.type, e.version, e.dedupe_key) for e in entries] == [
        (OPENED, 1, f"{FLOW.id}#1"),
        (RESOLVED, version, f"{FLOW.id}#{version}"),
    ]
    # An entry written before ``version`` was kept takes it from its id.
    item = dynamodb.get_item(TableName=TABLE, Key={"id": {"S": entries[1].key}})["Item"]
    del item["version"]
    item["due"] = {"S": iso(T2)}
    dynamodb.put_item(TableName=TABLE, Item=item)
    (legacy,) = store.pending(now=T2 + dt.timedelta(minutes=1))  # the others are still claimed
    assert legacy.dedupe_key == f"{FLOW.id}#{version}"


# ---------------------------------------------------------------------------------
# Queries
# ---------------------------------------------------------------------------------


def _landscape(store: FindingStore) -> list[Finding]:
    """Findings over statuses, severities, checks, VPCs, regions; returned as stored."""
    open_east = [
        FLOW,
        GATEWAY_S3,
        GATEWAY_DDB,
        TGW,
        SERVICE,
        finding("vpc-flow-logs-enabled", "vpc-b", "vpc-b", severity=Severity.CRITICAL),
    ]
    gone = finding("routes-no-blackhole", "rtb-c", "vpc-a")
    exempt = finding("peering-cidrs-non-overlapping", "pcx-1", "vpc-b")
    west = finding("vpc-flow-logs-enabled", "vpc-w", "vpc-w", region=PEER_REGION)
    snapshots = [snapshot(), snapshot(PEER_REGION)]
    store.reconcile(audit([*open_east, gone, west], snapshots=snapshots), T0)
    store.reconcile(audit([*open_east, west], [suppress(exempt)], snapshots=snapshots), T1)
    stored = [store.get(f.id) for f in (*open_east, gone, exempt, west)]
    assert all(f is not None for f in stored)
    return [f for f in stored if f is not None]


def _expected(findings: Iterable[Finding], **filters: Any) -> list[str]:
    def matches(f: Finding) -> bool:
        return all(
            getattr(f, name) == (Severity.parse(value) if name == "severity" else value)
            for name, value in filters.items()
        )

    ordered = sorted((f for f in findings if matches(f)), key=lambda f: (f.severity, f.last_seen, f.id), reverse=True)
    return [f.id for f in ordered]


@pytest.mark.parametrize(
    "filters",
    [
        {},
        {"status": "OPEN"},
        {"status": "RESOLVED"},
        {"status": "SUPPRESSED"},
        {"severity": "MEDIUM"},
        {"severity": "high"},
        {"check": "vpc-flow-logs-enabled"},
        {"vpc_id": "vpc-a"},
        {"region": PEER_REGION},
        {"region": REGION, "severity": "HIGH"},
        {"status": "OPEN", "severity": "MEDIUM"},
        {"check": "private-subnet-gateway-endpoints", "vpc_id": "vpc-b"},
        {"check": "vpc-flow-logs-enabled", "region": REGION, "status": "OPEN"},
        {"vpc_id": "vpc-a", "status": "RESOLVED", "severity": "MEDIUM", "region": REGION},
        {"vpc_id": "vpc-a", "status": "SUPPRESSED"},
        {"check": "no-such-check"},
    ],
    ids=lambda filters: "-".join(f"{k}={v}" for k, v in filters.items()) or "all",
)
def test_query_by_each_filter_and_combinations(store: FindingStore, filters: dict[str, str]) -> None:
    stored = _landscape(store)
    found, token = store.query(**filters)  # type: ignore[arg-type]
    assert [f.id for f in found] == _expected(stored, **filters)
    assert token is None
    assert found == [store.get(f.id) for f in found]


def test_query_pages_with_next_token(store: FindingStore) -> None:
    many = [finding("tgw-auto-accept-disabled", f"tgw-{i:03d}", severity=Severity(i % 5)) for i in range(120)]
    many.append(finding("vpc-flow-logs-enabled", "vpc-a", "vpc-a"))
    store.reconcile(audit(many), T0)

    for filters, total in (({}, 121), ({"check": "tgw-auto-accept-disabled", "status": "OPEN"}, 120)):
        seen: list[str] = []
        sizes: list[int] = []
        token: str | None = None
        while True:
            page, token = store.query(limit=50, next_token=token, **filters)  # type: ignore[arg-type]
            seen.extend(f.id for f in page)
            sizes.append(len(page))
            if token is None:
                break
        assert sizes == [50, 50, total - 100]
        assert len(set(seen)) == len(seen) == total
        assert seen == _expected([store.get(i) for i in seen], **filters)  # type: ignore[misc]

    page, token = store.query(severity="CRITICAL", limit=20)  # 24 of them
    assert len(page) == 20 and token is not None
    rest, end = store.query(severity="CRITICAL", limit=20, next_token=token)
    assert [f.severity for f in rest] == [Severity.CRITICAL] * 4 and end is None
    # A page that ends exactly at the last item cannot know it: the next one is empty.
    _, token = store.query(severity="CRITICAL", limit=24)
    assert token is not None and store.query(severity="CRITICAL", limit=24, next_token=token) == ([], None)


@pytest.mark.parametrize(
    "token",
    [
        "not a token!",
        base64.urlsafe_b64encode(b"[1, 2]").decode(),
        base64.urlsafe_b64encode(b'{"id": {"S": "vw-1"}}').decode(),
        base64.urlsafe_b64encode(b"\xff\xfe").decode(),
    ],
)
def test_a_bad_token_is_a_value_error(store: FindingStore, token: str) -> None:
    with pytest.raises(ValueError, match="next_token"):
        store.query(next_token=token)


def test_a_token_of_another_query_is_a_value_error(store: FindingStore) -> None:
    store.reconcile(audit([FLOW, GATEWAY_S3, GATEWAY_DDB]), T0)
    _, token = store.query(check="private-subnet-gateway-endpoints", limit=1)
    assert token is not None
    with pytest.raises(ValueError, match="next_token"):
        store.query(check="vpc-flow-logs-enabled", limit=1, next_token=token)
    with pytest.raises(ValueError, match="next_token"):
        store.query(vpc_id="vpc-a", limit=1, next_token=token)


@pytest.mark.parametrize(
    ("filters", "message"),
    [
        ({"status": "open"}, "status"),
        ({"severity": "SEVERE"}, "severity"),
        ({"limit": 0}, "limit"),
        ({"vpc_id": ""}, "vpc_id"),
    ],
)
def test_bad_filters_are_value_errors(store: FindingStore, filters: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        store.query(**filters)


@pytest.mark.filterwarnings("ignore:Couldn't determine the remaining time left")
def test_idempotency_records_in_the_table_never_show_up(store: FindingStore, dynamodb: Any) -> None:
    from aws_lambda_powertools.utilities.idempotency import (
        DynamoDBPersistenceLayer,
        IdempotencyConfig,
        idempotent_function,
    )

    layer = DynamoDBPersistenceLayer(table_name=TABLE, boto3_client=dynamodb)

    @idempotent_function(data_keyword_argument="event", persistence_store=layer, config=IdempotencyConfig())
    def handle(event: dict[str, Any]) -> dict[str, Any]:
        return {"handled": event["id"]}

    handle(event={"id": "evt-1"})
    handle(event={"id": "evt-1"})  # served from the record
    for status in ("INPROGRESS", "OPEN", "RESOLVED"):  # hand-made look-alikes too
        item = {
            "id": {"S": f"foreign#{status}"},
            "status": {"S": status},
            "expiration": {"N": "1"},
            "data": {"S": "{}"},
        }
        dynamodb.put_item(TableName=TABLE, Item=item)
    store.reconcile(audit([FLOW, TGW]), T0)
    store.reconcile(audit([FLOW]), T1)

    assert {f.id for f in store.query()[0]} == {FLOW.id, TGW.id}
    assert [f.id for f in store.query(status="OPEN")[0]] == [FLOW.id]
    assert [f.id for f in store.query(status="RESOLVED")[0]] == [TGW.id]
    assert store.get("foreign#OPEN") is None
    assert len([i for i in dynamodb.scan(TableName=TABLE)["Items"] if "data" in i and "kind" not in i]) == 4


# ---------------------------------------------------------------------------------
# Topology memory
# ---------------------------------------------------------------------------------


def test_topology_memory_replaces_on_full_audits_and_merges_scoped_ones(store: FindingStore) -> None:
    assert store.resource_vpcs(ACCOUNT, REGION) == {}
    store.remember_resources(ACCOUNT, REGION, {"rtb-1": "vpc-a", "subnet-1": "vpc-a"}, replace=True)
    store.remember_resources(ACCOUNT, REGION, {"fl-1": "vpc-b", "rtb-1": "vpc-c"}, replace=False)
    assert store.resource_vpcs(ACCOUNT, REGION) == {"rtb-1": "vpc-c", "subnet-1": "vpc-a", "fl-1": "vpc-b"}

    store.remember_resources(ACCOUNT, REGION, {"nat-1": "vpc-d"}, replace=True)
    assert store.resource_vpcs(ACCOUNT, REGION) == {"nat-1": "vpc-d"}
    assert store.resource_vpcs(ACCOUNT, PEER_REGION) == {}
    assert store.query() == ([], None)


def resource_id(prefix: str, n: int) -> str:
    return f"{prefix}-{hashlib.sha256(f'{prefix}{n}'.encode()).hexdigest()[:17]}"


def big_topology(resources: int, vpcs: int = 2000) -> dict[str, str]:
    """``resources`` ids of every remembered kind, AWS-shaped, over ``vpcs`` VPCs."""
    vpc_ids = [resource_id("vpc", n) for n in range(vpcs)]
    prefixes = ("subnet", "rtb", "vpce", "nat", "fl", "tgw-attach", "pcx", "igw", "cvpn-endpoint")
    return {resource_id(prefixes[n % len(prefixes)], n): vpc_ids[n % vpcs] for n in range(resources)}


def count_requests(dynamodb: Any) -> Counter[str]:
    calls: Counter[str] = Counter()
    dynamodb.meta.events.register("before-call.dynamodb.*", lambda model, **_: calls.update([model.name]))
    return calls


def topology_items(dynamodb: Any) -> list[dict[str, Any]]:
    return raw_items(dynamodb, "topology") + raw_items(dynamodb, "topology-shard")


def test_topology_memory_holds_100k_resources_and_an_event_reads_only_its_shard(
    store: FindingStore, dynamodb: Any
) -> None:
    mapping = big_topology(100_000)
    assert store.remember_resources(ACCOUNT, REGION, mapping, replace=True) is True

    items = topology_items(dynamodb)
    assert all(len(json.dumps(i, default=str)) < MAX_ITEM_BYTES for i in items)  # base64 of B: an upper bound
    (head,) = [i for i in items if i["kind"]["S"] == "topology"]
    assert int(head["resources"]["N"]) == 100_000 and int(head["shards"]["N"]) == len(items) - 1
    assert store.resource_vpcs(ACCOUNT, REGION) == mapping

    calls = count_requests(dynamodb)
    one = next(iter(mapping))
    memory = store.resource_vpcs(ACCOUNT, REGION, [one])
    assert memory[one] == mapping[one]
    assert calls == {"GetItem": 2}  # the head, the one shard
    calls.clear()
    several = list(mapping)[:5]
    memory = store.resource_vpcs(ACCOUNT, REGION, several)
    assert {i: memory[i] for i in several} == {i: mapping[i] for i in several}
    assert calls == {"GetItem": 1, "BatchGetItem": 1}  # the head, the shards of those five
    assert memory.get("subnet-unknown") is None  # another id: its shard is read when asked about


def test_an_unchanged_topology_is_not_written_again_and_a_change_rewrites_one_shard(
    store: FindingStore, dynamodb: Any
) -> None:
    mapping = big_topology(100_000)
    store.remember_resources(ACCOUNT, REGION, mapping, replace=True)
    before = {i["id"]["S"] for i in topology_items(dynamodb)}
    calls = count_requests(dynamodb)

    assert store.remember_resources(ACCOUNT, REGION, dict(mapping), replace=True) is False
    assert calls == {"GetItem": 1}  # the head's digests tell: nothing read, nothing written

    calls.clear()
    gone = next(iter(mapping))
    changed = {k: v for k, v in mapping.items() if k != gone}
    assert store.remember_resources(ACCOUNT, REGION, changed, replace=True) is True
    assert calls == {"GetItem": 1, "TransactWriteItems": 1}
    after = {i["id"]["S"] for i in topology_items(dynamodb)}
    assert len(after - before) == 1 and len(before - after) == 1  # one shard replaced, the head kept
    assert store.resource_vpcs(ACCOUNT, REGION) == changed


def test_an_event_merges_into_the_shard_it_read(store: FindingStore, dynamodb: Any) -> None:
    mapping = big_topology(50_000)
    store.remember_resources(ACCOUNT, REGION, mapping, replace=True)
    new = {resource_id("subnet", 10**6): "vpc-new", next(iter(mapping)): mapping[next(iter(mapping))]}
    memory = store.resource_vpcs(ACCOUNT, REGION, list(new))  # as the event's lookup reads it
    calls = count_requests(dynamodb)

    assert store.remember_resources(ACCOUNT, REGION, new, replace=False, known=memory) is True
    assert calls == {"TransactWriteItems": 1}  # nothing read again
    calls.clear()
    again = store.resource_vpcs(ACCOUNT, REGION, list(new))
    assert store.remember_resources(ACCOUNT, REGION, new, replace=False, known=again) is False
    assert calls["TransactWriteItems"] == calls["PutItem"] == 0
    assert store.resource_vpcs(ACCOUNT, REGION) == {**mapping, **new}


def test_the_topology_moves_between_the_head_and_shards(store: FindingStore, dynamodb: Any) -> None:
    small, large = big_topology(100, vpcs=10), big_topology(20_000)
    for mapping in (small, large, small, {}):
        store.remember_resources(ACCOUNT, REGION, mapping, replace=True)
        assert store.resource_vpcs(ACCOUNT, REGION) == mapping
        shards = raw_items(dynamodb, "topology-shard")
        assert (len(shards) > 0) == (mapping is large)  # none left behind


def test_a_topology_written_before_shards_is_read_and_kept(store: FindingStore, dynamodb: Any) -> None:
    from chalicelib.aws.store.memory import pack_topology

    mapping = {"subnet-1": "vpc-a", "rtb-1": "vpc-a"}
    item = {
        "id": {"S": f"topology#{ACCOUNT}#{REGION}"},
        "kind": {"S": "topology"},
        "data": {"B": pack_topology(mapping)},
        "resources": {"N": "2"},
        "updated_at": {"S": iso(T0)},
        "version": {"N": "3"},
    }
    dynamodb.put_item(TableName=TABLE, Item=item)
    assert store.resource_vpcs(ACCOUNT, REGION, ["subnet-1"]) == mapping
    assert store.remember_resources(ACCOUNT, REGION, dict(mapping), replace=True) is False
    assert store.remember_resources(ACCOUNT, REGION, {"nat-1": "vpc-b"}, replace=False) is True
    assert store.resource_vpcs(ACCOUNT, REGION) == {**mapping, "nat-1": "vpc-b"}


def test_concurrent_merges_into_shards_lose_nothing(dynamodb: Any) -> None:
    create_table(dynamodb, TABLE)
    base = big_topology(20_000)
    FindingStore(TABLE, dynamodb).remember_resources(ACCOUNT, REGION, base, replace=True)
    lock, barrier = threading.Lock(), threading.Barrier(6)

    def merge(n: int) -> None:
        store = FindingStore(TABLE, AtomicRequests(dynamodb, lock))
        barrier.wait()
        store.remember_resources(ACCOUNT, REGION, {resource_id("subnet", 10**6 + n): f"vpc-{n}"}, replace=False)

    threads = [threading.Thread(target=merge, args=(n,)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    merged = {**base, **{resource_id("subnet", 10**6 + n): f"vpc-{n}" for n in range(6)}}
    assert FindingStore(TABLE, dynamodb).resource_vpcs(ACCOUNT, REGION) == merged


def test_concurrent_merges_lose_nothing(dynamodb: Any) -> None:
    create_table(dynamodb, TABLE)
    lock, barrier = threading.Lock(), threading.Barrier(6)

    def merge(n: int) -> None:
        store = FindingStore(TABLE, AtomicRequests(dynamodb, lock))
        barrier.wait()
        store.remember_resources(ACCOUNT, REGION, {f"subnet-{n}": f"vpc-{n}"}, replace=False)

    threads = [threading.Thread(target=merge, args=(n,)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert FindingStore(TABLE, dynamodb).resource_vpcs(ACCOUNT, REGION) == {f"subnet-{n}": f"vpc-{n}" for n in range(6)}


def test_resource_vpc_map_of_a_snapshot() -> None:
    local = PeeringSide("vpc-a", ACCOUNT, REGION, ("10.0.0.0/16",))
    remote = PeeringSide("vpc-p", PEER_ACCOUNT, REGION, ("10.9.0.0/16",))
    snap = snapshot(
        subnets=(Subnet("subnet-1", "vpc-a", ACCOUNT, "10.0.0.0/24"),),
        route_tables=(RouteTable("rtb-1", "vpc-a", ACCOUNT, True, (), ()),),
        internet_gateways=(InternetGateway("igw-1", ("vpc-a",)), InternetGateway("igw-2", ())),
        nat_gateways=(NatGateway("nat-1", "vpc-a", "subnet-1", "available"),),
        flow_logs=(
            FlowLog("fl-1", "vpc-b", "ALL", "ACTIVE"),
            FlowLog("fl-2", "subnet-1", "ALL", "ACTIVE"),
            FlowLog("fl-3", "eni-1", "ALL", "ACTIVE"),
            FlowLog("fl-4", "tgw-attach-1", None, "ACTIVE"),
            FlowLog("fl-5", "tgw-1", None, "ACTIVE"),
        ),
        vpc_endpoints=(VpcEndpoint("vpce-1", "vpc-a", "com.amazonaws.us-east-1.s3", "Gateway", "available"),),
        endpoint_services=(EndpointService("vpce-svc-1", "svc", False, ()),),
        peerings=(
            Peering("pcx-1", "active", requester=local, accepter=remote),
            Peering("pcx-2", "active", requester=remote, accepter=local),
        ),
        tgw_attachments=(
            TgwAttachment("tgw-attach-1", "tgw-1", "vpc", "vpc-c", ACCOUNT, "available"),
            TgwAttachment("tgw-attach-2", "tgw-1", "vpn", "vpn-1", ACCOUNT, "available"),
        ),
        tgw_route_tables=(TgwRouteTable("tgw-rtb-1", "tgw-1"),),
        client_vpn_endpoints=(
            ClientVpnEndpoint("cvpn-endpoint-1", "vpc-d", True),
            ClientVpnEndpoint("cvpn-endpoint-2", None, True),
        ),
    )
    assert resource_vpc_map(snap) == {
        "subnet-1": "vpc-a",
        "rtb-1": "vpc-a",
        "igw-1": "vpc-a",
        "nat-1": "vpc-a",
        "fl-1": "vpc-b",
        "fl-2": "vpc-a",
        "fl-4": "vpc-c",
        "vpce-1": "vpc-a",
        "pcx-1": "vpc-a",
        "pcx-2": "vpc-a",  # the side in this account and region
        "tgw-attach-1": "vpc-c",
        "cvpn-endpoint-1": "vpc-d",
    }


# ---------------------------------------------------------------------------------
# Pure rules
# ---------------------------------------------------------------------------------

NOW = iso(T1)
SEEN = replace(FLOW, first_seen=iso(T0), last_seen=iso(T0))


GONE = replace(SEEN, status="RESOLVED", resolved_at=iso(T0))
NONE = NOTHING_ANNOUNCED


@pytest.mark.parametrize(
    ("current", "announced", "observed", "change", "status", "heard"),
    [
        (None, None, FLOW, OPENED, "OPEN", OPENED),
        (None, None, suppress(FLOW), None, "SUPPRESSED", NONE),
        (None, None, None, None, None, None),
        (SEEN, OPENED, FLOW, None, "OPEN", OPENED),
        (SEEN, OPENED, suppress(FLOW), None, "SUPPRESSED", OPENED),
        (SEEN, REOPENED, None, RESOLVED, "RESOLVED", RESOLVED),
        (SEEN, None, suppress(FLOW), None, "SUPPRESSED", OPENED),  # older item: OPEN was announced
        (suppress(SEEN), NONE, FLOW, OPENED, "OPEN", OPENED),
        (suppress(SEEN), RESOLVED, FLOW, OPENED, "OPEN", OPENED),  # leaving suppression is an opening
        (suppress(SEEN), NONE, suppress(FLOW), None, "SUPPRESSED", NONE),
        (suppress(SEEN), NONE, None, None, "RESOLVED", NONE),  # resolved silently
        (suppress(SEEN), OPENED, None, None, "RESOLVED", OPENED),  # resolved silently
        (GONE, RESOLVED, FLOW, REOPENED, "OPEN", REOPENED),  # they heard it resolve
        (GONE, NONE, FLOW, OPENED, "OPEN", OPENED),  # suppressed, resolved, back: never heard open
        (GONE, OPENED, FLOW, OPENED, "OPEN", OPENED),  # heard open, resolution silent
        (GONE, REOPENED, FLOW, OPENED, "OPEN", OPENED),
        (GONE, None, FLOW, REOPENED, "OPEN", REOPENED),  # older item: as it always was
        (GONE, RESOLVED, suppress(FLOW), None, "SUPPRESSED", RESOLVED),
        (GONE, RESOLVED, None, None, None, None),
        (replace(SEEN, last_seen=iso(T2)), OPENED, None, None, None, None),  # a newer audit saw it
        (
            replace(SEEN, status="RESOLVED", resolved_at=iso(T2)),
            RESOLVED,
            FLOW,
            None,
            None,
            None,
        ),  # a newer one resolved it
    ],
)
def test_transition(
    current: Finding | None,
    announced: str | None,
    observed: Finding | None,
    change: str | None,
    status: str | None,
    heard: str | None,
) -> None:
    step = transition(current, observed, NOW, announced)
    if status is None:
        assert step is None
        return
    assert step is not None
    assert (step.change, step.finding.status, step.announced) == (change, status, heard)
    assert step.finding.first_seen == (current.first_seen if current else NOW)
    assert step.finding.resolved_at == (NOW if status == "RESOLVED" else None)
    assert step.finding.reason == ("policy exemption: sandbox" if status == "SUPPRESSED" else None)


def test_coverage_unknown_check_is_never_resolved() -> None:
    coverage = Coverage.of(snapshot())
    assert coverage.covers(FLOW)
    assert not coverage.covers(replace(FLOW, check="retired-check"))
    assert not coverage.covers(replace(FLOW, region=PEER_REGION))
