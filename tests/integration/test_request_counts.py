"""What audits and events cost in AWS requests, counted (never timed) against moto: the
full audit of a 55-VPC landscape whose transit gateway has 5 route tables, a scoped audit
of one of its VPCs, and the re-audit after one change (the route change of issue 9, and an
endpoint that resolves several findings at once). The landscapes are the benchmarks'
(``bench.landscape``, ``bench.event_cost``)."""

from __future__ import annotations

from collections import Counter
from typing import Any

import boto3
import pytest

from bench.event_cost import Meter, Spoke, build_spoke, by_service, create_s3_endpoint, route_to_internet
from bench.landscape import build_landscape
from chalicelib.aws.collect.ec2 import collect_region
from chalicelib.aws.session import CallCounter
from chalicelib.aws.settings import Settings
from chalicelib.core.checks import CHECK_IDS
from chalicelib.core.policy import parse_policy
from chalicelib.service.pipelines import Service
from tests.integration.conftest import ACCOUNT, REGION
from vpcwatch_tools.lab import remove_default_vpc
from vpcwatch_tools.provision import provision

FULL_AUDIT_BUDGET = 30  # issue 9: the 55-VPC, 5-TGW-table landscape, at most 30 requests


def test_the_full_audit_of_55_vpcs_and_5_tgw_route_tables_makes_at_most_30_requests(ec2: Any) -> None:
    vpcs = build_landscape(ec2, REGION, 55, tgw_tables=5)
    with CallCounter(ec2) as counter:
        snapshot = collect_region(ec2, account_id=ACCOUNT, region=REGION)
    assert snapshot.errors == ()
    assert len(snapshot.tgw_route_tables) == 5 and len(snapshot.tgw_attachments) == 14
    assert len(snapshot.vpcs) == 56  # and moto's default VPC
    assert dict(counter.by_operation) == {
        "DescribeVpcs": 1,
        "DescribeSubnets": 1,
        "DescribeRouteTables": 1,
        "DescribeInternetGateways": 1,
        "DescribeNatGateways": 1,
        "DescribeFlowLogs": 1,
        "DescribeVpcEndpoints": 1,
        "DescribeVpcEndpointServiceConfigurations": 1,
        "DescribeVpcPeeringConnections": 1,
        "DescribeTransitGatewayAttachments": 1,  # with each attachment's association
        "DescribeTransitGateways": 1,
        "DescribeTransitGatewayRouteTables": 1,
        "SearchTransitGatewayRoutes": 5,  # the routes and propagations of each table: no bulk API
        "GetTransitGatewayRouteTablePropagations": 5,
        "DescribeClientVpnEndpoints": 1,
        "DescribeManagedPrefixLists": 1,  # the S3 gateway endpoints' routes name one
        # what only the path checks (reachability-intent, routes-return-path) read
        "DescribeNetworkAcls": 1,
        "DescribeEgressOnlyInternetGateways": 1,
        "DescribeVpnGateways": 1,
        "DescribeTransitGatewayPeeringAttachments": 1,
    }
    assert counter.total == snapshot.api_calls == 28 <= FULL_AUDIT_BUDGET

    # Scoped to the first VPC, whose attachment is associated with the default table and
    # propagates into one segment table: those two tables' routes are read, and every
    # table's propagations (to learn where the attachment propagates).
    with CallCounter(ec2) as counter:
        scoped = collect_region(ec2, account_id=ACCOUNT, region=REGION, vpc_ids=vpcs[:1])
    assert scoped.errors == () and len(scoped.tgw_route_tables) == 2
    assert counter.by_operation["SearchTransitGatewayRoutes"] == 2
    assert counter.by_operation["GetTransitGatewayRouteTablePropagations"] == 5
    assert counter.by_operation["DescribeVpcs"] == 1
    assert "GetTransitGatewayRouteTableAssociations" not in counter.by_operation
    assert counter.total == 22


# ---------------------------------------------------------------------------------
# One event: the re-audit it triggers, all AWS requests of on_event
# ---------------------------------------------------------------------------------


def service(session: boto3.session.Session, gateway: list[str]) -> Service:
    env = provision(session, REGION)
    settings = Settings(
        region=REGION,
        findings_table=env["FINDINGS_TABLE"],
        alerts_topic_arn=env["ALERTS_TOPIC_ARN"],
        audit_regions=(REGION,),
        policy=parse_policy({"endpoints": {"gateway": gateway}}, CHECK_IDS),
    )
    return Service(settings, session=session)


def return_path_rejudge(session: boto3.session.Session, pipeline: Service) -> dict[str, int]:
    """The EC2 requests, by operation, of what an event that moves routes adds to its scoped
    re-audit: one region-wide audit of routes-return-path alone (a return path may cross
    any VPC of the region), measured by making that audit again."""
    meter = Meter()
    meter.attach(session)
    pipeline.audit_and_notify([REGION], (), ("routes-return-path",))
    return {op: n for (service_name, op), n in meter.take().items() if service_name == "ec2"}


def spoke(session: boto3.session.Session, tables: int) -> Spoke:
    ec2 = session.client("ec2", region_name=REGION)
    remove_default_vpc(ec2)
    return build_spoke(ec2, REGION, tables)


def test_a_route_change_re_audit_makes_six_ec2_requests(session: boto3.session.Session) -> None:
    """The route change of issue 9: a default route to the internet gateway makes a private
    table public, which resolves its two gateway-endpoint findings (S3, DynamoDB). The
    re-audit describes the VPC and its peer at once (DescribeVpcs), then what the routes
    name (the internet gateway, the peering); then routes-return-path is re-judged
    region-wide (a route change may break a reply's way back)."""
    meter = Meter()
    meter.attach(session)  # before any client is made: each client copies the session's handlers
    landscape = spoke(session, 1)
    pipeline = service(session, ["s3", "dynamodb"])
    pipeline.audit_and_notify()
    event = route_to_internet(session.client("ec2", region_name=REGION), landscape, landscape.route_tables[0], "e-1")
    meter.take()
    answer = pipeline.on_event(event)
    requests = meter.take()
    assert len(answer["changes"]["resolved"]) == 2
    assert answer["paths"]["checks"] == ["routes-return-path"]
    ec2 = Counter({op: n for (service_name, op), n in requests.items() if service_name == "ec2"})
    scoped = {
        "DescribeVpcs": 1,
        "DescribeSubnets": 1,
        "DescribeRouteTables": 1,
        "DescribeInternetGateways": 1,
        "DescribeVpcEndpoints": 1,
        "DescribeVpcPeeringConnections": 1,
    }
    rejudge = return_path_rejudge(session, pipeline)
    assert set(rejudge.values()) == {1}  # one request per resource type the check reads
    assert ec2 == Counter(scoped) + Counter(rejudge)


@pytest.mark.parametrize("tables", [1, 5])
def test_the_ec2_requests_of_an_event_do_not_grow_with_the_findings_it_moves(
    session: boto3.session.Session, tables: int
) -> None:
    """An S3 gateway endpoint on every private table of a VPC resolves one finding per table:
    five EC2 requests whatever their number, and one per resource type for the return
    paths' re-judge (the DynamoDB and SNS requests are the store's and the publisher's;
    bench/bench_event.py prints them)."""
    meter = Meter()
    meter.attach(session)
    landscape = spoke(session, tables)
    pipeline = service(session, ["s3"])
    pipeline.audit_and_notify()
    _, event = create_s3_endpoint(session.client("ec2", region_name=REGION), landscape, "e-1")
    meter.take()
    answer = pipeline.on_event(event)
    requests = meter.take()
    assert len(answer["changes"]["resolved"]) == tables
    rejudge = return_path_rejudge(session, pipeline)
    assert set(rejudge.values()) == {1}  # one request per resource type, whatever the number of tables
    assert by_service(requests)["ec2"] == 5 + sum(rejudge.values())
