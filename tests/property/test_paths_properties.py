"""Properties of the path engine over generated landscapes (hand-built snapshots: the
engine is pure): a blackhole route never opens a path, and a reachable path passes only
resources that exist and are live."""

from __future__ import annotations

import dataclasses

import pytest
from hypothesis import HealthCheck, assume, find, given, settings
from hypothesis import strategies as st

from chalicelib.core.checks.reachability import (
    CROSSING_TARGETS,
    _crossing,
    _SubnetsByAddress,
    check_routes_return_path,
)
from chalicelib.core.model import (
    InternetGateway,
    NatGateway,
    NetworkAcl,
    NetworkAclEntry,
    NetworkSnapshot,
    Peering,
    PeeringSide,
    Route,
    RouteTable,
    Subnet,
    TgwAttachment,
    TgwRoute,
    TgwRouteTable,
    TransitGateway,
    Vpc,
    VpcEndpoint,
)
from chalicelib.core.netmath import parse
from chalicelib.core.paths import PathIndex, PathQueryError, PathResult
from chalicelib.core.policy import Policy
from chalicelib.core.states import is_live

pytestmark = pytest.mark.property

ME = "111111111111"
REGION = "us-east-1"
CIDRS = ("10.0.0.0/16", "10.1.0.0/16", "10.2.0.0/16", "10.0.0.0/16")  # the fourth overlaps the first
DESTINATIONS = ("0.0.0.0/0", "10.0.0.0/8", "10.0.0.0/16", "10.1.0.0/16", "10.2.0.0/16", "10.1.1.0/24", "pl-s3")
STATES = ("active", "active", "pending-acceptance", "deleted")


@st.composite
def landscapes(draw: st.DrawFn) -> NetworkSnapshot:
    count = draw(st.integers(2, 4))
    vpcs = [Vpc(f"vpc-{i}", ME, (CIDRS[i],)) for i in range(count)]
    subnets = [Subnet(f"subnet-{i}", f"vpc-{i}", ME, CIDRS[i].replace(".0.0/16", ".1.0/24")) for i in range(count)]
    subnets += [Subnet(f"subnet-{i}p", f"vpc-{i}", ME, CIDRS[i].replace(".0.0/16", ".2.0/24")) for i in range(count)]
    peerings = []
    for i in range(count):
        for j in range(i + 1, count):
            if draw(st.booleans()):
                peerings.append(
                    Peering(
                        f"pcx-{i}{j}",
                        draw(st.sampled_from(STATES)),
                        PeeringSide(f"vpc-{i}", ME, REGION, (CIDRS[i],)),
                        PeeringSide(f"vpc-{j}", ME, REGION, (CIDRS[j],)),
                    )
                )
    igws = [InternetGateway(f"igw-{i}", (f"vpc-{i}",), ME) for i in range(count) if draw(st.booleans())]
    nats = [
        NatGateway(f"nat-{i}", f"vpc-{i}", f"subnet-{i}p", draw(st.sampled_from(("available", "pending", "deleted"))))
        for i in range(count)
        if draw(st.booleans())
    ]
    endpoints = [
        VpcEndpoint(f"vpce-{i}", f"vpc-{i}", f"com.amazonaws.{REGION}.s3", "Gateway", "available")
        for i in range(count)
        if draw(st.booleans())
    ]
    attached = [i for i in range(count) if draw(st.booleans())]
    attachments = [
        TgwAttachment(f"tgw-attach-{i}", "tgw-1", "vpc", f"vpc-{i}", ME, "available", "tgw-rtb-1", "associated")
        for i in attached
    ]
    tgw_routes = tuple(
        TgwRoute(
            draw(st.sampled_from(DESTINATIONS[1:6])),
            "static",
            draw(st.sampled_from(("active", "active", "blackhole"))),
            (f"tgw-attach-{draw(st.sampled_from(attached))}",) if attached else (),
        )
        for _ in range(draw(st.integers(0, 3)))
    )
    targets = [p.peering_id for p in peerings] + [g.gateway_id for g in igws] + [n.nat_gateway_id for n in nats]
    targets += [e.endpoint_id for e in endpoints] + (["tgw-1"] if attached else []) + ["eni-1"]
    tables = []
    for i in range(count):
        for suffix, subnet_ids, main in (("", (f"subnet-{i}",), False), ("m", (), True)):
            routes = [Route(CIDRS[i], "local", origin="CreateRouteTable")]
            for destination in draw(st.lists(st.sampled_from(DESTINATIONS), max_size=4, unique=True)):
                routes.append(Route(destination, draw(st.sampled_from(targets))))
            tables.append(RouteTable(f"rtb-{i}{suffix}", f"vpc-{i}", ME, main, subnet_ids, tuple(routes)))
    acls = [
        NetworkAcl(
            f"acl-{i}",
            f"vpc-{i}",
            False,
            tuple(
                NetworkAclEntry(n, egress, "-1", draw(st.booleans()), "0.0.0.0/0")
                for n in (100, 200)
                for egress in (True, False)
            ),
            (f"subnet-{i}", f"subnet-{i}p"),
        )
        for i in range(count)
        if draw(st.booleans())
    ]
    return NetworkSnapshot(
        ME,
        REGION,
        vpcs=tuple(vpcs),
        subnets=tuple(subnets),
        route_tables=tuple(tables),
        internet_gateways=tuple(igws),
        nat_gateways=tuple(nats),
        vpc_endpoints=tuple(endpoints),
        peerings=tuple(peerings),
        transit_gateways=(TransitGateway("tgw-1", ME, "available"),),
        tgw_attachments=tuple(attachments),
        tgw_route_tables=(TgwRouteTable("tgw-rtb-1", "tgw-1", routes=tgw_routes),),
        network_acls=tuple(acls),
    )


def trace(snapshot: NetworkSnapshot, source: str, destination: str) -> PathResult:
    try:
        return PathIndex([snapshot]).trace(source, destination)
    except PathQueryError:  # a subnet the landscape does not have, or an address in two
        assume(False)
        raise


QUERIES = st.sampled_from(("subnet-1", "subnet-2", "subnet-0p", "10.1.1.7", "10.2.2.9", "s3", "internet", "8.8.8.8"))
SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(landscapes(), QUERIES, st.sampled_from(DESTINATIONS), st.integers(0, 7))
def test_a_blackhole_route_never_opens_a_path(
    snapshot: NetworkSnapshot, destination: str, blackholed: str, table_index: int
) -> None:
    table = snapshot.route_tables[table_index % len(snapshot.route_tables)]
    before = trace(snapshot, "subnet-0", destination)
    kept = tuple(r for r in table.routes if r.destination != blackholed)
    changed = dataclasses.replace(table, routes=(*kept, Route(blackholed, "pcx-gone", state="blackhole")))
    after_snapshot = dataclasses.replace(
        snapshot, route_tables=tuple(changed if t is table else t for t in snapshot.route_tables)
    )
    after = trace(after_snapshot, "subnet-0", destination)
    if not before.reachable:
        assert not after.reachable, (before.to_json(), after.to_json())


def _live_resources(snapshot: NetworkSnapshot) -> set[str]:
    live = {"local"}
    live |= {v.vpc_id for v in snapshot.vpcs} | {s.subnet_id for s in snapshot.subnets}
    live |= {t.route_table_id for t in snapshot.route_tables} | {a.network_acl_id for a in snapshot.network_acls}
    live |= {g.gateway_id for g in snapshot.internet_gateways}
    live |= {n.nat_gateway_id for n in snapshot.nat_gateways if is_live(n.state)}
    live |= {e.endpoint_id for e in snapshot.vpc_endpoints if is_live(e.state)}
    live |= {p.peering_id for p in snapshot.peerings if is_live(p.status)}
    live |= {a.attachment_id for a in snapshot.tgw_attachments if is_live(a.state)}
    live |= {t.route_table_id for t in snapshot.tgw_route_tables if is_live(t.state)}
    return live


@SETTINGS
@given(landscapes(), st.sampled_from(("subnet-0", "subnet-1", "10.0.2.4")), QUERIES)
def test_a_reachable_path_passes_only_live_resources(snapshot: NetworkSnapshot, source: str, destination: str) -> None:
    result = trace(snapshot, source, destination)
    if result.reachable:
        live = _live_resources(snapshot)
        passed = [h.resource_id for h in (*result.hops, *result.return_hops)]
        assert set(passed) <= live, (set(passed) - live, result.to_json())
        assert result.blocked_at is None


# ---------------------------------------------------------------------------------
# routes-return-path: the subnets a table sends across, found by address, agree with
# testing every subnet; every finding is a path that arrives and cannot reply
# ---------------------------------------------------------------------------------


def _crossing_by_scan(snapshot: NetworkSnapshot, table: RouteTable) -> list[tuple[str, str]]:
    """The reference: every subnet of another VPC, looked up in the table's LPM."""
    lpm = PathIndex([snapshot]).regions[REGION].route_lookup(table).lpm
    found = []
    for vpc_id in sorted(snapshot.subnets_by_vpc):
        for subnet in snapshot.subnets_by_vpc[vpc_id]:
            block = parse(subnet.cidr) if subnet.cidr else None
            if vpc_id == table.vpc_id or block is None:
                continue
            hit = lpm.lookup(block)
            if hit is not None and hit[1].route.target_kind in CROSSING_TARGETS:
                found.append((subnet.subnet_id, f"{hit[1].route.destination} -> {hit[1].route.target}"))
    return found


@SETTINGS
@given(landscapes())
def test_the_subnets_a_table_sends_across_are_those_a_scan_finds(snapshot: NetworkSnapshot) -> None:
    index, by_address = PathIndex([snapshot]), _SubnetsByAddress(snapshot)
    for table in snapshot.route_tables:
        found = [(s.subnet_id, route) for s, route in _crossing(index, snapshot, table, by_address)]
        assert found == _crossing_by_scan(snapshot, table)


@SETTINGS
@given(landscapes())
def test_a_missing_return_path_is_a_path_that_arrives_and_cannot_reply(snapshot: NetworkSnapshot) -> None:
    routing = dataclasses.replace(snapshot, network_acls=())
    for violation in check_routes_return_path(snapshot, Policy()):
        forward = routing.route_table_by_id[violation.evidence["forward_table"]]
        sources = [s for s in routing.subnets if routing.effective_route_table.get(s.subnet_id) is forward]
        for destination in violation.evidence["destination_subnet_ids"]:
            results = [PathIndex([routing]).trace(s.subnet_id, destination, "all", None) for s in sources]
            assert any(r.verdict == "unreachable" and r.blocked_at is not None for r in results)
            # the forward path arrived: the reply is what is lost
            assert any(any(h.resource_id == destination for h in r.hops) for r in results)
            back = routing.effective_route_table[destination]
            assert back.route_table_id == violation.resource_id


def test_generated_landscapes_do_have_missing_return_paths() -> None:
    """The two properties above are not vacuous: the landscapes include return paths lost."""
    found = find(
        landscapes(),
        lambda s: any(True for _ in check_routes_return_path(s, Policy())),
        settings=settings(max_examples=500, database=None, suppress_health_check=list(HealthCheck)),
    )
    assert list(check_routes_return_path(found, Policy()))
