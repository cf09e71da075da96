"""``Touched`` -> ``Scope`` with EC2 lookups: the VPCs (or the region) an event's re-audit covers.

``resolve_scope`` follows the plan of ``chalicelib.core.scope``: the VPCs to re-audit (with
the neighbours whose overlap checks the change affects), or the whole region, possibly for
a few checks only. It asks EC2 at most one filtered call per id kind (the TGW route table
lookups are two per table), uses ``memory`` (resource id -> VPC id, as the store last saw
it) for what AWS can no longer describe, and never raises: a failed lookup falls back to
memory, else to the region.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from botocore import xform_name

from chalicelib.aws.session import error_code
from chalicelib.core.checks import REGISTRY
from chalicelib.core.events import (
    CLIENT_VPN_CHECKS,
    ENDPOINT_SERVICE_CHECKS,
    FLOW_LOG_CHECKS,
    TGW_ROUTE_TABLE_CHECKS,
    checks_for_event,
)
from chalicelib.core.ids import REGION_RE
from chalicelib.core.scope import (
    ENDPOINT_SERVICE_EVENTS,
    KIND_FIELDS,
    NETWORK_ACL_EVENTS,
    PATH_GATEWAY_EVENTS,
    PATH_KINDS,
    PEERING_EVENTS,
    PREFIX_LIST_EVENTS,
    REGION_CHECKS,
    SUBJECTS,
    TGW_ATTACHMENT_EVENTS,
    TGW_EVENTS,
    TGW_TABLE_EVENTS,
    UNATTACHED_GATEWAY_EVENTS,
    VPC_CREATIONS,
    VPC_EVENTS,
    VPN_EVENTS,
    Scope,
    Touched,
    kind_of,
)
from chalicelib.core.states import is_gone, is_present
from chalicelib.core.untrusted import member, objects, string

log = logging.getLogger("vpcwatch.events")


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
        if name in ENDPOINT_SERVICE_EVENTS:
            self.subjects = list(t.endpoint_service_ids)
            self.region(checks_for_event(name), "endpoint services belong to no VPC")
        elif name in PREFIX_LIST_EVENTS:
            self.subjects = list(t.prefix_list_ids)
            self.region(checks_for_event(name), "routes anywhere may use a prefix list")
        elif name in VPC_EVENTS:
            self._vpc_change()
        elif name in PEERING_EVENTS:
            self.subjects = list(t.peering_ids or t.vpc_ids)
            self._peerings(t.peering_ids, fallback=t.vpc_ids)
        elif name in TGW_EVENTS:
            self._transit_gateway()
        elif name in TGW_ATTACHMENT_EVENTS:
            self._tgw_attachment()
        elif name in VPN_EVENTS:
            self._vpn_connection()
        elif name in TGW_TABLE_EVENTS:
            self._tgw_route_table()
        elif name in NETWORK_ACL_EVENTS or name in PATH_GATEWAY_EVENTS:
            self._path_data()
        elif name == "DeleteInternetGateway":
            # AWS deletes only detached gateways: no VPC changes, unless memory still ties one.
            self.subjects = list(t.igw_ids)
            self.add(self.memory[i] for i in t.igw_ids if isinstance(self.memory.get(i), str))
            self.notes.append("AWS deletes only detached internet gateways")
        elif name in SUBJECTS:
            for group in SUBJECTS[name]:
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
        elif kind in PATH_KINDS:
            self.region(REGION_CHECKS[kind], "only the path checks read it, and they judge the region")
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
            self.region(REGION_CHECKS.get(kind), f"{_brief(unknown)} could not be looked up")
            return
        self.add(found[i] for i in unknown if i in found)
        missing = [i for i in unknown if i not in found]
        if missing:
            self.region(REGION_CHECKS.get(kind), f"{_brief(missing)} unknown to AWS and to memory")

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
            for assoc in objects(table.get("Associations")):
                assoc_id, vpc_id = string(assoc.get("RouteTableAssociationId")), string(table.get("VpcId"))
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
        self.add(r for r in resources.values() if kind_of(r) == "vpc")
        subnets = [r for r in resources.values() if kind_of(r) == "subnet"]
        if subnets:
            self._by_lookup("subnet", subnets)
        # ENI and TGW logs: no VPC-scoped audit collects them.
        other = [i for i in unknown if kind_of(resources.get(i, "")) not in ("vpc", "subnet")]
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
                self.add(str(a["VpcId"]) for a in objects(igw.get("Attachments")) if isinstance(a.get("VpcId"), str))
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
            elif isinstance(region, str) and REGION_RE.match(region):
                self.remote.setdefault(region, {})[side["VpcId"]] = None
        return sides

    # -- what only the path engine reads ------------------------------------------------
    def _path_data(self) -> None:
        """Network ACLs, egress-only internet gateways, virtual private gateways: the
        path checks, region-wide (they judge nothing in a VPC-scoped audit). An attachment
        or detachment that names its VPC moves that VPC's routes to the gateway: the VPC,
        for every check reading routes (``on_event`` then re-judges the path checks)."""
        t, name = self.touched, self.touched.event_name
        self.subjects = list(t.network_acl_ids or t.acl_association_ids or t.eigw_ids or t.vgw_ids or t.named)
        if name in PATH_GATEWAY_EVENTS and name not in UNATTACHED_GATEWAY_EVENTS and t.vpc_ids:
            self.add(t.vpc_ids)
            return
        checks = checks_for_event(name)
        if name in UNATTACHED_GATEWAY_EVENTS:
            checks = REGION_CHECKS["vgw"]
            self.notes.append("a virtual private gateway changes routes only while attached")
        self.region(checks, "the path checks judge the region")

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
        if t.event_name not in VPC_CREATIONS:
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
                sides = {string(member(peering.get(k), "VpcId")) for k in ("RequesterVpcInfo", "AccepterVpcInfo")}
                status = string(member(peering.get("Status"), "Code"))
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
            (string(a.get("TransitGatewayId")), string(a.get("ResourceId")))
            for a in attachments
            if a.get("ResourceType") == "vpc" and not is_gone(string(a.get("State")))
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
            return [item for page in pages for item in objects(member(page, key))]
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


def _brief(ids: Sequence[str], limit: int = 3) -> str:
    shown = ", ".join(ids[:limit])
    return f"{shown} +{len(ids) - limit}" if len(ids) > limit else shown
