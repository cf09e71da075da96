"""The topology diagram of an audit: inline SVG drawn by a deterministic, pure-Python layout.

What it shows: one column per region (regions of peer VPCs outside the audit included),
the region's transit gateways in a hub lane on top with one row per TGW route table, and
below them the VPC cards (CIDRs, route tables with their gateway endpoints, interface
endpoints, Client VPN endpoints). Each TGW route table owns a vertical bus in the
column's left gutter; every VPC attachment is a stub from that bus to its VPC (solid and
a filled dot: associated; dashed and a hollow dot: propagating only). Peerings are arcs
beside the column (curves between columns across regions). Findings are drawn on the
element they concern: a coloured frame and a tooltip, overlapping CIDRs filled red on
both sides with the peering or TGW stub that joins them, a private route table's missing
gateway endpoint as a red ``s3 missing`` tag.

Why this layout rather than a layout library (Graphviz through the ``graphviz`` package,
or a force-directed engine): a VPC landscape has a known shape (regions are independent,
transit gateways are hubs, peerings are point to point), and a layout built for that
shape stays readable at 50 VPCs where general graph layouts give a hairball of crossing
edges: buses never cross each other, peering arcs nest, every card keeps its size. It is
deterministic, so the same landscape always gives the same picture (reports diff, tests
pin geometry), and it needs nothing installed: ``GET /report`` runs in Lambda, where no
``dot`` binary exists, and the CLI stays a pure-Python wheel. Text widths are estimated
from a monospace font (0.6 em per character), so no font metrics are needed; the browser
test checks the estimate against Chromium's real text boxes.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from html import escape
from typing import Any

from chalicelib.core.model import Finding, NetworkSnapshot, Peering, Severity, TgwRouteTable, TransitGateway

FONT = 11  # px, every text but the card titles
CHAR_W = 0.6 * FONT  # the advance of a monospace character
TITLE_FONT = 12
TITLE_CHAR_W = 0.6 * TITLE_FONT
LINE_H = 17
PAD = 8
CARD_W = 420
INNER_W = CARD_W - 2 * PAD
CARD_GAP = 16
TGW_GAP = 12
LANE_GAP = 12
GUTTER_MIN = 20
ARC_W = 150
COL_GAP = 24
MARGIN = 16
REGION_HEAD = 30
HUB_GAP = 28
TAG_H = 14
LANE_COLOURS = ("#2f6db5", "#8a4fbf", "#1f8a70", "#b36b00", "#c2185b", "#546e7a", "#6d8f00", "#00838f")
LIVE_PEERING = ("active", "pending-acceptance", "provisioning")
GONE = ("deleted", "deleting", "failed", "rejected")

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


# ---------------------------------------------------------------------------------
# Geometry
# ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Box:
    x: float
    y: float
    w: float
    h: float

    @property
    def right(self) -> float:
        return self.x + self.w

    @property
    def bottom(self) -> float:
        return self.y + self.h

    def overlaps(self, other: Box) -> bool:
        return self.x < other.right and other.x < self.right and self.y < other.bottom and other.y < self.bottom


@dataclass(frozen=True)
class Edge:
    kind: str  # peering | trunk | stub | tgw-peering
    resource: str  # the pcx, TGW route table or attachment id
    ends: tuple[str, str]  # element ids it joins
    path: str
    bad: bool = False


@dataclass
class Diagram:
    """The laid-out diagram: element boxes (by resource id), edges, and the SVG text."""

    width: float
    height: float
    boxes: dict[str, Box]
    columns: dict[str, Box]  # region -> its column
    edges: list[Edge]
    drawn: frozenset[str]  # every resource id that is an element of the diagram
    svg: str


# ---------------------------------------------------------------------------------
# What is drawn: views over the snapshots and the findings
# ---------------------------------------------------------------------------------


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


def _name(tags: Mapping[str, str], default: str) -> str:
    return tags.get("Name") or default


def _fit(text: str, width: float, char_w: float = CHAR_W) -> str:
    limit = max(1, int(width // char_w))
    return text if len(text) <= limit else text[: max(1, limit - 1)] + "…"


def _text_w(text: str, char_w: float = CHAR_W) -> float:
    return len(text) * char_w


def _severity(findings: Sequence[Finding]) -> Severity | None:
    return max((f.severity for f in findings), default=None)


def _finding_title(findings: Sequence[Finding]) -> str:
    return "\n".join(f"{f.severity.name} {f.check}: {f.detail}" for f in findings)


def _finding_classes(findings: Sequence[Finding]) -> str:
    severity = _severity(findings)
    return "" if severity is None else f" has-finding sev-{severity.name}"


class _Marks:
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
# Cards: what each box holds
# ---------------------------------------------------------------------------------


@dataclass
class _Card:
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
    box: Box = Box(0, 0, CARD_W, 0)
    row_mid: dict[str, float] = field(default_factory=dict)  # row resource -> y of its first line's middle
    row_box: dict[str, Box] = field(default_factory=dict)


@dataclass
class _Column:
    region: str
    external_only: bool  # only VPCs seen as peers: a region the audit did not cover
    vpcs: list[VpcView] = field(default_factory=list)
    tgws: list[tuple[TransitGateway, list[TgwRouteTable], NetworkSnapshot]] = field(default_factory=list)
    lanes: list[str] = field(default_factory=list)  # TGW route table ids, left to right
    snapshots: list[NetworkSnapshot] = field(default_factory=list)
    x: float = 0.0
    gutter: float = GUTTER_MIN

    @property
    def card_x(self) -> float:
        return self.x + self.gutter

    @property
    def width(self) -> float:
        return self.gutter + CARD_W + ARC_W

    def lane_x(self, table_id: str) -> float:
        return self.x + 12 + self.lanes.index(table_id) * LANE_GAP

    def colour(self, table_id: str) -> str:
        return LANE_COLOURS[self.lanes.index(table_id) % len(LANE_COLOURS)]


@dataclass(frozen=True)
class _Placed:
    tag: Tag
    x: float  # relative to the card's inner left
    line: int
    w: float
    text: str


def _layout_row(row: Row) -> tuple[str, list[_Placed], int]:
    """Flow a row's tags after its lead text, wrapping within the card: (lead, tags, lines)."""
    lead = _fit(row.lead, INNER_W * (0.62 if row.tags else 1.0)) if row.lead else ""
    indent = 16.0 if lead else 0.0
    x = (_text_w(lead) + 8 + (10 if row.swatch else 0)) if lead else 0.0
    line = 0
    placed: list[_Placed] = []
    for tag in row.tags:
        text = _fit(tag.text, INNER_W - indent - 8)
        w = _text_w(text) + 8
        if x + w > INNER_W and x > indent:
            line, x = line + 1, indent
        placed.append(_Placed(tag, x, line, w, text))
        x += w + 4
    return lead, placed, line + 1


HEADER_H = 20


def _card_height(card: _Card) -> float:
    return PAD + HEADER_H + sum(_layout_row(row)[2] * LINE_H for row in card.rows) + PAD / 2


class _Builder:
    def __init__(self, snapshots: Sequence[NetworkSnapshot], findings: Iterable[Finding]) -> None:
        self.snapshots = list(snapshots)
        self.marks = _Marks(findings)
        self.drawn: set[str] = set()
        self.vpcs: dict[str, VpcView] = {}
        for snapshot in self.snapshots:
            for vpc in snapshot.vpcs:
                if vpc.vpc_id not in self.vpcs:
                    self.vpcs[vpc.vpc_id] = VpcView(
                        vpc.vpc_id, snapshot.region, vpc.owner_id, _name(vpc.tags, ""), vpc.cidrs, snapshot
                    )
        self.peerings: dict[str, Peering] = {}
        for snapshot in self.snapshots:
            for peering in sorted(snapshot.peerings, key=lambda p: p.peering_id):
                if peering.status not in LIVE_PEERING or peering.peering_id in self.peerings:
                    continue
                self.peerings[peering.peering_id] = peering
                for side in (peering.requester, peering.accepter):
                    if side.vpc_id not in self.vpcs:
                        region = side.region or snapshot.region
                        self.vpcs[side.vpc_id] = VpcView(side.vpc_id, region, side.owner_id, "", side.cidrs, None)
        for snapshot in self.snapshots:
            for attachment in snapshot.tgw_attachments:
                if attachment.resource_type != "vpc" or attachment.state in GONE:
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
        self.column_of: dict[str, _Column] = {v.vpc_id: c for c in self.columns for v in c.vpcs}

    # -- columns and order ---------------------------------------------------------
    def _columns(self) -> list[_Column]:
        regions: dict[str, _Column] = {}
        for snapshot in self.snapshots:
            column = regions.setdefault(snapshot.region, _Column(snapshot.region, external_only=False))
            column.snapshots.append(snapshot)
            for tgw in sorted(snapshot.transit_gateways, key=lambda t: (_name(t.tags, "~"), t.tgw_id)):
                if tgw.state in GONE or any(t.tgw_id == tgw.tgw_id for t, _, _ in column.tgws):
                    continue
                tables = sorted(
                    (t for t in snapshot.tgw_route_tables if t.tgw_id == tgw.tgw_id and t.state not in GONE),
                    key=lambda t: (_name(t.tags, "~"), t.route_table_id),
                )
                column.tgws.append((tgw, tables, snapshot))
                column.lanes.extend(t.route_table_id for t in tables)
        for view in self.vpcs.values():
            regions.setdefault(view.region, _Column(view.region, external_only=True))
        ordered = [c for c in regions.values() if not c.external_only]
        ordered += sorted((c for c in regions.values() if c.external_only), key=lambda c: c.region)
        lane_of = self._first_lane()
        for column in ordered:
            members = [v for v in self.vpcs.values() if v.region == column.region]
            column.vpcs = self._order([v for v in members if not v.external], lane_of) + sorted(
                (v for v in members if v.external), key=lambda v: v.vpc_id
            )
            column.gutter = max(GUTTER_MIN, 12 + len(column.lanes) * LANE_GAP + 8)
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
    def vpc_card(self, view: VpcView) -> _Card:
        marks = self.marks
        snapshot = view.snapshot
        own = marks.on(view.vpc_id)
        self.drawn.add(view.vpc_id)
        rows = [self._cidr_row(view), self._info_row(view)]
        if snapshot is not None:
            rows += self._route_table_rows(view, snapshot)
            rows += self._endpoint_rows(view, snapshot)
        related = [f for f in marks.findings if f.vpc_id == view.vpc_id or f.resource_id == view.vpc_id]
        severity = _severity(related)
        title = f"{view.name or 'VPC'} {view.vpc_id} in {view.region}" + (
            f", account {view.owner_id}" if view.owner_id else ""
        )
        if own:
            title += "\n" + _finding_title(own)
        return _Card(
            key=view.vpc_id,
            region=view.region,
            classes="vpc" + (" ext" if view.external else "") + _finding_classes(own),
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
                tags.append(Tag(SHORT[check], "bad", view.vpc_id, _finding_title(failing)))
        subnet_ids = {s.subnet_id for s in subnets}
        for fl in sorted(snapshot.flow_logs, key=lambda fl: fl.flow_log_id):
            if fl.resource_id != view.vpc_id and fl.resource_id not in subnet_ids:
                continue
            self.drawn.add(fl.flow_log_id)
            failing = self.marks.on(fl.flow_log_id)
            scope = "subnet flow log" if fl.resource_id in subnet_ids else "flow log"
            text = f"{scope} {fl.traffic_type or ''}".strip()
            if failing:
                tags.append(Tag(f"{text} failing", "bad", fl.flow_log_id, _finding_title(failing)))
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
            key=lambda t: (not t.main, _name(t.tags, "~"), t.route_table_id),
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
                        _finding_title(failing) or f"gateway endpoint {endpoint.endpoint_id} ({endpoint.state})",
                        _finding_classes(failing),
                    )
                )
            missing = sorted(marks.missing_gateway.get(table.route_table_id, ()), key=lambda f: str(f.evidence))
            for f in missing:
                tags.append(
                    Tag(
                        f"{f.evidence.get('service', '?')} missing",
                        "bad",
                        table.route_table_id,
                        _finding_title([f]),
                        " missing",
                    )
                )
            for f in findings:
                if f.check != "private-subnet-gateway-endpoints":
                    tags.append(Tag(SHORT.get(f.check, f.check), "bad", table.route_table_id, _finding_title([f])))
            label = _name(table.tags, "")
            title = f"route table {table.route_table_id}: {len(served)} subnet(s), {len(table.routes)} route(s)"
            rows.append(
                Row(
                    f"{label} {table.route_table_id}" if label else table.route_table_id,
                    tags,
                    resource=table.route_table_id,
                    classes="rtb" + _finding_classes(findings),
                    title=title + ("\n" + _finding_title(findings) if findings else ""),
                )
            )
        return rows

    def _endpoint_rows(self, view: VpcView, snapshot: NetworkSnapshot) -> list[Row]:
        marks = self.marks
        rows: list[Row] = []
        tags: list[Tag] = []
        for endpoint in sorted(snapshot.vpc_endpoints, key=lambda e: (e.service, e.endpoint_id)):
            if endpoint.vpc_id != view.vpc_id or endpoint.endpoint_id in self.drawn or endpoint.state in GONE:
                continue
            self.drawn.add(endpoint.endpoint_id)
            failing = marks.on(endpoint.endpoint_id)
            suffix = {"Gateway": " gw", "GatewayLoadBalancer": " gwlb"}.get(endpoint.endpoint_type, "")
            name = endpoint.service if endpoint.is_aws_service else endpoint.service_name.rsplit(".", 1)[-1]
            text = name + suffix + "".join(f": {SHORT.get(f.check, f.check)}" for f in failing)
            tags.append(
                Tag(
                    text,
                    "bad" if failing else ("ok" if endpoint.state == "available" else "warn"),
                    endpoint.endpoint_id,
                    _finding_title(failing)
                    or f"{endpoint.endpoint_type} endpoint {endpoint.endpoint_id} ({endpoint.state})",
                    _finding_classes(failing),
                )
            )
        for f in sorted(marks.missing_interface.get(view.vpc_id, ()), key=lambda f: str(f.evidence)):
            service = f.evidence.get("service", "?")
            tags.append(Tag(f"{service} missing", "bad", view.vpc_id, _finding_title([f]), " missing"))
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
                    _finding_title(failing) or f"Client VPN endpoint {cvpn.endpoint_id}",
                    _finding_classes(failing),
                )
            )
        if vpn:
            rows.append(Row("client VPN", vpn, classes="cvpn"))
        return rows

    # -- TGW cards and the region's other elements ------------------------------------
    def tgw_card(
        self, tgw: TransitGateway, tables: list[TgwRouteTable], snapshot: NetworkSnapshot, column: _Column
    ) -> _Card:
        marks = self.marks
        self.drawn.add(tgw.tgw_id)
        own = marks.on(tgw.tgw_id)
        attachments = [a for a in snapshot.tgw_attachments if a.tgw_id == tgw.tgw_id and a.state not in GONE]
        vpc_count = sum(1 for a in attachments if a.resource_type == "vpc")
        info = [Tag(f"{vpc_count} VPC attachment{'s' if vpc_count != 1 else ''}")]
        if tgw.auto_accept_shared_attachments == "enable":
            info.append(
                Tag("auto-accepts shared attachments", "bad" if own else "warn", tgw.tgw_id, _finding_title(own))
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
                Tag(SHORT.get(f.check, f.check), "bad", table.route_table_id, _finding_title([f])) for f in findings
            ]
            label = _name(table.tags, "")
            rows.append(
                Row(
                    f"{label} {table.route_table_id}" if label else table.route_table_id,
                    tags,
                    resource=table.route_table_id,
                    classes="tgw-rtb" + _finding_classes(findings),
                    title=f"TGW route table {table.route_table_id}: {len(members)} associated, "
                    f"{len(table.propagations)} propagating, {len(routes)} routes"
                    + ("\n" + _finding_title(findings) if findings else ""),
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
        label = _name(tgw.tags, "")
        severity = _severity(own)
        return _Card(
            key=tgw.tgw_id,
            region=column.region,
            classes="tgw" + _finding_classes(own),
            title=f"transit gateway {tgw.tgw_id}" + ("\n" + _finding_title(own) if own else ""),
            name=f"TGW {label}" if label else "TGW",
            subtitle=tgw.tgw_id,
            rows=rows,
            pill=f"{len(own)} finding{'s' if len(own) != 1 else ''}" if own else "",
            pill_classes=f"sev-{severity.name}" if severity is not None else "",
        )

    def misc_card(self, column: _Column) -> _Card | None:
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
                        _finding_title(failing) or service.service_name,
                        _finding_classes(failing),
                    )
                )
        strays = [f for f in self.marks.findings if f.region == column.region and f.resource_id not in self.drawn]
        for f in sorted(strays, key=lambda f: (f.resource_id, f.check)):
            tags.append(
                Tag(
                    f"{f.resource_id}: {SHORT.get(f.check, f.check)}",
                    "bad",
                    f.resource_id,
                    _finding_title([f]),
                    _finding_classes([f]),
                )
            )
            self.drawn.add(f.resource_id)
        if not tags:
            return None
        return _Card(
            key=f"region:{column.region}",
            region=column.region,
            classes="misc",
            title=f"{column.region}: endpoint services and resources outside any VPC",
            name="Region",
            subtitle="endpoint services, other resources",
            rows=[Row("", tags, classes="misc-row")],
        )


# ---------------------------------------------------------------------------------
# Layout and SVG
# ---------------------------------------------------------------------------------


def _f(value: float) -> str:
    return f"{value:.1f}".rstrip("0").rstrip(".")


def _attr(value: str) -> str:
    return escape(value, quote=True)


def _place(card: _Card, x: float, y: float) -> None:
    card.box = Box(x, y, CARD_W, _card_height(card))
    top = y + PAD + HEADER_H
    for row in card.rows:
        lines = _layout_row(row)[2]
        if row.resource:
            card.row_mid[row.resource] = top + LINE_H / 2
            card.row_box[row.resource] = Box(x + PAD - 3, top, INNER_W + 6, lines * LINE_H)
        top += lines * LINE_H


def _card_svg(card: _Card) -> str:
    box = card.box
    out = [
        f'<g class="{_attr(card.classes)}" data-resource="{_attr(card.key)}"'
        + "".join(f' {k}="{_attr(v)}"' for k, v in card.attrs.items())
        + f"><title>{escape(card.title)}</title>"
        f'<rect class="card" x="{_f(box.x)}" y="{_f(box.y)}" width="{_f(box.w)}" height="{_f(box.h)}" rx="6"/>'
    ]
    pill_w = _text_w(card.pill) + 10 if card.pill else 0.0
    head_y = box.y + PAD + 11
    name = _fit(card.name, (INNER_W - pill_w - 8) * 0.55, TITLE_CHAR_W)
    name_w = _text_w(name, TITLE_CHAR_W) + 8
    subtitle = _fit(card.subtitle, INNER_W - pill_w - 8 - name_w)
    out.append(f'<text class="name" x="{_f(box.x + PAD)}" y="{_f(head_y)}">{escape(name)}</text>')
    out.append(f'<text class="id" x="{_f(box.x + PAD + name_w)}" y="{_f(head_y)}">{escape(subtitle)}</text>')
    if card.pill:
        px = box.right - PAD - pill_w
        out.append(
            f'<g class="pill {card.pill_classes}"><rect x="{_f(px)}" y="{_f(head_y - 11)}" width="{_f(pill_w)}" '
            f'height="{TAG_H}" rx="7"/><text x="{_f(px + 5)}" y="{_f(head_y)}">{escape(card.pill)}</text></g>'
        )
    top = box.y + PAD + HEADER_H
    inner_x = box.x + PAD
    for row in card.rows:
        lead, placed, lines = _layout_row(row)
        group = f'<g class="row {_attr(row.classes)}"'
        if row.resource:
            group += f' data-resource="{_attr(row.resource)}"'
        out.append(group + ">" + (f"<title>{escape(row.title)}</title>" if row.title else ""))
        if row.resource:
            rb = card.row_box[row.resource]
            out.append(
                f'<rect class="row-bg" x="{_f(rb.x)}" y="{_f(rb.y)}" width="{_f(rb.w)}" '
                f'height="{_f(rb.h - 1)}" rx="3"/>'
            )
        lead_x = inner_x
        if row.swatch:
            out.append(
                f'<rect class="swatch" x="{_f(inner_x)}" y="{_f(top + 4)}" width="7" height="9" fill="{row.swatch}"/>'
            )
            lead_x += 10
        if lead:
            out.append(f'<text class="lead" x="{_f(lead_x)}" y="{_f(top + 12)}">{escape(lead)}</text>')
        for p in placed:
            tag = p.tag
            tx, ty = inner_x + p.x, top + p.line * LINE_H + 1.5
            attrs = f' data-resource="{_attr(tag.resource)}"' if tag.resource else ""
            out.append(
                f'<g class="tag t-{tag.kind}{_attr(tag.classes)}"{attrs}>'
                + (f"<title>{escape(tag.title)}</title>" if tag.title else "")
                + f'<rect x="{_f(tx)}" y="{_f(ty)}" width="{_f(p.w)}" height="{TAG_H}" rx="3"/>'
                f'<text x="{_f(tx + 4)}" y="{_f(ty + 10.5)}">{escape(p.text)}</text></g>'
            )
        out.append("</g>")
        top += lines * LINE_H
    out.append("</g>")
    return "".join(out)


STYLE = """
.topo text{font:11px ui-monospace,"DejaVu Sans Mono","Liberation Mono",Menlo,Consolas,monospace;fill:#1d2330}
.topo .name{font-size:12px;font-weight:700}.topo .id{fill:#5b6473}.topo .lead{fill:#3a4150}
.topo .column{fill:#f4f6fa;stroke:#e1e5ec}.topo .column.outside{fill:#fbfbfc;stroke-dasharray:6 4}
.topo .region-name{font-size:13px;font-weight:700}.topo .region-note{fill:#5b6473}
.topo .card{fill:#fff;stroke:#9aa4b5;stroke-width:1.2}.topo .tgw>.card{fill:#f1f4ff;stroke:#5a6fb0}
.topo .misc>.card{fill:#fafafa;stroke-dasharray:3 3}
.topo .ext>.card{fill:#f8f8f8;stroke-dasharray:5 3}
.topo .sev-CRITICAL{--sev:#7b1020}.topo .sev-HIGH{--sev:#c62828}.topo .sev-MEDIUM{--sev:#d9822b}
.topo .sev-LOW{--sev:#3a6fb0}.topo .sev-INFORMATIONAL{--sev:#6b7380}
.topo .has-finding>.card{stroke:var(--sev);stroke-width:2.6}
.topo .row-bg{fill:transparent}
.topo .has-finding>.row-bg{fill:#fff4e5;stroke:var(--sev);stroke-width:1.4}
.topo .pill rect{fill:var(--sev,#6b7380)}.topo .pill text{fill:#fff;font-weight:700}
.topo .tag rect{fill:#eef1f5;stroke:#c9d0da}.topo .t-ok rect{fill:#e7f5ec;stroke:#7cb98b}
.topo .t-warn rect{fill:#fff6dc;stroke:#d8b24a}.topo .t-bad rect{fill:#fde8ea;stroke:#c62828}
.topo .t-bad text{fill:#9b1c1c}.topo .t-overlap rect{fill:#c62828;stroke:#7b1020}
.topo .t-overlap text{fill:#fff;font-weight:700}
.topo .trunk,.topo .stub{fill:none;stroke-width:2}.topo .stub.prop{stroke-dasharray:5 3}
.topo .stub.bad,.topo .peering.bad{stroke:#c62828;stroke-width:3.2}
.topo .peering{fill:none;stroke:#2f6db5;stroke-width:1.8}.topo .peering.pending{stroke-dasharray:4 4;stroke:#8a94a6}
.topo .dot{stroke-width:1.5}.topo .peer-label{fill:#2f4f7f;paint-order:stroke;stroke:#fff;stroke-width:3px}
.topo .peer-label.bad{fill:#9b1c1c;font-weight:700}
.topo [data-resource]{cursor:pointer}
.topo .hl>.card,.topo .hl>.row-bg,.topo .hl>rect{stroke:#ff9800!important;stroke-width:4!important}
.topo path.hl{stroke:#ff9800!important;stroke-width:5!important}
"""


def build(snapshots: Sequence[NetworkSnapshot], findings: Iterable[Finding]) -> Diagram:
    """Lay out and draw the snapshots' topology, with ``findings`` (the OPEN ones) on it."""
    builder = _Builder(snapshots, findings)
    columns = builder.columns
    x = float(MARGIN)
    for column in columns:
        column.x = x
        x += column.width + COL_GAP
    width = x - COL_GAP + MARGIN

    # The hub lane: each region's transit gateways, above its VPCs.
    cards: list[_Card] = []
    table_card: dict[str, tuple[_Card, _Column]] = {}
    hub_bottom = float(MARGIN + REGION_HEAD)
    for column in columns:
        y = float(MARGIN + REGION_HEAD)
        for tgw, tables, snapshot in column.tgws:
            card = builder.tgw_card(tgw, tables, snapshot, column)
            _place(card, column.card_x, y)
            cards.append(card)
            for table in tables:
                table_card[table.route_table_id] = (card, column)
            y = card.box.bottom + TGW_GAP
        hub_bottom = max(hub_bottom, y)
    top = hub_bottom + (HUB_GAP if table_card or any(c.tgws for c in columns) else 0)

    # The VPC cards, column by column, then the region's other elements.
    vpc_cards: dict[str, _Card] = {}
    bottom = top
    for column in columns:
        y = top
        for view in column.vpcs:
            card = builder.vpc_card(view)
            _place(card, column.card_x, y)
            cards.append(card)
            vpc_cards[view.vpc_id] = card
            y = card.box.bottom + CARD_GAP
        misc = builder.misc_card(column)
        if misc is not None:
            _place(misc, column.card_x, y)
            cards.append(misc)
            y = misc.box.bottom + CARD_GAP
        bottom = max(bottom, y)
    height = bottom - CARD_GAP + MARGIN

    # Ports: where edges meet a card's left (buses, peerings from the left) and right edges.
    left: dict[str, list[tuple[tuple[float, float, str], str]]] = defaultdict(list)
    right: dict[str, list[tuple[tuple[float, float, str], str]]] = defaultdict(list)
    stubs: list[tuple[str, str, str, bool, str]] = []  # (table, attachment, vpc, associated, port key)
    for column in columns:
        propagations = {t.route_table_id: t.propagations for _, tables, _ in column.tgws for t in tables}
        for snapshot in column.snapshots:
            for attachment in sorted(snapshot.tgw_attachments, key=lambda a: a.attachment_id):
                if attachment.resource_type != "vpc" or attachment.state in GONE:
                    continue
                if attachment.resource_id not in vpc_cards:
                    continue
                associated = set(snapshot.tgw_tables_of_attachment.get(attachment.attachment_id, ()))
                for table_id in column.lanes:
                    propagating = attachment.attachment_id in propagations.get(table_id, ())
                    if table_id not in associated and not propagating:
                        continue
                    port = f"stub:{table_id}:{attachment.attachment_id}"
                    left[attachment.resource_id].append(((0, column.lanes.index(table_id), port), port))
                    stubs.append(
                        (table_id, attachment.attachment_id, attachment.resource_id, table_id in associated, port)
                    )
    for peering in builder.peerings.values():
        a, b = peering.requester.vpc_id, peering.accepter.vpc_id
        if a not in vpc_cards or b not in vpc_cards or a == b:
            continue
        ca, cb = builder.column_of[a], builder.column_of[b]
        ya, yb = vpc_cards[a].box.y, vpc_cards[b].box.y
        if ca is cb:
            right[a].append(((yb, 0, peering.peering_id), f"{peering.peering_id}:{a}"))
            right[b].append(((ya, 0, peering.peering_id), f"{peering.peering_id}:{b}"))
        else:
            first, second = (a, b) if columns.index(ca) < columns.index(cb) else (b, a)
            y_first, y_second = vpc_cards[first].box.y, vpc_cards[second].box.y
            right[first].append(((y_second, 0, peering.peering_id), f"{peering.peering_id}:{first}"))
            left[second].append(((1, y_first, peering.peering_id), f"{peering.peering_id}:{second}"))
    port_y: dict[str, float] = {}
    for side in (left, right):
        for vpc_id, entries in side.items():
            box = vpc_cards[vpc_id].box
            entries.sort()
            step = min(10.0, (box.h - 22) / max(1, len(entries) - 1))
            for k, (_, port) in enumerate(entries):
                port_y[port] = box.y + 13 + k * step

    svg: list[str] = []
    edges: list[Edge] = []
    marks = builder.marks
    boxes: dict[str, Box] = {}
    column_boxes: dict[str, Box] = {}
    for column in columns:
        cbox = Box(column.x, MARGIN, column.width, height - 2 * MARGIN)
        column_boxes[column.region] = cbox
        vpc_count = sum(1 for v in column.vpcs if not v.external)
        note = "outside this audit" if column.external_only else f"{vpc_count} VPC{'s' if vpc_count != 1 else ''}"
        if not column.external_only and column.tgws:
            note += f" · {len(column.tgws)} TGW{'s' if len(column.tgws) != 1 else ''}"
        svg.append(
            f'<g class="region" data-region="{_attr(column.region)}">'
            f'<rect class="column{" outside" if column.external_only else ""}" x="{_f(cbox.x)}" y="{_f(cbox.y)}" '
            f'width="{_f(cbox.w)}" height="{_f(cbox.h)}" rx="8"/>'
            f'<text class="region-name" x="{_f(column.card_x)}" y="{MARGIN + 19}">{escape(column.region)}</text>'
            f'<text class="region-note" x="{_f(column.card_x + _text_w(column.region, 7.8) + 12)}" '
            f'y="{MARGIN + 19}">{escape(note)}</text></g>'
        )

    # Buses: from the TGW route table's row, left into the gutter, down past its last stub.
    lowest: dict[str, float] = {}
    for table_id, _, _, _, port in stubs:
        lowest[table_id] = max(lowest.get(table_id, 0.0), port_y[port])
    for table_id, (card, column) in sorted(table_card.items(), key=lambda kv: kv[1][1].lanes.index(kv[0])):
        lx, ry = column.lane_x(table_id), card.row_mid[table_id]
        path = f"M{_f(card.box.x)},{_f(ry)} H{_f(lx)} V{_f(max(ry, lowest.get(table_id, ry)))}"
        edges.append(Edge("trunk", table_id, (card.key, table_id), path))
        svg.append(
            f'<path class="trunk" data-resource="{_attr(table_id)}" stroke="{column.colour(table_id)}" d="{path}">'
            f"<title>bus of TGW route table {escape(table_id)}</title></path>"
        )
    for table_id, attachment_id, vpc_id, is_associated, port in stubs:
        column = builder.column_of[vpc_id]
        lx, y = column.lane_x(table_id), port_y[port]
        bad = (table_id, attachment_id) in marks.bad_stubs
        path = f"M{_f(lx)},{_f(y)} H{_f(vpc_cards[vpc_id].box.x)}"
        edges.append(Edge("stub", attachment_id, (table_id, vpc_id), path, bad))
        colour = column.colour(table_id)
        kind = "assoc" if is_associated else "prop"
        how = "associated with" if is_associated else "propagating to"
        svg.append(
            f'<g class="attachment" data-resource="{_attr(attachment_id)}"><title>{escape(attachment_id)} '
            f"({escape(vpc_id)}) {how} {escape(table_id)}</title>"
            f'<path class="stub {kind}{" bad" if bad else ""}" stroke="{colour}" d="{path}"/>'
            f'<circle class="dot" cx="{_f(lx)}" cy="{_f(y)}" r="3.6" stroke="{colour}" '
            f'fill="{colour if is_associated else "#fff"}"/></g>'
        )

    # Peerings: arcs beside a column (wider for longer spans, so they nest), curves across.
    spans: dict[str, list[float]] = defaultdict(list)
    arcs: list[tuple[Peering, str, float, float]] = []
    for peering in builder.peerings.values():
        a, b = peering.requester.vpc_id, peering.accepter.vpc_id
        if a not in vpc_cards or b not in vpc_cards or a == b:
            continue
        if builder.column_of[a] is builder.column_of[b]:
            y1, y2 = port_y[f"{peering.peering_id}:{a}"], port_y[f"{peering.peering_id}:{b}"]
            spans[builder.column_of[a].region].append(abs(y2 - y1))
            arcs.append((peering, builder.column_of[a].region, y1, y2))
    labels: list[str] = []
    for peering, region, y1, y2 in arcs:
        ranked = sorted(set(spans[region]))
        rank = ranked.index(abs(y2 - y1)) / max(1, len(ranked) - 1) if len(ranked) > 1 else 0.5
        d = 30 + (ARC_W - 60) * rank
        x0 = vpc_cards[peering.requester.vpc_id].box.right
        path = f"M{_f(x0)},{_f(y1)} C{_f(x0 + d)},{_f(y1)} {_f(x0 + d)},{_f(y2)} {_f(x0)},{_f(y2)}"
        labels.append(_peering_svg(peering, path, x0 + 0.75 * d, (y1 + y2) / 2, marks, svg, edges))
    corridor = 0
    for peering in builder.peerings.values():
        a, b = peering.requester.vpc_id, peering.accepter.vpc_id
        if a not in vpc_cards or b not in vpc_cards or builder.column_of[a] is builder.column_of[b]:
            continue
        first, second = (a, b) if columns.index(builder.column_of[a]) < columns.index(builder.column_of[b]) else (b, a)
        x1, y1 = vpc_cards[first].box.right, port_y[f"{peering.peering_id}:{first}"]
        x2, y2 = vpc_cards[second].box.x, port_y[f"{peering.peering_id}:{second}"]
        if columns.index(builder.column_of[second]) - columns.index(builder.column_of[first]) == 1:
            bend = max(60.0, (x2 - x1) / 3)  # next column: one curve over the gap
            path = f"M{_f(x1)},{_f(y1)} C{_f(x1 + bend)},{_f(y1)} {_f(x2 - bend)},{_f(y2)} {_f(x2)},{_f(y2)}"
        else:  # further: up beside the arcs, along the top margin, down the far column's gutter
            r = 6.0
            up = x1 + ARC_W - 8 - 3 * (corridor % 4)
            top = 4 + 3 * (corridor % 3)
            down = builder.column_of[second].x + 5 + 2 * (corridor % 3)
            corridor += 1
            path = (
                f"M{_f(x1)},{_f(y1)} H{_f(up - r)} Q{_f(up)},{_f(y1)} {_f(up)},{_f(y1 - r)} V{_f(top + r)} "
                f"Q{_f(up)},{_f(top)} {_f(up + r)},{_f(top)} H{_f(down - r)} Q{_f(down)},{_f(top)} "
                f"{_f(down)},{_f(top + r)} V{_f(y2 - r)} Q{_f(down)},{_f(y2)} {_f(down + r)},{_f(y2)} H{_f(x2)}"
            )
        labels.append(_peering_svg(peering, path, x1 + 70, y1 - 4, marks, svg, edges))

    for card in cards:
        boxes[card.key] = card.box
        boxes.update(card.row_box)
        svg.append(_card_svg(card))
    svg += labels
    count = sum(1 for v in builder.vpcs.values() if not v.external)
    text = (
        f'<svg id="topology" class="topo" viewBox="0 0 {_f(width)} {_f(height)}" width="{_f(width)}" '
        f'height="{_f(height)}" role="img" aria-label="Network topology: {count} VPCs in {len(columns)} regions">'
        f"<style>{STYLE}</style>" + "".join(svg) + "</svg>"
    )
    drawn = frozenset(builder.drawn | {e.resource for e in edges})
    return Diagram(width, height, boxes, column_boxes, edges, drawn, text)


def _peering_svg(
    peering: Peering, path: str, lx: float, ly: float, marks: _Marks, svg: list[str], edges: list[Edge]
) -> str:
    """Draws a peering's curve into ``svg``; returns its label (drawn last, above the cards)."""
    findings = marks.on(peering.peering_id)
    bad = peering.peering_id in marks.bad_peerings
    classes = "peering" + (" bad" if bad else "") + (" pending" if peering.status != "active" else "")
    classes += _finding_classes(findings)
    title = f"{peering.peering_id} ({peering.status}): {peering.requester.vpc_id} - {peering.accepter.vpc_id}"
    if findings:
        title += "\n" + _finding_title(findings)
    edges.append(Edge("peering", peering.peering_id, (peering.requester.vpc_id, peering.accepter.vpc_id), path, bad))
    svg.append(
        f'<path class="{classes}" data-resource="{_attr(peering.peering_id)}" d="{path}">'
        f"<title>{escape(title)}</title></path>"
    )
    label = _fit(peering.peering_id, 13 * CHAR_W)
    return (
        f'<text class="peer-label{" bad" if bad else ""}" data-resource="{_attr(peering.peering_id)}" '
        f'x="{_f(lx)}" y="{_f(ly + 4)}" text-anchor="middle">{escape(label)}<title>{escape(title)}</title></text>'
    )
