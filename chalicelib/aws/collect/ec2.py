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

from collections.abc import Collection, Sequence
from typing import Any

from chalicelib.aws.collect import parse, paths
from chalicelib.aws.collect.parse import Raw
from chalicelib.aws.collect.run import Run
from chalicelib.aws.collect.tgw import route_target_gateways, transit_gateway_data
from chalicelib.aws.session import CallCounter, UnsupportedDetector
from chalicelib.core.checks import ACTION_PARTS, REGISTRY
from chalicelib.core.model import (
    ClientVpnAuthorizationRule,
    ClientVpnEndpoint,
    EndpointService,
    NetworkSnapshot,
    Peering,
    PrefixList,
    RouteTable,
    TgwRouteTable,
)
from chalicelib.core.states import is_gone

# Page size of every paginated call: None asks each operation for its maximum page
# (1000 for most, 100 for route tables and prefix lists). Tests lower it.
PAGE_SIZE: int | None = None
AWS_MANAGED_OWNER = "AWS"


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
    run = Run(ec2, region, page_size if page_size is not None else PAGE_SIZE, needs=needs)
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


def _collect(
    run: Run, account_id: str, region: str, scope: tuple[str, ...], checks: frozenset[str] | None
) -> dict[str, Any]:
    scoped = bool(scope)
    in_scope: tuple[str, ...] | None = scope if scoped else None
    lean = scoped and checks is not None

    # A scoped collection describes its VPCs with their neighbours, once these are known.
    vpcs = [] if scoped else [parse.vpc(r) for r in run.items("DescribeVpcs", "Vpcs")]
    subnets = [
        parse.subnet(r)
        for r in run.query("DescribeSubnets", "Subnets", "SubnetId", filter_name="vpc-id", values=in_scope)
    ]
    route_tables = [
        parse.route_table(r)
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
            parse.internet_gateway(r)
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
            parse.nat_gateway(r)
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
        parse.flow_log(r)
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
        parse.vpc_endpoint(r)
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
        tgw = transit_gateway_data(run, scope, route_tables)
    else:
        gateways_by_reference = lean and _by_reference(checks, "transit_gateways")
        tgw = route_target_gateways(run, scope, sorted(targets.get("tgw", ())), gateways_by_reference)

    # A scoped audit's VPCs, and the neighbours it reads as context (never audits): VPCs on
    # the scope's TGW route tables and peer VPCs of this region, described as a full audit
    # sees them (all their CIDRs), in one call.
    if scoped:
        neighbours = [a.resource_id for a in tgw.attachments if a.resource_type == "vpc"]
        neighbours += [s.vpc_id for p in peerings for s in (p.requester, p.accepter) if s.region in ("", region)]
        wanted = list(dict.fromkeys([*scope, *(v for v in neighbours if v)]))
        described = [
            parse.vpc(r) for r in run.query("DescribeVpcs", "Vpcs", "VpcId", filter_name="vpc-id", values=wanted)
        ]
        vpcs = sorted(described, key=lambda v: v.vpc_id not in scope)  # the scope's first

    client_vpn_endpoints = _client_vpn_endpoints(run, scope)
    prefix_lists = _prefix_lists(run, scoped, route_tables, tgw.route_tables, lean)
    path_parts = paths.path_parts(run, scope)

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
# Resource families
# ---------------------------------------------------------------------------------


def _endpoint_services(run: Run, account_id: str) -> list[EndpointService]:
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
                tags=parse.tags(raw),
            )
        )
    return services


def _peerings(run: Run, region: str, scope: tuple[str, ...]) -> list[Peering]:
    op, key, id_key = "DescribeVpcPeeringConnections", "VpcPeeringConnections", "VpcPeeringConnectionId"
    if not scope:
        raws = run.items(op, key)
    else:
        merged: dict[str, Raw] = {}
        for side in ("requester-vpc-info.vpc-id", "accepter-vpc-info.vpc-id"):
            for raw in run.query(op, key, id_key, filter_name=side, values=scope):
                merged.setdefault(str(raw.get(id_key, "")), raw)
        raws = list(merged.values())
    peerings = [parse.peering(raw, region) for raw in raws]
    if scope:
        # Guard for endpoints that ignore these filters (moto 5.2.5 does).
        wanted = set(scope)
        peerings = [p for p in peerings if {p.requester.vpc_id, p.accepter.vpc_id} & wanted]
    return peerings


def _peerings_by_id(run: Run, region: str, peering_ids: Sequence[str]) -> list[Peering]:
    """Only the peerings routes name (what the route checks need of them). By filter, not by
    ``VpcPeeringConnectionIds``: a route can outlive its peering by months, and EC2 answers
    an id it no longer knows with NotFound for the whole call, where a filter just omits it."""
    if not peering_ids:
        return []
    op, key, id_key = "DescribeVpcPeeringConnections", "VpcPeeringConnections", "VpcPeeringConnectionId"
    wanted = set(peering_ids)
    raws = run.query(op, key, id_key, filter_name="vpc-peering-connection-id", values=peering_ids)
    # Client-side too: some endpoints ignore this filter (moto 5.2.5 does).
    return [p for p in (parse.peering(raw, region) for raw in raws) if p.peering_id in wanted]


def _client_vpn_endpoints(run: Run, scope: tuple[str, ...]) -> list[ClientVpnEndpoint]:
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
            rules = tuple(parse.authorization_rule(r) for r in raws)
        endpoints.append(
            ClientVpnEndpoint(
                endpoint_id=endpoint_id,
                vpc_id=str(vpc_id) if vpc_id else None,
                connection_logging=bool((raw.get("ConnectionLogOptions") or {}).get("Enabled", False)),
                status=status,
                authorization_rules=rules,
                tags=parse.tags(raw),
            )
        )
    return endpoints


def _prefix_lists(
    run: Run,
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
