"""A landscape of N VPCs built through the EC2 API (for the collection benchmarks): each
VPC has two subnets, a private route table, and in turn a peering to its neighbour with
a route, an S3 gateway endpoint, an interface endpoint, a flow log, a TGW attachment.

The transit gateway has ``tgw_tables`` route tables: its default table, with which every
attachment is associated (as it is created: the gateway's default association), and
``tgw_tables - 1`` segment tables, each carrying the propagations of every
``tgw_tables - 1``-th attachment and a static default route to the first attachment (an
inspection VPC). Associations stay the default ones: moto (5.2) reports every attachment's
``Association`` as the default table whatever it was associated with."""

from __future__ import annotations

from typing import Any


def build_landscape(ec2: Any, region: str, vpcs: int, tgw_tables: int = 1) -> list[str]:
    tgw = ec2.create_transit_gateway(
        Description="bench",
        Options={"DefaultRouteTableAssociation": "enable", "DefaultRouteTablePropagation": "disable"},
    )["TransitGateway"]["TransitGatewayId"]
    segments = [
        ec2.create_transit_gateway_route_table(TransitGatewayId=tgw)["TransitGatewayRouteTable"][
            "TransitGatewayRouteTableId"
        ]
        for _ in range(tgw_tables - 1)
    ]
    vpc_ids: list[str] = []
    attachments: list[str] = []
    for i in range(vpcs):
        second, third = divmod(i, 250)
        vpc = ec2.create_vpc(CidrBlock=f"10.{second}.{third}.0/24")["Vpc"]["VpcId"]
        ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.{second}.{third}.0/25", AvailabilityZone=f"{region}a")
        private = ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.{second}.{third}.128/25", AvailabilityZone=f"{region}b")
        private_id = private["Subnet"]["SubnetId"]
        rtb = ec2.create_route_table(VpcId=vpc)["RouteTable"]["RouteTableId"]
        ec2.associate_route_table(RouteTableId=rtb, SubnetId=private_id)
        if i % 2 == 1:
            pcx = ec2.create_vpc_peering_connection(VpcId=vpc, PeerVpcId=vpc_ids[-1])["VpcPeeringConnection"][
                "VpcPeeringConnectionId"
            ]
            ec2.accept_vpc_peering_connection(VpcPeeringConnectionId=pcx)
            ec2.create_route(RouteTableId=rtb, DestinationCidrBlock="10.255.0.0/16", VpcPeeringConnectionId=pcx)
            ec2.create_flow_logs(
                ResourceIds=[vpc],
                ResourceType="VPC",
                TrafficType="ALL",
                LogDestinationType="s3",
                LogDestination="arn:aws:s3:::bench-flow-logs",
            )
        if i % 2 == 0:
            ec2.create_vpc_endpoint(
                VpcEndpointType="Gateway", VpcId=vpc, ServiceName=f"com.amazonaws.{region}.s3", RouteTableIds=[rtb]
            )
        if i % 5 == 0:
            ec2.create_vpc_endpoint(
                VpcEndpointType="Interface",
                VpcId=vpc,
                ServiceName=f"com.amazonaws.{region}.ssm",
                SubnetIds=[private_id],
                PrivateDnsEnabled=i % 10 == 0,
            )
        if i % 4 == 0:
            attachment = ec2.create_transit_gateway_vpc_attachment(
                TransitGatewayId=tgw, VpcId=vpc, SubnetIds=[private_id]
            )["TransitGatewayVpcAttachment"]["TransitGatewayAttachmentId"]
            if segments:
                ec2.enable_transit_gateway_route_table_propagation(
                    TransitGatewayRouteTableId=segments[len(attachments) % len(segments)],
                    TransitGatewayAttachmentId=attachment,
                )
            attachments.append(attachment)
        vpc_ids.append(vpc)
    for table in segments:
        if attachments:
            ec2.create_transit_gateway_route(
                DestinationCidrBlock="0.0.0.0/0",
                TransitGatewayRouteTableId=table,
                TransitGatewayAttachmentId=attachments[0],
            )
    return vpc_ids
