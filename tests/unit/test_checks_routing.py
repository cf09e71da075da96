"""Routing checks on hand-built snapshots: one row per edge of each rule."""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Iterable
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chalicelib.core.checks import routing
from chalicelib.core.model import (
    NatGateway,
    NetworkSnapshot,
    Peering,
    PeeringSide,
    PrefixList,
    Route,
    RouteTable,
    TgwAttachment,
    TgwRoute,
    TgwRouteTable,
    TransitGateway,
    Violation,
    Vpc,
    VpcEndpoint,
)
from chalicelib.core.policy import Policy

ME = "111111111111"
OTHER = "222222222222"
Check = Callable[[NetworkSnapshot, Policy], Iterable[Violation]]


# -- builders ---------------------------------------------------------------------


def snap(**kwargs: Any) -> NetworkSnapshot:
    return NetworkSnapshot(account_id=ME, region="us-east-1", **{k: tuple(v) for k, v in kwargs.items()})


def vpc(vpc_id: str, *cidrs: str, owner: str = ME) -> Vpc:
    return Vpc(vpc_id, owner, cidrs)


def side(vpc_id: str, *cidrs: str, owner: str = ME) -> PeeringSide:
    return PeeringSide(vpc_id, owner, "us-east-1", cidrs)


def pcx(peering_id: str, requester: PeeringSide, accepter: PeeringSide, status: str = "active") -> Peering:
    return Peering(peering_id, status, requester, accepter)


def rtb(table_id: str, vpc_id: str, *routes: Route, owner: str = ME) -> RouteTable:
    return RouteTable(table_id, vpc_id, owner, False, (), (Route("10.0.0.0/16", "local"), *routes))


def att(attachment_id: str, vpc_id: str, table: str | None = "tgw-rtb-1", state: str = "available") -> TgwAttachment:
    return TgwAttachment(attachment_id, "tgw-1", "vpc", vpc_id, ME, state, table)


def run(check: Check, snapshot: NetworkSnapshot) -> list[Violation]:
    return list(check(snapshot, Policy()))


def ids(violations: list[Violation]) -> list[str]:
    return [v.resource_id for v in violations]


# -- peering-cidrs-non-overlapping --------------------------------------------------

REQ, ACC = "vpc-req", "vpc-acc"


@pytest.mark.parametrize(
    ("req_cidrs", "acc_cidrs", "status", "expected_pairs"),
    [
        pytest.param(("10.0.0.0/16",), ("10.1.0.0/16",), "active", [], id="disjoint"),
        pytest.param(("10.0.0.0/16",), ("10.0.0.0/16",), "active", [("10.0.0.0/16", "10.0.0.0/16")], id="equal"),
        pytest.param(("10.0.0.0/16",), ("10.0.5.0/24",), "active", [("10.0.0.0/16", "10.0.5.0/24")], id="contained"),
        pytest.param(("10.0.5.0/24",), ("10.0.0.0/8",), "active", [("10.0.5.0/24", "10.0.0.0/8")], id="accepter-wider"),
        pytest.param(
            ("10.0.0.0/16", "100.64.0.0/16"),
            ("10.1.0.0/16", "100.64.1.0/24"),
            "active",
            [("100.64.0.0/16", "100.64.1.0/24")],
            id="secondary",
        ),
        pytest.param(
            ("10.0.0.0/16", "2600:1f18::/56"),
            ("10.1.0.0/16", "2600:1f18:0:10::/60"),
            "active",
            [("2600:1f18::/56", "2600:1f18:0:10::/60")],
            id="ipv6",
        ),
        pytest.param(("10.0.0.0/16",), ("::/0",), "active", [], id="families-never-overlap"),
        pytest.param(("10.0.0.0/16",), ("10.0.0.0/16",), "pending-acceptance", [], id="pending"),
        pytest.param(("10.0.0.0/16",), ("10.0.0.0/16",), "deleted", [], id="deleted"),
        pytest.param(("10.0.0.0/16",), ("10.0.0.0/16",), "rejected", [], id="rejected"),
    ],
)
def test_peering_cidrs(
    req_cidrs: tuple[str, ...], acc_cidrs: tuple[str, ...], status: str, expected_pairs: list[tuple[str, str]]
) -> None:
    s = snap(peerings=[pcx("pcx-1", side(REQ, *req_cidrs), side(ACC, *acc_cidrs), status)])
    found = run(routing.check_peering_cidrs_non_overlapping, s)
    if not expected_pairs:
        assert found == []
        return
    (v,) = found
    assert (v.resource_id, v.vpc_id) == ("pcx-1", REQ)
    assert v.evidence == {
        "pairs": [{"requester_cidr": r, "accepter_cidr": a} for r, a in expected_pairs],
        "requester_vpc_id": REQ,
        "accepter_vpc_id": ACC,
    }
    assert "pcx-1" in v.detail and expected_pairs[0][0] in v.detail


def test_peering_cidrs_include_vpc_cidrs_the_peering_does_not_report() -> None:
    s = snap(
        vpcs=[vpc(REQ, "10.0.0.0/16", "10.9.0.0/16")],
        peerings=[pcx("pcx-1", side(REQ, "10.0.0.0/16"), side(ACC, "10.9.1.0/24"))],
    )
    (v,) = run(routing.check_peering_cidrs_non_overlapping, s)
    assert v.evidence["pairs"] == [{"requester_cidr": "10.9.0.0/16", "accepter_cidr": "10.9.1.0/24"}]


@pytest.mark.parametrize(
    ("req_owner", "acc_owner", "scope", "expected_vpc"),
    [
        pytest.param(ME, ME, (), REQ, id="unscoped-requester"),
        pytest.param(OTHER, ME, (), ACC, id="we-accepted"),
        pytest.param(OTHER, OTHER, (), None, id="neither-side-ours"),
        # Filed under the requester whichever side the audit was scoped to (full = scoped).
        pytest.param(ME, ME, (ACC,), REQ, id="scoped-to-accepter"),
        pytest.param(ME, ME, (REQ,), REQ, id="scoped-to-requester"),
        pytest.param(ME, ME, ("vpc-z",), None, id="out-of-scope"),
    ],
)
def test_peering_cidrs_ownership_and_scope(
    req_owner: str, acc_owner: str, scope: tuple[str, ...], expected_vpc: str | None
) -> None:
    peering = pcx("pcx-1", side(REQ, "10.0.0.0/16", owner=req_owner), side(ACC, "10.0.0.0/16", owner=acc_owner))
    s = snap(peerings=[peering], scope_vpc_ids=scope)
    found = run(routing.check_peering_cidrs_non_overlapping, s)
    assert [v.vpc_id for v in found] == ([expected_vpc] if expected_vpc else [])


def test_peering_cidrs_sorted_by_id() -> None:
    peerings = [pcx(f"pcx-{n}", side(f"vpc-r{n}", "10.0.0.0/16"), side(f"vpc-a{n}", "10.0.0.0/16")) for n in (3, 1, 2)]
    assert ids(run(routing.check_peering_cidrs_non_overlapping, snap(peerings=peerings))) == ["pcx-1", "pcx-2", "pcx-3"]


# -- connected-cidrs-non-overlapping ------------------------------------------------


def _reach(cidr: str, via: str, vpc_id: str | None) -> dict[str, Any]:
    return {"cidr": cidr, "via": via, "vpc_id": vpc_id}


def _hub(status_b: str = "active", b_cidr: str = "10.1.0.0/16") -> NetworkSnapshot:
    return snap(
        vpcs=[vpc("vpc-h", "10.0.0.0/16"), vpc("vpc-a", "10.1.0.0/16"), vpc("vpc-b", b_cidr)],
        peerings=[
            pcx("pcx-a", side("vpc-h", "10.0.0.0/16"), side("vpc-a", "10.1.0.0/16")),
            pcx("pcx-b", side("vpc-b", b_cidr), side("vpc-h", "10.0.0.0/16"), status_b),
        ],
    )


def test_hub_with_two_overlapping_spokes_is_a_finding_on_the_hub_only() -> None:
    (v,) = run(routing.check_connected_cidrs_non_overlapping, _hub())
    assert (v.resource_id, v.vpc_id) == ("vpc-h", "vpc-h")
    assert v.evidence == {
        "pairs": [{"a": _reach("10.1.0.0/16", "pcx-a", "vpc-a"), "b": _reach("10.1.0.0/16", "pcx-b", "vpc-b")}],
        "pair_count": 1,
    }
    assert "pcx-a" in v.detail and "pcx-b" in v.detail


@pytest.mark.parametrize("status", ["pending-acceptance", "deleted", "rejected", "expired"])
def test_inactive_peerings_are_ignored(status: str) -> None:
    assert run(routing.check_connected_cidrs_non_overlapping, _hub(status_b=status)) == []


def test_spoke_overlapping_the_hub_is_a_finding_on_both() -> None:
    found = run(routing.check_connected_cidrs_non_overlapping, _hub(b_cidr="10.0.0.0/20"))
    assert ids(found) == ["vpc-b", "vpc-h"]
    assert found[0].evidence["pairs"] == [
        {"a": _reach("10.0.0.0/20", "self", "vpc-b"), "b": _reach("10.0.0.0/16", "pcx-b", "vpc-h")}
    ]
    assert found[1].evidence["pairs"] == [
        {"a": _reach("10.0.0.0/16", "self", "vpc-h"), "b": _reach("10.0.0.0/20", "pcx-b", "vpc-b")}
    ]


def _tgw_abc(**overrides: Any) -> dict[str, Any]:
    """VPCs A and B (both 10.1/16) and C (10.2/16) associated with and propagating into one table."""
    base: dict[str, Any] = {
        "vpcs": [vpc("vpc-a", "10.1.0.0/16"), vpc("vpc-b", "10.1.0.0/16"), vpc("vpc-c", "10.2.0.0/16")],
        "tgw_attachments": [att("tgw-attach-a", "vpc-a"), att("tgw-attach-b", "vpc-b"), att("tgw-attach-c", "vpc-c")],
        "tgw_route_tables": [
            TgwRouteTable("tgw-rtb-1", "tgw-1", propagations=("tgw-attach-a", "tgw-attach-b", "tgw-attach-c"))
        ],
    }
    base.update(overrides)
    return base


def test_tgw_table_carrying_an_overlapping_vpc_is_a_finding_on_every_vpc() -> None:
    found = run(routing.check_connected_cidrs_non_overlapping, snap(**_tgw_abc()))
    assert ids(found) == ["vpc-a", "vpc-b", "vpc-c"]
    a, b, c = (v.evidence for v in found)
    assert a == {
        "pairs": [
            {"a": _reach("10.1.0.0/16", "self", "vpc-a"), "b": _reach("10.1.0.0/16", "tgw-rtb-1/tgw-attach-b", "vpc-b")}
        ],
        "pair_count": 1,
    }
    assert b["pairs"][0]["b"] == _reach("10.1.0.0/16", "tgw-rtb-1/tgw-attach-a", "vpc-a")
    assert c == {
        "pairs": [
            {
                "a": _reach("10.1.0.0/16", "tgw-rtb-1/tgw-attach-a", "vpc-a"),
                "b": _reach("10.1.0.0/16", "tgw-rtb-1/tgw-attach-b", "vpc-b"),
            }
        ],
        "pair_count": 1,
    }


WAN = TgwAttachment("tgw-attach-vpn", "tgw-1", "vpn", "vpn-1", ME, "available", "tgw-rtb-1")


def _tgw_single(
    *routes: TgwRoute, attachment_state: str = "available", table: str | None = "tgw-rtb-1"
) -> NetworkSnapshot:
    """VPC A (10.1/16) associated with a table holding the given routes."""
    return snap(
        vpcs=[vpc("vpc-a", "10.1.0.0/16"), vpc("vpc-x", "10.5.0.0/16")],
        tgw_attachments=[att("tgw-attach-a", "vpc-a", table, attachment_state), att("tgw-attach-x", "vpc-x"), WAN],
        tgw_route_tables=[TgwRouteTable("tgw-rtb-1", "tgw-1", routes=routes)],
        prefix_lists=[PrefixList("pl-known", "corp", ("10.1.0.0/24",)), PrefixList("pl-unknown", "x", None)],
    )


@pytest.mark.parametrize(
    ("routes", "expected_b"),
    [
        # Address ownership: VPN and summary routes are not VPC ranges (tgw-routes-non-overlapping
        # judges a VPN route inside a VPC's range, on the table).
        pytest.param(
            (TgwRoute("10.1.128.0/17", "static", "active", ("tgw-attach-vpn",)),), None, id="static-to-vpn-not-a-vpc"
        ),
        pytest.param((TgwRoute("10.0.0.0/8", "static", "active", ("tgw-attach-x",)),), None, id="summary-is-a-design"),
        pytest.param((TgwRoute("pl-known", "static", "active", ("tgw-attach-vpn",)),), None, id="prefix-list-to-vpn"),
        pytest.param(
            (TgwRoute("10.5.0.0/16", "static", "active", ("tgw-attach-x",)),), None, id="static-to-its-vpc-disjoint"
        ),
        pytest.param(
            (TgwRoute("10.1.0.0/20", "propagated", "active", ("tgw-attach-x",)),),
            _reach("10.1.0.0/20", "tgw-rtb-1/tgw-attach-x", "vpc-x"),
            id="propagated-is-the-vpcs-own-range",
        ),
        pytest.param(
            (TgwRoute("pl-unknown", "static", "active", ("tgw-attach-vpn",)),), None, id="prefix-list-unknown"
        ),
        pytest.param((TgwRoute("0.0.0.0/0", "static", "active", ("tgw-attach-x",)),), None, id="default-route"),
        pytest.param((TgwRoute("10.1.0.0/16", "static", "blackhole"),), None, id="blackhole"),
        pytest.param((TgwRoute("10.1.0.0/16", "static", "active"),), None, id="no-attachment"),
        pytest.param((TgwRoute("10.1.0.0/16", "propagated", "active", ("tgw-attach-a",)),), None, id="own-attachment"),
        pytest.param((TgwRoute("10.2.0.0/16", "static", "active", ("tgw-attach-vpn",)),), None, id="disjoint"),
    ],
)
def test_tgw_routes_reached_by_a_vpc(routes: tuple[TgwRoute, ...], expected_b: dict[str, Any] | None) -> None:
    found = run(routing.check_connected_cidrs_non_overlapping, _tgw_single(*routes))
    if expected_b is None:
        assert found == []
        return
    (v,) = found
    assert v.resource_id == "vpc-a"
    assert v.evidence["pairs"] == [{"a": _reach("10.1.0.0/16", "self", "vpc-a"), "b": expected_b}]


@pytest.mark.parametrize(
    ("attachment_state", "table"),
    [pytest.param("pending", "tgw-rtb-1", id="attachment-pending"), pytest.param("available", None, id="unassociated")],
)
def test_tgw_tables_of_unusable_attachments_are_ignored(attachment_state: str, table: str | None) -> None:
    route = TgwRoute("10.1.0.0/16", "static", "active", ("tgw-attach-vpn",))
    assert (
        run(
            routing.check_connected_cidrs_non_overlapping,
            _tgw_single(route, attachment_state=attachment_state, table=table),
        )
        == []
    )


def test_same_vpc_reached_by_peering_and_tgw_is_not_an_overlap() -> None:
    s = snap(
        vpcs=[vpc("vpc-a", "10.1.0.0/16"), vpc("vpc-x", "10.5.0.0/16")],
        peerings=[pcx("pcx-ax", side("vpc-a", "10.1.0.0/16"), side("vpc-x", "10.5.0.0/16"))],
        tgw_attachments=[att("tgw-attach-a", "vpc-a"), att("tgw-attach-x", "vpc-x")],
        tgw_route_tables=[TgwRouteTable("tgw-rtb-1", "tgw-1", propagations=("tgw-attach-a", "tgw-attach-x"))],
    )
    assert run(routing.check_connected_cidrs_non_overlapping, s) == []


def test_overlap_between_a_peer_and_a_tgw_route() -> None:
    s = snap(
        vpcs=[vpc("vpc-a", "10.1.0.0/16"), vpc("vpc-p", "10.7.0.0/16"), vpc("vpc-x", "10.7.0.0/16")],
        peerings=[pcx("pcx-ap", side("vpc-a", "10.1.0.0/16"), side("vpc-p", "10.7.0.0/16"))],
        tgw_attachments=[att("tgw-attach-a", "vpc-a"), att("tgw-attach-x", "vpc-x")],
        tgw_route_tables=[TgwRouteTable("tgw-rtb-1", "tgw-1", propagations=("tgw-attach-a", "tgw-attach-x"))],
    )
    found = run(routing.check_connected_cidrs_non_overlapping, s)
    assert ids(found) == ["vpc-a"]  # P sees only A; X sees only A through the table
    assert found[0].evidence["pairs"] == [
        {"a": _reach("10.7.0.0/16", "pcx-ap", "vpc-p"), "b": _reach("10.7.0.0/16", "tgw-rtb-1/tgw-attach-x", "vpc-x")}
    ]


def test_vpc_attached_to_two_tgws_compares_their_tables() -> None:
    s = snap(
        vpcs=[vpc("vpc-a", "10.1.0.0/16"), vpc("vpc-x", "10.5.0.0/16"), vpc("vpc-y", "10.5.0.0/16")],
        tgw_attachments=[
            att("tgw-attach-a1", "vpc-a", "tgw-rtb-1"),
            att("tgw-attach-a2", "vpc-a", "tgw-rtb-2"),
            att("tgw-attach-x", "vpc-x", "tgw-rtb-1"),
            att("tgw-attach-y", "vpc-y", "tgw-rtb-2"),
        ],
        tgw_route_tables=[
            TgwRouteTable("tgw-rtb-1", "tgw-1", propagations=("tgw-attach-a1", "tgw-attach-x")),
            TgwRouteTable("tgw-rtb-2", "tgw-1", propagations=("tgw-attach-a2", "tgw-attach-y")),
        ],
    )
    (v,) = run(routing.check_connected_cidrs_non_overlapping, s)
    assert v.resource_id == "vpc-a"
    assert v.evidence["pairs"] == [
        {
            "a": _reach("10.5.0.0/16", "tgw-rtb-1/tgw-attach-x", "vpc-x"),
            "b": _reach("10.5.0.0/16", "tgw-rtb-2/tgw-attach-y", "vpc-y"),
        }
    ]


@pytest.mark.parametrize(
    ("owner", "scope", "expected"),
    [
        pytest.param(ME, (), ["vpc-a", "vpc-b", "vpc-c"], id="all"),
        pytest.param("", (), ["vpc-a", "vpc-b", "vpc-c"], id="no-owner-id-means-ours"),
        pytest.param(OTHER, (), ["vpc-c"], id="shared-in-vpcs-skipped"),
        pytest.param(ME, ("vpc-c",), ["vpc-c"], id="scoped"),
    ],
)
def test_connected_cidrs_ownership_and_scope(owner: str, scope: tuple[str, ...], expected: list[str]) -> None:
    vpcs = [
        vpc("vpc-a", "10.1.0.0/16", owner=owner),
        vpc("vpc-b", "10.1.0.0/16", owner=owner),
        vpc("vpc-c", "10.2.0.0/16"),
    ]
    s = snap(**_tgw_abc(vpcs=vpcs), scope_vpc_ids=scope)
    assert ids(run(routing.check_connected_cidrs_non_overlapping, s)) == expected


def test_connected_cidrs_evidence_is_capped_with_the_true_count() -> None:
    spokes = [f"vpc-s{n:02d}" for n in range(60)]
    s = snap(
        vpcs=[vpc("vpc-h", "10.0.0.0/16"), *(vpc(v, "10.1.0.0/16") for v in spokes)],
        peerings=[pcx(f"pcx-{v}", side("vpc-h", "10.0.0.0/16"), side(v, "10.1.0.0/16")) for v in spokes],
    )
    (v,) = run(routing.check_connected_cidrs_non_overlapping, s)
    assert v.resource_id == "vpc-h"
    assert len(v.evidence["pairs"]) == routing.MAX_PAIRS
    assert v.evidence["pair_count"] == 60 * 59 // 2


def test_connected_cidrs_cap_with_many_vpcs_on_one_table() -> None:
    """60 VPCs of one CIDR on one table: each sees the 59 others (and their 59*58/2 pairs)."""
    names = [f"{n:02d}" for n in range(60)]
    s = snap(
        vpcs=[vpc(f"vpc-{n}", "10.1.0.0/16") for n in names],
        tgw_attachments=[att(f"tgw-attach-{n}", f"vpc-{n}") for n in names],
        tgw_route_tables=[TgwRouteTable("tgw-rtb-1", "tgw-1", propagations=tuple(f"tgw-attach-{n}" for n in names))],
    )
    found = run(routing.check_connected_cidrs_non_overlapping, s)
    assert len(found) == 60
    for v in found:
        assert v.evidence["pair_count"] == 59 + 59 * 58 // 2
        assert len(v.evidence["pairs"]) == routing.MAX_PAIRS
        assert all(v.resource_id not in (p["a"]["via"] + p["b"]["via"]) for p in v.evidence["pairs"])


def _brute_connected(s: NetworkSnapshot, me: str) -> int:
    """The rule, written the slow obvious way: every pair of reachable CIDRs."""
    owned = s.vpc_by_id[me]
    items = [(c, me) for c in dict.fromkeys(owned.cidrs)]
    for p in s.peerings_by_vpc.get(me, ()):
        other = p.other_side(me)
        if p.status == "active" and other is not None:
            items += [(c, other.vpc_id) for c in dict.fromkeys(other.cidrs)]
    own_attachments = {a.attachment_id for a in s.tgw_attachments_by_vpc.get(me, ())}
    for a in s.tgw_attachments_by_vpc.get(me, ()):
        if a.state != "available" or not a.association_route_table_id:
            continue
        for r in s.tgw_routes[a.association_route_table_id]:
            if r.state == "blackhole" or not r.attachment_ids or r.destination in ("0.0.0.0/0", "::/0"):
                continue
            if set(r.attachment_ids) <= own_attachments:
                continue
            target = s.tgw_attachment_by_id.get(r.attachment_ids[0])
            if target is None or target.resource_type != "vpc":
                continue  # not a VPC range
            target_cidrs = [ipaddress.ip_network(c) for c in s.vpc_cidrs.get(target.resource_id, ())]
            dest = ipaddress.ip_network(r.destination)
            inside = any(dest.version == c.version and dest.subnet_of(c) for c in target_cidrs)  # type: ignore[arg-type]
            if r.route_type == "propagated" or inside:  # the VPC's own range, not a summary
                items.append((r.destination, target.resource_id))
    nets = [(ipaddress.ip_network(c), o) for c, o in items]
    return sum(
        1
        for i, (n1, o1) in enumerate(nets)
        for n2, o2 in nets[i + 1 :]
        if o1 != o2 and n1.version == n2.version and n1.overlaps(n2)  # type: ignore[arg-type]
    )


@st.composite
def tgw_landscapes(draw: st.DrawFn) -> NetworkSnapshot:
    pool = ["10.0.0.0/8", "10.1.0.0/16", "10.1.0.0/16", "10.1.2.0/24", "10.2.0.0/16", "0.0.0.0/0", "fd00::/8"]
    n = draw(st.integers(1, 7))
    names = [f"vpc-{i}" for i in range(n)]
    vpcs = [vpc(v, *draw(st.lists(st.sampled_from(pool[1:5]), min_size=1, max_size=2, unique=True))) for v in names]
    attachments = [
        att(
            f"tgw-attach-{i}",
            v,
            draw(st.sampled_from(["tgw-rtb-1", "tgw-rtb-2", None])),
            draw(st.sampled_from(["available", "pending"])),
        )
        for i, v in enumerate(names)
    ]
    peerings = [
        pcx(
            f"pcx-{i}-{j}",
            side(names[i], *vpcs[i].cidrs),
            side(names[j], *vpcs[j].cidrs),
            draw(st.sampled_from(["active", "deleted"])),
        )
        for i in range(n)
        for j in range(i + 1, n)
        if draw(st.booleans())
    ]
    tables = []
    for t in ("tgw-rtb-1", "tgw-rtb-2"):
        propagations = tuple(a.attachment_id for a in attachments if draw(st.booleans()))
        statics = tuple(
            TgwRoute(draw(st.sampled_from(pool)), "static", state, (a.attachment_id,) if state == "active" else ())
            for a in attachments
            for state in draw(st.lists(st.sampled_from(["active", "blackhole"]), max_size=2))
        )
        tables.append(TgwRouteTable(t, "tgw-1", routes=statics, propagations=propagations))
    return snap(vpcs=vpcs, tgw_attachments=attachments, peerings=peerings, tgw_route_tables=tables)


@settings(max_examples=200, deadline=None)
@given(tgw_landscapes())
def test_connected_cidrs_pair_count_equals_brute_force(s: NetworkSnapshot) -> None:
    found = {v.resource_id: v.evidence["pair_count"] for v in run(routing.check_connected_cidrs_non_overlapping, s)}
    expected = {v.vpc_id: count for v in s.vpcs if (count := _brute_connected(s, v.vpc_id))}
    assert found == expected


# -- peering-routes-least-access ----------------------------------------------------


def _least_access_snapshot(
    *routes: Route, table_vpc: str = "vpc-a", owner: str = ME, scope: tuple[str, ...] = ()
) -> NetworkSnapshot:
    return snap(
        vpcs=[vpc("vpc-b", "10.1.0.0/16", "10.9.0.0/16")],  # 10.9/16: a secondary the peering does not report
        peerings=[pcx("pcx-1", side("vpc-a", "10.0.0.0/16"), side("vpc-b", "10.1.0.0/16", "2600:1f18:0:100::/56"))],
        route_tables=[rtb("rtb-1", table_vpc, *routes, owner=owner)],
        prefix_lists=[
            PrefixList("pl-inside", "peer", ("10.1.1.0/24", "10.9.0.0/20")),
            PrefixList("pl-outside", "wide", ("10.1.1.0/24", "172.16.0.0/12")),
            PrefixList("pl-unknown", "x", None),
        ],
        scope_vpc_ids=scope,
    )


@pytest.mark.parametrize(
    ("destination", "target", "flagged"),
    [
        pytest.param("0.0.0.0/0", "pcx-1", True, id="ipv4-default"),
        pytest.param("::/0", "pcx-1", True, id="ipv6-default"),
        pytest.param("10.1.0.0/16", "pcx-1", False, id="exact-peer-cidr"),
        pytest.param("10.1.4.0/22", "pcx-1", False, id="peer-subnet"),
        pytest.param("10.9.0.0/16", "pcx-1", False, id="peer-secondary-from-vpc"),
        pytest.param("2600:1f18:0:100::/64", "pcx-1", False, id="peer-ipv6-subnet"),
        pytest.param("10.0.0.0/8", "pcx-1", True, id="wider-than-peer"),
        pytest.param("192.168.0.0/16", "pcx-1", True, id="outside-peer"),
        pytest.param("2600:1f18::/48", "pcx-1", True, id="ipv6-wider"),
        pytest.param("pl-inside", "pcx-1", False, id="prefix-list-inside"),
        pytest.param("pl-outside", "pcx-1", True, id="prefix-list-one-entry-outside"),
        pytest.param("pl-unknown", "pcx-1", False, id="prefix-list-entries-unknown"),
        pytest.param("pl-missing", "pcx-1", False, id="prefix-list-not-collected"),
        pytest.param("0.0.0.0/0", "pcx-9", False, id="unknown-peering-left-to-blackhole-check"),
        pytest.param("0.0.0.0/0", "tgw-1", False, id="not-a-peering"),
    ],
)
def test_peering_routes_least_access(destination: str, target: str, flagged: bool) -> None:
    found = run(routing.check_peering_routes_least_access, _least_access_snapshot(Route(destination, target)))
    if not flagged:
        assert found == []
        return
    (v,) = found
    assert (v.resource_id, v.vpc_id) == ("rtb-1", "vpc-a")
    assert v.evidence == {
        "routes": [
            {
                "destination": destination,
                "target": "pcx-1",
                "peer_vpc_id": "vpc-b",
                "peer_cidrs": ["10.1.0.0/16", "2600:1f18:0:100::/56", "10.9.0.0/16"],
            }
        ]
    }
    assert f"routes {destination} to peering pcx-1" in v.detail


def test_peering_routes_seen_from_the_accepter_side() -> None:
    s = _least_access_snapshot(Route("10.0.0.0/16", "pcx-1"), Route("10.0.0.0/8", "pcx-1"), table_vpc="vpc-b")
    (v,) = run(routing.check_peering_routes_least_access, s)
    assert v.evidence["routes"] == [
        {"destination": "10.0.0.0/8", "target": "pcx-1", "peer_vpc_id": "vpc-a", "peer_cidrs": ["10.0.0.0/16"]}
    ]


@pytest.mark.parametrize(
    ("owner", "scope", "expected"),
    [
        pytest.param(ME, (), ["rtb-1"], id="ours"),
        pytest.param(OTHER, (), [], id="shared-table"),
        pytest.param(ME, ("vpc-a",), ["rtb-1"], id="in-scope"),
        pytest.param(ME, ("vpc-b",), [], id="out-of-scope"),
    ],
)
def test_peering_routes_ownership_and_scope(owner: str, scope: tuple[str, ...], expected: list[str]) -> None:
    s = _least_access_snapshot(Route("0.0.0.0/0", "pcx-1"), owner=owner, scope=scope)
    assert ids(run(routing.check_peering_routes_least_access, s)) == expected


# -- route-destinations-non-overlapping ---------------------------------------------


def _dest_snapshot(*routes: Route) -> NetworkSnapshot:
    """vpc-a's table; peers vpc-b (10.1/16 + IPv6) over pcx-1, vpc-c (10.3/16) over pcx-2, and a
    deleted peering pcx-gone to vpc-d (10.4/16)."""
    return snap(
        vpcs=[vpc("vpc-a", "10.0.0.0/16")],
        peerings=[
            pcx("pcx-1", side("vpc-a", "10.0.0.0/16"), side("vpc-b", "10.1.0.0/16", "2600:1f18:0:100::/56")),
            pcx("pcx-2", side("vpc-c", "10.3.0.0/16"), side("vpc-a", "10.0.0.0/16")),
            pcx("pcx-gone", side("vpc-a", "10.0.0.0/16"), side("vpc-d", "10.4.0.0/16"), "deleted"),
        ],
        route_tables=[rtb("rtb-1", "vpc-a", *routes)],
        prefix_lists=[PrefixList("pl-known", "corp", ("10.1.1.0/24",)), PrefixList("pl-unknown", "x", None)],
    )


def _dest(destination: str, target: str, cidr: str | None = None) -> dict[str, str]:
    return {"destination": destination, "target": target} | ({"cidr": cidr} if cidr else {})


def _owned(cidr: str, vpc_id: str, via: str) -> dict[str, str]:
    return {"cidr": cidr, "vpc_id": vpc_id, "via": via}


B_RANGE = _owned("10.1.0.0/16", "vpc-b", "pcx-1")
PEER_B = Route("10.1.0.0/16", "pcx-1")


@pytest.mark.parametrize(
    ("routes", "expected_pairs"),
    [
        pytest.param(
            (PEER_B, Route("10.1.2.0/24", "pcx-2")),
            [(_dest("10.1.2.0/24", "pcx-2"), B_RANGE)],
            id="part-of-a-peer-range-to-another-peering",
        ),
        pytest.param(
            (Route("10.1.2.0/24", "tgw-1"), PEER_B), [(_dest("10.1.2.0/24", "tgw-1"), B_RANGE)], id="peer-range-to-tgw"
        ),
        pytest.param(
            (Route("10.1.0.0/16", "tgw-1"), Route("10.3.0.0/16", "pcx-2"), Route("10.1.0.0/24", "pcx-1")),
            [(_dest("10.1.0.0/16", "tgw-1"), B_RANGE)],
            id="equal-to-a-peer-range",
        ),
        # Address ownership: a summary route merely containing a peer's range is a design.
        pytest.param((Route("10.0.0.0/8", "tgw-1"), PEER_B), [], id="summary-to-tgw-with-peer-route"),
        pytest.param((Route("10.0.0.0/8", "pcx-2"), PEER_B), [], id="summary-to-other-peering"),
        pytest.param(
            (Route("10.1.5.0/24", "tgw-1", state="blackhole"), PEER_B),
            [(_dest("10.1.5.0/24", "tgw-1"), B_RANGE)],
            id="blackhole-routes-count",
        ),
        pytest.param(
            (Route("2600:1f18:0:100::/64", "tgw-1"), Route("10.1.0.0/16", "pcx-1")),
            [(_dest("2600:1f18:0:100::/64", "tgw-1"), _owned("2600:1f18:0:100::/56", "vpc-b", "pcx-1"))],
            id="ipv6",
        ),
        pytest.param(
            (Route("pl-known", "tgw-1"), PEER_B),
            [(_dest("pl-known", "tgw-1", "10.1.1.0/24"), B_RANGE)],
            id="prefix-list-expanded",
        ),
        pytest.param((Route("pl-unknown", "tgw-1"), PEER_B), [], id="prefix-list-unknown"),
        pytest.param((PEER_B, Route("10.1.2.0/24", "pcx-1")), [], id="same-target"),
        pytest.param((Route("0.0.0.0/0", "tgw-1"), PEER_B), [], id="ipv4-default"),
        pytest.param((Route("::/0", "tgw-1"), PEER_B), [], id="ipv6-default"),
        pytest.param((Route("10.1.5.0/24", "nat-1"), PEER_B), [], id="nat-not-compared"),
        pytest.param((Route("10.1.0.0/16", "igw-1"), Route("10.1.0.0/16", "vgw-1")), [], id="other-kinds"),
        pytest.param((PEER_B, Route("10.2.0.0/16", "tgw-1")), [], id="disjoint"),
        pytest.param(
            (Route("10.4.0.0/16", "pcx-gone"), Route("10.4.1.0/24", "tgw-1")), [], id="dead-peering-owns-nothing"
        ),
        pytest.param((Route("10.1.2.0/24", "tgw-1"),), [], id="no-route-to-the-peer"),
    ],
)
def test_route_destinations(
    routes: tuple[Route, ...], expected_pairs: list[tuple[dict[str, str], dict[str, str]]]
) -> None:
    found = run(routing.check_route_destinations_non_overlapping, _dest_snapshot(*routes))
    if not expected_pairs:
        assert found == []
        return
    (v,) = found
    assert (v.resource_id, v.vpc_id) == ("rtb-1", "vpc-a")
    assert v.evidence == {"pairs": [{"a": a, "b": b} for a, b in expected_pairs], "pair_count": len(expected_pairs)}


def test_route_destinations_evidence_is_capped() -> None:
    routes = [Route(f"10.1.{n}.0/24", f"pcx-x{n}") for n in range(60)] + [PEER_B]
    (v,) = run(routing.check_route_destinations_non_overlapping, _dest_snapshot(*routes))
    assert v.evidence["pair_count"] == 60
    assert len(v.evidence["pairs"]) == routing.MAX_PAIRS


def test_route_destinations_skips_tables_not_ours() -> None:
    s = snap(
        route_tables=[rtb("rtb-1", "vpc-a", Route("10.1.0.0/16", "pcx-1"), Route("10.1.0.0/16", "pcx-2"), owner=OTHER)]
    )
    assert run(routing.check_route_destinations_non_overlapping, s) == []


# -- routes-no-blackhole ------------------------------------------------------------


def _blackhole_snapshot(*routes: Route, owner: str = ME) -> NetworkSnapshot:
    return snap(
        peerings=[
            pcx("pcx-live", side("vpc-a", "10.0.0.0/16"), side("vpc-b", "10.1.0.0/16")),
            pcx("pcx-gone", side("vpc-a", "10.0.0.0/16"), side("vpc-c", "10.2.0.0/16"), "deleted"),
        ],
        transit_gateways=[TransitGateway("tgw-live", ME, "available"), TransitGateway("tgw-gone", ME, "deleted")],
        tgw_attachments=[
            TgwAttachment("tgw-attach-1", "tgw-shared", "vpc", "vpc-a", ME, "available"),
            TgwAttachment("tgw-attach-2", "tgw-pending", "vpc", "vpc-a", ME, "pending"),
            TgwAttachment("tgw-attach-3", "tgw-elsewhere", "vpc", "vpc-z", ME, "available"),
        ],
        nat_gateways=[
            NatGateway("nat-live", "vpc-a", "subnet-1", "available"),
            NatGateway("nat-gone", "vpc-a", "subnet-1", "deleted"),
            NatGateway("nat-failed", "vpc-a", "subnet-1", "failed"),
        ],
        vpc_endpoints=[
            VpcEndpoint("vpce-live", "vpc-a", "com.amazonaws.us-east-1.s3", "Gateway", "available"),
            VpcEndpoint(
                "vpce-wait",
                "vpc-a",
                "com.amazonaws.vpce.us-east-1.vpce-svc-1",
                "GatewayLoadBalancer",
                "pendingacceptance",
            ),
        ],
        route_tables=[rtb("rtb-1", "vpc-a", *routes, owner=owner)],
    )


@pytest.mark.parametrize(
    ("route", "reason"),
    [
        pytest.param(Route("0.0.0.0/0", "igw-1", state="blackhole"), "state blackhole", id="state-blackhole"),
        pytest.param(Route("0.0.0.0/0", "igw-1"), None, id="active-igw"),
        pytest.param(Route("10.1.0.0/16", "pcx-live"), None, id="active-peering"),
        pytest.param(Route("10.2.0.0/16", "pcx-gone"), "peering pcx-gone is deleted", id="deleted-peering"),
        pytest.param(Route("10.3.0.0/16", "pcx-9"), "peering pcx-9 not found", id="missing-peering"),
        pytest.param(
            Route("10.2.0.0/16", "pcx-gone", state="blackhole"), "peering pcx-gone is deleted", id="derived-reason-wins"
        ),
        pytest.param(Route("10.4.0.0/16", "tgw-live"), None, id="available-tgw"),
        pytest.param(Route("10.4.0.0/16", "tgw-gone"), "transit gateway tgw-gone is deleted", id="deleted-tgw"),
        pytest.param(Route("10.4.0.0/16", "tgw-shared"), None, id="shared-tgw-with-available-attachment"),
        # In flight is neither a blackhole nor a misconfiguration: judged once it has settled.
        pytest.param(Route("10.4.0.0/16", "tgw-pending"), None, id="attachment-pending"),
        pytest.param(
            Route("10.4.0.0/16", "tgw-elsewhere"),
            "transit gateway tgw-elsewhere not found",
            id="attachment-of-another-vpc",
        ),
        pytest.param(Route("0.0.0.0/0", "nat-live"), None, id="available-nat"),
        pytest.param(Route("0.0.0.0/0", "nat-gone"), "NAT gateway nat-gone is deleted", id="deleted-nat"),
        pytest.param(Route("0.0.0.0/0", "nat-9"), "NAT gateway nat-9 not found", id="missing-nat"),
        pytest.param(Route("pl-s3", "vpce-live"), None, id="available-endpoint"),
        pytest.param(Route("0.0.0.0/0", "vpce-wait"), None, id="pending-endpoint"),
        pytest.param(Route("0.0.0.0/0", "vpce-wait", state="blackhole"), None, id="pending-endpoint-state-blackhole"),
        pytest.param(Route("0.0.0.0/0", "nat-failed"), "NAT gateway nat-failed is failed", id="failed-nat"),
        pytest.param(Route("pl-s3", "vpce-9"), "VPC endpoint vpce-9 not found", id="missing-endpoint"),
        pytest.param(Route("10.5.0.0/16", "eni-1"), None, id="other-kind-active"),
    ],
)
def test_routes_no_blackhole(route: Route, reason: str | None) -> None:
    found = run(routing.check_routes_no_blackhole, _blackhole_snapshot(route))
    if reason is None:
        assert found == []
        return
    (v,) = found
    assert (v.resource_id, v.vpc_id) == ("rtb-1", "vpc-a")
    assert v.evidence == {"routes": [{"destination": route.destination, "target": route.target, "reason": reason}]}
    assert route.target in v.detail and reason in v.detail


def test_routes_no_blackhole_lists_every_bad_route_and_skips_local_and_foreign_tables() -> None:
    routes = (Route("10.3.0.0/16", "pcx-9"), Route("10.1.0.0/16", "pcx-live"), Route("0.0.0.0/0", "nat-gone"))
    (v,) = run(routing.check_routes_no_blackhole, _blackhole_snapshot(*routes))
    assert [r["target"] for r in v.evidence["routes"]] == ["pcx-9", "nat-gone"]
    assert run(routing.check_routes_no_blackhole, _blackhole_snapshot(*routes, owner=OTHER)) == []


# -- tgw-routes-non-overlapping -----------------------------------------------------


def _tgw_table_snapshot(
    *routes: TgwRoute,
    propagations: tuple[str, ...] = (),
    tgw_owner: str | None = ME,
    scope: tuple[str, ...] = (),
) -> NetworkSnapshot:
    return snap(
        vpcs=[vpc("vpc-a", "10.1.0.0/16"), vpc("vpc-b", "10.1.0.0/16"), vpc("vpc-c", "10.2.0.0/16")],
        transit_gateways=[TransitGateway("tgw-1", tgw_owner, "available")] if tgw_owner is not None else [],
        tgw_attachments=[
            att("tgw-attach-a", "vpc-a"),
            att("tgw-attach-b", "vpc-b"),
            att("tgw-attach-c", "vpc-c", "tgw-rtb-2"),
            WAN,
        ],
        tgw_route_tables=[TgwRouteTable("tgw-rtb-1", "tgw-1", routes=routes, propagations=propagations)],
        prefix_lists=[PrefixList("pl-known", "corp", ("10.1.1.0/24",)), PrefixList("pl-unknown", "x", None)],
        scope_vpc_ids=scope,
    )


def _tgw_dest(
    destination: str, attachment: str, kind: str, vpc_id: str | None, cidr: str | None = None
) -> dict[str, Any]:
    data = {"destination": destination, "attachment_id": attachment, "type": kind, "vpc_id": vpc_id}
    return data | ({"cidr": cidr} if cidr else {})


VPN_ROUTE = TgwRoute("10.1.0.0/16", "static", "active", ("tgw-attach-vpn",))


@pytest.mark.parametrize(
    ("routes", "propagations", "expected"),
    [
        pytest.param(
            (TgwRoute("10.1.0.0/16", "propagated", "active", ("tgw-attach-a",)),),
            ("tgw-attach-a", "tgw-attach-b"),
            [
                (
                    _tgw_dest("10.1.0.0/16", "tgw-attach-a", "propagated", "vpc-a"),
                    _tgw_dest("10.1.0.0/16", "tgw-attach-b", "propagated", "vpc-b"),
                )
            ],
            id="propagation-aws-dropped-is-derived",
        ),
        pytest.param(
            (VPN_ROUTE,),
            ("tgw-attach-a",),
            [
                (
                    _tgw_dest("10.1.0.0/16", "tgw-attach-a", "propagated", "vpc-a"),
                    _tgw_dest("10.1.0.0/16", "tgw-attach-vpn", "static", None),
                )
            ],
            id="vpn-route-equal-to-a-vpc-range",
        ),
        # Address ownership: on-premises 10.0.0.0/8 over VPN with spokes propagating their /16s is
        # the textbook hybrid hub, not an overlap.
        pytest.param(
            (TgwRoute("10.0.0.0/8", "static", "active", ("tgw-attach-vpn",)),),
            ("tgw-attach-a", "tgw-attach-c"),
            [],
            id="summary-over-vpn-is-a-design",
        ),
        pytest.param(
            (TgwRoute("10.0.0.0/8", "propagated", "active", ("tgw-attach-vpn",)),),
            ("tgw-attach-a", "tgw-attach-c"),
            [],
            id="bgp-summary-is-a-design",
        ),
        pytest.param(
            (TgwRoute("10.2.5.0/24", "static", "active", ("tgw-attach-a",)),),
            ("tgw-attach-c",),
            [
                (
                    _tgw_dest("10.2.0.0/16", "tgw-attach-c", "propagated", "vpc-c"),
                    _tgw_dest("10.2.5.0/24", "tgw-attach-a", "static", "vpc-a"),
                )
            ],
            id="part-of-a-vpc-range-sent-to-another-vpc",
        ),
        pytest.param(
            (TgwRoute("pl-known", "static", "active", ("tgw-attach-vpn",)),),
            ("tgw-attach-a",),
            [
                (
                    _tgw_dest("10.1.0.0/16", "tgw-attach-a", "propagated", "vpc-a"),
                    _tgw_dest("pl-known", "tgw-attach-vpn", "static", None, "10.1.1.0/24"),
                )
            ],
            id="prefix-list-expanded",
        ),
        pytest.param(
            (TgwRoute("pl-unknown", "static", "active", ("tgw-attach-vpn",)),), ("tgw-attach-a",), [], id="pl-unknown"
        ),
        pytest.param(
            (TgwRoute("10.1.0.0/16", "static", "blackhole"),), ("tgw-attach-a",), [], id="deliberate-blackhole"
        ),
        pytest.param(
            (TgwRoute("10.1.0.0/16", "static", "blackhole", ("tgw-attach-vpn",)),),
            ("tgw-attach-a",),
            [],
            id="dead-attachment",
        ),
        pytest.param(
            (TgwRoute("0.0.0.0/0", "static", "active", ("tgw-attach-vpn",)),), ("tgw-attach-a",), [], id="default"
        ),
        pytest.param(
            (TgwRoute("10.1.5.0/24", "static", "active", ("tgw-attach-a",)),),
            ("tgw-attach-a",),
            [],
            id="same-attachment",
        ),
        pytest.param((VPN_ROUTE,), ("tgw-attach-c",), [], id="disjoint"),
    ],
)
def test_tgw_routes(
    routes: tuple[TgwRoute, ...], propagations: tuple[str, ...], expected: list[tuple[dict[str, Any], dict[str, Any]]]
) -> None:
    found = run(routing.check_tgw_routes_non_overlapping, _tgw_table_snapshot(*routes, propagations=propagations))
    if not expected:
        assert found == []
        return
    (v,) = found
    assert (v.resource_id, v.vpc_id) == ("tgw-rtb-1", None)
    assert v.evidence == {"pairs": [{"a": a, "b": b} for a, b in expected], "pair_count": len(expected)}


@pytest.mark.parametrize(
    ("tgw_owner", "scope", "reported"),
    [
        pytest.param(ME, (), True, id="ours"),
        pytest.param(None, (), True, id="tgw-unknown-still-checked"),
        pytest.param(OTHER, (), False, id="shared-tgw"),
        pytest.param(ME, ("vpc-b",), True, id="scoped-vpc-propagates"),
        pytest.param(ME, ("vpc-a",), True, id="scoped-vpc-associated"),
        pytest.param(ME, ("vpc-c",), False, id="scoped-vpc-elsewhere"),
    ],
)
def test_tgw_routes_ownership_and_scope(tgw_owner: str | None, scope: tuple[str, ...], reported: bool) -> None:
    # vpc-a is associated (att() defaults to tgw-rtb-1) and propagates nothing; vpc-b only propagates.
    s = _tgw_table_snapshot(VPN_ROUTE, propagations=("tgw-attach-b",), tgw_owner=tgw_owner, scope=scope)
    assert ids(run(routing.check_tgw_routes_non_overlapping, s)) == (["tgw-rtb-1"] if reported else [])


def test_tgw_routes_evidence_is_capped() -> None:
    routes = [TgwRoute(f"10.1.{n}.0/24", "static", "active", ("tgw-attach-vpn",)) for n in range(60)]
    (v,) = run(routing.check_tgw_routes_non_overlapping, _tgw_table_snapshot(*routes, propagations=("tgw-attach-a",)))
    assert v.evidence["pair_count"] == 60
    assert len(v.evidence["pairs"]) == routing.MAX_PAIRS


# -- tgw-auto-accept-disabled -------------------------------------------------------


@pytest.mark.parametrize(
    ("auto_accept", "owner", "state", "scope", "flagged"),
    [
        pytest.param("enable", ME, "available", (), True, id="enabled"),
        pytest.param("enable", "", "available", (), True, id="no-owner-id-means-ours"),
        pytest.param("disable", ME, "available", (), False, id="disabled"),
        pytest.param("enable", OTHER, "available", (), False, id="shared-with-us"),
        pytest.param("enable", ME, "deleted", (), False, id="deleted"),
        pytest.param("enable", ME, "deleting", (), False, id="deleting"),
        pytest.param("enable", ME, "pending", (), True, id="pending"),
        pytest.param("enable", ME, "available", ("vpc-a",), True, id="scoped-vpc-attached"),
        pytest.param("enable", ME, "available", ("vpc-z",), False, id="scoped-vpc-not-attached"),
    ],
)
def test_tgw_auto_accept(auto_accept: str, owner: str, state: str, scope: tuple[str, ...], flagged: bool) -> None:
    s = snap(
        transit_gateways=[TransitGateway("tgw-1", owner, state, auto_accept)],
        tgw_attachments=[att("tgw-attach-a", "vpc-a")],
        scope_vpc_ids=scope,
    )
    found = run(routing.check_tgw_auto_accept_disabled, s)
    if not flagged:
        assert found == []
        return
    (v,) = found
    assert (v.resource_id, v.vpc_id) == ("tgw-1", None)
    assert v.evidence == {"auto_accept_shared_attachments": "enable"}
    assert "tgw-1" in v.detail


# -- every check --------------------------------------------------------------------

ALL_CHECKS = [
    routing.check_peering_cidrs_non_overlapping,
    routing.check_connected_cidrs_non_overlapping,
    routing.check_peering_routes_least_access,
    routing.check_route_destinations_non_overlapping,
    routing.check_routes_no_blackhole,
    routing.check_tgw_routes_non_overlapping,
    routing.check_tgw_auto_accept_disabled,
]


@pytest.mark.parametrize("check", ALL_CHECKS, ids=lambda c: c.__name__)
def test_empty_snapshot_passes(check: Check) -> None:
    assert run(check, snap()) == []


# -- address ownership: the designs that raise nothing, the conflicts that still do -------


def _hybrid_hub(*extra_routes: TgwRoute, spoke_b: str = "10.2.0.0/16") -> NetworkSnapshot:
    """Spokes A (10.1/16) and B propagate into one table with on-premises 10.0.0.0/8 over VPN
    and a default route to an inspection VPC (10.99/16)."""
    return snap(
        vpcs=[vpc("vpc-a", "10.1.0.0/16"), vpc("vpc-b", spoke_b), vpc("vpc-insp", "10.99.0.0/16")],
        tgw_attachments=[
            att("tgw-attach-a", "vpc-a"),
            att("tgw-attach-b", "vpc-b"),
            att("tgw-attach-insp", "vpc-insp"),
            WAN,
        ],
        tgw_route_tables=[
            TgwRouteTable(
                "tgw-rtb-1",
                "tgw-1",
                routes=(
                    TgwRoute("10.0.0.0/8", "propagated", "active", ("tgw-attach-vpn",)),
                    TgwRoute("0.0.0.0/0", "static", "active", ("tgw-attach-insp",)),
                    TgwRoute("10.0.0.0/8", "static", "active", ("tgw-attach-insp",)),
                    *extra_routes,
                ),
                propagations=("tgw-attach-a", "tgw-attach-b", "tgw-attach-insp"),
            )
        ],
    )


def test_the_textbook_hybrid_hub_raises_nothing() -> None:
    s = _hybrid_hub()
    assert run(routing.check_tgw_routes_non_overlapping, s) == []
    assert run(routing.check_connected_cidrs_non_overlapping, s) == []


def test_two_spokes_with_overlapping_ranges_behind_the_hub_still_conflict() -> None:
    s = _hybrid_hub(spoke_b="10.1.0.0/16")
    (table,) = run(routing.check_tgw_routes_non_overlapping, s)
    assert table.evidence["pairs"] == [
        {
            "a": _tgw_dest("10.1.0.0/16", "tgw-attach-a", "propagated", "vpc-a"),
            "b": _tgw_dest("10.1.0.0/16", "tgw-attach-b", "propagated", "vpc-b"),
        }
    ]
    assert ids(run(routing.check_connected_cidrs_non_overlapping, s)) == ["vpc-a", "vpc-b", "vpc-insp"]


def test_a_vpn_route_inside_a_spoke_range_still_conflicts() -> None:
    s = _hybrid_hub(TgwRoute("10.1.8.0/21", "static", "active", ("tgw-attach-vpn",)))
    (table,) = run(routing.check_tgw_routes_non_overlapping, s)
    assert table.evidence["pair_count"] == 1
    assert table.evidence["pairs"][0]["b"] == _tgw_dest("10.1.8.0/21", "tgw-attach-vpn", "static", None)
    # ... on the table, where it is fixed: no VPC reaches two owned ranges.
    assert run(routing.check_connected_cidrs_non_overlapping, s) == []


def test_same_vpc_reached_by_peering_and_a_static_tgw_route_mid_migration() -> None:
    """Mid-migration, B is reached both over a peering and by a static TGW route to its
    attachment: one owner, no overlap, scoped to A or not."""
    for scope in ((), ("vpc-a",)):
        s = snap(
            vpcs=[vpc("vpc-a", "10.1.0.0/16"), vpc("vpc-b", "10.2.0.0/16")],
            peerings=[pcx("pcx-ab", side("vpc-a", "10.1.0.0/16"), side("vpc-b", "10.2.0.0/16"))],
            tgw_attachments=[att("tgw-attach-a", "vpc-a"), att("tgw-attach-b", "vpc-b", None)],
            tgw_route_tables=[
                TgwRouteTable(
                    "tgw-rtb-1", "tgw-1", routes=(TgwRoute("10.2.0.0/16", "static", "active", ("tgw-attach-b",)),)
                )
            ],
            scope_vpc_ids=scope,
        )
        assert run(routing.check_connected_cidrs_non_overlapping, s) == [], scope
