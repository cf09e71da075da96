"""The collector against moto (in process, and once over HTTP) and botocore's Stubber."""

from __future__ import annotations

import math
import socket
from collections import Counter
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.awsrequest import AWSResponse
from botocore.config import Config
from botocore.exceptions import ClientError, NoCredentialsError
from botocore.stub import Stubber
from moto.server import ThreadedMotoServer

from chalicelib.aws.collect import ec2 as collect_ec2
from chalicelib.aws.collect.ec2 import collect_region
from chalicelib.aws.session import CallCounter, account_id, make_client
from chalicelib.core.checks import required_actions
from chalicelib.core.checks.endpoints import check_interface_endpoint_private_dns, check_required_interface_endpoints
from chalicelib.core.checks.flow_logs import check_flow_logs_delivering
from chalicelib.core.model import (
    ClientVpnAuthorizationRule,
    ClientVpnEndpoint,
    CollectionError,
    EndpointService,
    FlowLog,
    InternetGateway,
    NatGateway,
    NetworkSnapshot,
    Peering,
    PeeringSide,
    PrefixList,
    Route,
    TgwAttachment,
    TgwRoute,
    TransitGateway,
    VpcEndpoint,
)
from chalicelib.core.policy import Policy

# As in conftest.py (not importable: tests/integration is no package).
REGION = "us-east-1"
PEER_REGION = "us-west-2"
ACCOUNT = "123456789012"
PEER_ACCOUNT = "111111111111"
Landscape = Any  # conftest.Landscape

# ---------------------------------------------------------------------------------
# helpers
# ---------------------------------------------------------------------------------


class _RawBody:
    def __init__(self, body: bytes) -> None:
        self._body = body

    def stream(self, **kwargs: Any) -> Iterator[bytes]:
        yield self._body


def ec2_error(status: int, code: str, message: str) -> AWSResponse:
    """An HTTP answer shaped like EC2's own error document."""
    body = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f"<Response><Errors><Error><Code>{code}</Code><Message>{message}</Message></Error></Errors>"
        "<RequestID>00000000-0000-0000-0000-000000000000</RequestID></Response>"
    ).encode()
    headers: Any = {"Content-Type": "text/xml"}
    return AWSResponse(f"https://ec2.{REGION}.amazonaws.com/", status, headers, _RawBody(body))


def fail(
    client: Any, operation: str, status: int, code: str, message: str = "denied", times: int | None = None
) -> None:
    """Make every call (or the first ``times`` calls) of ``operation`` fail at the HTTP level."""
    remaining = [times]

    def handler(**kwargs: Any) -> AWSResponse | None:
        if remaining[0] is not None:
            if remaining[0] <= 0:
                return None
            remaining[0] -= 1
        return ec2_error(status, code, message)

    client.meta.events.register(f"before-send.ec2.{operation}", handler)


def count_sends(client: Any) -> Counter[str]:
    """HTTP requests per operation, counted independently of the collector."""
    sends: Counter[str] = Counter()

    def handler(event_name: str, **kwargs: Any) -> None:
        sends[event_name.rsplit(".", 1)[-1]] += 1

    client.meta.events.register("before-send.ec2", handler)
    return sends


class PagingShim:
    """Serves moto's answers page by page, as AWS does.

    moto 5.2.5 ignores MaxResults/NextToken on every describe call the collector makes,
    so pagination cannot be observed against it directly: this keeps the full answer and
    hands out MaxResults items per call with a NextToken (an offset) until it is spent.
    """

    def __init__(self, client: Any) -> None:
        self.pages: Counter[str] = Counter()
        client.meta.events.register("before-parameter-build.ec2.*", self._remember)
        client.meta.events.register("after-call.ec2.*", self._slice)

    @staticmethod
    def _remember(params: dict[str, Any], context: dict[str, Any], **kwargs: Any) -> None:
        context["paging"] = (params.get("MaxResults"), params.get("NextToken"))

    def _slice(self, parsed: dict[str, Any], context: dict[str, Any], model: Any, **kwargs: Any) -> None:
        max_results, token = context.get("paging", (None, None))
        if not max_results:
            return
        keys = [k for k, v in parsed.items() if isinstance(v, list)]
        if len(keys) != 1:
            return
        items = parsed[keys[0]]
        start = int(token or 0)
        parsed[keys[0]] = items[start : start + max_results]
        if start + max_results < len(items):
            parsed["NextToken"] = str(start + max_results)
        else:
            parsed.pop("NextToken", None)
        self.pages[model.name] += 1


def collect(ec2: Any, **kwargs: Any) -> NetworkSnapshot:
    return collect_region(ec2, account_id=ACCOUNT, region=REGION, **kwargs)


def by_id(records: Any, attr: str) -> dict[str, Any]:
    return {getattr(r, attr): r for r in records}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# ---------------------------------------------------------------------------------
# session.py
# ---------------------------------------------------------------------------------


def test_make_client_uses_adaptive_retries_and_the_standard_environment(
    aws_env: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    session = boto3.session.Session()
    client = make_client(session, "ec2", REGION)
    assert client.meta.config.retries == {"mode": "adaptive", "total_max_attempts": 9}  # 8 retries
    assert client.meta.region_name == REGION
    assert client.meta.endpoint_url == f"https://ec2.{REGION}.amazonaws.com"

    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:4566")
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "3")
    client = make_client(boto3.session.Session(), "ec2", "eu-west-1")
    assert client.meta.endpoint_url == "http://127.0.0.1:4566"
    assert client.meta.region_name == "eu-west-1"
    assert client.meta.config.retries == {"mode": "adaptive", "total_max_attempts": 3}


def test_account_id_is_the_callers_account(session: boto3.session.Session) -> None:
    assert account_id(session, REGION) == ACCOUNT


def test_call_counter_counts_invocations_per_page_not_retries(ec2: Any) -> None:
    for i in range(12):
        ec2.create_vpc(CidrBlock=f"10.{i}.0.0/16")
    PagingShim(ec2)
    fail(ec2, "DescribeSubnets", 500, "InternalError", "try again", times=1)
    with CallCounter(ec2) as counter:
        pages = list(ec2.get_paginator("describe_vpcs").paginate(PaginationConfig={"PageSize": 5}))
        retried = ec2.describe_subnets()
    assert len(pages) == 3  # 13 VPCs (with the default one) in pages of 5
    assert retried["ResponseMetadata"]["RetryAttempts"] == 1
    assert counter.by_operation == {"DescribeVpcs": 3, "DescribeSubnets": 1}
    assert counter.total == 4
    ec2.describe_vpcs()
    assert counter.total == 4  # closed: no longer counting


# ---------------------------------------------------------------------------------
# A full collection: every record, every field
# ---------------------------------------------------------------------------------


def test_full_collection_maps_every_record(ec2: Any, landscape: Landscape) -> None:
    lab = landscape
    sends = count_sends(ec2)
    snapshot = collect(ec2)

    assert snapshot.errors == ()
    assert snapshot.account_id == ACCOUNT and snapshot.region == REGION and snapshot.scope_vpc_ids == ()
    assert snapshot.api_calls == sum(sends.values())
    # one call per resource type, plus the unavoidable per-resource calls
    assert sends == {
        "DescribeVpcs": 1,
        "DescribeSubnets": 1,
        "DescribeRouteTables": 1,
        "DescribeInternetGateways": 1,
        "DescribeNatGateways": 1,
        "DescribeFlowLogs": 1,
        "DescribeVpcEndpoints": 1,
        "DescribeVpcEndpointServiceConfigurations": 1,
        "DescribeVpcEndpointServicePermissions": 1,  # one own service
        "DescribeVpcPeeringConnections": 1,
        "DescribeTransitGatewayAttachments": 1,
        "DescribeTransitGatewayRouteTables": 1,
        "SearchTransitGatewayRoutes": 2,  # two TGW route tables
        "GetTransitGatewayRouteTablePropagations": 2,  # associations come with the attachments
        "DescribeTransitGateways": 1,
        "DescribeClientVpnEndpoints": 1,
        "DescribeManagedPrefixLists": 1,
        "GetManagedPrefixListEntries": 1,  # corp only: routed, customer-managed
        # what only the path checks read
        "DescribeNetworkAcls": 1,
        "DescribeEgressOnlyInternetGateways": 1,
        "DescribeVpnGateways": 1,
        "DescribeTransitGatewayPeeringAttachments": 1,
    }
    # every action the checks need, except the Client VPN rules moto cannot reach
    assert {f"ec2:{op}" for op in sends} == required_actions() - {"ec2:DescribeClientVpnAuthorizationRules"}

    # VPCs: primary, secondary and IPv6 CIDRs; moto's default VPC is there too
    vpcs = snapshot.vpc_by_id
    assert set(vpcs) >= {lab.app, lab.shared, lab.other}
    assert vpcs[lab.app].cidrs == ("10.0.0.0/16", "10.1.0.0/16", lab.app_ipv6)
    assert vpcs[lab.app].owner_id == ACCOUNT
    assert vpcs[lab.app].tags == {"Name": "app"}
    assert not vpcs[lab.app].is_default and vpcs[lab.app].state == "available"
    assert [v.cidrs for v in snapshot.vpcs if v.is_default] == [("172.31.0.0/16",)]

    # Subnets: IPv4 and IPv6
    subnets = snapshot.subnet_by_id
    assert subnets[lab.app_public].cidr == "10.0.0.0/24"
    assert subnets[lab.app_public].ipv6_cidrs == (lab.app_public_ipv6,)
    assert subnets[lab.app_public].vpc_id == lab.app
    assert subnets[lab.app_public].availability_zone == "us-east-1a"
    assert subnets[lab.app_public].tags == {"Name": "app-public"}
    assert subnets[lab.app_data].cidr == "10.1.0.0/24" and subnets[lab.app_data].ipv6_cidrs == ()
    assert {s.subnet_id for s in snapshot.subnets_by_vpc[lab.app]} == {lab.app_public, lab.app_private, lab.app_data}

    # Route tables: explicit and main associations, edge association, every route kind
    tables = snapshot.route_table_by_id
    main = tables[lab.app_main_rtb]
    assert main.main and main.subnet_ids == () and main.tags == {"Name": "app-main"}
    assert tables[lab.public_rtb].subnet_ids == (lab.app_public,) and not tables[lab.public_rtb].main
    assert tables[lab.edge_rtb].gateway_ids == (lab.igw,) and tables[lab.edge_rtb].subnet_ids == ()
    assert snapshot.effective_route_table[lab.app_data] is main
    assert snapshot.effective_route_table[lab.app_private].route_table_id == lab.private_rtb
    assert set(tables[lab.public_rtb].routes) >= {
        Route("0.0.0.0/0", lab.igw, "active", "CreateRoute"),
        Route("::/0", lab.igw, "active", "CreateRoute"),
        Route("10.0.0.0/16", "local", "active", "CreateRouteTable"),
        Route(lab.app_ipv6, "local", "active", "CreateRouteTable"),
    }
    private_routes = {r.destination: r for r in tables[lab.private_rtb].routes}
    assert private_routes["0.0.0.0/0"] == Route("0.0.0.0/0", lab.nat, "active", "CreateRoute")
    assert private_routes["10.2.0.0/16"].target == lab.pcx_shared
    assert private_routes["10.3.0.0/16"].target == lab.pcx_west
    assert private_routes["10.20.0.0/16"].target == lab.tgw
    assert private_routes[lab.corp_prefix_list].target == lab.tgw
    assert private_routes[lab.corp_prefix_list].is_prefix_list
    assert private_routes[lab.s3_prefix_list].target == lab.s3_endpoint  # moto adds the gateway endpoint route
    assert {r.route_table_id for r in snapshot.route_tables if r.vpc_id == lab.app} == {
        lab.app_main_rtb,
        lab.public_rtb,
        lab.private_rtb,
        lab.edge_rtb,
    }

    # Gateways
    assert snapshot.internet_gateways == (InternetGateway(lab.igw, (lab.app,), ACCOUNT, {}),)
    assert snapshot.nat_gateways == (NatGateway(lab.nat, lab.app, lab.app_public, "available", "public", {}),)

    # Flow logs: VPC level delivering, subnet level failing
    logs = by_id(snapshot.flow_logs, "flow_log_id")
    assert logs[lab.app_flow_log] == FlowLog(lab.app_flow_log, lab.app, "ALL", "ACTIVE", "SUCCESS", None, "s3", {})
    assert logs[lab.shared_flow_log] == FlowLog(
        lab.shared_flow_log, lab.shared_subnet, "REJECT", "ACTIVE", "FAILED", "Access error", "cloud-watch-logs", {}
    )
    assert logs[lab.other_flow_log].resource_id == lab.other

    # Endpoints
    endpoints = snapshot.vpc_endpoint_by_id
    assert endpoints[lab.s3_endpoint] == VpcEndpoint(
        lab.s3_endpoint,
        lab.app,
        f"com.amazonaws.{REGION}.s3",
        "Gateway",
        "available",
        route_table_ids=(lab.private_rtb,),
        subnet_ids=(),
        private_dns_enabled=True,
        owner_id=ACCOUNT,
    )
    ssm = endpoints[lab.ssm_endpoint]
    assert (ssm.endpoint_type, ssm.state, ssm.subnet_ids, ssm.private_dns_enabled) == (
        "Interface",
        "available",
        (lab.app_private,),
        False,
    )
    assert ssm.service == "ssm" and ssm.is_aws_service

    # Own endpoint service and its principals
    (service,) = snapshot.endpoint_services
    assert service == EndpointService(
        lab.endpoint_service,
        f"com.amazonaws.vpce.{REGION}.{lab.endpoint_service}",
        acceptance_required=False,
        allowed_principals=service.allowed_principals,
        state="Available",
        owner_id=ACCOUNT,
    )
    assert set(service.allowed_principals) == {"*", "arn:aws:iam::111122223333:root"}

    # Peerings: same region, cross-region, cross-account; both sides
    peerings = snapshot.peering_by_id
    assert peerings[lab.pcx_shared] == Peering(
        lab.pcx_shared,
        "active",
        PeeringSide(lab.app, ACCOUNT, REGION, ("10.0.0.0/16",)),  # moto reports the primary CIDR only
        PeeringSide(lab.shared, ACCOUNT, REGION, ("10.2.0.0/16",)),
    )
    assert peerings[lab.pcx_west].accepter == PeeringSide(lab.west, ACCOUNT, PEER_REGION, ("10.3.0.0/16",))
    assert peerings[lab.pcx_west].status == "active"
    assert peerings[lab.pcx_partner].accepter == PeeringSide(lab.partner, PEER_ACCOUNT, REGION, ("10.9.0.0/16",))
    assert peerings[lab.pcx_partner].other_side(lab.app) == peerings[lab.pcx_partner].accepter
    assert lab.west not in snapshot.vpc_cidrs  # known through the peering only (its own report of it)

    # Transit gateway, attachments, route tables, routes, propagations
    assert snapshot.transit_gateways == (TransitGateway(lab.tgw, ACCOUNT, "available", "enable", {}),)
    attachments = snapshot.tgw_attachment_by_id
    assert attachments[lab.app_attachment] == TgwAttachment(
        lab.app_attachment, lab.tgw, "vpc", lab.app, ACCOUNT, "available", lab.tgw_rtb, "associated", {}
    )
    assert attachments[lab.shared_attachment].resource_id == lab.shared
    tgw_tables = by_id(snapshot.tgw_route_tables, "route_table_id")
    assert set(tgw_tables) == {lab.tgw_rtb, lab.tgw_spare_rtb}
    default = tgw_tables[lab.tgw_rtb]
    assert default.tgw_id == lab.tgw and default.state == "available"
    assert default.propagations == (lab.shared_attachment,)
    # moto 5.2.5 drops the attachment of static routes and creates no propagated routes
    assert set(default.routes) == {
        TgwRoute("192.168.0.0/16", "static", "active"),
        TgwRoute("172.16.0.0/12", "static", "blackhole"),
    }
    # ... so the model derives the propagated ones from the VPC CIDRs
    assert (
        TgwRoute("10.2.0.0/16", "propagated", "active", (lab.shared_attachment,), derived=True)
        in (snapshot.tgw_routes[lab.tgw_rtb])
    )
    assert tgw_tables[lab.tgw_spare_rtb].routes == (TgwRoute("10.99.0.0/16", "static", "active"),)

    # Prefix lists: entries of the routed customer list only
    lists = snapshot.prefix_list_by_id
    assert lists[lab.corp_prefix_list] == PrefixList(
        lab.corp_prefix_list, "corp", ("192.168.10.0/24", "192.168.11.0/24"), ACCOUNT
    )
    assert lists[lab.unused_prefix_list].cidrs is None  # customer-managed, but no route uses it
    assert lists[lab.s3_prefix_list] == PrefixList(lab.s3_prefix_list, f"com.amazonaws.{REGION}.s3", None, "AWS")

    # Client VPN: moto has none
    assert snapshot.client_vpn_endpoints == ()
    assert [u.action for u in snapshot.unsupported] == ["ec2:DescribeClientVpnEndpoints"]


def test_call_count_does_not_grow_with_the_number_of_vpcs(ec2: Any) -> None:
    def add_vpcs(count: int, offset: int) -> None:
        for i in range(offset, offset + count):
            vpc = ec2.create_vpc(CidrBlock=f"10.{i}.0.0/16")["Vpc"]["VpcId"]
            subnet = ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.{i}.1.0/24")["Subnet"]["SubnetId"]
            rtb = ec2.create_route_table(VpcId=vpc)["RouteTable"]["RouteTableId"]
            ec2.associate_route_table(RouteTableId=rtb, SubnetId=subnet)

    add_vpcs(1, 0)
    small = collect(ec2)
    add_vpcs(30, 1)
    large = collect(ec2)
    assert len(large.vpcs) == len(small.vpcs) + 30
    assert len(large.subnets) == len(small.subnets) + 30
    # one call per resource type; no transit gateway (so no TGW route table to list) and no
    # route to a prefix list (so no prefix list to describe)
    assert large.api_calls == small.api_calls == 16  # 12, and the 4 path parts


# ---------------------------------------------------------------------------------
# Pagination
# ---------------------------------------------------------------------------------


@pytest.mark.parametrize("via", ["keyword", "module constant"])
def test_pagination_collects_every_page_and_counts_each(ec2: Any, monkeypatch: pytest.MonkeyPatch, via: str) -> None:
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    for i in range(25):
        ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.0.{i}.0/24")
    expected_subnets = len(ec2.describe_subnets()["Subnets"])  # 25 + moto's 6 default subnets
    shim = PagingShim(ec2)
    sends = count_sends(ec2)

    if via == "keyword":
        snapshot = collect(ec2, page_size=10)
    else:
        monkeypatch.setattr(collect_ec2, "PAGE_SIZE", 10)
        snapshot = collect(ec2)

    assert snapshot.errors == ()
    assert len(snapshot.subnets) == expected_subnets == 31
    assert len({s.subnet_id for s in snapshot.subnets}) == 31
    assert shim.pages["DescribeSubnets"] == sends["DescribeSubnets"] == math.ceil(31 / 10)
    assert len(snapshot.vpcs) == 2 and sends["DescribeVpcs"] == 1
    assert snapshot.api_calls == sum(sends.values())


def test_page_size_is_clamped_to_what_each_operation_accepts(ec2: Any) -> None:
    """MaxResults 5..100 for route tables and prefix lists; 5..1000 for most others."""
    seen: dict[str, int] = {}

    def remember(params: dict[str, Any], model: Any, **kwargs: Any) -> None:
        if "MaxResults" in params:
            seen[model.name] = params["MaxResults"]

    vpc = ec2.describe_vpcs()["Vpcs"][0]["VpcId"]
    main = ec2.describe_route_tables(Filters=[{"Name": "vpc-id", "Values": [vpc]}])["RouteTables"][0]["RouteTableId"]
    ec2.create_vpc_endpoint(  # a route to the S3 prefix list: prefix lists are described
        VpcEndpointType="Gateway", VpcId=vpc, ServiceName=f"com.amazonaws.{REGION}.s3", RouteTableIds=[main]
    )
    ec2.meta.events.register("before-parameter-build.ec2", remember)
    assert collect(ec2, page_size=2).errors == ()
    assert seen["DescribeVpcs"] == 5 and seen["DescribeManagedPrefixLists"] == 2  # its minimum is 1
    assert collect(ec2, page_size=5000).errors == ()
    assert seen["DescribeVpcs"] == 1000 and seen["DescribeRouteTables"] == 100
    assert seen["DescribeManagedPrefixLists"] == 100
    assert "SearchTransitGatewayRoutes" not in seen  # its default is its maximum


# ---------------------------------------------------------------------------------
# Errors
# ---------------------------------------------------------------------------------


@pytest.mark.parametrize("code", ["AccessDenied", "UnauthorizedOperation"])
def test_a_denied_action_is_recorded_and_the_rest_is_collected(ec2: Any, landscape: Landscape, code: str) -> None:
    complete = collect(ec2)
    fail(ec2, "DescribeFlowLogs", 403, code, "You are not authorized to perform this operation.")
    snapshot = collect(ec2)

    assert snapshot.errors == (
        CollectionError("ec2:DescribeFlowLogs", REGION, code, "You are not authorized to perform this operation."),
    )
    assert snapshot.failed_actions == {"ec2:DescribeFlowLogs"}
    assert snapshot.flow_logs == ()
    for name in (
        "vpcs",
        "subnets",
        "route_tables",
        "internet_gateways",
        "nat_gateways",
        "vpc_endpoints",
        "endpoint_services",
        "peerings",
        "transit_gateways",
        "tgw_attachments",
        "tgw_route_tables",
        "prefix_lists",
        "unsupported",
    ):
        assert getattr(snapshot, name) == getattr(complete, name), name
    assert snapshot.api_calls == complete.api_calls  # the denied call counts


def test_a_denied_per_resource_call_names_the_resource(ec2: Any, landscape: Landscape) -> None:
    fail(ec2, "DescribeVpcEndpointServicePermissions", 403, "UnauthorizedOperation", "no")
    snapshot = collect(ec2)
    assert snapshot.errors == (
        CollectionError(
            "ec2:DescribeVpcEndpointServicePermissions",
            REGION,
            "UnauthorizedOperation",
            f"{landscape.endpoint_service}: no",
        ),
    )
    (service,) = snapshot.endpoint_services
    assert service.service_id == landscape.endpoint_service and service.allowed_principals == ()


def test_failed_prefix_list_entries_leave_the_cidrs_unknown(ec2: Any, landscape: Landscape) -> None:
    fail(ec2, "GetManagedPrefixListEntries", 403, "UnauthorizedOperation")
    snapshot = collect(ec2)
    assert [(e.action, e.code, e.message) for e in snapshot.errors] == [
        ("ec2:GetManagedPrefixListEntries", "UnauthorizedOperation", f"{landscape.corp_prefix_list}: denied")
    ]
    assert snapshot.prefix_list_by_id[landscape.corp_prefix_list].cidrs is None  # unknown, not empty


def test_throttling_past_the_retries_is_recorded(aws: None) -> None:
    client = boto3.client("ec2", region_name=REGION, config=Config(retries={"mode": "standard", "max_attempts": 2}))
    fail(client, "DescribeNatGateways", 400, "RequestLimitExceeded", "Request limit exceeded.")
    snapshot = collect(client)
    assert snapshot.errors == (
        CollectionError("ec2:DescribeNatGateways", REGION, "RequestLimitExceeded", "Request limit exceeded."),
    )
    assert snapshot.vpcs != ()


def test_missing_credentials_propagate(aws_env: None, monkeypatch: pytest.MonkeyPatch) -> None:
    for var in (
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
        "AWS_CONTAINER_CREDENTIALS_FULL_URI",
        "AWS_WEB_IDENTITY_TOKEN_FILE",
    ):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("AWS_ENDPOINT_URL", f"http://127.0.0.1:{free_port()}")
    client = make_client(boto3.session.Session(), "ec2", REGION)
    with pytest.raises(NoCredentialsError):
        collect(client)


def test_invalid_credentials_propagate(ec2: Any) -> None:
    fail(ec2, "DescribeVpcs", 401, "AuthFailure", "AWS was not able to validate the provided access credentials")
    with pytest.raises(ClientError, match="AuthFailure"):
        collect(ec2)


def test_an_unreachable_endpoint_costs_one_failed_call_not_one_per_action(
    aws_env: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL", f"http://127.0.0.1:{free_port()}")
    client = boto3.session.Session().client("ec2", region_name=REGION, config=Config(retries={"max_attempts": 0}))
    snapshot = collect(client)
    assert snapshot.api_calls == 1
    assert {e.code for e in snapshot.errors} == {"EndpointConnectionError"}
    assert {e.action for e in snapshot.errors} == {
        f"ec2:{op}"
        for op in (
            "DescribeVpcs",
            "DescribeSubnets",
            "DescribeRouteTables",
            "DescribeInternetGateways",
            "DescribeNatGateways",
            "DescribeFlowLogs",
            "DescribeVpcEndpoints",
            "DescribeVpcEndpointServiceConfigurations",
            "DescribeVpcPeeringConnections",
            "DescribeTransitGatewayAttachments",
            "DescribeTransitGatewayRouteTables",
            "DescribeTransitGateways",
            "DescribeClientVpnEndpoints",
            *PATH_EMPTY,
        )
    }  # no route is known to name a prefix list: none is asked for


# ---------------------------------------------------------------------------------
# Transit gateway route search: truncation
# ---------------------------------------------------------------------------------


def _force_additional_routes(client: Any, *, when_typed: bool) -> Counter[str]:
    """Make SearchTransitGatewayRoutes claim more routes exist (without a NextToken):
    always, or only for queries without a ``type`` filter."""
    queries: Counter[str] = Counter()

    def remember(params: dict[str, Any], context: dict[str, Any], **kwargs: Any) -> None:
        names = {f["Name"] for f in params.get("Filters", [])}
        context["typed"] = "type" in names
        queries["typed" if "type" in names else "untyped"] += 1

    def claim_more(parsed: dict[str, Any], context: dict[str, Any], **kwargs: Any) -> None:
        if when_typed or not context.get("typed"):
            parsed["AdditionalRoutesAvailable"] = True

    client.meta.events.register("before-parameter-build.ec2.SearchTransitGatewayRoutes", remember)
    client.meta.events.register("after-call.ec2.SearchTransitGatewayRoutes", claim_more)
    return queries


def test_truncated_tgw_route_search_is_split_by_route_type(ec2: Any, landscape: Landscape) -> None:
    queries = _force_additional_routes(ec2, when_typed=False)
    snapshot = collect(ec2)
    assert snapshot.errors == ()
    assert queries == {"untyped": 2, "typed": 4}  # two tables, each split in static + propagated
    table = by_id(snapshot.tgw_route_tables, "route_table_id")[landscape.tgw_rtb]
    assert {r.destination for r in table.routes} == {"192.168.0.0/16", "172.16.0.0/12"}


def test_a_still_truncated_tgw_route_search_is_recorded(ec2: Any, landscape: Landscape) -> None:
    _force_additional_routes(ec2, when_typed=True)
    snapshot = collect(ec2)
    assert [(e.action, e.code) for e in snapshot.errors] == [("ec2:SearchTransitGatewayRoutes", "Truncated")]
    assert "static routes" in snapshot.errors[0].message
    assert snapshot.errors[0].message.startswith("tgw-rtb-")
    table = by_id(snapshot.tgw_route_tables, "route_table_id")[landscape.tgw_rtb]
    assert {r.destination for r in table.routes} == {"192.168.0.0/16", "172.16.0.0/12"}  # what was returned


# ---------------------------------------------------------------------------------
# Scope
# ---------------------------------------------------------------------------------


def test_scoped_collection_returns_the_scope_and_the_context_it_needs(ec2: Any, landscape: Landscape) -> None:
    lab = landscape
    full = collect(ec2)
    sends = count_sends(ec2)
    snapshot = collect(ec2, vpc_ids=[lab.app])

    assert snapshot.errors == ()
    assert snapshot.scope_vpc_ids == (lab.app,)
    assert snapshot.api_calls == sum(sends.values())
    # shared is context: its attachment propagates into the TGW route table app uses
    assert {v.vpc_id for v in snapshot.vpcs} == {lab.app, lab.shared}
    assert snapshot.vpc_by_id[lab.shared].cidrs == ("10.2.0.0/16",)
    assert {s.vpc_id for s in snapshot.subnets} == {lab.app}
    assert len(snapshot.subnets) == 3
    assert {r.vpc_id for r in snapshot.route_tables} == {lab.app}
    assert len(snapshot.route_tables) == 4
    assert [g.gateway_id for g in snapshot.internet_gateways] == [lab.igw]
    assert [n.nat_gateway_id for n in snapshot.nat_gateways] == [lab.nat]
    assert [f.flow_log_id for f in snapshot.flow_logs] == [lab.app_flow_log]
    assert {e.endpoint_id for e in snapshot.vpc_endpoints} == {lab.s3_endpoint, lab.ssm_endpoint}
    assert snapshot.endpoint_services == ()  # not VPC-bound
    assert {p.peering_id for p in snapshot.peerings} == {lab.pcx_shared, lab.pcx_west, lab.pcx_partner}
    assert snapshot.peering_by_id[lab.pcx_shared] == full.peering_by_id[lab.pcx_shared]
    assert {a.attachment_id for a in snapshot.tgw_attachments} == {lab.app_attachment, lab.shared_attachment}
    # the table app's attachment is associated with (its Association says which); the spare
    # table, which app neither is associated with nor propagates into, has only its
    # propagations read (to learn that), not its routes
    scoped_tables = by_id(snapshot.tgw_route_tables, "route_table_id")
    assert set(scoped_tables) == {lab.tgw_rtb}
    assert scoped_tables[lab.tgw_rtb] == by_id(full.tgw_route_tables, "route_table_id")[lab.tgw_rtb]
    assert snapshot.tgw_tables_of_attachment[lab.app_attachment] == (lab.tgw_rtb,)
    assert snapshot.tgw_routes[lab.tgw_rtb] == full.tgw_routes[lab.tgw_rtb]
    assert [t.tgw_id for t in snapshot.transit_gateways] == [lab.tgw]
    assert {p.prefix_list_id: p.cidrs for p in snapshot.prefix_lists} == {
        lab.corp_prefix_list: ("192.168.10.0/24", "192.168.11.0/24"),
        lab.s3_prefix_list: None,
    }
    assert "DescribeVpcEndpointServiceConfigurations" not in sends
    assert sends["GetTransitGatewayRouteTablePropagations"] == 2  # every table of app's gateway
    assert sends["SearchTransitGatewayRoutes"] == 1  # only the table app uses
    assert "GetTransitGatewayRouteTableAssociations" not in sends
    assert sends["DescribeVpcPeeringConnections"] == 2  # requester side, accepter side
    assert sends["DescribeVpcs"] == 1  # app and its neighbours at once


def test_scoped_collection_of_a_vpc_without_neighbours(ec2: Any, landscape: Landscape) -> None:
    snapshot = collect(ec2, vpc_ids=[landscape.other])
    assert snapshot.errors == ()
    assert [v.vpc_id for v in snapshot.vpcs] == [landscape.other]
    assert [s.subnet_id for s in snapshot.subnets] == [landscape.other_subnet]
    assert [f.flow_log_id for f in snapshot.flow_logs] == [landscape.other_flow_log]
    assert snapshot.peerings == () and snapshot.tgw_attachments == () and snapshot.tgw_route_tables == ()
    assert snapshot.transit_gateways == () and snapshot.prefix_lists == () and snapshot.vpc_endpoints == ()


def test_scope_filters_are_chunked_at_200_values(ec2: Any, landscape: Landscape) -> None:
    filters: list[tuple[str, int]] = []

    def remember(params: dict[str, Any], model: Any, **kwargs: Any) -> None:
        for entry in params.get("Filters", params.get("Filter", [])):
            filters.append((model.name, len(entry["Values"])))

    ec2.meta.events.register("before-parameter-build.ec2", remember)
    scope = [landscape.app, *(f"vpc-{i:017x}" for i in range(449))]
    snapshot = collect(ec2, vpc_ids=scope)

    assert snapshot.errors == ()
    assert snapshot.scope_vpc_ids == tuple(scope)
    assert {s.vpc_id for s in snapshot.subnets} == {landscape.app}
    assert max(n for _, n in filters) == 200
    assert [n for op, n in filters if op == "DescribeSubnets"] == [200, 200, 50]
    assert [n for op, n in filters if op == "DescribeFlowLogs"] == [200, 200, 53]  # VPCs + the 3 subnets
    assert [n for op, n in filters if op == "DescribeVpcPeeringConnections"] == [200, 200, 50] * 2


# ---------------------------------------------------------------------------------
# Client VPN
# ---------------------------------------------------------------------------------


def test_client_vpn_missing_in_moto_is_unsupported_not_an_error(ec2: Any) -> None:
    sends = count_sends(ec2)
    snapshot = collect(ec2)
    assert snapshot.errors == ()
    assert snapshot.client_vpn_endpoints == ()
    assert snapshot.unsupported == (
        CollectionError(
            "ec2:DescribeClientVpnEndpoints",
            REGION,
            "NotImplemented",
            "The describe_client_vpn_endpoints action has not been implemented",
        ),
    )
    assert "ec2:DescribeClientVpnEndpoints" not in snapshot.failed_actions
    assert sends["DescribeClientVpnEndpoints"] == 1 and "DescribeClientVpnAuthorizationRules" not in sends


def test_client_vpn_missing_in_moto_server_is_unsupported_and_not_retried(
    aws_env: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """moto server answers an unimplemented action with a Werkzeug HTML 500: recognised as
    "not implemented", never retried (make_client allows 8 retries with backoff)."""
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        monkeypatch.setenv("AWS_ENDPOINT_URL", f"http://{host}:{port}")
        client = make_client(boto3.session.Session(), "ec2", REGION)
        sends = count_sends(client)
        snapshot = collect(client)
    finally:
        server.stop()

    assert sends["DescribeClientVpnEndpoints"] == 1  # no retry (counted, not timed)
    assert snapshot.errors == ()
    assert [(u.action, u.code) for u in snapshot.unsupported] == [("ec2:DescribeClientVpnEndpoints", "NotImplemented")]
    assert "HTTP 500" in snapshot.unsupported[0].message
    assert any(v.is_default for v in snapshot.vpcs)  # the rest came through


# Responses shaped exactly like AWS's documented examples (EC2 API reference and
# `aws ec2 describe-client-vpn-endpoints` / `describe-client-vpn-authorization-rules`).
ACM = "arn:aws:acm:ap-south-1:123456789012:certificate"
CVPN_ENDPOINTS = {
    "ClientVpnEndpoints": [
        {
            "ClientVpnEndpointId": "cvpn-endpoint-123456789123abcde",
            "Description": "Endpoint for Admin access",
            "Status": {"Code": "available"},
            "CreationTime": "2020-11-13 11:37:27",
            "DnsName": "*.cvpn-endpoint-123456789123abcde.prod.clientvpn.ap-south-1.amazonaws.com",
            "ClientCidrBlock": "172.31.0.0/16",
            "DnsServers": ["8.8.8.8"],
            "SplitTunnel": False,
            "VpnProtocol": "openvpn",
            "TransportProtocol": "udp",
            "VpnPort": 443,
            "ServerCertificateArn": f"{ACM}/a1b2c3d4-5678-90ab-cdef-11111EXAMPLE",
            "AuthenticationOptions": [
                {
                    "Type": "certificate-authentication",
                    "MutualAuthentication": {
                        "ClientRootCertificateChain": f"{ACM}/a1b2c3d4-5678-90ab-cdef-22222EXAMPLE"
                    },
                }
            ],
            "ConnectionLogOptions": {
                "Enabled": True,
                "CloudwatchLogGroup": "Client-vpn-connection-logs",
                "CloudwatchLogStream": "cvpn-endpoint-123456789123abcde-ap-south-1-2020/11/13-FCD8HEMVaCcw",
            },
            "Tags": [{"Key": "Name", "Value": "Client VPN"}],
            "SecurityGroupIds": ["sg-aabbcc11223344567"],
            "VpcId": "vpc-a87f92c1",
            "SelfServicePortalUrl": "https://self-service.clientvpn.amazonaws.com/endpoints/cvpn-endpoint-123456789123abcde",
            "ClientConnectOptions": {"Enabled": False},
        },
        {
            "ClientVpnEndpointId": "cvpn-endpoint-0123456789abcdef0",
            "Status": {"Code": "pending-associate"},
            "ClientCidrBlock": "10.100.0.0/22",
            "ConnectionLogOptions": {"Enabled": False},
            "VpcId": "vpc-0b9f3c5e7d1a2b3c4",
        },
        {
            "ClientVpnEndpointId": "cvpn-endpoint-00000000000000000",
            "Status": {"Code": "deleted"},
            "DeletionTime": "2020-11-14 09:00:00",
        },
    ]
}
CVPN_RULES = {
    "cvpn-endpoint-123456789123abcde": {
        "AuthorizationRules": [
            {
                "ClientVpnEndpointId": "cvpn-endpoint-123456789123abcde",
                "GroupId": "",
                "AccessAll": True,
                "DestinationCidr": "0.0.0.0/0",
                "Status": {"Code": "active"},
            }
        ]
    },
    "cvpn-endpoint-0123456789abcdef0": {
        "AuthorizationRules": [
            {
                "ClientVpnEndpointId": "cvpn-endpoint-0123456789abcdef0",
                "Description": "Engineering",
                "GroupId": "S-1-2-34-1234567890-1234567890-1234567890-1234",
                "AccessAll": False,
                "DestinationCidr": "10.0.0.0/16",
                "Status": {"Code": "authorizing"},
            }
        ]
    },
}
# The call plan of a full collection of a region with no transit gateway and no route to a
# prefix list, in order, up to the Client VPN endpoints: no TGW route table and no prefix
# list is asked for there.
EMPTY: dict[str, dict[str, Any]] = {
    "DescribeVpcs": {"Vpcs": []},
    "DescribeSubnets": {"Subnets": []},
    "DescribeRouteTables": {"RouteTables": []},
    "DescribeInternetGateways": {"InternetGateways": []},
    "DescribeNatGateways": {"NatGateways": []},
    "DescribeFlowLogs": {"FlowLogs": []},
    "DescribeVpcEndpoints": {"VpcEndpoints": []},
    "DescribeVpcEndpointServiceConfigurations": {"ServiceConfigurations": []},
    "DescribeVpcPeeringConnections": {"VpcPeeringConnections": []},
    "DescribeTransitGatewayAttachments": {"TransitGatewayAttachments": []},
    "DescribeTransitGateways": {"TransitGateways": []},
}
# Then, after the Client VPN endpoints: what only the path checks read
# (reachability-intent, routes-return-path).
PATH_EMPTY: dict[str, dict[str, Any]] = {
    "DescribeNetworkAcls": {"NetworkAcls": []},
    "DescribeEgressOnlyInternetGateways": {"EgressOnlyInternetGateways": []},
    "DescribeVpnGateways": {"VpnGateways": []},
    "DescribeTransitGatewayPeeringAttachments": {"TransitGatewayPeeringAttachments": []},
}


@pytest.fixture
def stubbed(aws_env: None) -> Iterator[tuple[Any, Stubber]]:
    client = boto3.client("ec2", region_name=REGION)
    with Stubber(client) as stubber:
        yield client, stubber
        stubber.assert_no_pending_responses()


def _stub(stubber: Stubber, operation: str, response: dict[str, Any], params: dict[str, Any] | None = None) -> None:
    from botocore import xform_name

    stubber.add_response(xform_name(operation), response, params)


def stub_path_parts(stubber: Stubber) -> None:
    for op in PATH_EMPTY:
        _stub(stubber, op, PATH_EMPTY[op])


def test_client_vpn_endpoints_and_rules_are_mapped(stubbed: tuple[Any, Stubber]) -> None:
    """botocore's Stubber answers with responses shaped exactly like AWS's documented
    DescribeClientVpnEndpoints / DescribeClientVpnAuthorizationRules responses (the Stubber
    also validates them against the service model). The whole call plan of a full
    collection of an otherwise empty region is stubbed, in order."""
    client, stubber = stubbed
    for op in EMPTY:
        _stub(stubber, op, EMPTY[op])
    _stub(stubber, "DescribeClientVpnEndpoints", CVPN_ENDPOINTS)
    for endpoint_id, rules in CVPN_RULES.items():  # none for the deleted endpoint
        _stub(
            stubber,
            "DescribeClientVpnAuthorizationRules",
            rules,
            {"ClientVpnEndpointId": endpoint_id, "MaxResults": 1000},
        )
    stub_path_parts(stubber)

    snapshot = collect(client)

    assert snapshot.errors == () and snapshot.unsupported == ()
    assert snapshot.api_calls == len(EMPTY) + 1 + 2 + len(PATH_EMPTY)
    assert snapshot.client_vpn_endpoints == (
        ClientVpnEndpoint(
            "cvpn-endpoint-123456789123abcde",
            "vpc-a87f92c1",
            connection_logging=True,
            status="available",
            authorization_rules=(ClientVpnAuthorizationRule("0.0.0.0/0", True, "", "active"),),
            tags={"Name": "Client VPN"},
        ),
        ClientVpnEndpoint(
            "cvpn-endpoint-0123456789abcdef0",
            "vpc-0b9f3c5e7d1a2b3c4",
            connection_logging=False,
            status="pending-associate",
            authorization_rules=(
                ClientVpnAuthorizationRule(
                    "10.0.0.0/16", False, "S-1-2-34-1234567890-1234567890-1234567890-1234", "authorizing"
                ),
            ),
        ),
    )


def test_scoped_client_vpn_keeps_the_endpoints_of_scoped_vpcs(stubbed: tuple[Any, Stubber]) -> None:
    """Same documented shapes; a scoped collection where the VPC has nothing else."""
    client, stubber = stubbed
    scope = "vpc-0b9f3c5e7d1a2b3c4"
    by_vpc = [{"Name": "vpc-id", "Values": [scope]}]
    _stub(stubber, "DescribeSubnets", EMPTY["DescribeSubnets"], {"Filters": by_vpc, "MaxResults": 1000})
    _stub(stubber, "DescribeRouteTables", EMPTY["DescribeRouteTables"], {"Filters": by_vpc, "MaxResults": 100})
    _stub(
        stubber,
        "DescribeInternetGateways",
        EMPTY["DescribeInternetGateways"],
        {"Filters": [{"Name": "attachment.vpc-id", "Values": [scope]}], "MaxResults": 1000},
    )
    _stub(stubber, "DescribeNatGateways", EMPTY["DescribeNatGateways"], {"Filter": by_vpc, "MaxResults": 1000})
    _stub(
        stubber,
        "DescribeFlowLogs",
        EMPTY["DescribeFlowLogs"],
        {"Filter": [{"Name": "resource-id", "Values": [scope]}], "MaxResults": 1000},
    )
    _stub(stubber, "DescribeVpcEndpoints", EMPTY["DescribeVpcEndpoints"], {"Filters": by_vpc, "MaxResults": 1000})
    for side in ("requester-vpc-info.vpc-id", "accepter-vpc-info.vpc-id"):
        _stub(
            stubber,
            "DescribeVpcPeeringConnections",
            EMPTY["DescribeVpcPeeringConnections"],
            {"Filters": [{"Name": side, "Values": [scope]}], "MaxResults": 1000},
        )
    _stub(
        stubber,
        "DescribeTransitGatewayAttachments",
        EMPTY["DescribeTransitGatewayAttachments"],
        {"Filters": [{"Name": "resource-id", "Values": [scope]}], "MaxResults": 1000},
    )
    # no attachment: no TGW route table, no TGW, no prefix list is needed; the VPC (and
    # neighbours it has none of) once the peerings and attachments have named them
    _stub(stubber, "DescribeVpcs", EMPTY["DescribeVpcs"], {"Filters": by_vpc, "MaxResults": 1000})
    _stub(stubber, "DescribeClientVpnEndpoints", CVPN_ENDPOINTS)
    _stub(stubber, "DescribeClientVpnAuthorizationRules", CVPN_RULES["cvpn-endpoint-0123456789abcdef0"])

    snapshot = collect(client, vpc_ids=[scope])

    assert snapshot.errors == () and snapshot.api_calls == 12
    assert [e.endpoint_id for e in snapshot.client_vpn_endpoints] == ["cvpn-endpoint-0123456789abcdef0"]


def test_sparse_answers_map_to_defaults_without_errors(stubbed: tuple[Any, Stubber]) -> None:
    """Every field of a real answer may be missing: records get defaults, never a KeyError."""
    client, stubber = stubbed
    plan: list[tuple[str, dict[str, Any]]] = [
        ("DescribeVpcs", {"Vpcs": [{"VpcId": "vpc-1", "CidrBlock": "10.0.0.0/16"}, {}]}),
        ("DescribeSubnets", {"Subnets": [{"SubnetId": "subnet-1"}, {}]}),
        (
            "DescribeRouteTables",
            {
                "RouteTables": [
                    {
                        "RouteTableId": "rtb-1",
                        "Associations": [{}, {"Main": True}, {"SubnetId": "subnet-1", "AssociationState": {}}],
                        "Routes": [{}, {"DestinationPrefixListId": "pl-1", "TransitGatewayId": "tgw-1"}],
                    },
                    {},
                ]
            },
        ),
        ("DescribeInternetGateways", {"InternetGateways": [{"Attachments": [{}]}]}),
        ("DescribeNatGateways", {"NatGateways": [{}]}),
        ("DescribeFlowLogs", {"FlowLogs": [{}]}),
        ("DescribeVpcEndpoints", {"VpcEndpoints": [{"State": "PendingAcceptance"}]}),
        ("DescribeVpcEndpointServiceConfigurations", {"ServiceConfigurations": [{"ServiceId": "vpce-svc-1"}, {}]}),
        ("DescribeVpcEndpointServicePermissions", {"AllowedPrincipals": [{}, {"Principal": "*"}]}),
        ("DescribeVpcPeeringConnections", {"VpcPeeringConnections": [{"RequesterVpcInfo": {}}]}),
        ("DescribeTransitGatewayAttachments", {"TransitGatewayAttachments": [{"Association": {}}]}),
        ("DescribeTransitGateways", {"TransitGateways": [{"Options": {}}]}),
        (
            "DescribeTransitGatewayRouteTables",
            {"TransitGatewayRouteTables": [{"TransitGatewayRouteTableId": "tgw-rtb-1"}]},
        ),
        ("SearchTransitGatewayRoutes", {"Routes": [{}, {"PrefixListId": "pl-2", "TransitGatewayAttachments": [{}]}]}),
        ("GetTransitGatewayRouteTablePropagations", {"TransitGatewayRouteTablePropagations": [{}]}),
        ("DescribeClientVpnEndpoints", {"ClientVpnEndpoints": [{"ClientVpnEndpointId": "cvpn-endpoint-1"}, {}]}),
        ("DescribeClientVpnAuthorizationRules", {"AuthorizationRules": [{}]}),
        ("DescribeManagedPrefixLists", {"PrefixLists": [{"PrefixListId": "pl-1"}, {"PrefixListId": "pl-2"}, {}]}),
        ("GetManagedPrefixListEntries", {"Entries": [{}, {"Cidr": "192.0.2.0/24"}]}),
        ("GetManagedPrefixListEntries", {}),
        ("DescribeNetworkAcls", {"NetworkAcls": [{"Entries": [{}], "Associations": [{}]}]}),
        ("DescribeEgressOnlyInternetGateways", {"EgressOnlyInternetGateways": [{"Attachments": [{}]}]}),
        ("DescribeVpnGateways", {"VpnGateways": [{}]}),
        ("DescribeTransitGatewayPeeringAttachments", {"TransitGatewayPeeringAttachments": [{}]}),
    ]
    for op, response in plan:
        _stub(stubber, op, response)

    snapshot = collect(client)

    assert snapshot.errors == () and snapshot.api_calls == len(plan)
    assert snapshot.vpcs[0].cidrs == ("10.0.0.0/16",) and snapshot.vpcs[1].vpc_id == ""
    assert snapshot.subnets[0].cidr is None
    table = snapshot.route_tables[0]
    assert table.main and table.subnet_ids == ("subnet-1",)
    assert table.routes == (Route("pl-1", "tgw-1"),)
    assert snapshot.internet_gateways[0].vpc_ids == ()
    assert snapshot.flow_logs[0].traffic_type is None and snapshot.flow_logs[0].deliver_status is None
    assert snapshot.vpc_endpoints[0].state == "pendingacceptance"
    assert snapshot.endpoint_services[0].allowed_principals == ("*",)
    assert snapshot.endpoint_services[1].allowed_principals == ()  # no id: permissions not asked
    assert snapshot.peerings[0].requester == PeeringSide("", "", REGION, ())
    assert snapshot.tgw_attachments[0].association_route_table_id is None
    assert snapshot.tgw_tables_of_attachment == {}
    assert snapshot.tgw_route_tables[0].routes == (TgwRoute("pl-2", "static", "active"),)
    assert snapshot.tgw_route_tables[0].propagations == ()
    assert snapshot.transit_gateways[0].auto_accept_shared_attachments == "disable"
    assert snapshot.client_vpn_endpoints[0].vpc_id is None
    assert snapshot.client_vpn_endpoints[0].authorization_rules == (
        ClientVpnAuthorizationRule("", False, "", "active"),
    )
    assert len(snapshot.client_vpn_endpoints) == 2
    assert {p.prefix_list_id: p.cidrs for p in snapshot.prefix_lists} == {
        "pl-1": ("192.0.2.0/24",),
        "pl-2": (),
        "": None,
    }


# DescribeVpcEndpoints / DescribeFlowLogs answers shaped exactly like AWS's documented ones:
# the first record of each is the `aws ec2 describe-vpc-endpoints` / `describe-flow-logs`
# example of the AWS CLI reference verbatim; the others add the members the EC2 API
# reference documents for VpcEndpoint (ServiceRegion: "the Region where the service is
# hosted", RequesterManaged: "whether the endpoint is being managed by its service") and
# FlowLog (DeliverLogsStatus SUCCESS | FAILED, DeliverLogsErrorMessage "Rate limited",
# "Access error" or "Unknown error"), with the service names AWS uses (cross-region
# PrivateLink names the remote region; IAM is the global com.amazonaws.iam). The Stubber
# validates each answer against botocore's EC2 model.
VPC_ENDPOINTS = {
    "VpcEndpoints": [
        {
            "PolicyDocument": (
                '{"Version":"2008-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"*","Resource":"*"}]}'
            ),
            "VpcId": "vpc-aabb1122",
            "NetworkInterfaceIds": [],
            "SubnetIds": [],
            "PrivateDnsEnabled": True,
            "State": "available",
            "ServiceName": "com.amazonaws.us-east-1.dynamodb",
            "RouteTableIds": ["rtb-3d560345"],
            "Groups": [],
            "VpcEndpointId": "vpce-032a826a",
            "VpcEndpointType": "Gateway",
            "CreationTimestamp": "2017-09-05T20:41:28Z",
            "DnsEntries": [],
        },
        {
            "VpcEndpointId": "vpce-0f89a33420c1931d7",
            "VpcEndpointType": "Interface",
            "VpcId": "vpc-1a2b3c4d",
            "ServiceName": "com.amazonaws.us-east-1.elasticloadbalancing",
            "State": "available",
            "SubnetIds": ["subnet-d6fcaa8d", "subnet-7b16de0c"],
            "NetworkInterfaceIds": ["eni-2ec2b084", "eni-1b4a65cf"],
            "Groups": [{"GroupName": "default", "GroupId": "sg-54e8bf31"}],
            "PrivateDnsEnabled": False,
            "RequesterManaged": False,
            "OwnerId": ACCOUNT,
            "ServiceRegion": "us-east-1",
            "CreationTimestamp": "2017-09-05T17:55:27.583Z",
        },
        {
            "VpcEndpointId": "vpce-0a1b2c3d4e5f60001",
            "VpcEndpointType": "Interface",
            "VpcId": "vpc-1a2b3c4d",
            "ServiceName": "com.amazonaws.us-west-2.s3",
            "State": "available",
            "SubnetIds": ["subnet-d6fcaa8d"],
            "PrivateDnsEnabled": False,
            "RequesterManaged": False,
            "OwnerId": ACCOUNT,
            "ServiceRegion": "us-west-2",
            "Tags": [{"Key": "Name", "Value": "s3-in-oregon"}],
        },
        {
            "VpcEndpointId": "vpce-0a1b2c3d4e5f60002",
            "VpcEndpointType": "Interface",
            "VpcId": "vpc-1a2b3c4d",
            "ServiceName": "com.amazonaws.us-east-1.transfer.server",
            "State": "available",
            "SubnetIds": ["subnet-d6fcaa8d"],
            "PrivateDnsEnabled": False,
            "RequesterManaged": True,
            "OwnerId": ACCOUNT,
        },
        {
            "VpcEndpointId": "vpce-0a1b2c3d4e5f60003",
            "VpcEndpointType": "Interface",
            "VpcId": "vpc-1a2b3c4d",
            "ServiceName": "com.amazonaws.iam",
            "State": "pending",
            "SubnetIds": ["subnet-d6fcaa8d"],
            "PrivateDnsEnabled": True,
            "OwnerId": ACCOUNT,
        },
    ]
}
FLOW_LOGS = {
    "FlowLogs": [
        {
            "CreationTime": "2018-02-21T13:22:12.644Z",
            "DeliverLogsPermissionArn": "arn:aws:iam::123456789012:role/flow-logs-role",
            "DeliverLogsStatus": "SUCCESS",
            "FlowLogId": "fl-aabbccdd112233445",
            "FlowLogStatus": "ACTIVE",
            "LogGroupName": "FlowLogGroup",
            "ResourceId": "subnet-12345678901234567",
            "TrafficType": "ALL",
            "LogDestinationType": "cloud-watch-logs",
            "LogFormat": "${version} ${account-id} ${interface-id} ${srcaddr} ${dstaddr} ${srcport} ${dstport} "
            "${protocol} ${packets} ${bytes} ${start} ${end} ${action} ${log-status}",
        },
        {
            "CreationTime": "2019-07-19T15:22:29.986Z",
            "DeliverLogsStatus": "FAILED",
            "DeliverLogsErrorMessage": "Access error",
            "FlowLogId": "fl-01234567890123456",
            "FlowLogStatus": "ACTIVE",
            "ResourceId": "vpc-00112233445566778",
            "TrafficType": "ACCEPT",
            "LogDestinationType": "s3",
            "LogDestination": "arn:aws:s3:::my-flow-log-bucket/custom",
        },
        {  # the older shape: the error message without a delivery status
            "DeliverLogsErrorMessage": "Rate limited",
            "DeliverLogsPermissionArn": "arn:aws:iam::123456789012:role/flow-logs-role",
            "FlowLogId": "fl-0fedcba9876543210",
            "FlowLogStatus": "ACTIVE",
            "LogGroupName": "FlowLogGroup",
            "ResourceId": "vpc-1a2b3c4d",
            "TrafficType": "REJECT",
        },
    ]
}


def test_endpoint_and_flow_log_shapes_are_mapped_and_judged(stubbed: tuple[Any, Stubber]) -> None:
    """ServiceRegion, RequesterManaged and DeliverLogsErrorMessage from documented answers
    reach the snapshot, and the checks read them: a cross-region endpoint does not meet a
    local requirement, a requester-managed one is not asked for private DNS, a message
    fails delivery with or without a status."""
    client, stubber = stubbed
    answers = {**EMPTY, "DescribeFlowLogs": FLOW_LOGS, "DescribeVpcEndpoints": VPC_ENDPOINTS}
    for op in EMPTY:
        _stub(stubber, op, answers[op])
    _stub(stubber, "DescribeClientVpnEndpoints", {"ClientVpnEndpoints": []})
    stub_path_parts(stubber)

    snapshot = collect(client)

    assert snapshot.errors == ()
    endpoints = snapshot.vpc_endpoint_by_id
    assert endpoints["vpce-032a826a"] == VpcEndpoint(
        "vpce-032a826a",
        "vpc-aabb1122",
        "com.amazonaws.us-east-1.dynamodb",
        "Gateway",
        "available",
        route_table_ids=("rtb-3d560345",),
        private_dns_enabled=True,
    )  # no ServiceRegion, no RequesterManaged: the defaults
    elb = endpoints["vpce-0f89a33420c1931d7"]
    assert (elb.service_region, elb.requester_managed, elb.serves("elasticloadbalancing", REGION)) == (
        "us-east-1",
        False,
        True,
    )
    oregon = endpoints["vpce-0a1b2c3d4e5f60001"]
    assert (oregon.service, oregon.service_region, oregon.tags) == ("s3", "us-west-2", {"Name": "s3-in-oregon"})
    assert not oregon.serves("s3", REGION) and oregon.serves("s3", "us-west-2")
    transfer = endpoints["vpce-0a1b2c3d4e5f60002"]
    assert (transfer.service, transfer.requester_managed) == ("transfer.server", True)
    iam = endpoints["vpce-0a1b2c3d4e5f60003"]
    assert (iam.service, iam.service_name_region, iam.state) == ("iam", None, "pending")
    assert iam.serves("iam", REGION) and iam.serves("iam", "eu-west-1")

    # private DNS: the ELB endpoint fails; the cross-region S3 one too; Transfer Family's is not its owner's to fix
    dns = check_interface_endpoint_private_dns(snapshot, Policy())
    assert [v.resource_id for v in dns] == ["vpce-0a1b2c3d4e5f60001", "vpce-0f89a33420c1931d7"]

    logs = by_id(snapshot.flow_logs, "flow_log_id")
    assert (logs["fl-01234567890123456"].deliver_status, logs["fl-01234567890123456"].deliver_error) == (
        "FAILED",
        "Access error",
    )
    assert (logs["fl-0fedcba9876543210"].deliver_status, logs["fl-0fedcba9876543210"].deliver_error) == (
        None,
        "Rate limited",
    )
    failing = check_flow_logs_delivering(snapshot, Policy())
    assert [(v.resource_id, v.evidence["error"]) for v in failing] == [
        ("fl-01234567890123456", "Access error"),
        ("fl-0fedcba9876543210", "Rate limited"),
    ]


def test_required_interface_endpoints_on_documented_shapes(stubbed: tuple[Any, Stubber]) -> None:
    """The VPC of the documented interface endpoints, with one private subnet: of the
    required services, only this region's elasticloadbalancing and the global IAM (an
    endpoint being created is not a missing one) are met; S3 through us-west-2 is not."""
    client, stubber = stubbed
    vpc_id, subnet_id = "vpc-1a2b3c4d", "subnet-d6fcaa8d"
    answers = {
        **EMPTY,
        "DescribeVpcs": {"Vpcs": [{"VpcId": vpc_id, "OwnerId": ACCOUNT, "CidrBlock": "10.0.0.0/16"}]},
        "DescribeSubnets": {
            "Subnets": [{"SubnetId": subnet_id, "VpcId": vpc_id, "OwnerId": ACCOUNT, "CidrBlock": "10.0.1.0/24"}]
        },
        "DescribeVpcEndpoints": VPC_ENDPOINTS,
    }
    for op in EMPTY:
        _stub(stubber, op, answers[op])
    _stub(stubber, "DescribeClientVpnEndpoints", {"ClientVpnEndpoints": []})
    stub_path_parts(stubber)

    snapshot = collect(client)

    policy = Policy(interface_endpoints=("elasticloadbalancing", "iam", "s3", "transfer.server"))
    missing = check_required_interface_endpoints(snapshot, policy)
    assert [(v.resource_id, v.evidence["service"]) for v in missing] == [(vpc_id, "s3")]
