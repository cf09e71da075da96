"""The path engine (SPEC §7) on hand-built snapshots: one row per rule."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from chalicelib.core.model import (
    EgressOnlyInternetGateway,
    InternetGateway,
    NatGateway,
    NetworkAcl,
    NetworkAclEntry,
    NetworkSnapshot,
    Peering,
    PeeringSide,
    PrefixList,
    Route,
    RouteTable,
    Subnet,
    TgwAttachment,
    TgwPeeringAttachment,
    TgwRoute,
    TgwRouteTable,
    TransitGateway,
    Vpc,
    VpcEndpoint,
    VpnGateway,
)
from chalicelib.core.paths import SG_NOTE, PathIndex, PathQueryError, PathResult

ME = "111111111111"
R1, R2 = "us-east-1", "eu-west-1"
S3_PL = "pl-63a5400a"


def rt(
    table_id: str, vpc: str, *routes: tuple[str, str] | Route, subnets: tuple[str, ...] = (), main: bool = False
) -> RouteTable:
    built = tuple(r if isinstance(r, Route) else Route(r[0], r[1]) for r in routes)
    return RouteTable(table_id, vpc, ME, main, subnets, built)


def allow_all(acl_id: str, vpc: str, subnets: tuple[str, ...]) -> NetworkAcl:
    entries = (
        NetworkAclEntry(100, True, "-1", True, "0.0.0.0/0"),
        NetworkAclEntry(100, False, "-1", True, "0.0.0.0/0"),
        NetworkAclEntry(101, True, "-1", True, "::/0"),
        NetworkAclEntry(101, False, "-1", True, "::/0"),
    )
    return NetworkAcl(acl_id, vpc, True, entries, subnets)


def base(**parts: Any) -> NetworkSnapshot:
    """vpc-a 10.0.0.0/16 (+ 2600:a::/56): subnet-a1 10.0.1.0/24 on rtb-a (main) and
    subnet-a2 10.0.2.0/24 (public, on rtb-pub); vpc-b 10.1.0.0/16: subnet-b1 on rtb-b."""
    snapshot = NetworkSnapshot(
        account_id=ME,
        region=R1,
        vpcs=(Vpc("vpc-a", ME, ("10.0.0.0/16", "2600:a::/56")), Vpc("vpc-b", ME, ("10.1.0.0/16",))),
        subnets=(
            Subnet("subnet-a1", "vpc-a", ME, "10.0.1.0/24", ("2600:a::/64",), "us-east-1a"),
            Subnet("subnet-a2", "vpc-a", ME, "10.0.2.0/24", (), "us-east-1a"),
            Subnet("subnet-b1", "vpc-b", ME, "10.1.1.0/24", (), "us-east-1a"),
        ),
        route_tables=(
            rt("rtb-a", "vpc-a", ("10.0.0.0/16", "local"), ("2600:a::/56", "local"), main=True),
            rt("rtb-pub", "vpc-a", ("10.0.0.0/16", "local"), ("0.0.0.0/0", "igw-a"), subnets=("subnet-a2",)),
            rt("rtb-b", "vpc-b", ("10.1.0.0/16", "local"), main=True),
        ),
        internet_gateways=(InternetGateway("igw-a", ("vpc-a",), ME),),
        prefix_lists=(PrefixList(S3_PL, f"com.amazonaws.{R1}.s3", None, "AWS"),),
        network_acls=(
            allow_all("acl-a", "vpc-a", ("subnet-a1", "subnet-a2")),
            allow_all("acl-b", "vpc-b", ("subnet-b1",)),
        ),
    )
    return dataclasses.replace(snapshot, **parts)


def with_routes(snapshot: NetworkSnapshot, table_id: str, *routes: tuple[str, str] | Route) -> NetworkSnapshot:
    tables = tuple(
        dataclasses.replace(t, routes=t.routes + tuple(r if isinstance(r, Route) else Route(*r) for r in routes))
        if t.route_table_id == table_id
        else t
        for t in snapshot.route_tables
    )
    return dataclasses.replace(snapshot, route_tables=tables)


def trace(snapshots: NetworkSnapshot | list[NetworkSnapshot], source: str, destination: str, **kw: Any) -> PathResult:
    listed = snapshots if isinstance(snapshots, list) else [snapshots]
    return PathIndex(listed).trace(source, destination, **kw)


def ids(result: PathResult) -> list[str]:
    return [h.resource_id for h in result.hops]


def peered(status: str = "active") -> NetworkSnapshot:
    pcx = Peering(
        "pcx-ab", status, PeeringSide("vpc-a", ME, R1, ("10.0.0.0/16",)), PeeringSide("vpc-b", ME, R1, ("10.1.0.0/16",))
    )
    snapshot = with_routes(base(peerings=(pcx,)), "rtb-a", ("10.1.0.0/16", "pcx-ab"))
    return with_routes(snapshot, "rtb-b", ("10.0.0.0/16", "pcx-ab"))


# ---------------------------------------------------------------------------------
# Local, JSON shape, source and destination parsing
# ---------------------------------------------------------------------------------


def test_local_delivery_and_the_json_of_spec_7() -> None:
    result = trace(base(), "subnet-a1", "10.0.2.9")
    assert result.verdict == "reachable" and result.private
    data = result.to_json()
    assert list(data) == [
        "source", "destination", "protocol", "port", "verdict", "private", "hops", "return_hops", "blocked_at", "notes",
    ]  # fmt: skip
    assert data["source"] == {"subnet_id": "subnet-a1", "vpc_id": "vpc-a", "region": R1, "address": "10.0.1.0/24"}
    assert data["destination"] == {"kind": "address", "value": "10.0.2.9", "address": "10.0.2.9"}
    assert (data["protocol"], data["port"], data["blocked_at"]) == ("tcp", 443, None)
    assert [(h["resource_id"], h["type"]) for h in data["hops"]] == [
        ("acl-a", "network-acl"),
        ("rtb-a", "route-table"),
        ("subnet-a2", "subnet"),
        ("acl-a", "network-acl"),
    ]
    assert [h["resource_id"] for h in data["return_hops"]] == ["acl-a", "rtb-pub", "subnet-a1", "acl-a"]
    assert SG_NOTE in data["notes"]


def test_an_ip_source_is_found_in_its_subnet() -> None:
    result = trace(base(), "10.0.2.7", "subnet-a1")
    assert result.source.subnet_id == "subnet-a2" and result.source.address == "10.0.2.7"
    assert result.destination.kind == "subnet" and result.reachable


@pytest.mark.parametrize(
    ("source", "destination", "message"),
    [
        ("subnet-zz", "s3", "not a subnet"),
        ("10.9.9.9", "s3", "not inside a subnet"),
        ("subnet-a1", "subnet-zz", "not a subnet"),
        ("subnet-a1", "nowhere", "is not a subnet id"),
        ("bogus", "s3", "neither"),
    ],
)
def test_names_that_match_nothing_are_usage_errors(source: str, destination: str, message: str) -> None:
    with pytest.raises(PathQueryError, match=message):
        trace(base(), source, destination)


def test_an_ip_in_two_overlapping_subnets_must_be_named_by_subnet() -> None:
    snapshot = base(subnets=(*base().subnets, Subnet("subnet-x", "vpc-b", ME, "10.0.1.0/24")))
    with pytest.raises(PathQueryError, match="several subnets"):
        trace(snapshot, "10.0.1.5", "s3")


# ---------------------------------------------------------------------------------
# Route tables: explicit or main, LPM, ties, prefix lists, IPv6
# ---------------------------------------------------------------------------------


def test_an_explicit_association_wins_over_the_main_table() -> None:
    assert ids(trace(base(), "subnet-a2", "internet"))[1] == "rtb-pub"
    assert ids(trace(base(), "subnet-a1", "internet"))[1] == "rtb-a"


@pytest.mark.parametrize(
    ("routes", "destination", "expected"),
    [
        ((("10.1.0.0/16", "pcx-ab"), ("10.1.1.0/24", "nat-1")), "10.1.1.5", "10.1.1.0/24 -> nat-1"),
        ((("10.1.0.0/16", "pcx-ab"), ("10.1.1.0/24", "nat-1")), "10.1.2.5", "10.1.0.0/16 -> pcx-ab"),
        ((("0.0.0.0/0", "igw-a"), ("10.0.0.0/8", "pcx-ab")), "10.1.2.5", "10.0.0.0/8 -> pcx-ab"),
        # Equal destinations: a static route before a propagated one.
        (
            (Route("10.1.0.0/16", "vgw-1", origin="EnableVgwRoutePropagation"), Route("10.1.0.0/16", "pcx-ab")),
            "10.1.2.5",
            "10.1.0.0/16 -> pcx-ab",
        ),
        # A static CIDR route before a customer prefix list with the same CIDR.
        ((("pl-corp", "vgw-1"), ("10.1.0.0/16", "pcx-ab")), "10.1.2.5", "10.1.0.0/16 -> pcx-ab"),
        # A prefix-list entry more specific than a CIDR route wins (longest prefix).
        ((("pl-corp", "vgw-1"), ("10.0.0.0/8", "pcx-ab")), "10.1.2.5", "pl-corp (via pl-corp) -> vgw-1"),
    ],
)
def test_longest_prefix_match_and_ties(routes: tuple[Any, ...], destination: str, expected: str) -> None:
    snapshot = base(prefix_lists=(*base().prefix_lists, PrefixList("pl-corp", "corp", ("10.1.0.0/16",), ME)))
    snapshot = with_routes(snapshot, "rtb-a", *routes)
    hop = trace(snapshot, "subnet-a1", destination).hops[1]
    assert hop.resource_id == "rtb-a" and hop.detail == expected


def test_no_route_blocks_at_the_route_table_with_a_fix() -> None:
    result = trace(base(), "subnet-a1", "10.1.1.5")
    assert result.verdict == "unreachable"
    assert result.blocked_at is not None and result.blocked_at.resource_id == "rtb-a"
    assert result.blocked_at.reason == "no route to 10.1.1.5/32" and "rtb-a" in result.blocked_at.fix


def test_ipv6_uses_ipv6_routes_and_an_egress_only_gateway_outbound() -> None:
    snapshot = base(egress_only_internet_gateways=(EgressOnlyInternetGateway("eigw-1", ("vpc-a",)),))
    snapshot = with_routes(snapshot, "rtb-a", ("::/0", "eigw-1"))
    result = trace(snapshot, "subnet-a1", "2606:4700::1111")
    assert result.reachable and not result.private
    assert result.source.address == "2600:a::/64"
    assert [h.type for h in result.hops][1:3] == ["route-table", "egress-only-internet-gateway"]
    # IPv4 traffic has no route to it; a subnet without IPv6 cannot send IPv6.
    assert trace(snapshot, "subnet-a1", "8.8.8.8").verdict == "unreachable"
    assert trace(snapshot, "subnet-a2", "2606:4700::1111").blocked_at.reason == "the subnet has no IPv6 CIDR"  # type: ignore[union-attr]


# ---------------------------------------------------------------------------------
# Gateways: internet, NAT, VPN; endpoints
# ---------------------------------------------------------------------------------


def test_internet_gateway_public_path() -> None:
    result = trace(base(), "subnet-a2", "internet")
    assert result.reachable and not result.private
    assert ids(result)[:3] == ["acl-a", "rtb-pub", "igw-a"]
    assert any("public IPv4" in n for n in result.notes)


@pytest.mark.parametrize(
    ("igw", "destination", "reason"),
    [
        (InternetGateway("igw-a", ("vpc-b",), ME), "internet", "not attached to vpc-a"),
        (InternetGateway("igw-a", ("vpc-a",), ME), "10.7.0.1", "not a public address"),
    ],
)
def test_internet_gateway_blocks(igw: InternetGateway, destination: str, reason: str) -> None:
    result = trace(base(internet_gateways=(igw,)), "subnet-a2", destination)
    assert result.verdict == "unreachable" and reason in result.blocked_at.reason  # type: ignore[union-attr]


def test_a_route_to_a_missing_gateway_is_a_blackhole_unless_its_data_is_missing() -> None:
    from chalicelib.core.model import CollectionError

    gone = base(internet_gateways=())
    assert trace(gone, "subnet-a2", "internet").verdict == "unreachable"
    unread = dataclasses.replace(gone, errors=(CollectionError("ec2:DescribeInternetGateways", R1, "AccessDenied"),))
    assert trace(unread, "subnet-a2", "internet").verdict == "unknown"


@pytest.mark.parametrize(
    ("nat_state", "connectivity", "verdict", "private"),
    [
        ("available", "public", "reachable", False),
        ("pending", "public", "unreachable", True),
        ("deleted", "public", "unreachable", True),
        ("available", "private", "unreachable", True),  # a private NAT cannot use the internet gateway
    ],
)
def test_nat_gateway_then_its_subnet_table(nat_state: str, connectivity: str, verdict: str, private: bool) -> None:
    snapshot = base(nat_gateways=(NatGateway("nat-1", "vpc-a", "subnet-a2", nat_state, connectivity),))
    snapshot = with_routes(snapshot, "rtb-a", ("0.0.0.0/0", "nat-1"))
    result = trace(snapshot, "subnet-a1", "internet")
    assert (result.verdict, result.private) == (verdict, private)
    if verdict == "reachable":
        assert ids(result) == ["acl-a", "rtb-a", "nat-1", "acl-a", "acl-a", "rtb-pub", "igw-a"]
        assert ids(dataclasses.replace(result, hops=result.return_hops)) == ["acl-a", "nat-1", "acl-a", "acl-a"]


def test_a_nat_whose_subnet_has_no_way_on_blocks_at_that_table() -> None:
    snapshot = base(nat_gateways=(NatGateway("nat-1", "vpc-a", "subnet-b1", "available"),))
    snapshot = with_routes(snapshot, "rtb-a", ("0.0.0.0/0", "nat-1"))
    result = trace(snapshot, "subnet-a1", "s3")
    assert result.blocked_at is not None and result.blocked_at.resource_id == "rtb-b"


@pytest.mark.parametrize(
    ("state", "attached", "verdict"),
    [("available", True, "reachable"), ("available", False, "unreachable"), ("deleted", True, "unreachable")],
)
def test_virtual_private_gateway_leaves_aws_privately(state: str, attached: bool, verdict: str) -> None:
    snapshot = base(vpn_gateways=(VpnGateway("vgw-1", state, ("vpc-a",) if attached else ()),))
    snapshot = with_routes(snapshot, "rtb-a", ("192.168.0.0/16", "vgw-1"))
    result = trace(snapshot, "subnet-a1", "192.168.4.4")
    assert result.verdict == verdict and result.private


def test_the_lab_story_s3_blocked_then_private_through_a_gateway_endpoint() -> None:
    result = trace(base(), "subnet-a1", "s3")
    assert result.verdict == "unreachable" and result.blocked_at.resource_id == "rtb-a"  # type: ignore[union-attr]
    assert result.destination.address == S3_PL and "gateway endpoint" in result.blocked_at.fix  # type: ignore[union-attr]
    endpoint = VpcEndpoint("vpce-s3", "vpc-a", f"com.amazonaws.{R1}.s3", "Gateway", "available", ("rtb-a",))
    fixed = with_routes(base(vpc_endpoints=(endpoint,)), "rtb-a", (S3_PL, "vpce-s3"))
    result = trace(fixed, "subnet-a1", "s3")
    assert result.reachable and result.private
    assert [(h.resource_id, h.type) for h in result.hops][1:] == [
        ("rtb-a", "route-table"),
        ("vpce-s3", "gateway-endpoint"),
    ]
    # The public subnet's default route also reaches S3, over the internet.
    public = trace(fixed, "subnet-a2", "s3")
    assert public.reachable and not public.private
    # An endpoint that is not available blocks there.
    pending = dataclasses.replace(fixed, vpc_endpoints=(dataclasses.replace(endpoint, state="pending"),))
    assert trace(pending, "subnet-a1", "s3").blocked_at.resource_id == "vpce-s3"  # type: ignore[union-attr]


@pytest.mark.parametrize(("private_dns", "reachable", "private"), [(True, True, True), (False, False, True)])
def test_interface_endpoint_serves_service_name(private_dns: bool, reachable: bool, private: bool) -> None:
    endpoint = VpcEndpoint(
        "vpce-ssm", "vpc-a", f"com.amazonaws.{R1}.ssm", "Interface", "available", (), ("subnet-a2",), private_dns
    )
    result = trace(base(vpc_endpoints=(endpoint,)), "subnet-a1", "service:ssm")
    assert result.reachable is reachable and result.private is private
    if private_dns:
        assert result.hops[-1].resource_id == "vpce-ssm" and result.destination.address == "vpce-ssm"
    else:
        assert any("private DNS disabled" in n for n in result.notes)


def test_a_service_without_an_endpoint_goes_the_public_way() -> None:
    result = trace(base(), "subnet-a2", "service:ssm")
    assert result.reachable and not result.private and "igw-a" in ids(result)


# ---------------------------------------------------------------------------------
# Peering: delivery to the peer only, states, return path
# ---------------------------------------------------------------------------------


def test_peering_delivers_to_the_peer_and_the_reply_comes_back() -> None:
    result = trace(peered(), "subnet-a1", "subnet-b1")
    assert result.reachable and result.private
    assert ids(result) == ["acl-a", "rtb-a", "pcx-ab", "subnet-b1", "acl-b"]
    assert [h.resource_id for h in result.return_hops] == ["acl-b", "rtb-b", "pcx-ab", "subnet-a1", "acl-a"]


@pytest.mark.parametrize("status", ["pending-acceptance", "deleted", "rejected"])
def test_an_inactive_peering_blocks(status: str) -> None:
    result = trace(peered(status), "subnet-a1", "subnet-b1")
    assert result.verdict == "unreachable" and result.blocked_at.resource_id == "pcx-ab"  # type: ignore[union-attr]


def test_asymmetric_routing_is_blocked_on_the_return_path() -> None:
    one_way = dataclasses.replace(
        peered(),
        route_tables=tuple(
            rt("rtb-b", "vpc-b", ("10.1.0.0/16", "local"), main=True) if t.route_table_id == "rtb-b" else t
            for t in peered().route_tables
        ),
    )
    result = trace(one_way, "subnet-a1", "subnet-b1")
    assert result.verdict == "unreachable"
    assert result.blocked_at.resource_id == "rtb-b" and result.blocked_at.reason == "no route to 10.0.1.0/24"  # type: ignore[union-attr]
    assert [h.resource_id for h in result.hops][-1] == "acl-b"  # the forward path got there


def test_peering_is_not_transitive() -> None:
    # vpc-a -> pcx-ab -> vpc-b, and vpc-b -> pcx-bc -> vpc-c: vpc-a cannot reach vpc-c.
    pcx_bc = Peering(
        "pcx-bc",
        "active",
        PeeringSide("vpc-b", ME, R1, ("10.1.0.0/16",)),
        PeeringSide("vpc-c", ME, R1, ("10.2.0.0/16",)),
    )
    snapshot = peered()
    snapshot = dataclasses.replace(
        snapshot,
        vpcs=(*snapshot.vpcs, Vpc("vpc-c", ME, ("10.2.0.0/16",))),
        subnets=(*snapshot.subnets, Subnet("subnet-c1", "vpc-c", ME, "10.2.1.0/24")),
        peerings=(*snapshot.peerings, pcx_bc),
    )
    snapshot = with_routes(snapshot, "rtb-a", ("10.2.0.0/16", "pcx-ab"))
    snapshot = with_routes(snapshot, "rtb-b", ("10.2.0.0/16", "pcx-bc"))
    result = trace(snapshot, "subnet-a1", "subnet-c1")
    assert result.verdict == "unreachable" and result.blocked_at.resource_id == "pcx-ab"  # type: ignore[union-attr]
    assert "not transitive" in result.blocked_at.reason  # type: ignore[union-attr]


def test_no_edge_to_edge_through_the_peers_internet_gateway_or_endpoint() -> None:
    snapshot = with_routes(peered(), "rtb-a", ("0.0.0.0/0", "pcx-ab"))
    snapshot = with_routes(snapshot, "rtb-b", ("0.0.0.0/0", "igw-b"))
    snapshot = dataclasses.replace(snapshot, internet_gateways=(InternetGateway("igw-b", ("vpc-b",), ME),))
    for destination in ("internet", "s3", "8.8.8.8"):
        result = trace(snapshot, "subnet-a1", destination)
        assert result.verdict == "unreachable" and result.blocked_at.resource_id == "pcx-ab", destination  # type: ignore[union-attr]
        assert "igw-b" not in ids(result)


def test_a_peer_vpc_outside_the_audited_regions_is_unknown() -> None:
    pcx = Peering(
        "pcx-x",
        "active",
        PeeringSide("vpc-a", ME, R1, ("10.0.0.0/16",)),
        PeeringSide("vpc-far", "222222222222", R2, ("10.9.0.0/16",)),
    )
    snapshot = with_routes(base(peerings=(pcx,)), "rtb-a", ("10.9.0.0/16", "pcx-x"))
    result = trace(snapshot, "subnet-a1", "10.9.0.5")
    assert result.verdict == "unknown" and result.blocked_at.resource_id == "vpc-far"  # type: ignore[union-attr]


def test_a_cross_region_peering_is_followed_into_the_other_snapshot() -> None:
    pcx = Peering(
        "pcx-x",
        "active",
        PeeringSide("vpc-a", ME, R1, ("10.0.0.0/16",)),
        PeeringSide("vpc-e", ME, R2, ("10.9.0.0/16",)),
    )
    east = with_routes(base(peerings=(pcx,)), "rtb-a", ("10.9.0.0/16", "pcx-x"))
    west = NetworkSnapshot(
        ME,
        R2,
        vpcs=(Vpc("vpc-e", ME, ("10.9.0.0/16",)),),
        subnets=(Subnet("subnet-e1", "vpc-e", ME, "10.9.0.0/24"),),
        route_tables=(rt("rtb-e", "vpc-e", ("10.9.0.0/16", "local"), ("10.0.0.0/16", "pcx-x"), main=True),),
        peerings=(pcx,),
    )
    result = trace([east, west], "subnet-a1", "10.9.0.5")
    assert result.reachable and [h.resource_id for h in result.return_hops][:3] == ["rtb-e", "pcx-x", "subnet-a1"]
    assert any("no network ACL known for subnet-e1" in n for n in result.notes)


# ---------------------------------------------------------------------------------
# Route states and targets not modelled
# ---------------------------------------------------------------------------------


def test_a_blackhole_route_blocks() -> None:
    snapshot = with_routes(peered(), "rtb-a", Route("10.1.1.0/24", "pcx-ab", state="blackhole"))
    result = trace(snapshot, "subnet-a1", "subnet-b1")
    assert result.blocked_at.resource_id == "rtb-a" and "blackhole" in result.blocked_at.reason  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("target", "kind"),
    [
        ("eni-1", "network-interface"),
        ("i-1", "instance"),
        ("cagw-1", "carrier-gateway"),
        ("lgw-1", "local-gateway"),
        ("arn:aws:networkmanager::111111111111:core-network/core-network-1", "core-network"),
    ],
)
def test_targets_not_modelled_end_the_path_unknown(target: str, kind: str) -> None:
    result = trace(with_routes(base(), "rtb-a", ("0.0.0.0/0", target)), "subnet-a1", "internet")
    assert result.verdict == "unknown" and result.blocked_at is not None
    assert (result.blocked_at.resource_id, result.blocked_at.type) == (target, kind)


# ---------------------------------------------------------------------------------
# Network ACLs
# ---------------------------------------------------------------------------------


def acl(*entries: NetworkAclEntry, subnets: tuple[str, ...] = ("subnet-a1",)) -> NetworkAcl:
    return NetworkAcl("acl-x", "vpc-a", False, entries, subnets)


OUT_ALL = NetworkAclEntry(100, True, "-1", True, "0.0.0.0/0")
IN_EPHEMERAL = NetworkAclEntry(100, False, "6", True, "0.0.0.0/0", 1024, 65535)


@pytest.mark.parametrize(
    ("entries", "verdict", "blocked_detail"),
    [
        ((OUT_ALL, IN_EPHEMERAL), "reachable", None),
        # Rule order: the lower number decides.
        (
            (NetworkAclEntry(90, True, "6", False, "0.0.0.0/0", 443, 443), OUT_ALL, IN_EPHEMERAL),
            "unreachable",
            "outbound rule 90",
        ),
        ((NetworkAclEntry(110, True, "6", False, "0.0.0.0/0", 443, 443), OUT_ALL, IN_EPHEMERAL), "reachable", None),
        # Nothing matches: the implicit deny.
        ((NetworkAclEntry(100, True, "6", True, "0.0.0.0/0", 80, 80), IN_EPHEMERAL), "unreachable", "outbound rule *"),
        # The reply needs the ephemeral ports inbound.
        ((OUT_ALL, NetworkAclEntry(100, False, "6", True, "0.0.0.0/0", 443, 443)), "unreachable", "inbound rule *"),
        # udp is not tcp.
        ((OUT_ALL, NetworkAclEntry(100, False, "17", True, "0.0.0.0/0", 1024, 65535)), "unreachable", "inbound rule *"),
    ],
)
def test_network_acl_rule_order_and_ephemeral_replies(
    entries: tuple[NetworkAclEntry, ...], verdict: str, blocked_detail: str | None
) -> None:
    acls = (acl(*entries), allow_all("acl-a", "vpc-a", ("subnet-a2",)))
    result = trace(base(network_acls=acls), "subnet-a1", "subnet-a2")
    assert result.verdict == verdict
    if blocked_detail:
        assert result.blocked_at.resource_id == "acl-x" and blocked_detail in result.blocked_at.reason  # type: ignore[union-attr]


def test_destination_acl_inbound_and_icmp() -> None:
    deny_in = NetworkAcl(
        "acl-b",
        "vpc-b",
        False,
        (NetworkAclEntry(100, True, "-1", True, "0.0.0.0/0"), NetworkAclEntry(100, False, "1", True, "10.0.0.0/16")),
        ("subnet-b1",),
    )
    snapshot = dataclasses.replace(peered(), network_acls=(allow_all("acl-a", "vpc-a", ("subnet-a1",)), deny_in))
    tcp = trace(snapshot, "subnet-a1", "subnet-b1")
    assert tcp.blocked_at.resource_id == "acl-b" and "inbound" in tcp.blocked_at.reason  # type: ignore[union-attr]
    icmp = trace(snapshot, "subnet-a1", "subnet-b1", protocol="icmp", port=None)
    assert icmp.reachable and icmp.port is None


# ---------------------------------------------------------------------------------
# Transit gateways
# ---------------------------------------------------------------------------------


def tgw_snapshot(*routes: TgwRoute, rtb_b: str = "tgw-rtb-2", extra: tuple[TgwAttachment, ...] = ()) -> NetworkSnapshot:
    snapshot = with_routes(base(), "rtb-a", ("10.0.0.0/8", "tgw-1"))
    snapshot = with_routes(snapshot, "rtb-b", ("10.0.0.0/8", "tgw-1"))
    return dataclasses.replace(
        snapshot,
        transit_gateways=(TransitGateway("tgw-1", ME, "available"),),
        tgw_attachments=(
            TgwAttachment("tgw-attach-a", "tgw-1", "vpc", "vpc-a", ME, "available", "tgw-rtb-1", "associated"),
            TgwAttachment("tgw-attach-b", "tgw-1", "vpc", "vpc-b", ME, "available", rtb_b, "associated"),
            *extra,
        ),
        tgw_route_tables=(
            TgwRouteTable("tgw-rtb-1", "tgw-1", routes=routes, propagations=()),
            TgwRouteTable("tgw-rtb-2", "tgw-1", propagations=("tgw-attach-a",)),
        ),
    )


def test_tgw_association_lpm_and_delivery_with_return() -> None:
    snapshot = tgw_snapshot(TgwRoute("10.1.0.0/16", "propagated", "active", ("tgw-attach-b",)))
    result = trace(snapshot, "subnet-a1", "subnet-b1")
    assert result.reachable and result.private
    assert ids(result) == ["acl-a", "rtb-a", "tgw-attach-a", "tgw-rtb-1", "tgw-attach-b", "subnet-b1", "acl-b"]
    # The reply: vpc-b's attachment is associated with tgw-rtb-2, where vpc-a propagates.
    assert [h.resource_id for h in result.return_hops][:5] == [
        "acl-b",
        "rtb-b",
        "tgw-attach-b",
        "tgw-rtb-2",
        "tgw-attach-a",
    ]


def test_tgw_segmentation_no_route_in_the_associated_table() -> None:
    result = trace(tgw_snapshot(), "subnet-a1", "subnet-b1")
    assert result.blocked_at.resource_id == "tgw-rtb-1" and result.blocked_at.reason.startswith("no route")  # type: ignore[union-attr]


def test_tgw_blackhole_and_more_specific_blackhole() -> None:
    result = trace(tgw_snapshot(TgwRoute("10.1.0.0/16", "static", "blackhole")), "subnet-a1", "subnet-b1")
    assert result.blocked_at.resource_id == "tgw-rtb-1" and "blackhole" in result.blocked_at.reason  # type: ignore[union-attr]
    snapshot = tgw_snapshot(
        TgwRoute("10.1.0.0/16", "propagated", "active", ("tgw-attach-b",)),
        TgwRoute("10.1.1.0/24", "static", "blackhole"),
    )
    assert trace(snapshot, "subnet-a1", "subnet-b1").verdict == "unreachable"
    assert trace(snapshot, "subnet-a1", "10.1.2.3").blocked_at.resource_id == "vpc-b"  # type: ignore[union-attr]  # no such subnet


def test_tgw_unassociated_attachment_blocks_and_vpn_leaves_aws() -> None:
    snapshot = tgw_snapshot(rtb_b="")
    snapshot = dataclasses.replace(
        snapshot,
        tgw_attachments=tuple(
            dataclasses.replace(a, association_route_table_id=None) if a.attachment_id == "tgw-attach-a" else a
            for a in snapshot.tgw_attachments
        ),
    )
    assert trace(snapshot, "subnet-a1", "subnet-b1").blocked_at.resource_id == "tgw-attach-a"  # type: ignore[union-attr]
    vpn = TgwAttachment("tgw-attach-vpn", "tgw-1", "vpn", "vpn-1", ME, "available", "tgw-rtb-2", "associated")
    snapshot = tgw_snapshot(TgwRoute("10.0.0.0/8", "static", "active", ("tgw-attach-vpn",)), extra=(vpn,))
    result = trace(snapshot, "subnet-a1", "10.200.0.1")
    assert result.reachable and result.private and result.hops[-1].resource_id == "tgw-attach-vpn"


def test_cross_region_tgw_peering() -> None:
    east = tgw_snapshot(TgwRoute("10.9.0.0/16", "static", "active", ("tgw-attach-peer",)))
    peering = TgwPeeringAttachment("tgw-attach-peer", "available", "tgw-1", R1, "tgw-2", R2)
    east = dataclasses.replace(
        with_routes(east, "rtb-a", ("10.9.0.0/16", "tgw-1")),
        tgw_attachments=(
            *east.tgw_attachments,
            TgwAttachment("tgw-attach-peer", "tgw-1", "peering", "tgw-2", ME, "available", "tgw-rtb-2", "associated"),
        ),
        tgw_peering_attachments=(peering,),
    )
    west = NetworkSnapshot(
        ME,
        R2,
        vpcs=(Vpc("vpc-w", ME, ("10.9.0.0/16",)),),
        subnets=(Subnet("subnet-w1", "vpc-w", ME, "10.9.1.0/24"),),
        route_tables=(rt("rtb-w", "vpc-w", ("10.9.0.0/16", "local"), ("10.0.0.0/16", "tgw-2"), main=True),),
        transit_gateways=(TransitGateway("tgw-2", ME, "available"),),
        tgw_attachments=(
            TgwAttachment("tgw-attach-w", "tgw-2", "vpc", "vpc-w", ME, "available", "tgw-rtb-w", "associated"),
            TgwAttachment("tgw-attach-peer", "tgw-2", "peering", "tgw-1", ME, "available", "tgw-rtb-w", "associated"),
        ),
        tgw_route_tables=(
            TgwRouteTable(
                "tgw-rtb-w",
                "tgw-2",
                routes=(TgwRoute("10.0.0.0/16", "static", "active", ("tgw-attach-peer",)),),
                propagations=("tgw-attach-w",),
            ),
        ),
        tgw_peering_attachments=(peering,),
    )
    result = trace([east, west], "subnet-a1", "10.9.1.5")
    assert result.reachable
    # The reply comes back over the peering into the east table the peering is associated with.
    assert [h.resource_id for h in result.return_hops][3:6] == ["tgw-attach-peer", "tgw-rtb-2", "tgw-attach-a"]
    assert ids(result)[2:] == ["tgw-attach-a", "tgw-rtb-1", "tgw-attach-peer", "tgw-rtb-w", "tgw-attach-w", "subnet-w1"]
    # Only the east region audited: unknown beyond the peering.
    assert trace(east, "subnet-a1", "10.9.1.5").verdict == "unknown"
    assert "subnet-w1" in result.resource_ids and "tgw-rtb-w" in result.resource_ids


def test_a_gateway_endpoint_associated_with_the_table_serves_even_without_its_route_listed() -> None:
    endpoint = VpcEndpoint("vpce-s3", "vpc-a", f"com.amazonaws.{R1}.s3", "Gateway", "available", ("rtb-a",))
    result = trace(base(vpc_endpoints=(endpoint,)), "subnet-a1", "s3")
    assert result.reachable and result.hops[1].detail == f"{S3_PL} -> vpce-s3"
