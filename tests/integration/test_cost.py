"""What the store and the pipeline cost, in AWS requests, counted by operation with a
botocore ``before-call`` handler against moto (issue 9): an unchanged re-audit writes
nothing; what one audit changes is written in as few transactions as it fits; a route
change is a handful of requests; remembering resources never holds up publishing."""

from __future__ import annotations

import datetime as dt
import json
import logging
from collections import Counter
from dataclasses import dataclass, replace
from typing import Any

import boto3
import pytest

from chalicelib.aws.session import make_client
from chalicelib.aws.settings import Settings
from chalicelib.aws.store.findings import FindingStore
from chalicelib.aws.store.planning import LAST_SEEN_REFRESH
from chalicelib.aws.store.table import create_table
from chalicelib.aws.store.transact import StoreConflictError
from chalicelib.core.audit import iso
from chalicelib.core.model import OPENED, REOPENED, RESOLVED
from chalicelib.service.pipelines import Service
from tests.integration.conftest import REGION
from tests.integration.test_store import T0, T1, TABLE, audit, finding, kinds, raw_items
from vpcwatch_tools.lab import cloudtrail_event, remove_default_vpc
from vpcwatch_tools.provision import provision

DYNAMODB_WRITES = frozenset({"PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem", "TransactWriteItems"})
DYNAMODB_READS = frozenset({"GetItem", "BatchGetItem", "Query", "Scan", "TransactGetItems"})


class Requests:
    """Every request made through the clients it is registered on, as service:Operation."""

    def __init__(self) -> None:
        self.calls: Counter[str] = Counter()

    def __call__(self, model: Any, **kwargs: Any) -> None:
        self.calls[f"{model.service_model.service_name}:{model.name}"] += 1

    def of(self, service: str) -> Counter[str]:
        return Counter({k.split(":")[1]: v for k, v in self.calls.items() if k.startswith(f"{service}:")})

    @property
    def total(self) -> int:
        return sum(self.calls.values())


def tgw_findings(n: int, offset: int = 0) -> list[Any]:
    return [finding("tgw-auto-accept-disabled", f"tgw-{i:04d}") for i in range(offset, offset + n)]


@pytest.fixture
def dynamodb(aws: None) -> Any:
    client = boto3.client("dynamodb", region_name=REGION)
    create_table(client, TABLE)
    return client


@pytest.fixture
def requests(dynamodb: Any) -> Requests:
    counter = Requests()
    dynamodb.meta.events.register("before-call.dynamodb.*", counter)
    return counter


# ---------------------------------------------------------------------------------
# The store
# ---------------------------------------------------------------------------------


def test_an_unchanged_audit_writes_nothing(dynamodb: Any, requests: Requests) -> None:
    store = FindingStore(TABLE, dynamodb)
    findings = tgw_findings(150)
    store.reconcile(audit(findings), T0)
    requests.calls.clear()

    for hours in (1, 12, 23):
        assert store.reconcile(audit(findings), T0 + dt.timedelta(hours=hours)) == []
    assert requests.of("dynamodb") == {"Query": 3}  # one read of the active findings each
    assert all(f.last_seen == iso(T0) for f in store.query(limit=1000)[0])


def test_last_seen_is_refreshed_once_a_day_in_transactions_of_a_hundred(dynamodb: Any, requests: Requests) -> None:
    store = FindingStore(TABLE, dynamodb)
    findings = tgw_findings(150)
    store.reconcile(audit(findings[:100]), T0)
    store.reconcile(audit(findings), T0 + dt.timedelta(hours=20))  # 50 more, seen later
    requests.calls.clear()

    day = T0 + LAST_SEEN_REFRESH
    assert store.reconcile(audit(findings), day) == []
    assert requests.of("dynamodb") == {"Query": 1, "TransactWriteItems": 2}  # all 150, in step again
    assert {f.last_seen for f in store.query(limit=1000)[0]} == {iso(day)}
    assert len(raw_items(dynamodb, "outbox")) == 150  # the openings only: a refresh announces nothing
    requests.calls.clear()
    assert store.reconcile(audit(findings), day + dt.timedelta(hours=23)) == []
    assert requests.of("dynamodb") == {"Query": 1}


def test_the_changes_of_an_audit_are_written_in_as_few_transactions_as_fit(dynamodb: Any, requests: Requests) -> None:
    store = FindingStore(TABLE, dynamodb)
    findings = tgw_findings(120)

    opened = store.reconcile(audit(findings), T0)

    assert Counter(kinds(opened).values()) == {OPENED: 120}
    # 240 items (each change with its outbox entry): three transactions of at most 100.
    assert requests.of("dynamodb") == {"Query": 1, "BatchGetItem": 2, "TransactWriteItems": 3}
    outbox = Counter(i["finding_id"]["S"] for i in raw_items(dynamodb, "outbox"))
    assert set(outbox) == {f.id for f in findings} and set(outbox.values()) == {1}


def test_refreshes_ride_along_where_a_transaction_has_room(dynamodb: Any, requests: Requests) -> None:
    store = FindingStore(TABLE, dynamodb)
    findings = tgw_findings(3)
    store.reconcile(audit(findings), T0)
    requests.calls.clear()

    assert kinds(store.reconcile(audit(findings[1:]), T1)) == {findings[0].id: RESOLVED}

    assert requests.of("dynamodb") == {"Query": 1, "TransactWriteItems": 1}
    assert [store.get(f.id).last_seen for f in findings[1:]] == [iso(T1), iso(T1)]  # type: ignore[union-attr]


def test_claimed_entries_are_the_callers_until_their_lease_ends(dynamodb: Any) -> None:
    clock = {"now": T1}
    store = FindingStore(TABLE, dynamodb, clock=lambda: clock["now"])
    findings = tgw_findings(3)

    recorded = store.apply(audit(findings), T0, claim=dt.timedelta(minutes=5))

    assert [e.change for e in recorded.claimed] == recorded.changes and len(recorded.changes) == 3
    assert all(e.key == f"outbox#{e.change.finding.id}#{OPENED}#1" for e in recorded.claimed)
    assert store.pending(now=T1) == []  # claimed: nobody else publishes them meanwhile
    store.mark_sent_many(recorded.claimed[:2])
    late = store.pending(now=T1 + dt.timedelta(minutes=6))  # the caller died before the third
    assert [e.key for e in late] == [recorded.claimed[2].key]


def test_a_lost_race_in_a_batch_does_not_hold_up_the_others(dynamodb: Any) -> None:
    store = FindingStore(TABLE, dynamodb)
    findings = tgw_findings(5)
    stuck = findings[2]
    # An item in the way of one outbox entry cancels every transaction holding it.
    dynamodb.put_item(TableName=TABLE, Item={"id": {"S": f"outbox#{stuck.id}#{OPENED}#1"}})

    with pytest.raises(StoreConflictError):
        store.reconcile(audit(findings), T0)

    assert store.get(stuck.id) is None
    others = [f for f in findings if f is not stuck]
    assert all(store.get(f.id) is not None for f in others)
    assert {i["finding_id"]["S"] for i in raw_items(dynamodb, "outbox") if "finding_id" in i} == {f.id for f in others}


def test_a_batch_that_lost_a_race_is_decided_again_finding_by_finding(dynamodb: Any) -> None:
    """Another audit (collected earlier) resolves a finding between this audit's reads and
    its transaction: the transaction is refused, each finding re-read and decided again,
    so this audit reopens it, and every change is recorded and announced once."""
    store = FindingStore(TABLE, dynamodb)
    findings = tgw_findings(4)
    store.reconcile(audit(findings), T0)
    other = FindingStore(TABLE, boto3.client("dynamodb", region_name=REGION))
    raced: list[Any] = []

    def interfere(**kwargs: Any) -> None:
        if not raced:
            raced.extend(other.reconcile(audit(findings[1:]), T1))

    dynamodb.meta.events.register("before-call.dynamodb.TransactWriteItems", interfere)
    seen = [replace(f, detail="seen again, differently") for f in findings]
    changes = store.reconcile(audit(seen), T1 + dt.timedelta(hours=1))

    assert kinds(raced) == {findings[0].id: RESOLVED}
    assert kinds(changes) == {findings[0].id: REOPENED}
    assert all(store.get(f.id).detail == "seen again, differently" for f in findings)  # type: ignore[union-attr]
    announced = Counter((i["finding_id"]["S"], i["type"]["S"]) for i in raw_items(dynamodb, "outbox"))
    assert set(announced.values()) == {1} and len(announced) == 6  # four openings, one resolution, one reopening


# ---------------------------------------------------------------------------------
# The pipeline: a sweep and an event, every request counted
# ---------------------------------------------------------------------------------


@dataclass
class Region:
    service: Service
    requests: Requests
    ec2: Any
    vpc: str
    private_rtb: str
    igw: str


@pytest.fixture
def region(session: boto3.session.Session) -> Region:
    """One VPC with flow logs: a public subnet (default route to the internet gateway)
    and a private one whose route table has no gateway endpoint (two findings: s3 and
    dynamodb). The alerts topic delivers to an SQS queue, as a subscriber would see it."""
    ec2 = make_client(session, "ec2", REGION)
    remove_default_vpc(ec2)
    vpc = ec2.create_vpc(CidrBlock="10.20.0.0/16")["Vpc"]["VpcId"]
    public = ec2.create_subnet(VpcId=vpc, CidrBlock="10.20.0.0/24", AvailabilityZone=f"{REGION}a")["Subnet"]
    private = ec2.create_subnet(VpcId=vpc, CidrBlock="10.20.1.0/24", AvailabilityZone=f"{REGION}a")["Subnet"]
    igw = ec2.create_internet_gateway()["InternetGateway"]["InternetGatewayId"]
    ec2.attach_internet_gateway(InternetGatewayId=igw, VpcId=vpc)
    tables = {}
    for name, subnet in (("public", public), ("private", private)):
        tables[name] = ec2.create_route_table(VpcId=vpc)["RouteTable"]["RouteTableId"]
        ec2.associate_route_table(RouteTableId=tables[name], SubnetId=subnet["SubnetId"])
    ec2.create_route(RouteTableId=tables["public"], DestinationCidrBlock="0.0.0.0/0", GatewayId=igw)
    make_client(session, "s3", REGION).create_bucket(Bucket="flow-logs")
    ec2.create_flow_logs(
        ResourceIds=[vpc],
        ResourceType="VPC",
        TrafficType="ALL",
        LogDestinationType="s3",
        LogDestination="arn:aws:s3:::flow-logs",
    )
    env = provision(session, REGION)
    counter = Requests()
    counted = boto3.session.Session(region_name=REGION)  # the service's own, every client counted
    counted.events.register("before-call", counter)
    settings = Settings(
        region=REGION,
        findings_table=env["FINDINGS_TABLE"],
        alerts_topic_arn=env["ALERTS_TOPIC_ARN"],
        audit_regions=(REGION,),
    )
    return Region(Service(settings, session=counted), counter, ec2, vpc, tables["private"], igw)


def test_an_unchanged_sweep_makes_no_write_and_at_most_three_reads(region: Region) -> None:
    first = region.service.audit_and_notify()
    assert len(first.changes) == first.published == 2
    region.requests.calls.clear()

    again = region.service.audit_and_notify()

    assert again.changes == () and again.published == 0
    dynamodb = region.requests.of("dynamodb")
    assert not set(dynamodb) & DYNAMODB_WRITES, dynamodb
    assert sum(dynamodb.values()) <= 3 and set(dynamodb) <= DYNAMODB_READS, dynamodb
    other = {k for k in region.requests.calls if not k.startswith(("ec2:", "dynamodb:"))}
    assert other == set(), other
    assert sum(region.requests.of("ec2").values()) == again.result.api_calls  # the collection, nothing more


def test_a_route_change_that_resolves_two_findings_costs_at_most_30_requests(region: Region) -> None:
    """At most 14 for the scoped re-audit of the VPC, its records and its one publish; then
    routes-return-path is re-judged region-wide (a route change may break a reply's way
    back, and only a region-wide audit can judge it): one EC2 request per resource type it
    reads, and its few DynamoDB requests (the open findings, the audit's record)."""
    service = region.service
    service.audit_and_notify()
    region.ec2.create_route(RouteTableId=region.private_rtb, DestinationCidrBlock="0.0.0.0/0", GatewayId=region.igw)
    event = cloudtrail_event(
        "CreateRoute",
        {"routeTableId": region.private_rtb, "destinationCidrBlock": "0.0.0.0/0", "gatewayId": region.igw},
        {"requestId": "r-1", "_return": True},
        account_id=service.account_id,
        region=REGION,
        event_id="route-change-1",
    )
    region.requests.calls.clear()

    answer = service.on_event_once(event)

    assert len(answer["changes"]["resolved"]) == 2 and answer["published"] == 2
    calls = region.requests.calls
    assert answer["paths"]["checks"] == ["routes-return-path"]
    assert region.requests.total <= 30, dict(calls)
    assert set(region.requests.of("ec2").values()) <= {1, 2}  # once by each audit at most
    assert calls["sns:PublishBatch"] == 1 and calls["sns:Publish"] == 0  # both messages, one request
    assert calls["dynamodb:TransactWriteItems"] == 2  # the two changes with their outbox entries; sent
    assert not calls["dynamodb:BatchWriteItem"] and not calls["dynamodb:Scan"]


def test_a_failure_to_remember_never_blocks_publishing(region: Region, caplog: pytest.LogCaptureFixture) -> None:
    """DynamoDB refuses every write of the resource memory (as it refused the 400 KB item
    this memory used to outgrow): the changes are still recorded and published."""
    from botocore.exceptions import ClientError

    def refuse_memory(params: dict[str, Any], **kwargs: Any) -> None:
        items = [params.get("Item", {})] + [a.get("Put", {}).get("Item", {}) for a in params.get("TransactItems", [])]
        if any(str(i.get("id", {}).get("S", "")).startswith("topology#") for i in items):
            message = "Item size has exceeded the maximum allowed size"
            raise ClientError({"Error": {"Code": "ValidationException", "Message": message}}, "PutItem")

    region.service.store._ddb.meta.events.register("before-parameter-build.dynamodb.PutItem", refuse_memory)
    region.service.store._ddb.meta.events.register("before-parameter-build.dynamodb.TransactWriteItems", refuse_memory)
    with caplog.at_level(logging.ERROR, logger="vpcwatch.service"):
        outcome = region.service.audit_and_notify()

    assert len(outcome.changes) == 2 and outcome.published == 2 and outcome.publish_failures == 0
    assert any("resource memory" in r.getMessage() for r in caplog.records)
    entries = raw_items(region.service.store._ddb, "outbox")
    assert len(entries) == 2 and all("sent_at" in e and "outbox" not in e for e in entries)
    assert raw_items(region.service.store._ddb, "topology") == []


def test_publish_batch_sends_what_publish_sends(region: Region) -> None:
    from chalicelib.aws.publish.sns import publish_batch
    from chalicelib.render.messages import sns_message

    outcome = region.service.audit_and_notify()
    changes = list(outcome.changes) * 6  # twelve: two requests
    region.requests.calls.clear()
    keyed = [(change, f"{change.finding.id}#{n}") for n, change in enumerate(changes)]
    results = publish_batch(region.service.sns, region.service.settings.alerts_topic_arn, keyed)
    assert all(r.ok for r in results) and len({r.message_id for r in results}) == 12
    assert region.requests.calls == {"sns:PublishBatch": 2}
    kwargs = sns_message(*keyed[0])
    assert json.loads(json.loads(kwargs["Message"])["default"])["type"] == changes[0].type
