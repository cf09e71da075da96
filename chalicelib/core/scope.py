"""A CloudTrail EC2 event -> what it touched (``Touched``) -> how far its re-audit reaches (``Scope``).

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

``Scope`` is what a re-audit covers; the tables below say, per family of events, which
named kinds decide the VPCs. ``chalicelib.aws.resolve`` follows them with EC2 lookups.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, NamedTuple

from chalicelib.core.events import (
    CLIENT_VPN_CHECKS,
    DETAIL_TYPE,
    EC2_SOURCE,
    EGRESS_ONLY_GATEWAY_CHECKS,
    ENDPOINT_SERVICE_CHECKS,
    ENVELOPE_SOURCE,
    EVENT_NAMES,
    FAMILIES,
    FLOW_LOG_CHECKS,
    NETWORK_ACL_CHECKS,
    TAG_EVENTS,
    VPN_GATEWAY_CHECKS,
)
from chalicelib.core.ids import ACCOUNT_RE, MINTED_SUFFIX, REGION_RE, TOKEN_SUFFIX
from chalicelib.core.model import EXEMPT_TAG
from chalicelib.core.untrusted import member, string

log = logging.getLogger("vpcwatch.events")

_WATCHED = frozenset(EVENT_NAMES)

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
    network_acl_ids: tuple[str, ...] = ()
    acl_association_ids: tuple[str, ...] = ()  # network ACL associations (aclassoc-)
    eigw_ids: tuple[str, ...] = ()  # egress-only internet gateways
    vgw_ids: tuple[str, ...] = ()  # virtual private gateways
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
    "acl": "network_acl_ids",
    "aclassoc": "acl_association_ids",
    "eigw": "eigw_ids",
    "vgw": "vgw_ids",
}
_PREFIXES = "|".join(re.escape(p) for p in sorted(KIND_FIELDS, key=len, reverse=True))
# Anywhere in the payload: exactly an id as AWS mints them (8 or 17 hex digits). Anchored,
# so 'vpc-' never takes 'vpce-…' or 'vpc-cidr-assoc-…', nor 'tgw-' a 'tgw-rtb-…'.
_STRICT_ID = re.compile(rf"^({_PREFIXES})-{MINTED_SUFFIX}$")
# Under a key naming an id: any single token (test and documentation ids: rtb-1, vpc-xxx,
# tgw-0262a0e521EXAMPLE). A second '-' would make it another kind's id, so none allowed.
_LOOSE_ID = re.compile(rf"^({_PREFIXES})-{TOKEN_SUFFIX}$")
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

    event_id = string(record.get("eventID")) or string(envelope.get("id")) or ""
    name = string(record.get("eventName")) or ""
    source = record.get("eventSource")
    if source != EC2_SOURCE and not (source is None and envelope):
        reason = "no eventSource" if source is None else f"eventSource {_text(source)} is not {EC2_SOURCE}"
        return _Skip(event_id, name, reason)
    if name not in _WATCHED:
        return _Skip(event_id, name, "not an event vpcwatch watches" if name else "no eventName")
    if record.get("errorCode") not in (None, ""):
        return _Skip(event_id, name, f"failed call ({_text(record.get('errorCode'))})")

    account = _first_match(
        ACCOUNT_RE,
        record.get("recipientAccountId"),
        member(record.get("userIdentity"), "accountId"),
        envelope.get("account"),
    )
    if account is None:
        return _Skip(event_id, name, "no account id (recipientAccountId, userIdentity.accountId, account)")
    region = _first_match(REGION_RE, record.get("awsRegion"), envelope.get("region"))
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


def _first_match(pattern: re.Pattern[str], *values: Any) -> str | None:
    for value in values:
        if isinstance(value, str) and pattern.match(value):
            return value
    return None


def _norm_key(key: Any) -> str:
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
                norm = _norm_key(key)
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
                if _norm_key(key) == "key" and isinstance(value, str):
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
REGION_CHECKS: dict[str, tuple[str, ...] | None] = {
    "fl": FLOW_LOG_CHECKS,
    "vpce-svc": ENDPOINT_SERVICE_CHECKS,
    "cvpn-endpoint": CLIENT_VPN_CHECKS,
    # What only the path engine reads: its checks judge the region (never a VPC).
    "acl": NETWORK_ACL_CHECKS,
    "aclassoc": NETWORK_ACL_CHECKS,
    "eigw": EGRESS_ONLY_GATEWAY_CHECKS,
    "vgw": VPN_GATEWAY_CHECKS,
}
PATH_KINDS = frozenset({"acl", "aclassoc", "eigw", "vgw"})


def _events_of(*families: str) -> frozenset[str]:
    return frozenset(name for family in FAMILIES if family.name in families for name in family.events)


# How each event is resolved to VPCs (by family, so a name added to a family has a plan).
VPC_EVENTS = _events_of("vpc", "vpc-cidr")
VPC_CREATIONS = frozenset({"CreateVpc", "CreateDefaultVpc"})  # a new VPC has no peering or attachment yet
PEERING_EVENTS = _events_of("peering")
TGW_EVENTS = _events_of("transit-gateway")
VPN_EVENTS = frozenset({"CreateVpnConnection", "ModifyVpnConnection", "DeleteVpnConnection"})
TGW_ATTACHMENT_EVENTS = _events_of("tgw-attachment", "tgw-peering-attachment", "tgw-connect-peer") - VPN_EVENTS
TGW_TABLE_EVENTS = _events_of(
    "tgw-route-table", "tgw-route", "tgw-prefix-list-reference", "tgw-association", "tgw-propagation"
)
ENDPOINT_SERVICE_EVENTS = _events_of("endpoint-service")
PREFIX_LIST_EVENTS = _events_of("prefix-list")
# Changes to what only the path engine reads. A network ACL's: its checks, region-wide. A
# gateway's: the VPC it is attached to (whose routes to it turn active or blackhole), when
# the event names one; else the region. AWS deletes only detached virtual private gateways
# and a new one is attached to nothing: no route table changes, the path checks judge it.
NETWORK_ACL_EVENTS = _events_of("network-acl")
PATH_GATEWAY_EVENTS = _events_of("egress-only-internet-gateway", "vpn-gateway")
UNATTACHED_GATEWAY_EVENTS = frozenset({"CreateVpnGateway", "DeleteVpnGateway"})

RTB_SUBJECTS: tuple[tuple[str, ...], ...] = (("rtb",), ("rtbassoc",), ("subnet",))
# Changes inside one VPC: the first group of kinds the event names decides. Every id of an
# event like these lies in one VPC, so the VPC it names (if any) settles it without a call;
# route targets (igw, nat, pcx, vpce) are not subjects: a route changes its own table only.
SUBJECTS: dict[str, tuple[tuple[str, ...], ...]] = {
    "CreateSubnet": (("vpc",), ("subnet",)),
    "CreateDefaultSubnet": (("vpc",), ("subnet",)),
    "DeleteSubnet": (("vpc",), ("subnet",)),
    "AssociateSubnetCidrBlock": (("vpc",), ("subnet",)),
    "DisassociateSubnetCidrBlock": (("vpc",), ("subnet",)),
    "CreateRouteTable": (("vpc",), ("rtb",)),
    "DeleteRouteTable": RTB_SUBJECTS,
    "AssociateRouteTable": RTB_SUBJECTS,
    "ReplaceRouteTableAssociation": RTB_SUBJECTS,
    "CreateRoute": RTB_SUBJECTS,
    "ReplaceRoute": RTB_SUBJECTS,
    "DeleteRoute": RTB_SUBJECTS,
    "EnableVgwRoutePropagation": RTB_SUBJECTS,
    "DisableVgwRoutePropagation": RTB_SUBJECTS,
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


def kind_of(resource_id: str) -> str:
    """The audited kind an id names by its prefix ('vpc', 'tgw-rtb', ...), else ''."""
    match = _LOOSE_ID.match(resource_id)
    return match.group(1) if match else ""
