"""Raw EC2 answers -> model records: pure functions, no calls.

Every field may be missing in a real answer: ``.get`` with defaults.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from chalicelib.core.model import (
    ClientVpnAuthorizationRule,
    EgressOnlyInternetGateway,
    FlowLog,
    InternetGateway,
    NatGateway,
    NetworkAcl,
    NetworkAclEntry,
    Peering,
    PeeringSide,
    Route,
    RouteTable,
    Subnet,
    TgwAttachment,
    TgwPeeringAttachment,
    TgwRoute,
    TgwRouteTable,
    TransitGateway,
    Vpc,
    VpcEndpoint,
    VpnGateway,
)
from chalicelib.core.states import is_present

Raw = Mapping[str, Any]

# Route target fields, in the order the target is taken from when several are set (a
# route to an instance reports both its ENI and the instance).
_ROUTE_TARGETS = (
    "GatewayId",
    "NatGatewayId",
    "VpcPeeringConnectionId",
    "TransitGatewayId",
    "NetworkInterfaceId",
    "InstanceId",
    "EgressOnlyInternetGatewayId",
    "LocalGatewayId",
    "CarrierGatewayId",
    "CoreNetworkArn",
)

_ROUTE_DESTINATIONS = ("DestinationCidrBlock", "DestinationIpv6CidrBlock", "DestinationPrefixListId")


def tags(raw: Raw) -> dict[str, str]:
    return {str(t["Key"]): str(t.get("Value", "")) for t in raw.get("Tags") or [] if t.get("Key") is not None}


def _state(assoc: Raw, key: str) -> str:
    return str((assoc.get(key) or {}).get("State", "associated"))


def vpc(raw: Raw) -> Vpc:
    ipv4 = [
        str(a["CidrBlock"])
        for a in raw.get("CidrBlockAssociationSet") or []
        if a.get("CidrBlock") and is_present(_state(a, "CidrBlockState"))
    ]
    if not ipv4 and raw.get("CidrBlock") and "CidrBlockAssociationSet" not in raw:
        ipv4 = [str(raw["CidrBlock"])]
    ipv6 = [
        str(a["Ipv6CidrBlock"])
        for a in raw.get("Ipv6CidrBlockAssociationSet") or []
        if a.get("Ipv6CidrBlock") and is_present(_state(a, "Ipv6CidrBlockState"))
    ]
    return Vpc(
        vpc_id=str(raw.get("VpcId", "")),
        owner_id=str(raw.get("OwnerId", "")),
        cidrs=tuple(dict.fromkeys([*ipv4, *ipv6])),
        is_default=bool(raw.get("IsDefault", False)),
        state=str(raw.get("State", "available")),
        tags=tags(raw),
    )


def subnet(raw: Raw) -> Subnet:
    ipv6 = [
        str(a["Ipv6CidrBlock"])
        for a in raw.get("Ipv6CidrBlockAssociationSet") or []
        if a.get("Ipv6CidrBlock") and is_present(_state(a, "Ipv6CidrBlockState"))
    ]
    return Subnet(
        subnet_id=str(raw.get("SubnetId", "")),
        vpc_id=str(raw.get("VpcId", "")),
        owner_id=str(raw.get("OwnerId", "")),
        cidr=str(raw["CidrBlock"]) if raw.get("CidrBlock") else None,
        ipv6_cidrs=tuple(dict.fromkeys(ipv6)),
        availability_zone=str(raw.get("AvailabilityZone", "")),
        tags=tags(raw),
    )


def _route(raw: Raw) -> Route | None:
    destination = next((raw[k] for k in _ROUTE_DESTINATIONS if raw.get(k)), None)
    if not destination:
        return None
    target = next((str(raw[k]) for k in _ROUTE_TARGETS if raw.get(k)), "")
    return Route(
        destination=str(destination),
        target=target,
        state=str(raw.get("State", "active")),
        origin=str(raw.get("Origin", "CreateRoute")),
    )


def route_table(raw: Raw) -> RouteTable:
    associations = [a for a in raw.get("Associations") or [] if is_present(_state(a, "AssociationState"))]
    return RouteTable(
        route_table_id=str(raw.get("RouteTableId", "")),
        vpc_id=str(raw.get("VpcId", "")),
        owner_id=str(raw.get("OwnerId", "")),
        main=any(bool(a.get("Main", False)) for a in associations),
        subnet_ids=tuple(dict.fromkeys(str(a["SubnetId"]) for a in associations if a.get("SubnetId"))),
        routes=tuple(route for route in (_route(r) for r in raw.get("Routes") or []) if route is not None),
        gateway_ids=tuple(dict.fromkeys(str(a["GatewayId"]) for a in associations if a.get("GatewayId"))),
        tags=tags(raw),
    )


def internet_gateway(raw: Raw) -> InternetGateway:
    attachments = raw.get("Attachments") or []
    attached = (str(a["VpcId"]) for a in attachments if a.get("VpcId") and is_present(a.get("State")))
    return InternetGateway(
        gateway_id=str(raw.get("InternetGatewayId", "")),
        vpc_ids=tuple(dict.fromkeys(attached)),
        owner_id=str(raw.get("OwnerId", "")),
        tags=tags(raw),
    )


def nat_gateway(raw: Raw) -> NatGateway:
    return NatGateway(
        nat_gateway_id=str(raw.get("NatGatewayId", "")),
        vpc_id=str(raw.get("VpcId", "")),
        subnet_id=str(raw.get("SubnetId", "")),
        state=str(raw.get("State", "")),
        connectivity=str(raw.get("ConnectivityType", "public")),
        tags=tags(raw),
    )


def flow_log(raw: Raw) -> FlowLog:
    return FlowLog(
        flow_log_id=str(raw.get("FlowLogId", "")),
        resource_id=str(raw.get("ResourceId", "")),
        traffic_type=str(raw["TrafficType"]) if raw.get("TrafficType") else None,
        status=str(raw.get("FlowLogStatus", "ACTIVE")),
        deliver_status=str(raw["DeliverLogsStatus"]) if raw.get("DeliverLogsStatus") else None,
        deliver_error=str(raw["DeliverLogsErrorMessage"]) if raw.get("DeliverLogsErrorMessage") else None,
        destination_type=str(raw.get("LogDestinationType", "cloud-watch-logs")),
        tags=tags(raw),
    )


def vpc_endpoint(raw: Raw) -> VpcEndpoint:
    return VpcEndpoint(
        endpoint_id=str(raw.get("VpcEndpointId", "")),
        vpc_id=str(raw.get("VpcId", "")),
        service_name=str(raw.get("ServiceName", "")),
        endpoint_type=str(raw.get("VpcEndpointType", "Gateway")),
        state=str(raw.get("State", "")).lower(),
        route_table_ids=tuple(str(r) for r in raw.get("RouteTableIds") or []),
        subnet_ids=tuple(str(s) for s in raw.get("SubnetIds") or []),
        private_dns_enabled=bool(raw.get("PrivateDnsEnabled", False)),
        owner_id=str(raw.get("OwnerId", "")),
        tags=tags(raw),
        service_region=str(raw["ServiceRegion"]) if raw.get("ServiceRegion") else None,
        requester_managed=bool(raw.get("RequesterManaged", False)),
    )


def _peering_side(info: Raw, region: str) -> PeeringSide:
    cidrs = [info.get("CidrBlock")]
    cidrs += [b.get("CidrBlock") for b in info.get("CidrBlockSet") or []]
    cidrs += [b.get("Ipv6CidrBlock") for b in info.get("Ipv6CidrBlockSet") or []]
    return PeeringSide(
        vpc_id=str(info.get("VpcId", "")),
        owner_id=str(info.get("OwnerId", "")),
        region=str(info.get("Region") or region),
        cidrs=tuple(dict.fromkeys(str(c) for c in cidrs if c)),
    )


def peering(raw: Raw, region: str) -> Peering:
    return Peering(
        peering_id=str(raw.get("VpcPeeringConnectionId", "")),
        status=str((raw.get("Status") or {}).get("Code", "")),
        requester=_peering_side(raw.get("RequesterVpcInfo") or {}, region),
        accepter=_peering_side(raw.get("AccepterVpcInfo") or {}, region),
        tags=tags(raw),
    )


def transit_gateway(raw: Raw) -> TransitGateway:
    return TransitGateway(
        tgw_id=str(raw.get("TransitGatewayId", "")),
        owner_id=str(raw.get("OwnerId", "")),
        state=str(raw.get("State", "")),
        auto_accept_shared_attachments=str((raw.get("Options") or {}).get("AutoAcceptSharedAttachments", "disable")),
        tags=tags(raw),
    )


def tgw_attachment(raw: Raw) -> TgwAttachment:
    association = raw.get("Association") or {}
    return TgwAttachment(
        attachment_id=str(raw.get("TransitGatewayAttachmentId", "")),
        tgw_id=str(raw.get("TransitGatewayId", "")),
        resource_type=str(raw.get("ResourceType", "")),
        resource_id=str(raw.get("ResourceId", "")),
        resource_owner_id=str(raw.get("ResourceOwnerId", "")),
        state=str(raw.get("State", "")),
        association_route_table_id=str(association["TransitGatewayRouteTableId"])
        if association.get("TransitGatewayRouteTableId")
        else None,
        association_state=str(association["State"]) if association.get("State") else None,
        tags=tags(raw),
    )


def tgw_route(raw: Raw) -> TgwRoute | None:
    destination = raw.get("DestinationCidrBlock") or raw.get("PrefixListId")
    if not destination:
        return None
    attachments = (
        str(a["TransitGatewayAttachmentId"])
        for a in raw.get("TransitGatewayAttachments") or []
        if a.get("TransitGatewayAttachmentId")
    )
    return TgwRoute(
        destination=str(destination),
        route_type=str(raw.get("Type", "static")),
        state=str(raw.get("State", "active")),
        attachment_ids=tuple(dict.fromkeys(attachments)),
    )


def tgw_route_table(raw: Raw, routes: tuple[TgwRoute, ...], propagations: tuple[str, ...]) -> TgwRouteTable:
    return TgwRouteTable(
        route_table_id=str(raw.get("TransitGatewayRouteTableId", "")),
        tgw_id=str(raw.get("TransitGatewayId", "")),
        state=str(raw.get("State", "available")),
        routes=routes,
        propagations=propagations,
        tags=tags(raw),
    )


def _acl_entry(raw: Raw) -> NetworkAclEntry | None:
    cidr = raw.get("CidrBlock") or raw.get("Ipv6CidrBlock")
    if not cidr or raw.get("RuleNumber") is None:
        return None
    ports = raw.get("PortRange") or {}
    return NetworkAclEntry(
        rule_number=int(raw["RuleNumber"]),
        egress=bool(raw.get("Egress", False)),
        protocol=str(raw.get("Protocol", "-1")),
        allow=str(raw.get("RuleAction", "deny")).lower() == "allow",
        cidr=str(cidr),
        port_from=int(ports["From"]) if ports.get("From") is not None else None,
        port_to=int(ports["To"]) if ports.get("To") is not None else None,
    )


def network_acl(raw: Raw) -> NetworkAcl:
    entries = (e for e in (_acl_entry(r) for r in raw.get("Entries") or []) if e is not None)
    associated = (str(a["SubnetId"]) for a in raw.get("Associations") or [] if a.get("SubnetId"))
    return NetworkAcl(
        network_acl_id=str(raw.get("NetworkAclId", "")),
        vpc_id=str(raw.get("VpcId", "")),
        is_default=bool(raw.get("IsDefault", False)),
        entries=tuple(entries),
        subnet_ids=tuple(dict.fromkeys(associated)),
        owner_id=str(raw.get("OwnerId", "")),
        tags=tags(raw),
    )


def _attached_vpcs(attachments: Any) -> tuple[str, ...]:
    # EC2 reports attachments as attaching | attached | detaching | detached.
    return tuple(
        dict.fromkeys(str(a["VpcId"]) for a in attachments or [] if a.get("VpcId") and is_present(a.get("State")))
    )


def egress_only_gateway(raw: Raw) -> EgressOnlyInternetGateway:
    return EgressOnlyInternetGateway(
        gateway_id=str(raw.get("EgressOnlyInternetGatewayId", "")),
        vpc_ids=_attached_vpcs(raw.get("Attachments")),
        tags=tags(raw),
    )


def vpn_gateway(raw: Raw) -> VpnGateway:
    return VpnGateway(
        gateway_id=str(raw.get("VpnGatewayId", "")),
        state=str(raw.get("State", "available")),
        vpc_ids=_attached_vpcs(raw.get("VpcAttachments")),
        tags=tags(raw),
    )


def tgw_peering_attachment(raw: Raw) -> TgwPeeringAttachment:
    requester = raw.get("RequesterTgwInfo") or {}
    accepter = raw.get("AccepterTgwInfo") or {}
    return TgwPeeringAttachment(
        attachment_id=str(raw.get("TransitGatewayAttachmentId", "")),
        state=str(raw.get("State", "")),
        requester_tgw_id=str(requester.get("TransitGatewayId", "")),
        requester_region=str(requester.get("Region", "")),
        accepter_tgw_id=str(accepter.get("TransitGatewayId", "")),
        accepter_region=str(accepter.get("Region", "")),
        requester_owner_id=str(requester.get("OwnerId", "")),
        accepter_owner_id=str(accepter.get("OwnerId", "")),
        tags=tags(raw),
    )


def authorization_rule(raw: Raw) -> ClientVpnAuthorizationRule:
    return ClientVpnAuthorizationRule(
        destination_cidr=str(raw.get("DestinationCidr", "")),
        access_all=bool(raw.get("AccessAll", False)),
        group_id=str(raw.get("GroupId") or ""),
        status=str((raw.get("Status") or {}).get("Code", "active")),
    )
