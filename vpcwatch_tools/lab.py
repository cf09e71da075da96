"""The classic lab landscape (SPEC §6), built through the EC2 API of any endpoint (the
embedded emulator in the demo, a moto server in the end-to-end tests).

  app     10.0.0.0/16  flow logs on; a public subnet, and a private subnet whose route
                       table has no internet or NAT gateway and no S3 gateway endpoint
  hub     10.1.0.0/16  shared services: peered with app and with legacy, no flow logs;
                       routes all of 10.0.0.0/8 to the app peering (broader than app)
  legacy  10.0.0.0/16  overlaps app; peered with hub, no flow logs
  TGW     app and legacy attached, both associated with and propagating into one route
          table, which so carries 10.0.0.0/16 twice
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Lab:
    region: str
    app_vpc: str
    hub_vpc: str
    legacy_vpc: str
    app_public_subnet: str
    app_private_subnet: str
    app_private_rtb: str
    hub_main_rtb: str
    legacy_main_rtb: str
    pcx_app_hub: str
    pcx_hub_legacy: str
    tgw: str
    tgw_rtb: str
    app_attachment: str
    legacy_attachment: str
    app_public_rtb: str = ""  # its replies to the hub go to the internet gateway (routes-return-path)


def _tags(resource_type: str, name: str) -> list[dict[str, Any]]:
    return [{"ResourceType": resource_type, "Tags": [{"Key": "Name", "Value": name}]}]


def _vpc(ec2: Any, cidr: str, name: str) -> str:
    return str(ec2.create_vpc(CidrBlock=cidr, TagSpecifications=_tags("vpc", name))["Vpc"]["VpcId"])


def _subnet(ec2: Any, vpc: str, cidr: str, az: str, name: str) -> str:
    response = ec2.create_subnet(
        VpcId=vpc, CidrBlock=cidr, AvailabilityZone=az, TagSpecifications=_tags("subnet", name)
    )
    return str(response["Subnet"]["SubnetId"])


def _route_table(ec2: Any, vpc: str, name: str, subnet: str) -> str:
    rtb = str(
        ec2.create_route_table(VpcId=vpc, TagSpecifications=_tags("route-table", name))["RouteTable"]["RouteTableId"]
    )
    ec2.associate_route_table(RouteTableId=rtb, SubnetId=subnet)
    return rtb


def _main_route_table(ec2: Any, vpc: str) -> str:
    tables = ec2.describe_route_tables(
        Filters=[{"Name": "vpc-id", "Values": [vpc]}, {"Name": "association.main", "Values": ["true"]}]
    )["RouteTables"]
    return str(tables[0]["RouteTableId"])


def _peer(ec2: Any, requester: str, accepter: str) -> str:
    pcx = ec2.create_vpc_peering_connection(VpcId=requester, PeerVpcId=accepter)["VpcPeeringConnection"]
    pcx_id = str(pcx["VpcPeeringConnectionId"])
    ec2.accept_vpc_peering_connection(VpcPeeringConnectionId=pcx_id)
    return pcx_id


def remove_default_vpc(ec2: Any) -> None:
    """The emulator, like a new account, starts with a default VPC; the lab leaves it out."""
    for vpc in ec2.describe_vpcs(Filters=[{"Name": "is-default", "Values": ["true"]}])["Vpcs"]:
        vpc_id = vpc["VpcId"]
        for subnet in ec2.describe_subnets(Filters=[{"Name": "vpc-id", "Values": [vpc_id]}])["Subnets"]:
            ec2.delete_subnet(SubnetId=subnet["SubnetId"])
        for igw in ec2.describe_internet_gateways(Filters=[{"Name": "attachment.vpc-id", "Values": [vpc_id]}])[
            "InternetGateways"
        ]:
            ec2.detach_internet_gateway(InternetGatewayId=igw["InternetGatewayId"], VpcId=vpc_id)
            ec2.delete_internet_gateway(InternetGatewayId=igw["InternetGatewayId"])
        ec2.delete_vpc(VpcId=vpc_id)


FLOW_LOG_BUCKET = "vpcwatch-lab-flow-logs"


def build_lab(ec2: Any, s3: Any, region: str) -> Lab:
    """Build the lab with ``ec2`` and ``s3`` clients of one region (S3 holds the flow logs)."""
    az = f"{region}a"
    app = _vpc(ec2, "10.0.0.0/16", "app")
    hub = _vpc(ec2, "10.1.0.0/16", "hub")
    legacy = _vpc(ec2, "10.0.0.0/16", "legacy")

    public = _subnet(ec2, app, "10.0.0.0/24", az, "app-public")
    private = _subnet(ec2, app, "10.0.1.0/24", az, "app-private")
    _subnet(ec2, hub, "10.1.0.0/24", az, "hub-a")
    legacy_subnet = _subnet(ec2, legacy, "10.0.0.0/24", az, "legacy-a")

    igw = ec2.create_internet_gateway()["InternetGateway"]["InternetGatewayId"]
    ec2.attach_internet_gateway(InternetGatewayId=igw, VpcId=app)
    public_rtb = _route_table(ec2, app, "app-public", public)
    ec2.create_route(RouteTableId=public_rtb, DestinationCidrBlock="0.0.0.0/0", GatewayId=igw)
    private_rtb = _route_table(ec2, app, "app-private", private)

    pcx_app_hub = _peer(ec2, app, hub)
    pcx_hub_legacy = _peer(ec2, hub, legacy)
    ec2.create_route(RouteTableId=private_rtb, DestinationCidrBlock="10.1.0.0/16", VpcPeeringConnectionId=pcx_app_hub)
    hub_main = _main_route_table(ec2, hub)
    ec2.create_route(RouteTableId=hub_main, DestinationCidrBlock="10.0.0.0/8", VpcPeeringConnectionId=pcx_app_hub)

    bucket_config = {} if region == "us-east-1" else {"CreateBucketConfiguration": {"LocationConstraint": region}}
    s3.create_bucket(Bucket=FLOW_LOG_BUCKET, **bucket_config)
    ec2.create_flow_logs(
        ResourceIds=[app],
        ResourceType="VPC",
        TrafficType="ALL",
        LogDestinationType="s3",
        LogDestination=f"arn:aws:s3:::{FLOW_LOG_BUCKET}",
    )

    # The attachments are associated with the gateway's default route table as they are
    # created (DefaultRouteTableAssociation) and propagate into it explicitly. An explicit
    # association with a table of their own would do as well on AWS, but moto (5.2) reports
    # every attachment's Association as the default table whatever it was associated with,
    # and vpcwatch reads associations from the attachments.
    gateway = ec2.create_transit_gateway(
        Description="lab hub",
        Options={"DefaultRouteTableAssociation": "enable", "DefaultRouteTablePropagation": "disable"},
    )["TransitGateway"]
    tgw = gateway["TransitGatewayId"]
    tgw_rtb = gateway["Options"]["AssociationDefaultRouteTableId"]
    attachments = []
    for vpc, subnet in ((app, private), (legacy, legacy_subnet)):
        attachment = ec2.create_transit_gateway_vpc_attachment(TransitGatewayId=tgw, VpcId=vpc, SubnetIds=[subnet])[
            "TransitGatewayVpcAttachment"
        ]["TransitGatewayAttachmentId"]
        ec2.enable_transit_gateway_route_table_propagation(
            TransitGatewayRouteTableId=tgw_rtb, TransitGatewayAttachmentId=attachment
        )
        attachments.append(attachment)

    return Lab(
        region=region,
        app_vpc=app,
        hub_vpc=hub,
        legacy_vpc=legacy,
        app_public_subnet=public,
        app_private_subnet=private,
        app_private_rtb=private_rtb,
        hub_main_rtb=hub_main,
        legacy_main_rtb=_main_route_table(ec2, legacy),
        pcx_app_hub=pcx_app_hub,
        pcx_hub_legacy=pcx_hub_legacy,
        tgw=tgw,
        tgw_rtb=tgw_rtb,
        app_attachment=attachments[0],
        legacy_attachment=attachments[1],
        app_public_rtb=public_rtb,
    )


def apply_fix(ec2: Any, lab: Lab) -> dict[str, Any]:
    """The lab's fix: an S3 gateway endpoint on the private route table. Returns the
    CreateVpcEndpoint response (the demo turns it into the CloudTrail event)."""
    response: dict[str, Any] = ec2.create_vpc_endpoint(
        VpcEndpointType="Gateway",
        VpcId=lab.app_vpc,
        ServiceName=f"com.amazonaws.{lab.region}.s3",
        RouteTableIds=[lab.app_private_rtb],
    )
    return response


def cloudtrail_event(
    event_name: str,
    request: dict[str, Any],
    response: dict[str, Any] | None,
    *,
    account_id: str,
    region: str,
    event_id: str,
    error_code: str | None = None,
) -> dict[str, Any]:
    """An EventBridge "AWS API Call via CloudTrail" event, shaped as AWS delivers it."""
    detail: dict[str, Any] = {
        "eventVersion": "1.09",
        "userIdentity": {
            "type": "AssumedRole",
            "principalId": "AROAEXAMPLE:lab",
            "arn": f"arn:aws:sts::{account_id}:assumed-role/lab/lab",
            "accountId": account_id,
        },
        "eventTime": "2026-11-26T03:00:00Z",
        "eventSource": "ec2.amazonaws.com",
        "eventName": event_name,
        "awsRegion": region,
        "sourceIPAddress": "198.51.100.7",
        "userAgent": "aws-cli/2.22.0",
        "requestParameters": request,
        "responseElements": response,
        "requestID": f"req-{event_id}",
        "eventID": event_id,
        "readOnly": False,
        "eventType": "AwsApiCall",
        "managementEvent": True,
        "recipientAccountId": account_id,
        "eventCategory": "Management",
    }
    if error_code:
        detail.update(errorCode=error_code, errorMessage="denied", responseElements=None)
    return {
        "version": "0",
        "id": f"envelope-{event_id}",
        "detail-type": "AWS API Call via CloudTrail",
        "source": "aws.ec2",
        "account": account_id,
        "time": "2026-11-26T03:00:01Z",
        "region": region,
        "resources": [],
        "detail": detail,
    }


def fix_event(lab: Lab, response: dict[str, Any], account_id: str, event_id: str) -> dict[str, Any]:
    """The CloudTrail event of ``apply_fix`` (CreateVpcEndpoint, in the wrapped style)."""
    endpoint = response["VpcEndpoint"]
    return cloudtrail_event(
        "CreateVpcEndpoint",
        {
            "CreateVpcEndpointRequest": {
                "VpcId": lab.app_vpc,
                "ServiceName": f"com.amazonaws.{lab.region}.s3",
                "RouteTableId": {"tag": 1, "content": lab.app_private_rtb},
                "VpcEndpointType": "Gateway",
            }
        },
        {
            "CreateVpcEndpointResponse": {
                "xmlns": "http://ec2.amazonaws.com/doc/2016-11-15/",
                "requestId": f"req-{event_id}",
                "vpcEndpoint": {
                    "vpcEndpointId": endpoint["VpcEndpointId"],
                    "vpcEndpointType": "Gateway",
                    "vpcId": lab.app_vpc,
                    "serviceName": f"com.amazonaws.{lab.region}.s3",
                    "state": "available",
                    "routeTableIdSet": {"item": lab.app_private_rtb},
                    "subnetIdSet": "",
                    "groupSet": "",
                    "privateDnsEnabled": False,
                    "requesterManaged": False,
                    "ownerId": account_id,
                },
            }
        },
        account_id=account_id,
        region=lab.region,
        event_id=event_id,
    )
