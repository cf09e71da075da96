"""Minimal worlds where a scoped audit and the full audit disagree (found by the property
tests, shrunk by hypothesis, trimmed by hand). Each is a scenario the harness compares;
``test_known_disagreements`` runs them all on every test run, so a fix shows up as a pass.

Each case: (id, what goes wrong, the scenario).
"""

from __future__ import annotations

from collections.abc import Callable

from chalicelib.core.events import checks_for_event
from tests.fakeec2 import PEER_REGION, WorldBuilder
from tests.property.strategies import Scenario


def _scenario(b: WorldBuilder, scope: list[str], event: str) -> Scenario:
    return Scenario(b.build(), tuple(scope), event, checks_for_event(event))


def peering_reported_from_the_accepter_side() -> Scenario:
    """peering-cidrs-non-overlapping: the full audit gives the finding the requester's VPC,
    an audit scoped to the accepter gives it the accepter's (same id, other vpc_id)."""
    b = WorldBuilder()
    accepter = b.vpc("10.0.0.0/16")
    requester = b.vpc("10.0.0.0/16")
    b.peering(requester, accepter)
    return _scenario(b, [accepter], "CreateVpcPeeringConnection")


def cross_region_peering_reported_from_the_accepter_side() -> Scenario:
    """The same, for a peering requested from another region: the full audit of this region
    reports it on the other region's VPC (SPEC: it is the requester region's finding)."""
    b = WorldBuilder()
    accepter = b.vpc("10.0.0.0/16")
    requester = b.external_vpc(["10.0.0.0/16"], region=PEER_REGION)
    b.peering(requester, accepter)
    return _scenario(b, [accepter], "CreateVpcPeeringConnection")


def route_to_an_unaccepted_peering_with_an_own_vpc() -> Scenario:
    """peering-routes-least-access opened by a route re-audit only: the route goes to the
    peer VPC's own range, over a peering still pending acceptance. EC2 describes the
    accepter's CIDRs only once the peering is active; the full audit knows them from
    DescribeVpcs, the lean one (peerings by id, VPCs of the scope) does not."""
    b = WorldBuilder()
    vpc = b.vpc("10.0.0.0/16")
    peer = b.vpc("192.168.0.0/20")
    table = b.route_table(vpc, main=True)
    b.route(table, "192.168.0.0/20", b.peering(vpc, peer, status="pending-acceptance"))
    return _scenario(b, [vpc], "CreateRoute")


def route_to_a_peer_known_only_through_another_peering() -> Scenario:
    """peering-routes-least-access opened by a route re-audit only: a peer VPC in another
    region, whose CIDRs EC2 describes only in another VPC's active peering with it."""
    b = WorldBuilder()
    vpc = b.vpc("10.0.0.0/16")
    other = b.vpc("10.1.0.0/16")
    remote = b.external_vpc(["10.9.0.0/16"], region=PEER_REGION)
    b.peering(other, remote)
    table = b.route_table(vpc, main=True)
    b.route(table, "10.9.0.0/16", b.peering(vpc, remote, status="pending-acceptance"))
    return _scenario(b, [vpc], "CreateRoute")


def stale_route_to_a_purged_peering() -> Scenario:
    """A route left to a peering deleted long ago (EC2 no longer describes it): the lean
    re-audit asks DescribeVpcPeeringConnections for that id, EC2 answers
    InvalidVpcPeeringConnectionID.NotFound, and the route checks of the whole scope go
    "not evaluated" (routes-no-blackhole, which the full audit reports, included)."""
    b = WorldBuilder()
    vpc = b.vpc("10.0.0.0/16")
    table = b.route_table(vpc, main=True)
    b.route(table, "10.1.0.0/16", "pcx-0000dead", state="blackhole")
    return _scenario(b, [vpc], "CreateRoute")


def tgw_table_the_scope_does_not_reach() -> Scenario:
    """tgw-routes-non-overlapping: the scoped audit collects every route table of the
    gateway its VPC attaches to (so the coverage covers them) but judges only those its
    attachment is associated with or propagates into: it neither reports nor keeps the
    other table's finding (a re-audit would resolve it)."""
    b = WorldBuilder()
    vpc = b.vpc("10.0.0.0/16")
    spoke_a, spoke_b = b.vpc("10.1.0.0/16"), b.vpc("10.1.0.0/16")
    tgw = b.transit_gateway()
    mine, theirs = b.tgw_route_table(tgw), b.tgw_route_table(tgw)
    attachment = b.tgw_attachment(tgw, "vpc", vpc)
    a, c = b.tgw_attachment(tgw, "vpc", spoke_a), b.tgw_attachment(tgw, "vpc", spoke_b)
    b.tgw_associate(mine, attachment)
    b.tgw_propagate(mine, attachment)
    b.tgw_associate(theirs, a)
    b.tgw_propagate(theirs, a)
    b.tgw_route(theirs, "10.1.0.0/24", c)
    return _scenario(b, [vpc], "CreateTransitGateway")


def stale_route_to_a_transit_gateway() -> Scenario:
    """tgw-auto-accept-disabled: a route left to a gateway the VPC is no longer attached to
    makes the scoped audit collect that gateway (so the coverage covers it) without judging
    it: the full audit's finding is neither reported nor kept."""
    b = WorldBuilder()
    vpc = b.vpc("10.0.0.0/16")
    tgw = b.transit_gateway(auto_accept="enable")
    table = b.route_table(vpc, main=True)
    b.route(table, "10.1.0.0/16", tgw, state="blackhole")
    return _scenario(b, [vpc], "CreateVpc")


def static_tgw_route_to_an_attachment_that_does_not_propagate() -> Scenario:
    """connected-cidrs-non-overlapping and tgw-routes-non-overlapping: a static route to an
    attachment that propagates nowhere; the scoped collection does not describe that
    attachment, so the evidence names no VPC for it (and the detail loses it)."""
    b = WorldBuilder()
    vpc = b.vpc("10.0.0.0/16")
    spoke_a, spoke_b = b.vpc("10.1.0.0/16"), b.vpc("10.1.0.0/16")
    tgw = b.transit_gateway()
    table = b.tgw_route_table(tgw)
    attachment = b.tgw_attachment(tgw, "vpc", vpc)
    a, c = b.tgw_attachment(tgw, "vpc", spoke_a), b.tgw_attachment(tgw, "vpc", spoke_b)
    b.tgw_associate(table, attachment)
    b.tgw_propagate(table, a)
    b.tgw_route(table, "10.1.0.0/24", c)
    return _scenario(b, [vpc], "CreateTransitGateway")


def vpc_reached_by_peering_and_by_static_tgw_route() -> Scenario:
    """connected-cidrs-non-overlapping opened by a scoped audit only: the VPC reaches its
    peer over the peering and over a static TGW route to the peer's attachment (which
    propagates nowhere). The full audit sees one VPC reached two ways; the scoped one does
    not know whose the attachment is, and reports the peer's range as overlapping itself."""
    b = WorldBuilder()
    vpc = b.vpc("10.0.0.0/16")
    peer = b.vpc("10.3.0.0/16")
    b.peering(vpc, peer)
    tgw = b.transit_gateway()
    table = b.tgw_route_table(tgw)
    attachment = b.tgw_attachment(tgw, "vpc", vpc)
    b.tgw_associate(table, attachment)
    b.tgw_route(table, "10.3.0.0/16", b.tgw_attachment(tgw, "vpc", peer))
    return _scenario(b, [vpc], "CreateTransitGateway")


KNOWN_CASES: dict[str, Callable[[], Scenario]] = {
    f.__name__.replace("_", "-"): f
    for f in (
        peering_reported_from_the_accepter_side,
        cross_region_peering_reported_from_the_accepter_side,
        route_to_an_unaccepted_peering_with_an_own_vpc,
        route_to_a_peer_known_only_through_another_peering,
        stale_route_to_a_purged_peering,
        tgw_table_the_scope_does_not_reach,
        stale_route_to_a_transit_gateway,
        static_tgw_route_to_an_attachment_that_does_not_propagate,
        vpc_reached_by_peering_and_by_static_tgw_route,
    )
}
