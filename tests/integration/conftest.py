"""Integration fixtures: the collector against moto's in-process ``mock_aws``.

moto is imported before any client is created; every AWS setting the host may carry
(endpoint, profile, retry settings) is cleared so the tests see only the emulator. moto
starts every region with a default VPC (172.31.0.0/16) and one default subnet per zone.
The emulator opt-in is set (VPCWATCH_EMULATOR=1: moto's missing Client VPN API reads as
no Client VPN); a test of production behaviour clears it. moto's TGW associations are
made to behave as AWS's (``aws_tgw_associations``).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from chalicelib.aws.session import EMULATOR_ENV, make_client

REGION = "us-east-1"
PEER_REGION = "us-west-2"
ACCOUNT = "123456789012"  # moto's default account
PEER_ACCOUNT = "111111111111"


@pytest.fixture
def aws_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for var in (
        "AWS_ENDPOINT_URL",
        "AWS_ENDPOINT_URL_EC2",
        "AWS_ENDPOINT_URL_STS",
        "AWS_PROFILE",
        "AWS_DEFAULT_PROFILE",
        "AWS_SESSION_TOKEN",
        "AWS_SECURITY_TOKEN",
        "AWS_RETRY_MODE",
        "AWS_MAX_ATTEMPTS",
        "AWS_REGION",
    ):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "aws-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "aws-credentials"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setenv(EMULATOR_ENV, "1")


@pytest.fixture
def aws(aws_env: None, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    aws_tgw_associations(monkeypatch)
    with mock_aws():
        yield


def aws_tgw_associations(monkeypatch: pytest.MonkeyPatch) -> None:
    """A known moto gap (5.2), closed for the tests: an attachment associated with a TGW route
    table stays listed on the gateway's default table too, and every attachment's
    ``Association`` (DescribeTransitGatewayAttachments) names the default table whatever it
    is associated with, or was disassociated from. On AWS an attachment is associated with
    one table at most and its ``Association`` names that table (vpcwatch reads only that).
    Here, as there: associating moves the association, disassociating ends it (the default
    one too, which moto cannot disassociate), and ``Association`` names the one table that
    lists the attachment, or is absent. (AWS refuses to associate an attachment that is still
    associated; moto's callers here may skip the disassociation.)"""
    from moto.ec2.models.transit_gateway_attachments import TransitGatewayAttachment
    from moto.ec2.models.transit_gateway_route_tables import (
        TransitGatewayRelations,
        TransitGatewayRouteTableBackend,
    )

    associate = TransitGatewayRouteTableBackend.associate_transit_gateway_route_table

    def associate_with_one(
        backend: Any, transit_gateway_attachment_id: str, transit_gateway_route_table_id: str
    ) -> Any:  # moto's responses call it with these keywords
        for table in backend.transit_gateways_route_tables.values():
            table.route_table_associations.pop(transit_gateway_attachment_id, None)
        return associate(backend, transit_gateway_attachment_id, transit_gateway_route_table_id)

    def disassociate(backend: Any, tgw_attach_id: str, tgw_rt_id: str) -> Any:
        relation = backend.transit_gateway_associations.pop(tgw_attach_id, None)
        if relation is None:  # the default association, which moto does not record
            relation = TransitGatewayRelations(backend, tgw_attach_id, tgw_rt_id, state="disassociated")
        relation.state = "disassociated"
        backend.transit_gateways_route_tables[tgw_rt_id].route_table_associations.pop(tgw_attach_id, None)
        backend.unset_attachment_association(tgw_attach_id)
        return relation

    def association(attachment: Any) -> dict[str, str] | None:
        if attachment.state != "available":
            return None
        for table in attachment.ec2_backend.transit_gateways_route_tables.values():
            if attachment.id in table.route_table_associations:
                return {"State": "associated", "TransitGatewayRouteTableId": table.id}
        return None

    monkeypatch.setattr(TransitGatewayRouteTableBackend, "associate_transit_gateway_route_table", associate_with_one)
    monkeypatch.setattr(TransitGatewayRouteTableBackend, "disassociate_transit_gateway_route_table", disassociate)
    monkeypatch.setattr(TransitGatewayAttachment, "association", property(association))


@pytest.fixture
def session(aws: None) -> boto3.session.Session:
    return boto3.session.Session(region_name=REGION)


@pytest.fixture
def ec2(session: boto3.session.Session) -> Any:
    return make_client(session, "ec2", REGION)


# ---------------------------------------------------------------------------------
# moto helpers
# ---------------------------------------------------------------------------------


def tag(resource_type: str, name: str) -> list[dict[str, Any]]:
    return [{"ResourceType": resource_type, "Tags": [{"Key": "Name", "Value": name}]}]


def client_for_account(session: boto3.session.Session, account: str, region: str) -> Any:
    """An EC2 client acting as another account (moto maps assumed-role credentials)."""
    creds = session.client("sts", region_name=region).assume_role(
        RoleArn=f"arn:aws:iam::{account}:role/peer", RoleSessionName="vpcwatch-test"
    )["Credentials"]
    return boto3.client(
        "ec2",
        region_name=region,
        aws_access_key_id=creds["AccessKeyId"],
        aws_secret_access_key=creds["SecretAccessKey"],
        aws_session_token=creds["SessionToken"],
    )


def main_route_table(ec2: Any, vpc_id: str) -> str:
    tables = ec2.describe_route_tables(
        Filters=[{"Name": "vpc-id", "Values": [vpc_id]}, {"Name": "association.main", "Values": ["true"]}]
    )["RouteTables"]
    return str(tables[0]["RouteTableId"])


# ---------------------------------------------------------------------------------
# The landscape
# ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Landscape:
    """
    app     10.0.0.0/16 + 10.1.0.0/16 + an Amazon IPv6 /56; an IGW; subnets public
            (10.0.0.0/24 + an IPv6 /64), private (10.0.1.0/24) and data (10.1.0.0/24, no
            explicit association: the main table routes it); a NAT gateway; an edge
            route table associated with the IGW; the private table routes to the NAT, the
            peerings, the TGW (a CIDR and a customer prefix list) and an S3 gateway
            endpoint; an SSM interface endpoint without private DNS; a VPC flow log (ALL,
            S3, delivering); an own endpoint service open to '*' and one account
    shared  10.2.0.0/16, peered with app; a subnet flow log (REJECT, CloudWatch Logs,
            failing to deliver: its log group does not exist)
    west    10.3.0.0/16 in us-west-2, peered with app across regions
    partner 10.9.0.0/16 in account 111111111111, peered with app across accounts
    other   10.50.0.0/16, unrelated (outside any scope on app)
    TGW     auto-accepts shared attachments; app and shared attached, both associated with
            the default route table (moto always does); shared propagates into it; static
            routes 192.168.0.0/16 -> app's attachment and 172.16.0.0/12 blackhole; a second
            route table nobody is associated with
    """

    app: str
    shared: str
    west: str
    partner: str
    other: str
    app_public: str
    app_private: str
    app_data: str
    shared_subnet: str
    other_subnet: str
    igw: str
    nat: str
    app_main_rtb: str
    public_rtb: str
    private_rtb: str
    edge_rtb: str
    s3_endpoint: str
    ssm_endpoint: str
    endpoint_service: str
    pcx_shared: str
    pcx_west: str
    pcx_partner: str
    app_flow_log: str
    shared_flow_log: str
    other_flow_log: str
    tgw: str
    tgw_rtb: str
    tgw_spare_rtb: str
    app_attachment: str
    shared_attachment: str
    corp_prefix_list: str
    unused_prefix_list: str
    s3_prefix_list: str
    app_ipv6: str
    app_public_ipv6: str


@pytest.fixture
def landscape(session: boto3.session.Session, ec2: Any) -> Landscape:
    s3 = session.client("s3", region_name=REGION)
    s3.create_bucket(Bucket="vpcwatch-flow-logs")
    elbv2 = session.client("elbv2", region_name=REGION)
    west_ec2 = session.client("ec2", region_name=PEER_REGION)
    partner_ec2 = client_for_account(session, PEER_ACCOUNT, REGION)

    app = ec2.create_vpc(CidrBlock="10.0.0.0/16", AmazonProvidedIpv6CidrBlock=True, TagSpecifications=tag("vpc", "app"))
    app_id = app["Vpc"]["VpcId"]
    ec2.associate_vpc_cidr_block(VpcId=app_id, CidrBlock="10.1.0.0/16")
    app_ipv6 = ec2.describe_vpcs(VpcIds=[app_id])["Vpcs"][0]["Ipv6CidrBlockAssociationSet"][0]["Ipv6CidrBlock"]
    app_public_ipv6 = app_ipv6.replace("::/56", "::/64")
    shared_id = ec2.create_vpc(CidrBlock="10.2.0.0/16", TagSpecifications=tag("vpc", "shared"))["Vpc"]["VpcId"]
    other_id = ec2.create_vpc(CidrBlock="10.50.0.0/16", TagSpecifications=tag("vpc", "other"))["Vpc"]["VpcId"]
    west_id = west_ec2.create_vpc(CidrBlock="10.3.0.0/16")["Vpc"]["VpcId"]
    partner_id = partner_ec2.create_vpc(CidrBlock="10.9.0.0/16")["Vpc"]["VpcId"]

    def subnet(vpc: str, cidr: str, name: str, **extra: Any) -> str:
        created = ec2.create_subnet(
            VpcId=vpc, CidrBlock=cidr, AvailabilityZone="us-east-1a", TagSpecifications=tag("subnet", name), **extra
        )
        return str(created["Subnet"]["SubnetId"])

    app_public = subnet(app_id, "10.0.0.0/24", "app-public", Ipv6CidrBlock=app_public_ipv6)
    app_private = subnet(app_id, "10.0.1.0/24", "app-private")
    app_data = subnet(app_id, "10.1.0.0/24", "app-data")
    shared_subnet = subnet(shared_id, "10.2.0.0/24", "shared")
    other_subnet = subnet(other_id, "10.50.0.0/24", "other")

    igw = ec2.create_internet_gateway()["InternetGateway"]["InternetGatewayId"]
    ec2.attach_internet_gateway(InternetGatewayId=igw, VpcId=app_id)
    allocation = ec2.allocate_address(Domain="vpc")["AllocationId"]
    nat = ec2.create_nat_gateway(SubnetId=app_public, AllocationId=allocation)["NatGateway"]["NatGatewayId"]

    app_main_rtb = main_route_table(ec2, app_id)
    ec2.create_tags(Resources=[app_main_rtb], Tags=[{"Key": "Name", "Value": "app-main"}])

    def route_table(name: str, subnet_id: str | None = None, gateway_id: str | None = None) -> str:
        rtb = ec2.create_route_table(VpcId=app_id, TagSpecifications=tag("route-table", name))["RouteTable"]
        rtb_id = str(rtb["RouteTableId"])
        if subnet_id:
            ec2.associate_route_table(RouteTableId=rtb_id, SubnetId=subnet_id)
        if gateway_id:
            ec2.associate_route_table(RouteTableId=rtb_id, GatewayId=gateway_id)
        return rtb_id

    public_rtb = route_table("app-public", subnet_id=app_public)
    ec2.create_route(RouteTableId=public_rtb, DestinationCidrBlock="0.0.0.0/0", GatewayId=igw)
    ec2.create_route(RouteTableId=public_rtb, DestinationIpv6CidrBlock="::/0", GatewayId=igw)
    private_rtb = route_table("app-private", subnet_id=app_private)
    edge_rtb = route_table("app-edge", gateway_id=igw)

    # Peerings: same region, across regions, across accounts.
    pcx_shared = ec2.create_vpc_peering_connection(VpcId=app_id, PeerVpcId=shared_id)["VpcPeeringConnection"]
    ec2.accept_vpc_peering_connection(VpcPeeringConnectionId=pcx_shared["VpcPeeringConnectionId"])
    pcx_west = ec2.create_vpc_peering_connection(VpcId=app_id, PeerVpcId=west_id, PeerRegion=PEER_REGION)
    pcx_west_id = pcx_west["VpcPeeringConnection"]["VpcPeeringConnectionId"]
    west_ec2.accept_vpc_peering_connection(VpcPeeringConnectionId=pcx_west_id)
    pcx_partner = ec2.create_vpc_peering_connection(VpcId=app_id, PeerVpcId=partner_id, PeerOwnerId=PEER_ACCOUNT)
    pcx_partner_id = pcx_partner["VpcPeeringConnection"]["VpcPeeringConnectionId"]
    partner_ec2.accept_vpc_peering_connection(VpcPeeringConnectionId=pcx_partner_id)

    # Transit gateway, its attachments, route tables, propagations, static routes.
    tgw = ec2.create_transit_gateway(Options={"AutoAcceptSharedAttachments": "enable"})["TransitGateway"]
    tgw_id = tgw["TransitGatewayId"]
    tgw_rtb = tgw["Options"]["AssociationDefaultRouteTableId"]
    app_attachment = ec2.create_transit_gateway_vpc_attachment(
        TransitGatewayId=tgw_id, VpcId=app_id, SubnetIds=[app_private]
    )["TransitGatewayVpcAttachment"]["TransitGatewayAttachmentId"]
    shared_attachment = ec2.create_transit_gateway_vpc_attachment(
        TransitGatewayId=tgw_id, VpcId=shared_id, SubnetIds=[shared_subnet]
    )["TransitGatewayVpcAttachment"]["TransitGatewayAttachmentId"]
    ec2.enable_transit_gateway_route_table_propagation(
        TransitGatewayRouteTableId=tgw_rtb, TransitGatewayAttachmentId=shared_attachment
    )
    ec2.create_transit_gateway_route(
        DestinationCidrBlock="192.168.0.0/16",
        TransitGatewayRouteTableId=tgw_rtb,
        TransitGatewayAttachmentId=app_attachment,
    )
    ec2.create_transit_gateway_route(
        DestinationCidrBlock="172.16.0.0/12", TransitGatewayRouteTableId=tgw_rtb, Blackhole=True
    )
    spare = ec2.create_transit_gateway_route_table(TransitGatewayId=tgw_id)["TransitGatewayRouteTable"]
    tgw_spare_rtb = spare["TransitGatewayRouteTableId"]
    ec2.create_transit_gateway_route(
        DestinationCidrBlock="10.99.0.0/16",
        TransitGatewayRouteTableId=tgw_spare_rtb,
        TransitGatewayAttachmentId=app_attachment,
    )

    # Prefix lists: one customer list routed to the TGW, one nobody uses.
    corp = ec2.create_managed_prefix_list(
        PrefixListName="corp",
        MaxEntries=5,
        AddressFamily="IPv4",
        Entries=[{"Cidr": "192.168.10.0/24"}, {"Cidr": "192.168.11.0/24"}],
    )["PrefixList"]["PrefixListId"]
    unused = ec2.create_managed_prefix_list(
        PrefixListName="unused", MaxEntries=5, AddressFamily="IPv4", Entries=[{"Cidr": "198.51.100.0/24"}]
    )["PrefixList"]["PrefixListId"]

    ec2.create_route(RouteTableId=private_rtb, DestinationCidrBlock="0.0.0.0/0", NatGatewayId=nat)
    ec2.create_route(
        RouteTableId=private_rtb,
        DestinationCidrBlock="10.2.0.0/16",
        VpcPeeringConnectionId=pcx_shared["VpcPeeringConnectionId"],
    )
    ec2.create_route(RouteTableId=private_rtb, DestinationCidrBlock="10.3.0.0/16", VpcPeeringConnectionId=pcx_west_id)
    ec2.create_route(RouteTableId=private_rtb, DestinationCidrBlock="10.20.0.0/16", TransitGatewayId=tgw_id)
    ec2.create_route(RouteTableId=private_rtb, DestinationPrefixListId=corp, TransitGatewayId=tgw_id)

    # Endpoints: S3 gateway on the private table, SSM interface without private DNS.
    s3_endpoint = ec2.create_vpc_endpoint(
        VpcId=app_id, ServiceName=f"com.amazonaws.{REGION}.s3", VpcEndpointType="Gateway", RouteTableIds=[private_rtb]
    )["VpcEndpoint"]["VpcEndpointId"]
    ssm_endpoint = ec2.create_vpc_endpoint(
        VpcId=app_id,
        ServiceName=f"com.amazonaws.{REGION}.ssm",
        VpcEndpointType="Interface",
        SubnetIds=[app_private],
        PrivateDnsEnabled=False,
    )["VpcEndpoint"]["VpcEndpointId"]
    s3_prefix_list = ec2.describe_managed_prefix_lists(
        Filters=[{"Name": "prefix-list-name", "Values": [f"com.amazonaws.{REGION}.s3"]}]
    )["PrefixLists"][0]["PrefixListId"]

    # An own PrivateLink service, open to everyone and to one account.
    nlb = elbv2.create_load_balancer(Name="app-nlb", Subnets=[app_private], Type="network", Scheme="internal")
    service = ec2.create_vpc_endpoint_service_configuration(
        NetworkLoadBalancerArns=[nlb["LoadBalancers"][0]["LoadBalancerArn"]], AcceptanceRequired=False
    )["ServiceConfiguration"]["ServiceId"]
    ec2.modify_vpc_endpoint_service_permissions(
        ServiceId=service, AddAllowedPrincipals=["*", "arn:aws:iam::111122223333:root"]
    )

    # Flow logs: app at VPC level (delivering), shared at subnet level (failing), other.
    app_flow_log = ec2.create_flow_logs(
        ResourceIds=[app_id],
        ResourceType="VPC",
        TrafficType="ALL",
        LogDestinationType="s3",
        LogDestination="arn:aws:s3:::vpcwatch-flow-logs",
    )["FlowLogIds"][0]
    shared_flow_log = ec2.create_flow_logs(
        ResourceIds=[shared_subnet],
        ResourceType="Subnet",
        TrafficType="REJECT",
        LogGroupName="missing-log-group",
        DeliverLogsPermissionArn=f"arn:aws:iam::{ACCOUNT}:role/flow-logs",
    )["FlowLogIds"][0]
    other_flow_log = ec2.create_flow_logs(
        ResourceIds=[other_id],
        ResourceType="VPC",
        TrafficType="ALL",
        LogDestinationType="s3",
        LogDestination="arn:aws:s3:::vpcwatch-flow-logs",
    )["FlowLogIds"][0]

    return Landscape(
        app=app_id,
        shared=shared_id,
        west=west_id,
        partner=partner_id,
        other=other_id,
        app_public=app_public,
        app_private=app_private,
        app_data=app_data,
        shared_subnet=shared_subnet,
        other_subnet=other_subnet,
        igw=igw,
        nat=nat,
        app_main_rtb=app_main_rtb,
        public_rtb=public_rtb,
        private_rtb=private_rtb,
        edge_rtb=edge_rtb,
        s3_endpoint=s3_endpoint,
        ssm_endpoint=ssm_endpoint,
        endpoint_service=service,
        pcx_shared=pcx_shared["VpcPeeringConnectionId"],
        pcx_west=pcx_west_id,
        pcx_partner=pcx_partner_id,
        app_flow_log=app_flow_log,
        shared_flow_log=shared_flow_log,
        other_flow_log=other_flow_log,
        tgw=tgw_id,
        tgw_rtb=tgw_rtb,
        tgw_spare_rtb=tgw_spare_rtb,
        app_attachment=app_attachment,
        shared_attachment=shared_attachment,
        corp_prefix_list=corp,
        unused_prefix_list=unused,
        s3_prefix_list=s3_prefix_list,
        app_ipv6=app_ipv6,
        app_public_ipv6=app_public_ipv6,
    )
