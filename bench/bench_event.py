"""AWS requests of one change event, by the number of findings it moves: the event reaches
``Service.on_event`` (as ``on_network_change`` hands it over), which resolves its scope,
re-audits it, records the changes in DynamoDB and announces each on SNS. In-process moto
(``mock_aws``); requests counted with a botocore ``before-call`` handler on the service's
session (one per operation invocation), split EC2 / DynamoDB (reads, writes) / SNS.

    .venv/bin/python -m bench.bench_event   (or: make bench)

Events (``bench.event_cost``): an S3 gateway endpoint created on every private route table
of a VPC resolves one finding per table (policy: S3 gateway endpoint required), 1, 2, 5 and
10 tables; its deletion reopens them; and the route change of issue 9, a default route to
the internet gateway that makes a private table public and so resolves its two
gateway-endpoint findings (S3 and DynamoDB required)."""

from __future__ import annotations

import os
import time
import warnings
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import boto3

from bench.event_cost import (
    Meter,
    Spoke,
    build_spoke,
    by_service,
    create_s3_endpoint,
    delete_endpoint,
    dynamodb_writes,
    route_to_internet,
)

REGION = "us-east-1"
TABLES = (1, 2, 5, 10)


@dataclass
class Row:
    event: str
    moved: int
    requests: Counter[tuple[str, str]]
    ms: float


def measure(
    tables: int, gateway: list[str], events: list[tuple[str, Callable[[Any, Spoke, str], dict[str, Any]]]]
) -> list[Row]:
    """A fresh emulator with one spoke of ``tables`` private route tables, a full audit,
    then each event in turn (``make(ec2, spoke, event_id)`` applies the change and returns
    its CloudTrail event)."""
    from moto import mock_aws

    from chalicelib.aws.session import make_client
    from chalicelib.aws.settings import Settings
    from chalicelib.core.checks import CHECK_IDS
    from chalicelib.core.policy import parse_policy
    from chalicelib.service.pipelines import Service
    from vpcwatch_tools.lab import remove_default_vpc
    from vpcwatch_tools.provision import provision

    rows = []
    with mock_aws():
        session = boto3.session.Session(region_name=REGION)
        meter = Meter()
        meter.attach(session)  # before the service makes its clients: each copies the handlers
        ec2 = make_client(boto3.session.Session(region_name=REGION), "ec2", REGION)  # the user's, not counted
        remove_default_vpc(ec2)
        spoke = build_spoke(ec2, REGION, tables)
        env = provision(session, REGION)
        settings = Settings(
            region=REGION,
            findings_table=env["FINDINGS_TABLE"],
            alerts_topic_arn=env["ALERTS_TOPIC_ARN"],
            audit_regions=(REGION,),
            policy=parse_policy({"endpoints": {"gateway": gateway}}, CHECK_IDS),
        )
        service = Service(settings, session=session)
        service.audit_and_notify()
        for n, (label, make) in enumerate(events):
            event = make(ec2, spoke, f"bench-{tables}-{n}")
            meter.take()
            t0 = time.perf_counter()
            answer = service.on_event(event)
            ms = (time.perf_counter() - t0) * 1000
            moved = sum(len(ids) for ids in answer["changes"].values())
            rows.append(Row(label, moved, meter.take(), ms))
    return rows


def endpoint_events() -> list[tuple[str, Callable[[Any, Spoke, str], dict[str, Any]]]]:
    created: list[str] = []

    def create(ec2: Any, spoke: Spoke, event_id: str) -> dict[str, Any]:
        endpoint, event = create_s3_endpoint(ec2, spoke, event_id)
        created.append(endpoint)
        return event

    def delete(ec2: Any, spoke: Spoke, event_id: str) -> dict[str, Any]:
        return delete_endpoint(ec2, spoke, created[-1], event_id)

    return [("CreateVpcEndpoint (resolves)", create), ("DeleteVpcEndpoints (reopens)", delete)]


def main() -> None:
    for name in ("AWS_ENDPOINT_URL", "AWS_PROFILE", "POLICY"):
        os.environ.pop(name, None)
    os.environ.update(
        AWS_ACCESS_KEY_ID="bench",
        AWS_SECRET_ACCESS_KEY="bench",
        AWS_DEFAULT_REGION=REGION,
        POWERTOOLS_LOG_LEVEL="WARNING",
        POWERTOOLS_METRICS_DISABLED="true",
    )
    warnings.filterwarnings("ignore")
    rows: list[Row] = []
    for tables in TABLES:
        rows += measure(tables, ["s3"], endpoint_events())
    route = [("CreateRoute 0.0.0.0/0 -> igw", lambda ec2, s, i: route_to_internet(ec2, s, s.route_tables[0], i))]
    rows += measure(1, ["s3", "dynamodb"], route)

    print("AWS requests of one change event, by the findings it moves (in-process moto)\n")
    header = (
        f"{'event':<30} {'moved':>5} {'EC2':>4} {'DynamoDB':>8} {'(reads':>6} {'writes)':>7} {'SNS':>4} "
        f"{'other':>5} {'total':>5} {'ms':>6}"
    )
    print(header)
    print("-" * len(header))
    for row in rows:
        services = by_service(row.requests)
        writes = dynamodb_writes(row.requests)
        other = sum(n for s, n in services.items() if s not in ("ec2", "dynamodb", "sns"))
        print(
            f"{row.event:<30} {row.moved:>5} {services['ec2']:>4} {services['dynamodb']:>8} "
            f"{services['dynamodb'] - writes:>6} {writes:>7} {services['sns']:>4} {other:>5} "
            f"{sum(services.values()):>5} {row.ms:>6.0f}"
        )
    last = rows[-1]
    print("\nthe route change, by operation:")
    for (service, op), n in sorted(last.requests.items()):
        print(f"  {service + ':' + op:<40} {n:>4}")


if __name__ == "__main__":
    main()
