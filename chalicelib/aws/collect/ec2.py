"""EC2 ``describe_*`` -> ``NetworkSnapshot``: collect once, join in memory.

One paginated call per resource type per region, never one per VPC or subnet. The only
per-resource calls are those no bulk API replaces: the permissions of each own endpoint
service, the routes and propagations of each TGW route table, the authorization rules of
each Client VPN endpoint, and the entries of each customer-managed prefix list that a
non-endpoint route references. Which table each TGW attachment is associated with comes
with the attachments (DescribeTransitGatewayAttachments' ``Association``), never from a
call per table.

A scoped collection (``vpc_ids``) uses server-side filters (chunked at 200 values) and
adds only the context checks need about neighbours: the TGW route tables the scoped VPCs'
attachments are associated with or propagate into (which tables an attachment propagates
into is only known from each table's propagations, so every table of their gateways has
its propagations read, and only those tables their routes), the attachments those tables
name and those attachments' VPCs, and the TGWs involved; peer and TGW neighbour VPCs are
described in the same DescribeVpcs call as the scoped ones.

Every failed call becomes a ``CollectionError`` and collection goes on; an action the
endpoint does not offer goes to ``unsupported`` (no such resources there). Only
credential errors propagate.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from botocore import xform_name
from botocore.exceptions import ConnectTimeoutError, EndpointConnectionError

from chalicelib.aws.session import (
    CallCounter,
    UnsupportedDetector,
    error_code,
    error_message,
    is_credential_error,
    is_unsupported,
)
from chalicelib.core.checks import ACTION_PARTS, REGISTRY, required_actions
from chalicelib.core.model import (
    ClientVpnAuthorizationRule,
    ClientVpnEndpoint,
    CollectionError,
    EgressOnlyInternetGateway,
    EndpointService,
    FlowLog,
    InternetGateway,
    NatGateway,
    NetworkAcl,
    NetworkAclEntry,
    NetworkSnapshot,
    Peering,
    PeeringSide,
    PrefixList,
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
from chalicelib.core.states import is_gone, is_present

# Page size of every paginated call: None asks each operation for its maximum page
# (1000 for most, 100 for route tables and prefix lists). Tests lower it.
PAGE_SIZE: int | None = None
# EC2 accepts at most 200 values per filter.
FILTER_CHUNK = 200
# SearchTransitGatewayRoutes returns at most this many routes per query.
TGW_ROUTES_MAX = 1000
TGW_ROUTE_STATES = ("active", "blackhole")
AWS_MANAGED_OWNER = "AWS"

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
_TGW_ATTACHMENTS = ("DescribeTransitGatewayAttachments", "TransitGatewayAttachments", "TransitGatewayAttachmentId")
_TGW_ROUTE_TABLES = ("DescribeTransitGatewayRouteTables", "TransitGatewayRouteTables", "TransitGatewayRouteTableId")
_TRANSIT_GATEWAYS = ("DescribeTransitGateways", "TransitGateways", "TransitGatewayId")

Raw = Mapping[str, Any]


def collect_region(
    ec2: Any,
    *,
    account_id: str,
    region: str,
    vpc_ids: Sequence[str] = (),
    page_size: int | None = None,
    checks: Collection[str] | None = None,
    actions: Collection[str] | None = None,
) -> NetworkSnapshot:
    """Describe one region's VPC networking with ``ec2`` (a client for ``region``).

    ``vpc_ids`` scopes the collection to those VPCs plus the context their checks need.
    ``checks`` (None: all) limits it to the data those checks read; a scoped collection
    for a few checks is *lean*: it also skips what the scoped route tables do not
    reference (NAT gateways when no route targets one, ...), which keeps the re-audit
    after one route change to a handful of calls.
    ``actions`` (IAM actions, e.g. the registry's ``PATH_NEEDS``) collects exactly their data
    instead; without either, a collection reads what every check reads.
    ``page_size`` overrides ``PAGE_SIZE`` (clamped to each operation's allowed range).
    Raises only credential errors (``NoCredentialsError``, expired or invalid tokens).
    """
    scope = tuple(dict.fromkeys(vpc_ids))
    scoped = bool(scope)
    # A scoped collection reads for each check what it reads in a scoped audit (less, for
    # the checks that judge only region-wide: ``CheckSpec.scoped_needs``).
    needs = (
        frozenset(a for spec in REGISTRY if (checks is None or spec.id in checks) for a in spec.reads(scoped))
        if checks is not None or scoped
        else None
    )
    if actions is not None:
        needs = frozenset(actions)
    run = _Run(ec2, region, page_size if page_size is not None else PAGE_SIZE, needs=needs)
    with CallCounter(ec2) as counter, UnsupportedDetector(ec2):
        snapshot = _collect(run, account_id, region, scope, frozenset(checks) if checks is not None else None)
    return NetworkSnapshot(
        **snapshot,
        errors=tuple(run.errors.values()),
        unsupported=tuple(run.unsupported.values()),
        scope_vpc_ids=tuple(vpc_ids),
        api_calls=counter.total,
    )


def _by_reference(checks: frozenset[str] | None, part: str) -> bool:
    """Whether every selected check that reads ``part`` reads it only for the resources the
    scoped route tables name (``CheckSpec.by_reference``): then a lean collection fetches
    just those. Derived from the registry, never listed here."""
    if checks is None:
        return False
    readers = [spec for spec in REGISTRY if spec.id in checks and part in spec.parts_read(scoped=True)]
    return all(part in spec.by_reference for spec in readers)


_TGW_TABLE_ACTIONS = frozenset(a for a, part in ACTION_PARTS.items() if part == "tgw_route_tables")
_CHECK_ACTIONS = required_actions()


def _collect(
    run: _Run, account_id: str, region: str, scope: tuple[str, ...], checks: frozenset[str] | None
) -> dict[str, Any]:
    scoped = bool(scope)
    in_scope: tuple[str, ...] | None = scope if scoped else None
    lean = scoped and checks is not None

    # A scoped collection describes its VPCs with their neighbours, once these are known.
    vpcs = [] if scoped else [_vpc(r) for r in run.items("DescribeVpcs", "Vpcs")]
    subnets = [
        _subnet(r) for r in run.query("DescribeSubnets", "Subnets", "SubnetId", filter_name="vpc-id", values=in_scope)
    ]
    route_tables = [
        _route_table(r)
        for r in run.query("DescribeRouteTables", "RouteTables", "RouteTableId", filter_name="vpc-id", values=in_scope)
    ]
    targets: dict[str, set[str]] = {}
    for table in route_tables:
        for route in table.routes:
            targets.setdefault(route.target_kind, set()).add(route.target)

    def referenced(part: str, kind: str) -> bool:
        return not (lean and _by_reference(checks, part)) or kind in targets

    internet_gateways = []
    if referenced("internet_gateways", "igw"):
        internet_gateways = [
            _internet_gateway(r)
            for r in run.query(
                "DescribeInternetGateways",
                "InternetGateways",
                "InternetGatewayId",
                filter_name="attachment.vpc-id",
                values=in_scope,
            )
        ]
    nat_gateways = []
    if referenced("nat_gateways", "nat"):
        nat_gateways = [
            _nat_gateway(r)
            for r in run.query(
                "DescribeNatGateways",
                "NatGateways",
                "NatGatewayId",
                filter_name="vpc-id",
                values=in_scope,
                filter_param="Filter",
            )
        ]
    flow_log_resources = None if not scoped else (*scope, *(s.subnet_id for s in subnets))
    flow_logs = [
        _flow_log(r)
        for r in run.query(
            "DescribeFlowLogs",
            "FlowLogs",
            "FlowLogId",
            filter_name="resource-id",
            values=flow_log_resources,
            filter_param="Filter",
        )
    ]
    vpc_endpoints = [
        _vpc_endpoint(r)
        for r in run.query(
            "DescribeVpcEndpoints", "VpcEndpoints", "VpcEndpointId", filter_name="vpc-id", values=in_scope
        )
    ]
    # Endpoint services are not VPC-bound: a scoped audit does not report on them.
    endpoint_services = [] if scoped else _endpoint_services(run, account_id)
    if lean and _by_reference(checks, "peerings"):
        peerings = _peerings_by_id(run, region, sorted(targets.get("pcx", ())))
    else:
        peerings = _peerings(run, region, scope)

    if run.needs is None or run.needs & _TGW_TABLE_ACTIONS:
        tgw = _transit_gateway_data(run, scope, route_tables)
    else:
        gateways_by_reference = lean and _by_reference(checks, "transit_gateways")
        tgw = _route_target_gateways(run, scope, sorted(targets.get("tgw", ())), gateways_by_reference)

    # A scoped audit's VPCs, and the neighbours it reads as context (never audits): VPCs on
    # the scope's TGW route tables and peer VPCs of this region, described as a full audit
    # sees them (all their CIDRs), in one call.
    if scoped:
        neighbours = [a.resource_id for a in tgw.attachments if a.resource_type == "vpc"]
        neighbours += [s.vpc_id for p in peerings for s in (p.requester, p.accepter) if s.region in ("", region)]
        wanted = list(dict.fromkeys([*scope, *(v for v in neighbours if v)]))
        described = [_vpc(r) for r in run.query("DescribeVpcs", "Vpcs", "VpcId", filter_name="vpc-id", values=wanted)]
        vpcs = sorted(described, key=lambda v: v.vpc_id not in scope)  # the scope's first

    client_vpn_endpoints = _client_vpn_endpoints(run, scope)
    prefix_lists = _prefix_lists(run, scoped, route_tables, tgw.route_tables, lean)
    path_parts = _path_parts(run, scope)

    return {
        "account_id": account_id,
        "region": region,
        "vpcs": tuple(vpcs),
        "subnets": tuple(subnets),
        "route_tables": tuple(route_tables),
        "internet_gateways": tuple(internet_gateways),
        "nat_gateways": tuple(nat_gateways),
        "flow_logs": tuple(flow_logs),
        "vpc_endpoints": tuple(vpc_endpoints),
        "endpoint_services": tuple(endpoint_services),
        "peerings": tuple(peerings),
        "transit_gateways": tuple(tgw.gateways),
        "tgw_attachments": tuple(tgw.attachments),
        "tgw_route_tables": tuple(tgw.route_tables),
        "client_vpn_endpoints": tuple(client_vpn_endpoints),
        "prefix_lists": tuple(prefix_lists),
        **path_parts,
    }


# ---------------------------------------------------------------------------------
# Calls: pagination, filters, failures
# ---------------------------------------------------------------------------------


@dataclass
class _Run:
    ec2: Any
    region: str
    page_size: int | None
    errors: dict[tuple[str, str], CollectionError] = field(default_factory=dict)
    unsupported: dict[str, CollectionError] = field(default_factory=dict)
    # Set when the endpoint cannot be reached: the remaining calls are not attempted
    # (each would spend its retries for nothing) and are recorded as failed.
    unreachable: CollectionError | None = None
    failures: int = 0  # failed (or skipped) calls so far
    needs: frozenset[str] | None = None  # the IAM actions whose data is wanted (None: all)

    def query(
        self,
        operation: str,
        key: str,
        id_key: str,
        *,
        filter_name: str | None = None,
        values: Iterable[str] | None = None,
        filter_param: str = "Filters",
        **params: Any,
    ) -> list[Raw]:
        """All items of ``key`` across pages. With ``values`` (not None), one filtered
        query per chunk of 200 values, none when there are no values; results are
        de-duplicated by ``id_key``."""
        if values is None:
            return self.items(operation, key, **params)
        wanted = list(dict.fromkeys(v for v in values if v))
        found: dict[str, Raw] = {}
        for start in range(0, len(wanted), FILTER_CHUNK):
            chunk = wanted[start : start + FILTER_CHUNK]
            call_params: dict[str, Any] = {**params, filter_param: [{"Name": filter_name, "Values": chunk}]}
            for item in self.items(operation, key, **call_params):
                found.setdefault(str(item.get(id_key, id(item))), item)
        return list(found.values())

    def fetch(self, operation: str, key: str, *, label: str = "", **params: Any) -> list[Raw] | None:
        """Like ``items``, but None when the call failed (the error is recorded)."""
        failures = self.failures
        collected = self.items(operation, key, label=label, **params)
        return collected if self.failures == failures else None

    def items(self, operation: str, key: str, *, label: str = "", **params: Any) -> list[Raw]:
        """All items of ``key`` across the pages of one paginated call. On failure the
        error is recorded and the items of the pages already read are returned."""
        collected: list[Raw] = []
        for page in self.pages(operation, label=label, **params):
            collected.extend(page.get(key) or [])
        return collected

    def wants(self, operation: str) -> bool:
        """Whether the data of ``operation`` is wanted (``needs``; None: what the checks read)."""
        return f"ec2:{operation}" in (self.needs if self.needs is not None else _CHECK_ACTIONS)

    def pages(
        self, operation: str, *, label: str = "", sized: bool = True, paginated: bool = True, **params: Any
    ) -> Iterator[Raw]:
        if not self.wants(operation):
            return  # no check that runs reads this data
        if self.unreachable is not None:
            self.failures += 1
            self.record(operation, self.unreachable.code, f"not attempted: {self.unreachable.message}", label)
            return
        config = {}
        size = self._page_size(operation) if sized and paginated else None
        if size is not None:
            config["PageSize"] = size
        try:
            if not paginated:  # one answer holds every item (DescribeVpnGateways)
                yield getattr(self.ec2, xform_name(operation))(**params)
                return
            paginator = self.ec2.get_paginator(xform_name(operation))
            yield from paginator.paginate(**params, PaginationConfig=config)
        except Exception as exc:
            if is_credential_error(exc):
                raise
            self._fail(operation, exc, label)

    def _page_size(self, operation: str) -> int | None:
        shape = self.ec2.meta.service_model.operation_model(operation).input_shape
        member = shape.members.get("MaxResults") if shape is not None else None
        if member is None:
            return None
        low = int(member.metadata.get("min", 5))
        high = int(member.metadata.get("max", 1000))
        return max(low, min(high, self.page_size if self.page_size is not None else high))

    def _fail(self, operation: str, exc: Exception, label: str) -> None:
        self.failures += 1
        code, message = error_code(exc), error_message(exc)
        # Fail closed: only an emulator's missing API, under the opt-in (VPCWATCH_EMULATOR,
        # see collect/session.py), reads as "no such resources"; an unknown API, a response
        # that is not AWS's, throttling past retries or AccessDenied is an error.
        if is_unsupported(exc):
            action = f"ec2:{operation}"
            self.unsupported.setdefault(action, CollectionError(action, self.region, code, message))
            return
        error = self.record(operation, code, message, label)
        if isinstance(exc, EndpointConnectionError | ConnectTimeoutError):
            self.unreachable = error

    def record(self, operation: str, code: str, message: str, label: str = "") -> CollectionError:
        action = f"ec2:{operation}"
        error = CollectionError(action, self.region, code, f"{label}: {message}" if label else message)
        return self.errors.setdefault((action, code), error)


# ---------------------------------------------------------------------------------
# Resource families
# ---------------------------------------------------------------------------------


def _endpoint_services(run: _Run, account_id: str) -> list[EndpointService]:
    services = []
    for raw in run.items("DescribeVpcEndpointServiceConfigurations", "ServiceConfigurations"):
        service_id = str(raw.get("ServiceId", ""))
        principals: tuple[str, ...] = ()
        if service_id:
            allowed = run.items(
                "DescribeVpcEndpointServicePermissions", "AllowedPrincipals", label=service_id, ServiceId=service_id
            )
            principals = tuple(str(p["Principal"]) for p in allowed if p.get("Principal"))
        services.append(
            EndpointService(
                service_id=service_id,
                service_name=str(raw.get("ServiceName", "")),
                acceptance_required=bool(raw.get("AcceptanceRequired", False)),
                allowed_principals=principals,
                state=str(raw.get("ServiceState", "Available")),
                owner_id=account_id,  # DescribeVpcEndpointServiceConfigurations lists own services only
                tags=_tags(raw),
            )
        )
    return services


def _peerings(run: _Run, region: str, scope: tuple[str, ...]) -> list[Peering]:
    op, key, id_key = "DescribeVpcPeeringConnections", "VpcPeeringConnections", "VpcPeeringConnectionId"
    if not scope:
        raws = run.items(op, key)
    else:
        merged: dict[str, Raw] = {}
        for side in ("requester-vpc-info.vpc-id", "accepter-vpc-info.vpc-id"):
            for raw in run.query(op, key, id_key, filter_name=side, values=scope):
                merged.setdefault(str(raw.get(id_key, "")), raw)
        raws = list(merged.values())
    peerings = [_peering(raw, region) for raw in raws]
    if scope:
        # Guard for endpoints that ignore these filters (moto 5.2.5 does).
        wanted = set(scope)
        peerings = [p for p in peerings if {p.requester.vpc_id, p.accepter.vpc_id} & wanted]
    return peerings


def _peerings_by_id(run: _Run, region: str, peering_ids: Sequence[str]) -> list[Peering]:
    """Only the peerings routes name (what the route checks need of them). By filter, not by
    ``VpcPeeringConnectionIds``: a route can outlive its peering by months, and EC2 answers
    an id it no longer knows with NotFound for the whole call, where a filter just omits it."""
    if not peering_ids:
        return []
    op, key, id_key = "DescribeVpcPeeringConnections", "VpcPeeringConnections", "VpcPeeringConnectionId"
    wanted = set(peering_ids)
    raws = run.query(op, key, id_key, filter_name="vpc-peering-connection-id", values=peering_ids)
    # Client-side too: some endpoints ignore this filter (moto 5.2.5 does).
    return [p for p in (_peering(raw, region) for raw in raws) if p.peering_id in wanted]


def _route_target_gateways(
    run: _Run, scope: tuple[str, ...], gateway_ids: Sequence[str], by_reference: bool
) -> _TgwData:
    """No TGW route table is read: the scoped VPCs' attachments, and the transit gateways
    routes name (``by_reference``) or, for checks that judge the gateways themselves, those
    the attachments reach too."""
    data = _TgwData()
    if by_reference and not gateway_ids:
        return data
    att_op, att_key, att_id = _TGW_ATTACHMENTS
    data.attachments = [
        _tgw_attachment(r) for r in run.query(att_op, att_key, att_id, filter_name="resource-id", values=scope or None)
    ]
    wanted = list(gateway_ids) if by_reference else [*gateway_ids, *(a.tgw_id for a in data.attachments)]
    tgw_op, tgw_key, tgw_id = _TRANSIT_GATEWAYS
    if not scope:
        data.gateways = [_transit_gateway(r) for r in run.items(tgw_op, tgw_key)]
    elif wanted:
        data.gateways = [
            _transit_gateway(r)
            for r in run.query(tgw_op, tgw_key, tgw_id, filter_name="transit-gateway-id", values=wanted)
        ]
    return data


@dataclass
class _TgwData:
    gateways: list[TransitGateway] = field(default_factory=list)
    attachments: list[TgwAttachment] = field(default_factory=list)
    route_tables: list[TgwRouteTable] = field(default_factory=list)


def _transit_gateway_data(run: _Run, scope: tuple[str, ...], route_tables: Sequence[RouteTable]) -> _TgwData:
    """Gateways, attachments (each with its association) and route tables (routes and
    propagations): all of the region's; or, scoped, the tables the scoped VPCs' attachments
    are associated with or propagate into, and what those tables name."""
    data = _TgwData()
    att_op, att_key, att_id = _TGW_ATTACHMENTS
    rtb_op, rtb_key, rtb_id = _TGW_ROUTE_TABLES
    tgw_op, tgw_key, tgw_id = _TRANSIT_GATEWAYS
    if not scope:
        data.attachments = [_tgw_attachment(r) for r in run.items(att_op, att_key)]
        failures = run.failures
        data.gateways = [_transit_gateway(r) for r in run.items(tgw_op, tgw_key)]
        none_visible = run.wants(tgw_op) and run.failures == failures and not data.gateways
        # A route table belongs to its gateway and is visible only with it: where no
        # gateway is visible at all (a complete, empty answer) there is no table to list.
        if not none_visible:
            for raw in run.items(rtb_op, rtb_key):
                table_id = str(raw.get(rtb_id, ""))
                data.route_tables.append(
                    _tgw_route_table(raw, _tgw_routes(run, table_id), _tgw_propagations(run, table_id))
                )
        return data

    data.attachments = [
        _tgw_attachment(r) for r in run.query(att_op, att_key, att_id, filter_name="resource-id", values=scope)
    ]
    wanted = set(scope)
    scoped = {a.attachment_id for a in data.attachments if a.resource_type == "vpc" and a.resource_id in wanted}
    associated = {a.associated_table for a in data.attachments if a.attachment_id in scoped}
    # The tables of the scoped attachments' gateways: each one's propagations tell whether a
    # scoped attachment propagates into it (no bulk API answers that); only the tables the
    # scope is associated with or propagates into have their routes read and are kept.
    gateways = sorted({a.tgw_id for a in data.attachments if a.tgw_id})
    for raw in run.query(rtb_op, rtb_key, rtb_id, filter_name="transit-gateway-id", values=gateways):
        table_id = str(raw.get(rtb_id, ""))
        propagations = _tgw_propagations(run, table_id)
        if table_id in associated or scoped.intersection(propagations):
            data.route_tables.append(_tgw_route_table(raw, _tgw_routes(run, table_id), propagations))

    # Context for the scoped VPCs: who propagates into their TGW route tables, and which
    # attachments their routes lead to, with what CIDRs (so propagated routes AWS may
    # silently drop can be derived, and a route's VPC is known as the full audit knows it).
    known_attachments = {a.attachment_id for a in data.attachments}
    referenced = [
        *(p for t in data.route_tables for p in t.propagations),
        *(a for t in data.route_tables for r in t.routes for a in r.attachment_ids),
    ]
    others = [a for a in dict.fromkeys(referenced) if a not in known_attachments]
    if others:
        more = run.query(att_op, att_key, att_id, filter_name="transit-gateway-attachment-id", values=others)
        data.attachments.extend(_tgw_attachment(r) for r in more)
    gateway_ids = [
        *(a.tgw_id for a in data.attachments),
        *(t.tgw_id for t in data.route_tables),
        *(r.target for t in route_tables for r in t.routes if r.target_kind == "tgw"),
    ]
    data.gateways = [
        _transit_gateway(r)
        for r in run.query(tgw_op, tgw_key, tgw_id, filter_name="transit-gateway-id", values=gateway_ids)
    ]
    return data


def _tgw_route_table(raw: Raw, routes: tuple[TgwRoute, ...], propagations: tuple[str, ...]) -> TgwRouteTable:
    return TgwRouteTable(
        route_table_id=str(raw.get("TransitGatewayRouteTableId", "")),
        tgw_id=str(raw.get("TransitGatewayId", "")),
        state=str(raw.get("State", "available")),
        routes=routes,
        propagations=propagations,
        tags=_tags(raw),
    )


def _tgw_routes(run: _Run, table_id: str) -> tuple[TgwRoute, ...]:
    """Static and propagated routes (active and blackhole) of one TGW route table.

    SearchTransitGatewayRoutes answers at most 1000 routes and says whether more exist
    (AdditionalRoutesAvailable); NextToken is followed where the endpoint returns one.
    A truncated answer is split by route type; one still truncated is recorded."""
    states = {"Name": "state", "Values": list(TGW_ROUTE_STATES)}
    raws, truncated = _search_tgw_routes(run, table_id, [states])
    if truncated:
        raws = []
        for route_type in ("static", "propagated"):
            part, still = _search_tgw_routes(run, table_id, [states, {"Name": "type", "Values": [route_type]}])
            raws.extend(part)
            if still:
                run.record(
                    "SearchTransitGatewayRoutes",
                    "Truncated",
                    f"more than {TGW_ROUTES_MAX} {route_type} routes: only the first {TGW_ROUTES_MAX} were returned",
                    table_id,
                )
    return tuple(route for route in (_tgw_route(r) for r in raws) if route is not None)


def _search_tgw_routes(run: _Run, table_id: str, filters: list[dict[str, Any]]) -> tuple[list[Raw], bool]:
    routes: list[Raw] = []
    truncated = False
    # No MaxResults: the default is the maximum (and moto 5.2.5 fails when it is given).
    for page in run.pages(
        "SearchTransitGatewayRoutes", label=table_id, sized=False, TransitGatewayRouteTableId=table_id, Filters=filters
    ):
        routes.extend(page.get("Routes") or [])
        truncated = bool(page.get("AdditionalRoutesAvailable")) and not page.get("NextToken")
    return routes, truncated


def _tgw_propagations(run: _Run, table_id: str) -> tuple[str, ...]:
    raws = run.items(
        "GetTransitGatewayRouteTablePropagations",
        "TransitGatewayRouteTablePropagations",
        label=table_id,
        TransitGatewayRouteTableId=table_id,
    )
    enabled = (
        str(r["TransitGatewayAttachmentId"])
        for r in raws
        if r.get("TransitGatewayAttachmentId") and r.get("State", "enabled") == "enabled"
    )
    return tuple(dict.fromkeys(enabled))


def _path_parts(run: _Run, scope: tuple[str, ...]) -> dict[str, Any]:
    """What only the path engine reads: network ACLs, egress-only internet gateways, virtual
    private gateways, TGW peering attachments (one call each; collected when asked for)."""
    in_scope = scope or None
    wanted = set(scope)
    acls = [
        _network_acl(r)
        for r in run.query("DescribeNetworkAcls", "NetworkAcls", "NetworkAclId", filter_name="vpc-id", values=in_scope)
    ]
    # No VPC filter exists for egress-only internet gateways: list them, keep the scoped ones.
    eigws = [
        _egress_only_gateway(r) for r in run.items("DescribeEgressOnlyInternetGateways", "EgressOnlyInternetGateways")
    ]
    if scope:
        eigws = [g for g in eigws if wanted.intersection(g.vpc_ids)]
    vgw_params: dict[str, Any] = {"Filters": [{"Name": "attachment.vpc-id", "Values": list(scope)}]} if scope else {}
    vgws = [
        _vpn_gateway(r)
        for page in run.pages("DescribeVpnGateways", paginated=False, **vgw_params)
        for r in page.get("VpnGateways") or []
    ]
    peerings = [
        _tgw_peering_attachment(r)
        for r in run.items("DescribeTransitGatewayPeeringAttachments", "TransitGatewayPeeringAttachments")
    ]
    return {
        "network_acls": tuple(acls),
        "egress_only_internet_gateways": tuple(eigws),
        "vpn_gateways": tuple(vgws),
        "tgw_peering_attachments": tuple(peerings),
    }


def _client_vpn_endpoints(run: _Run, scope: tuple[str, ...]) -> list[ClientVpnEndpoint]:
    # No VPC filter exists for Client VPN endpoints: list them all, keep the scoped ones.
    endpoints = []
    for raw in run.items("DescribeClientVpnEndpoints", "ClientVpnEndpoints"):
        endpoint_id = str(raw.get("ClientVpnEndpointId", ""))
        vpc_id = raw.get("VpcId") or None
        status = str((raw.get("Status") or {}).get("Code", "available"))
        if is_gone(status) or (scope and vpc_id not in scope):
            continue
        rules: tuple[ClientVpnAuthorizationRule, ...] = ()
        if endpoint_id:
            raws = run.items(
                "DescribeClientVpnAuthorizationRules",
                "AuthorizationRules",
                label=endpoint_id,
                ClientVpnEndpointId=endpoint_id,
            )
            rules = tuple(_authorization_rule(r) for r in raws)
        endpoints.append(
            ClientVpnEndpoint(
                endpoint_id=endpoint_id,
                vpc_id=str(vpc_id) if vpc_id else None,
                connection_logging=bool((raw.get("ConnectionLogOptions") or {}).get("Enabled", False)),
                status=status,
                authorization_rules=rules,
                tags=_tags(raw),
            )
        )
    return endpoints


def _prefix_lists(
    run: _Run,
    scoped: bool,
    route_tables: Sequence[RouteTable],
    tgw_route_tables: Sequence[TgwRouteTable],
    lean: bool = False,
) -> list[PrefixList]:
    """Managed prefix lists; entries only for customer-managed lists that a non-endpoint
    route uses as its destination (a gateway endpoint's AWS-managed list needs none).
    A lean collection describes only the lists whose entries it needs; none is described
    when no route names one (checks read prefix lists only as route destinations)."""
    vpc_routes = [r for t in route_tables for r in t.routes if r.is_prefix_list]
    needs_entries = {r.destination for r in vpc_routes if r.target_kind != "vpce"}
    needs_entries |= {r.destination for t in tgw_route_tables for r in t.routes if r.destination.startswith("pl-")}
    referenced = needs_entries if lean else needs_entries | {r.destination for r in vpc_routes}
    if not referenced:
        return []
    op, key, id_key = "DescribeManagedPrefixLists", "PrefixLists", "PrefixListId"
    raws = run.query(op, key, id_key, filter_name="prefix-list-id", values=sorted(referenced) if scoped else None)
    prefix_lists = []
    for raw in raws:
        list_id = str(raw.get(id_key, ""))
        owner = str(raw.get("OwnerId", ""))
        cidrs: tuple[str, ...] | None = None
        if list_id in needs_entries and owner != AWS_MANAGED_OWNER:
            entries = run.fetch("GetManagedPrefixListEntries", "Entries", label=list_id, PrefixListId=list_id)
            if entries is not None:
                cidrs = tuple(dict.fromkeys(str(e["Cidr"]) for e in entries if e.get("Cidr")))
        prefix_lists.append(
            PrefixList(prefix_list_id=list_id, name=str(raw.get("PrefixListName", "")), cidrs=cidrs, owner_id=owner)
        )
    return prefix_lists


# ---------------------------------------------------------------------------------
# Records (every field may be missing in a real answer: .get with defaults)
# ---------------------------------------------------------------------------------


def _tags(raw: Raw) -> dict[str, str]:
    return {str(t["Key"]): str(t.get("Value", "")) for t in raw.get("Tags") or [] if t.get("Key") is not None}


def _state(assoc: Raw, key: str) -> str:
    return str((assoc.get(key) or {}).get("State", "associated"))


def _vpc(raw: Raw) -> Vpc:
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
        tags=_tags(raw),
    )


def _subnet(raw: Raw) -> Subnet:
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
        tags=_tags(raw),
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


def _route_table(raw: Raw) -> RouteTable:
    associations = [a for a in raw.get("Associations") or [] if is_present(_state(a, "AssociationState"))]
    return RouteTable(
        route_table_id=str(raw.get("RouteTableId", "")),
        vpc_id=str(raw.get("VpcId", "")),
        owner_id=str(raw.get("OwnerId", "")),
        main=any(bool(a.get("Main", False)) for a in associations),
        subnet_ids=tuple(dict.fromkeys(str(a["SubnetId"]) for a in associations if a.get("SubnetId"))),
        routes=tuple(route for route in (_route(r) for r in raw.get("Routes") or []) if route is not None),
        gateway_ids=tuple(dict.fromkeys(str(a["GatewayId"]) for a in associations if a.get("GatewayId"))),
        tags=_tags(raw),
    )


def _internet_gateway(raw: Raw) -> InternetGateway:
    attachments = raw.get("Attachments") or []
    attached = (str(a["VpcId"]) for a in attachments if a.get("VpcId") and is_present(a.get("State")))
    return InternetGateway(
        gateway_id=str(raw.get("InternetGatewayId", "")),
        vpc_ids=tuple(dict.fromkeys(attached)),
        owner_id=str(raw.get("OwnerId", "")),
        tags=_tags(raw),
    )


def _nat_gateway(raw: Raw) -> NatGateway:
    return NatGateway(
        nat_gateway_id=str(raw.get("NatGatewayId", "")),
        vpc_id=str(raw.get("VpcId", "")),
        subnet_id=str(raw.get("SubnetId", "")),
        state=str(raw.get("State", "")),
        connectivity=str(raw.get("ConnectivityType", "public")),
        tags=_tags(raw),
    )


def _flow_log(raw: Raw) -> FlowLog:
    return FlowLog(
        flow_log_id=str(raw.get("FlowLogId", "")),
        resource_id=str(raw.get("ResourceId", "")),
        traffic_type=str(raw["TrafficType"]) if raw.get("TrafficType") else None,
        status=str(raw.get("FlowLogStatus", "ACTIVE")),
        deliver_status=str(raw["DeliverLogsStatus"]) if raw.get("DeliverLogsStatus") else None,
        deliver_error=str(raw["DeliverLogsErrorMessage"]) if raw.get("DeliverLogsErrorMessage") else None,
        destination_type=str(raw.get("LogDestinationType", "cloud-watch-logs")),
        tags=_tags(raw),
    )


def _vpc_endpoint(raw: Raw) -> VpcEndpoint:
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
        tags=_tags(raw),
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


def _peering(raw: Raw, region: str) -> Peering:
    return Peering(
        peering_id=str(raw.get("VpcPeeringConnectionId", "")),
        status=str((raw.get("Status") or {}).get("Code", "")),
        requester=_peering_side(raw.get("RequesterVpcInfo") or {}, region),
        accepter=_peering_side(raw.get("AccepterVpcInfo") or {}, region),
        tags=_tags(raw),
    )


def _transit_gateway(raw: Raw) -> TransitGateway:
    return TransitGateway(
        tgw_id=str(raw.get("TransitGatewayId", "")),
        owner_id=str(raw.get("OwnerId", "")),
        state=str(raw.get("State", "")),
        auto_accept_shared_attachments=str((raw.get("Options") or {}).get("AutoAcceptSharedAttachments", "disable")),
        tags=_tags(raw),
    )


def _tgw_attachment(raw: Raw) -> TgwAttachment:
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
        tags=_tags(raw),
    )


def _tgw_route(raw: Raw) -> TgwRoute | None:
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


def _network_acl(raw: Raw) -> NetworkAcl:
    entries = (e for e in (_acl_entry(r) for r in raw.get("Entries") or []) if e is not None)
    associated = (str(a["SubnetId"]) for a in raw.get("Associations") or [] if a.get("SubnetId"))
    return NetworkAcl(
        network_acl_id=str(raw.get("NetworkAclId", "")),
        vpc_id=str(raw.get("VpcId", "")),
        is_default=bool(raw.get("IsDefault", False)),
        entries=tuple(entries),
        subnet_ids=tuple(dict.fromkeys(associated)),
        owner_id=str(raw.get("OwnerId", "")),
        tags=_tags(raw),
    )


def _attached_vpcs(attachments: Any) -> tuple[str, ...]:
    # EC2 reports attachments as attaching | attached | detaching | detached.
    return tuple(
        dict.fromkeys(str(a["VpcId"]) for a in attachments or [] if a.get("VpcId") and is_present(a.get("State")))
    )


def _egress_only_gateway(raw: Raw) -> EgressOnlyInternetGateway:
    return EgressOnlyInternetGateway(
        gateway_id=str(raw.get("EgressOnlyInternetGatewayId", "")),
        vpc_ids=_attached_vpcs(raw.get("Attachments")),
        tags=_tags(raw),
    )


def _vpn_gateway(raw: Raw) -> VpnGateway:
    return VpnGateway(
        gateway_id=str(raw.get("VpnGatewayId", "")),
        state=str(raw.get("State", "available")),
        vpc_ids=_attached_vpcs(raw.get("VpcAttachments")),
        tags=_tags(raw),
    )


def _tgw_peering_attachment(raw: Raw) -> TgwPeeringAttachment:
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
        tags=_tags(raw),
    )


def _authorization_rule(raw: Raw) -> ClientVpnAuthorizationRule:
    return ClientVpnAuthorizationRule(
        destination_cidr=str(raw.get("DestinationCidr", "")),
        access_all=bool(raw.get("AccessAll", False)),
        group_id=str(raw.get("GroupId") or ""),
        status=str((raw.get("Status") or {}).get("Code", "active")),
    )
