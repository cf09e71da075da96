"""AWS requests of the pipeline, counted by operation with a botocore ``before-call``
handler in moto (in-process ``mock_aws``): what a sweep of an unchanged region costs,
what a route change that moves two findings costs, and what the resource memory costs
at 100k resources per (account, region).

    .venv/bin/python -m bench.bench_requests

Scenarios (each region its own landscape, audited through ``Service`` as the Lambdas do;
events through ``on_event_once``, Powertools Idempotency included):

  lab        the classic lab (SPEC §6: 3 VPCs, peerings, a transit gateway)
  landscape  bench.landscape with 7 VPCs (peerings, endpoints, flow logs, TGW attachments)
  single     one VPC: a public subnet, a private one without gateway endpoints

For each: the first sweep (opens every finding), the next one an hour later (nothing
changed), and a route change on the private route table (a default route to the
internet gateway makes the table public: its two gateway-endpoint findings resolve).

Only public entry points are used, so the same script measures another checkout:
``PYTHONPATH=<checkout> python <this file>``."""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import time
import warnings
from collections import Counter
from collections.abc import Callable
from typing import Any

import boto3

WRITES = frozenset({"PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem", "TransactWriteItems"})
HOME = "us-east-1"
REGIONS = {"lab": "us-east-1", "landscape": "eu-west-1", "single": "us-west-2"}
MEMORY_RESOURCES = 100_000


class Requests:
    def __init__(self) -> None:
        self.calls: Counter[str] = Counter()

    def __call__(self, model: Any, **kwargs: Any) -> None:
        self.calls[f"{model.service_model.service_name}:{model.name}"] += 1

    def take(self) -> Counter[str]:
        taken, self.calls = self.calls, Counter()
        return taken


def row(label: str, calls: Counter[str]) -> str:
    by_service: Counter[str] = Counter()
    for name, count in calls.items():
        by_service[name.split(":")[0]] += count
    ddb_writes = sum(v for k, v in calls.items() if k.startswith("dynamodb:") and k.split(":")[1] in WRITES)
    ddb_reads = by_service["dynamodb"] - ddb_writes
    other = sum(by_service.values()) - by_service["ec2"] - by_service["dynamodb"] - by_service["sns"]
    return (
        f"{label:<34} {sum(calls.values()):>6} {by_service['ec2']:>5} {ddb_reads:>7} {ddb_writes:>7} "
        f"{by_service['sns']:>5} {other:>5}"
    )


def route_change(ec2: Any, rtb: str, igw: str, account: str, region: str, event_id: str) -> dict[str, Any]:
    from vpcwatch_tools.lab import cloudtrail_event

    ec2.create_route(RouteTableId=rtb, DestinationCidrBlock="0.0.0.0/0", GatewayId=igw)
    return cloudtrail_event(
        "CreateRoute",
        {"routeTableId": rtb, "destinationCidrBlock": "0.0.0.0/0", "gatewayId": igw},
        {"requestId": f"req-{event_id}", "_return": True},
        account_id=account,
        region=region,
        event_id=event_id,
    )


def single_vpc(ec2: Any, s3: Any, region: str) -> tuple[str, str]:
    """One VPC with flow logs, a public and a private subnet: (private table, gateway)."""
    vpc = ec2.create_vpc(CidrBlock="10.20.0.0/16")["Vpc"]["VpcId"]
    igw = ec2.create_internet_gateway()["InternetGateway"]["InternetGatewayId"]
    ec2.attach_internet_gateway(InternetGatewayId=igw, VpcId=vpc)
    tables = []
    for n in range(2):
        subnet = ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.20.{n}.0/24", AvailabilityZone=f"{region}a")["Subnet"]
        rtb = ec2.create_route_table(VpcId=vpc)["RouteTable"]["RouteTableId"]
        ec2.associate_route_table(RouteTableId=rtb, SubnetId=subnet["SubnetId"])
        tables.append(rtb)
    ec2.create_route(RouteTableId=tables[0], DestinationCidrBlock="0.0.0.0/0", GatewayId=igw)
    s3.create_bucket(Bucket=f"flow-logs-{region}", CreateBucketConfiguration={"LocationConstraint": region})
    ec2.create_flow_logs(
        ResourceIds=[vpc],
        ResourceType="VPC",
        TrafficType="ALL",
        LogDestinationType="s3",
        LogDestination=f"arn:aws:s3:::flow-logs-{region}",
    )
    return tables[1], igw


def memory(store: Any, counter: Requests, account: str) -> None:
    def rid(prefix: str, n: int) -> str:
        return f"{prefix}-{hashlib.sha256(f'{prefix}{n}'.encode()).hexdigest()[:17]}"

    vpcs = [rid("vpc", n) for n in range(2000)]
    kinds = ("subnet", "rtb", "vpce", "nat", "fl", "tgw-attach", "pcx", "igw", "cvpn-endpoint")
    mapping = {rid(kinds[n % len(kinds)], n): vpcs[n % len(vpcs)] for n in range(MEMORY_RESOURCES)}
    region = "ap-southeast-2"
    print(f"\nresource memory, {MEMORY_RESOURCES:,} resources in one (account, region):")
    counter.take()
    t0 = time.perf_counter()
    try:
        store.remember_resources(account, region, mapping, replace=True)
    except Exception as exc:  # the measured checkout may not hold this many
        print(f"  remember (full audit): FAILED after {time.perf_counter() - t0:.2f} s: {exc}")
        return
    print(f"  remember (full audit)             {time.perf_counter() - t0:6.2f} s  {dict(counter.take())}")
    store.remember_resources(account, region, dict(mapping), replace=True)
    print(f"  remember again, unchanged                   {dict(counter.take())}")
    one = next(iter(mapping))
    lookup: Callable[[], Any]
    try:
        store.resource_vpcs(account, region, [one])
        counter.take()
        lookup = lambda: store.resource_vpcs(account, region, [one])  # noqa: E731
    except TypeError:
        lookup = lambda: store.resource_vpcs(account, region)  # noqa: E731
    t0 = time.perf_counter()
    found = lookup()
    print(f"  an event's lookup of one id       {time.perf_counter() - t0:6.2f} s  {dict(counter.take())}")
    assert found[one] == mapping[one]


def main() -> None:
    from moto import mock_aws

    for name in ("AWS_ENDPOINT_URL", "AWS_PROFILE", "POLICY", "AWS_RETRY_MODE", "AWS_MAX_ATTEMPTS"):
        os.environ.pop(name, None)
    os.environ.update(
        AWS_ACCESS_KEY_ID="bench",
        AWS_SECRET_ACCESS_KEY="bench",
        AWS_DEFAULT_REGION=HOME,
        POWERTOOLS_LOG_LEVEL="ERROR",
        POWERTOOLS_METRICS_DISABLED="true",
        VPCWATCH_EMULATOR="1",
    )
    warnings.filterwarnings("ignore")
    from bench.landscape import build_landscape
    from chalicelib.aws.session import make_client
    from chalicelib.aws.settings import Settings
    from chalicelib.service.pipelines import Service
    from vpcwatch_tools.lab import build_lab, remove_default_vpc
    from vpcwatch_tools.provision import provision

    with mock_aws():
        setup = boto3.session.Session(region_name=HOME)
        targets: dict[str, tuple[str, str]] = {}
        for label, region in REGIONS.items():
            ec2 = make_client(setup, "ec2", region)
            remove_default_vpc(ec2)
            s3 = make_client(setup, "s3", region)
            if label == "lab":
                lab = build_lab(ec2, s3, region)
                igw = ec2.describe_internet_gateways()["InternetGateways"][0]["InternetGatewayId"]
                targets[label] = (lab.app_private_rtb, igw)
            elif label == "landscape":
                build_landscape(ec2, region, 7)
            else:
                targets[label] = single_vpc(ec2, s3, region)
        env = provision(setup, HOME)
        counter = Requests()
        session = boto3.session.Session(region_name=HOME)
        session.events.register("before-call", counter)
        settings = Settings(
            region=HOME,
            findings_table=env["FINDINGS_TABLE"],
            alerts_topic_arn=env["ALERTS_TOPIC_ARN"],
            audit_regions=tuple(REGIONS.values()),
        )
        # Each audit an hour after the previous one (as hourly sweeps), in the past so that
        # outbox entries are due at once.
        hours = iter(range(10_000))
        start = dt.datetime.now(dt.UTC) - dt.timedelta(days=30)
        service = Service(settings, session=session, clock=lambda: start + dt.timedelta(hours=next(hours)))
        account = service.account_id
        header = f"{'requests':<34} {'total':>6} {'ec2':>5} {'ddb rd':>7} {'ddb wr':>7} {'sns':>5} {'other':>5}"
        print(header)
        print("-" * len(header))
        for label, region in REGIONS.items():
            counter.take()
            first = service.audit_and_notify([region])
            print(row(f"{label}: first sweep ({len(first.changes)} opened)", counter.take()))
            steady = service.audit_and_notify([region])
            print(row(f"{label}: unchanged sweep ({len(steady.changes)})", counter.take()))
            if label in targets:
                rtb, igw = targets[label]
                event = route_change(make_client(setup, "ec2", region), rtb, igw, account, region, f"{label}-1")
                counter.take()
                answer = service.on_event_once(event)
                moved = sum(len(v) for v in answer["changes"].values())
                print(row(f"{label}: route change ({moved} resolved)", counter.take()))
        memory(service.store, counter, account)


if __name__ == "__main__":
    main()
