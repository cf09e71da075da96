"""Transit gateway data: gateways, attachments and route tables (routes, propagations).

A full collection reads the region's; a scoped one the tables the scoped VPCs'
attachments are associated with or propagate into, and what those tables name.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from chalicelib.aws.collect import parse
from chalicelib.aws.collect.parse import Raw
from chalicelib.aws.collect.run import Run
from chalicelib.core.model import (
    RouteTable,
    TgwAttachment,
    TgwRoute,
    TgwRouteTable,
    TransitGateway,
)

# SearchTransitGatewayRoutes returns at most this many routes per query.
TGW_ROUTES_MAX = 1000
TGW_ROUTE_STATES = ("active", "blackhole")
_TGW_ATTACHMENTS = ("DescribeTransitGatewayAttachments", "TransitGatewayAttachments", "TransitGatewayAttachmentId")
_TGW_ROUTE_TABLES = ("DescribeTransitGatewayRouteTables", "TransitGatewayRouteTables", "TransitGatewayRouteTableId")
_TRANSIT_GATEWAYS = ("DescribeTransitGateways", "TransitGateways", "TransitGatewayId")


@dataclass
class TgwData:
    gateways: list[TransitGateway] = field(default_factory=list)
    attachments: list[TgwAttachment] = field(default_factory=list)
    route_tables: list[TgwRouteTable] = field(default_factory=list)


def route_target_gateways(run: Run, scope: tuple[str, ...], gateway_ids: Sequence[str], by_reference: bool) -> TgwData:
    """No TGW route table is read: the scoped VPCs' attachments, and the transit gateways
    routes name (``by_reference``) or, for checks that judge the gateways themselves, those
    the attachments reach too."""
    data = TgwData()
    if by_reference and not gateway_ids:
        return data
    att_op, att_key, att_id = _TGW_ATTACHMENTS
    data.attachments = [
        parse.tgw_attachment(r)
        for r in run.query(att_op, att_key, att_id, filter_name="resource-id", values=scope or None)
    ]
    wanted = list(gateway_ids) if by_reference else [*gateway_ids, *(a.tgw_id for a in data.attachments)]
    tgw_op, tgw_key, tgw_id = _TRANSIT_GATEWAYS
    if not scope:
        data.gateways = [parse.transit_gateway(r) for r in run.items(tgw_op, tgw_key)]
    elif wanted:
        data.gateways = [
            parse.transit_gateway(r)
            for r in run.query(tgw_op, tgw_key, tgw_id, filter_name="transit-gateway-id", values=wanted)
        ]
    return data


def transit_gateway_data(run: Run, scope: tuple[str, ...], route_tables: Sequence[RouteTable]) -> TgwData:
    """Gateways, attachments (each with its association) and route tables (routes and
    propagations): all of the region's; or, scoped, the tables the scoped VPCs' attachments
    are associated with or propagate into, and what those tables name."""
    data = TgwData()
    att_op, att_key, att_id = _TGW_ATTACHMENTS
    rtb_op, rtb_key, rtb_id = _TGW_ROUTE_TABLES
    tgw_op, tgw_key, tgw_id = _TRANSIT_GATEWAYS
    if not scope:
        data.attachments = [parse.tgw_attachment(r) for r in run.items(att_op, att_key)]
        failures = run.failures
        data.gateways = [parse.transit_gateway(r) for r in run.items(tgw_op, tgw_key)]
        none_visible = run.wants(tgw_op) and run.failures == failures and not data.gateways
        # A route table belongs to its gateway and is visible only with it: where no
        # gateway is visible at all (a complete, empty answer) there is no table to list.
        if not none_visible:
            for raw in run.items(rtb_op, rtb_key):
                table_id = str(raw.get(rtb_id, ""))
                data.route_tables.append(
                    parse.tgw_route_table(raw, _tgw_routes(run, table_id), _tgw_propagations(run, table_id))
                )
        return data

    data.attachments = [
        parse.tgw_attachment(r) for r in run.query(att_op, att_key, att_id, filter_name="resource-id", values=scope)
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
            data.route_tables.append(parse.tgw_route_table(raw, _tgw_routes(run, table_id), propagations))

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
        data.attachments.extend(parse.tgw_attachment(r) for r in more)
    gateway_ids = [
        *(a.tgw_id for a in data.attachments),
        *(t.tgw_id for t in data.route_tables),
        *(r.target for t in route_tables for r in t.routes if r.target_kind == "tgw"),
    ]
    data.gateways = [
        parse.transit_gateway(r)
        for r in run.query(tgw_op, tgw_key, tgw_id, filter_name="transit-gateway-id", values=gateway_ids)
    ]
    return data


def _tgw_routes(run: Run, table_id: str) -> tuple[TgwRoute, ...]:
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
    return tuple(route for route in (parse.tgw_route(r) for r in raws) if route is not None)


def _search_tgw_routes(run: Run, table_id: str, filters: list[dict[str, Any]]) -> tuple[list[Raw], bool]:
    routes: list[Raw] = []
    truncated = False
    # No MaxResults: the default is the maximum (and moto 5.2.5 fails when it is given).
    for page in run.pages(
        "SearchTransitGatewayRoutes", label=table_id, sized=False, TransitGatewayRouteTableId=table_id, Filters=filters
    ):
        routes.extend(page.get("Routes") or [])
        truncated = bool(page.get("AdditionalRoutesAvailable")) and not page.get("NextToken")
    return routes, truncated


def _tgw_propagations(run: Run, table_id: str) -> tuple[str, ...]:
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
