"""The registry's ``needs`` is the one source of truth for what a check reads: every check
runs on a snapshot whose undeclared parts raise on access."""

from __future__ import annotations

import dataclasses
from typing import Any, NoReturn

import pytest

from chalicelib.core.checks import ACTION_PARTS, CHECK_IDS, REGISTRY, CheckSpec
from chalicelib.core.model import (
    ClientVpnAuthorizationRule,
    ClientVpnEndpoint,
    EndpointService,
    FlowLog,
    InternetGateway,
    NatGateway,
    NetworkSnapshot,
    Peering,
    PeeringSide,
    PrefixList,
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
from chalicelib.core.policy import parse_policy

ME = "111111111111"
PARTS = sorted(set(ACTION_PARTS.values()))


class Undeclared(tuple):  # type: ignore[type-arg]
    """A snapshot part the check did not declare: any read of it fails the test."""

    part = ""

    def _refuse(self, *args: Any, **kwargs: Any) -> NoReturn:
        raise AssertionError(f"read undeclared snapshot part {self.part!r}")

    __iter__ = __len__ = __getitem__ = __bool__ = __contains__ = _refuse  # type: ignore[assignment]


def undeclared(part: str) -> Undeclared:
    value = Undeclared()
    value.part = part
    return value


def rich_snapshot(scope: tuple[str, ...] = ()) -> NetworkSnapshot:
    """Something in every part, so every branch of every check has data to read."""
    return NetworkSnapshot(
        account_id=ME,
        region="us-east-1",
        vpcs=(
            Vpc("vpc-a", ME, ("10.0.0.0/16",)),
            Vpc("vpc-b", ME, ("10.0.0.0/16", "10.9.0.0/16")),
            Vpc("vpc-c", ME, ("10.3.0.0/16",)),
        ),
        subnets=(
            Subnet("subnet-a", "vpc-a", ME, "10.0.1.0/24"),
            Subnet("subnet-b", "vpc-b", ME, "10.0.1.0/24"),
            Subnet("subnet-b9", "vpc-b", ME, "10.9.1.0/24"),
        ),
        route_tables=(
            RouteTable(
                "rtb-a",
                "vpc-a",
                ME,
                True,
                (),
                (
                    Route("10.0.0.0/16", "local"),
                    Route("10.9.0.0/16", "pcx-1"),
                    Route("10.8.0.0/16", "pcx-1"),
                    Route("10.9.5.0/24", "tgw-1"),
                    Route("pl-corp", "tgw-1"),
                    Route("0.0.0.0/0", "nat-1"),
                    Route("pl-s3", "vpce-s3"),
                ),
            ),
            # vpc-b answers 10.0.1.0/24 locally (its own overlapping block): replies to
            # subnet-a never get back over pcx-1.
            RouteTable("rtb-b", "vpc-b", ME, True, (), (Route("10.0.0.0/16", "local"), Route("10.9.0.0/16", "local"))),
        ),
        internet_gateways=(InternetGateway("igw-1", ("vpc-b",), ME),),
        nat_gateways=(NatGateway("nat-1", "vpc-a", "subnet-a", "deleted"),),
        flow_logs=(
            FlowLog("fl-1", "subnet-a", "REJECT", "ACTIVE", "FAILED", "denied"),
            FlowLog("fl-2", "vpc-b", "ALL", "ACTIVE"),
        ),
        vpc_endpoints=(
            VpcEndpoint("vpce-s3", "vpc-a", "com.amazonaws.us-east-1.s3", "Gateway", "available", ("rtb-a",)),
            VpcEndpoint("vpce-ssm", "vpc-b", "com.amazonaws.us-east-1.ssm", "Interface", "available"),
        ),
        endpoint_services=(EndpointService("vpce-svc-1", "com.amazonaws.vpce.us-east-1.vpce-svc-1", False, ("*",)),),
        peerings=(
            Peering(
                "pcx-1",
                "active",
                PeeringSide("vpc-a", ME, "us-east-1", ("10.0.0.0/16",)),
                PeeringSide("vpc-b", ME, "us-east-1", ("10.0.0.0/16",)),
            ),
        ),
        transit_gateways=(TransitGateway("tgw-1", ME, "available", "enable"),),
        tgw_attachments=(
            TgwAttachment("tgw-attach-a", "tgw-1", "vpc", "vpc-a", ME, "available", "tgw-rtb-1"),
            TgwAttachment("tgw-attach-b", "tgw-1", "vpc", "vpc-b", ME, "available", "tgw-rtb-1"),
            TgwAttachment("tgw-attach-vpn", "tgw-1", "vpn", "vpn-1", ME, "available", "tgw-rtb-1"),
        ),
        tgw_route_tables=(
            TgwRouteTable(
                "tgw-rtb-1",
                "tgw-1",
                routes=(
                    TgwRoute("10.0.5.0/24", "static", "active", ("tgw-attach-vpn",)),
                    TgwRoute("pl-corp", "static", "active", ("tgw-attach-vpn",)),
                ),
                propagations=("tgw-attach-a", "tgw-attach-b"),
            ),
        ),
        client_vpn_endpoints=(
            ClientVpnEndpoint(
                "cvpn-endpoint-1", "vpc-a", False, "available", (ClientVpnAuthorizationRule("0.0.0.0/0", True),)
            ),
        ),
        prefix_lists=(
            PrefixList("pl-corp", "corp", ("10.0.7.0/24",)),
            PrefixList("pl-s3", "com.amazonaws.us-east-1.s3", None, "AWS"),
        ),
        scope_vpc_ids=scope,
    )


def guarded(snapshot: NetworkSnapshot, spec: CheckSpec) -> NetworkSnapshot:
    return dataclasses.replace(snapshot, **{part: undeclared(part) for part in PARTS if part not in spec.parts})


POLICY = parse_policy(
    {
        "endpoints": {"gateway": ["s3", "dynamodb"], "interface": ["ssm", "sts"]},
        "trusted_accounts": [ME],
        "reachability": [
            {"name": "a-reaches-b", "from": {"vpc_ids": ["vpc-a"]}, "to": {"vpc_ids": ["vpc-b"]}, "expect": "reachable"}
        ],
    },
    CHECK_IDS,
)


@pytest.mark.parametrize("scope", [(), ("vpc-a",), ("vpc-b",)], ids=["full", "scoped-a", "scoped-b"])
@pytest.mark.parametrize("spec", REGISTRY, ids=lambda s: s.id)
def test_a_check_reads_only_what_it_declares(spec: CheckSpec, scope: tuple[str, ...]) -> None:
    snapshot = guarded(rich_snapshot(scope), spec)
    violations = list(spec.fn(snapshot, POLICY))
    subjects = spec.subjects(snapshot)
    # And reports only on what it judges (what a scoped audit covers).
    assert {v.resource_id for v in violations} <= subjects


def test_the_rich_snapshot_fails_every_check_somewhere() -> None:
    """The guard above is only meaningful if the checks have something to find."""
    silent = [spec.id for spec in REGISTRY if not list(spec.fn(rich_snapshot(), POLICY))]
    assert silent == []


def test_an_undeclared_read_is_caught() -> None:
    spec = next(s for s in REGISTRY if s.id == "routes-no-blackhole")
    without_tables = dataclasses.replace(spec, needs=tuple(a for a in spec.needs if a != "ec2:DescribeRouteTables"))
    with pytest.raises(AssertionError, match="route_tables"):
        list(without_tables.fn(guarded(rich_snapshot(), without_tables), POLICY))


def test_every_action_lands_in_a_snapshot_part() -> None:
    fields = {f.name for f in dataclasses.fields(NetworkSnapshot)}
    assert {a for spec in REGISTRY for a in spec.needs} <= set(ACTION_PARTS)
    assert set(ACTION_PARTS.values()) <= fields


@pytest.mark.parametrize("spec", REGISTRY, ids=lambda s: s.id)
def test_in_a_scoped_audit_a_check_reads_only_what_a_scoped_collection_fetches(spec: CheckSpec) -> None:
    """``scoped_needs`` is what a scoped collection fetches for a check: reading more there
    would judge on data that was never collected."""
    snapshot = rich_snapshot(("vpc-a",))
    scoped_parts = spec.parts_read(scoped=True)
    guarded_snapshot = dataclasses.replace(
        snapshot, **{part: undeclared(part) for part in PARTS if part not in scoped_parts}
    )
    violations = list(spec.fn(guarded_snapshot, POLICY))
    assert {v.resource_id for v in violations} <= spec.subjects(guarded_snapshot)
