"""CloudTrail EC2 events -> what they touched -> the scope of the re-audit (SPEC §4, ``on_network_change``).

``FAMILIES`` lists every watched call by the EC2 data it changes, named as the check
registry names what each check reads (IAM actions such as ``ec2:DescribeRouteTables``);
``checks_for_event`` derives from the registry's ``needs`` the checks a re-audit runs, so
a check that declares a new need is re-run by every call that changes that data.
``SETTLING_EVENTS`` are the calls that always leave something in flight (the service then
re-audits their scope once more, delayed: see ``chalicelib.core.settling``).

``parse_event`` reads an EventBridge "AWS API Call via CloudTrail" event (or the bare
CloudTrail record) into ``Touched``: the resource ids it names, by kind. It never raises;
failed calls, foreign and malformed events are logged on ``vpcwatch.events`` and give None.

CloudTrail writes EC2 parameters in two styles (shared/data/README.md): flat camelCase
(``{"routeTableId": ...}``, lists as ``{"items": [...]}``) and wrapped PascalCase
(``{"CreateVpcEndpointRequest": {...}}``, sometimes abbreviated, list members as
``{"tag": N, "content": "id"}``, responses as ``{"<Op>Response": {...}}`` with ``{"item": ...}``
lists and ``""`` for empty sets). Rather than knowing every operation's shape, the parser
walks both documents and classifies every string by id prefix: any value that is exactly an
AWS id of a kind vpcwatch audits, plus looser values (``rtb-1``, ``vpc-EXAMPLE1``) found
under a key that names an id.

``resolve_scope`` turns ``Touched`` into ``Scope``: the VPCs to re-audit (with the neighbours
whose overlap checks the change affects), or the whole region, possibly for a few checks
only. It asks EC2 at most one filtered call per id kind (the TGW route table lookups are two
per table), uses ``memory`` (resource id -> VPC id, as the store last saw it) for what AWS
can no longer describe, and never raises: a failed lookup falls back to memory, else to the
region.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from botocore import xform_name

from chalicelib.aws.session import error_code
from chalicelib.core import actions as A
from chalicelib.core.checks import REGISTRY
from chalicelib.core.model import EXEMPT_TAG
from chalicelib.core.states import is_gone, is_present

log = logging.getLogger("vpcwatch.events")

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
# CreateVpnGateway, CreateCustomerGateway); Client VPN target networks and routes, and the
# static routes of VPN connections (CreateVpnConnectionRoute: virtual private gateways
# only), which no check reads; RejectTransitGatewayPeeringAttachment (a rejected peering
# attachment never carried routes); TGW multicast domains and policy tables, which no
# check reads. A Direct Connect gateway's association with a transit gateway is a
# directconnect.amazonaws.com call, outside the aws.ec2 rule (SPEC §4): the sweep judges it.
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
            "CreateTransitGatewayPeeringAttachment",
            "AcceptTransitGatewayPeeringAttachment",
            "DeleteTransitGatewayPeeringAttachment",
            "CreateTransitGatewayConnect",
            "DeleteTransitGatewayConnect",
            "CreateVpnConnection",
            "ModifyVpnConnection",
            "DeleteVpnConnection",
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

_EVENT_SET = frozenset(EVENT_NAMES)
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
TGW_ROUTE_TABLE_CHECKS = tuple(spec.id for spec in REGISTRY if spec.arn_kind == "transit-gateway-route-table")


# ---------------------------------------------------------------------------------
# What an event touched
# ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Touched:
    event_id: str
    event_name: str
    account_id: str
    region: str
    vpc_ids: tuple[str, ...] = ()
    subnet_ids: tuple[str, ...] = ()
    route_table_ids: tuple[str, ...] = ()
    association_ids: tuple[str, ...] = ()  # route table associations (rtbassoc-)
    peering_ids: tuple[str, ...] = ()
    tgw_ids: tuple[str, ...] = ()
    tgw_route_table_ids: tuple[str, ...] = ()
    tgw_attachment_ids: tuple[str, ...] = ()
    flow_log_ids: tuple[str, ...] = ()
    endpoint_ids: tuple[str, ...] = ()
    endpoint_service_ids: tuple[str, ...] = ()
    nat_gateway_ids: tuple[str, ...] = ()
    igw_ids: tuple[str, ...] = ()
    client_vpn_ids: tuple[str, ...] = ()
    prefix_list_ids: tuple[str, ...] = ()
    vpn_connection_ids: tuple[str, ...] = ()  # Site-to-Site VPN connections (vpn-)
    resource_ids: tuple[str, ...] = ()  # CreateTags / DeleteTags: every tagged resource, any kind

    def ids(self, kind: str) -> tuple[str, ...]:
        """The ids of one kind, by its id prefix ('vpc', 'rtb', 'tgw-rtb', ...)."""
        return tuple(getattr(self, KIND_FIELDS[kind]))

    @property
    def named(self) -> tuple[str, ...]:
        """Every audited id the event names, kinds in ``KIND_FIELDS`` order."""
        return tuple(i for kind in KIND_FIELDS for i in self.ids(kind))


# Id prefix -> Touched field.
KIND_FIELDS: dict[str, str] = {
    "vpc": "vpc_ids",
    "subnet": "subnet_ids",
    "rtb": "route_table_ids",
    "rtbassoc": "association_ids",
    "pcx": "peering_ids",
    "tgw": "tgw_ids",
    "tgw-rtb": "tgw_route_table_ids",
    "tgw-attach": "tgw_attachment_ids",
    "fl": "flow_log_ids",
    "vpce": "endpoint_ids",
    "vpce-svc": "endpoint_service_ids",
    "nat": "nat_gateway_ids",
    "igw": "igw_ids",
    "cvpn-endpoint": "client_vpn_ids",
    "pl": "prefix_list_ids",
    "vpn": "vpn_connection_ids",
}
_PREFIXES = "|".join(re.escape(p) for p in sorted(KIND_FIELDS, key=len, reverse=True))
# Anywhere in the payload: exactly an id as AWS mints them (8 or 17 hex digits). Anchored,
# so 'vpc-' never takes 'vpce-…' or 'vpc-cidr-assoc-…', nor 'tgw-' a 'tgw-rtb-…'.
_STRICT_ID = re.compile(rf"^({_PREFIXES})-(?:[0-9a-f]{{17}}|[0-9a-f]{{8}})$")
# Under a key naming an id: any single token (test and documentation ids: rtb-1, vpc-xxx,
# tgw-0262a0e521EXAMPLE). A second '-' would make it another kind's id, so none allowed.
_LOOSE_ID = re.compile(rf"^({_PREFIXES})-[0-9A-Za-z]{{1,40}}$")
_ANY_ID = re.compile(r"^[a-z][a-z0-9]*(?:-[a-z0-9]+)*-[0-9A-Za-z]{1,40}$")

# Keys that only hold list members: they do not change what the surrounding key names.
_TRANSPARENT_KEYS = frozenset({"item", "items", "content", "member"})
# Subtrees whose strings are free text or tag values, never ids the call acts on.
_OPAQUE_KEYS = frozenset(
    {"tag", "tags", "tagset", "tagspecification", "tagspecifications", "tagspecificationset"}
    | {"description", "policydocument", "clienttoken"}
)
_MAX_NODES = 20_000  # a bound on the walk (a real payload has a few hundred nodes)
_MAX_ID_LENGTH = 64


def parse_event(event: Mapping[str, Any]) -> Touched | None:
    """The ids a CloudTrail EC2 event names, or None (logged) when it is not one to act on:
    a failed call, another source, an unwatched name, a malformed record, a tag change
    that is not about ``vpcwatch:exempt``. Never raises."""
    try:
        result = _parse(event)
    except Exception as exc:  # the last guard: whatever the input, the handler goes on
        result = _Skip(*_labels(event), f"unreadable event ({type(exc).__name__})")
    if isinstance(result, _Skip):
        log.log(result.level, "event %s %s skipped: %s", _text(result.event_id), _text(result.name), result.reason)
        return None
    return result


class _Skip(NamedTuple):
    event_id: str
    name: str
    reason: str
    level: int = logging.WARNING


def _parse(event: Any) -> Touched | _Skip:
    if not isinstance(event, Mapping):
        return _Skip("-", "-", f"not a JSON object ({type(event).__name__})")
    envelope: Mapping[str, Any] = {}
    record: Any = event
    if "detail" in event or "detail-type" in event:
        envelope = event
        label_id, label_name = _labels(event)
        if event.get("source") != ENVELOPE_SOURCE:
            return _Skip(label_id, label_name, f"source {_text(event.get('source'))} is not {ENVELOPE_SOURCE}")
        if event.get("detail-type") != DETAIL_TYPE:
            reason = f"detail-type {_text(event.get('detail-type'))} is not an API call"
            return _Skip(label_id, label_name, reason)
        record = event.get("detail")
        if not isinstance(record, Mapping):
            return _Skip(label_id, label_name, "detail is not an object")

    event_id = _str(record.get("eventID")) or _str(envelope.get("id"))
    name = _str(record.get("eventName"))
    source = record.get("eventSource")
    if source != EC2_SOURCE and not (source is None and envelope):
        reason = "no eventSource" if source is None else f"eventSource {_text(source)} is not {EC2_SOURCE}"
        return _Skip(event_id, name, reason)
    if name not in _EVENT_SET:
        return _Skip(event_id, name, "not an event vpcwatch watches" if name else "no eventName")
    if record.get("errorCode") not in (None, ""):
        return _Skip(event_id, name, f"failed call ({_text(record.get('errorCode'))})")

    account = _first_match(
        _ACCOUNT,
        record.get("recipientAccountId"),
        _get(record.get("userIdentity"), "accountId"),
        envelope.get("account"),
    )
    if account is None:
        return _Skip(event_id, name, "no account id (recipientAccountId, userIdentity.accountId, account)")
    region = _first_match(_REGION, record.get("awsRegion"), envelope.get("region"))
    if region is None:
        return _Skip(event_id, name, "no region (awsRegion, region)")

    documents = []
    for key in ("requestParameters", "responseElements"):
        document = record.get(key)
        if document is None:
            continue
        if not isinstance(document, Mapping):
            return _Skip(event_id, name, f"{key} is a {type(document).__name__}, not an object")
        documents.append(document)

    found: dict[str, dict[str, None]] = {kind: {} for kind in KIND_FIELDS}
    resources: dict[str, None] = {}
    for document in documents:
        _collect_ids(document, found, resources)

    resource_ids: tuple[str, ...] = ()
    if name in TAG_EVENTS:
        request = record.get("requestParameters") or {}
        if not _touches_exemption(name, request):
            return _Skip(event_id, name, f"no {EXEMPT_TAG} tag in the request", level=logging.INFO)
        if not any(found.values()):
            return _Skip(event_id, name, "tags no resource vpcwatch audits", level=logging.INFO)
        resource_ids = tuple(resources)

    return Touched(
        event_id=event_id,
        event_name=name,
        account_id=account,
        region=region,
        resource_ids=resource_ids,
        **{KIND_FIELDS[kind]: tuple(ids) for kind, ids in found.items()},
    )


_ACCOUNT = re.compile(r"^\d{12}$")
_REGION = re.compile(r"^[a-z]{2}(?:-[a-z]+)+-\d{1,2}$")


def _first_match(pattern: re.Pattern[str], *values: Any) -> str | None:
    for value in values:
        if isinstance(value, str) and pattern.match(value):
            return value
    return None


def _get(value: Any, key: str) -> Any:
    return value.get(key) if isinstance(value, Mapping) else None


def _str(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _norm(key: Any) -> str:
    return "".join(c for c in key.lower() if c.isalnum()) if isinstance(key, str) else ""


def _names_id(key: str) -> bool:
    return key.endswith(("id", "ids", "idset"))


def _collect_ids(root: Mapping[str, Any], found: dict[str, dict[str, None]], resources: dict[str, None]) -> None:
    """Every id in ``root``, by kind, in document order (iterative: no recursion limit)."""
    stack: list[tuple[Any, str]] = [(root, "")]
    seen = 0
    while stack and seen < _MAX_NODES:
        node, context = stack.pop()
        seen += 1
        if isinstance(node, str):
            if len(node) > _MAX_ID_LENGTH:
                continue
            match = (_LOOSE_ID if _names_id(context) else _STRICT_ID).match(node)
            if match:
                found[match.group(1)][node] = None
            if context in ("resourceid", "resourceids", "resourceidset") and _ANY_ID.match(node):
                resources[node] = None
        elif isinstance(node, Mapping):
            children = []
            for key, value in node.items():
                norm = _norm(key)
                if norm in _OPAQUE_KEYS:
                    continue
                children.append((value, context if norm in _TRANSPARENT_KEYS else norm))
            stack.extend(reversed(children))
        elif isinstance(node, list | tuple):
            stack.extend((value, context) for value in reversed(node))


def _touches_exemption(name: str, request: Any) -> bool:
    """Whether a tag call sets or removes ``vpcwatch:exempt`` (DeleteTags without any key
    removes every tag, that one included)."""
    keys: list[str] = []
    stack: list[Any] = [request]
    seen = 0
    while stack and seen < _MAX_NODES:
        node = stack.pop()
        seen += 1
        if isinstance(node, Mapping):
            for key, value in node.items():
                if _norm(key) == "key" and isinstance(value, str):
                    keys.append(value)
                else:
                    stack.append(value)
        elif isinstance(node, list | tuple):
            stack.extend(node)
    return EXEMPT_TAG in keys or (name == "DeleteTags" and not keys)


def _text(value: Any) -> str:
    """A value fit for one log line."""
    if not isinstance(value, str):
        return "-" if value is None else type(value).__name__
    return "".join(c if c.isprintable() else "?" for c in value[:80]) or "-"


def _labels(event: Any) -> tuple[str, str]:
    try:
        record = event.get("detail") if isinstance(event.get("detail"), Mapping) else event
        return _text(record.get("eventID") or event.get("id")), _text(record.get("eventName"))
    except Exception:
        return "-", "-"


# ---------------------------------------------------------------------------------
# What to re-audit
# ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Scope:
    account_id: str
    region: str
    vpc_ids: tuple[str, ...]
    region_wide: bool
    checks: tuple[str, ...] | None  # None: every check
    reason: str
    # VPCs of this account in other regions whose verdicts the change moves (the other
    # side of a cross-region peering: its finding lives in the requester's region).
    elsewhere: tuple[tuple[str, tuple[str, ...]], ...] = ()

    @property
    def empty(self) -> bool:
        """Nothing to re-audit: the change touches nothing a check reads."""
        return not self.region_wide and not self.vpc_ids and not self.elsewhere


# Kinds that live outside any VPC: an unresolved one needs the region, for these checks.
_REGION_CHECKS: dict[str, tuple[str, ...] | None] = {
    "fl": FLOW_LOG_CHECKS,
    "vpce-svc": ENDPOINT_SERVICE_CHECKS,
    "cvpn-endpoint": CLIENT_VPN_CHECKS,
}


def _events_of(*families: str) -> frozenset[str]:
    return frozenset(name for family in FAMILIES if family.name in families for name in family.events)


# How each event is resolved to VPCs (by family, so a name added to a family has a plan).
_VPC_EVENTS = _events_of("vpc", "vpc-cidr")
_VPC_CREATIONS = frozenset({"CreateVpc", "CreateDefaultVpc"})  # a new VPC has no peering or attachment yet
_PEERING_EVENTS = _events_of("peering")
_TGW_EVENTS = _events_of("transit-gateway")
_VPN_EVENTS = frozenset({"CreateVpnConnection", "ModifyVpnConnection", "DeleteVpnConnection"})
_TGW_ATTACHMENT_EVENTS = _events_of("tgw-attachment", "tgw-connect-peer") - _VPN_EVENTS
_TGW_TABLE_EVENTS = _events_of(
    "tgw-route-table", "tgw-route", "tgw-prefix-list-reference", "tgw-association", "tgw-propagation"
)
_ENDPOINT_SERVICE_EVENTS = _events_of("endpoint-service")
_PREFIX_LIST_EVENTS = _events_of("prefix-list")

_RTB_SUBJECTS: tuple[tuple[str, ...], ...] = (("rtb",), ("rtbassoc",), ("subnet",))
# Changes inside one VPC: the first group of kinds the event names decides. Every id of an
# event like these lies in one VPC, so the VPC it names (if any) settles it without a call;
# route targets (igw, nat, pcx, vpce) are not subjects: a route changes its own table only.
_SUBJECTS: dict[str, tuple[tuple[str, ...], ...]] = {
    "CreateSubnet": (("vpc",), ("subnet",)),
    "CreateDefaultSubnet": (("vpc",), ("subnet",)),
    "DeleteSubnet": (("vpc",), ("subnet",)),
    "AssociateSubnetCidrBlock": (("vpc",), ("subnet",)),
    "DisassociateSubnetCidrBlock": (("vpc",), ("subnet",)),
    "CreateRouteTable": (("vpc",), ("rtb",)),
    "DeleteRouteTable": _RTB_SUBJECTS,
    "AssociateRouteTable": _RTB_SUBJECTS,
    "ReplaceRouteTableAssociation": _RTB_SUBJECTS,
    "CreateRoute": _RTB_SUBJECTS,
    "ReplaceRoute": _RTB_SUBJECTS,
    "DeleteRoute": _RTB_SUBJECTS,
    "EnableVgwRoutePropagation": _RTB_SUBJECTS,
    "DisableVgwRoutePropagation": _RTB_SUBJECTS,
    "DisassociateRouteTable": (("rtbassoc",), ("rtb",)),
    "AttachInternetGateway": (("vpc",), ("igw",)),
    "DetachInternetGateway": (("vpc",), ("igw",)),
    "CreateNatGateway": (("vpc",), ("subnet",), ("nat",)),
    "DeleteNatGateway": (("nat",),),
    "CreateFlowLogs": (("vpc", "subnet"), ("fl",)),
    "DeleteFlowLogs": (("fl",),),
    "CreateVpcEndpoint": (("vpc",), ("vpce",)),
    "ModifyVpcEndpoint": (("vpce",),),
    "DeleteVpcEndpoints": (("vpce",),),
    "CreateClientVpnEndpoint": (("vpc",), ("cvpn-endpoint",)),
    # VpcId may move the endpoint: the new VPC (named), the old one (memory).
    "ModifyClientVpnEndpoint": (("vpc", "cvpn-endpoint"),),
    "DeleteClientVpnEndpoint": (("cvpn-endpoint",),),
    "AuthorizeClientVpnIngress": (("cvpn-endpoint",),),
    "RevokeClientVpnIngress": (("cvpn-endpoint",),),
}


def resolve_scope(touched: Touched, ec2: Any, memory: Mapping[str, str]) -> Scope:
    """The VPCs (or the region) to re-audit after the change ``touched`` describes.

    ``ec2`` is a client for ``touched.region``; ``memory`` maps resource ids to the VPC the
    store last saw them in. Never raises: a failed lookup falls back to memory, else to a
    region-wide audit."""
    resolver = _Resolver(touched, ec2, memory)
    try:
        resolver.run()
    except Exception as exc:  # a bug here must not cost the event: audit the region instead
        log.exception("event %s %s: scope resolution failed", touched.event_id, touched.event_name)
        resolver.region(None, f"resolution failed ({type(exc).__name__})")
    return resolver.scope()


@dataclass
class _Resolver:
    touched: Touched
    ec2: Any
    memory: Mapping[str, str]
    vpcs: dict[str, None] = field(default_factory=dict)
    neighbours: dict[str, None] = field(default_factory=dict)
    region_checks: set[str] = field(default_factory=set)
    region_all: bool = False
    notes: list[str] = field(default_factory=list)
    subjects: list[str] = field(default_factory=list)
    remote: dict[str, dict[str, None]] = field(default_factory=dict)  # region -> VPC ids

    # -- outcome -------------------------------------------------------------------
    def add(self, vpc_ids: Iterable[str]) -> None:
        self.vpcs.update(dict.fromkeys(v for v in vpc_ids if v))

    def region(self, checks: Sequence[str] | None, note: str) -> None:
        if checks is None:
            self.region_all = True
        else:
            self.region_checks.update(checks)
        self.notes.append(note)

    def scope(self) -> Scope:
        t = self.touched
        subject = f"{t.event_name} on {_brief(self.subjects or t.named) or 'no named resource'}"
        region_wide = self.region_all or bool(self.region_checks)
        checks: tuple[str, ...] | None = None
        vpc_ids = tuple(self.vpcs)
        if region_wide:
            if not self.region_all and not vpc_ids and not self.neighbours:
                checks = tuple(spec.id for spec in REGISTRY if spec.id in self.region_checks)
            vpc_ids = ()
            outcome = "the whole region" if checks is None else f"the region for {_brief(checks)}"
        elif vpc_ids:
            checks = checks_for_event(t.event_name)
            vpc_ids = (*vpc_ids, *(n for n in self.neighbours if n not in self.vpcs))
            outcome = f"in {_brief(tuple(self.vpcs))}"
            extra = [n for n in self.neighbours if n not in self.vpcs]
            if extra:
                outcome += f", with neighbours {_brief(extra)}"
        else:
            outcome = "touches nothing vpcwatch audits"
        elsewhere = tuple((region, tuple(vpcs)) for region, vpcs in sorted(self.remote.items()))
        if elsewhere:
            outcome += f"; and {', '.join(f'{_brief(v)} in {r}' for r, v in elsewhere)}"
            if checks is None and not region_wide:
                checks = checks_for_event(t.event_name)
        notes = f" ({'; '.join(dict.fromkeys(self.notes))})" if self.notes else ""
        return Scope(
            account_id=t.account_id,
            region=t.region,
            vpc_ids=vpc_ids,
            region_wide=region_wide,
            checks=checks,
            reason=f"{subject}: {outcome}{notes}",
            elsewhere=elsewhere,
        )

    # -- plan ----------------------------------------------------------------------
    def run(self) -> None:
        t, name = self.touched, self.touched.event_name
        if name in _ENDPOINT_SERVICE_EVENTS:
            self.subjects = list(t.endpoint_service_ids)
            self.region(checks_for_event(name), "endpoint services belong to no VPC")
        elif name in _PREFIX_LIST_EVENTS:
            self.subjects = list(t.prefix_list_ids)
            self.region(checks_for_event(name), "routes anywhere may use a prefix list")
        elif name in _VPC_EVENTS:
            self._vpc_change()
        elif name in _PEERING_EVENTS:
            self.subjects = list(t.peering_ids or t.vpc_ids)
            self._peerings(t.peering_ids, fallback=t.vpc_ids)
        elif name in _TGW_EVENTS:
            self._transit_gateway()
        elif name in _TGW_ATTACHMENT_EVENTS:
            self._tgw_attachment()
        elif name in _VPN_EVENTS:
            self._vpn_connection()
        elif name in _TGW_TABLE_EVENTS:
            self._tgw_route_table()
        elif name == "DeleteInternetGateway":
            # AWS deletes only detached gateways: no VPC changes, unless memory still ties one.
            self.subjects = list(t.igw_ids)
            self.add(self.memory[i] for i in t.igw_ids if isinstance(self.memory.get(i), str))
            self.notes.append("AWS deletes only detached internet gateways")
        elif name in _SUBJECTS:
            for group in _SUBJECTS[name]:
                if any(t.ids(kind) for kind in group):
                    for kind in group:
                        self.subjects.extend(t.ids(kind))
                        self.resolve(kind, t.ids(kind))
                    break
            else:
                self.region(None, "the event names no resource")
        else:  # tags, and any name added to EVENT_NAMES without a plan: every kind named
            self.subjects = list(t.named)
            for kind in KIND_FIELDS:
                if t.ids(kind):
                    self.resolve(kind, t.ids(kind))
            if not t.named:
                self.region(None, "the event names no resource")

    def resolve(self, kind: str, ids: Sequence[str]) -> None:
        if not ids:
            return
        if kind == "vpc":
            self.add(ids)
        elif kind == "vpce-svc":
            self.region(ENDPOINT_SERVICE_CHECKS, "endpoint services belong to no VPC")
        elif kind == "pl":
            self.region(None, "routes anywhere may use a prefix list")
        elif kind == "pcx":
            self._peerings(ids, fallback=())
        elif kind == "tgw":
            self._tgw_vpcs(ids, required=True)
        elif kind == "tgw-rtb":
            self._table_vpcs(ids)
        elif kind == "tgw-attach":
            vpcs, tgws = self._attachments(ids)
            self.add(vpcs)
            self._tgw_vpcs(tgws, required=not vpcs)
        elif kind == "vpn":
            tgws, failed = self._vpn_gateways(ids)
            if tgws:
                self._tgw_vpcs(tgws, required=True)
            elif failed:
                self.region(None, f"{_brief(ids)} could not be looked up")
        elif kind == "cvpn-endpoint":
            self._client_vpn(ids)
        elif kind == "fl":
            self._flow_logs(ids)
        elif kind == "igw":
            self._internet_gateways(ids)
        else:
            self._by_lookup(kind, ids)

    # -- kinds inside one VPC ----------------------------------------------------------
    def _by_lookup(self, kind: str, ids: Sequence[str]) -> None:
        """subnet, rtb, rtbassoc, vpce, nat: memory first (their VPC never changes), then one
        filtered describe; what neither knows needs the region."""
        known, unknown = self._remembered(ids)
        self.add(known.values())
        if not unknown:
            return
        found = _LOOKUPS[kind](self, unknown)
        if found is None:
            self.region(_REGION_CHECKS.get(kind), f"{_brief(unknown)} could not be looked up")
            return
        self.add(found[i] for i in unknown if i in found)
        missing = [i for i in unknown if i not in found]
        if missing:
            self.region(_REGION_CHECKS.get(kind), f"{_brief(missing)} unknown to AWS and to memory")

    def _remembered(self, ids: Sequence[str]) -> tuple[dict[str, str], list[str]]:
        known = {i: self.memory[i] for i in ids if isinstance(self.memory.get(i), str)}
        return known, [i for i in ids if i not in known]

    def _subnets(self, ids: Sequence[str]) -> dict[str, str] | None:
        items = self.call("DescribeSubnets", "Subnets", Filters=[{"Name": "subnet-id", "Values": list(ids)}])
        return None if items is None else _pairs(items, "SubnetId", "VpcId", ids)

    def _route_tables(self, ids: Sequence[str]) -> dict[str, str] | None:
        items = self.call(
            "DescribeRouteTables", "RouteTables", Filters=[{"Name": "route-table-id", "Values": list(ids)}]
        )
        return None if items is None else _pairs(items, "RouteTableId", "VpcId", ids)

    def _associations(self, ids: Sequence[str]) -> dict[str, str] | None:
        filters = [{"Name": "association.route-table-association-id", "Values": list(ids)}]
        items = self.call("DescribeRouteTables", "RouteTables", Filters=filters)
        if items is None:
            return None
        wanted, found = set(ids), dict[str, str]()
        for table in items:
            for assoc in _list(table.get("Associations")):
                assoc_id, vpc_id = _s(assoc.get("RouteTableAssociationId")), _s(table.get("VpcId"))
                if assoc_id in wanted and vpc_id:
                    found[assoc_id] = vpc_id
        return found

    def _endpoints(self, ids: Sequence[str]) -> dict[str, str] | None:
        # By id, not by filter: moto has no vpc-endpoint-id filter. AWS fails the whole call
        # on an unknown id, which then falls back like any failure.
        items = self.call("DescribeVpcEndpoints", "VpcEndpoints", VpcEndpointIds=list(ids))
        return None if items is None else _pairs(items, "VpcEndpointId", "VpcId", ids)

    def _nat_gateways(self, ids: Sequence[str]) -> dict[str, str] | None:
        items = self.call(
            "DescribeNatGateways", "NatGateways", Filter=[{"Name": "nat-gateway-id", "Values": list(ids)}]
        )
        return None if items is None else _pairs(items, "NatGatewayId", "VpcId", ids)

    def _flow_logs(self, ids: Sequence[str]) -> None:
        known, unknown = self._remembered(ids)
        self.add(known.values())
        if not unknown:
            return
        items = self.call("DescribeFlowLogs", "FlowLogs", Filter=[{"Name": "flow-log-id", "Values": list(unknown)}])
        if items is None:
            self.region(FLOW_LOG_CHECKS, f"{_brief(unknown)} could not be looked up")
            return
        resources = _pairs(items, "FlowLogId", "ResourceId", unknown)
        self.add(r for r in resources.values() if _kind(r) == "vpc")
        subnets = [r for r in resources.values() if _kind(r) == "subnet"]
        if subnets:
            self._by_lookup("subnet", subnets)
        # ENI and TGW logs: no VPC-scoped audit collects them.
        other = [i for i in unknown if _kind(resources.get(i, "")) not in ("vpc", "subnet")]
        if other:
            self.region(FLOW_LOG_CHECKS, f"{_brief(other)} not tied to a known VPC")

    # -- kinds whose VPC can change: ask AWS first ------------------------------------------
    def _internet_gateways(self, ids: Sequence[str]) -> None:
        filters = [{"Name": "internet-gateway-id", "Values": list(ids)}]
        items = self.call("DescribeInternetGateways", "InternetGateways", Filters=filters)
        seen = set()
        for igw in items or []:
            if igw.get("InternetGatewayId") in ids:
                seen.add(igw["InternetGatewayId"])
                self.add(str(a["VpcId"]) for a in _list(igw.get("Attachments")) if isinstance(a.get("VpcId"), str))
        self._from_memory([i for i in ids if i not in seen], None)

    def _client_vpn(self, ids: Sequence[str]) -> None:
        items = self.call("DescribeClientVpnEndpoints", "ClientVpnEndpoints", ClientVpnEndpointIds=list(ids))
        found = {} if items is None else _pairs(items, "ClientVpnEndpointId", "VpcId", ids)
        self.add(found.values())
        # The VPC memory saw too: a ModifyClientVpnEndpoint may have moved the endpoint.
        self.add(self.memory[i] for i in ids if isinstance(self.memory.get(i), str))
        self._from_memory([i for i in ids if i not in found], CLIENT_VPN_CHECKS)

    def _from_memory(self, ids: Sequence[str], checks: tuple[str, ...] | None) -> None:
        known, unknown = self._remembered(ids)
        self.add(known.values())
        if unknown:
            self.region(checks, f"{_brief(unknown)} unknown to AWS and to memory")

    def _peerings(self, ids: Sequence[str], fallback: Sequence[str]) -> None:
        if not ids:
            if fallback:
                self.add(fallback)
            else:
                self.region(None, "the event names no peering")
            return
        # By id: moto ignores the vpc-peering-connection-id filter.
        items = self.call("DescribeVpcPeeringConnections", "VpcPeeringConnections", VpcPeeringConnectionIds=list(ids))
        seen = set()
        for peering in items or []:
            if peering.get("VpcPeeringConnectionId") in ids:
                seen.add(peering["VpcPeeringConnectionId"])
                self.add(self._local_sides(peering))
        known, unknown = self._remembered([i for i in ids if i not in seen])
        self.add(known.values())
        if unknown and fallback:
            self.add(fallback)  # the VPCs the event itself names
        elif unknown:
            self.region(None, f"{_brief(unknown)} unknown to AWS and to memory")

    def _local_sides(self, peering: Mapping[str, Any]) -> list[str]:
        """The VPCs of a peering that live in this account and region. A side of this
        account in another region is remembered in ``remote``: a cross-region peering's
        finding lives in its requester's region, which the change moves too. Another
        account's side is that account's business."""
        sides = []
        for key in ("RequesterVpcInfo", "AccepterVpcInfo"):
            side = peering.get(key)
            if not isinstance(side, Mapping) or not isinstance(side.get("VpcId"), str):
                continue
            owner, region = side.get("OwnerId"), side.get("Region")
            if owner not in (None, "", self.touched.account_id):
                continue
            if region in (None, "", self.touched.region):
                sides.append(side["VpcId"])
            elif isinstance(region, str) and _REGION.match(region):
                self.remote.setdefault(region, {})[side["VpcId"]] = None
        return sides

    # -- transit gateways ------------------------------------------------------------
    def _transit_gateway(self) -> None:
        t = self.touched
        self.subjects = list(t.tgw_ids)
        if t.event_name == "DeleteTransitGateway":
            # Its own findings (and its route tables') are TGW-level: only the region covers them.
            self.region(None, "a deleted transit gateway's findings belong to no VPC")
            return
        if not t.tgw_ids:
            self.region(None, "the event names no transit gateway")
            return
        self._tgw_vpcs(t.tgw_ids, required=True)

    def _tgw_attachment(self) -> None:
        t = self.touched
        self.subjects = list(t.tgw_attachment_ids or t.tgw_ids)
        self.add(t.vpc_ids)
        tgws = list(t.tgw_ids)
        if t.tgw_attachment_ids and (not tgws or not t.vpc_ids):
            vpcs, found_tgws = self._attachments(t.tgw_attachment_ids)
            self.add(vpcs)
            tgws.extend(g for g in found_tgws if g not in tgws)
        # The VPCs routed through the same gateway's tables reach this attachment's CIDRs.
        if tgws:
            self._tgw_vpcs(tgws, required=not self.vpcs)
        elif not self.vpcs:
            self.region(None, "no VPC or transit gateway known for the attachment")

    def _tgw_route_table(self) -> None:
        t = self.touched
        self.subjects = list(t.tgw_route_table_ids or t.tgw_ids)
        if t.event_name == "DeleteTransitGatewayRouteTable":
            # AWS deletes only tables without associations or propagations: no VPC's reach
            # changes, and the table's findings belong to no VPC.
            self.region(TGW_ROUTE_TABLE_CHECKS, "a deleted TGW route table's findings belong to no VPC")
            return
        if t.event_name == "CreateTransitGatewayRouteTable":
            self.notes.append("a new TGW route table has no route, association or propagation yet")
            return
        self.add(t.vpc_ids)  # the attachment's VPC the response names (it may just have left)
        if not t.tgw_route_table_ids:
            self.region(None, "the event names no TGW route table")
            return
        self._table_vpcs(t.tgw_route_table_ids)

    def _table_vpcs(self, tables: Sequence[str]) -> None:
        """Every VPC associated with or propagating into the tables; when there is none, the
        VPCs on the table's gateway (a scoped audit then collects the table)."""
        before = len(self.vpcs)
        failed = False
        for table in tables:
            for operation, key in (
                ("GetTransitGatewayRouteTableAssociations", "Associations"),
                ("GetTransitGatewayRouteTablePropagations", "TransitGatewayRouteTablePropagations"),
            ):
                items = self.call(operation, key, TransitGatewayRouteTableId=table)
                if items is None:
                    failed = True
                    continue
                self.add(_vpc_resources(items))
        if len(self.vpcs) > before:
            return
        tgws = list(self.touched.tgw_ids)
        if not tgws and self.touched.tgw_attachment_ids:
            tgws = self._attachments(self.touched.tgw_attachment_ids)[1]
        if tgws:
            self._tgw_vpcs(tgws, required=True)
        else:
            self.region(None, "TGW route table lookup failed" if failed else "no VPC uses the TGW route table")

    def _tgw_vpcs(self, tgws: Sequence[str], *, required: bool) -> None:
        """The VPCs attached to the gateways (what a scoped audit needs to collect their
        tables). ``required``: when there is none, only the region covers the change."""
        if not tgws:
            if required:
                self.region(None, "no transit gateway known")
            return
        filters = [
            {"Name": "transit-gateway-id", "Values": list(tgws)},
            {"Name": "resource-type", "Values": ["vpc"]},
        ]
        items = self.call("DescribeTransitGatewayAttachments", "TransitGatewayAttachments", Filters=filters)
        if items is None:
            self.region(None, "TGW attachments could not be looked up")
            return
        vpcs = [
            str(a["ResourceId"])
            for a in items
            if a.get("TransitGatewayId") in tgws
            and a.get("ResourceType") == "vpc"
            and isinstance(a.get("ResourceId"), str)
        ]
        self.add(vpcs)
        if not vpcs and required:
            self.region(None, f"no VPC attached to {_brief(tgws)}")

    def _attachments(self, ids: Sequence[str]) -> tuple[list[str], list[str]]:
        """(VPC ids, TGW ids) of attachments: VPCs from memory when it knows them all."""
        known, unknown = self._remembered(ids)
        vpcs = list(known.values())
        filters = [{"Name": "transit-gateway-attachment-id", "Values": list(ids)}]
        items = self.call("DescribeTransitGatewayAttachments", "TransitGatewayAttachments", Filters=filters)
        tgws: list[str] = []
        for a in items or []:
            if a.get("TransitGatewayAttachmentId") not in ids:
                continue  # moto ignores this filter
            if isinstance(a.get("TransitGatewayId"), str):
                tgws.append(a["TransitGatewayId"])
            if a.get("ResourceType") == "vpc" and isinstance(a.get("ResourceId"), str):
                vpcs.append(a["ResourceId"])
                unknown = [i for i in unknown if i != a["TransitGatewayAttachmentId"]]
        if unknown and items is None:
            self.notes.append(f"{_brief(unknown)} could not be looked up")
        return list(dict.fromkeys(vpcs)), list(dict.fromkeys(tgws))

    # -- Site-to-Site VPN connections -------------------------------------------------------
    def _vpn_connection(self) -> None:
        """A VPN connection on a transit gateway is one of its attachments (its routes
        propagate into the gateway's tables): the VPCs on that gateway, as for any
        attachment. One on a virtual private gateway changes nothing a check reads."""
        t = self.touched
        self.subjects = list(t.vpn_connection_ids or t.tgw_ids)
        tgws = list(t.tgw_ids)
        failed = False
        # A creation names its gateway; a modification may move the connection away from
        # one, and a deletion names only the connection: their attachments tell.
        if t.vpn_connection_ids and t.event_name != "CreateVpnConnection":
            found, failed = self._vpn_gateways(t.vpn_connection_ids)
            tgws.extend(g for g in found if g not in tgws)
        if failed:  # the gateway it left is unknown: the region, for what the call can move
            self.region(checks_for_event(t.event_name), f"{_brief(t.vpn_connection_ids)} could not be looked up")
        elif tgws:
            self._tgw_vpcs(tgws, required=True)
        else:
            self.notes.append("no transit gateway attachment: a virtual private gateway's VPN, which no check reads")

    def _vpn_gateways(self, ids: Sequence[str]) -> tuple[list[str], bool]:
        """(transit gateways, lookup failed) of the VPN attachments of these connections,
        in any state (a deleted or moved connection leaves its attachment deleting)."""
        filters = [{"Name": "resource-type", "Values": ["vpn"]}, {"Name": "resource-id", "Values": list(ids)}]
        items = self.call("DescribeTransitGatewayAttachments", "TransitGatewayAttachments", Filters=filters)
        tgws = [
            str(a["TransitGatewayId"])
            for a in items or []
            if a.get("ResourceId") in ids and isinstance(a.get("TransitGatewayId"), str)
        ]
        return list(dict.fromkeys(tgws)), items is None

    # -- VPC changes and their neighbours ----------------------------------------------------
    def _vpc_change(self) -> None:
        t = self.touched
        self.subjects = list(t.vpc_ids)
        if not t.vpc_ids:
            self.region(None, "the event names no VPC")
            return
        self.add(t.vpc_ids)  # a deleted VPC stays: the scoped audit resolves its findings
        if t.event_name not in _VPC_CREATIONS:
            self._neighbours(t.vpc_ids, deleted=t.event_name == "DeleteVpc")

    def _neighbours(self, vpc_ids: Sequence[str], *, deleted: bool) -> None:
        """VPCs whose overlap checks read these VPCs' CIDRs: their peers, and the VPCs on the
        same transit gateways (a superset of those sharing a TGW route table, found in one
        call instead of two per table)."""
        wanted = set(vpc_ids)
        # All peerings in one call: EC2 ANDs the requester and accepter filters.
        peerings = self.call("DescribeVpcPeeringConnections", "VpcPeeringConnections")
        if peerings is None:
            self.region(None, "peerings could not be looked up")
        else:
            for peering in peerings:
                sides = {_s(_get(peering.get(k), "VpcId")) for k in ("RequesterVpcInfo", "AccepterVpcInfo")}
                status = _s(_get(peering.get("Status"), "Code"))
                # A deleted VPC's peerings are all gone by now: each still names a peer.
                if (deleted or is_present(status)) and wanted & sides:
                    local = self._local_sides(peering)
                    self.neighbours.update(dict.fromkeys(v for v in local if v not in wanted))
        filters = [{"Name": "resource-type", "Values": ["vpc"]}]
        attachments = self.call("DescribeTransitGatewayAttachments", "TransitGatewayAttachments", Filters=filters)
        if attachments is None:
            self.region(None, "TGW attachments could not be looked up")
            return
        live = [
            (_s(a.get("TransitGatewayId")), _s(a.get("ResourceId")))
            for a in attachments
            if a.get("ResourceType") == "vpc" and not is_gone(_s(a.get("State")))
        ]
        tgws = {tgw for tgw, vpc in live if tgw and vpc in wanted}
        self.neighbours.update(dict.fromkeys(vpc for tgw, vpc in live if tgw in tgws and vpc and vpc not in wanted))

    # -- calls -------------------------------------------------------------------------
    def call(self, operation: str, key: str, **params: Any) -> list[Mapping[str, Any]] | None:
        """The items of every page of one call, or None (logged) when it failed."""
        method = xform_name(operation)
        try:
            if self.ec2.can_paginate(method):
                pages: Iterable[Any] = self.ec2.get_paginator(method).paginate(**params)
            else:
                pages = [getattr(self.ec2, method)(**params)]
            return [item for page in pages for item in _list(_get(page, key))]
        except Exception as exc:  # AccessDenied, throttling past retries, unsupported, ...
            code = error_code(exc)
            log.warning(
                "event %s %s: ec2:%s failed (%s), falling back to memory or the region",
                self.touched.event_id,
                self.touched.event_name,
                operation,
                code,
            )
            self.notes.append(f"ec2:{operation} {code}")
            return None


_LOOKUPS = {
    "subnet": _Resolver._subnets,
    "rtb": _Resolver._route_tables,
    "rtbassoc": _Resolver._associations,
    "vpce": _Resolver._endpoints,
    "nat": _Resolver._nat_gateways,
}


def _s(value: Any) -> str | None:
    """A string field of an AWS answer, else None (never an unhashable value)."""
    return value if isinstance(value, str) else None


def _list(value: Any) -> list[Mapping[str, Any]]:
    return [v for v in value if isinstance(v, Mapping)] if isinstance(value, list) else []


def _pairs(items: Iterable[Mapping[str, Any]], id_key: str, value_key: str, wanted: Sequence[str]) -> dict[str, str]:
    """id -> value for the wanted ids (client-side too: emulators ignore some filters)."""
    return {
        str(item[id_key]): str(item[value_key])
        for item in items
        if item.get(id_key) in wanted and isinstance(item.get(value_key), str) and item[value_key]
    }


def _vpc_resources(items: Iterable[Mapping[str, Any]]) -> list[str]:
    return [
        str(item["ResourceId"])
        for item in items
        if item.get("ResourceType") == "vpc" and isinstance(item.get("ResourceId"), str)
    ]


def _kind(resource_id: str) -> str:
    match = _LOOSE_ID.match(resource_id)
    return match.group(1) if match else ""


def _brief(ids: Sequence[str], limit: int = 3) -> str:
    shown = ", ".join(ids[:limit])
    return f"{shown} +{len(ids) - limit}" if len(ids) > limit else shown
