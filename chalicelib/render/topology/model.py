"""What the topology diagram shows, before any geometry: the view model.

One column per region (regions of peer VPCs outside the audit included), each holding its
transit gateways (a card per gateway, one bus lane per TGW route table), its VPC cards in
drawing order, and a card for the region's elements that belong to no VPC. Between them:
the peerings drawn (both ends have a card) and the TGW attachment stubs (an attachment
associated with or propagating to a route table). The findings are indexed per resource
(``Marks``) and turned into what each card says: frames, tags, overlap marks, missing
endpoints. ``layout`` gives this model its positions and sizes; ``svg`` writes it.

States are read through ``chalicelib.core.states``: a peering, TGW, TGW route table, TGW
attachment or interface endpoint is drawn unless it is gone; an in-flight peering dashed.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from chalicelib.core.model import Finding, NetworkSnapshot, Peering, Severity, TgwRouteTable, TransitGateway
from chalicelib.core.states import is_gone, is_live

LANE_COLOURS = ("#2f6db5", "#8a4fbf", "#1f8a70", "#b36b00", "#c2185b", "#546e7a", "#6d8f00", "#00838f")

# A few words for a finding drawn as a tag on an element (the table has the full text).
SHORT = {
    "vpc-flow-logs-enabled": "no flow logs",
    "vpc-flow-logs-traffic-type": "flow log traffic type",
    "vpc-flow-logs-delivering": "flow log not delivering",
    "private-subnet-gateway-endpoints": "gateway endpoint missing",
    "required-interface-endpoints": "interface endpoint missing",
    "interface-endpoint-private-dns": "private DNS off",
    "endpoint-service-acceptance-required": "accepts without approval",
    "endpoint-service-trusted-principals": "untrusted principals",
    "peering-cidrs-non-overlapping": "CIDRs overlap",
    "connected-cidrs-non-overlapping": "reachable CIDRs overlap",
    "peering-routes-least-access": "peering route too broad",
    "route-destinations-non-overlapping": "routes overlap",
    "routes-no-blackhole": "blackhole route",
    "tgw-routes-non-overlapping": "routes overlap",
    "tgw-auto-accept-disabled": "auto-accepts shared attachments",
    "client-vpn-connection-logging": "no connection log",
    "client-vpn-no-authorize-all": "authorizes all users",
}


@dataclass(frozen=True)
class VpcView:
    vpc_id: str
    region: str
    owner_id: str
    name: str
    cidrs: tuple[str, ...]
    snapshot: NetworkSnapshot | None  # None: known only as a peer or attached VPC (outside the audit)

    @property
    def external(self) -> bool:
        return self.snapshot is None


@dataclass
class Tag:
    text: str
    kind: str = "plain"  # plain | ok | bad | overlap | warn
    resource: str | None = None
    title: str = ""
    classes: str = ""


@dataclass
class Row:
    lead: str = ""
    tags: list[Tag] = field(default_factory=list)
    resource: str | None = None
    classes: str = ""
    title: str = ""
    swatch: str | None = None  # the colour of a TGW route table's bus


def name_of(tags: Mapping[str, str], default: str) -> str:
    return tags.get("Name") or default


def severity_of(findings: Sequence[Finding]) -> Severity | None:
    return max((f.severity for f in findings), default=None)


def finding_title(findings: Sequence[Finding]) -> str:
    return "\n".join(f"{f.severity.name} {f.check}: {f.detail}" for f in findings)


def finding_classes(findings: Sequence[Finding]) -> str:
    severity = severity_of(findings)
    return "" if severity is None else f" has-finding sev-{severity.name}"


class Marks:
    """The findings, indexed for drawing: by resource, by VPC, and what they say about
    CIDRs, edges and missing endpoints."""

    def __init__(self, findings: Iterable[Finding]) -> None:
        # Sorted, so that the picture does not depend on the order findings come in.
        self.findings = sorted(
            (f for f in findings if f.status == "OPEN"), key=lambda f: (-f.severity, f.check, f.resource_id, f.id)
        )
        self.by_resource: dict[str, list[Finding]] = defaultdict(list)
        self.overlap: dict[str, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))  # vpc -> cidr -> why
        self.bad_peerings: set[str] = set()
        self.bad_stubs: set[tuple[str, str]] = set()  # (tgw route table, attachment)
        self.missing_gateway: dict[str, list[Finding]] = defaultdict(list)  # route table -> findings
        self.missing_interface: dict[str, list[Finding]] = defaultdict(list)  # vpc -> findings
        for f in self.findings:
            self.by_resource[f.resource_id].append(f)
            evidence: Mapping[str, Any] = f.evidence
            if f.check == "connected-cidrs-non-overlapping":
                for pair in evidence.get("pairs", ()):
                    for side in (pair.get("a") or {}, pair.get("b") or {}):
                        self._overlap(side.get("vpc_id"), side.get("cidr"), f)
                        via = str(side.get("via") or "")
                        if via.startswith("pcx-"):
                            self.bad_peerings.add(via)
                        elif via.startswith("tgw-rtb-") and "/" in via:
                            table, attachment = via.split("/", 1)
                            self.bad_stubs.add((table, attachment))
            elif f.check == "peering-cidrs-non-overlapping":
                self.bad_peerings.add(f.resource_id)
                for pair in evidence.get("pairs", ()):
                    self._overlap(evidence.get("requester_vpc_id"), pair.get("requester_cidr"), f)
                    self._overlap(evidence.get("accepter_vpc_id"), pair.get("accepter_cidr"), f)
            elif f.check == "tgw-routes-non-overlapping":
                for pair in evidence.get("pairs", ()):
                    for side in (pair.get("a") or {}, pair.get("b") or {}):
                        self._overlap(side.get("vpc_id"), side.get("cidr") or side.get("destination"), f)
                        for attachment in str(side.get("attachment_id") or "").split(","):
                            if attachment:
                                self.bad_stubs.add((f.resource_id, attachment))
            elif f.check == "private-subnet-gateway-endpoints":
                self.missing_gateway[f.resource_id].append(f)
            elif f.check == "required-interface-endpoints":
                self.missing_interface[f.resource_id].append(f)

    def _overlap(self, vpc_id: Any, cidr: Any, finding: Finding) -> None:
        if vpc_id and cidr:
            self.overlap[str(vpc_id)][str(cidr)].append(f"{finding.check} ({finding.resource_id})")

    def on(self, resource_id: str) -> list[Finding]:
        return self.by_resource.get(resource_id, [])


# ---------------------------------------------------------------------------------
# Cards and columns: what each box holds, and where it belongs
# ---------------------------------------------------------------------------------


@dataclass
class Card:
    key: str  # the resource id of the element
    region: str
    classes: str
    title: str
    name: str
    subtitle: str
    rows: list[Row]
    pill: str = ""
    pill_classes: str = ""
    attrs: dict[str, str] = field(default_factory=dict)


@dataclass
class RegionView:
    """A region's column: its transit gateways (the hub lane), VPCs and other elements."""

    region: str
    external_only: bool  # only VPCs seen as peers: a region the audit did not cover
    vpcs: list[VpcView] = field(default_factory=list)
    tgws: list[tuple[TransitGateway, list[TgwRouteTable], NetworkSnapshot]] = field(default_factory=list)
    lanes: list[str] = field(default_factory=list)  # TGW route table ids, left to right
    snapshots: list[NetworkSnapshot] = field(default_factory=list)
    hub: list[tuple[Card, list[str]]] = field(default_factory=list)  # TGW cards, with their route table ids
    vpc_cards: list[Card] = field(default_factory=list)  # in the order of ``vpcs``
    misc: Card | None = None  # endpoint services and findings without another element

    def colour(self, table_id: str) -> str:
        return LANE_COLOURS[self.lanes.index(table_id) % len(LANE_COLOURS)]


@dataclass(frozen=True)
class Stub:
    """A VPC attachment on a TGW route table's bus: associated with it, or propagating only."""

    table_id: str
    attachment_id: str
    vpc_id: str
    associated: bool
    lane: int  # the bus's place among its region's TGW route tables
    bad: bool  # joins CIDRs that overlap


@dataclass
class View:
    """Everything the diagram draws, in drawing order."""

    regions: list[RegionView]
    region_of: dict[str, RegionView]  # VPC id -> its column
    peerings: list[Peering]  # the peerings drawn: both ends have a card
    stubs: list[Stub]
    marks: Marks
    drawn: set[str]  # every resource id drawn as (part of) a card; edges add theirs
    vpc_count: int  # VPCs of the audit (not the peers outside it)

    @property
    def cards(self) -> list[Card]:
        """Every card, in drawing order: the hub lanes, then each column's VPCs and the rest."""
        hubs = [card for region in self.regions for card, _ in region.hub]
        rest = [c for r in self.regions for c in (*r.vpc_cards, *([r.misc] if r.misc is not None else []))]
        return hubs + rest


class _Builder:
    def __init__(self, snapshots: Sequence[NetworkSnapshot], findings: Iterable[Finding]) -> None:
        self.snapshots = list(snapshots)
        self.marks = Marks(findings)
        self.drawn: set[str] = set()
        self.vpcs: dict[str, VpcView] = {}
        for snapshot in self.snapshots:
            for vpc in snapshot.vpcs:
                if vpc.vpc_id not in self.vpcs:
                    self.vpcs[vpc.vpc_id] = VpcView(
                        vpc.vpc_id, snapshot.region, vpc.owner_id, name_of(vpc.tags, ""), vpc.cidrs, snapshot
                    )
        self.peerings: dict[str, Peering] = {}
        for snapshot in self.snapshots:
            for peering in sorted(snapshot.peerings, key=lambda p: p.peering_id):
                if is_gone(peering.status) or peering.peering_id in self.peerings:
                    continue
                self.peerings[peering.peering_id] = peering
                for side in (peering.requester, peering.accepter):
                    if side.vpc_id not in self.vpcs:
                        region = side.region or snapshot.region
                        self.vpcs[side.vpc_id] = VpcView(side.vpc_id, region, side.owner_id, "", side.cidrs, None)
        for snapshot in self.snapshots:
            for attachment in snapshot.tgw_attachments:
                if attachment.resource_type != "vpc" or is_gone(attachment.state):
                    continue
                if attachment.resource_id not in self.vpcs:
                    self.vpcs[attachment.resource_id] = VpcView(
                        attachment.resource_id,
                        snapshot.region,
                        attachment.resource_owner_id,
                        "",
                        snapshot.vpc_cidrs.get(attachment.resource_id, ()),
                        None,
                    )
        self.columns = self._columns()
        self.column_of: dict[str, RegionView] = {v.vpc_id: c for c in self.columns for v in c.vpcs}

    # -- columns and order ---------------------------------------------------------
    def _columns(self) -> list[RegionView]:
        regions: dict[str, RegionView] = {}
        for snapshot in self.snapshots:
            column = regions.setdefault(snapshot.region, RegionView(snapshot.region, external_only=False))
            column.snapshots.append(snapshot)
            for tgw in sorted(snapshot.transit_gateways, key=lambda t: (name_of(t.tags, "~"), t.tgw_id)):
                if is_gone(tgw.state) or any(t.tgw_id == tgw.tgw_id for t, _, _ in column.tgws):
                    continue
                tables = sorted(
                    (t for t in snapshot.tgw_route_tables if t.tgw_id == tgw.tgw_id and not is_gone(t.state)),
                    key=lambda t: (name_of(t.tags, "~"), t.route_table_id),
                )
                column.tgws.append((tgw, tables, snapshot))
                column.lanes.extend(t.route_table_id for t in tables)
        for view in self.vpcs.values():
            regions.setdefault(view.region, RegionView(view.region, external_only=True))
        ordered = [c for c in regions.values() if not c.external_only]
        ordered += sorted((c for c in regions.values() if c.external_only), key=lambda c: c.region)
        lane_of = self._first_lane()
        for column in ordered:
            members = [v for v in self.vpcs.values() if v.region == column.region]
            column.vpcs = self._order([v for v in members if not v.external], lane_of) + sorted(
                (v for v in members if v.external), key=lambda v: v.vpc_id
            )
        return ordered

    def _first_lane(self) -> dict[str, str]:
        lane: dict[str, str] = {}
        for snapshot in self.snapshots:
            for vpc_id, attachments in sorted(snapshot.tgw_attachments_by_vpc.items()):
                tables = sorted(
                    t for a in attachments for t in snapshot.tgw_tables_of_attachment.get(a.attachment_id, ())
                )
                if tables:
                    lane.setdefault(vpc_id, tables[0])
        return lane

    def _order(self, views: list[VpcView], lane_of: Mapping[str, str]) -> list[VpcView]:
        """Peered VPCs next to each other (breadth first from the best-connected VPC of each
        group, biggest group first), so arcs stay short; then the others, grouped by the TGW
        route table they are associated with, then by name."""
        by_id = {v.vpc_id: v for v in views}
        adjacent: dict[str, set[str]] = defaultdict(set)
        for peering in self.peerings.values():
            a, b = peering.requester.vpc_id, peering.accepter.vpc_id
            if a in by_id and b in by_id and a != b:
                adjacent[a].add(b)
                adjacent[b].add(a)

        def key(vpc_id: str) -> tuple[str, str]:
            return (by_id[vpc_id].name or "~", vpc_id)

        groups: list[list[str]] = []
        seen: set[str] = set()
        for start in sorted(adjacent, key=lambda v: (-len(adjacent[v]), key(v))):
            if start in seen:
                continue
            group, queue = [], [start]
            seen.add(start)
            while queue:
                current = queue.pop(0)
                group.append(current)
                for neighbour in sorted(adjacent[current] - seen, key=key):
                    seen.add(neighbour)
                    queue.append(neighbour)
            groups.append(group)
        groups.sort(key=lambda g: (-len(g), key(g[0])))
        singles = sorted((v for v in by_id if v not in seen), key=lambda v: (lane_of.get(v, "~"), key(v)))
        return [by_id[v] for group in groups for v in group] + [by_id[v] for v in singles]

    # -- VPC cards -----------------------------------------------------------------
    def vpc_card(self, view: VpcView) -> Card:
        marks = self.marks
        snapshot = view.snapshot
        own = marks.on(view.vpc_id)
        self.drawn.add(view.vpc_id)
        rows = [self._cidr_row(view), self._info_row(view)]
        if snapshot is not None:
            rows += self._route_table_rows(view, snapshot)
            rows += self._endpoint_rows(view, snapshot)
        related = [f for f in marks.findings if f.vpc_id == view.vpc_id or f.resource_id == view.vpc_id]
        severity = severity_of(related)
        title = f"{view.name or 'VPC'} {view.vpc_id} in {view.region}" + (
            f", account {view.owner_id}" if view.owner_id else ""
        )
        if own:
            title += "\n" + finding_title(own)
        return Card(
            key=view.vpc_id,
            region=view.region,
            classes="vpc" + (" ext" if view.external else "") + finding_classes(own),
            title=title,
            name=view.name or ("peer VPC" if view.external else "VPC"),
            subtitle=view.vpc_id,
            rows=rows,
            pill=f"{len(related)} finding{'s' if len(related) != 1 else ''}" if related else "",
            pill_classes=f"sev-{severity.name}" if severity is not None else "",
            attrs={"data-name": view.name, "data-region": view.region},
        )

    def _cidr_row(self, view: VpcView) -> Row:
        overlaps = self.marks.overlap.get(view.vpc_id, {})
        tags: list[Tag] = []
        for cidr in view.cidrs:
            if cidr in overlaps:
                tags.append(Tag(f"{cidr} overlap", "overlap", title="overlaps: " + "; ".join(overlaps[cidr])))
            else:
                tags.append(Tag(cidr))
        for cidr in sorted(set(overlaps) - set(view.cidrs)):  # a route broader or narrower than the VPC's CIDR
            tags.append(Tag(f"{cidr} overlap", "overlap", title="overlaps: " + "; ".join(overlaps[cidr])))
        if not tags:
            tags.append(Tag("unknown", "warn"))
        return Row("CIDR", tags, classes="cidrs")

    def _info_row(self, view: VpcView) -> Row:
        snapshot = view.snapshot
        if snapshot is None:
            return Row("", [Tag(f"outside this audit · account {view.owner_id or 'unknown'}", "warn")], classes="info")
        own = self.marks.on(view.vpc_id)
        tags: list[Tag] = []
        subnets = snapshot.subnets_by_vpc.get(view.vpc_id, ())
        tags.append(Tag(f"{len(subnets)} subnet{'s' if len(subnets) != 1 else ''}"))
        if view.owner_id and view.owner_id != snapshot.account_id:
            tags.append(Tag(f"account {view.owner_id}", "warn"))
        for check in ("vpc-flow-logs-enabled", "vpc-flow-logs-traffic-type"):
            failing = [f for f in own if f.check == check]
            if failing:
                tags.append(Tag(SHORT[check], "bad", view.vpc_id, finding_title(failing)))
        subnet_ids = {s.subnet_id for s in subnets}
        for fl in sorted(snapshot.flow_logs, key=lambda fl: fl.flow_log_id):
            if fl.resource_id != view.vpc_id and fl.resource_id not in subnet_ids:
                continue
            self.drawn.add(fl.flow_log_id)
            failing = self.marks.on(fl.flow_log_id)
            scope = "subnet flow log" if fl.resource_id in subnet_ids else "flow log"
            text = f"{scope} {fl.traffic_type or ''}".strip()
            if failing:
                tags.append(Tag(f"{text} failing", "bad", fl.flow_log_id, finding_title(failing)))
            else:
                tags.append(Tag(text, "ok", fl.flow_log_id, f"{fl.flow_log_id} on {fl.resource_id}"))
        return Row("", tags, classes="info")

    def _route_table_rows(self, view: VpcView, snapshot: NetworkSnapshot) -> list[Row]:
        marks = self.marks
        gateway_endpoints: dict[str, list[Any]] = defaultdict(list)
        for endpoint in snapshot.vpc_endpoints:
            if endpoint.vpc_id == view.vpc_id and endpoint.endpoint_type == "Gateway":
                for table_id in endpoint.route_table_ids:
                    gateway_endpoints[table_id].append(endpoint)
        rows: list[Row] = []
        tables = sorted(
            (t for t in snapshot.route_tables if t.vpc_id == view.vpc_id),
            key=lambda t: (not t.main, name_of(t.tags, "~"), t.route_table_id),
        )
        for table in tables:
            self.drawn.add(table.route_table_id)
            findings = marks.on(table.route_table_id)
            served = snapshot.subnets_served.get(table.route_table_id, ())
            tags: list[Tag] = []
            if table.main:
                tags.append(Tag("main"))
            defaults = [r for r in table.routes if r.destination == "0.0.0.0/0" and r.state == "active"]
            if any(r.target_kind == "igw" for r in defaults):
                tags.append(Tag("public"))
            elif any(r.target_kind == "nat" for r in defaults):
                tags.append(Tag("private, NAT"))
            elif served:
                tags.append(Tag("private"))
            if table.gateway_ids:
                tags.append(Tag("edge"))
            for endpoint in sorted(gateway_endpoints.get(table.route_table_id, ()), key=lambda e: e.service):
                self.drawn.add(endpoint.endpoint_id)
                failing = marks.on(endpoint.endpoint_id)
                tags.append(
                    Tag(
                        f"{endpoint.service} endpoint",
                        "bad" if failing else "ok",
                        endpoint.endpoint_id,
                        finding_title(failing) or f"gateway endpoint {endpoint.endpoint_id} ({endpoint.state})",
                        finding_classes(failing),
                    )
                )
            missing = sorted(marks.missing_gateway.get(table.route_table_id, ()), key=lambda f: str(f.evidence))
            for f in missing:
                tags.append(
                    Tag(
                        f"{f.evidence.get('service', '?')} missing",
                        "bad",
                        table.route_table_id,
                        finding_title([f]),
                        " missing",
                    )
                )
            for f in findings:
                if f.check != "private-subnet-gateway-endpoints":
                    tags.append(Tag(SHORT.get(f.check, f.check), "bad", table.route_table_id, finding_title([f])))
            label = name_of(table.tags, "")
            title = f"route table {table.route_table_id}: {len(served)} subnet(s), {len(table.routes)} route(s)"
            rows.append(
                Row(
                    f"{label} {table.route_table_id}" if label else table.route_table_id,
                    tags,
                    resource=table.route_table_id,
                    classes="rtb" + finding_classes(findings),
                    title=title + ("\n" + finding_title(findings) if findings else ""),
                )
            )
        return rows

    def _endpoint_rows(self, view: VpcView, snapshot: NetworkSnapshot) -> list[Row]:
        marks = self.marks
        rows: list[Row] = []
        tags: list[Tag] = []
        for endpoint in sorted(snapshot.vpc_endpoints, key=lambda e: (e.service, e.endpoint_id)):
            if endpoint.vpc_id != view.vpc_id or endpoint.endpoint_id in self.drawn or is_gone(endpoint.state):
                continue
            self.drawn.add(endpoint.endpoint_id)
            failing = marks.on(endpoint.endpoint_id)
            suffix = {"Gateway": " gw", "GatewayLoadBalancer": " gwlb"}.get(endpoint.endpoint_type, "")
            name = endpoint.service if endpoint.is_aws_service else endpoint.service_name.rsplit(".", 1)[-1]
            text = name + suffix + "".join(f": {SHORT.get(f.check, f.check)}" for f in failing)
            tags.append(
                Tag(
                    text,
                    "bad" if failing else ("ok" if is_live(endpoint.state) else "warn"),
                    endpoint.endpoint_id,
                    finding_title(failing)
                    or f"{endpoint.endpoint_type} endpoint {endpoint.endpoint_id} ({endpoint.state})",
                    finding_classes(failing),
                )
            )
        for f in sorted(marks.missing_interface.get(view.vpc_id, ()), key=lambda f: str(f.evidence)):
            service = f.evidence.get("service", "?")
            tags.append(Tag(f"{service} missing", "bad", view.vpc_id, finding_title([f]), " missing"))
        if tags:
            rows.append(Row("endpoints", tags, classes="endpoints"))
        vpn: list[Tag] = []
        for cvpn in sorted(snapshot.client_vpn_endpoints, key=lambda c: c.endpoint_id):
            if cvpn.vpc_id != view.vpc_id:
                continue
            self.drawn.add(cvpn.endpoint_id)
            failing = marks.on(cvpn.endpoint_id)
            text = cvpn.endpoint_id + "".join(f": {SHORT.get(f.check, f.check)}" for f in failing)
            vpn.append(
                Tag(
                    text,
                    "bad" if failing else "ok",
                    cvpn.endpoint_id,
                    finding_title(failing) or f"Client VPN endpoint {cvpn.endpoint_id}",
                    finding_classes(failing),
                )
            )
        if vpn:
            rows.append(Row("client VPN", vpn, classes="cvpn"))
        return rows

    # -- TGW cards and the region's other elements ------------------------------------
    def tgw_card(
        self, tgw: TransitGateway, tables: list[TgwRouteTable], snapshot: NetworkSnapshot, column: RegionView
    ) -> Card:
        marks = self.marks
        self.drawn.add(tgw.tgw_id)
        own = marks.on(tgw.tgw_id)
        attachments = [a for a in snapshot.tgw_attachments if a.tgw_id == tgw.tgw_id and not is_gone(a.state)]
        vpc_count = sum(1 for a in attachments if a.resource_type == "vpc")
        info = [Tag(f"{vpc_count} VPC attachment{'s' if vpc_count != 1 else ''}")]
        if tgw.auto_accept_shared_attachments == "enable":
            info.append(
                Tag("auto-accepts shared attachments", "bad" if own else "warn", tgw.tgw_id, finding_title(own))
            )
        rows = [Row("", info, classes="info")]
        for table in tables:
            self.drawn.add(table.route_table_id)
            findings = marks.on(table.route_table_id)
            members = {a for a, ids in snapshot.tgw_tables_of_attachment.items() if table.route_table_id in ids}
            routes = snapshot.tgw_routes.get(table.route_table_id, ())
            tags = [
                Tag(f"{len(members)} assoc"),
                Tag(f"{len(table.propagations)} prop"),
                Tag(f"{len(routes)} route{'s' if len(routes) != 1 else ''}"),
            ]
            tags += [
                Tag(SHORT.get(f.check, f.check), "bad", table.route_table_id, finding_title([f])) for f in findings
            ]
            label = name_of(table.tags, "")
            rows.append(
                Row(
                    f"{label} {table.route_table_id}" if label else table.route_table_id,
                    tags,
                    resource=table.route_table_id,
                    classes="tgw-rtb" + finding_classes(findings),
                    title=f"TGW route table {table.route_table_id}: {len(members)} associated, "
                    f"{len(table.propagations)} propagating, {len(routes)} routes"
                    + ("\n" + finding_title(findings) if findings else ""),
                    swatch=column.colour(table.route_table_id),
                )
            )
        others: dict[str, list[str]] = defaultdict(list)
        for a in attachments:
            if a.resource_type != "vpc":
                others[a.resource_type].append(f"{a.attachment_id} ({a.resource_id})")
        if others:
            rows.append(
                Row(
                    "also",
                    [Tag(f"{kind} x{len(ids)}", title=", ".join(sorted(ids))) for kind, ids in sorted(others.items())],
                )
            )
        label = name_of(tgw.tags, "")
        severity = severity_of(own)
        return Card(
            key=tgw.tgw_id,
            region=column.region,
            classes="tgw" + finding_classes(own),
            title=f"transit gateway {tgw.tgw_id}" + ("\n" + finding_title(own) if own else ""),
            name=f"TGW {label}" if label else "TGW",
            subtitle=tgw.tgw_id,
            rows=rows,
            pill=f"{len(own)} finding{'s' if len(own) != 1 else ''}" if own else "",
            pill_classes=f"sev-{severity.name}" if severity is not None else "",
        )

    def misc_card(self, column: RegionView) -> Card | None:
        """The region's elements that belong to no VPC (endpoint services), and any finding
        the diagram has no element for, so that every finding is drawn somewhere."""
        tags: list[Tag] = []
        for snapshot in column.snapshots:
            for service in sorted(snapshot.endpoint_services, key=lambda s: s.service_id):
                self.drawn.add(service.service_id)
                failing = self.marks.on(service.service_id)
                text = service.service_id + "".join(f": {SHORT.get(f.check, f.check)}" for f in failing)
                tags.append(
                    Tag(
                        text,
                        "bad" if failing else "ok",
                        service.service_id,
                        finding_title(failing) or service.service_name,
                        finding_classes(failing),
                    )
                )
        strays = [f for f in self.marks.findings if f.region == column.region and f.resource_id not in self.drawn]
        for f in sorted(strays, key=lambda f: (f.resource_id, f.check)):
            tags.append(
                Tag(
                    f"{f.resource_id}: {SHORT.get(f.check, f.check)}",
                    "bad",
                    f.resource_id,
                    finding_title([f]),
                    finding_classes([f]),
                )
            )
            self.drawn.add(f.resource_id)
        if not tags:
            return None
        return Card(
            key=f"region:{column.region}",
            region=column.region,
            classes="misc",
            title=f"{column.region}: endpoint services and resources outside any VPC",
            name="Region",
            subtitle="endpoint services, other resources",
            rows=[Row("", tags, classes="misc-row")],
        )

    # -- the whole view ---------------------------------------------------------------
    def view(self) -> View:
        # Cards in drawing order: every region's hub lane first, then each column's VPCs and
        # the rest (the last card of a column lists what no earlier card drew).
        for region in self.columns:
            region.hub = [
                (self.tgw_card(tgw, tables, snapshot, region), [t.route_table_id for t in tables])
                for tgw, tables, snapshot in region.tgws
            ]
        for region in self.columns:
            region.vpc_cards = [self.vpc_card(view) for view in region.vpcs]
            region.misc = self.misc_card(region)
        carded = {card.key for region in self.columns for card in region.vpc_cards}
        stubs: list[Stub] = []
        for region in self.columns:
            propagations = {t.route_table_id: t.propagations for _, tables, _ in region.tgws for t in tables}
            for snapshot in region.snapshots:
                for attachment in sorted(snapshot.tgw_attachments, key=lambda a: a.attachment_id):
                    if attachment.resource_type != "vpc" or is_gone(attachment.state):
                        continue
                    if attachment.resource_id not in carded:
                        continue
                    associated = set(snapshot.tgw_tables_of_attachment.get(attachment.attachment_id, ()))
                    for table_id in region.lanes:
                        propagating = attachment.attachment_id in propagations.get(table_id, ())
                        if table_id not in associated and not propagating:
                            continue
                        stubs.append(
                            Stub(
                                table_id,
                                attachment.attachment_id,
                                attachment.resource_id,
                                table_id in associated,
                                region.lanes.index(table_id),
                                (table_id, attachment.attachment_id) in self.marks.bad_stubs,
                            )
                        )
        peerings = [
            p
            for p in self.peerings.values()
            if p.requester.vpc_id in carded and p.accepter.vpc_id in carded and p.requester.vpc_id != p.accepter.vpc_id
        ]
        return View(
            regions=self.columns,
            region_of=self.column_of,
            peerings=peerings,
            stubs=stubs,
            marks=self.marks,
            drawn=self.drawn,
            vpc_count=sum(1 for v in self.vpcs.values() if not v.external),
        )


def build_view(snapshots: Sequence[NetworkSnapshot], findings: Iterable[Finding]) -> View:
    """What the diagram of ``snapshots`` shows, with ``findings`` (the OPEN ones) on it."""
    return _Builder(snapshots, findings).view()
