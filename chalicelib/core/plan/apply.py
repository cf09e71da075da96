"""A snapshot and a plan's changes -> the snapshot as it will be after apply. Pure.

Every check reads resource kinds from EC2 id prefixes (a route to ``pcx-…`` is a
peering route, ``igw-…`` makes a table public), so a resource the plan creates gets a
stand-in id with its type's prefix (``pcx-tf0000003``); ``Applied.names`` maps each
stand-in back to the Terraform address, which is what every finding on it will say.
Deletions are applied first (in reverse dependency order), then creations and updates
(VPCs before subnets before tables before routes ...), so a change may name what an
earlier one creates. A resource whose essential link is unknown (a subnet whose VPC is
known only after apply) is left out; the reader has listed it in ``plan.unknown``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Any

from chalicelib.core.model import (
    ClientVpnAuthorizationRule,
    ClientVpnEndpoint,
    EndpointService,
    FlowLog,
    InternetGateway,
    NatGateway,
    NetworkSnapshot,
    Peering,
    PeeringSide,
    PrefixList,
    Route,
    RouteTable,
    Subnet,
    TgwAttachment,
    TgwRoute,
    TgwRouteTable,
    TransitGateway,
    Vpc,
    VpcEndpoint,
)
from chalicelib.core.plan.reader import ID_PREFIX, ROUTE_TARGETS, Plan, PlannedChange

# Stand-in ids: the EC2 prefix, then "tf" and a fixed-width counter (so no stand-in is a
# prefix of another, and text can be searched for them).
STAND_IN = re.compile(r"\b[a-z][a-z-]*-tf\d{7}\b")
# The resources AWS creates with another (see ``reader.IMPLICIT_ATTRS``) and their prefix.
_IMPLICIT_PREFIX = {"default_route_table_id": "rtb", "association_default_route_table_id": "tgw-rtb"}

Values = Mapping[str, Any]


@dataclass(frozen=True)
class Applied:
    snapshot: NetworkSnapshot
    names: Mapping[str, str]  # stand-in id -> Terraform address


def _text(values: Values, key: str) -> str | None:
    value = values.get(key)
    return value if isinstance(value, str) and value else None


def _texts(values: Values, key: str) -> list[str]:
    value = values.get(key)
    return [v for v in value if isinstance(v, str) and v] if isinstance(value, list) else []


def _tags(values: Values) -> dict[str, str]:
    tags = values.get("tags")
    return {str(k): str(v) for k, v in tags.items()} if isinstance(tags, dict) else {}


def _first_block(values: Values, key: str) -> Values:
    blocks = values.get(key)
    return blocks[0] if isinstance(blocks, list) and blocks and isinstance(blocks[0], dict) else {}


class _Net:
    """The snapshot's parts as mutable, ordered dicts by id while changes are applied."""

    def __init__(self, snapshot: NetworkSnapshot, addresses: Mapping[str, str]) -> None:
        self.base = snapshot
        self.vpcs = {v.vpc_id: v for v in snapshot.vpcs}
        self.subnets = {s.subnet_id: s for s in snapshot.subnets}
        self.tables = {t.route_table_id: t for t in snapshot.route_tables}
        self.igws = {g.gateway_id: g for g in snapshot.internet_gateways}
        self.nats = {n.nat_gateway_id: n for n in snapshot.nat_gateways}
        self.flow_logs = {f.flow_log_id: f for f in snapshot.flow_logs}
        self.endpoints = {e.endpoint_id: e for e in snapshot.vpc_endpoints}
        self.services = {s.service_id: s for s in snapshot.endpoint_services}
        self.peerings = {p.peering_id: p for p in snapshot.peerings}
        self.tgws = {t.tgw_id: t for t in snapshot.transit_gateways}
        self.attachments = {a.attachment_id: a for a in snapshot.tgw_attachments}
        self.tgw_tables = {t.route_table_id: t for t in snapshot.tgw_route_tables}
        self.cvpns = {c.endpoint_id: c for c in snapshot.client_vpn_endpoints}
        self.prefix_lists = {p.prefix_list_id: p for p in snapshot.prefix_lists}
        self.addresses = addresses  # planned address -> its type
        self.names: dict[str, str] = {}  # stand-in -> address
        self.stand_in: dict[str, str] = {}  # address -> stand-in
        self.tgw_defaults: dict[str, tuple[str, bool, bool]] = {}  # tgw id -> (table, associate, propagate)

    def id(self, value: str | None) -> str | None:
        """A live id as it is; a planned address as its stand-in id."""
        if value is None:
            return None
        if value in self.stand_in:
            return self.stand_in[value]
        prefix: str | None = None
        if value in self.addresses:
            prefix = ID_PREFIX.get(self.addresses[value])
        else:
            owner, _, attribute = value.rpartition(".")
            if owner in self.addresses and attribute in _IMPLICIT_PREFIX:
                prefix = _IMPLICIT_PREFIX[attribute]
        if prefix is None:
            return value
        stand_in = f"{prefix}-tf{len(self.stand_in) + 1:07d}"
        self.stand_in[value] = stand_in
        self.names[stand_in] = value
        return stand_in

    def ids(self, values: Iterable[str]) -> tuple[str, ...]:
        return tuple(i for i in (self.id(v) for v in values) if i)

    def planned(self, resource_id: str) -> bool:
        return resource_id in self.names

    def snapshot(self) -> NetworkSnapshot:
        self._finish()
        return replace(
            self.base,
            vpcs=tuple(self.vpcs.values()),
            subnets=tuple(self.subnets.values()),
            route_tables=tuple(self.tables.values()),
            internet_gateways=tuple(self.igws.values()),
            nat_gateways=tuple(self.nats.values()),
            flow_logs=tuple(self.flow_logs.values()),
            vpc_endpoints=tuple(self.endpoints.values()),
            endpoint_services=tuple(self.services.values()),
            peerings=tuple(self.peerings.values()),
            transit_gateways=tuple(self.tgws.values()),
            tgw_attachments=tuple(self.attachments.values()),
            tgw_route_tables=tuple(self.tgw_tables.values()),
            client_vpn_endpoints=tuple(self.cvpns.values()),
            prefix_lists=tuple(self.prefix_lists.values()),
        )

    def _finish(self) -> None:
        """What AWS derives: the local routes of planned tables, and each planned peering's
        report of both sides' CIDRs (as DescribeVpcPeeringConnections gives them)."""
        for table_id, table in list(self.tables.items()):
            vpc = self.vpcs.get(table.vpc_id)
            if vpc is None or not self.planned(table_id):
                continue
            present = {r.destination for r in table.routes if r.target == "local"}
            local = tuple(Route(c, "local", origin="CreateRouteTable") for c in vpc.cidrs if c not in present)
            self.tables[table_id] = replace(table, routes=local + table.routes)
        for peering_id, peering in list(self.peerings.items()):
            sides = []
            for side in (peering.requester, peering.accepter):
                vpc = self.vpcs.get(side.vpc_id)
                sides.append(replace(side, cidrs=vpc.cidrs) if vpc is not None else side)
            self.peerings[peering_id] = replace(peering, requester=sides[0], accepter=sides[1])


# ---------------------------------------------------------------------------------
# One handler per type: upsert(net, values, id, change) and remove(net, values, id)
# ---------------------------------------------------------------------------------

Upsert = Callable[[_Net, Values, str, PlannedChange], None]
Remove = Callable[[_Net, Values, str], None]


def _vpc(net: _Net, v: Values, rid: str, change: PlannedChange) -> None:
    existing = net.vpcs.get(rid)
    primary = _text(v, "cidr_block")
    ipv6 = _text(v, "ipv6_cidr_block")
    cidrs = list(existing.cidrs) if existing is not None else []
    if primary and primary not in cidrs:
        cidrs.insert(0, primary)
    if ipv6 and ipv6 not in cidrs:
        cidrs.append(ipv6)
    owner = existing.owner_id if existing is not None else str(v.get("owner_id") or "")
    net.vpcs[rid] = Vpc(rid, owner, tuple(cidrs), tags=_tags(v))
    if net.planned(rid):  # AWS creates a new VPC with its main route table
        main = net.id(f"{change.address}.default_route_table_id")
        if main is not None and main not in net.tables:
            net.tables[main] = RouteTable(main, rid, "", True, (), ())


def _remove_vpc(net: _Net, v: Values, rid: str) -> None:
    net.vpcs.pop(rid, None)
    for table_id in [t.route_table_id for t in net.tables.values() if t.vpc_id == rid and t.main]:
        del net.tables[table_id]  # the main table goes with its VPC


def _cidr_association(net: _Net, v: Values, rid: str, change: PlannedChange) -> None:
    vpc = net.vpcs.get(net.id(_text(v, "vpc_id")) or "")
    cidr = _text(v, "cidr_block") or _text(v, "ipv6_cidr_block")
    if vpc is not None and cidr and cidr not in vpc.cidrs:
        net.vpcs[vpc.vpc_id] = replace(vpc, cidrs=(*vpc.cidrs, cidr))


def _remove_cidr_association(net: _Net, v: Values, rid: str) -> None:
    vpc = net.vpcs.get(net.id(_text(v, "vpc_id")) or "")
    cidr = _text(v, "cidr_block") or _text(v, "ipv6_cidr_block")
    if vpc is not None:
        net.vpcs[vpc.vpc_id] = replace(vpc, cidrs=tuple(c for c in vpc.cidrs if c != cidr))


def _subnet(net: _Net, v: Values, rid: str, change: PlannedChange) -> None:
    vpc_id = net.id(_text(v, "vpc_id"))
    if vpc_id is None:
        return
    ipv6 = _text(v, "ipv6_cidr_block")
    net.subnets[rid] = Subnet(
        rid,
        vpc_id,
        str(v.get("owner_id") or ""),
        _text(v, "cidr_block"),
        (ipv6,) if ipv6 else (),
        _text(v, "availability_zone") or "",
        _tags(v),
    )


def _remove_subnet(net: _Net, v: Values, rid: str) -> None:
    net.subnets.pop(rid, None)
    for table in list(net.tables.values()):
        if rid in table.subnet_ids:
            net.tables[table.route_table_id] = replace(table, subnet_ids=tuple(s for s in table.subnet_ids if s != rid))


def _route(net: _Net, r: Values, destinations: tuple[str, ...]) -> Route | None:
    destination = next((d for d in (_text(r, k) for k in destinations) if d), None)
    target = next((t for t in (_text(r, k) for k in ROUTE_TARGETS) if t), None)
    if destination is None or target is None:
        return None  # its target is known only after apply (listed in plan.unknown)
    return Route(net.id(destination) or destination, net.id(target) or target)


_INLINE_DESTINATIONS = ("cidr_block", "ipv6_cidr_block", "destination_prefix_list_id")
_ROUTE_DESTINATIONS = ("destination_cidr_block", "destination_ipv6_cidr_block", "destination_prefix_list_id")


def _inline_routes(net: _Net, v: Values, existing: RouteTable | None) -> tuple[Route, ...]:
    kept = tuple(r for r in existing.routes if r.target == "local") if existing is not None else ()
    if not isinstance(v.get("route"), list):
        return existing.routes if existing is not None else ()  # routes managed as aws_route
    routes = (_route(net, r, _INLINE_DESTINATIONS) for r in v["route"] if isinstance(r, dict))
    return kept + tuple(r for r in routes if r is not None)


def _route_table(net: _Net, v: Values, rid: str, change: PlannedChange) -> None:
    existing = net.tables.get(rid)
    vpc_id = net.id(_text(v, "vpc_id")) or (existing.vpc_id if existing is not None else None)
    if vpc_id is None:
        return
    net.tables[rid] = RouteTable(
        rid,
        vpc_id,
        existing.owner_id if existing is not None else str(v.get("owner_id") or ""),
        existing.main if existing is not None else False,
        existing.subnet_ids if existing is not None else (),
        _inline_routes(net, v, existing),
        existing.gateway_ids if existing is not None else (),
        _tags(v),
    )


def _default_route_table(net: _Net, v: Values, rid: str, change: PlannedChange) -> None:
    table_id = net.id(_text(v, "default_route_table_id") or _text(v, "id"))
    vpc_id = net.id(_text(v, "vpc_id"))
    table = net.tables.get(table_id or "")
    if table is None and table_id is not None and vpc_id is not None:  # offline: known from the plan only
        table = RouteTable(table_id, vpc_id, str(v.get("owner_id") or ""), True, (), ())
    if table is not None:
        net.tables[table.route_table_id] = replace(table, routes=_inline_routes(net, v, table), tags=_tags(v))


def _route_resource(net: _Net, v: Values, rid: str, change: PlannedChange) -> None:
    table = net.tables.get(net.id(_text(v, "route_table_id")) or "")
    route = _route(net, v, _ROUTE_DESTINATIONS)
    if table is None or route is None:
        return
    routes = tuple(r for r in table.routes if r.destination != route.destination)
    net.tables[table.route_table_id] = replace(table, routes=(*routes, route))


def _remove_route_resource(net: _Net, v: Values, rid: str) -> None:
    table = net.tables.get(net.id(_text(v, "route_table_id")) or "")
    destination = next((d for d in (_text(v, k) for k in _ROUTE_DESTINATIONS) if d), None)
    if table is not None:
        routes = tuple(r for r in table.routes if r.destination != destination or r.target == "local")
        net.tables[table.route_table_id] = replace(table, routes=routes)


def _association(net: _Net, v: Values, rid: str, change: PlannedChange) -> None:
    table = net.tables.get(net.id(_text(v, "route_table_id")) or "")
    subnet, gateway = net.id(_text(v, "subnet_id")), net.id(_text(v, "gateway_id"))
    if table is None:
        return
    if subnet is not None:  # a subnet has one explicit association: it moves
        _remove_association(net, {"subnet_id": subnet}, rid)
        table = net.tables[table.route_table_id]
        net.tables[table.route_table_id] = replace(table, subnet_ids=(*table.subnet_ids, subnet))
    elif gateway is not None and gateway not in table.gateway_ids:
        net.tables[table.route_table_id] = replace(table, gateway_ids=(*table.gateway_ids, gateway))


def _remove_association(net: _Net, v: Values, rid: str) -> None:
    subnet, gateway = net.id(_text(v, "subnet_id")), net.id(_text(v, "gateway_id"))
    for table in list(net.tables.values()):
        if subnet in table.subnet_ids or gateway in table.gateway_ids:
            net.tables[table.route_table_id] = replace(
                table,
                subnet_ids=tuple(s for s in table.subnet_ids if s != subnet),
                gateway_ids=tuple(g for g in table.gateway_ids if g != gateway),
            )


def _set_main(net: _Net, vpc_id: str | None, table_id: str | None) -> None:
    if vpc_id is None or table_id not in net.tables:
        return
    for table in list(net.tables.values()):
        if table.vpc_id == vpc_id and table.main != (table.route_table_id == table_id):
            net.tables[table.route_table_id] = replace(table, main=table.route_table_id == table_id)


def _main_association(net: _Net, v: Values, rid: str, change: PlannedChange) -> None:
    _set_main(net, net.id(_text(v, "vpc_id")), net.id(_text(v, "route_table_id")))


def _remove_main_association(net: _Net, v: Values, rid: str) -> None:
    # On destroy Terraform gives the main role back to the VPC's original main table.
    _set_main(net, net.id(_text(v, "vpc_id")), net.id(_text(v, "original_route_table_id")))


def _igw(net: _Net, v: Values, rid: str, change: PlannedChange) -> None:
    vpc_id = net.id(_text(v, "vpc_id"))
    net.igws[rid] = InternetGateway(rid, (vpc_id,) if vpc_id else (), str(v.get("owner_id") or ""), _tags(v))


def _nat(net: _Net, v: Values, rid: str, change: PlannedChange) -> None:
    subnet_id = net.id(_text(v, "subnet_id"))
    if subnet_id is None:
        return
    subnet = net.subnets.get(subnet_id)
    existing = net.nats.get(rid)
    net.nats[rid] = NatGateway(
        rid,
        subnet.vpc_id if subnet is not None else (existing.vpc_id if existing is not None else ""),
        subnet_id,
        existing.state if existing is not None else "available",
        _text(v, "connectivity_type") or "public",
        _tags(v),
    )


def _peering(net: _Net, v: Values, rid: str, change: PlannedChange) -> None:
    requester, accepter = net.id(_text(v, "vpc_id")), net.id(_text(v, "peer_vpc_id"))
    if requester is None or accepter is None:
        return
    existing = net.peerings.get(rid)
    region = change.region or net.base.region
    if existing is not None:
        status = existing.status
    elif v.get("auto_accept") is True or _text(v, "accept_status") == "active":
        status = "active"
    else:
        status = "pending-acceptance"  # until an accepter (in this plan or elsewhere) accepts it
    owner = str(v.get("owner_id") or "")
    net.peerings[rid] = Peering(
        rid,
        status,
        PeeringSide(requester, owner, region, ()),
        PeeringSide(accepter, _text(v, "peer_owner_id") or owner, _text(v, "peer_region") or region, ()),
        _tags(v),
    )


def _peering_accepter(net: _Net, v: Values, rid: str, change: PlannedChange) -> None:
    peering = net.peerings.get(net.id(_text(v, "vpc_peering_connection_id")) or "")
    if peering is not None and v.get("auto_accept") is not False:
        net.peerings[peering.peering_id] = replace(peering, status="active")


def _tgw(net: _Net, v: Values, rid: str, change: PlannedChange) -> None:
    existing = net.tgws.get(rid)
    net.tgws[rid] = TransitGateway(
        rid,
        existing.owner_id if existing is not None else str(v.get("owner_id") or ""),
        existing.state if existing is not None else "available",
        _text(v, "auto_accept_shared_attachments") or "disable",
        _tags(v),
    )
    associate = _text(v, "default_route_table_association") != "disable"
    propagate = _text(v, "default_route_table_propagation") != "disable"
    table = _text(v, "association_default_route_table_id")
    if table is None and net.planned(rid) and (associate or propagate):
        table = f"{change.address}.association_default_route_table_id"
    table_id = net.id(table)
    if table_id is not None:
        net.tgw_defaults[rid] = (table_id, associate, propagate)
        if table_id not in net.tgw_tables:
            net.tgw_tables[table_id] = TgwRouteTable(table_id, rid)


def _attachment(net: _Net, v: Values, rid: str, change: PlannedChange) -> None:
    tgw, vpc = net.id(_text(v, "transit_gateway_id")), net.id(_text(v, "vpc_id"))
    if tgw is None or vpc is None:
        return
    existing = net.attachments.get(rid)
    table, state = (existing.association_route_table_id, existing.association_state) if existing else (None, None)
    default, associate, propagate = net.tgw_defaults.get(tgw, (None, False, False))
    if existing is None and default is not None:
        if associate and v.get("transit_gateway_default_route_table_association") is not False:
            table, state = default, "associated"
        if propagate and v.get("transit_gateway_default_route_table_propagation") is not False:
            _propagation(
                net, {"transit_gateway_route_table_id": default, "transit_gateway_attachment_id": rid}, rid, change
            )
    net.attachments[rid] = TgwAttachment(
        rid,
        tgw,
        "vpc",
        vpc,
        str(v.get("vpc_owner_id") or ""),
        existing.state if existing is not None else "available",
        table,
        state,
        _tags(v),
    )


def _remove_attachment(net: _Net, v: Values, rid: str) -> None:
    net.attachments.pop(rid, None)
    for table in list(net.tgw_tables.values()):
        if rid in table.propagations:
            net.tgw_tables[table.route_table_id] = replace(
                table, propagations=tuple(p for p in table.propagations if p != rid)
            )


def _tgw_table(net: _Net, v: Values, rid: str, change: PlannedChange) -> None:
    tgw = net.id(_text(v, "transit_gateway_id"))
    existing = net.tgw_tables.get(rid)
    if existing is not None:
        net.tgw_tables[rid] = replace(existing, tags=_tags(v))
    elif tgw is not None:
        net.tgw_tables[rid] = TgwRouteTable(rid, tgw, tags=_tags(v))


def _tgw_route(net: _Net, v: Values, rid: str, change: PlannedChange) -> None:
    table = net.tgw_tables.get(net.id(_text(v, "transit_gateway_route_table_id")) or "")
    destination = _text(v, "destination_cidr_block")
    if table is None or destination is None:
        return
    blackhole = v.get("blackhole") is True
    attachment = net.id(_text(v, "transit_gateway_attachment_id"))
    route = TgwRoute(
        destination,
        "static",
        "blackhole" if blackhole else "active",
        (attachment,) if attachment and not blackhole else (),
    )
    routes = tuple(r for r in table.routes if not (r.destination == destination and r.route_type == "static"))
    net.tgw_tables[table.route_table_id] = replace(table, routes=(*routes, route))


def _remove_tgw_route(net: _Net, v: Values, rid: str) -> None:
    table = net.tgw_tables.get(net.id(_text(v, "transit_gateway_route_table_id")) or "")
    destination = _text(v, "destination_cidr_block")
    if table is not None:
        routes = tuple(r for r in table.routes if not (r.destination == destination and r.route_type == "static"))
        net.tgw_tables[table.route_table_id] = replace(table, routes=routes)


def _tgw_association(net: _Net, v: Values, rid: str, change: PlannedChange) -> None:
    attachment = net.attachments.get(net.id(_text(v, "transit_gateway_attachment_id")) or "")
    table = net.id(_text(v, "transit_gateway_route_table_id"))
    if attachment is not None and table is not None:
        net.attachments[attachment.attachment_id] = replace(
            attachment, association_route_table_id=table, association_state="associated"
        )


def _remove_tgw_association(net: _Net, v: Values, rid: str) -> None:
    attachment = net.attachments.get(net.id(_text(v, "transit_gateway_attachment_id")) or "")
    if attachment is not None:
        net.attachments[attachment.attachment_id] = replace(
            attachment, association_route_table_id=None, association_state=None
        )


def _propagation(net: _Net, v: Values, rid: str, change: PlannedChange) -> None:
    table = net.tgw_tables.get(net.id(_text(v, "transit_gateway_route_table_id")) or "")
    attachment = net.id(_text(v, "transit_gateway_attachment_id"))
    if table is not None and attachment is not None and attachment not in table.propagations:
        net.tgw_tables[table.route_table_id] = replace(table, propagations=(*table.propagations, attachment))


def _remove_propagation(net: _Net, v: Values, rid: str) -> None:
    table = net.tgw_tables.get(net.id(_text(v, "transit_gateway_route_table_id")) or "")
    attachment = net.id(_text(v, "transit_gateway_attachment_id"))
    if table is not None:
        propagations = tuple(p for p in table.propagations if p != attachment)
        net.tgw_tables[table.route_table_id] = replace(table, propagations=propagations)


def _endpoint(net: _Net, v: Values, rid: str, change: PlannedChange) -> None:
    vpc = net.id(_text(v, "vpc_id"))
    service = _text(v, "service_name")
    if vpc is None or service is None:
        return
    existing = net.endpoints.get(rid)
    net.endpoints[rid] = VpcEndpoint(
        rid,
        vpc,
        service,
        _text(v, "vpc_endpoint_type") or "Gateway",
        existing.state if existing is not None else "available",
        net.ids(_texts(v, "route_table_ids")),
        net.ids(_texts(v, "subnet_ids")),
        v.get("private_dns_enabled") is True,
        str(v.get("owner_id") or ""),
        _tags(v),
    )


def _drop_routes_to(net: _Net, target: str, tables: Iterable[str] | None = None) -> None:
    """AWS removes a gateway endpoint's prefix-list routes with the endpoint or its association."""
    for table in list(net.tables.values()):
        if (tables is None or table.route_table_id in tables) and any(r.target == target for r in table.routes):
            routes = tuple(r for r in table.routes if r.target != target)
            net.tables[table.route_table_id] = replace(table, routes=routes)


def _remove_endpoint(net: _Net, v: Values, rid: str) -> None:
    net.endpoints.pop(rid, None)
    _drop_routes_to(net, rid)


def _endpoint_table(net: _Net, v: Values, rid: str, change: PlannedChange) -> None:
    endpoint = net.endpoints.get(net.id(_text(v, "vpc_endpoint_id")) or "")
    table = net.id(_text(v, "route_table_id"))
    if endpoint is not None and table is not None and table not in endpoint.route_table_ids:
        net.endpoints[endpoint.endpoint_id] = replace(endpoint, route_table_ids=(*endpoint.route_table_ids, table))


def _remove_endpoint_table(net: _Net, v: Values, rid: str) -> None:
    endpoint = net.endpoints.get(net.id(_text(v, "vpc_endpoint_id")) or "")
    table = net.id(_text(v, "route_table_id"))
    if endpoint is not None and table is not None:
        tables = tuple(t for t in endpoint.route_table_ids if t != table)
        net.endpoints[endpoint.endpoint_id] = replace(endpoint, route_table_ids=tables)
        _drop_routes_to(net, endpoint.endpoint_id, (table,))


def _endpoint_service(net: _Net, v: Values, rid: str, change: PlannedChange) -> None:
    existing = net.services.get(rid)
    net.services[rid] = EndpointService(
        rid,
        _text(v, "service_name") or (existing.service_name if existing is not None else change.address),
        v.get("acceptance_required") is True,
        tuple(_texts(v, "allowed_principals")),
        existing.state if existing is not None else "Available",
        str(v.get("owner_id") or ""),
        _tags(v),
    )


_FLOW_LOG_RESOURCES = ("vpc_id", "subnet_id", "eni_id", "transit_gateway_id", "transit_gateway_attachment_id")


def _flow_log(net: _Net, v: Values, rid: str, change: PlannedChange) -> None:
    resource = next((net.id(r) for r in (_text(v, k) for k in _FLOW_LOG_RESOURCES) if r), None)
    if resource is None:
        return
    existing = net.flow_logs.get(rid)
    net.flow_logs[rid] = FlowLog(
        rid,
        resource,
        _text(v, "traffic_type"),
        "ACTIVE",
        existing.deliver_status if existing is not None else None,  # unknown until it delivers
        existing.deliver_error if existing is not None else None,
        _text(v, "log_destination_type") or "cloud-watch-logs",
        _tags(v),
    )


def _prefix_list(net: _Net, v: Values, rid: str, change: PlannedChange) -> None:
    entries = v.get("entry")
    cidrs = tuple(str(e["cidr"]) for e in entries if isinstance(e, dict) and e.get("cidr")) if entries else ()
    net.prefix_lists[rid] = PrefixList(rid, _text(v, "name") or change.address, cidrs, str(v.get("owner_id") or ""))


def _client_vpn(net: _Net, v: Values, rid: str, change: PlannedChange) -> None:
    existing = net.cvpns.get(rid)
    net.cvpns[rid] = ClientVpnEndpoint(
        rid,
        net.id(_text(v, "vpc_id")) or (existing.vpc_id if existing is not None else None),
        _first_block(v, "connection_log_options").get("enabled") is True,
        existing.status if existing is not None else "available",
        existing.authorization_rules if existing is not None else (),
        _tags(v),
    )


def _auth_rule_key(v: Values) -> tuple[str, str]:
    return _text(v, "target_network_cidr") or "", _text(v, "access_group_id") or ""


def _authorization_rule(net: _Net, v: Values, rid: str, change: PlannedChange) -> None:
    endpoint = net.cvpns.get(net.id(_text(v, "client_vpn_endpoint_id")) or "")
    cidr, group = _auth_rule_key(v)
    if endpoint is None or not cidr:
        return
    rules = tuple(r for r in endpoint.authorization_rules if (r.destination_cidr, r.group_id) != (cidr, group))
    rule = ClientVpnAuthorizationRule(cidr, v.get("authorize_all_groups") is True, group)
    net.cvpns[endpoint.endpoint_id] = replace(endpoint, authorization_rules=(*rules, rule))


def _remove_authorization_rule(net: _Net, v: Values, rid: str) -> None:
    endpoint = net.cvpns.get(net.id(_text(v, "client_vpn_endpoint_id")) or "")
    if endpoint is not None:
        key = _auth_rule_key(v)
        rules = tuple(r for r in endpoint.authorization_rules if (r.destination_cidr, r.group_id) != key)
        net.cvpns[endpoint.endpoint_id] = replace(endpoint, authorization_rules=rules)


def _pop(part: str) -> Remove:
    def remove(net: _Net, v: Values, rid: str) -> None:
        getattr(net, part).pop(rid, None)

    return remove


def _nothing(net: _Net, v: Values, rid: str) -> None:
    """Removing it from Terraform changes nothing in AWS (an accepter, a default table)."""


# In dependency order: creations run top to bottom, deletions bottom to top.
HANDLERS: tuple[tuple[str, Upsert, Remove], ...] = (
    ("aws_vpc", _vpc, _remove_vpc),
    ("aws_vpc_ipv4_cidr_block_association", _cidr_association, _remove_cidr_association),
    ("aws_vpc_ipv6_cidr_block_association", _cidr_association, _remove_cidr_association),
    ("aws_subnet", _subnet, _remove_subnet),
    ("aws_ec2_managed_prefix_list", _prefix_list, _pop("prefix_lists")),
    ("aws_internet_gateway", _igw, _pop("igws")),
    ("aws_nat_gateway", _nat, _pop("nats")),
    ("aws_vpc_peering_connection", _peering, _pop("peerings")),
    ("aws_vpc_peering_connection_accepter", _peering_accepter, _nothing),
    ("aws_ec2_transit_gateway", _tgw, _pop("tgws")),
    ("aws_ec2_transit_gateway_route_table", _tgw_table, _pop("tgw_tables")),
    ("aws_ec2_transit_gateway_vpc_attachment", _attachment, _remove_attachment),
    ("aws_ec2_transit_gateway_route", _tgw_route, _remove_tgw_route),
    ("aws_ec2_transit_gateway_route_table_association", _tgw_association, _remove_tgw_association),
    ("aws_ec2_transit_gateway_route_table_propagation", _propagation, _remove_propagation),
    ("aws_route_table", _route_table, _pop("tables")),
    ("aws_default_route_table", _default_route_table, _nothing),
    ("aws_route", _route_resource, _remove_route_resource),
    ("aws_route_table_association", _association, _remove_association),
    ("aws_main_route_table_association", _main_association, _remove_main_association),
    ("aws_vpc_endpoint", _endpoint, _remove_endpoint),
    ("aws_vpc_endpoint_route_table_association", _endpoint_table, _remove_endpoint_table),
    ("aws_vpc_endpoint_service", _endpoint_service, _pop("services")),
    ("aws_flow_log", _flow_log, _pop("flow_logs")),
    ("aws_ec2_client_vpn_endpoint", _client_vpn, _pop("cvpns")),
    ("aws_ec2_client_vpn_authorization_rule", _authorization_rule, _remove_authorization_rule),
)
_ORDER = {rtype: n for n, (rtype, _, _) in enumerate(HANDLERS)}
_UPSERT = {rtype: upsert for rtype, upsert, _ in HANDLERS}
_REMOVE = {rtype: remove for rtype, _, remove in HANDLERS}


def changes_in(plan: Plan, region: str, default_region: str) -> list[PlannedChange]:
    """The plan's changes to one region (those with no region of their own go to the default)."""
    return [c for c in plan.changes if (c.region or default_region) == region]


def _addresses(plan: Plan) -> dict[str, str]:
    return {c.address: c.type for c in plan.changes}


def apply_plan(snapshot: NetworkSnapshot, plan: Plan, default_region: str) -> Applied:
    """The snapshot after the plan's creates, updates, deletes and replaces (no-ops
    change nothing: the live snapshot already holds those resources)."""
    net = _Net(snapshot, _addresses(plan))
    changes = [c for c in changes_in(plan, snapshot.region, default_region) if c.action != "no-op"]
    removals = [c for c in changes if c.action in ("delete", "replace") and c.before is not None]
    for change in sorted(removals, key=lambda c: -_ORDER[c.type]):
        rid = change.before_id or change.address
        _REMOVE[change.type](net, change.before or {}, rid)
    for change in sorted((c for c in changes if c.after is not None), key=lambda c: _ORDER[c.type]):
        rid = net.id(change.after_id) or change.after_id
        _UPSERT[change.type](net, change.after or {}, rid, change)
    return Applied(net.snapshot(), dict(net.names))


def prior_snapshot(plan: Plan, account_id: str, region: str, default_region: str) -> NetworkSnapshot:
    """The network as the plan itself describes it before apply (``--offline``): every
    resource the plan already manages, from its ``before`` values."""
    net = _Net(NetworkSnapshot(account_id=account_id, region=region), {})
    existing = [c for c in changes_in(plan, region, default_region) if c.before is not None]
    for change in sorted(existing, key=lambda c: _ORDER[c.type]):
        rid = change.before_id or change.address
        _UPSERT[change.type](net, change.before or {}, rid, change)
    return net.snapshot()
