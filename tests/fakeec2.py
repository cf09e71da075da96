"""An in-memory EC2 region served through a real botocore client.

``World`` holds one account's resources in one region as EC2 describes them: raw
PascalCase dicts, exactly the shapes boto3 returns. ``WorldBuilder`` makes consistent
worlds (local routes from the VPC's CIDR blocks, peering descriptions from both VPCs,
TGW propagated routes and association lists from the attachments, gateway endpoint
routes), including VPCs of other regions and accounts that are visible only through the
peerings that describe them (and TGW attachments that name them).

``FakeEc2(world).client()`` is a real ``boto3`` EC2 client: parameters are validated by
botocore against the service model and serialised as usual, paginators run as usual, and
every handler registered on ``before-call`` (``CallCounter``) and ``before-parse``
(``UnsupportedDetector``) keeps working. Only the HTTP exchange is replaced:
``before-parameter-build.ec2.*`` stashes the API parameters in the request context and
``before-call.ec2.*`` answers from the world, short-circuiting the request.

The fake behaves like EC2 where the collector depends on it: ``MaxResults`` / ``NextToken``
pagination (a page may hold fewer items than asked for, as the API reference allows),
server-side ``Filters`` (several filters AND, several values OR, ``*`` and ``?``
wildcards), unknown ids in an id list answered with ``<Resource>.NotFound``, ``MaxResults``
outside the documented range answered with ``InvalidParameterValue``. Every answer is
checked against the operation's output shape (member names, types, enums). An operation,
parameter or filter the fake does not implement raises ``FakeEc2Unimplemented`` (an
``AssertionError``) and is recorded in ``FakeEc2.problems``: never an empty answer.
"""

from __future__ import annotations

import copy
import datetime as dt
import fnmatch
import hashlib
import ipaddress
import itertools
import json
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, NoReturn

import boto3
from botocore.awsrequest import AWSResponse
from botocore.compat import HTTPHeaders
from botocore.model import OperationModel, Shape
from botocore.validate import ParamValidator

ACCOUNT = "123456789012"
REGION = "us-east-1"
PEER_REGION = "us-west-2"
FOREIGN_ACCOUNT = "111111111111"
AWS_OWNER = "AWS"
CREATED = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)

# The AWS-managed prefix lists of the gateway endpoint services in us-east-1.
AWS_PREFIX_LISTS = {
    "s3": ("pl-63a5400a", ("54.231.0.0/16", "52.216.0.0/15", "3.5.0.0/19")),
    "dynamodb": ("pl-02cd2c6b", ("3.218.180.0/22", "52.94.0.0/22")),
}

Raw = dict[str, Any]
_PARAMS_KEY = "fakeec2.params"


class FakeEc2Unimplemented(AssertionError):
    """The collector asked for something this fake does not implement."""


# ---------------------------------------------------------------------------------
# The world: raw describe_* records
# ---------------------------------------------------------------------------------


@dataclass
class World:
    account_id: str = ACCOUNT
    region: str = REGION
    vpcs: list[Raw] = field(default_factory=list)
    subnets: list[Raw] = field(default_factory=list)
    route_tables: list[Raw] = field(default_factory=list)
    internet_gateways: list[Raw] = field(default_factory=list)
    nat_gateways: list[Raw] = field(default_factory=list)
    flow_logs: list[Raw] = field(default_factory=list)
    vpc_endpoints: list[Raw] = field(default_factory=list)
    endpoint_services: list[Raw] = field(default_factory=list)
    service_permissions: dict[str, list[Raw]] = field(default_factory=dict)
    peerings: list[Raw] = field(default_factory=list)
    transit_gateways: list[Raw] = field(default_factory=list)
    tgw_attachments: list[Raw] = field(default_factory=list)
    tgw_route_tables: list[Raw] = field(default_factory=list)
    tgw_routes: dict[str, list[Raw]] = field(default_factory=dict)
    tgw_propagations: dict[str, list[Raw]] = field(default_factory=dict)
    tgw_associations: dict[str, list[Raw]] = field(default_factory=dict)
    client_vpn_endpoints: list[Raw] = field(default_factory=list)
    client_vpn_rules: dict[str, list[Raw]] = field(default_factory=dict)
    prefix_lists: list[Raw] = field(default_factory=list)
    prefix_list_entries: dict[str, list[Raw]] = field(default_factory=dict)
    # Read by the path engine only.
    network_acls: list[Raw] = field(default_factory=list)
    egress_only_internet_gateways: list[Raw] = field(default_factory=list)
    vpn_gateways: list[Raw] = field(default_factory=list)
    tgw_peering_attachments: list[Raw] = field(default_factory=list)

    @property
    def vpc_ids(self) -> list[str]:
        return [str(v["VpcId"]) for v in self.vpcs]

    def describe(self) -> str:
        """A compact, readable listing of the world (for failure messages)."""
        return describe_world(self)


def _state(state: str) -> dict[str, str]:
    return {"State": state}


def _tags(tags: Mapping[str, str] | None) -> list[dict[str, str]]:
    return [{"Key": k, "Value": v} for k, v in (tags or {}).items()]


def _is_ipv6(cidr: str) -> bool:
    return ":" in cidr


@dataclass
class _ExternalVpc:
    vpc_id: str
    owner_id: str
    region: str
    cidrs: tuple[str, ...]


class WorldBuilder:
    """Builds a consistent ``World``. Ids are short legacy-style (``vpc-0000000a``) and
    deterministic: the n-th resource of a kind gets n."""

    def __init__(self, account_id: str = ACCOUNT, region: str = REGION) -> None:
        self.world = World(account_id=account_id, region=region)
        self._counters: dict[str, itertools.count[int]] = defaultdict(lambda: itertools.count(1))
        self._by_id: dict[str, Raw] = {}
        self._external: dict[str, _ExternalVpc] = {}
        self._peerings: list[tuple[Raw, str, str]] = []  # (raw, requester vpc, accepter vpc)
        self._static_tgw_routes: dict[str, list[Raw]] = defaultdict(list)
        self._advertised: dict[str, tuple[str, ...]] = {}  # vpn / dx attachment -> BGP prefixes

    # -- ids ---------------------------------------------------------------------
    def new_id(self, prefix: str, base: int = 0) -> str:
        return f"{prefix}-{base + next(self._counters[prefix]):08x}"

    def raw(self, resource_id: str) -> Raw:
        return self._by_id[resource_id]

    def tag(self, resource_id: str, key: str, value: str) -> None:
        tags = self._by_id[resource_id].setdefault("Tags", [])
        tags[:] = [t for t in tags if t["Key"] != key] + [{"Key": key, "Value": value}]

    # -- VPCs ----------------------------------------------------------------------
    def vpc(
        self,
        cidr: str,
        *,
        secondary: Sequence[tuple[str, str]] = (),
        ipv6: Sequence[tuple[str, str]] = (),
        tags: Mapping[str, str] | None = None,
    ) -> str:
        """A VPC of the account; ``secondary`` / ``ipv6``: (CIDR, association state)."""
        vpc_id = self.new_id("vpc")
        assoc = [
            {"AssociationId": self.new_id("vpc-cidr-assoc"), "CidrBlock": c, "CidrBlockState": _state(s)}
            for c, s in [(cidr, "associated"), *secondary]
        ]
        raw: Raw = {
            "OwnerId": self.world.account_id,
            "InstanceTenancy": "default",
            "CidrBlockAssociationSet": assoc,
            "IsDefault": False,
            "VpcId": vpc_id,
            "State": "available",
            "CidrBlock": cidr,
            "DhcpOptionsId": "dopt-00000001",
        }
        if ipv6:
            raw["Ipv6CidrBlockAssociationSet"] = [
                {
                    "AssociationId": self.new_id("vpc-cidr-assoc"),
                    "Ipv6CidrBlock": c,
                    "Ipv6CidrBlockState": _state(s),
                    "NetworkBorderGroup": self.world.region,
                    "Ipv6Pool": "Amazon",
                }
                for c, s in ipv6
            ]
        if tags:
            raw["Tags"] = _tags(tags)
        self.world.vpcs.append(raw)
        self._by_id[vpc_id] = raw
        return vpc_id

    def external_vpc(self, cidrs: Sequence[str], *, region: str | None = None, owner: str | None = None) -> str:
        """A VPC of another region or account: visible only through peerings and TGW attachments."""
        vpc_id = self.new_id("vpc", base=0xE000)
        self._external[vpc_id] = _ExternalVpc(
            vpc_id, owner or self.world.account_id, region or self.world.region, tuple(cidrs)
        )
        return vpc_id

    def vpc_cidrs(self, vpc_id: str, states: Iterable[str] = ("associated",)) -> list[str]:
        """The CIDR blocks of a VPC (IPv4 then IPv6) whose association is in ``states``."""
        if vpc_id in self._external:
            return list(self._external[vpc_id].cidrs)
        raw = self._by_id[vpc_id]
        wanted = set(states)
        v4 = [a["CidrBlock"] for a in raw["CidrBlockAssociationSet"] if a["CidrBlockState"]["State"] in wanted]
        v6 = [
            a["Ipv6CidrBlock"]
            for a in raw.get("Ipv6CidrBlockAssociationSet", [])
            if a["Ipv6CidrBlockState"]["State"] in wanted
        ]
        return v4 + v6

    def subnet(
        self, vpc_id: str, cidr: str, *, ipv6: str | None = None, zone: str = "a", tags: Mapping[str, str] | None = None
    ) -> str:
        subnet_id = self.new_id("subnet")
        raw: Raw = {
            "AvailabilityZoneId": f"use1-az{ord(zone) - 96}",
            "OwnerId": self.world.account_id,
            "AssignIpv6AddressOnCreation": False,
            "Ipv6CidrBlockAssociationSet": [],
            "SubnetArn": f"arn:aws:ec2:{self.world.region}:{self.world.account_id}:subnet/{subnet_id}",
            "EnableDns64": False,
            "Ipv6Native": False,
            "SubnetId": subnet_id,
            "State": "available",
            "VpcId": vpc_id,
            "CidrBlock": cidr,
            "AvailableIpAddressCount": max(0, ipaddress.ip_network(cidr).num_addresses - 5),
            "AvailabilityZone": f"{self.world.region}{zone}",
            "DefaultForAz": False,
            "MapPublicIpOnLaunch": False,
        }
        if ipv6:
            raw["Ipv6CidrBlockAssociationSet"] = [
                {
                    "AssociationId": self.new_id("subnet-cidr-assoc"),
                    "Ipv6CidrBlock": ipv6,
                    "Ipv6CidrBlockState": _state("associated"),
                }
            ]
        if tags:
            raw["Tags"] = _tags(tags)
        self.world.subnets.append(raw)
        self._by_id[subnet_id] = raw
        return subnet_id

    # -- route tables ----------------------------------------------------------------
    def route_table(self, vpc_id: str, *, main: bool = False, tags: Mapping[str, str] | None = None) -> str:
        """A route table with the VPC's local routes (one per associated CIDR block)."""
        table_id = self.new_id("rtb")
        routes = []
        for cidr in self.vpc_cidrs(vpc_id):
            key = "DestinationIpv6CidrBlock" if _is_ipv6(cidr) else "DestinationCidrBlock"
            routes.append({key: cidr, "GatewayId": "local", "Origin": "CreateRouteTable", "State": "active"})
        raw: Raw = {
            "Associations": [],
            "PropagatingVgws": [],
            "RouteTableId": table_id,
            "Routes": routes,
            "Tags": _tags(tags),
            "VpcId": vpc_id,
            "OwnerId": self.world.account_id,
        }
        if main:
            raw["Associations"].append(
                {
                    "Main": True,
                    "RouteTableAssociationId": self.new_id("rtbassoc"),
                    "RouteTableId": table_id,
                    "AssociationState": _state("associated"),
                }
            )
        self.world.route_tables.append(raw)
        self._by_id[table_id] = raw
        return table_id

    def associate(self, table_id: str, subnet_id: str, *, state: str = "associated") -> None:
        self._by_id[table_id]["Associations"].append(
            {
                "Main": False,
                "RouteTableAssociationId": self.new_id("rtbassoc"),
                "RouteTableId": table_id,
                "SubnetId": subnet_id,
                "AssociationState": _state(state),
            }
        )

    def route(
        self, table_id: str, destination: str, target: str, *, state: str = "active", origin: str = "CreateRoute"
    ) -> bool:
        """Adds a route; False (nothing added) when the table already has that destination,
        as EC2 refuses a second route to one destination (RouteAlreadyExists)."""
        if destination.startswith("pl-"):
            key = "DestinationPrefixListId"
        elif _is_ipv6(destination):
            key = "DestinationIpv6CidrBlock"
        else:
            key = "DestinationCidrBlock"
        routes = self._by_id[table_id]["Routes"]
        if any(r.get(key) == destination for r in routes):
            return False
        route: Raw = {key: destination, "Origin": origin, "State": state}
        route[_target_field(target)] = target
        routes.append(route)
        if origin == "EnableVgwRoutePropagation":
            vgws = self._by_id[table_id]["PropagatingVgws"]
            if {"GatewayId": target} not in vgws:
                vgws.append({"GatewayId": target})
        return True

    # -- gateways ----------------------------------------------------------------------
    def internet_gateway(self, vpc_id: str | None) -> str:
        gateway_id = self.new_id("igw")
        # EC2 reports an attached internet gateway's attachment as "available" (not "attached").
        raw: Raw = {
            "Attachments": [{"State": "available", "VpcId": vpc_id}] if vpc_id else [],
            "InternetGatewayId": gateway_id,
            "OwnerId": self.world.account_id,
            "Tags": [],
        }
        self.world.internet_gateways.append(raw)
        self._by_id[gateway_id] = raw
        return gateway_id

    def nat_gateway(self, subnet_id: str, *, state: str = "available", connectivity: str = "public") -> str:
        nat_id = "nat-" + f"{next(self._counters['nat']):017x}"
        subnet = self._by_id[subnet_id]
        raw: Raw = {
            "CreateTime": CREATED,
            "NatGatewayAddresses": [],
            "NatGatewayId": nat_id,
            "State": state,
            "SubnetId": subnet_id,
            "VpcId": subnet["VpcId"],
            "Tags": [],
            "ConnectivityType": connectivity,
        }
        if state in ("deleting", "deleted"):
            raw["DeleteTime"] = CREATED
        if state == "failed":
            raw["FailureCode"] = "Gateway.NotAttached"
            raw["FailureMessage"] = "Network vpc is not attached to any internet gateway"
        self.world.nat_gateways.append(raw)
        self._by_id[nat_id] = raw
        return nat_id

    # -- flow logs -------------------------------------------------------------------------
    def flow_log(
        self,
        resource_id: str,
        *,
        traffic_type: str = "ALL",
        deliver_status: str = "SUCCESS",
        error: str | None = None,
        tags: Mapping[str, str] | None = None,
    ) -> str:
        log_id = self.new_id("fl")
        raw: Raw = {
            "CreationTime": CREATED,
            "DeliverLogsStatus": deliver_status,
            "FlowLogId": log_id,
            "FlowLogStatus": "ACTIVE",
            "ResourceId": resource_id,
            "TrafficType": traffic_type,
            "LogDestinationType": "s3",
            "LogDestination": "arn:aws:s3:::flow-logs-bucket",
            "LogFormat": "${version} ${account-id} ${interface-id} ${srcaddr} ${dstaddr} ${action}",
            "Tags": _tags(tags),
            "MaxAggregationInterval": 600,
        }
        if error is not None:
            raw["DeliverLogsErrorMessage"] = error
        self.world.flow_logs.append(raw)
        self._by_id[log_id] = raw
        return log_id

    # -- endpoints -------------------------------------------------------------------------
    def gateway_endpoint(
        self, vpc_id: str, service: str, *, state: str = "Available", route_table_ids: Sequence[str] = ()
    ) -> str:
        """A gateway endpoint (``service`` s3 or dynamodb) and its prefix-list route in each
        of its route tables."""
        endpoint_id = self.new_id("vpce")
        raw: Raw = {
            "VpcEndpointId": endpoint_id,
            "VpcEndpointType": "Gateway",
            "VpcId": vpc_id,
            "ServiceName": f"com.amazonaws.{self.world.region}.{service}",
            "State": state,
            "PolicyDocument": '{"Version":"2008-10-17","Statement":[{"Effect":"Allow","Principal":"*",'
            '"Action":"*","Resource":"*"}]}',
            "RouteTableIds": list(route_table_ids),
            "SubnetIds": [],
            "Groups": [],
            "IpAddressType": "ipv4",
            "PrivateDnsEnabled": False,
            "RequesterManaged": False,
            "NetworkInterfaceIds": [],
            "DnsEntries": [],
            "CreationTimestamp": CREATED,
            "Tags": [],
            "OwnerId": self.world.account_id,
        }
        self.world.vpc_endpoints.append(raw)
        self._by_id[endpoint_id] = raw
        prefix_list = AWS_PREFIX_LISTS[service][0]
        for table_id in route_table_ids:
            self.route(table_id, prefix_list, endpoint_id)
        return endpoint_id

    def interface_endpoint(
        self,
        vpc_id: str,
        service_name: str,
        *,
        state: str = "Available",
        private_dns: bool = True,
        subnet_ids: Sequence[str] = (),
        tags: Mapping[str, str] | None = None,
    ) -> str:
        endpoint_id = self.new_id("vpce")
        raw: Raw = {
            "VpcEndpointId": endpoint_id,
            "VpcEndpointType": "Interface",
            "VpcId": vpc_id,
            "ServiceName": service_name,
            "State": state,
            "RouteTableIds": [],
            "SubnetIds": list(subnet_ids),
            "Groups": [{"GroupId": "sg-00000001", "GroupName": "default"}],
            "IpAddressType": "ipv4",
            "PrivateDnsEnabled": private_dns,
            "RequesterManaged": False,
            "NetworkInterfaceIds": [self.new_id("eni", base=0xA000) for _ in subnet_ids],
            "DnsEntries": [],
            "CreationTimestamp": CREATED,
            "Tags": _tags(tags),
            "OwnerId": self.world.account_id,
        }
        self.world.vpc_endpoints.append(raw)
        self._by_id[endpoint_id] = raw
        return endpoint_id

    def endpoint_service(self, *, acceptance_required: bool, principals: Sequence[str] = ()) -> str:
        service_id = self.new_id("vpce-svc")
        raw: Raw = {
            "ServiceType": [{"ServiceType": "Interface"}],
            "ServiceId": service_id,
            "ServiceName": f"com.amazonaws.vpce.{self.world.region}.{service_id}",
            "ServiceState": "Available",
            "AvailabilityZones": [f"{self.world.region}a"],
            "AcceptanceRequired": acceptance_required,
            "ManagesVpcEndpoints": False,
            "NetworkLoadBalancerArns": [
                f"arn:aws:elasticloadbalancing:{self.world.region}:{self.world.account_id}:loadbalancer/net/nlb/1"
            ],
            "SupportedIpAddressTypes": ["ipv4"],
            "BaseEndpointDnsNames": [f"{service_id}.{self.world.region}.vpce.amazonaws.com"],
            "Tags": [],
        }
        self.world.endpoint_services.append(raw)
        self._by_id[service_id] = raw
        self.world.service_permissions[service_id] = [
            {
                "PrincipalType": "All" if p == "*" else "Account",
                "Principal": p,
                "ServicePermissionId": self.new_id("vpce-svc-perm"),
                "ServiceId": service_id,
            }
            for p in principals
        ]
        return service_id

    # -- peerings ----------------------------------------------------------------------------
    def peering(
        self, requester: str, accepter: str, *, status: str = "active", tags: Mapping[str, str] | None = None
    ) -> str:
        """A peering between two VPCs (of the world or external). Its description is made
        at ``build``, from the VPCs' CIDR blocks then: EC2 returns the accepter's CIDR
        blocks only while the peering is active."""
        peering_id = self.new_id("pcx")
        raw: Raw = {
            "VpcPeeringConnectionId": peering_id,
            "Status": {"Code": status, "Message": _PEERING_MESSAGES.get(status, status)},
            "Tags": _tags(tags),
        }
        self._peerings.append((raw, requester, accepter))
        self._by_id[peering_id] = raw
        return peering_id

    def _peering_side(self, vpc_id: str, with_cidrs: bool) -> Raw:
        external = self._external.get(vpc_id)
        info: Raw = {
            "OwnerId": external.owner_id if external else self.world.account_id,
            "VpcId": vpc_id,
            "Region": external.region if external else self.world.region,
            "PeeringOptions": {
                "AllowDnsResolutionFromRemoteVpc": False,
                "AllowEgressFromLocalClassicLinkToRemoteVpc": False,
                "AllowEgressFromLocalVpcToRemoteClassicLink": False,
            },
        }
        if with_cidrs:
            cidrs = self.vpc_cidrs(vpc_id)
            v4 = [c for c in cidrs if not _is_ipv6(c)]
            v6 = [c for c in cidrs if _is_ipv6(c)]
            if v4:
                info["CidrBlock"] = v4[0]
                info["CidrBlockSet"] = [{"CidrBlock": c} for c in v4]
            if v6:
                info["Ipv6CidrBlockSet"] = [{"Ipv6CidrBlock": c} for c in v6]
        return info

    # -- transit gateways ----------------------------------------------------------------------
    def transit_gateway(
        self,
        *,
        owner: str | None = None,
        auto_accept: str = "disable",
        state: str = "available",
        tags: Mapping[str, str] | None = None,
    ) -> str:
        """A transit gateway; one owned by another account is shared with this one (its
        route tables are not visible here)."""
        tgw_id = self.new_id("tgw")
        owner_id = owner or self.world.account_id
        raw: Raw = {
            "TransitGatewayId": tgw_id,
            "TransitGatewayArn": f"arn:aws:ec2:{self.world.region}:{owner_id}:transit-gateway/{tgw_id}",
            "State": state,
            "OwnerId": owner_id,
            "Description": "",
            "CreationTime": CREATED,
            "Options": {
                "AmazonSideAsn": 64512,
                "AutoAcceptSharedAttachments": auto_accept,
                "DefaultRouteTableAssociation": "disable",
                "DefaultRouteTablePropagation": "disable",
                "VpnEcmpSupport": "enable",
                "DnsSupport": "enable",
                "MulticastSupport": "disable",
            },
            "Tags": _tags(tags),
        }
        self.world.transit_gateways.append(raw)
        self._by_id[tgw_id] = raw
        return tgw_id

    def tgw_route_table(
        self, tgw_id: str, *, default: bool = False, state: str = "available", tags: Mapping[str, str] | None = None
    ) -> str:
        table_id = self.new_id("tgw-rtb")
        raw: Raw = {
            "TransitGatewayRouteTableId": table_id,
            "TransitGatewayId": tgw_id,
            "State": state,
            "DefaultAssociationRouteTable": default,
            "DefaultPropagationRouteTable": default,
            "CreationTime": CREATED,
            "Tags": _tags(tags),
        }
        if default:
            options = self._by_id[tgw_id]["Options"]
            options.update(
                DefaultRouteTableAssociation="enable",
                AssociationDefaultRouteTableId=table_id,
                DefaultRouteTablePropagation="enable",
                PropagationDefaultRouteTableId=table_id,
            )
        self.world.tgw_route_tables.append(raw)
        self.world.tgw_routes[table_id] = []
        self.world.tgw_propagations[table_id] = []
        self.world.tgw_associations[table_id] = []
        self._by_id[table_id] = raw
        return table_id

    def tgw_attachment(
        self,
        tgw_id: str,
        resource_type: str,
        resource_id: str,
        *,
        state: str = "available",
        resource_owner: str | None = None,
        advertised: Sequence[str] = (),
        tags: Mapping[str, str] | None = None,
    ) -> str:
        """An attachment (``resource_type`` vpc, vpn, direct-connect-gateway or peering);
        ``advertised``: the prefixes a VPN or Direct Connect attachment learns over BGP."""
        attachment_id = self.new_id("tgw-attach")
        tgw = self._by_id[tgw_id]
        raw: Raw = {
            "TransitGatewayAttachmentId": attachment_id,
            "TransitGatewayId": tgw_id,
            "TransitGatewayOwnerId": tgw["OwnerId"],
            "ResourceOwnerId": resource_owner or self.world.account_id,
            "ResourceType": resource_type,
            "ResourceId": resource_id,
            "State": state,
            "CreationTime": CREATED,
            "Tags": _tags(tags),
        }
        self.world.tgw_attachments.append(raw)
        self._by_id[attachment_id] = raw
        self._advertised[attachment_id] = tuple(advertised)
        return attachment_id

    def tgw_associate(self, table_id: str, attachment_id: str, *, state: str = "associated") -> None:
        """An attachment is associated with at most one table (EC2 refuses a second)."""
        attachment = self._by_id[attachment_id]
        assert "Association" not in attachment, f"{attachment_id} is already associated"
        attachment["Association"] = {"TransitGatewayRouteTableId": table_id, "State": state}
        self.world.tgw_associations[table_id].append(
            {
                "TransitGatewayAttachmentId": attachment_id,
                "ResourceId": attachment["ResourceId"],
                "ResourceType": attachment["ResourceType"],
                "State": state,
            }
        )

    def tgw_propagate(self, table_id: str, attachment_id: str) -> None:
        attachment = self._by_id[attachment_id]
        propagations = self.world.tgw_propagations[table_id]
        if any(p["TransitGatewayAttachmentId"] == attachment_id for p in propagations):
            return
        propagations.append(
            {
                "TransitGatewayAttachmentId": attachment_id,
                "ResourceId": attachment["ResourceId"],
                "ResourceType": attachment["ResourceType"],
                "State": "enabled",
            }
        )

    def tgw_route(self, table_id: str, destination: str, attachment_id: str | None) -> bool:
        """A static route (``attachment_id`` None: a Blackhole route); False when the table
        already has a static route to that destination."""
        key = "PrefixListId" if destination.startswith("pl-") else "DestinationCidrBlock"
        static = self._static_tgw_routes[table_id]
        if any(r.get(key) == destination for r in static):
            return False
        route: Raw = {key: destination, "Type": "static"}
        if attachment_id is None:
            route["State"] = "blackhole"
        else:
            attachment = self._by_id[attachment_id]
            route["TransitGatewayAttachments"] = [_route_attachment(attachment)]
            # A static route to an attachment that no longer carries traffic is a blackhole.
            route["State"] = "active" if attachment["State"] in ("available", "modifying") else "blackhole"
        static.append(route)
        return True

    # -- what only paths read ----------------------------------------------------------------
    def network_acl(
        self,
        vpc_id: str,
        entries: Sequence[tuple[int, bool, str, bool, str, tuple[int, int] | None]],
        *,
        subnets: Sequence[str] = (),
    ) -> str:
        """A network ACL; ``entries``: (rule number, egress, protocol, allow, CIDR, port range).
        Each subnet is moved to it (a subnet has exactly one ACL)."""
        acl_id = self.new_id("acl")
        for other in self.world.network_acls:
            other["Associations"] = [a for a in other["Associations"] if a["SubnetId"] not in subnets]
        rules = []
        for number, egress, protocol, allow, cidr, ports in entries:
            rule: Raw = {
                "RuleNumber": number,
                "Egress": egress,
                "Protocol": protocol,
                "RuleAction": "allow" if allow else "deny",
                ("Ipv6CidrBlock" if _is_ipv6(cidr) else "CidrBlock"): cidr,
            }
            if ports is not None:
                rule["PortRange"] = {"From": ports[0], "To": ports[1]}
            rules.append(rule)
        for egress in (True, False):  # EC2 lists the '*' rule as 32767
            rules.append(
                {
                    "RuleNumber": 32767,
                    "Egress": egress,
                    "Protocol": "-1",
                    "RuleAction": "deny",
                    "CidrBlock": "0.0.0.0/0",
                }
            )
        raw: Raw = {
            "NetworkAclId": acl_id,
            "VpcId": vpc_id,
            "IsDefault": False,
            "Entries": rules,
            "Associations": [
                {"NetworkAclAssociationId": self.new_id("aclassoc"), "NetworkAclId": acl_id, "SubnetId": s}
                for s in subnets
            ],
            "Tags": [],
            "OwnerId": self.world.account_id,
        }
        self.world.network_acls.append(raw)
        self._by_id[acl_id] = raw
        return acl_id

    def egress_only_gateway(self, vpc_id: str) -> str:
        gateway_id = self.new_id("eigw")
        raw: Raw = {
            "EgressOnlyInternetGatewayId": gateway_id,
            "Attachments": [{"State": "attached", "VpcId": vpc_id}],
            "Tags": [],
        }
        self.world.egress_only_internet_gateways.append(raw)
        self._by_id[gateway_id] = raw
        return gateway_id

    def vpn_gateway(self, vpc_id: str | None, *, state: str = "available") -> str:
        gateway_id = self.new_id("vgw")
        raw: Raw = {
            "VpnGatewayId": gateway_id,
            "State": state,
            "Type": "ipsec.1",
            "AmazonSideAsn": 64512,
            "VpcAttachments": [{"State": "attached", "VpcId": vpc_id}] if vpc_id else [],
            "Tags": [],
        }
        self.world.vpn_gateways.append(raw)
        self._by_id[gateway_id] = raw
        return gateway_id

    def tgw_peering(self, tgw_id: str, peer_tgw_id: str, peer_region: str, *, state: str = "available") -> str:
        """A peering attachment of ``tgw_id`` (this region's) with a gateway of ``peer_region``."""
        attachment_id = self.tgw_attachment(tgw_id, "peering", peer_tgw_id, state=state)
        info = {"TransitGatewayId": tgw_id, "OwnerId": self.world.account_id, "Region": self.world.region}
        peer = {"TransitGatewayId": peer_tgw_id, "OwnerId": self.world.account_id, "Region": peer_region}
        self.world.tgw_peering_attachments.append(
            {
                "TransitGatewayAttachmentId": attachment_id,
                "RequesterTgwInfo": info,
                "AccepterTgwInfo": peer,
                "Status": {"Code": state, "Message": state},
                "State": state,
                "CreationTime": CREATED,
                "Tags": [],
            }
        )
        return attachment_id

    # -- prefix lists and Client VPN ---------------------------------------------------------
    def prefix_list(self, name: str, cidrs: Sequence[str], *, owner: str | None = None) -> str:
        list_id = self.new_id("pl")
        self._add_prefix_list(list_id, name, cidrs, owner or self.world.account_id)
        return list_id

    def _add_prefix_list(self, list_id: str, name: str, cidrs: Sequence[str], owner: str) -> None:
        family = "IPv6" if cidrs and _is_ipv6(cidrs[0]) else "IPv4"
        raw: Raw = {
            "PrefixListId": list_id,
            "AddressFamily": family,
            "State": "create-complete",
            "PrefixListArn": f"arn:aws:ec2:{self.world.region}:{owner}:prefix-list/{list_id}",
            "PrefixListName": name,
            "Version": 1,
            "Tags": [],
            "OwnerId": owner,
        }
        if owner != AWS_OWNER:
            raw["MaxEntries"] = max(5, len(cidrs))
        self.world.prefix_lists.append(raw)
        self.world.prefix_list_entries[list_id] = [{"Cidr": c} for c in cidrs]
        self._by_id[list_id] = raw

    def client_vpn_endpoint(
        self,
        vpc_id: str | None,
        *,
        logging: bool,
        status: str = "available",
        rules: Sequence[tuple[str, bool, str]] = (),
        tags: Mapping[str, str] | None = None,
    ) -> str:
        """``rules``: (destination CIDR, AccessAll, status)."""
        endpoint_id = self.new_id("cvpn-endpoint")
        raw: Raw = {
            "ClientVpnEndpointId": endpoint_id,
            "Description": "",
            "Status": {"Code": status},
            "CreationTime": "2026-01-01T00:00:00",
            "DnsName": f"*.{endpoint_id}.prod.clientvpn.{self.world.region}.amazonaws.com",
            "ClientCidrBlock": "172.31.0.0/22",
            "DnsServers": [],
            "SplitTunnel": True,
            "VpnProtocol": "openvpn",
            "TransportProtocol": "udp",
            "VpnPort": 443,
            "ServerCertificateArn": f"arn:aws:acm:{self.world.region}:{self.world.account_id}:certificate/1",
            "AuthenticationOptions": [],
            "ConnectionLogOptions": {"Enabled": logging, **({"CloudwatchLogGroup": "cvpn"} if logging else {})},
            "Tags": _tags(tags),
            "SecurityGroupIds": [],
            "SessionTimeoutHours": 24,
        }
        if vpc_id is not None:
            raw["VpcId"] = vpc_id
            raw["SecurityGroupIds"] = ["sg-00000001"]
        self.world.client_vpn_endpoints.append(raw)
        self._by_id[endpoint_id] = raw
        self.world.client_vpn_rules[endpoint_id] = [
            {
                "ClientVpnEndpointId": endpoint_id,
                "Description": "",
                "GroupId": "" if access_all else "S-1-5-21-1",
                "AccessAll": access_all,
                "DestinationCidr": cidr,
                "Status": {"Code": rule_status},
            }
            for cidr, access_all, rule_status in rules
        ]
        return endpoint_id

    # -- build --------------------------------------------------------------------------------
    def build(self) -> World:
        """The world, with what EC2 derives: peering descriptions, the AWS-managed prefix
        lists, and each TGW route table's routes (static, then propagated)."""
        world = copy.deepcopy(self.world)
        for raw, requester, accepter in self._peerings:
            peering = copy.deepcopy(raw)
            active = raw["Status"]["Code"] == "active"
            peering["RequesterVpcInfo"] = self._peering_side(requester, True)
            peering["AccepterVpcInfo"] = self._peering_side(accepter, active)
            if raw["Status"]["Code"] == "pending-acceptance":
                peering["ExpirationTime"] = CREATED + dt.timedelta(days=7)
            world.peerings.append(peering)
        managed = WorldBuilder(world.account_id, world.region)
        for service, (list_id, cidrs) in AWS_PREFIX_LISTS.items():
            managed._add_prefix_list(list_id, f"com.amazonaws.{world.region}.{service}", cidrs, AWS_OWNER)
        world.prefix_lists[:0] = managed.world.prefix_lists
        world.prefix_list_entries.update(managed.world.prefix_list_entries)
        attachments = {a["TransitGatewayAttachmentId"]: a for a in world.tgw_attachments}
        for table_id in world.tgw_routes:
            routes = copy.deepcopy(self._static_tgw_routes.get(table_id, []))
            taken = {r.get("DestinationCidrBlock") or r.get("PrefixListId") for r in routes}
            for propagation in world.tgw_propagations[table_id]:
                attachment = attachments[propagation["TransitGatewayAttachmentId"]]
                if attachment["State"] != "available":
                    continue  # only an available attachment propagates
                if attachment["ResourceType"] == "vpc":
                    prefixes = self._attached_vpc_cidrs(attachment)
                else:
                    prefixes = list(self._advertised.get(attachment["TransitGatewayAttachmentId"], ()))
                for prefix in prefixes:
                    if prefix in taken:
                        continue  # a static route, or an earlier propagation, wins the destination
                    taken.add(prefix)
                    routes.append(
                        {
                            "DestinationCidrBlock": prefix,
                            "TransitGatewayAttachments": [_route_attachment(attachment)],
                            "Type": "propagated",
                            "State": "active",
                        }
                    )
            world.tgw_routes[table_id] = routes
        return world

    def _attached_vpc_cidrs(self, attachment: Raw) -> list[str]:
        vpc_id = str(attachment["ResourceId"])
        if vpc_id in self._external or vpc_id in self._by_id:
            return self.vpc_cidrs(vpc_id)
        return []


_PEERING_MESSAGES = {
    "active": "Active",
    "pending-acceptance": "Pending Acceptance by 111111111111",
    "provisioning": "Provisioning",
    "deleted": "Deleted by 123456789012",
    "rejected": "Rejected by 111111111111",
    "failed": "Failed due to incorrect VPC-ID, Account ID, or overlapping CIDR range",
    "expired": "Expired",
}


def _route_attachment(attachment: Raw) -> Raw:
    return {
        "ResourceId": attachment["ResourceId"],
        "TransitGatewayAttachmentId": attachment["TransitGatewayAttachmentId"],
        "ResourceType": attachment["ResourceType"],
    }


def _target_field(target: str) -> str:
    """The Route field EC2 reports a target in."""
    prefix = target.split("-", 1)[0]
    return {
        "local": "GatewayId",
        "igw": "GatewayId",
        "vgw": "GatewayId",
        "vpce": "GatewayId",
        "nat": "NatGatewayId",
        "pcx": "VpcPeeringConnectionId",
        "tgw": "TransitGatewayId",
        "eni": "NetworkInterfaceId",
        "i": "InstanceId",
        "eigw": "EgressOnlyInternetGatewayId",
    }[prefix]


# ---------------------------------------------------------------------------------
# The operations: which records, which filters, which id parameter
# ---------------------------------------------------------------------------------

Values = Callable[[Raw], Iterable[Any]]


def _get(*path: str) -> Values:
    """The value at ``path`` (a list on the way is walked element by element)."""

    def values(raw: Raw) -> Iterable[Any]:
        current: list[Any] = [raw]
        for key in path:
            nxt: list[Any] = []
            for item in current:
                value = item.get(key) if isinstance(item, dict) else None
                if isinstance(value, list):
                    nxt.extend(value)
                elif value is not None:
                    nxt.append(value)
            current = nxt
        return current

    return values


def _tag_filter(raw: Raw, name: str) -> Iterable[str]:
    key = name.removeprefix("tag:")
    return [t["Value"] for t in raw.get("Tags", []) if t["Key"] == key]


@dataclass(frozen=True)
class _Op:
    key: str  # the list the answer carries
    records: Callable[[World, Mapping[str, Any]], list[Raw] | None]  # None: the parent resource is unknown
    filters: Mapping[str, Values]
    ids: tuple[str, str, str] | None = None  # (id list parameter, id field, NotFound error code)
    not_found: str = ""  # error code when ``records`` answers None
    parent: str = ""  # the required parameter naming the parent resource
    filter_param: str = "Filters"


def _list(attr: str) -> Callable[[World, Mapping[str, Any]], list[Raw] | None]:
    return lambda world, params: getattr(world, attr)


def _children(attr: str, param: str) -> Callable[[World, Mapping[str, Any]], list[Raw] | None]:
    return lambda world, params: getattr(world, attr).get(params[param])


_TGW_TABLE_CHILD_FILTERS: dict[str, Values] = {
    "resource-id": _get("ResourceId"),
    "resource-type": _get("ResourceType"),
    "transit-gateway-attachment-id": _get("TransitGatewayAttachmentId"),
}

OPERATIONS: dict[str, _Op] = {
    "DescribeVpcs": _Op(
        "Vpcs",
        _list("vpcs"),
        {
            "vpc-id": _get("VpcId"),
            "owner-id": _get("OwnerId"),
            "state": _get("State"),
            "is-default": lambda r: [str(r["IsDefault"]).lower()],
            "cidr": _get("CidrBlock"),
            "cidr-block-association.cidr-block": _get("CidrBlockAssociationSet", "CidrBlock"),
            "ipv6-cidr-block-association.ipv6-cidr-block": _get("Ipv6CidrBlockAssociationSet", "Ipv6CidrBlock"),
        },
        ids=("VpcIds", "VpcId", "InvalidVpcID.NotFound"),
    ),
    "DescribeSubnets": _Op(
        "Subnets",
        _list("subnets"),
        {
            "vpc-id": _get("VpcId"),
            "subnet-id": _get("SubnetId"),
            "state": _get("State"),
            "cidr-block": _get("CidrBlock"),
            "availability-zone": _get("AvailabilityZone"),
        },
        ids=("SubnetIds", "SubnetId", "InvalidSubnetID.NotFound"),
    ),
    "DescribeRouteTables": _Op(
        "RouteTables",
        _list("route_tables"),
        {
            "vpc-id": _get("VpcId"),
            "route-table-id": _get("RouteTableId"),
            "association.subnet-id": _get("Associations", "SubnetId"),
            "association.main": lambda r: [str(a.get("Main", False)).lower() for a in r["Associations"]],
            "route.vpc-peering-connection-id": _get("Routes", "VpcPeeringConnectionId"),
            "route.transit-gateway-id": _get("Routes", "TransitGatewayId"),
        },
        ids=("RouteTableIds", "RouteTableId", "InvalidRouteTableID.NotFound"),
    ),
    "DescribeInternetGateways": _Op(
        "InternetGateways",
        _list("internet_gateways"),
        {
            "attachment.vpc-id": _get("Attachments", "VpcId"),
            "attachment.state": _get("Attachments", "State"),
            "internet-gateway-id": _get("InternetGatewayId"),
            "owner-id": _get("OwnerId"),
        },
        ids=("InternetGatewayIds", "InternetGatewayId", "InvalidInternetGatewayID.NotFound"),
    ),
    "DescribeNatGateways": _Op(
        "NatGateways",
        _list("nat_gateways"),
        {
            "vpc-id": _get("VpcId"),
            "subnet-id": _get("SubnetId"),
            "state": _get("State"),
            "nat-gateway-id": _get("NatGatewayId"),
        },
        ids=("NatGatewayIds", "NatGatewayId", "NatGatewayNotFound"),
        filter_param="Filter",
    ),
    "DescribeFlowLogs": _Op(
        "FlowLogs",
        _list("flow_logs"),
        {
            "resource-id": _get("ResourceId"),
            "flow-log-id": _get("FlowLogId"),
            "traffic-type": _get("TrafficType"),
            "deliver-log-status": _get("DeliverLogsStatus"),
            "log-destination-type": _get("LogDestinationType"),
        },
        ids=("FlowLogIds", "FlowLogId", "InvalidFlowLogId.NotFound"),
        filter_param="Filter",
    ),
    "DescribeVpcEndpoints": _Op(
        "VpcEndpoints",
        _list("vpc_endpoints"),
        {
            "vpc-id": _get("VpcId"),
            "vpc-endpoint-id": _get("VpcEndpointId"),
            "vpc-endpoint-type": _get("VpcEndpointType"),
            "vpc-endpoint-state": lambda r: [str(r["State"]).lower()],
            "service-name": _get("ServiceName"),
        },
        ids=("VpcEndpointIds", "VpcEndpointId", "InvalidVpcEndpointId.NotFound"),
    ),
    "DescribeVpcEndpointServiceConfigurations": _Op(
        "ServiceConfigurations",
        _list("endpoint_services"),
        {"service-id": _get("ServiceId"), "service-name": _get("ServiceName"), "service-state": _get("ServiceState")},
        ids=("ServiceIds", "ServiceId", "InvalidVpcEndpointServiceId.NotFound"),
    ),
    "DescribeVpcEndpointServicePermissions": _Op(
        "AllowedPrincipals",
        _children("service_permissions", "ServiceId"),
        {"principal": _get("Principal"), "principal-type": _get("PrincipalType")},
        not_found="InvalidVpcEndpointServiceId.NotFound",
        parent="ServiceId",
    ),
    "DescribeVpcPeeringConnections": _Op(
        "VpcPeeringConnections",
        _list("peerings"),
        {
            "vpc-peering-connection-id": _get("VpcPeeringConnectionId"),
            "requester-vpc-info.vpc-id": _get("RequesterVpcInfo", "VpcId"),
            "accepter-vpc-info.vpc-id": _get("AccepterVpcInfo", "VpcId"),
            "requester-vpc-info.owner-id": _get("RequesterVpcInfo", "OwnerId"),
            "accepter-vpc-info.owner-id": _get("AccepterVpcInfo", "OwnerId"),
            "requester-vpc-info.cidr-block": _get("RequesterVpcInfo", "CidrBlock"),
            "accepter-vpc-info.cidr-block": _get("AccepterVpcInfo", "CidrBlock"),
            "status-code": _get("Status", "Code"),
        },
        ids=("VpcPeeringConnectionIds", "VpcPeeringConnectionId", "InvalidVpcPeeringConnectionID.NotFound"),
    ),
    "DescribeTransitGateways": _Op(
        "TransitGateways",
        _list("transit_gateways"),
        {
            "transit-gateway-id": _get("TransitGatewayId"),
            "owner-id": _get("OwnerId"),
            "state": _get("State"),
            "options.auto-accept-shared-attachments": _get("Options", "AutoAcceptSharedAttachments"),
        },
        ids=("TransitGatewayIds", "TransitGatewayId", "InvalidTransitGatewayID.NotFound"),
    ),
    "DescribeTransitGatewayAttachments": _Op(
        "TransitGatewayAttachments",
        _list("tgw_attachments"),
        {
            "transit-gateway-attachment-id": _get("TransitGatewayAttachmentId"),
            "transit-gateway-id": _get("TransitGatewayId"),
            "transit-gateway-owner-id": _get("TransitGatewayOwnerId"),
            "resource-id": _get("ResourceId"),
            "resource-owner-id": _get("ResourceOwnerId"),
            "resource-type": _get("ResourceType"),
            "state": _get("State"),
            "association.transit-gateway-route-table-id": _get("Association", "TransitGatewayRouteTableId"),
            "association.state": _get("Association", "State"),
        },
        ids=("TransitGatewayAttachmentIds", "TransitGatewayAttachmentId", "InvalidTransitGatewayAttachmentID.NotFound"),
    ),
    "DescribeTransitGatewayRouteTables": _Op(
        "TransitGatewayRouteTables",
        _list("tgw_route_tables"),
        {
            "transit-gateway-route-table-id": _get("TransitGatewayRouteTableId"),
            "transit-gateway-id": _get("TransitGatewayId"),
            "state": _get("State"),
            "default-association-route-table": lambda r: [str(r["DefaultAssociationRouteTable"]).lower()],
            "default-propagation-route-table": lambda r: [str(r["DefaultPropagationRouteTable"]).lower()],
        },
        ids=("TransitGatewayRouteTableIds", "TransitGatewayRouteTableId", "InvalidRouteTableID.NotFound"),
    ),
    "SearchTransitGatewayRoutes": _Op(
        "Routes",
        _children("tgw_routes", "TransitGatewayRouteTableId"),
        {
            "state": _get("State"),
            "type": _get("Type"),
            "prefix-list-id": _get("PrefixListId"),
            "attachment.transit-gateway-attachment-id": _get("TransitGatewayAttachments", "TransitGatewayAttachmentId"),
            "attachment.resource-id": _get("TransitGatewayAttachments", "ResourceId"),
            "attachment.resource-type": _get("TransitGatewayAttachments", "ResourceType"),
        },
        not_found="InvalidRouteTableID.NotFound",
        parent="TransitGatewayRouteTableId",
    ),
    "GetTransitGatewayRouteTablePropagations": _Op(
        "TransitGatewayRouteTablePropagations",
        _children("tgw_propagations", "TransitGatewayRouteTableId"),
        _TGW_TABLE_CHILD_FILTERS,
        not_found="InvalidRouteTableID.NotFound",
        parent="TransitGatewayRouteTableId",
    ),
    "GetTransitGatewayRouteTableAssociations": _Op(
        "Associations",
        _children("tgw_associations", "TransitGatewayRouteTableId"),
        _TGW_TABLE_CHILD_FILTERS,
        not_found="InvalidRouteTableID.NotFound",
        parent="TransitGatewayRouteTableId",
    ),
    "DescribeClientVpnEndpoints": _Op(
        "ClientVpnEndpoints",
        _list("client_vpn_endpoints"),
        {"endpoint-id": _get("ClientVpnEndpointId"), "transport-protocol": _get("TransportProtocol")},
        ids=("ClientVpnEndpointIds", "ClientVpnEndpointId", "InvalidClientVpnEndpointId.NotFound"),
    ),
    "DescribeClientVpnAuthorizationRules": _Op(
        "AuthorizationRules",
        _children("client_vpn_rules", "ClientVpnEndpointId"),
        {"description": _get("Description"), "destination-cidr": _get("DestinationCidr"), "group-id": _get("GroupId")},
        not_found="InvalidClientVpnEndpointId.NotFound",
        parent="ClientVpnEndpointId",
    ),
    "DescribeManagedPrefixLists": _Op(
        "PrefixLists",
        _list("prefix_lists"),
        {
            "prefix-list-id": _get("PrefixListId"),
            "prefix-list-name": _get("PrefixListName"),
            "owner-id": _get("OwnerId"),
        },
        ids=("PrefixListIds", "PrefixListId", "InvalidPrefixListID.NotFound"),
    ),
    "DescribeNetworkAcls": _Op(
        "NetworkAcls",
        _list("network_acls"),
        {
            "vpc-id": _get("VpcId"),
            "network-acl-id": _get("NetworkAclId"),
            "association.subnet-id": _get("Associations", "SubnetId"),
            "default": lambda r: [str(r["IsDefault"]).lower()],
        },
        ids=("NetworkAclIds", "NetworkAclId", "InvalidNetworkAclID.NotFound"),
    ),
    "DescribeEgressOnlyInternetGateways": _Op(
        "EgressOnlyInternetGateways",
        _list("egress_only_internet_gateways"),
        {},
        ids=("EgressOnlyInternetGatewayIds", "EgressOnlyInternetGatewayId", "InvalidGatewayID.NotFound"),
    ),
    "DescribeVpnGateways": _Op(
        "VpnGateways",
        _list("vpn_gateways"),
        {"attachment.vpc-id": _get("VpcAttachments", "VpcId"), "state": _get("State")},
        ids=("VpnGatewayIds", "VpnGatewayId", "InvalidVpnGatewayID.NotFound"),
    ),
    "DescribeTransitGatewayPeeringAttachments": _Op(
        "TransitGatewayPeeringAttachments",
        _list("tgw_peering_attachments"),
        {"transit-gateway-id": _get("RequesterTgwInfo", "TransitGatewayId"), "state": _get("State")},
        ids=("TransitGatewayAttachmentIds", "TransitGatewayAttachmentId", "InvalidTransitGatewayAttachmentID.NotFound"),
    ),
    "GetManagedPrefixListEntries": _Op(
        "Entries",
        _children("prefix_list_entries", "PrefixListId"),
        {},
        not_found="InvalidPrefixListID.NotFound",
        parent="PrefixListId",
    ),
}

# Parameters every operation may carry besides its own: paging and DryRun.
_COMMON = frozenset({"MaxResults", "NextToken", "DryRun"})
# MaxResults ranges the API reference documents where the service model has none.
_MAX_RESULTS = {
    "DescribeFlowLogs": (1, 1000),
    "DescribeVpcEndpoints": (1, 1000),
    "DescribeVpcEndpointServiceConfigurations": (1, 1000),
    "DescribeVpcEndpointServicePermissions": (1, 1000),
}
# SearchTransitGatewayRoutes answers at most this many routes without MaxResults.
SEARCH_TGW_ROUTES_DEFAULT = 1000
# Values EC2 returns that the service model's enums do not list (documented quirks).
_ENUM_EXCEPTIONS = frozenset({("InternetGatewayAttachment", "State", "available")})


# ---------------------------------------------------------------------------------
# The fake endpoint
# ---------------------------------------------------------------------------------


class FakeEc2:
    """Serves ``world`` to real boto3 EC2 clients (see the module docstring).

    ``max_page`` caps the items of one page below ``MaxResults`` (as EC2 may), so small
    worlds still span several pages. ``calls`` counts answered requests by operation,
    ``requests`` keeps each request's parameters, ``problems`` what the fake refused.
    """

    def __init__(self, world: World, *, max_page: int | None = None) -> None:
        self.world = world
        self.max_page = max_page
        self.calls: Counter[str] = Counter()
        self.requests: list[tuple[str, dict[str, Any]]] = []
        self.problems: list[str] = []
        self._validator = ParamValidator()

    def client(self, *, reuse: bool = False) -> Any:
        """A real boto3 EC2 client answered by this fake.

        ``reuse``: hand this fake the one client kept per region instead of making one
        (which costs 25-60 ms): from then on that client answers from this fake only. For
        harnesses that run one world after another, never two at once."""
        region = self.world.region
        if not reuse:
            client = _session(region).client("ec2")
            events: Any = client.meta.events  # (the stubs expect handlers to return None; before-call may answer)
            events.register("before-parameter-build.ec2.*", self._stash)
            events.register("before-call.ec2.*", self._answer)
            return client
        if region not in _SHARED_CLIENTS:
            client = _session(region).client("ec2")
            events = client.meta.events
            events.register("before-parameter-build.ec2.*", lambda **kw: _SHARED_OWNERS[region]._stash(**kw))
            events.register("before-call.ec2.*", lambda **kw: _SHARED_OWNERS[region]._answer(**kw))
            _SHARED_CLIENTS[region] = client
        _SHARED_OWNERS[region] = self
        return _SHARED_CLIENTS[region]

    # -- event handlers ------------------------------------------------------------------
    def _stash(self, params: dict[str, Any], model: OperationModel, context: dict[str, Any], **_: Any) -> None:
        context[_PARAMS_KEY] = copy.deepcopy(params)

    def _answer(self, model: OperationModel, context: dict[str, Any], **_: Any) -> tuple[AWSResponse, Raw]:
        name = model.name
        params: dict[str, Any] = context.get(_PARAMS_KEY, {})
        self.calls[name] += 1
        self.requests.append((name, params))
        op = OPERATIONS.get(name)
        if op is None:
            self._refuse(f"{name} is not implemented by the fake EC2 world")
        try:
            status, body = self._serve(model, op, params)
        except _ApiError as error:
            status, body = 400, {"Error": {"Code": error.code, "Message": error.message}}
        if status == 200:
            self._check_shape(model, body)
        body["ResponseMetadata"] = {
            "RequestId": f"fake-{sum(self.calls.values()):08d}",
            "HTTPStatusCode": status,
            "HTTPHeaders": {},
            "RetryAttempts": 0,
        }
        raw = json.dumps({"fake": name}).encode()
        url = f"https://ec2.{self.world.region}.amazonaws.com/"
        return AWSResponse(url, status, HTTPHeaders(), _RawBody(raw)), body

    def _refuse(self, message: str) -> NoReturn:
        self.problems.append(message)
        raise FakeEc2Unimplemented(message)

    # -- one request -----------------------------------------------------------------------
    def _serve(self, model: OperationModel, op: _Op, params: Mapping[str, Any]) -> tuple[int, Raw]:
        name = model.name
        allowed = set(_COMMON) | {op.filter_param}
        if op.ids:
            allowed.add(op.ids[0])
        if op.parent:
            allowed.add(op.parent)
        unknown = set(params) - allowed
        if unknown:
            self._refuse(f"{name}: parameters {sorted(unknown)} are not implemented by the fake")
        if params.get("DryRun"):
            raise _ApiError("DryRunOperation", "Request would have succeeded, but DryRun flag is set.")

        records = op.records(self.world, params)
        if records is None:
            raise _ApiError(op.not_found, f"The ID '{params.get(op.parent)}' does not exist")
        if op.ids and params.get(op.ids[0]):
            param, id_field, code = op.ids
            known = {str(r[id_field]) for r in records}
            missing = [i for i in params[param] if i not in known]
            if missing:
                raise _ApiError(code, f"The ID '{missing[0]}' does not exist")
            wanted = set(params[param])
            records = [r for r in records if r[id_field] in wanted]
        for spec in params.get(op.filter_param) or []:
            records = self._filter(name, op, spec, records)

        size = params.get("MaxResults")
        if size is not None:
            low, high = self._max_results_range(name, model)
            if not low <= size <= high:
                raise _ApiError(
                    "InvalidParameterValue",
                    f"Value ( {size} ) for parameter maxResults is invalid. "
                    f"Expecting a value between {low} and {high}.",
                )
        start = self._offset(name, params)
        if size is None:
            limit = SEARCH_TGW_ROUTES_DEFAULT if name == "SearchTransitGatewayRoutes" else len(records)
        else:
            limit = min(size, self.max_page) if self.max_page else size
        page = records[start : start + max(limit, 0)] if limit else []
        body: Raw = {op.key: copy.deepcopy(page)}
        more = start + len(page) < len(records)
        if name == "SearchTransitGatewayRoutes":
            body["AdditionalRoutesAvailable"] = more and size is None
            if more and size is not None:
                body["NextToken"] = self._token(name, params, start + len(page))
        elif more:
            body["NextToken"] = self._token(name, params, start + len(page))
        return 200, body

    def _filter(self, name: str, op: _Op, spec: Mapping[str, Any], records: list[Raw]) -> list[Raw]:
        filter_name = str(spec.get("Name", ""))
        values = [str(v) for v in spec.get("Values") or []]
        if not values:
            self._refuse(f"{name}: filter {filter_name!r} sent without values")
        if filter_name.startswith("tag:"):
            get: Values = lambda raw: _tag_filter(raw, filter_name)  # noqa: E731
        elif filter_name in op.filters:
            get = op.filters[filter_name]
        else:
            self._refuse(f"{name}: filter {filter_name!r} is not implemented by the fake")
        return [r for r in records if any(_matches(str(v), values) for v in get(r))]

    def _max_results_range(self, name: str, model: OperationModel) -> tuple[int, int]:
        if name in _MAX_RESULTS:
            return _MAX_RESULTS[name]
        assert model.input_shape is not None
        shape = model.input_shape.members["MaxResults"]
        return int(shape.metadata.get("min", 1)), int(shape.metadata.get("max", 1000))

    @staticmethod
    def _query_digest(name: str, params: Mapping[str, Any]) -> str:
        query = {k: v for k, v in params.items() if k not in ("NextToken", "MaxResults")}
        return hashlib.sha256(json.dumps([name, query], sort_keys=True, default=str).encode()).hexdigest()[:12]

    def _token(self, name: str, params: Mapping[str, Any], offset: int) -> str:
        return f"{name}.{offset}.{self._query_digest(name, params)}"

    def _offset(self, name: str, params: Mapping[str, Any]) -> int:
        token = params.get("NextToken")
        if not token:
            return 0
        op_name, offset, digest = str(token).split(".")
        if op_name != name or digest != self._query_digest(name, params):
            raise _ApiError("InvalidNextToken", "The specified token is invalid for this request")
        return int(offset)

    # -- answers in AWS's shapes ---------------------------------------------------------------
    def _check_shape(self, model: OperationModel, body: Raw) -> None:
        shape = model.output_shape
        assert shape is not None
        report = self._validator.validate(body, shape)
        problems = [report.generate_report()] if report.has_errors() else []
        problems += _enum_problems(body, shape, model.name)
        if problems:
            self._refuse(f"{model.name}: the fake's answer is not in AWS's shape: {'; '.join(problems)}")


class _ApiError(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


class _RawBody:
    """The minimal raw-response object AWSResponse reads its body from."""

    def __init__(self, data: bytes) -> None:
        self._data = data

    def stream(self, **_: Any) -> Iterable[bytes]:
        yield self._data


def _matches(value: str, patterns: Sequence[str]) -> bool:
    return any(fnmatch.fnmatchcase(value, p) if ("*" in p or "?" in p) else value == p for p in patterns)


def _enum_problems(value: Any, shape: Shape, path: str) -> list[str]:
    if shape.type_name == "structure" and isinstance(value, dict):
        found = []
        for key, member in shape.members.items():  # type: ignore[attr-defined]
            if key in value:
                enum = getattr(member, "enum", None) or []
                if enum and value[key] not in enum and (shape.name, key, value[key]) not in _ENUM_EXCEPTIONS:
                    found.append(f"{path}.{key}={value[key]!r} not in {enum}")
                found += _enum_problems(value[key], member, f"{path}.{key}")
        return found
    if shape.type_name == "list" and isinstance(value, list):
        member = shape.member  # type: ignore[attr-defined]
        found = []
        for i, item in enumerate(value):
            enum = getattr(member, "enum", None) or []
            if enum and isinstance(item, str) and item not in enum:
                found.append(f"{path}[{i}]={item!r} not in {enum}")
            found += _enum_problems(item, member, f"{path}[{i}]")
        return found
    return []


_SESSIONS: dict[str, boto3.session.Session] = {}
_SHARED_CLIENTS: dict[str, Any] = {}
_SHARED_OWNERS: dict[str, FakeEc2] = {}


def _session(region: str) -> boto3.session.Session:
    """One session per region: a session loads the EC2 service model once (0.3 s), and
    each client it makes after that costs a few milliseconds."""
    if region not in _SESSIONS:
        _SESSIONS[region] = boto3.session.Session(aws_access_key_id="x", aws_secret_access_key="x", region_name=region)
    return _SESSIONS[region]


# ---------------------------------------------------------------------------------
# A readable listing of a world
# ---------------------------------------------------------------------------------


def _route_text(route: Raw) -> str:
    destination = next(
        str(route[k])
        for k in ("DestinationCidrBlock", "DestinationIpv6CidrBlock", "DestinationPrefixListId", "PrefixListId")
        if k in route
    )
    target = next(
        (
            str(route[k])
            for k in ("GatewayId", "NatGatewayId", "VpcPeeringConnectionId", "TransitGatewayId", "NetworkInterfaceId")
            if k in route
        ),
        None,
    )
    if target is None:  # a TGW route
        attachments = [a["TransitGatewayAttachmentId"] for a in route.get("TransitGatewayAttachments", [])]
        target = ",".join(attachments) or "Blackhole"
        kind = route["Type"]
        return f"{destination}->{target}" + (f" ({kind})" if kind != "static" else "") + _unless_active(route)
    return f"{destination}->{target}" + _unless_active(route)


def _unless_active(raw: Raw) -> str:
    return "" if raw.get("State", "active") == "active" else f" [{raw['State']}]"


def _tag_text(raw: Raw) -> str:
    tags = {t["Key"]: t["Value"] for t in raw.get("Tags", [])}
    return f" tags={tags}" if tags else ""


def describe_world(world: World) -> str:
    lines: list[str] = []
    for vpc in world.vpcs:
        cidrs = [
            a["CidrBlock"]
            + ("" if a["CidrBlockState"]["State"] == "associated" else f"({a['CidrBlockState']['State']})")
            for a in vpc["CidrBlockAssociationSet"]
        ]
        cidrs += [
            a["Ipv6CidrBlock"]
            + ("" if a["Ipv6CidrBlockState"]["State"] == "associated" else f"({a['Ipv6CidrBlockState']['State']})")
            for a in vpc.get("Ipv6CidrBlockAssociationSet", [])
        ]
        lines.append(f"{vpc['VpcId']} {' '.join(cidrs)}{_tag_text(vpc)}")
        for subnet in (s for s in world.subnets if s["VpcId"] == vpc["VpcId"]):
            v6 = [a["Ipv6CidrBlock"] for a in subnet["Ipv6CidrBlockAssociationSet"]]
            lines.append(f"  {subnet['SubnetId']} {subnet['CidrBlock']}{' ' + v6[0] if v6 else ''}")
        for table in (t for t in world.route_tables if t["VpcId"] == vpc["VpcId"]):
            main = " main" if any(a.get("Main") for a in table["Associations"]) else ""
            subnets = [a["SubnetId"] for a in table["Associations"] if a.get("SubnetId")]
            routes = [_route_text(r) for r in table["Routes"] if r.get("GatewayId") != "local"]
            lines.append(f"  {table['RouteTableId']}{main} subnets={subnets} routes={routes}{_tag_text(table)}")
        for igw in world.internet_gateways:
            if any(a["VpcId"] == vpc["VpcId"] for a in igw["Attachments"]):
                lines.append(f"  {igw['InternetGatewayId']} attached")
        for nat in (n for n in world.nat_gateways if n["VpcId"] == vpc["VpcId"]):
            lines.append(f"  {nat['NatGatewayId']} in {nat['SubnetId']} {nat['State']}")
        for e in (e for e in world.vpc_endpoints if e["VpcId"] == vpc["VpcId"]):
            where = e["RouteTableIds"] if e["VpcEndpointType"] == "Gateway" else e["SubnetIds"]
            dns = " private-dns" if e["PrivateDnsEnabled"] else ""
            lines.append(f"  {e['VpcEndpointId']} {e['VpcEndpointType']} {e['ServiceName']} {e['State']} {where}{dns}")
    for igw in world.internet_gateways:
        if not igw["Attachments"]:
            lines.append(f"{igw['InternetGatewayId']} detached")
    for fl in world.flow_logs:
        error = f" ({fl['DeliverLogsErrorMessage']})" if fl.get("DeliverLogsErrorMessage") else ""
        status = f"{fl['TrafficType']} {fl['DeliverLogsStatus']}{error}"
        lines.append(f"{fl['FlowLogId']} on {fl['ResourceId']} {status}{_tag_text(fl)}")
    for p in world.peerings:
        sides = []
        for key in ("RequesterVpcInfo", "AccepterVpcInfo"):
            info = p[key]
            cidrs = [b["CidrBlock"] for b in info.get("CidrBlockSet", [])]
            cidrs += [b["Ipv6CidrBlock"] for b in info.get("Ipv6CidrBlockSet", [])]
            where = (
                ""
                if (info["Region"], info["OwnerId"]) == (world.region, world.account_id)
                else (f"@{info['Region']}/{info['OwnerId']}")
            )
            sides.append(f"{info['VpcId']}{where} {cidrs}")
        lines.append(f"{p['VpcPeeringConnectionId']} {p['Status']['Code']}: {sides[0]} -> {sides[1]}{_tag_text(p)}")
    for tgw in world.transit_gateways:
        owner = "" if tgw["OwnerId"] == world.account_id else f" shared by {tgw['OwnerId']}"
        lines.append(
            f"{tgw['TransitGatewayId']} {tgw['State']} auto-accept={tgw['Options']['AutoAcceptSharedAttachments']}"
            f"{owner}{_tag_text(tgw)}"
        )
        for a in (a for a in world.tgw_attachments if a["TransitGatewayId"] == tgw["TransitGatewayId"]):
            foreign = "" if a["ResourceOwnerId"] == world.account_id else f" of {a['ResourceOwnerId']}"
            assoc = a.get("Association", {}).get("TransitGatewayRouteTableId")
            lines.append(
                f"  {a['TransitGatewayAttachmentId']} {a['ResourceType']} {a['ResourceId']}{foreign} {a['State']}"
                + (f" associated={assoc}" if assoc else "")
            )
        for t in (t for t in world.tgw_route_tables if t["TransitGatewayId"] == tgw["TransitGatewayId"]):
            props = [p["TransitGatewayAttachmentId"] for p in world.tgw_propagations[t["TransitGatewayRouteTableId"]]]
            routes = [_route_text(r) for r in world.tgw_routes[t["TransitGatewayRouteTableId"]]]
            lines.append(
                f"  {t['TransitGatewayRouteTableId']} {t['State']} propagations={props} routes={routes}{_tag_text(t)}"
            )
    for pl in world.prefix_lists:
        if pl["OwnerId"] != AWS_OWNER:
            entries = [e["Cidr"] for e in world.prefix_list_entries[pl["PrefixListId"]]]
            lines.append(f"{pl['PrefixListId']} {pl['PrefixListName']} {entries}")
    for c in world.client_vpn_endpoints:
        rules = [
            f"{r['DestinationCidr']}{' all' if r['AccessAll'] else ''} {r['Status']['Code']}"
            for r in world.client_vpn_rules[c["ClientVpnEndpointId"]]
        ]
        lines.append(
            f"{c['ClientVpnEndpointId']} vpc={c.get('VpcId')} {c['Status']['Code']} "
            f"logging={c['ConnectionLogOptions']['Enabled']} rules={rules}"
        )
    for s in world.endpoint_services:
        principals = [p["Principal"] for p in world.service_permissions[s["ServiceId"]]]
        lines.append(f"{s['ServiceId']} acceptance={s['AcceptanceRequired']} principals={principals}")
    return "\n".join(lines)
