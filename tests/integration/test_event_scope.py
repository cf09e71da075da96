"""resolve_scope against moto: each kind of change resolves to the VPCs it touches (and
their neighbours) with few calls; deleted resources through memory; failed lookups fall
back to memory or the region, never to an exception. Events go through parse_event in
the CloudTrail shapes of tests/fixtures/cloudtrail."""

from __future__ import annotations

import ipaddress
import itertools
from collections.abc import Iterator
from contextlib import contextmanager
from types import SimpleNamespace
from typing import Any

import pytest

from chalicelib.aws.resolve import resolve_scope
from chalicelib.aws.session import CallCounter
from chalicelib.core.events import (
    CLIENT_VPN_CHECKS,
    ENDPOINT_SERVICE_CHECKS,
    FLOW_LOG_CHECKS,
    ROUTE_CHECKS,
    checks_for_event,
)
from chalicelib.core.scope import Scope, Touched, parse_event
from tests.integration.conftest import ACCOUNT, REGION, Landscape

NS = "http://ec2.amazonaws.com/doc/2016-11-15/"
_ids = itertools.count(1)


def touched(name: str, request: dict[str, Any], response: dict[str, Any] | None = None) -> Touched:
    """A watched call as EventBridge delivers it, parsed."""
    n = next(_ids)
    event = {
        "version": "0",
        "id": f"ev-{n}",
        "detail-type": "AWS API Call via CloudTrail",
        "source": "aws.ec2",
        "account": ACCOUNT,
        "region": REGION,
        "detail": {
            "eventVersion": "1.09",
            "userIdentity": {"type": "IAMUser", "accountId": ACCOUNT},
            "eventSource": "ec2.amazonaws.com",
            "eventName": name,
            "awsRegion": REGION,
            "eventID": f"ct-{n}",
            "recipientAccountId": ACCOUNT,
            "requestParameters": request,
            "responseElements": response if response is not None else {"requestId": f"r-{n}", "_return": True},
        },
    }
    parsed = parse_event(event)
    assert parsed is not None
    return parsed


def resolve(ec2: Any, event: Touched, memory: dict[str, str] | None = None) -> tuple[Scope, dict[str, int]]:
    with CallCounter(ec2) as counter:
        scope = resolve_scope(event, ec2, memory or {})
    assert (scope.account_id, scope.region) == (ACCOUNT, REGION)
    return scope, dict(counter.by_operation)


def vpcs_only(scope: Scope) -> set[str]:
    """The VPCs of a VPC-scoped re-audit (which runs the checks its event family can move)."""
    event_name = scope.reason.split(" ", 1)[0]
    assert not scope.region_wide and scope.checks == checks_for_event(event_name), scope
    return set(scope.vpc_ids)


@contextmanager
def denied(ec2: Any, operation: str, code: str = "AccessDenied") -> Iterator[None]:
    """Every call of ``operation`` answered with a 403 ``code`` (a before-call handler:
    botocore raises the ClientError it would raise for AWS's answer)."""

    def handler(**kwargs: Any) -> tuple[Any, dict[str, Any]]:
        error = {"Code": code, "Message": f"You are not authorized to perform: ec2:{operation}"}
        return SimpleNamespace(status_code=403), {"Error": error, "ResponseMetadata": {"HTTPStatusCode": 403}}

    event = f"before-call.ec2.{operation}"
    ec2.meta.events.register(event, handler, unique_id=f"deny-{operation}")
    try:
        yield
    finally:
        ec2.meta.events.unregister(event, unique_id=f"deny-{operation}")


def create_route(rtb: str) -> Touched:
    return touched("CreateRoute", {"routeTableId": rtb, "destinationCidrBlock": "10.60.0.0/16", "gatewayId": "local"})


# ---------------------------------------------------------------------------------
# Routes and route tables
# ---------------------------------------------------------------------------------


def test_a_route_change_costs_one_describe_route_tables(ec2: Any, landscape: Landscape) -> None:
    scope, calls = resolve(ec2, create_route(landscape.private_rtb))
    assert scope == Scope(
        ACCOUNT,
        REGION,
        (landscape.app,),
        False,
        ROUTE_CHECKS,
        f"CreateRoute on {landscape.private_rtb}: in {landscape.app}",
    )
    assert calls == {"DescribeRouteTables": 1}


def test_a_remembered_route_table_costs_no_call(ec2: Any, landscape: Landscape) -> None:
    scope, calls = resolve(ec2, create_route(landscape.private_rtb), {landscape.private_rtb: landscape.app})
    assert vpcs_only(scope) == {landscape.app} and calls == {}


def test_a_route_target_in_another_vpc_is_not_a_subject(ec2: Any, landscape: Landscape) -> None:
    event = touched(
        "ReplaceRoute",
        {"routeTableId": landscape.private_rtb, "destinationCidrBlock": "10.2.0.0/16"}
        | {"vpcPeeringConnectionId": landscape.pcx_shared},
    )
    scope, calls = resolve(ec2, event)
    assert vpcs_only(scope) == {landscape.app} and calls == {"DescribeRouteTables": 1}


def test_a_deleted_route_table_resolves_through_memory(ec2: Any, landscape: Landscape) -> None:
    rtb = ec2.create_route_table(VpcId=landscape.other)["RouteTable"]["RouteTableId"]
    ec2.delete_route_table(RouteTableId=rtb)
    event = touched("DeleteRouteTable", {"routeTableId": rtb})

    scope, calls = resolve(ec2, event, {rtb: landscape.other})
    assert vpcs_only(scope) == {landscape.other} and calls == {}

    scope, calls = resolve(ec2, event)
    assert (scope.region_wide, scope.checks, scope.vpc_ids) == (True, None, ())
    assert f"{rtb} unknown to AWS and to memory" in scope.reason
    assert calls == {"DescribeRouteTables": 1}


def test_an_association_resolves_by_lookup_then_memory(ec2: Any, landscape: Landscape) -> None:
    table = ec2.describe_route_tables(RouteTableIds=[landscape.public_rtb])["RouteTables"][0]
    assoc = next(a["RouteTableAssociationId"] for a in table["Associations"] if a.get("SubnetId"))
    event = touched("DisassociateRouteTable", {"associationId": assoc})

    scope, calls = resolve(ec2, event)  # CloudTrail may be faster than the change
    assert vpcs_only(scope) == {landscape.app} and calls == {"DescribeRouteTables": 1}

    ec2.disassociate_route_table(AssociationId=assoc)
    scope, _ = resolve(ec2, event, {assoc: landscape.app})
    assert vpcs_only(scope) == {landscape.app}
    scope, _ = resolve(ec2, event)
    assert scope.region_wide and scope.checks is None


# ---------------------------------------------------------------------------------
# Peerings and VPC CIDRs (with neighbours)
# ---------------------------------------------------------------------------------


def test_a_peering_change_reaches_both_local_vpcs(ec2: Any, landscape: Landscape) -> None:
    scope, calls = resolve(ec2, touched("AcceptVpcPeeringConnection", {"vpcPeeringConnectionId": landscape.pcx_shared}))
    assert vpcs_only(scope) == {landscape.app, landscape.shared}
    assert calls == {"DescribeVpcPeeringConnections": 1}
    # The other side in another region or account is another audit's business.
    for pcx in (landscape.pcx_west, landscape.pcx_partner):
        scope, _ = resolve(ec2, touched("DeleteVpcPeeringConnection", {"vpcPeeringConnectionId": pcx}))
        assert vpcs_only(scope) == {landscape.app}


def test_a_cidr_change_adds_peered_and_tgw_neighbours(ec2: Any, landscape: Landscape) -> None:
    event = touched(
        "AssociateVpcCidrBlock",
        {"AssociateVpcCidrBlockRequest": {"VpcId": landscape.shared, "CidrBlock": "10.4.0.0/16"}},
        {"AssociateVpcCidrBlockResponse": {"xmlns": NS, "vpcId": landscape.shared}},
    )
    scope, calls = resolve(ec2, event)
    assert scope.vpc_ids[0] == landscape.shared
    assert vpcs_only(scope) == {landscape.shared, landscape.app}
    assert "with neighbours" in scope.reason
    assert calls == {"DescribeVpcPeeringConnections": 1, "DescribeTransitGatewayAttachments": 1}

    lonely = touched("DisassociateVpcCidrBlock", {"associationId": "vpc-cidr-assoc-1"}, {"vpcId": landscape.other})
    scope, _ = resolve(ec2, lonely)
    assert scope.vpc_ids == (landscape.other,)


def test_a_deleted_vpc_stays_in_scope_with_its_peers(ec2: Any, landscape: Landscape) -> None:
    doomed = ec2.create_vpc(CidrBlock="10.70.0.0/16")["Vpc"]["VpcId"]
    pcx = ec2.create_vpc_peering_connection(VpcId=doomed, PeerVpcId=landscape.other)["VpcPeeringConnection"]
    ec2.accept_vpc_peering_connection(VpcPeeringConnectionId=pcx["VpcPeeringConnectionId"])
    ec2.delete_vpc_peering_connection(VpcPeeringConnectionId=pcx["VpcPeeringConnectionId"])
    ec2.delete_vpc(VpcId=doomed)

    scope, _ = resolve(ec2, touched("DeleteVpc", {"vpcId": doomed}))
    assert scope.vpc_ids == (doomed, landscape.other)  # a just-deleted peering still names its peer


def test_a_new_vpc_needs_no_neighbour_lookup(ec2: Any, landscape: Landscape) -> None:
    vpc = ec2.create_vpc(CidrBlock="10.80.0.0/16")["Vpc"]["VpcId"]
    scope, calls = resolve(ec2, touched("CreateVpc", {"cidrBlock": "10.80.0.0/16"}, {"vpc": {"vpcId": vpc}}))
    assert scope.vpc_ids == (vpc,) and calls == {}


# ---------------------------------------------------------------------------------
# Transit gateways
# ---------------------------------------------------------------------------------


def _tgw_table_event(name: str, table: str, attachment: str, vpc: str) -> Touched:
    key = "propagation" if "Propagation" in name else "association"
    return touched(
        name,
        {f"{name}Request": {"TransitGatewayRouteTableId": table, "TransitGatewayAttachmentId": attachment}},
        {
            f"{name}Response": {
                "xmlns": NS,
                key: {"transitGatewayRouteTableId": table, "transitGatewayAttachmentId": attachment}
                | {"resourceId": vpc, "resourceType": "vpc", "state": "enabled"},
            }
        },
    )


def test_a_tgw_propagation_reaches_every_vpc_on_the_table(ec2: Any, landscape: Landscape) -> None:
    event = _tgw_table_event(
        "DisableTransitGatewayRouteTablePropagation", landscape.tgw_rtb, landscape.shared_attachment, landscape.shared
    )
    ec2.disable_transit_gateway_route_table_propagation(
        TransitGatewayRouteTableId=landscape.tgw_rtb, TransitGatewayAttachmentId=landscape.shared_attachment
    )
    scope, calls = resolve(ec2, event)
    assert vpcs_only(scope) == {landscape.app, landscape.shared}
    assert calls == {"GetTransitGatewayRouteTableAssociations": 1, "GetTransitGatewayRouteTablePropagations": 1}


def test_a_route_on_an_unused_tgw_table_reaches_the_gateway_vpcs(ec2: Any, landscape: Landscape) -> None:
    """No VPC uses the spare table: the VPCs on its gateway make a scoped audit collect it."""
    event = touched(
        "DeleteTransitGatewayRoute",
        {"DeleteTransitGatewayRouteRequest": {"TransitGatewayRouteTableId": landscape.tgw_spare_rtb}}
        | {"DestinationCidrBlock": "10.99.0.0/16"},
        {
            "DeleteTransitGatewayRouteResponse": {
                "route": {"destinationCidrBlock": "10.99.0.0/16", "type": "static", "state": "deleted"}
                | {"transitGatewayAttachments": {"item": {"transitGatewayAttachmentId": landscape.app_attachment}}}
            }
        },
    )
    scope, calls = resolve(ec2, event)
    assert vpcs_only(scope) == {landscape.app, landscape.shared}
    assert calls["DescribeTransitGatewayAttachments"] == 2  # the attachment's gateway, then its VPCs


def test_a_transit_gateway_change_reaches_its_vpcs_or_the_region(ec2: Any, landscape: Landscape) -> None:
    request = {"ModifyTransitGatewayRequest": {"TransitGatewayId": landscape.tgw}}
    scope, calls = resolve(ec2, touched("ModifyTransitGateway", request))
    assert vpcs_only(scope) == {landscape.app, landscape.shared}
    assert calls == {"DescribeTransitGatewayAttachments": 1}

    new = ec2.create_transit_gateway()["TransitGateway"]["TransitGatewayId"]
    response = {"CreateTransitGatewayResponse": {"transitGateway": {"transitGatewayId": new}}}
    scope, _ = resolve(ec2, touched("CreateTransitGateway", {"CreateTransitGatewayRequest": {}}, response))
    assert (scope.region_wide, scope.checks) == (True, None)
    assert f"no VPC attached to {new}" in scope.reason


def test_a_tgw_attachment_reaches_its_vpc_and_its_gateway_neighbours(ec2: Any, landscape: Landscape) -> None:
    request = {"AcceptTransitGatewayVpcAttachmentRequest": {"TransitGatewayAttachmentId": landscape.shared_attachment}}
    scope, calls = resolve(ec2, touched("AcceptTransitGatewayVpcAttachment", request))
    assert vpcs_only(scope) == {landscape.shared, landscape.app}
    assert calls == {"DescribeTransitGatewayAttachments": 2}

    deleted = {
        "DeleteTransitGatewayVpcAttachmentResponse": {
            "transitGatewayVpcAttachment": {"transitGatewayAttachmentId": landscape.shared_attachment}
            | {"transitGatewayId": landscape.tgw, "vpcId": landscape.shared, "state": "deleting"}
        }
    }
    ec2.delete_transit_gateway_vpc_attachment(TransitGatewayAttachmentId=landscape.shared_attachment)
    request = {"DelTGwVpcAttachReq": {"TransitGatewayAttachmentId": landscape.shared_attachment}}
    scope, calls = resolve(ec2, touched("DeleteTransitGatewayVpcAttachment", request, deleted))
    assert scope.vpc_ids == (landscape.shared, landscape.app)
    assert calls == {"DescribeTransitGatewayAttachments": 1}


# ---------------------------------------------------------------------------------
# Flow logs, endpoints, gateways, Client VPN, tags, region-level resources
# ---------------------------------------------------------------------------------


def test_an_unknown_flow_log_needs_the_region_for_the_flow_log_checks(ec2: Any, landscape: Landscape) -> None:
    event = touched(
        "DeleteFlowLogs", {"DeleteFlowLogsRequest": {"FlowLogId": {"tag": 1, "content": "fl-0123456789abcdef0"}}}
    )
    scope, calls = resolve(ec2, event)
    assert (scope.vpc_ids, scope.region_wide, scope.checks) == ((), True, FLOW_LOG_CHECKS)
    assert calls == {"DescribeFlowLogs": 1}


def test_flow_logs_resolve_to_their_vpc(ec2: Any, landscape: Landscape) -> None:
    # A subnet-level log that still exists: its subnet, then the subnet's VPC.
    request = {"DeleteFlowLogsRequest": {"FlowLogId": {"tag": 1, "content": landscape.shared_flow_log}}}
    scope, calls = resolve(ec2, touched("DeleteFlowLogs", request))
    assert vpcs_only(scope) == {landscape.shared}
    assert calls == {"DescribeFlowLogs": 1, "DescribeSubnets": 1}
    # A deleted one: memory.
    ec2.delete_flow_logs(FlowLogIds=[landscape.app_flow_log])
    request = {"DeleteFlowLogsRequest": {"FlowLogId": {"tag": 1, "content": landscape.app_flow_log}}}
    scope, calls = resolve(ec2, touched("DeleteFlowLogs", request), {landscape.app_flow_log: landscape.app})
    assert vpcs_only(scope) == {landscape.app} and calls == {}
    # A creation names its resources.
    create = {"CreateFlowLogsRequest": {"ResourceId": {"tag": 1, "content": landscape.other_subnet}}}
    scope, calls = resolve(ec2, touched("CreateFlowLogs", create))
    assert vpcs_only(scope) == {landscape.other} and calls == {"DescribeSubnets": 1}


def test_endpoints_nat_gateways_and_internet_gateways(ec2: Any, landscape: Landscape) -> None:
    modify = {"ModifyVpcEndpointRequest": {"VpcEndpointId": landscape.ssm_endpoint, "PrivateDnsEnabled": True}}
    scope, calls = resolve(ec2, touched("ModifyVpcEndpoint", modify))
    assert vpcs_only(scope) == {landscape.app} and calls == {"DescribeVpcEndpoints": 1}

    gone = {"DeleteVpcEndpointsRequest": {"VpcEndpointId": {"tag": 1, "content": "vpce-0123456789abcdef0"}}}
    scope, _ = resolve(ec2, touched("DeleteVpcEndpoints", gone))  # AWS fails the call on an unknown id
    assert scope.region_wide and scope.checks is None

    nat = {"DeleteNatGatewayRequest": {"NatGatewayId": landscape.nat}}
    scope, calls = resolve(ec2, touched("DeleteNatGateway", nat))
    assert vpcs_only(scope) == {landscape.app} and calls == {"DescribeNatGateways": 1}

    detach = {"internetGatewayId": landscape.igw, "vpcId": landscape.app}
    scope, calls = resolve(ec2, touched("DetachInternetGateway", detach))
    assert vpcs_only(scope) == {landscape.app} and calls == {}


def test_client_vpn_without_the_api_falls_back_to_memory_or_its_checks(ec2: Any, landscape: Landscape) -> None:
    """moto has no Client VPN: the lookup fails as an unsupported call would."""
    request = {"RevokeClientVpnIngressRequest": {"ClientVpnEndpointId": "cvpn-endpoint-0123456789abcdef0"}}
    event = touched("RevokeClientVpnIngress", request)
    scope, _ = resolve(ec2, event, {"cvpn-endpoint-0123456789abcdef0": landscape.app})
    assert vpcs_only(scope) == {landscape.app}
    scope, _ = resolve(ec2, event)
    assert (scope.vpc_ids, scope.region_wide, scope.checks) == ((), True, CLIENT_VPN_CHECKS)


def test_an_exemption_tag_reaches_the_tagged_resources_vpcs(ec2: Any, landscape: Landscape) -> None:
    request = {
        "resourcesSet": {"items": [{"resourceId": landscape.private_rtb}, {"resourceId": landscape.igw}]},
        "tagSet": {"items": [{"key": "vpcwatch:exempt", "value": "routes-no-blackhole"}]},
    }
    scope, calls = resolve(ec2, touched("CreateTags", request))
    assert vpcs_only(scope) == {landscape.app}
    assert calls == {"DescribeRouteTables": 1, "DescribeInternetGateways": 1}


def test_region_level_changes_cost_no_call(ec2: Any, landscape: Landscape) -> None:
    svc = {"ModifyVpcEndpointServicePermissionsRequest": {"ServiceId": landscape.endpoint_service}}
    scope, calls = resolve(ec2, touched("ModifyVpcEndpointServicePermissions", svc))
    assert (scope.region_wide, scope.checks, calls) == (True, ENDPOINT_SERVICE_CHECKS, {})
    pl = {"ModifyManagedPrefixListRequest": {"PrefixListId": landscape.corp_prefix_list, "CurrentVersion": 1}}
    scope, calls = resolve(ec2, touched("ModifyManagedPrefixList", pl))
    assert (scope.region_wide, scope.checks, calls) == (True, checks_for_event("ModifyManagedPrefixList"), {})


# ---------------------------------------------------------------------------------
# Denied lookups
# ---------------------------------------------------------------------------------


@pytest.mark.parametrize("code", ["AccessDenied", "UnauthorizedOperation"])
def test_a_denied_route_table_lookup_falls_back(ec2: Any, landscape: Landscape, code: str) -> None:
    with denied(ec2, "DescribeRouteTables", code):
        scope, calls = resolve(ec2, create_route(landscape.private_rtb))
        assert (scope.vpc_ids, scope.region_wide, scope.checks) == ((), True, None)
        assert f"ec2:DescribeRouteTables {code}" in scope.reason
        assert calls == {"DescribeRouteTables": 1}  # no retry of a denial

        scope, _ = resolve(ec2, create_route(landscape.private_rtb), {landscape.private_rtb: landscape.app})
        assert vpcs_only(scope) == {landscape.app}


def test_a_denied_peering_lookup_uses_memory_then_the_named_vpcs(ec2: Any, landscape: Landscape) -> None:
    accept = touched("AcceptVpcPeeringConnection", {"vpcPeeringConnectionId": landscape.pcx_shared})
    create = touched(
        "CreateVpcPeeringConnection",
        {"vpcId": landscape.app, "peerVpcId": landscape.other},
        {"vpcPeeringConnection": {"vpcPeeringConnectionId": "pcx-0123456789abcdef0"}},
    )
    with denied(ec2, "DescribeVpcPeeringConnections"):
        scope, _ = resolve(ec2, accept, {landscape.pcx_shared: landscape.app})
        assert vpcs_only(scope) == {landscape.app}
        scope, _ = resolve(ec2, accept)
        assert scope.region_wide and scope.checks is None
        scope, _ = resolve(ec2, create)
        assert vpcs_only(scope) == {landscape.app, landscape.other}


def test_denied_neighbour_lookups_need_the_region(ec2: Any, landscape: Landscape) -> None:
    event = touched("DeleteVpc", {"vpcId": landscape.other})
    for operation in ("DescribeVpcPeeringConnections", "DescribeTransitGatewayAttachments"):
        with denied(ec2, operation):
            scope, _ = resolve(ec2, event)
        assert (scope.vpc_ids, scope.region_wide, scope.checks) == ((), True, None)
        assert f"ec2:{operation} AccessDenied" in scope.reason


def test_denied_tgw_lookups_never_raise(ec2: Any, landscape: Landscape) -> None:
    event = _tgw_table_event(
        "EnableTransitGatewayRouteTablePropagation", landscape.tgw_rtb, landscape.app_attachment, landscape.app
    )
    with (
        denied(ec2, "GetTransitGatewayRouteTableAssociations"),
        denied(ec2, "GetTransitGatewayRouteTablePropagations"),
        denied(ec2, "DescribeTransitGatewayAttachments"),
    ):
        scope, _ = resolve(ec2, event)
    assert scope.region_wide and scope.checks is None


# ---------------------------------------------------------------------------------
# Calls that used to trigger nothing: default VPCs, VPN and Connect attachments, TGW
# prefix list references, prefix list restores
# ---------------------------------------------------------------------------------


def test_a_default_vpc_and_a_default_subnet_reach_the_default_vpc(ec2: Any, landscape: Landscape) -> None:
    default = ec2.describe_vpcs(Filters=[{"Name": "is-default", "Values": ["true"]}])["Vpcs"][0]["VpcId"]
    scope, calls = resolve(ec2, touched("CreateDefaultVpc", {}, {"vpc": {"vpcId": default, "isDefault": True}}))
    assert (scope.vpc_ids, scope.region_wide, scope.checks, calls) == ((default,), False, None, {})

    defaults = ec2.describe_subnets(Filters=[{"Name": "default-for-az", "Values": ["true"]}])["Subnets"]
    last = max(defaults, key=lambda s: ipaddress.ip_network(s["CidrBlock"]))  # moto reuses the next free /20
    zone = last["AvailabilityZone"]
    ec2.delete_subnet(SubnetId=last["SubnetId"])
    subnet = ec2.create_default_subnet(AvailabilityZone=zone)["Subnet"]
    event = touched(
        "CreateDefaultSubnet",
        {"availabilityZone": zone},
        {"subnet": {"subnetId": subnet["SubnetId"], "vpcId": subnet["VpcId"], "defaultForAz": True}},
    )
    scope, calls = resolve(ec2, event)
    assert vpcs_only(scope) == {default} and calls == {}
    assert set(scope.checks or ()) >= set(FLOW_LOG_CHECKS[:2])  # a new subnet: is it covered by flow logs?


def test_a_vpn_connection_on_the_tgw_reaches_the_gateway_vpcs(ec2: Any, landscape: Landscape) -> None:
    cgw = ec2.create_customer_gateway(Type="ipsec.1", PublicIp="198.51.100.1", BgpAsn=65000)["CustomerGateway"]
    vpn = ec2.create_vpn_connection(
        Type="ipsec.1", CustomerGatewayId=cgw["CustomerGatewayId"], TransitGatewayId=landscape.tgw
    )["VpnConnection"]
    created = touched(
        "CreateVpnConnection",
        {"type": "ipsec.1", "customerGatewayId": cgw["CustomerGatewayId"], "transitGatewayId": landscape.tgw},
        {"vpnConnection": {"vpnConnectionId": vpn["VpnConnectionId"], "transitGatewayId": landscape.tgw}}
        | {"state": "pending", "customerGatewayId": cgw["CustomerGatewayId"]},
    )
    scope, calls = resolve(ec2, created)
    assert vpcs_only(scope) == {landscape.app, landscape.shared}
    assert calls == {"DescribeTransitGatewayAttachments": 1}
    assert "tgw-routes-non-overlapping" in (scope.checks or ())  # its routes propagate into the TGW tables

    ec2.delete_vpn_connection(VpnConnectionId=vpn["VpnConnectionId"])
    deleted = touched("DeleteVpnConnection", {"vpnConnectionId": vpn["VpnConnectionId"]})
    scope, calls = resolve(ec2, deleted)  # its attachment names the gateway
    assert vpcs_only(scope) == {landscape.app, landscape.shared}
    assert calls == {"DescribeTransitGatewayAttachments": 2}


def test_a_vpn_connection_on_a_virtual_private_gateway_touches_nothing(ec2: Any, landscape: Landscape) -> None:
    cgw = ec2.create_customer_gateway(Type="ipsec.1", PublicIp="198.51.100.2", BgpAsn=65001)["CustomerGateway"]
    vgw = ec2.create_vpn_gateway(Type="ipsec.1")["VpnGateway"]["VpnGatewayId"]
    vpn = ec2.create_vpn_connection(Type="ipsec.1", CustomerGatewayId=cgw["CustomerGatewayId"], VpnGatewayId=vgw)
    vpn_id = vpn["VpnConnection"]["VpnConnectionId"]
    created = touched(
        "CreateVpnConnection",
        {"type": "ipsec.1", "customerGatewayId": cgw["CustomerGatewayId"], "vpnGatewayId": vgw},
        {"vpnConnection": {"vpnConnectionId": vpn_id, "vpnGatewayId": vgw, "state": "pending"}},
    )
    scope, calls = resolve(ec2, created)
    assert scope.empty and calls == {}
    scope, calls = resolve(ec2, touched("DeleteVpnConnection", {"vpnConnectionId": vpn_id}))
    assert scope.empty and calls == {"DescribeTransitGatewayAttachments": 1}
    with denied(ec2, "DescribeTransitGatewayAttachments"):  # unknown gateway: the region, for the TGW checks
        scope, _ = resolve(ec2, touched("DeleteVpnConnection", {"vpnConnectionId": vpn_id}))
    assert (scope.region_wide, scope.checks) == (True, checks_for_event("DeleteVpnConnection"))


def _prefix_list_reference(name: str, table: str, prefix_list: str, attachment: str, vpc: str) -> Touched:
    return touched(
        name,
        {f"{name}Request": {"TransitGatewayRouteTableId": table, "PrefixListId": prefix_list}}
        | {"TransitGatewayAttachmentId": attachment},
        {
            f"{name}Response": {
                "xmlns": NS,
                "transitGatewayPrefixListReference": {
                    "transitGatewayRouteTableId": table,
                    "prefixListId": prefix_list,
                    "state": "pending",
                    "blackhole": False,
                    "transitGatewayAttachment": {"transitGatewayAttachmentId": attachment}
                    | {"resourceType": "vpc", "resourceId": vpc},
                },
            }
        },
    )


@pytest.mark.parametrize(
    "name",
    [
        "CreateTransitGatewayPrefixListReference",
        "ModifyTransitGatewayPrefixListReference",
        "DeleteTransitGatewayPrefixListReference",
    ],
)
def test_a_tgw_prefix_list_reference_reaches_the_table_vpcs(ec2: Any, landscape: Landscape, name: str) -> None:
    event = _prefix_list_reference(
        name, landscape.tgw_rtb, landscape.corp_prefix_list, landscape.app_attachment, landscape.app
    )
    scope, calls = resolve(ec2, event)
    assert vpcs_only(scope) == {landscape.app, landscape.shared}
    assert calls == {"GetTransitGatewayRouteTableAssociations": 1, "GetTransitGatewayRouteTablePropagations": 1}
    assert "tgw-routes-non-overlapping" in (scope.checks or ())
    # On the table nobody uses, to a VPC the event does not name: the gateway's VPCs.
    spare = touched(
        name,
        {f"{name}Request": {"TransitGatewayRouteTableId": landscape.tgw_spare_rtb}}
        | {"PrefixListId": landscape.corp_prefix_list, "TransitGatewayAttachmentId": landscape.shared_attachment},
    )
    scope, _ = resolve(ec2, spare)
    assert vpcs_only(scope) == {landscape.app, landscape.shared}


def test_a_connect_attachment_reaches_its_transport_and_gateway_vpcs(ec2: Any, landscape: Landscape) -> None:
    """moto has no Connect attachments: the event names the transport (a VPC attachment)
    and the gateway, which is all the resolution needs."""
    connect = "tgw-attach-0123456789abcdef0"
    for name, state in (("CreateTransitGatewayConnect", "pending"), ("DeleteTransitGatewayConnect", "deleting")):
        request = (
            {"TransportTransitGatewayAttachmentId": landscape.shared_attachment, "Options": {"Protocol": "gre"}}
            if name.startswith("Create")
            else {"TransitGatewayAttachmentId": connect}
        )
        event = touched(
            name,
            {f"{name}Request": request},
            {
                f"{name}Response": {
                    "xmlns": NS,
                    "transitGatewayConnect": {"transitGatewayAttachmentId": connect, "state": state}
                    | {
                        "transportTransitGatewayAttachmentId": landscape.shared_attachment,
                        "transitGatewayId": landscape.tgw,
                    },
                }
            },
        )
        scope, calls = resolve(ec2, event)
        assert vpcs_only(scope) == {landscape.shared, landscape.app}
        assert calls == {"DescribeTransitGatewayAttachments": 2}
    # A Connect peer names only its Connect attachment: AWS would describe it; unknown, the region.
    peer = touched(
        "CreateTransitGatewayConnectPeer",
        {"CreateTransitGatewayConnectPeerRequest": {"TransitGatewayAttachmentId": connect, "PeerAddress": "10.0.1.10"}},
    )
    scope, _ = resolve(ec2, peer)
    assert (scope.region_wide, scope.checks) == (True, None)


def test_a_restored_prefix_list_needs_the_region_for_the_prefix_list_checks(ec2: Any, landscape: Landscape) -> None:
    request = {
        "RestoreManagedPrefixListVersionRequest": {"PrefixListId": landscape.corp_prefix_list}
        | {"PreviousVersion": 1, "CurrentVersion": 2}
    }
    scope, calls = resolve(ec2, touched("RestoreManagedPrefixListVersion", request))
    assert (scope.region_wide, scope.vpc_ids, calls) == (True, (), {})
    assert scope.checks == checks_for_event("RestoreManagedPrefixListVersion") and scope.checks
