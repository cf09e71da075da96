"""The EC2 calls vpcwatch watches, and the checks each can move (SPEC §4, ``on_network_change``).

``FAMILIES`` lists every watched call by the EC2 data it changes, named as the check
registry names what each check reads (IAM actions such as ``ec2:DescribeRouteTables``);
``checks_for_event`` derives from the registry's ``needs`` the checks a re-audit runs, so
a check that declares a new need is re-run by every call that changes that data.
``SETTLING_EVENTS`` are the calls that always leave something in flight (the service then
re-audits their scope once more, delayed: see ``chalicelib.core.settling``).

What one event touched and how far its re-audit reaches: ``chalicelib.core.scope``; the
EC2 lookups that tie what it names to VPCs: ``chalicelib.aws.resolve``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from chalicelib.core import actions as A
from chalicelib.core.checks import REGISTRY

EC2_SOURCE = "ec2.amazonaws.com"
ENVELOPE_SOURCE = "aws.ec2"
DETAIL_TYPE = "AWS API Call via CloudTrail"

# ---------------------------------------------------------------------------------
# Which calls, and which checks they can move
# ---------------------------------------------------------------------------------

# The EC2 data a call changes, named as the registry's ``needs`` name it (``chalicelib.core.actions``:
# by the IAM action that reads it). The checks an event re-runs are derived from these, never listed.
TGW_ACTIONS = frozenset({A.TGW, A.TGW_ATT, A.TGW_RTB, A.TGW_ROUTES, A.TGW_PROP, A.TGW_ASSOC, A.TGW_PL_REFS})


@dataclass(frozen=True)
class Family:
    """EC2 calls that change the same data. ``changes``: the IAM actions whose answers the
    calls change; None when a call may change anything in a VPC (every check re-runs)."""

    name: str
    changes: frozenset[str] | None
    events: tuple[str, ...]


# Every EC2 API call that changes data a check reads (SPEC §1), by what it changes. Left
# out on purpose: attribute changes no check reads (ModifyVpcAttribute,
# ModifySubnetAttribute); creations that connect nothing yet (CreateInternetGateway,
# CreateCustomerGateway); Client VPN target networks and routes, and the static routes of
# VPN connections (CreateVpnConnectionRoute: virtual private gateways only), which no
# check reads; TGW multicast domains and policy tables, which no check reads. A Direct
# Connect gateway's association with a transit gateway is a directconnect.amazonaws.com
# call, outside the aws.ec2 rule (SPEC §4): the sweep judges it.
FAMILIES: tuple[Family, ...] = (
    # A VPC's creation or deletion touches everything in it (a default VPC comes with
    # subnets, an internet gateway and routes).
    Family("vpc", None, ("CreateVpc", "CreateDefaultVpc", "DeleteVpc")),
    # Its CIDRs: the VPC, what peerings report of it, the local routes.
    Family("vpc-cidr", frozenset({A.VPCS, A.PCX, A.RTBS}), ("AssociateVpcCidrBlock", "DisassociateVpcCidrBlock")),
    # Subnets: their explicit route table associations and flow logs go with them.
    Family(
        "subnet",
        frozenset({A.SUBNETS, A.RTBS, A.FLOW}),
        (
            "CreateSubnet",
            "CreateDefaultSubnet",
            "DeleteSubnet",
            "AssociateSubnetCidrBlock",
            "DisassociateSubnetCidrBlock",
        ),
    ),
    # Route tables and routes (VGW propagation adds routes whose state routes-no-blackhole reads).
    Family(
        "route",
        frozenset({A.RTBS}),
        (
            "CreateRouteTable",
            "DeleteRouteTable",
            "AssociateRouteTable",
            "DisassociateRouteTable",
            "ReplaceRouteTableAssociation",
            "CreateRoute",
            "ReplaceRoute",
            "DeleteRoute",
            "EnableVgwRoutePropagation",
            "DisableVgwRoutePropagation",
        ),
    ),
    # Route targets: the routes to them turn active or blackhole with them.
    Family(
        "internet-gateway",
        frozenset({A.IGWS, A.RTBS}),
        ("AttachInternetGateway", "DetachInternetGateway", "DeleteInternetGateway"),
    ),
    Family("nat-gateway", frozenset({A.NATS, A.RTBS}), ("CreateNatGateway", "DeleteNatGateway")),
    Family("flow-log", frozenset({A.FLOW}), ("CreateFlowLogs", "DeleteFlowLogs")),
    # Endpoints (a gateway endpoint adds routes to its route tables).
    Family("endpoint", frozenset({A.VPCE, A.RTBS}), ("CreateVpcEndpoint", "ModifyVpcEndpoint", "DeleteVpcEndpoints")),
    Family(
        "endpoint-service",
        frozenset({A.SVC, A.SVC_PERM}),
        (
            "CreateVpcEndpointServiceConfiguration",
            "ModifyVpcEndpointServiceConfiguration",
            "DeleteVpcEndpointServiceConfigurations",
            "ModifyVpcEndpointServicePermissions",
        ),
    ),
    # Peerings: their status, and the routes to them.
    Family(
        "peering",
        frozenset({A.PCX, A.RTBS}),
        (
            "CreateVpcPeeringConnection",
            "AcceptVpcPeeringConnection",
            "RejectVpcPeeringConnection",
            "DeleteVpcPeeringConnection",
        ),
    ),
    # Transit gateways (a new one comes with its default route table).
    Family(
        "transit-gateway",
        frozenset({A.TGW, A.TGW_RTB}),
        ("CreateTransitGateway", "ModifyTransitGateway", "DeleteTransitGateway"),
    ),
    # Attachments: their state, their default association and propagation, the routes
    # they propagate, the VPC routes to the gateway (blackhole without an attachment). A
    # Site-to-Site VPN connection on a transit gateway is a VPN attachment; one on a
    # virtual private gateway touches nothing a check reads (resolve_scope tells them apart).
    Family(
        "tgw-attachment",
        frozenset({A.TGW_ATT, A.TGW_ASSOC, A.TGW_PROP, A.TGW_ROUTES, A.RTBS}),
        (
            "CreateTransitGatewayVpcAttachment",
            "ModifyTransitGatewayVpcAttachment",
            "DeleteTransitGatewayVpcAttachment",
            "AcceptTransitGatewayVpcAttachment",
            "RejectTransitGatewayVpcAttachment",
            "CreateTransitGatewayConnect",
            "DeleteTransitGatewayConnect",
            "CreateVpnConnection",
            "ModifyVpnConnection",
            "DeleteVpnConnection",
        ),
    ),
    # Peering attachments between transit gateways: attachments as above, and the peering
    # attachments the path engine crosses gateways by (a rejected one leaves the request).
    Family(
        "tgw-peering-attachment",
        frozenset({A.TGW_PEER, A.TGW_ATT, A.TGW_ASSOC, A.TGW_PROP, A.TGW_ROUTES, A.RTBS}),
        (
            "CreateTransitGatewayPeeringAttachment",
            "AcceptTransitGatewayPeeringAttachment",
            "RejectTransitGatewayPeeringAttachment",
            "DeleteTransitGatewayPeeringAttachment",
        ),
    ),
    # A Connect peer's BGP session brings the routes its appliance announces.
    Family(
        "tgw-connect-peer",
        frozenset({A.TGW_ROUTES}),
        ("CreateTransitGatewayConnectPeer", "DeleteTransitGatewayConnectPeer"),
    ),
    Family(
        "tgw-route-table",
        frozenset({A.TGW_RTB}),
        ("CreateTransitGatewayRouteTable", "DeleteTransitGatewayRouteTable"),
    ),
    Family(
        "tgw-route",
        frozenset({A.TGW_ROUTES}),
        ("CreateTransitGatewayRoute", "ReplaceTransitGatewayRoute", "DeleteTransitGatewayRoute"),
    ),
    # A prefix list reference is a route to every CIDR of the list.
    Family(
        "tgw-prefix-list-reference",
        frozenset({A.TGW_ROUTES, A.TGW_PL_REFS}),
        (
            "CreateTransitGatewayPrefixListReference",
            "ModifyTransitGatewayPrefixListReference",
            "DeleteTransitGatewayPrefixListReference",
        ),
    ),
    # Which table an attachment is associated with: the table's list and the attachment's.
    Family(
        "tgw-association",
        frozenset({A.TGW_ASSOC, A.TGW_ATT}),
        ("AssociateTransitGatewayRouteTable", "DisassociateTransitGatewayRouteTable"),
    ),
    Family(
        "tgw-propagation",
        frozenset({A.TGW_PROP, A.TGW_ROUTES}),
        ("EnableTransitGatewayRouteTablePropagation", "DisableTransitGatewayRouteTablePropagation"),
    ),
    Family(
        "client-vpn",
        frozenset({A.CVPN, A.CVPN_AUTH}),
        (
            "CreateClientVpnEndpoint",
            "ModifyClientVpnEndpoint",
            "DeleteClientVpnEndpoint",
            "AuthorizeClientVpnIngress",
            "RevokeClientVpnIngress",
        ),
    ),
    # Managed prefix lists (route destinations: their entries).
    Family(
        "prefix-list",
        frozenset({A.PL, A.PL_ENTRIES}),
        (
            "CreateManagedPrefixList",
            "ModifyManagedPrefixList",
            "RestoreManagedPrefixListVersion",
            "DeleteManagedPrefixList",
        ),
    ),
    # What only the path engine reads (SPEC §7: reachability intents, return paths), which
    # those checks judge region-wide: network ACLs and their subnet associations...
    Family(
        "network-acl",
        frozenset({A.NACLS}),
        (
            "CreateNetworkAcl",
            "DeleteNetworkAcl",
            "CreateNetworkAclEntry",
            "ReplaceNetworkAclEntry",
            "DeleteNetworkAclEntry",
            "ReplaceNetworkAclAssociation",
        ),
    ),
    # ... and the gateways a route can name besides those above (the routes to a deleted
    # or detached one turn blackhole).
    Family(
        "egress-only-internet-gateway",
        frozenset({A.EIGWS, A.RTBS}),
        ("CreateEgressOnlyInternetGateway", "DeleteEgressOnlyInternetGateway"),
    ),
    Family(
        "vpn-gateway",
        frozenset({A.VGWS, A.RTBS}),
        ("CreateVpnGateway", "DeleteVpnGateway", "AttachVpnGateway", "DetachVpnGateway"),
    ),
    # Tags: only the vpcwatch:exempt tag matters (parse_event drops the others); it may
    # concern any check of the tagged resource.
    Family("tags", None, ("CreateTags", "DeleteTags")),
)

EVENT_NAMES: tuple[str, ...] = tuple(name for family in FAMILIES for name in family.events)
FAMILY_OF_EVENT: dict[str, Family] = {name: family for family in FAMILIES for name in family.events}

EVENT_PATTERN: dict[str, Any] = {
    "source": [ENVELOPE_SOURCE],
    "detail-type": [DETAIL_TYPE],
    "detail": {"eventSource": [EC2_SOURCE], "eventName": list(EVENT_NAMES)},
}

TAG_EVENTS = frozenset({"CreateTags", "DeleteTags"})

# Calls whose result is still settling when CloudTrail reports them (states.py: in
# flight) in a way the event's re-audit cannot judge: a new NAT gateway, endpoint,
# peering or attachment is pending (checks pass over it, its settled state may be a
# blackhole target or an overlap), a new propagation is enabling and a prefix list
# reference pending (the collector reads neither yet), a VPN attachment or a Connect peer's
# BGP routes are still to come. Their re-audit is repeated, delayed, even when the scoped
# snapshot shows nothing in flight (a pending VPN attachment is in no VPC's scope).
SETTLING_EVENTS = frozenset(
    {
        "CreateNatGateway",
        "CreateVpcEndpoint",
        "CreateVpcPeeringConnection",
        "AcceptVpcPeeringConnection",
        "CreateTransitGatewayVpcAttachment",
        "AcceptTransitGatewayVpcAttachment",
        "CreateTransitGatewayPeeringAttachment",
        "AcceptTransitGatewayPeeringAttachment",
        "CreateTransitGatewayConnect",
        "CreateTransitGatewayConnectPeer",
        "CreateVpnConnection",
        "ModifyVpnConnection",
        "CreateTransitGatewayPrefixListReference",
        "ModifyTransitGatewayPrefixListReference",
        "EnableTransitGatewayRouteTablePropagation",
    }
)


def checks_reading(actions: Iterable[str]) -> tuple[str, ...]:
    """The registered checks whose declared needs include one of ``actions``, in registry order."""
    changed = frozenset(actions)
    return tuple(spec.id for spec in REGISTRY if changed.intersection(spec.needs))


def checks_for_event(event_name: str) -> tuple[str, ...] | None:
    """The checks a re-audit after ``event_name`` runs: those whose declared needs read data
    the call changes (None: every check). Checks left out keep their findings untouched:
    the store resolves only checks that ran."""
    family = FAMILY_OF_EVENT.get(event_name)
    if family is None or family.changes is None:
        return None
    return checks_reading(family.changes)


# The checks a kind of data feeds, for the region-wide fallbacks that need not re-run
# everything (and for callers that name a family of checks).
FLOW_LOG_CHECKS = checks_reading({A.FLOW})
ENDPOINT_SERVICE_CHECKS = checks_reading({A.SVC, A.SVC_PERM})
CLIENT_VPN_CHECKS = checks_reading({A.CVPN, A.CVPN_AUTH})
ROUTE_CHECKS = checks_reading({A.RTBS})
TGW_CHECKS = checks_reading(TGW_ACTIONS)
NETWORK_ACL_CHECKS = checks_reading({A.NACLS})
EGRESS_ONLY_GATEWAY_CHECKS = checks_reading({A.EIGWS})
VPN_GATEWAY_CHECKS = checks_reading({A.VGWS})
# The checks that judge nothing in a scoped audit (their subjects are empty there: the path
# engine's checks, reachability-intent and routes-return-path): an event that moves them has
# them re-judged region-wide (``EventPipeline._rejudge_paths``).
PATH_CHECKS = tuple(spec.id for spec in REGISTRY if spec.scoped_needs is not None)
TGW_ROUTE_TABLE_CHECKS = tuple(spec.id for spec in REGISTRY if spec.arn_kind == "transit-gateway-route-table")
