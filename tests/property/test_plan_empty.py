"""Applying an empty plan changes nothing: on any generated snapshot, a plan with no
changes (or only no-ops of what exists, and resources no check reads) introduces and
resolves nothing, and leaves the snapshot as it was."""

from __future__ import annotations

import datetime as dt
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from chalicelib.core.model import (
    FlowLog,
    NetworkSnapshot,
    Peering,
    PeeringSide,
    Route,
    RouteTable,
    Subnet,
    TgwAttachment,
    TgwRouteTable,
    TransitGateway,
    Vpc,
    VpcEndpoint,
)
from chalicelib.core.plan.apply import apply_plan
from chalicelib.core.plan.diff import compare
from chalicelib.core.plan.reader import read_plan
from chalicelib.core.policy import Policy
from tests.planbuilder import PlanBuilder

ACCOUNT, REGION = "111122223333", "us-east-1"
NOW = dt.datetime(2026, 11, 26, tzinfo=dt.UTC)
CIDRS = ["10.0.0.0/16", "10.0.0.0/20", "10.1.0.0/16", "10.2.0.0/16", "172.16.0.0/16", "10.0.128.0/17"]


@st.composite
def snapshots(draw: Any) -> NetworkSnapshot:
    """VPCs with overlapping or disjoint ranges, subnets on main or own tables, routes to
    peerings / the TGW / an IGW / missing targets, flow logs and S3 endpoints."""
    n = draw(st.integers(1, 5))
    vpcs = [Vpc(f"vpc-{i}", ACCOUNT, (draw(st.sampled_from(CIDRS)),)) for i in range(n)]
    subnets, tables, logs, endpoints = [], [], [], []
    peerings = [
        Peering(
            f"pcx-{a}{b}",
            draw(st.sampled_from(["active", "pending-acceptance", "deleted"])),
            PeeringSide(vpcs[a].vpc_id, ACCOUNT, REGION, vpcs[a].cidrs),
            PeeringSide(vpcs[b].vpc_id, ACCOUNT, REGION, vpcs[b].cidrs),
        )
        for a in range(n)
        for b in range(a + 1, n)
        if draw(st.booleans())
    ]
    targets = ["igw-1", "tgw-1", "nat-gone", *(p.peering_id for p in peerings)]
    for i, vpc in enumerate(vpcs):
        subnet = Subnet(f"subnet-{i}", vpc.vpc_id, ACCOUNT, vpc.cidrs[0])
        subnets.append(subnet)
        routes = [Route(vpc.cidrs[0], "local")]
        routes += [
            Route(draw(st.sampled_from([*CIDRS, "0.0.0.0/0"])), draw(st.sampled_from(targets)))
            for _ in range(draw(st.integers(0, 3)))
        ]
        own = draw(st.booleans())
        tables.append(
            RouteTable(f"rtb-{i}", vpc.vpc_id, ACCOUNT, not own, (subnet.subnet_id,) if own else (), tuple(routes))
        )
        if draw(st.booleans()):
            logs.append(FlowLog(f"fl-{i}", vpc.vpc_id, draw(st.sampled_from(["ALL", "REJECT"])), "ACTIVE"))
        if draw(st.booleans()):
            endpoints.append(
                VpcEndpoint(
                    f"vpce-{i}", vpc.vpc_id, f"com.amazonaws.{REGION}.s3", "Gateway", "available", (f"rtb-{i}",)
                )
            )
    attachments = [
        TgwAttachment(f"tgw-attach-{i}", "tgw-1", "vpc", v.vpc_id, ACCOUNT, "available", "tgw-rtb-1", "associated")
        for i, v in enumerate(vpcs)
        if draw(st.booleans())
    ]
    return NetworkSnapshot(
        account_id=ACCOUNT,
        region=REGION,
        vpcs=tuple(vpcs),
        subnets=tuple(subnets),
        route_tables=tuple(tables),
        flow_logs=tuple(logs),
        vpc_endpoints=tuple(endpoints),
        peerings=tuple(peerings),
        transit_gateways=(TransitGateway("tgw-1", ACCOUNT, "available", draw(st.sampled_from(["enable", "disable"]))),),
        tgw_attachments=tuple(attachments),
        tgw_route_tables=(
            TgwRouteTable("tgw-rtb-1", "tgw-1", propagations=tuple(a.attachment_id for a in attachments)),
        ),
    )


@st.composite
def empty_plans(draw: Any, snapshot: NetworkSnapshot) -> dict[str, Any]:
    """No changes at all, or no-ops of existing resources and types no check reads."""
    b = PlanBuilder(region=REGION)
    for vpc in snapshot.vpcs:
        if draw(st.booleans()):
            # a no-op's values may have drifted from the live ones: the live network wins
            cidr = draw(st.sampled_from(CIDRS))
            b.existing("aws_vpc", vpc.vpc_id.replace("-", "_"), {"id": vpc.vpc_id, "cidr_block": cidr})
    for table in snapshot.route_tables:
        if draw(st.booleans()):
            b.existing(
                "aws_route_table",
                table.route_table_id.replace("-", "_"),
                {"id": table.route_table_id, "vpc_id": table.vpc_id},
            )
    if draw(st.booleans()):
        b.ignored("aws_security_group", "sg")
    return b.doc()


@settings(max_examples=150, deadline=None)
@given(data=st.data())
def test_an_empty_plan_changes_nothing(data: st.DataObject) -> None:
    snapshot = data.draw(snapshots())
    plan = read_plan(data.draw(empty_plans(snapshot)))
    applied = apply_plan(snapshot, plan, REGION)
    assert applied.snapshot == snapshot
    result = compare(plan, [snapshot], [applied], Policy(), NOW, default_region=REGION)
    assert result.introduced == () and result.resolved == ()
    assert {f.id for f in result.unchanged} == {f.id for f in result.before.findings}
