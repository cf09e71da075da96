"""``reachability-intent`` and ``routes-return-path`` on hand-built snapshots (the path
engine's builders), one row per edge of the rule."""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

import pytest

from chalicelib.core.audit import evaluate, finding_key
from chalicelib.core.checks import CHECK_BY_ID, CHECK_IDS
from chalicelib.core.checks.reachability import check_reachability_intent, check_routes_return_path
from chalicelib.core.model import (
    NetworkAcl,
    NetworkAclEntry,
    NetworkSnapshot,
    Peering,
    PeeringSide,
    Route,
    Subnet,
    TgwRoute,
    Violation,
    VpcEndpoint,
)
from chalicelib.core.policy import Policy, parse_policy
from tests.unit.test_paths import ME, R1, S3_PL, base, peered, tgw_snapshot, with_routes

NOW = dt.datetime(2026, 11, 26, tzinfo=dt.UTC)
OTHER = "222222222222"


def policy(*intents: dict[str, Any]) -> Policy:
    return parse_policy({"reachability": list(intents)}, CHECK_IDS)


def intent(name: str, source: Any, to: Any, expect: str, **traffic: Any) -> dict[str, Any]:
    return {"name": name, "from": source, "to": to, "expect": expect, **traffic}


def with_s3_endpoint(snapshot: NetworkSnapshot) -> NetworkSnapshot:
    endpoint = VpcEndpoint("vpce-s3", "vpc-a", f"com.amazonaws.{R1}.s3", "Gateway", "available", ("rtb-a",))
    return with_routes(dataclasses.replace(snapshot, vpc_endpoints=(endpoint,)), "rtb-a", (S3_PL, "vpce-s3"))


def intents(snapshot: NetworkSnapshot, *docs: dict[str, Any]) -> list[Violation]:
    return list(check_reachability_intent(snapshot, policy(*docs)))


# ---------------------------------------------------------------------------------
# reachability-intent
# ---------------------------------------------------------------------------------

A1 = {"subnet_ids": ["subnet-a1"]}  # no route out of vpc-a
A2 = {"subnet_ids": ["subnet-a2"]}  # public: default route to igw-a


@pytest.mark.parametrize(
    ("snapshot", "source", "to", "expect", "fails", "blocked", "public_hop"),
    [
        # the lab: no gateway endpoint, then one
        (base(), A1, "s3", "private", True, "rtb-a", None),
        (with_s3_endpoint(base()), A1, "s3", "private", False, None, None),
        # over the internet: reachable, but not private
        (base(), A2, "s3", "private", True, None, "igw-a"),
        (base(), A2, "s3", "reachable", False, None, None),
        (base(), A2, "internet", "unreachable", True, None, "igw-a"),
        (base(), A1, "internet", "unreachable", False, None, None),
        (base(), A1, "internet", "reachable", True, "rtb-a", None),
        # a peering, both ways; and one whose reply has no route back (asymmetric)
        (peered(), A1, "subnet-b1", "reachable", False, None, None),
        (peered(), A1, "subnet-b1", "unreachable", True, None, None),
        (
            with_routes(base(peerings=peered().peerings), "rtb-a", ("10.1.0.0/16", "pcx-ab")),
            A1,
            "subnet-b1",
            "reachable",
            True,
            "rtb-b",
            None,
        ),
        # TGW segmentation: vpc-a's table has no route to vpc-b
        (tgw_snapshot(), A1, "subnet-b1", "unreachable", False, None, None),
        (tgw_snapshot(), A1, "subnet-b1", "reachable", True, "tgw-rtb-1", None),
    ],
    ids=[
        "lab-before-fix",
        "lab-after-fix",
        "public-not-private",
        "public-reachable",
        "public-should-not-reach",
        "private-no-internet",
        "private-should-reach",
        "peering-holds",
        "peering-should-not",
        "peering-no-return",
        "tgw-segmented-holds",
        "tgw-segmented-fails",
    ],
)
def test_an_intent_holds_or_fails(
    snapshot: NetworkSnapshot,
    source: dict[str, Any],
    to: str,
    expect: str,
    fails: bool,
    blocked: str | None,
    public_hop: str | None,
) -> None:
    found = intents(snapshot, intent("x", source, to, expect))
    assert bool(found) is fails
    if not found:
        return
    (violation,) = found
    assert violation.resource_id == source["subnet_ids"][0] and violation.vpc_id == "vpc-a"
    assert finding_key(CHECK_BY_ID["reachability-intent"], violation.evidence) == f"x|{to}"
    evidence = violation.evidence
    assert (evidence["intent"], evidence["expect"], evidence["destination"]) == ("x", expect, to)
    assert (evidence["blocked_at"] or {}).get("resource_id") == blocked
    assert (evidence.get("public_hop") or {}).get("resource_id") == public_hop
    assert evidence["verdict"] == ("reachable" if blocked is None else "unreachable")


def test_one_finding_per_intent_source_and_destination_with_distinct_ids() -> None:
    snapshot = base()
    docs = (
        intent("to-s3", {"subnets": "all"}, "s3", "private"),
        intent("to-peers", {"vpc_ids": ["vpc-a"]}, {"vpc_ids": ["vpc-a", "vpc-b"]}, "reachable", port=22),
    )
    found = intents(snapshot, *docs)
    # to-s3: a1 (no route), a2 (public), b1 (no route); to-peers: a1 -> b1, a2 -> b1 (no
    # route to vpc-b), a1 <-> a2 reach each other locally, a subnet is never its own destination
    assert sorted((v.evidence["intent"], v.resource_id, v.evidence["destination"]) for v in found) == [
        ("to-peers", "subnet-a1", "subnet-b1"),
        ("to-peers", "subnet-a2", "subnet-b1"),
        ("to-s3", "subnet-a1", "s3"),
        ("to-s3", "subnet-a2", "s3"),
        ("to-s3", "subnet-b1", "s3"),
    ]
    assert all(v.evidence["port"] == 22 for v in found if v.evidence["intent"] == "to-peers")
    result = evaluate(snapshot, policy(*docs), NOW, ["reachability-intent"])
    assert len({f.id for f in result.findings}) == 5
    assert {f.resource_type for f in result.findings} == {"AWS::EC2::Subnet"}
    assert all(f.resource_arn.endswith(f":subnet/{f.resource_id}") for f in result.findings)


def test_a_destination_that_names_nothing_here_fails_as_unknown() -> None:
    (violation,) = intents(base(), intent("x", A1, "subnet-elsewhere", "unreachable"))
    assert violation.evidence["verdict"] == "unknown" and "not a subnet" in violation.evidence["reason"]


def test_network_acls_count_for_intents() -> None:
    deny_in = NetworkAcl(
        "acl-b", "vpc-b", False, (NetworkAclEntry(100, False, "-1", True, "0.0.0.0/0"),), ("subnet-b1",)
    )
    snapshot = dataclasses.replace(peered(), network_acls=(peered().network_acls[0], deny_in))
    (violation,) = intents(snapshot, intent("x", A1, "subnet-b1", "reachable"))
    assert violation.evidence["blocked_at"]["resource_id"] == "acl-b"


def test_judged_only_in_region_wide_audits_and_on_own_subnets() -> None:
    doc = intent("x", {"subnets": "all"}, "s3", "private")
    assert intents(dataclasses.replace(base(), scope_vpc_ids=("vpc-a",)), doc) == []
    shared = dataclasses.replace(base(), subnets=(*base().subnets, Subnet("subnet-s", "vpc-b", OTHER, "10.1.9.0/24")))
    assert "subnet-s" not in {v.resource_id for v in intents(shared, doc)}
    assert intents(base()) == []  # no intents, nothing to judge


# ---------------------------------------------------------------------------------
# routes-return-path
# ---------------------------------------------------------------------------------


def return_paths(snapshot: NetworkSnapshot) -> list[Violation]:
    return list(check_routes_return_path(snapshot, Policy()))


def only_a1(snapshot: NetworkSnapshot) -> NetworkSnapshot:
    """Without vpc-a's public subnet (whose table has no route to vpc-b: see the last row)."""
    return dataclasses.replace(
        snapshot,
        subnets=tuple(s for s in snapshot.subnets if s.subnet_id != "subnet-a2"),
        route_tables=tuple(t for t in snapshot.route_tables if t.route_table_id != "rtb-pub"),
    )


def forward_only_peering(status: str = "active") -> NetworkSnapshot:
    """vpc-a routes vpc-b over pcx-ab; vpc-b's table has no route back."""
    pcx = Peering(
        "pcx-ab", status, PeeringSide("vpc-a", ME, R1, ("10.0.0.0/16",)), PeeringSide("vpc-b", ME, R1, ("10.1.0.0/16",))
    )
    return with_routes(base(peerings=(pcx,)), "rtb-a", ("10.1.0.0/16", "pcx-ab"))


def tgw_without_return_route() -> NetworkSnapshot:
    snapshot = tgw_snapshot(TgwRoute("10.1.0.0/16", "propagated", "active", ("tgw-attach-b",)))
    tables = tuple(
        dataclasses.replace(t, routes=(Route("10.1.0.0/16", "local"),)) if t.route_table_id == "rtb-b" else t
        for t in snapshot.route_tables
    )
    return dataclasses.replace(snapshot, route_tables=tables)


def tgw_without_return_propagation() -> NetworkSnapshot:
    snapshot = tgw_snapshot(TgwRoute("10.1.0.0/16", "propagated", "active", ("tgw-attach-b",)))
    tgw_tables = tuple(dataclasses.replace(t, propagations=()) for t in snapshot.tgw_route_tables)
    return dataclasses.replace(snapshot, tgw_route_tables=tgw_tables)


@pytest.mark.parametrize(
    ("snapshot", "missing", "route", "return_blocked_at"),
    [
        (only_a1(peered()), None, None, None),
        (only_a1(forward_only_peering()), "rtb-b", "10.1.0.0/16 -> pcx-ab", "rtb-b"),
        # the peering is not active: the forward path does not reach vpc-b, no return to judge
        (only_a1(forward_only_peering("pending-acceptance")), None, None, None),
        # the reply takes a blackhole route, or leaves to the internet instead of returning
        (
            with_routes(only_a1(forward_only_peering()), "rtb-b", Route("10.0.0.0/16", "pcx-ab", "blackhole")),
            "rtb-b",
            "10.1.0.0/16 -> pcx-ab",
            "rtb-b",
        ),
        (
            with_routes(only_a1(forward_only_peering()), "rtb-b", ("0.0.0.0/0", "igw-a")),
            "rtb-b",
            "10.1.0.0/16 -> pcx-ab",
            "igw-a",
        ),
        (only_a1(tgw_snapshot(TgwRoute("10.1.0.0/16", "propagated", "active", ("tgw-attach-b",)))), None, None, None),
        (only_a1(tgw_without_return_route()), "rtb-b", "10.0.0.0/8 -> tgw-1", "rtb-b"),
        # vpc-b's table routes back to the TGW, but its attachment's TGW table has no route to vpc-a
        (only_a1(tgw_without_return_propagation()), "rtb-b", "10.0.0.0/8 -> tgw-1", "tgw-rtb-2"),
    ],
    ids=[
        "peering-both-ways",
        "peering-no-return",
        "peering-not-active",
        "return-blackhole",
        "return-leaves",
        "tgw-both-ways",
        "tgw-no-return-route",
        "tgw-no-return-in-tgw-table",
    ],
)
def test_return_path_present_or_missing(
    snapshot: NetworkSnapshot, missing: str | None, route: str | None, return_blocked_at: str | None
) -> None:
    found = return_paths(snapshot)
    if missing is None:
        assert found == []
        return
    (violation,) = found
    assert (violation.resource_id, violation.vpc_id, violation.evidence["forward_table"]) == (missing, "vpc-b", "rtb-a")
    evidence = violation.evidence
    assert (evidence["forward_table"], evidence["forward_vpc_id"]) == ("rtb-a", "vpc-a")
    assert (evidence["route"], evidence["source_cidr"]) == (route, "10.0.1.0/24")
    assert evidence["destination_subnet_ids"] == ["subnet-b1"]
    assert evidence["return_blocked_at"]["resource_id"] == return_blocked_at


def test_replies_to_a_subnet_whose_table_does_not_route_back() -> None:
    """The lab's case: the peer's table sends all of vpc-a's range over the peering, but the
    public subnet's table sends the replies to the internet gateway."""
    (violation,) = return_paths(peered())
    assert (violation.resource_id, violation.evidence["forward_table"]) == ("rtb-pub", "rtb-b")
    evidence = violation.evidence
    assert (evidence["forward_table"], evidence["route"], evidence["source_cidr"]) == (
        "rtb-b",
        "10.0.0.0/16 -> pcx-ab",
        "10.1.1.0/24",
    )
    assert evidence["destination_subnet_ids"] == ["subnet-a2"]
    assert evidence["return_blocked_at"]["resource_id"] == "igw-a"


def test_network_acls_are_not_routes() -> None:
    deny_all = NetworkAcl("acl-b", "vpc-b", False, (), ("subnet-b1",))
    snapshot = only_a1(peered())
    assert return_paths(dataclasses.replace(snapshot, network_acls=(snapshot.network_acls[0], deny_all))) == []


def test_every_source_cidr_is_named_and_scoped_audits_judge_nothing() -> None:
    snapshot = forward_only_peering()  # rtb-pub sends nothing to vpc-b: only rtb-a's subnets
    both = dataclasses.replace(
        snapshot,
        route_tables=tuple(
            dataclasses.replace(t, subnet_ids=("subnet-a2",), routes=(*t.routes, Route("10.1.0.0/16", "pcx-ab")))
            if t.route_table_id == "rtb-a"
            else t
            for t in snapshot.route_tables
            if t.route_table_id != "rtb-pub"
        ),
    )
    (violation,) = return_paths(both)
    assert violation.evidence["source_cidrs"] == ["10.0.1.0/24", "10.0.2.0/24"]
    assert return_paths(dataclasses.replace(snapshot, scope_vpc_ids=("vpc-b",))) == []


@pytest.mark.parametrize(
    ("routes", "crossing"),
    [
        # the peering route holds the whole subnet
        ((("10.1.0.0/16", "pcx-ab"),), "10.1.0.0/16 -> pcx-ab"),
        # an exact route to the subnet; the longest prefix wins over the VPC's range
        ((("10.1.0.0/16", "pcx-ab"), ("10.1.1.0/24", "pcx-ab")), "10.1.1.0/24 -> pcx-ab"),
        # a more specific route elsewhere takes the subnet's addresses: nothing crosses
        ((("10.1.0.0/16", "pcx-ab"), ("10.1.1.0/24", "igw-a")), None),
        # a route narrower than the subnet sends only part of it: the subnet is not sent across
        ((("10.1.1.0/26", "pcx-ab"),), None),
        # a route wider than the VPC holds the subnet too
        ((("10.0.0.0/8", "pcx-ab"),), "10.0.0.0/8 -> pcx-ab"),
        # a route to an address range no subnet lies in
        ((("10.2.0.0/16", "pcx-ab"),), None),
    ],
    ids=["vpc-range", "exact-subnet", "more-specific-elsewhere", "narrower-than-subnet", "supernet", "no-subnet"],
)
def test_the_forward_routes_that_send_a_subnet_across(
    routes: tuple[tuple[str, str], ...], crossing: str | None
) -> None:
    """Which subnets of other VPCs a table sends across a peering (found by address, then
    confirmed by the table's longest-prefix match): vpc-b's table has no route back."""
    snapshot = with_routes(only_a1(forward_only_peering()), "rtb-a")
    tables = tuple(
        dataclasses.replace(t, routes=(Route("10.0.0.0/16", "local"), *(Route(*r) for r in routes)))
        if t.route_table_id == "rtb-a"
        else t
        for t in snapshot.route_tables
    )
    found = return_paths(dataclasses.replace(snapshot, route_tables=tables))
    if crossing is None:
        assert found == []
        return
    (violation,) = found
    assert violation.evidence["routes"] == [crossing]
    assert violation.evidence["destination_subnet_ids"] == ["subnet-b1"]
