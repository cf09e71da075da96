"""The fake EC2 world behaves like EC2 where the collector depends on it: filters,
pagination, unknown ids, answers in AWS's shapes, and loud refusal of anything else."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

from chalicelib.aws.collect.ec2 import collect_region
from chalicelib.aws.session import CallCounter
from tests import fakeec2
from tests.fakeec2 import ACCOUNT, FOREIGN_ACCOUNT, PEER_REGION, REGION, FakeEc2, FakeEc2Unimplemented, WorldBuilder


def small_world() -> tuple[WorldBuilder, dict[str, str]]:
    b = WorldBuilder()
    ids: dict[str, str] = {}
    ids["app"] = b.vpc("10.0.0.0/16", secondary=[("10.1.0.0/16", "associated")])
    ids["db"] = b.vpc("10.2.0.0/16")
    for n in range(7):
        b.subnet(ids["app"], f"10.0.{n}.0/24")
    ids["db-subnet"] = b.subnet(ids["db"], "10.2.0.0/24")
    ids["app-main"] = b.route_table(ids["app"], main=True)
    ids["db-main"] = b.route_table(ids["db"], main=True)
    ids["remote"] = b.external_vpc(["10.9.0.0/16"], region=PEER_REGION)
    ids["pcx"] = b.peering(ids["app"], ids["db"])
    ids["pcx-pending"] = b.peering(ids["remote"], ids["app"], status="pending-acceptance")
    ids["tgw"] = b.transit_gateway()
    ids["tgw-rtb"] = b.tgw_route_table(ids["tgw"])
    ids["att-app"] = b.tgw_attachment(ids["tgw"], "vpc", ids["app"])
    ids["att-db"] = b.tgw_attachment(ids["tgw"], "vpc", ids["db"], state="pending")
    b.tgw_associate(ids["tgw-rtb"], ids["att-app"])
    b.tgw_propagate(ids["tgw-rtb"], ids["att-app"])
    b.tgw_propagate(ids["tgw-rtb"], ids["att-db"])
    b.tgw_route(ids["tgw-rtb"], "192.168.0.0/16", None)
    return b, ids


def client(max_page: int | None = None) -> tuple[Any, FakeEc2, dict[str, str]]:
    b, ids = small_world()
    fake = FakeEc2(b.build(), max_page=max_page)
    return fake.client(), fake, ids


def test_filters_and_values() -> None:
    ec2, fake, ids = client()
    one = ec2.describe_subnets(Filters=[{"Name": "vpc-id", "Values": [ids["db"]]}])["Subnets"]
    assert [s["SubnetId"] for s in one] == [ids["db-subnet"]]
    both = ec2.describe_subnets(Filters=[{"Name": "vpc-id", "Values": [ids["db"], ids["app"]]}])["Subnets"]
    assert len(both) == 8  # several values: OR
    anded = ec2.describe_subnets(
        Filters=[{"Name": "vpc-id", "Values": [ids["app"]]}, {"Name": "cidr-block", "Values": ["10.0.1.*"]}]
    )["Subnets"]
    assert [s["CidrBlock"] for s in anded] == ["10.0.1.0/24"]  # several filters: AND; wildcards
    igws = ec2.describe_internet_gateways(Filters=[{"Name": "attachment.vpc-id", "Values": [ids["app"]]}])
    assert igws["InternetGateways"] == []
    nat = ec2.describe_nat_gateways(Filter=[{"Name": "vpc-id", "Values": [ids["app"]]}])
    assert nat["NatGateways"] == []
    accepted = ec2.describe_vpc_peering_connections(
        Filters=[{"Name": "accepter-vpc-info.vpc-id", "Values": [ids["app"]]}]
    )["VpcPeeringConnections"]
    assert [p["VpcPeeringConnectionId"] for p in accepted] == [ids["pcx-pending"]]
    assert fake.problems == []


def test_peering_descriptions_show_the_accepter_cidrs_only_when_active() -> None:
    ec2, _, ids = client()
    peerings = {p["VpcPeeringConnectionId"]: p for p in ec2.describe_vpc_peering_connections()["VpcPeeringConnections"]}
    active, pending = peerings[ids["pcx"]], peerings[ids["pcx-pending"]]
    assert [b["CidrBlock"] for b in active["RequesterVpcInfo"]["CidrBlockSet"]] == ["10.0.0.0/16", "10.1.0.0/16"]
    assert active["AccepterVpcInfo"]["CidrBlock"] == "10.2.0.0/16"
    assert pending["RequesterVpcInfo"]["Region"] == PEER_REGION
    assert pending["RequesterVpcInfo"]["CidrBlock"] == "10.9.0.0/16"
    assert "CidrBlock" not in pending["AccepterVpcInfo"] and "CidrBlockSet" not in pending["AccepterVpcInfo"]


def test_pagination_follows_max_results_and_the_page_cap() -> None:
    ec2, fake, _ = client(max_page=2)
    first = ec2.describe_subnets(MaxResults=5)
    assert len(first["Subnets"]) == 2 and first["NextToken"]
    pages = list(ec2.get_paginator("describe_subnets").paginate(PaginationConfig={"PageSize": 5}))
    assert [len(p["Subnets"]) for p in pages] == [2, 2, 2, 2]
    assert "NextToken" not in pages[-1]
    with pytest.raises(ClientError, match="InvalidNextToken"):
        ec2.describe_vpcs(MaxResults=5, NextToken=first["NextToken"])  # a token of another query
    with pytest.raises(ClientError, match="InvalidParameterValue"):
        ec2.describe_route_tables(MaxResults=101)  # DescribeRouteTables pages hold 5 to 100
    assert fake.calls["DescribeSubnets"] == 5 and fake.problems == []


def test_search_transit_gateway_routes_answers_routes_and_additional_routes_available(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    ec2, _, ids = client()
    state = [{"Name": "state", "Values": ["active", "blackhole"]}]
    answer = ec2.search_transit_gateway_routes(TransitGatewayRouteTableId=ids["tgw-rtb"], Filters=state)
    routes = {(r.get("DestinationCidrBlock"), r["Type"], r["State"]) for r in answer["Routes"]}
    # the pending attachment propagates nothing yet
    assert routes == {
        ("192.168.0.0/16", "static", "blackhole"),
        ("10.0.0.0/16", "propagated", "active"),
        ("10.1.0.0/16", "propagated", "active"),
    }
    assert answer["AdditionalRoutesAvailable"] is False
    static = ec2.search_transit_gateway_routes(
        TransitGatewayRouteTableId=ids["tgw-rtb"], Filters=[*state, {"Name": "type", "Values": ["static"]}]
    )
    assert len(static["Routes"]) == 1
    monkeypatch.setattr(fakeec2, "SEARCH_TGW_ROUTES_DEFAULT", 2)
    truncated = ec2.search_transit_gateway_routes(TransitGatewayRouteTableId=ids["tgw-rtb"], Filters=state)
    assert len(truncated["Routes"]) == 2 and truncated["AdditionalRoutesAvailable"] is True


def test_unknown_ids_are_not_found() -> None:
    ec2, _, ids = client()
    with pytest.raises(ClientError, match=r"InvalidVpcPeeringConnectionID\.NotFound"):
        ec2.describe_vpc_peering_connections(VpcPeeringConnectionIds=[ids["pcx"], "pcx-0000dead"])
    with pytest.raises(ClientError, match=r"InvalidRouteTableID\.NotFound"):
        ec2.get_transit_gateway_route_table_propagations(TransitGatewayRouteTableId="tgw-rtb-0000dead")
    # filters never fail on values that match nothing
    assert ec2.describe_vpcs(Filters=[{"Name": "vpc-id", "Values": ["vpc-0000dead"]}])["Vpcs"] == []


def test_what_the_fake_does_not_implement_fails_loudly() -> None:
    ec2, fake, _ = client()
    with pytest.raises(FakeEc2Unimplemented, match="DescribeInstances is not implemented"):
        ec2.describe_instances()
    with pytest.raises(FakeEc2Unimplemented, match="filter 'owner-alias'"):
        ec2.describe_vpcs(Filters=[{"Name": "owner-alias", "Values": ["x"]}])
    with pytest.raises(FakeEc2Unimplemented, match="TargetVersion"):
        ec2.get_managed_prefix_list_entries(PrefixListId="pl-63a5400a", TargetVersion=1)
    assert len(fake.problems) == 3


def test_answers_are_checked_against_the_output_shape() -> None:
    b, _ = small_world()
    world = b.build()
    world.vpcs[0]["VpcID"] = "vpc-typo"  # not a member of Vpc
    world.subnets[0]["State"] = "ready"  # not in the enum
    ec2 = FakeEc2(world).client()
    with pytest.raises(FakeEc2Unimplemented, match="VpcID"):
        ec2.describe_vpcs()
    with pytest.raises(FakeEc2Unimplemented, match="ready"):
        ec2.describe_subnets()


def test_the_collector_reads_the_world_through_its_own_handlers() -> None:
    ec2, fake, ids = client(max_page=2)
    with CallCounter(ec2) as counter:
        snapshot = collect_region(ec2, account_id=ACCOUNT, region=REGION, page_size=5)
    assert snapshot.errors == () and snapshot.unsupported == () and fake.problems == []
    assert snapshot.api_calls == counter.total == fake.calls.total()  # CallCounter still sees every call
    assert {v.vpc_id for v in snapshot.vpcs} == {ids["app"], ids["db"]}
    assert len(snapshot.subnets) == 8
    pending = snapshot.peering_by_id[ids["pcx-pending"]]
    assert (pending.requester.region, pending.accepter.cidrs) == (PEER_REGION, ())
    assert snapshot.tgw_tables_of_attachment[ids["att-app"]] == (ids["tgw-rtb"],)


def test_foreign_resources_carry_their_owner() -> None:
    b = WorldBuilder()
    vpc = b.vpc("10.0.0.0/16")
    foreign = b.external_vpc(["10.5.0.0/16"], owner=FOREIGN_ACCOUNT)
    shared = b.transit_gateway(owner=FOREIGN_ACCOUNT)
    b.peering(foreign, vpc, status="active")
    b.tgw_attachment(shared, "vpc", vpc)
    ec2 = FakeEc2(b.build()).client()
    (peering,) = ec2.describe_vpc_peering_connections()["VpcPeeringConnections"]
    assert peering["RequesterVpcInfo"]["OwnerId"] == FOREIGN_ACCOUNT
    assert peering["AccepterVpcInfo"]["CidrBlock"] == "10.0.0.0/16"
    (attachment,) = ec2.describe_transit_gateway_attachments()["TransitGatewayAttachments"]
    assert (attachment["TransitGatewayOwnerId"], attachment["ResourceOwnerId"]) == (FOREIGN_ACCOUNT, ACCOUNT)
