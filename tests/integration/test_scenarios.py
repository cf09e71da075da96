"""Whole-rule scenarios on real API shapes: each builds a small landscape in moto, runs
the collector and every check, and compares the findings of the checks concerned by
(check, resource_id, evidence.service) — the way an outside acceptance test would."""

from __future__ import annotations

import datetime as dt
from typing import Any

import boto3
import pytest

from chalicelib.aws.collect.ec2 import collect_region
from chalicelib.core.audit import evaluate
from chalicelib.core.checks import CHECK_IDS
from chalicelib.core.policy import Policy, parse_policy
from tests.integration.conftest import ACCOUNT, REGION, main_route_table

NOW = dt.datetime(2026, 11, 26, tzinfo=dt.UTC)
Key = tuple[str, str, str | None]


def findings(ec2: Any, check: str, policy: Policy | None = None) -> set[Key]:
    snapshot = collect_region(ec2, account_id=ACCOUNT, region=REGION)
    assert snapshot.errors == ()
    result = evaluate(snapshot, policy or Policy(), NOW)
    return {(f.check, f.resource_id, f.evidence.get("service")) for f in result.findings if f.check == check}


def vpc(ec2: Any, cidr: str) -> str:
    return str(ec2.create_vpc(CidrBlock=cidr)["Vpc"]["VpcId"])


def subnet(ec2: Any, vpc_id: str, cidr: str) -> str:
    return str(ec2.create_subnet(VpcId=vpc_id, CidrBlock=cidr, AvailabilityZone=f"{REGION}a")["Subnet"]["SubnetId"])


def bucket(session: boto3.session.Session) -> str:
    session.client("s3", region_name=REGION).create_bucket(Bucket="flow-logs")
    return "arn:aws:s3:::flow-logs"


def flow_log(ec2: Any, dest: str, resource: str, kind: str = "VPC", traffic: str = "ALL") -> str:
    response = ec2.create_flow_logs(
        ResourceIds=[resource], ResourceType=kind, TrafficType=traffic, LogDestinationType="s3", LogDestination=dest
    )
    return str(response["FlowLogIds"][0])


def peer(ec2: Any, a: str, b: str) -> str:
    pcx = str(ec2.create_vpc_peering_connection(VpcId=a, PeerVpcId=b)["VpcPeeringConnection"]["VpcPeeringConnectionId"])
    ec2.accept_vpc_peering_connection(VpcPeeringConnectionId=pcx)
    return pcx


def default_vpc(ec2: Any) -> str:
    return str(ec2.describe_vpcs(Filters=[{"Name": "is-default", "Values": ["true"]}])["Vpcs"][0]["VpcId"])


# ---------------------------------------------------------------------------------


def test_flow_logs_at_subnet_level_cover_the_vpc(ec2: Any, session: boto3.session.Session) -> None:
    dest = bucket(session)
    v = vpc(ec2, "10.0.0.0/16")
    a, b = subnet(ec2, v, "10.0.0.0/24"), subnet(ec2, v, "10.0.1.0/24")
    flow_log(ec2, dest, a, "Subnet")
    assert ("vpc-flow-logs-enabled", v, None) in findings(ec2, "vpc-flow-logs-enabled")
    flow_log(ec2, dest, b, "Subnet")
    assert ("vpc-flow-logs-enabled", v, None) not in findings(ec2, "vpc-flow-logs-enabled")
    assert findings(ec2, "vpc-flow-logs-enabled") == {("vpc-flow-logs-enabled", default_vpc(ec2), None)}


def test_reject_only_log_fails_the_all_policy_only(ec2: Any, session: boto3.session.Session) -> None:
    v = vpc(ec2, "10.0.0.0/16")
    flow_log(ec2, bucket(session), v, traffic="REJECT")
    assert findings(ec2, "vpc-flow-logs-traffic-type") == {("vpc-flow-logs-traffic-type", v, None)}
    reject = parse_policy({"flow_logs": {"traffic_type": "REJECT"}}, CHECK_IDS)
    assert findings(ec2, "vpc-flow-logs-traffic-type", reject) == set()
    assert ("vpc-flow-logs-enabled", v, None) not in findings(ec2, "vpc-flow-logs-enabled")


def test_undeliverable_flow_log(ec2: Any) -> None:
    v = vpc(ec2, "10.0.0.0/16")
    fl = ec2.create_flow_logs(
        ResourceIds=[v],
        ResourceType="VPC",
        TrafficType="ALL",
        LogGroupName="no-such-group",
        DeliverLogsPermissionArn=f"arn:aws:iam::{ACCOUNT}:role/flow-logs",
    )["FlowLogIds"][0]
    assert findings(ec2, "vpc-flow-logs-delivering") == {("vpc-flow-logs-delivering", fl, None)}


def test_private_subnets_need_gateway_endpoints_nat_or_not(ec2: Any) -> None:
    v = vpc(ec2, "10.0.0.0/16")
    public, private, natted = (subnet(ec2, v, f"10.0.{n}.0/24") for n in range(3))
    igw = ec2.create_internet_gateway()["InternetGateway"]["InternetGatewayId"]
    ec2.attach_internet_gateway(InternetGatewayId=igw, VpcId=v)
    main = main_route_table(ec2, v)  # serves `private`
    public_rtb = ec2.create_route_table(VpcId=v)["RouteTable"]["RouteTableId"]
    ec2.associate_route_table(RouteTableId=public_rtb, SubnetId=public)
    ec2.create_route(RouteTableId=public_rtb, DestinationCidrBlock="0.0.0.0/0", GatewayId=igw)
    nat = ec2.create_nat_gateway(SubnetId=public)["NatGateway"]["NatGatewayId"]
    nat_rtb = ec2.create_route_table(VpcId=v)["RouteTable"]["RouteTableId"]
    ec2.associate_route_table(RouteTableId=nat_rtb, SubnetId=natted)
    ec2.create_route(RouteTableId=nat_rtb, DestinationCidrBlock="0.0.0.0/0", NatGatewayId=nat)
    ec2.create_route(RouteTableId=nat_rtb, DestinationIpv6CidrBlock="::/0", GatewayId=igw)
    unused = ec2.create_route_table(VpcId=v)["RouteTable"]["RouteTableId"]  # serves no subnet
    ec2.create_vpc_endpoint(
        VpcEndpointType="Gateway", VpcId=v, ServiceName=f"com.amazonaws.{REGION}.dynamodb", RouteTableIds=[nat_rtb]
    )
    check = "private-subnet-gateway-endpoints"
    ours = {main, public_rtb, nat_rtb, unused}  # moto's default VPC has no IGW: its main table is private too
    assert {k for k in findings(ec2, check) if k[1] in ours} == {
        (check, main, "s3"),
        (check, main, "dynamodb"),
        (check, nat_rtb, "s3"),
    }
    del private


def test_interface_endpoints_and_private_dns(ec2: Any) -> None:
    v = vpc(ec2, "10.0.0.0/16")
    s = subnet(ec2, v, "10.0.0.0/24")
    ssm = ec2.create_vpc_endpoint(
        VpcEndpointType="Interface",
        VpcId=v,
        ServiceName=f"com.amazonaws.{REGION}.ssm",
        SubnetIds=[s],
        PrivateDnsEnabled=False,
    )["VpcEndpoint"]["VpcEndpointId"]
    policy = parse_policy({"endpoints": {"interface": ["ssm", "ecr.api"]}}, CHECK_IDS)
    required = findings(ec2, "required-interface-endpoints", policy)
    assert {k for k in required if k[1] == v} == {("required-interface-endpoints", v, "ecr.api")}
    # moto's default VPC has no internet gateway: its subnets are private and lack both
    assert {k[2] for k in required if k[1] == default_vpc(ec2)} == {"ssm", "ecr.api"}
    assert findings(ec2, "interface-endpoint-private-dns") == {("interface-endpoint-private-dns", ssm, "ssm")}


def test_endpoint_service_acceptance_and_principals(ec2: Any, session: boto3.session.Session) -> None:
    elbv2 = session.client("elbv2", region_name=REGION)
    v = vpc(ec2, "10.0.0.0/16")
    s = subnet(ec2, v, "10.0.0.0/24")
    nlb = elbv2.create_load_balancer(Name="svc", Subnets=[s], Type="network", Scheme="internal")
    arn = nlb["LoadBalancers"][0]["LoadBalancerArn"]
    open_svc = ec2.create_vpc_endpoint_service_configuration(NetworkLoadBalancerArns=[arn], AcceptanceRequired=False)
    open_id = open_svc["ServiceConfiguration"]["ServiceId"]
    ec2.modify_vpc_endpoint_service_permissions(ServiceId=open_id, AddAllowedPrincipals=["*"])
    closed = ec2.create_vpc_endpoint_service_configuration(NetworkLoadBalancerArns=[arn], AcceptanceRequired=True)
    closed_id = closed["ServiceConfiguration"]["ServiceId"]
    ec2.modify_vpc_endpoint_service_permissions(
        ServiceId=closed_id, AddAllowedPrincipals=["arn:aws:iam::444455556666:root"]
    )
    assert findings(ec2, "endpoint-service-acceptance-required") == {
        ("endpoint-service-acceptance-required", open_id, None)
    }
    check = "endpoint-service-trusted-principals"
    assert findings(ec2, check) == {(check, open_id, None)}
    trusted = parse_policy({"trusted_accounts": ["111122223333"]}, CHECK_IDS)
    assert findings(ec2, check, trusted) == {(check, open_id, None), (check, closed_id, None)}


def test_peering_overlap_through_a_secondary_cidr(ec2: Any) -> None:
    a, b = vpc(ec2, "10.0.0.0/16"), vpc(ec2, "10.1.0.0/16")
    pcx = peer(ec2, a, b)
    assert findings(ec2, "peering-cidrs-non-overlapping") == set()
    ec2.associate_vpc_cidr_block(VpcId=b, CidrBlock="10.0.128.0/17")
    assert findings(ec2, "peering-cidrs-non-overlapping") == {("peering-cidrs-non-overlapping", pcx, None)}


def test_hub_peered_with_overlapping_spokes(ec2: Any) -> None:
    hub, a, b = vpc(ec2, "10.0.0.0/16"), vpc(ec2, "10.1.0.0/16"), vpc(ec2, "10.1.0.0/16")
    peer(ec2, hub, a)
    peer(ec2, b, hub)
    assert findings(ec2, "connected-cidrs-non-overlapping") == {("connected-cidrs-non-overlapping", hub, None)}


def test_tgw_overlap_with_explicit_propagation_and_a_deliberate_blackhole(ec2: Any) -> None:
    a, b = vpc(ec2, "10.1.0.0/16"), vpc(ec2, "10.1.0.0/16")
    tgw = ec2.create_transit_gateway()["TransitGateway"]
    tgw_id, table = tgw["TransitGatewayId"], tgw["Options"]["AssociationDefaultRouteTableId"]
    for v in (a, b):
        s = subnet(ec2, v, "10.1.0.0/24")
        att = ec2.create_transit_gateway_vpc_attachment(TransitGatewayId=tgw_id, VpcId=v, SubnetIds=[s])
        ec2.enable_transit_gateway_route_table_propagation(
            TransitGatewayRouteTableId=table,
            TransitGatewayAttachmentId=att["TransitGatewayVpcAttachment"]["TransitGatewayAttachmentId"],
        )
    ec2.create_transit_gateway_route(
        TransitGatewayRouteTableId=table, DestinationCidrBlock="10.1.0.0/24", Blackhole=True
    )
    assert findings(ec2, "tgw-routes-non-overlapping") == {("tgw-routes-non-overlapping", table, None)}
    assert findings(ec2, "connected-cidrs-non-overlapping") == {
        ("connected-cidrs-non-overlapping", a, None),
        ("connected-cidrs-non-overlapping", b, None),
    }


def test_tgw_auto_accept(ec2: Any) -> None:
    quiet = ec2.create_transit_gateway()["TransitGateway"]["TransitGatewayId"]
    loud = ec2.create_transit_gateway(Options={"AutoAcceptSharedAttachments": "enable"})["TransitGateway"]
    assert findings(ec2, "tgw-auto-accept-disabled") == {("tgw-auto-accept-disabled", loud["TransitGatewayId"], None)}
    del quiet


@pytest.mark.parametrize("destination", ["0.0.0.0/0", "10.0.0.0/8"])
def test_peering_routes_beyond_the_peer(ec2: Any, destination: str) -> None:
    a, b = vpc(ec2, "10.0.0.0/16"), vpc(ec2, "10.1.0.0/16")
    pcx = peer(ec2, a, b)
    rtb = main_route_table(ec2, a)
    ec2.create_route(RouteTableId=rtb, DestinationCidrBlock="10.1.0.0/24", VpcPeeringConnectionId=pcx)
    assert findings(ec2, "peering-routes-least-access") == set()
    ec2.create_route(RouteTableId=rtb, DestinationCidrBlock=destination, VpcPeeringConnectionId=pcx)
    assert findings(ec2, "peering-routes-least-access") == {("peering-routes-least-access", rtb, None)}


def test_routes_to_a_deleted_peering_are_blackholes(ec2: Any) -> None:
    a, b = vpc(ec2, "10.0.0.0/16"), vpc(ec2, "10.1.0.0/16")
    pcx = peer(ec2, a, b)
    rtb = main_route_table(ec2, a)
    ec2.create_route(RouteTableId=rtb, DestinationCidrBlock="10.1.0.0/16", VpcPeeringConnectionId=pcx)
    assert findings(ec2, "routes-no-blackhole") == set()
    ec2.delete_vpc_peering_connection(VpcPeeringConnectionId=pcx)
    assert findings(ec2, "routes-no-blackhole") == {("routes-no-blackhole", rtb, None)}


def test_routes_to_two_peerings_overlap(ec2: Any) -> None:
    a, b, c = vpc(ec2, "10.0.0.0/16"), vpc(ec2, "10.1.0.0/16"), vpc(ec2, "10.2.0.0/16")
    rtb = main_route_table(ec2, a)
    ec2.create_route(RouteTableId=rtb, DestinationCidrBlock="10.1.0.0/16", VpcPeeringConnectionId=peer(ec2, a, b))
    c_pcx = peer(ec2, a, c)
    ec2.create_route(RouteTableId=rtb, DestinationCidrBlock="10.2.0.0/16", VpcPeeringConnectionId=c_pcx)
    assert findings(ec2, "route-destinations-non-overlapping") == set()
    ec2.create_route(RouteTableId=rtb, DestinationCidrBlock="10.1.5.0/24", VpcPeeringConnectionId=c_pcx)
    assert findings(ec2, "route-destinations-non-overlapping") == {("route-destinations-non-overlapping", rtb, None)}
