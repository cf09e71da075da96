"""The network snapshot and the finding: typed, frozen, with the joins checks need.

A snapshot holds one account and one region as AWS described it. Joins (subnet ->
effective route table, VPC -> CIDRs, TGW route table -> derived routes, ...) are
computed once, lazily, with ``cached_property`` (which writes to the instance dict and
so works on frozen dataclasses).
"""

from __future__ import annotations

import enum
import hashlib
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from chalicelib.core.ids import REGION_RE
from chalicelib.core.states import is_live, is_present

Tags = Mapping[str, str]
EXEMPT_TAG = "vpcwatch:exempt"


class Severity(enum.IntEnum):
    INFORMATIONAL = 0
    LOW = 1
    MEDIUM = 2
    HIGH = 3
    CRITICAL = 4

    @classmethod
    def parse(cls, value: str) -> Severity:
        try:
            return cls[value.strip().upper()]
        except KeyError:
            names = ", ".join(s.name for s in cls)
            raise ValueError(f"unknown severity {value!r} (expected one of: {names})") from None


# Id prefixes made of two words, which the first word alone would misname.
_COMPOUND_PREFIXES = ("tgw-attach", "tgw-rtb", "vpce-svc", "cvpn-endpoint", "vpc-cidr-assoc")


def target_kind(target_id: str) -> str:
    """The kind of a resource from its id prefix ('local', 'igw', 'pcx', 'tgw', 'tgw-attach', ...)."""
    if target_id == "local":
        return "local"
    for prefix in _COMPOUND_PREFIXES:
        if target_id.startswith(prefix + "-"):
            return prefix
    return target_id.split("-", 1)[0]


def is_default_route(destination: str) -> bool:
    return destination in ("0.0.0.0/0", "::/0")


# ---------------------------------------------------------------------------------
# Resources, as described by EC2 (one record per resource, ids as AWS gives them)
# ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Vpc:
    vpc_id: str
    owner_id: str
    cidrs: tuple[str, ...]  # associated IPv4 then IPv6 CIDR blocks
    is_default: bool = False
    state: str = "available"
    tags: Tags = field(default_factory=dict)


@dataclass(frozen=True)
class Subnet:
    subnet_id: str
    vpc_id: str
    owner_id: str
    cidr: str | None  # None for IPv6-only subnets
    ipv6_cidrs: tuple[str, ...] = ()
    availability_zone: str = ""
    tags: Tags = field(default_factory=dict)


@dataclass(frozen=True)
class Route:
    destination: str  # an IPv4 CIDR, an IPv6 CIDR or a prefix list id (pl-...)
    target: str  # 'local', igw-, nat-, pcx-, tgw-, vpce-, eni-, i-, eigw-, vgw-, ...
    state: str = "active"  # 'active' | 'blackhole'
    origin: str = (
        "CreateRoute"  # CreateRouteTable | CreateRoute | EnableVgwRoutePropagation (the path engine ranks by it)
    )

    @property
    def target_kind(self) -> str:
        return target_kind(self.target)

    @property
    def is_prefix_list(self) -> bool:
        return self.destination.startswith("pl-")


@dataclass(frozen=True)
class RouteTable:
    route_table_id: str
    vpc_id: str
    owner_id: str
    main: bool
    subnet_ids: tuple[str, ...]  # explicit subnet associations
    routes: tuple[Route, ...]
    gateway_ids: tuple[str, ...] = ()  # edge associations (igw / vgw)
    tags: Tags = field(default_factory=dict)


@dataclass(frozen=True)
class InternetGateway:
    gateway_id: str
    vpc_ids: tuple[str, ...]  # attached VPCs
    owner_id: str = ""
    tags: Tags = field(default_factory=dict)


@dataclass(frozen=True)
class NatGateway:
    nat_gateway_id: str
    vpc_id: str
    subnet_id: str
    state: str  # pending | failed | available | deleting | deleted
    connectivity: str = "public"
    tags: Tags = field(default_factory=dict)


@dataclass(frozen=True)
class FlowLog:
    flow_log_id: str
    resource_id: str  # vpc-, subnet-, eni-, tgw-, tgw-attach-
    traffic_type: str | None  # ALL | ACCEPT | REJECT (None for TGW logs)
    status: str  # FlowLogStatus: ACTIVE
    deliver_status: str | None = None  # DeliverLogsStatus: SUCCESS | FAILED
    deliver_error: str | None = None  # DeliverLogsErrorMessage
    destination_type: str = "cloud-watch-logs"
    tags: Tags = field(default_factory=dict)

    @property
    def resource_kind(self) -> str:
        return target_kind(self.resource_id)


@dataclass(frozen=True)
class VpcEndpoint:
    endpoint_id: str
    vpc_id: str
    service_name: str  # com.amazonaws.us-east-1.s3, com.amazonaws.iam, com.amazonaws.vpce.us-east-1.vpce-svc-...
    endpoint_type: str  # Gateway | Interface | GatewayLoadBalancer | Resource | ServiceNetwork
    state: str  # lower-cased: available | pending | pendingacceptance | deleted | failed ...
    route_table_ids: tuple[str, ...] = ()
    subnet_ids: tuple[str, ...] = ()
    private_dns_enabled: bool = False
    owner_id: str = ""
    tags: Tags = field(default_factory=dict)
    service_region: str | None = None  # ServiceRegion: where the service is hosted (cross-region PrivateLink)
    requester_managed: bool = False  # RequesterManaged: created and managed by an AWS service, not the owner

    @property
    def is_aws_service(self) -> bool:
        """True for endpoints to AWS services, False for PrivateLink (vpce-svc) services."""
        return _parse_service_name(self.service_name)[0]

    @property
    def service(self) -> str:
        """Short service name: 'com.amazonaws.us-east-1.ecr.api' -> 'ecr.api', 'com.amazonaws.iam' -> 'iam'."""
        return service_short_name(self.service_name)

    @property
    def service_name_region(self) -> str | None:
        """The region an AWS service name carries ('com.amazonaws.us-west-2.s3' -> 'us-west-2'); None
        for region-less global services ('com.amazonaws.iam', 'aws.api.global.codecatalyst')."""
        return _parse_service_name(self.service_name)[1]

    def serves(self, service: str, region: str) -> bool:
        """True when the endpoint reaches AWS service ``service`` (short name) as offered in
        ``region``: the regional service must be that region's, by its name and by ServiceRegion
        (a cross-region endpoint to com.amazonaws.us-west-2.s3 is not us-east-1's S3); a global
        service (IAM, Route 53, ...) is one service whatever region hosts it."""
        is_aws, name_region, short = _parse_service_name(self.service_name)
        if not is_aws or short != service:
            return False
        if name_region is None:
            return True
        return name_region == region and (not self.service_region or self.service_region == region)


# Prefixes of the service names AWS gives its own services, longest first: com.amazonaws
# (commercial and GovCloud), cn.com.amazonaws (China), the ISO partitions' and the European
# Sovereign Cloud's, and the newer aws.<namespace> / api.aws forms (aws.api.us-east-1.qbusiness,
# aws.sagemaker.us-east-1.notebook, api.aws.us-east-1.cassandra-streams).
_AWS_SERVICE_PREFIXES = (
    "cn.com.amazonaws",
    "com.amazonaws",
    "eu.amazonaws",
    "gov.ic.hci.csp",
    "gov.ic.c2s",
    "gov.sgov.sc2s",
    "uk.adc-e.cloud",
    "api.aws",
    "aws",
)
_GLOBAL = "global"  # aws.api.global.codecatalyst


def _parse_service_name(service_name: str) -> tuple[bool, str | None, str]:
    """(is an AWS service, the region it names or None, the short name). AWS's names are
    <prefix>.<region>.<service> or, for global services, <prefix>.<service>
    (com.amazonaws.iam, com.amazonaws.s3-global.accesspoint, aws.api.global.codecatalyst);
    <prefix>.vpce.<region>.vpce-svc-... names a PrivateLink service of an account."""
    prefix = next((p for p in _AWS_SERVICE_PREFIXES if service_name.startswith(p + ".")), None)
    if prefix is None:
        return False, None, service_name
    labels = service_name[len(prefix) + 1 :].split(".")
    namespace = ""
    if prefix == "aws":  # aws.<namespace>.<region>.<service>: aws.api.*, aws.sagemaker.*
        namespace, labels = labels[0], labels[1:]
    if not labels or "vpce" in (namespace, labels[0]):
        return False, None, service_name
    region: str | None = None
    if REGION_RE.match(labels[0]) or labels[0] == _GLOBAL:
        region, labels = (None if labels[0] == _GLOBAL else labels[0]), labels[1:]
    if prefix == "cn.com.amazonaws" and len(labels) > 1 and labels[-1] == "cn":
        labels = labels[:-1]  # cn.com.amazonaws.cn-north-1.transcribe.cn
    if namespace and namespace != "api":
        labels = [namespace, *labels]  # aws.sagemaker.us-east-1.notebook -> sagemaker.notebook
    if not labels or not all(labels):
        return False, None, service_name
    return True, region, ".".join(labels)


def service_short_name(service_name: str) -> str:
    """'com.amazonaws.us-east-1.ecr.api' -> 'ecr.api'; 'com.amazonaws.iam' -> 'iam';
    'aws.api.global.codecatalyst' -> 'codecatalyst'; anything else is returned whole."""
    return _parse_service_name(service_name)[2]


@dataclass(frozen=True)
class EndpointService:
    service_id: str  # vpce-svc-...
    service_name: str
    acceptance_required: bool
    allowed_principals: tuple[str, ...]
    state: str = "Available"
    owner_id: str = ""
    tags: Tags = field(default_factory=dict)


@dataclass(frozen=True)
class PeeringSide:
    vpc_id: str
    owner_id: str
    region: str
    cidrs: tuple[str, ...]  # IPv4 and IPv6 CIDRs the peering reports for that VPC


@dataclass(frozen=True)
class Peering:
    peering_id: str
    status: str  # active | pending-acceptance | deleted | rejected | failed | expired | ...
    requester: PeeringSide
    accepter: PeeringSide
    tags: Tags = field(default_factory=dict)

    def other_side(self, vpc_id: str) -> PeeringSide | None:
        if self.requester.vpc_id == vpc_id:
            return self.accepter
        if self.accepter.vpc_id == vpc_id:
            return self.requester
        return None


@dataclass(frozen=True)
class TransitGateway:
    tgw_id: str
    owner_id: str
    state: str
    auto_accept_shared_attachments: str = "disable"
    tags: Tags = field(default_factory=dict)


@dataclass(frozen=True)
class TgwAttachment:
    attachment_id: str
    tgw_id: str
    resource_type: str  # vpc | vpn | direct-connect-gateway | peering | connect | ...
    resource_id: str  # the VPC id for VPC attachments
    resource_owner_id: str
    state: str  # available | pending | deleted | ...
    # Its association (DescribeTransitGatewayAttachments' ``Association``): the one TGW route
    # table whose routes its traffic follows, and the association's state (associating |
    # associated | disassociating | disassociated); None when it is associated with none.
    association_route_table_id: str | None = None
    association_state: str | None = None
    tags: Tags = field(default_factory=dict)

    @property
    def associated_table(self) -> str | None:
        """The TGW route table the attachment is associated with (an association being made
        counts, one being removed does not: ``states.is_present``), else None."""
        if self.association_route_table_id and is_present(self.association_state):
            return self.association_route_table_id
        return None


@dataclass(frozen=True)
class TgwRoute:
    destination: str  # CIDR or prefix list id
    route_type: str  # static | propagated
    state: str  # active | blackhole | deleted | pending
    attachment_ids: tuple[str, ...] = ()
    derived: bool = False  # True when vpcwatch derived it from a propagation


@dataclass(frozen=True)
class TgwRouteTable:
    route_table_id: str
    tgw_id: str
    state: str = "available"
    routes: tuple[TgwRoute, ...] = ()  # as AWS reports them (static and propagated)
    propagations: tuple[str, ...] = ()  # attachment ids with an enabled propagation
    # Which attachments are associated with the table is not kept here: each attachment
    # names its table (``TgwAttachment.associated_table``), one fact in one place.
    tags: Tags = field(default_factory=dict)


@dataclass(frozen=True)
class ClientVpnAuthorizationRule:
    destination_cidr: str
    access_all: bool
    group_id: str = ""
    status: str = "active"


@dataclass(frozen=True)
class ClientVpnEndpoint:
    endpoint_id: str
    vpc_id: str | None
    connection_logging: bool
    status: str = "available"
    authorization_rules: tuple[ClientVpnAuthorizationRule, ...] = ()
    tags: Tags = field(default_factory=dict)


@dataclass(frozen=True)
class PrefixList:
    prefix_list_id: str
    name: str
    cidrs: tuple[str, ...] | None  # None when the entries were not collected
    owner_id: str = ""


@dataclass(frozen=True)
class NetworkAclEntry:
    """One rule of a network ACL (DescribeNetworkAcls ``Entries``)."""

    rule_number: int
    egress: bool
    protocol: str  # '-1' (all), '6' (tcp), '17' (udp), '1' (icmp), '58' (icmpv6), or another number
    allow: bool  # RuleAction allow | deny
    cidr: str  # CidrBlock or Ipv6CidrBlock
    port_from: int | None = None  # PortRange (tcp / udp); None: every port
    port_to: int | None = None


@dataclass(frozen=True)
class NetworkAcl:
    network_acl_id: str
    vpc_id: str
    is_default: bool
    entries: tuple[NetworkAclEntry, ...]  # as described; the implicit '*' deny is the evaluator's
    subnet_ids: tuple[str, ...] = ()  # associated subnets (each subnet has exactly one ACL)
    owner_id: str = ""
    tags: Tags = field(default_factory=dict)


@dataclass(frozen=True)
class EgressOnlyInternetGateway:
    gateway_id: str  # eigw-...
    vpc_ids: tuple[str, ...]  # attached VPCs (attachment state attached / attaching)
    tags: Tags = field(default_factory=dict)


@dataclass(frozen=True)
class VpnGateway:
    gateway_id: str  # vgw-...
    state: str  # pending | available | deleting | deleted
    vpc_ids: tuple[str, ...]  # attached VPCs (attachment state attached / attaching)
    tags: Tags = field(default_factory=dict)


@dataclass(frozen=True)
class TgwPeeringAttachment:
    """A TGW peering attachment (DescribeTransitGatewayPeeringAttachments): one id, seen in
    both gateways' regions, each side associated with a route table of its own gateway."""

    attachment_id: str
    state: str
    requester_tgw_id: str
    requester_region: str
    accepter_tgw_id: str
    accepter_region: str
    requester_owner_id: str = ""
    accepter_owner_id: str = ""
    tags: Tags = field(default_factory=dict)

    def peer_of(self, tgw_id: str) -> tuple[str, str] | None:
        """(peer gateway id, its region) seen from gateway ``tgw_id``; None if not a side."""
        if tgw_id == self.requester_tgw_id:
            return self.accepter_tgw_id, self.accepter_region
        if tgw_id == self.accepter_tgw_id:
            return self.requester_tgw_id, self.requester_region
        return None


@dataclass(frozen=True)
class CollectionError:
    action: str  # the IAM action of the failed call, e.g. 'ec2:DescribeFlowLogs'
    region: str
    code: str  # AccessDenied, UnauthorizedOperation, Throttling, ...
    message: str = ""


# ---------------------------------------------------------------------------------
# The snapshot
# ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class NetworkSnapshot:
    account_id: str
    region: str
    vpcs: tuple[Vpc, ...] = ()
    subnets: tuple[Subnet, ...] = ()
    route_tables: tuple[RouteTable, ...] = ()
    internet_gateways: tuple[InternetGateway, ...] = ()
    nat_gateways: tuple[NatGateway, ...] = ()
    flow_logs: tuple[FlowLog, ...] = ()
    vpc_endpoints: tuple[VpcEndpoint, ...] = ()
    endpoint_services: tuple[EndpointService, ...] = ()
    peerings: tuple[Peering, ...] = ()
    transit_gateways: tuple[TransitGateway, ...] = ()
    tgw_attachments: tuple[TgwAttachment, ...] = ()
    tgw_route_tables: tuple[TgwRouteTable, ...] = ()
    client_vpn_endpoints: tuple[ClientVpnEndpoint, ...] = ()
    prefix_lists: tuple[PrefixList, ...] = ()
    # Read by the path engine (SPEC §7) only.
    network_acls: tuple[NetworkAcl, ...] = ()
    egress_only_internet_gateways: tuple[EgressOnlyInternetGateway, ...] = ()
    vpn_gateways: tuple[VpnGateway, ...] = ()
    tgw_peering_attachments: tuple[TgwPeeringAttachment, ...] = ()
    errors: tuple[CollectionError, ...] = ()
    # Calls the endpoint does not offer (an API not available in the region, or an
    # emulator without it): no such resources exist there, so checks still evaluate.
    unsupported: tuple[CollectionError, ...] = ()
    scope_vpc_ids: tuple[str, ...] = ()  # empty: the whole region
    api_calls: int = 0

    # -- indexes ----------------------------------------------------------------
    @cached_property
    def vpc_by_id(self) -> dict[str, Vpc]:
        return {v.vpc_id: v for v in self.vpcs}

    @cached_property
    def subnet_by_id(self) -> dict[str, Subnet]:
        return {s.subnet_id: s for s in self.subnets}

    @cached_property
    def subnets_by_vpc(self) -> dict[str, tuple[Subnet, ...]]:
        grouped: dict[str, list[Subnet]] = defaultdict(list)
        for s in self.subnets:
            grouped[s.vpc_id].append(s)
        return {k: tuple(v) for k, v in grouped.items()}

    @cached_property
    def route_table_by_id(self) -> dict[str, RouteTable]:
        return {r.route_table_id: r for r in self.route_tables}

    @cached_property
    def peering_by_id(self) -> dict[str, Peering]:
        return {p.peering_id: p for p in self.peerings}

    @cached_property
    def tgw_by_id(self) -> dict[str, TransitGateway]:
        return {t.tgw_id: t for t in self.transit_gateways}

    @cached_property
    def tgw_attachment_by_id(self) -> dict[str, TgwAttachment]:
        return {a.attachment_id: a for a in self.tgw_attachments}

    @cached_property
    def nat_gateway_by_id(self) -> dict[str, NatGateway]:
        return {n.nat_gateway_id: n for n in self.nat_gateways}

    @cached_property
    def vpc_endpoint_by_id(self) -> dict[str, VpcEndpoint]:
        return {e.endpoint_id: e for e in self.vpc_endpoints}

    @cached_property
    def prefix_list_by_id(self) -> dict[str, PrefixList]:
        return {p.prefix_list_id: p for p in self.prefix_lists}

    @cached_property
    def failed_actions(self) -> frozenset[str]:
        return frozenset(e.action for e in self.errors)

    # -- joins ------------------------------------------------------------------
    @cached_property
    def main_route_table_by_vpc(self) -> dict[str, RouteTable]:
        return {r.vpc_id: r for r in self.route_tables if r.main}

    @cached_property
    def effective_route_table(self) -> dict[str, RouteTable]:
        """subnet id -> the route table that routes it: explicit, else the VPC's main table."""
        explicit = {s: rt for rt in self.route_tables for s in rt.subnet_ids}
        result: dict[str, RouteTable] = {}
        for subnet in self.subnets:
            table = explicit.get(subnet.subnet_id) or self.main_route_table_by_vpc.get(subnet.vpc_id)
            if table is not None:
                result[subnet.subnet_id] = table
        return result

    @cached_property
    def subnets_served(self) -> dict[str, tuple[str, ...]]:
        """route table id -> ids of the subnets it routes (explicitly or as main table)."""
        served: dict[str, list[str]] = defaultdict(list)
        for subnet_id, table in self.effective_route_table.items():
            served[table.route_table_id].append(subnet_id)
        return {k: tuple(sorted(v)) for k, v in served.items()}

    @cached_property
    def vpc_cidrs(self) -> dict[str, tuple[str, ...]]:
        """VPC id -> all its CIDRs, as the VPC describes itself (DescribeVpcs). Peer VPCs
        that cannot be described (other accounts or regions) are known only through each
        peering's own report of them (``PeeringSide.cidrs``), read per peering: merging the
        reports of several peerings would make a verdict on one peering depend on others,
        which a scoped audit does not read."""
        return {vpc.vpc_id: vpc.cidrs for vpc in self.vpcs}

    @cached_property
    def tags_by_resource(self) -> dict[str, Tags]:
        tags: dict[str, Tags] = {}
        for collection, attr in (
            (self.vpcs, "vpc_id"),
            (self.subnets, "subnet_id"),
            (self.route_tables, "route_table_id"),
            (self.flow_logs, "flow_log_id"),
            (self.vpc_endpoints, "endpoint_id"),
            (self.endpoint_services, "service_id"),
            (self.peerings, "peering_id"),
            (self.transit_gateways, "tgw_id"),
            (self.tgw_attachments, "attachment_id"),
            (self.tgw_route_tables, "route_table_id"),
            (self.client_vpn_endpoints, "endpoint_id"),
        ):
            for resource in collection:
                tags[getattr(resource, attr)] = resource.tags
        return tags

    @cached_property
    def tgw_routes(self) -> dict[str, tuple[TgwRoute, ...]]:
        """TGW route table id -> its routes: as reported, plus the propagated routes derived
        from each propagating VPC attachment's CIDRs. AWS silently drops a propagation that
        conflicts with an existing route, so the reported list can hide an overlap."""
        result: dict[str, tuple[TgwRoute, ...]] = {}
        for table in self.tgw_route_tables:
            seen = {(r.destination, r.route_type, r.attachment_ids) for r in table.routes}
            routes = list(table.routes)
            for attachment_id in table.propagations:
                attachment = self.tgw_attachment_by_id.get(attachment_id)
                if attachment is None or attachment.resource_type != "vpc":
                    continue
                if not is_live(attachment.state):
                    continue  # in flight: judged once it has settled (the event pipeline re-audits)
                for cidr in self.vpc_cidrs.get(attachment.resource_id, ()):
                    key = (cidr, "propagated", (attachment_id,))
                    if key not in seen:
                        seen.add(key)
                        routes.append(TgwRoute(cidr, "propagated", "active", (attachment_id,), derived=True))
            result[table.route_table_id] = tuple(routes)
        return result

    @cached_property
    def tgw_tables_of_attachment(self) -> dict[str, tuple[str, ...]]:
        """attachment id -> the TGW route tables it is associated with, as the attachment
        itself says (DescribeTransitGatewayAttachments' ``Association``): at most one on
        AWS. Attachments associated with none are left out."""
        return {a.attachment_id: (table,) for a in self.tgw_attachments if (table := a.associated_table) is not None}

    @cached_property
    def tgw_attachments_by_vpc(self) -> dict[str, tuple[TgwAttachment, ...]]:
        grouped: dict[str, list[TgwAttachment]] = defaultdict(list)
        for a in self.tgw_attachments:
            if a.resource_type == "vpc":
                grouped[a.resource_id].append(a)
        return {k: tuple(v) for k, v in grouped.items()}

    @cached_property
    def peerings_by_vpc(self) -> dict[str, tuple[Peering, ...]]:
        grouped: dict[str, list[Peering]] = defaultdict(list)
        for p in self.peerings:
            grouped[p.requester.vpc_id].append(p)
            if p.accepter.vpc_id != p.requester.vpc_id:
                grouped[p.accepter.vpc_id].append(p)
        return {k: tuple(v) for k, v in grouped.items()}

    def owns(self, owner_id: str) -> bool:
        """True when the audited account owns a resource (empty owner: assume so)."""
        return not owner_id or owner_id == self.account_id

    def in_scope(self, vpc_id: str | None) -> bool:
        """Scoped audits report only on the VPCs asked for (neighbours are context)."""
        return not self.scope_vpc_ids or (vpc_id is not None and vpc_id in self.scope_vpc_ids)


# ---------------------------------------------------------------------------------
# Findings
# ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Violation:
    """What a check returns: one failing resource (and service, where it applies)."""

    resource_id: str
    vpc_id: str | None
    detail: str
    evidence: Mapping[str, Any] = field(default_factory=dict)


def finding_id(account_id: str, region: str, check: str, resource_id: str, service: str | None) -> str:
    """Deterministic: the same failing condition gets the same id on every run."""
    key = "|".join((account_id, region, check, resource_id, service or ""))
    return "vw-" + hashlib.sha256(key.encode()).hexdigest()[:24]


@dataclass(frozen=True)
class Finding:
    id: str
    check: str
    severity: Severity
    account_id: str
    region: str
    resource_type: str
    resource_id: str
    resource_arn: str
    vpc_id: str | None
    title: str
    detail: str
    remediation: str
    evidence: Mapping[str, Any]
    first_seen: str
    last_seen: str
    status: str = "OPEN"  # OPEN | RESOLVED | SUPPRESSED
    reason: str | None = None  # why it is suppressed
    resolved_at: str | None = None  # kept by the store once resolved

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "id": self.id,
            "check": self.check,
            "severity": self.severity.name,
            "account_id": self.account_id,
            "region": self.region,
            "resource_type": self.resource_type,
            "resource_id": self.resource_id,
            "resource_arn": self.resource_arn,
            "vpc_id": self.vpc_id,
            "title": self.title,
            "detail": self.detail,
            "remediation": self.remediation,
            "evidence": dict(self.evidence),
            "first_seen": self.first_seen,
            "last_seen": self.last_seen,
            "status": self.status,
        }
        if self.reason is not None:
            data["reason"] = self.reason
        if self.resolved_at is not None:
            data["resolved_at"] = self.resolved_at
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Finding:
        """The inverse of ``to_dict`` (unknown keys are ignored)."""
        return cls(
            id=str(data["id"]),
            check=str(data["check"]),
            severity=Severity.parse(str(data["severity"])),
            account_id=str(data["account_id"]),
            region=str(data["region"]),
            resource_type=str(data["resource_type"]),
            resource_id=str(data["resource_id"]),
            resource_arn=str(data["resource_arn"]),
            vpc_id=data.get("vpc_id"),
            title=str(data["title"]),
            detail=str(data["detail"]),
            remediation=str(data["remediation"]),
            evidence=dict(data.get("evidence") or {}),
            first_seen=str(data["first_seen"]),
            last_seen=str(data["last_seen"]),
            status=str(data.get("status", "OPEN")),
            reason=data.get("reason"),
            resolved_at=data.get("resolved_at"),
        )


OPENED, RESOLVED, REOPENED = "finding.opened", "finding.resolved", "finding.reopened"


@dataclass(frozen=True)
class Change:
    """One change of a finding's state, announced once (SPEC §4 notifications)."""

    type: str  # finding.opened | finding.resolved | finding.reopened
    finding: Finding  # as it is after the change

    def to_message(self) -> dict[str, Any]:
        """The ``default`` JSON of the SNS message."""
        return {"type": self.type, "finding": self.finding.to_dict()}
