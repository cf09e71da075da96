"""TGW associations come from the attachments (DescribeTransitGatewayAttachments'
``Association``), never from a call per route table; a scoped collection reads the routes
of only the tables its VPCs are associated with or propagate into, and judges them as the
full collection does. Against moto (whose associations are made AWS-like by the ``aws``
fixture, see conftest.py) and against botocore's Stubber with answers shaped as the EC2 API
reference documents them."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import boto3
import pytest
from botocore import xform_name
from botocore.stub import Stubber

from chalicelib.aws.collect.ec2 import collect_region
from chalicelib.aws.session import CallCounter
from chalicelib.core.audit import evaluate
from chalicelib.core.checks import REGISTRY
from chalicelib.core.model import NetworkSnapshot
from chalicelib.core.policy import Policy
from tests.integration.conftest import ACCOUNT, REGION
from vpcwatch_tools.lab import remove_default_vpc

NOW = dt.datetime(2026, 11, 26, tzinfo=dt.UTC)
TGW_CHECKS = ("connected-cidrs-non-overlapping", "tgw-routes-non-overlapping")


def collect(ec2: Any, **kwargs: Any) -> NetworkSnapshot:
    return collect_region(ec2, account_id=ACCOUNT, region=REGION, **kwargs)


def findings(snapshot: NetworkSnapshot, checks: tuple[str, ...] | None = None) -> set[tuple[str, str]]:
    result = evaluate(snapshot, Policy(), NOW, checks)
    return {(f.check, f.resource_id) for f in result.findings}


def judged(snapshot: NetworkSnapshot) -> set[tuple[str, str]]:
    """Every (check, resource) the snapshot's audit judges (its checks' subjects)."""
    return {(spec.id, resource) for spec in REGISTRY for resource in spec.subjects(snapshot)}


# ---------------------------------------------------------------------------------
# moto
# ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Segments:
    """One transit gateway, three route tables: the default one (``default``), ``x`` and ``y``.

    a  10.0.0.0/16  associated with the default table (as it was created); propagates into x
    b  10.0.0.0/16  associated with x (overlaps a); propagates into x
    c  10.2.0.0/16  associated with nothing (disassociated from the default table); propagates into x
    d  10.3.0.0/16  associated with y and propagating into it
    e  10.4.0.0/16  not attached
    """

    default: str
    x: str
    y: str
    vpcs: dict[str, str]
    attachments: dict[str, str]


@pytest.fixture
def segments(ec2: Any) -> Segments:
    remove_default_vpc(ec2)
    gateway = ec2.create_transit_gateway(
        Options={"DefaultRouteTableAssociation": "enable", "DefaultRouteTablePropagation": "disable"}
    )["TransitGateway"]
    tgw, default = gateway["TransitGatewayId"], gateway["Options"]["AssociationDefaultRouteTableId"]
    x, y = (
        ec2.create_transit_gateway_route_table(TransitGatewayId=tgw)["TransitGatewayRouteTable"][
            "TransitGatewayRouteTableId"
        ]
        for _ in range(2)
    )
    cidrs = {"a": "10.0.0.0/16", "b": "10.0.0.0/16", "c": "10.2.0.0/16", "d": "10.3.0.0/16", "e": "10.4.0.0/16"}
    vpcs, attachments = {}, {}
    for name, cidr in cidrs.items():
        vpcs[name] = ec2.create_vpc(CidrBlock=cidr)["Vpc"]["VpcId"]
        subnet = ec2.create_subnet(VpcId=vpcs[name], CidrBlock=cidr.replace("/16", "/24"))["Subnet"]["SubnetId"]
        if name != "e":
            attachments[name] = ec2.create_transit_gateway_vpc_attachment(
                TransitGatewayId=tgw, VpcId=vpcs[name], SubnetIds=[subnet]
            )["TransitGatewayVpcAttachment"]["TransitGatewayAttachmentId"]
    for name, table in (("b", x), ("d", y)):  # disassociated from the default table first, as AWS requires
        ec2.disassociate_transit_gateway_route_table(
            TransitGatewayRouteTableId=default, TransitGatewayAttachmentId=attachments[name]
        )
        ec2.associate_transit_gateway_route_table(
            TransitGatewayRouteTableId=table, TransitGatewayAttachmentId=attachments[name]
        )
    ec2.disassociate_transit_gateway_route_table(
        TransitGatewayRouteTableId=default, TransitGatewayAttachmentId=attachments["c"]
    )
    for name, table in (("a", x), ("b", x), ("c", x), ("d", y)):
        ec2.enable_transit_gateway_route_table_propagation(
            TransitGatewayRouteTableId=table, TransitGatewayAttachmentId=attachments[name]
        )
    return Segments(default, x, y, vpcs, attachments)


def test_the_emulator_reports_associations_as_aws_does(ec2: Any, segments: Segments) -> None:
    """The fixture's premise (conftest.aws_tgw_associations): one association per
    attachment, named by the attachment and listed by that table only."""
    att = segments.attachments
    described = ec2.describe_transit_gateway_attachments()["TransitGatewayAttachments"]
    association = {a["TransitGatewayAttachmentId"]: a.get("Association") for a in described}
    assert association[att["a"]] == {"TransitGatewayRouteTableId": segments.default, "State": "associated"}
    assert association[att["b"]] == {"TransitGatewayRouteTableId": segments.x, "State": "associated"}
    assert association[att["c"]] is None
    listed = ec2.get_transit_gateway_route_table_associations(TransitGatewayRouteTableId=segments.default)
    assert [a["TransitGatewayAttachmentId"] for a in listed["Associations"]] == [att["a"]]


def test_associations_come_from_the_attachments(ec2: Any, segments: Segments) -> None:
    att, vpcs = segments.attachments, segments.vpcs
    with CallCounter(ec2) as counter:
        snapshot = collect(ec2)

    assert snapshot.errors == ()
    assert snapshot.tgw_tables_of_attachment == {
        att["a"]: (segments.default,),
        att["b"]: (segments.x,),
        att["d"]: (segments.y,),
    }  # c is associated with no table
    assert "GetTransitGatewayRouteTableAssociations" not in counter.by_operation
    assert counter.by_operation["SearchTransitGatewayRoutes"] == 3  # one per table, nothing more
    assert counter.by_operation["GetTransitGatewayRouteTablePropagations"] == 3
    assert {t.route_table_id: set(t.propagations) for t in snapshot.tgw_route_tables} == {
        segments.default: set(),
        segments.x: {att["a"], att["b"], att["c"]},
        segments.y: {att["d"]},
    }
    # b reaches a's 10.0.0.0/16 through x, the table it is associated with; a (on the
    # default table) and c (on none) reach nothing through the gateway; x carries the overlap
    assert findings(snapshot, TGW_CHECKS) == {
        ("connected-cidrs-non-overlapping", vpcs["b"]),
        ("tgw-routes-non-overlapping", segments.x),
    }


@pytest.mark.parametrize(
    ("vpc", "tables", "searched"),
    [
        ("a", {"default", "x"}, 2),  # associated with the default table, propagates into x
        ("b", {"x"}, 1),  # associated with and propagating into x
        ("c", {"x"}, 1),  # associated with none, propagates into x
        ("d", {"y"}, 1),
        ("e", set(), 0),  # not attached: no table is described at all
    ],
)
def test_a_scoped_collection_reads_the_tables_its_vpc_uses_and_judges_as_the_full_one(
    ec2: Any, segments: Segments, vpc: str, tables: set[str], searched: int
) -> None:
    full = collect(ec2)
    with CallCounter(ec2) as counter:
        scoped = collect(ec2, vpc_ids=[segments.vpcs[vpc]])

    assert scoped.errors == ()
    names = {segments.default: "default", segments.x: "x", segments.y: "y"}
    assert {names[t.route_table_id] for t in scoped.tgw_route_tables} == tables
    assert counter.by_operation.get("SearchTransitGatewayRoutes", 0) == searched
    # every table of the gateway has its propagations read, to learn which the VPC propagates into
    assert counter.by_operation.get("GetTransitGatewayRouteTablePropagations", 0) == (3 if tables else 0)
    assert "GetTransitGatewayRouteTableAssociations" not in counter.by_operation
    assert counter.by_operation["DescribeVpcs"] == 1  # the VPC and its neighbours at once
    covered = judged(scoped)
    assert {("tgw-routes-non-overlapping", t.route_table_id) for t in scoped.tgw_route_tables} <= covered
    assert findings(scoped) == {key for key in findings(full) if key in covered}


def test_a_region_without_a_transit_gateway_lists_no_tgw_route_table(ec2: Any) -> None:
    with CallCounter(ec2) as counter:
        snapshot = collect(ec2)
    assert snapshot.errors == () and snapshot.tgw_route_tables == ()
    assert counter.by_operation["DescribeTransitGateways"] == 1
    assert "DescribeTransitGatewayRouteTables" not in counter.by_operation


def test_tgw_route_tables_are_listed_when_the_gateways_are_not_known(ec2: Any, segments: Segments) -> None:
    """Fail closed: when the gateways cannot be listed, the tables are still asked for."""
    from tests.integration.test_collect import fail

    fail(ec2, "DescribeTransitGateways", 403, "UnauthorizedOperation")
    snapshot = collect(ec2)
    assert snapshot.failed_actions == {"ec2:DescribeTransitGateways"}
    assert len(snapshot.tgw_route_tables) == 3


# ---------------------------------------------------------------------------------
# botocore's Stubber: the documented shapes and association states
# ---------------------------------------------------------------------------------

TGW = "tgw-02f776b1a7EXAMPLE"
SPOKES, SHARED = "tgw-rtb-002573ed1eEXAMPLE", "tgw-rtb-0a1b2c3d4eEXAMPLE"


def _attachment(n: int, vpc: str, association: dict[str, str] | None, **extra: Any) -> dict[str, Any]:
    """A TransitGatewayAttachment as the EC2 API reference documents it (``association`` is a
    TransitGatewayAttachmentAssociation: transitGatewayRouteTableId and state, one of
    associating | associated | disassociating | disassociated)."""
    record: dict[str, Any] = {
        "TransitGatewayAttachmentId": f"tgw-attach-0{n}f8100bc7EXAMPLE",
        "TransitGatewayId": TGW,
        "TransitGatewayOwnerId": ACCOUNT,
        "ResourceOwnerId": ACCOUNT,
        "ResourceType": "vpc",
        "ResourceId": vpc,
        "State": "available",
        "CreationTime": "2019-08-26T14:59:25.000Z",
        "Tags": [{"Key": "Name", "Value": f"spoke-{n}"}],
        **extra,
    }
    if association is not None:
        record["Association"] = association
    return record


ATTACHMENTS = {
    "TransitGatewayAttachments": [
        _attachment(1, "vpc-1EXAMPLE", {"TransitGatewayRouteTableId": SPOKES, "State": "associated"}),
        _attachment(2, "vpc-2EXAMPLE", {"TransitGatewayRouteTableId": SPOKES, "State": "associating"}),
        _attachment(3, "vpc-3EXAMPLE", {"TransitGatewayRouteTableId": SPOKES, "State": "disassociating"}),
        _attachment(4, "vpc-4EXAMPLE", None),  # associated with no table: no Association
        _attachment(
            5,
            "vpn-0b2d8f1e3c4a5EXAMPLE",
            {"TransitGatewayRouteTableId": SHARED, "State": "associated"},
            ResourceType="vpn",
        ),
    ]
}
ALL_SPOKES = [f"tgw-attach-0{n}f8100bc7EXAMPLE" for n in range(1, 5)]


def _table(table_id: str) -> dict[str, Any]:
    return {
        "TransitGatewayRouteTableId": table_id,
        "TransitGatewayId": TGW,
        "State": "available",
        "DefaultAssociationRouteTable": table_id == SPOKES,
        "DefaultPropagationRouteTable": False,
        "CreationTime": "2019-08-26T14:59:25.000Z",
    }


def _propagation(attachment: str, vpc: str) -> dict[str, Any]:
    return {"TransitGatewayAttachmentId": attachment, "ResourceId": vpc, "ResourceType": "vpc", "State": "enabled"}


def _stub(stubber: Stubber, operation: str, response: dict[str, Any], params: dict[str, Any] | None = None) -> None:
    stubber.add_response(xform_name(operation), response, params)


def test_associations_and_their_states_from_documented_answers(aws_env: None) -> None:
    """The whole call plan of a full collection, in order: every spoke VPC (10.0.0.0/16 each)
    propagates into the spokes table. The associated spoke and the one being associated
    reach the others' 10.0.0.0/16 through it; the one being disassociated and the one with
    no association reach nothing through the gateway. No call per table asks for its
    associations (the Stubber fails any call it was not given)."""
    client = boto3.client("ec2", region_name=REGION)
    vpcs = [f"vpc-{n}EXAMPLE" for n in range(1, 5)]
    with Stubber(client) as stubber:
        _stub(
            stubber,
            "DescribeVpcs",
            {"Vpcs": [{"VpcId": v, "OwnerId": ACCOUNT, "CidrBlock": "10.0.0.0/16"} for v in vpcs]},
        )
        for op, key in (
            ("DescribeSubnets", "Subnets"),
            ("DescribeRouteTables", "RouteTables"),
            ("DescribeInternetGateways", "InternetGateways"),
            ("DescribeNatGateways", "NatGateways"),
            ("DescribeFlowLogs", "FlowLogs"),
            ("DescribeVpcEndpoints", "VpcEndpoints"),
            ("DescribeVpcEndpointServiceConfigurations", "ServiceConfigurations"),
            ("DescribeVpcPeeringConnections", "VpcPeeringConnections"),
        ):
            _stub(stubber, op, {key: []})
        _stub(stubber, "DescribeTransitGatewayAttachments", ATTACHMENTS)
        _stub(
            stubber,
            "DescribeTransitGateways",
            {"TransitGateways": [{"TransitGatewayId": TGW, "OwnerId": ACCOUNT, "State": "available"}]},
        )
        _stub(
            stubber,
            "DescribeTransitGatewayRouteTables",
            {"TransitGatewayRouteTables": [_table(SPOKES), _table(SHARED)]},
        )
        for table, propagations in (
            (SPOKES, [_propagation(a, v) for a, v in zip(ALL_SPOKES, vpcs, strict=True)]),
            (SHARED, []),
        ):
            _stub(stubber, "SearchTransitGatewayRoutes", {"Routes": [], "AdditionalRoutesAvailable": False})
            _stub(
                stubber,
                "GetTransitGatewayRouteTablePropagations",
                {"TransitGatewayRouteTablePropagations": propagations},
                {"TransitGatewayRouteTableId": table, "MaxResults": 1000},
            )
        _stub(stubber, "DescribeClientVpnEndpoints", {"ClientVpnEndpoints": []})
        # what only the path checks read
        for op, key in (
            ("DescribeNetworkAcls", "NetworkAcls"),
            ("DescribeEgressOnlyInternetGateways", "EgressOnlyInternetGateways"),
            ("DescribeVpnGateways", "VpnGateways"),
            ("DescribeTransitGatewayPeeringAttachments", "TransitGatewayPeeringAttachments"),
        ):
            _stub(stubber, op, {key: []})

        snapshot = collect(client)
        stubber.assert_no_pending_responses()

    assert snapshot.errors == ()
    attachments = {a.resource_id: a for a in snapshot.tgw_attachments}
    assert {v: (attachments[v].association_route_table_id, attachments[v].association_state) for v in vpcs} == {
        "vpc-1EXAMPLE": (SPOKES, "associated"),
        "vpc-2EXAMPLE": (SPOKES, "associating"),
        "vpc-3EXAMPLE": (SPOKES, "disassociating"),
        "vpc-4EXAMPLE": (None, None),
    }
    assert snapshot.tgw_tables_of_attachment == {
        "tgw-attach-01f8100bc7EXAMPLE": (SPOKES,),
        "tgw-attach-02f8100bc7EXAMPLE": (SPOKES,),  # being associated: judged as associated
        "tgw-attach-05f8100bc7EXAMPLE": (SHARED,),  # a VPN attachment's association too
    }
    assert findings(snapshot, TGW_CHECKS) == {
        ("connected-cidrs-non-overlapping", "vpc-1EXAMPLE"),
        ("connected-cidrs-non-overlapping", "vpc-2EXAMPLE"),
        ("tgw-routes-non-overlapping", SPOKES),
    }


def test_a_scoped_collection_skips_the_routes_of_tables_its_vpc_does_not_use(aws_env: None) -> None:
    """Scoped to the spoke associated with nothing that propagates nowhere: each table's
    propagations are read (to learn that), no table's routes."""
    client = boto3.client("ec2", region_name=REGION)
    scope = "vpc-4EXAMPLE"
    with Stubber(client) as stubber:
        for op, key in (
            ("DescribeSubnets", "Subnets"),
            ("DescribeRouteTables", "RouteTables"),
            ("DescribeInternetGateways", "InternetGateways"),
            ("DescribeNatGateways", "NatGateways"),
            ("DescribeFlowLogs", "FlowLogs"),
            ("DescribeVpcEndpoints", "VpcEndpoints"),
            ("DescribeVpcPeeringConnections", "VpcPeeringConnections"),
            ("DescribeVpcPeeringConnections", "VpcPeeringConnections"),
        ):
            _stub(stubber, op, {key: []})
        _stub(
            stubber,
            "DescribeTransitGatewayAttachments",
            {"TransitGatewayAttachments": [ATTACHMENTS["TransitGatewayAttachments"][3]]},
        )
        _stub(
            stubber,
            "DescribeTransitGatewayRouteTables",
            {"TransitGatewayRouteTables": [_table(SPOKES), _table(SHARED)]},
        )
        for table in (SPOKES, SHARED):
            _stub(
                stubber,
                "GetTransitGatewayRouteTablePropagations",
                {"TransitGatewayRouteTablePropagations": [_propagation(ALL_SPOKES[0], "vpc-1EXAMPLE")]},
                {"TransitGatewayRouteTableId": table, "MaxResults": 1000},
            )
        _stub(
            stubber,
            "DescribeTransitGateways",
            {"TransitGateways": [{"TransitGatewayId": TGW, "OwnerId": ACCOUNT, "State": "available"}]},
        )
        _stub(stubber, "DescribeVpcs", {"Vpcs": [{"VpcId": scope, "OwnerId": ACCOUNT, "CidrBlock": "10.0.0.0/16"}]})
        _stub(stubber, "DescribeClientVpnEndpoints", {"ClientVpnEndpoints": []})
        with CallCounter(client) as counter:
            snapshot = collect(client, vpc_ids=[scope])
        stubber.assert_no_pending_responses()

    assert snapshot.errors == ()
    assert snapshot.tgw_route_tables == ()
    calls = counter.by_operation
    assert "SearchTransitGatewayRoutes" not in calls and calls["GetTransitGatewayRouteTablePropagations"] == 2
    assert findings(snapshot, TGW_CHECKS) == set()
