"""What one change event costs in AWS requests, by service and operation: the landscape and
the meter the event benchmark (``bench_event``) and the request-count tests share. Run
inside moto (``mock_aws``); nothing here is timed.

The landscape is one VPC with an internet gateway and ``tables`` private route tables, each
routing one subnet of its own, none with a gateway endpoint: under a policy that requires
the S3 gateway endpoint only, each table has one ``private-subnet-gateway-endpoints``
finding, and one S3 gateway endpoint created on all of them resolves ``tables`` findings
with one CloudTrail event (CreateVpcEndpoint). A second VPC is peered with it and routed
to from every table, as a spoke's tables are. The route change of the issue (a default
route to the internet gateway, which makes a table public: both its findings, S3 and
DynamoDB, resolve) is the other event."""

from __future__ import annotations

import threading
from collections import Counter
from dataclasses import dataclass
from typing import Any

import boto3

ACCOUNT = "123456789012"  # moto's default account
NS = "http://ec2.amazonaws.com/doc/2016-11-15/"


@dataclass(frozen=True)
class Spoke:
    region: str
    vpc: str
    peer_vpc: str
    igw: str
    peering: str
    route_tables: tuple[str, ...]


def build_spoke(ec2: Any, region: str, tables: int) -> Spoke:
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    peer = ec2.create_vpc(CidrBlock="10.1.0.0/16")["Vpc"]["VpcId"]
    ec2.create_subnet(VpcId=peer, CidrBlock="10.1.0.0/24", AvailabilityZone=f"{region}a")
    igw = ec2.create_internet_gateway()["InternetGateway"]["InternetGatewayId"]
    ec2.attach_internet_gateway(InternetGatewayId=igw, VpcId=vpc)
    pcx = ec2.create_vpc_peering_connection(VpcId=vpc, PeerVpcId=peer)["VpcPeeringConnection"]["VpcPeeringConnectionId"]
    ec2.accept_vpc_peering_connection(VpcPeeringConnectionId=pcx)
    route_tables = []
    for n in range(tables):
        subnet = ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.0.{n}.0/24", AvailabilityZone=f"{region}a")
        rtb = ec2.create_route_table(VpcId=vpc)["RouteTable"]["RouteTableId"]
        ec2.associate_route_table(RouteTableId=rtb, SubnetId=subnet["Subnet"]["SubnetId"])
        ec2.create_route(RouteTableId=rtb, DestinationCidrBlock="10.1.0.0/16", VpcPeeringConnectionId=pcx)
        route_tables.append(rtb)
    return Spoke(region, vpc, peer, igw, pcx, tuple(route_tables))


def event(name: str, request: dict[str, Any], response: dict[str, Any], region: str, event_id: str) -> dict[str, Any]:
    from vpcwatch_tools.lab import cloudtrail_event

    return cloudtrail_event(name, request, response, account_id=ACCOUNT, region=region, event_id=event_id)


def create_s3_endpoint(ec2: Any, spoke: Spoke, event_id: str) -> tuple[str, dict[str, Any]]:
    """An S3 gateway endpoint on every table of the spoke, and its CloudTrail event."""
    service = f"com.amazonaws.{spoke.region}.s3"
    created = ec2.create_vpc_endpoint(
        VpcEndpointType="Gateway", VpcId=spoke.vpc, ServiceName=service, RouteTableIds=list(spoke.route_tables)
    )["VpcEndpoint"]
    tables = [{"tag": n + 1, "content": rtb} for n, rtb in enumerate(spoke.route_tables)]
    request = {
        "CreateVpcEndpointRequest": {
            "VpcId": spoke.vpc,
            "ServiceName": service,
            "RouteTableId": tables[0] if len(tables) == 1 else tables,
            "VpcEndpointType": "Gateway",
        }
    }
    response = {
        "CreateVpcEndpointResponse": {
            "xmlns": NS,
            "requestId": f"req-{event_id}",
            "vpcEndpoint": {
                "vpcEndpointId": created["VpcEndpointId"],
                "vpcEndpointType": "Gateway",
                "vpcId": spoke.vpc,
                "serviceName": service,
                "state": "available",
                "routeTableIdSet": {"item": list(spoke.route_tables)},
                "subnetIdSet": "",
                "groupSet": "",
            },
        }
    }
    return created["VpcEndpointId"], event("CreateVpcEndpoint", request, response, spoke.region, event_id)


def delete_endpoint(ec2: Any, spoke: Spoke, endpoint: str, event_id: str) -> dict[str, Any]:
    ec2.delete_vpc_endpoints(VpcEndpointIds=[endpoint])
    request = {"DeleteVpcEndpointsRequest": {"VpcEndpointId": {"tag": 1, "content": endpoint}}}
    return event(
        "DeleteVpcEndpoints", request, {"DeleteVpcEndpointsResponse": {"unsuccessful": ""}}, spoke.region, event_id
    )


def route_to_internet(ec2: Any, spoke: Spoke, table: str, event_id: str) -> dict[str, Any]:
    """A default route to the internet gateway on ``table`` (it turns public), and its event."""
    ec2.create_route(RouteTableId=table, DestinationCidrBlock="0.0.0.0/0", GatewayId=spoke.igw)
    request = {"routeTableId": table, "destinationCidrBlock": "0.0.0.0/0", "gatewayId": spoke.igw}
    return event("CreateRoute", request, {"requestId": f"req-{event_id}", "_return": True}, spoke.region, event_id)


class Meter:
    """Counts every request made through the sessions it is attached to, by service and
    operation (one per operation invocation, so one per page)."""

    WRITES = frozenset({"PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem", "TransactWriteItems"})

    def __init__(self) -> None:
        self.requests: Counter[tuple[str, str]] = Counter()
        self._lock = threading.Lock()

    def attach(self, session: boto3.session.Session) -> None:
        session.events.register("before-call", self._count)

    def hook(self, account: str, session: boto3.session.Session) -> None:
        self.attach(session)

    def _count(self, model: Any, **kwargs: Any) -> None:
        with self._lock:
            self.requests[model.service_model.service_name, model.name] += 1

    def take(self) -> Counter[tuple[str, str]]:
        with self._lock:
            taken, self.requests = self.requests, Counter()
        return taken


def by_service(requests: Counter[tuple[str, str]]) -> Counter[str]:
    counted: Counter[str] = Counter()
    for (service, _), n in requests.items():
        counted[service] += n
    return counted


def dynamodb_writes(requests: Counter[tuple[str, str]]) -> int:
    return sum(n for (service, op), n in requests.items() if service == "dynamodb" and op in Meter.WRITES)
