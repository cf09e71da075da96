"""How many EC2 requests the collector makes on fixed worlds (DESIGN *Collect once*): one
paginated call per resource type, per-resource calls only where no bulk API exists, as
many for 12 VPCs as for 2, and a handful for an event's lean scoped re-audit. Counted by
the fake endpoint and by the snapshot's ``api_calls``: informative, not a timer."""

from __future__ import annotations

from collections import Counter

import pytest

from chalicelib.aws.collect.ec2 import collect_region
from chalicelib.core.events import checks_for_event
from tests.fakeec2 import ACCOUNT, PEER_REGION, REGION, FakeEc2, World, WorldBuilder

# One call per resource type, plus: the permissions of each endpoint service, the
# routes / propagations / associations of each TGW route table, the authorization rules
# of each Client VPN endpoint, the entries of each customer prefix list a route uses.
FULL_BUDGET = {
    "DescribeVpcs": 1,
    "DescribeSubnets": 1,
    "DescribeRouteTables": 1,
    "DescribeInternetGateways": 1,
    "DescribeNatGateways": 1,
    "DescribeFlowLogs": 1,
    "DescribeVpcEndpoints": 1,
    "DescribeVpcEndpointServiceConfigurations": 1,
    "DescribeVpcEndpointServicePermissions": 1,
    "DescribeVpcPeeringConnections": 1,
    "DescribeTransitGateways": 1,
    "DescribeTransitGatewayAttachments": 1,
    "DescribeTransitGatewayRouteTables": 1,
    "SearchTransitGatewayRoutes": 2,
    "GetTransitGatewayRouteTablePropagations": 2,
    "GetTransitGatewayRouteTableAssociations": 2,
    "DescribeClientVpnEndpoints": 1,
    "DescribeClientVpnAuthorizationRules": 1,
    "DescribeManagedPrefixLists": 1,
    "GetManagedPrefixListEntries": 1,
    # What only the path engine reads, for reachability-intent and routes-return-path.
    "DescribeNetworkAcls": 1,
    "DescribeEgressOnlyInternetGateways": 1,
    "DescribeVpnGateways": 1,
    "DescribeTransitGatewayPeeringAttachments": 1,
}


def landscape(spokes: int) -> tuple[World, list[str]]:
    """A hub (internet and NAT gateways, S3 endpoint, Client VPN) and ``spokes`` spokes, each
    peered with the hub and attached to one TGW (two route tables: spokes, hub and VPN),
    each with a private subnet, a flow log, and a route to the corporate prefix list."""
    b = WorldBuilder()
    hub = b.vpc("10.0.0.0/16")
    public = b.subnet(hub, "10.0.0.0/24")
    hub_main = b.route_table(hub, main=True)
    b.route(hub_main, "0.0.0.0/0", b.internet_gateway(hub))
    b.nat_gateway(public)
    b.gateway_endpoint(hub, "s3", route_table_ids=[hub_main])
    b.flow_log(hub)
    corp = b.prefix_list("corp", ["192.168.0.0/16"])
    tgw = b.transit_gateway()
    spoke_table, hub_table = b.tgw_route_table(tgw), b.tgw_route_table(tgw)
    hub_attachment = b.tgw_attachment(tgw, "vpc", hub)
    vpn = b.tgw_attachment(tgw, "vpn", "vpn-00000001", advertised=["192.168.0.0/16"])
    b.tgw_associate(hub_table, hub_attachment)
    b.tgw_associate(hub_table, vpn)
    b.tgw_propagate(spoke_table, hub_attachment)
    b.tgw_propagate(spoke_table, vpn)
    remote = b.external_vpc(["10.200.0.0/16"], region=PEER_REGION)
    b.peering(hub, remote)
    spokes_ids = []
    for n in range(1, spokes + 1):
        spoke = b.vpc(f"10.{n}.0.0/16")
        spokes_ids.append(spoke)
        b.subnet(spoke, f"10.{n}.1.0/24")
        table = b.route_table(spoke, main=True)
        b.route(table, "10.0.0.0/16", b.peering(spoke, hub))
        b.route(table, corp, tgw)
        b.flow_log(spoke, traffic_type="REJECT")
        attachment = b.tgw_attachment(tgw, "vpc", spoke)
        b.tgw_associate(spoke_table, attachment)
        b.tgw_propagate(hub_table, attachment)
    b.client_vpn_endpoint(hub, logging=True, rules=[("10.0.0.0/16", False, "active")])
    b.endpoint_service(acceptance_required=True, principals=[f"arn:aws:iam::{ACCOUNT}:root"])
    return b.build(), spokes_ids


def collect(world: World, **kwargs: object) -> tuple[Counter[str], int]:
    fake = FakeEc2(world)
    snapshot = collect_region(fake.client(), account_id=ACCOUNT, region=REGION, **kwargs)  # type: ignore[arg-type]
    assert snapshot.errors == () and fake.problems == []
    assert snapshot.api_calls == fake.calls.total()
    return fake.calls, snapshot.api_calls


def over_budget(calls: Counter[str], budget: dict[str, int]) -> dict[str, tuple[int, int]]:
    return {op: (n, budget.get(op, 0)) for op, n in calls.items() if n > budget.get(op, 0)}


def test_a_full_collection_makes_one_call_per_resource_type() -> None:
    world, _ = landscape(spokes=2)
    calls, total = collect(world)
    assert not over_budget(calls, FULL_BUDGET), f"(calls, budget): {over_budget(calls, FULL_BUDGET)}"
    assert total == sum(calls.values()) <= sum(FULL_BUDGET.values()) == 27


def test_the_number_of_calls_does_not_grow_with_the_number_of_vpcs() -> None:
    few, _ = landscape(spokes=2)
    many, _ = landscape(spokes=12)
    assert collect(many)[0] == collect(few)[0]


def test_pages_add_calls_for_the_types_that_fill_them() -> None:
    world, _ = landscape(spokes=12)
    calls, _ = collect(world, page_size=5)
    # 13 VPCs, subnets, tables and flow logs, 14 peerings and attachments: 3 pages each
    for op in ("DescribeVpcs", "DescribeSubnets", "DescribeRouteTables", "DescribeFlowLogs"):
        assert calls[op] == 3, (op, dict(calls))
    assert calls["DescribeVpcPeeringConnections"] == calls["DescribeTransitGatewayAttachments"] == 3


@pytest.mark.parametrize(
    ("event", "budget"),
    [
        # the route checks: the VPC, its subnets, tables, endpoints and peerings (5), the peer
        # VPC as context (1), and what its routes name: a transit gateway (attachments,
        # gateways) and a prefix list (list, entries)
        ("CreateRoute", 10),
        # the flow log checks: the VPC, its subnets, their flow logs
        ("CreateFlowLogs", 3),
        # both
        ("CreateSubnet", 11),
    ],
)
def test_an_events_scoped_re_audit_of_one_vpc_makes_a_handful_of_calls(event: str, budget: int) -> None:
    world, spokes = landscape(spokes=12)
    calls, total = collect(world, vpc_ids=[spokes[0]], checks=checks_for_event(event))
    assert total <= budget, dict(calls)
