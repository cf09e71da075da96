"""The path engine (SPEC §7) on the network a plan leaves behind: the after-snapshot carries
what ``PathIndex`` reads (network ACLs, gateways, endpoints), so reachability intents, a
registry check, are judged on planned resources like every other check."""

from __future__ import annotations

from typing import Any

from chalicelib.core.model import NetworkSnapshot
from chalicelib.core.paths import REACHABLE, UNREACHABLE, PathIndex, PathResult
from chalicelib.core.plan.apply import Applied, apply_plan
from chalicelib.core.plan.reader import read_plan
from tests.planbuilder import PlanBuilder

ACCOUNT, REGION = "111122223333", "us-east-1"
DENY_443_OUT = {
    "rule_no": 90,
    "action": "deny",
    "protocol": "tcp",
    "from_port": 443,
    "to_port": 443,
    "cidr_block": "0.0.0.0/0",
    "ipv6_cidr_block": "",
}
ALLOW_ALL = {
    "rule_no": 100,
    "action": "allow",
    "protocol": "-1",
    "from_port": 0,
    "to_port": 0,
    "cidr_block": "0.0.0.0/0",
    "ipv6_cidr_block": "",
}


def private_subnet(*, endpoint: bool = True, vgw: bool = False) -> PlanBuilder:
    """A new VPC with a private subnet on its own route table (no internet route)."""
    b = PlanBuilder()
    b.create("aws_vpc", "app", {"cidr_block": "10.0.0.0/16"})
    b.create("aws_subnet", "private", {"cidr_block": "10.0.1.0/24"}, refs={"vpc_id": "aws_vpc.app"})
    b.create("aws_route_table", "private", {}, refs={"vpc_id": "aws_vpc.app"}, unknown={"route": True})
    b.create(
        "aws_route_table_association",
        "private",
        refs={"subnet_id": "aws_subnet.private", "route_table_id": "aws_route_table.private"},
    )
    if endpoint:
        b.create(
            "aws_vpc_endpoint",
            "s3",
            {"service_name": f"com.amazonaws.{REGION}.s3", "vpc_endpoint_type": "Gateway"},
            refs={"vpc_id": "aws_vpc.app", "route_table_ids": ["aws_route_table.private"]},
        )
    if vgw:
        b.create("aws_vpn_gateway", "vgw", {})
        b.create(
            "aws_vpn_gateway_attachment", "vgw", refs={"vpc_id": "aws_vpc.app", "vpn_gateway_id": "aws_vpn_gateway.vgw"}
        )
        b.create(
            "aws_route",
            "onprem",
            {"destination_cidr_block": "192.168.0.0/16"},
            refs={"route_table_id": "aws_route_table.private", "gateway_id": "aws_vpn_gateway.vgw"},
        )
    return b


def applied_of(b: PlanBuilder, base: NetworkSnapshot | None = None) -> Applied:
    return apply_plan(base or NetworkSnapshot(ACCOUNT, REGION), read_plan(b.doc()), REGION)


def stand_in(applied: Applied, address: str) -> str:
    return next(i for i, a in applied.names.items() if a == address)


def trace(b: PlanBuilder, destination: str, **kwargs: Any) -> tuple[Applied, PathResult]:
    applied = applied_of(b)
    source = stand_in(applied, "aws_subnet.private")
    return applied, PathIndex([applied.snapshot]).trace(source, destination, **kwargs)


def test_a_planned_gateway_endpoint_makes_s3_reachable_and_private() -> None:
    applied, result = trace(private_subnet(), "s3")
    assert (result.verdict, result.private, result.blocked_at) == (REACHABLE, True, None)
    endpoint = stand_in(applied, "aws_vpc_endpoint.s3")
    acl = stand_in(applied, "aws_vpc.app.default_network_acl_id")  # the default ACL AWS creates, allowing all
    assert [(h.resource_id, h.type) for h in result.hops] == [
        (acl, "network-acl"),
        (stand_in(applied, "aws_route_table.private"), "route-table"),
        (endpoint, "gateway-endpoint"),
    ]
    assert not any("no network ACL known" in n for n in result.notes)


def test_without_the_endpoint_s3_is_blocked_at_the_route_table() -> None:
    applied, result = trace(private_subnet(endpoint=False), "s3")
    assert result.verdict == UNREACHABLE
    assert result.blocked_at is not None
    assert (result.blocked_at.resource_id, result.blocked_at.type) == (
        stand_in(applied, "aws_route_table.private"),
        "route-table",
    )


def test_a_planned_acl_denying_443_outbound_blocks_at_the_acl() -> None:
    b = private_subnet()
    b.create(
        "aws_network_acl",
        "private",
        {"egress": [DENY_443_OUT, ALLOW_ALL], "ingress": [ALLOW_ALL]},
        refs={"vpc_id": "aws_vpc.app", "subnet_ids": ["aws_subnet.private"]},
    )
    applied, result = trace(b, "s3")
    assert result.verdict == UNREACHABLE
    assert result.blocked_at is not None
    assert (result.blocked_at.resource_id, result.blocked_at.type) == (
        stand_in(applied, "aws_network_acl.private"),
        "network-acl",
    )
    assert "rule 90" in result.blocked_at.reason
    # port 80 passes the same ACL (rule 100)
    assert trace(b, "s3", port=80)[1].verdict == REACHABLE


def test_a_planned_rule_resource_on_a_planned_association_blocks_too() -> None:
    b = private_subnet()
    b.create(
        "aws_network_acl", "private", {"ingress": [ALLOW_ALL], "egress": [ALLOW_ALL]}, refs={"vpc_id": "aws_vpc.app"}
    )
    b.create(
        "aws_network_acl_association",
        "private",
        refs={"subnet_id": "aws_subnet.private", "network_acl_id": "aws_network_acl.private"},
    )
    b.create(
        "aws_network_acl_rule",
        "deny_https",
        {
            "rule_number": 50,
            "egress": True,
            "protocol": "6",
            "rule_action": "deny",
            "cidr_block": "0.0.0.0/0",
            "from_port": 443,
            "to_port": 443,
        },
        refs={"network_acl_id": "aws_network_acl.private"},
    )
    applied, result = trace(b, "s3")
    assert result.blocked_at is not None and result.blocked_at.resource_id == stand_in(
        applied, "aws_network_acl.private"
    )
    assert "rule 50" in result.blocked_at.reason


def test_a_planned_vpn_gateway_carries_its_route_on_premises() -> None:
    applied, result = trace(private_subnet(endpoint=False, vgw=True), "192.168.1.10")
    assert result.verdict == REACHABLE and result.private
    assert (stand_in(applied, "aws_vpn_gateway.vgw"), "vpn-gateway") in [(h.resource_id, h.type) for h in result.hops]


def test_a_planned_egress_only_gateway_carries_ipv6_out() -> None:
    b = PlanBuilder()
    b.create("aws_vpc", "app", {"cidr_block": "10.0.0.0/16", "ipv6_cidr_block": "2600:1f18:1::/56"})
    b.create(
        "aws_subnet",
        "private",
        {"cidr_block": "10.0.1.0/24", "ipv6_cidr_block": "2600:1f18:1::/64"},
        refs={"vpc_id": "aws_vpc.app"},
    )
    b.create("aws_egress_only_internet_gateway", "eigw", {}, refs={"vpc_id": "aws_vpc.app"})
    b.create(
        "aws_route",
        "v6",
        {"destination_ipv6_cidr_block": "::/0"},
        refs={
            "route_table_id": "aws_vpc.app.default_route_table_id",
            "egress_only_gateway_id": "aws_egress_only_internet_gateway.eigw",
        },
    )
    applied = applied_of(b)
    result = PathIndex([applied.snapshot]).trace("2600:1f18:1::10", "internet")
    assert result.verdict == REACHABLE, result.blocked_at
    assert (stand_in(applied, "aws_egress_only_internet_gateway.eigw"), "egress-only-internet-gateway") in [
        (h.resource_id, h.type) for h in result.hops
    ]
