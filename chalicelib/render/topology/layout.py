"""Where everything in the topology's view model goes: positions and sizes.

Columns side by side (each as wide as its TGW bus gutter, a card and the peering arcs);
the hub lane of transit gateway cards on top, VPC cards below. Text widths are estimated
from a monospace font (0.6 em per character), so tags wrap inside a card without font
metrics. Then the lines: a bus per TGW route table down its column's gutter, a stub per
attachment to its VPC card's left edge, peerings as arcs beside a column (wider for longer
spans, so they nest) and curves across columns; where lines meet a card ("ports") is
spread down its edge in an order that keeps them from crossing. Paths are SVG path data.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from chalicelib.core.model import Peering
from chalicelib.render.topology.model import Card, RegionView, Row, Stub, Tag, View

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
HEADER_H = 20


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


# ---------------------------------------------------------------------------------
# Text in a card
# ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Placed:
    """A tag placed in its row."""

    tag: Tag
    x: float  # relative to the card's inner left
    line: int
    w: float
    text: str


def fit(text: str, width: float, char_w: float = CHAR_W) -> str:
    limit = max(1, int(width // char_w))
    return text if len(text) <= limit else text[: max(1, limit - 1)] + "…"


def text_w(text: str, char_w: float = CHAR_W) -> float:
    return len(text) * char_w


def layout_row(row: Row) -> tuple[str, list[Placed], int]:
    """Flow a row's tags after its lead text, wrapping within the card: (lead, tags, lines)."""
    lead = fit(row.lead, INNER_W * (0.62 if row.tags else 1.0)) if row.lead else ""
    indent = 16.0 if lead else 0.0
    x = (text_w(lead) + 8 + (10 if row.swatch else 0)) if lead else 0.0
    line = 0
    placed: list[Placed] = []
    for tag in row.tags:
        text = fit(tag.text, INNER_W - indent - 8)
        w = text_w(text) + 8
        if x + w > INNER_W and x > indent:
            line, x = line + 1, indent
        placed.append(Placed(tag, x, line, w, text))
        x += w + 4
    return lead, placed, line + 1


def card_height(card: Card) -> float:
    return PAD + HEADER_H + sum(layout_row(row)[2] * LINE_H for row in card.rows) + PAD / 2


def fmt(value: float) -> str:
    """A coordinate as SVG writes it: one decimal at most."""
    return f"{value:.1f}".rstrip("0").rstrip(".")


# ---------------------------------------------------------------------------------
# Cards and columns placed
# ---------------------------------------------------------------------------------


@dataclass
class PlacedCard:
    card: Card
    box: Box
    row_mid: dict[str, float] = field(default_factory=dict)  # row resource -> y of its first line's middle
    row_box: dict[str, Box] = field(default_factory=dict)


def place(card: Card, x: float, y: float) -> PlacedCard:
    placed = PlacedCard(card, Box(x, y, CARD_W, card_height(card)))
    top = y + PAD + HEADER_H
    for row in card.rows:
        lines = layout_row(row)[2]
        if row.resource:
            placed.row_mid[row.resource] = top + LINE_H / 2
            placed.row_box[row.resource] = Box(x + PAD - 3, top, INNER_W + 6, lines * LINE_H)
        top += lines * LINE_H
    return placed


@dataclass
class Column:
    """A region's column: its bus gutter, then its cards, then room for the peering arcs."""

    view: RegionView
    x: float = 0.0
    gutter: float = GUTTER_MIN
    box: Box = Box(0, 0, 0, 0)  # set once the diagram's height is known

    @property
    def card_x(self) -> float:
        return self.x + self.gutter

    @property
    def width(self) -> float:
        return self.gutter + CARD_W + ARC_W

    def lane_x(self, table_id: str) -> float:
        return self.x + 12 + self.view.lanes.index(table_id) * LANE_GAP


# ---------------------------------------------------------------------------------
# Lines
# ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Bus:
    """A TGW route table's bus: from its row on the TGW card into the gutter, down past its
    last stub."""

    table_id: str
    card_key: str
    colour: str
    path: str


@dataclass(frozen=True)
class StubLine:
    stub: Stub
    x: float  # the bus it leaves (its dot)
    y: float
    colour: str
    path: str


@dataclass(frozen=True)
class PeeringLine:
    peering: Peering
    path: str
    label_x: float
    label_y: float
    bad: bool


@dataclass
class Layout:
    width: float
    height: float
    columns: list[Column]
    cards: list[PlacedCard]  # in drawing order
    buses: list[Bus]
    stubs: list[StubLine]
    peerings: list[PeeringLine]  # arcs beside a column first, then curves across columns

    @property
    def edges(self) -> list[Edge]:
        edges = [Edge("trunk", b.table_id, (b.card_key, b.table_id), b.path) for b in self.buses]
        edges += [
            Edge("stub", s.stub.attachment_id, (s.stub.table_id, s.stub.vpc_id), s.path, s.stub.bad) for s in self.stubs
        ]
        edges += [
            Edge(
                "peering", p.peering.peering_id, (p.peering.requester.vpc_id, p.peering.accepter.vpc_id), p.path, p.bad
            )
            for p in self.peerings
        ]
        return edges


# ---------------------------------------------------------------------------------
# The pass
# ---------------------------------------------------------------------------------


def lay_out(view: View) -> Layout:
    """Positions and sizes for everything ``view`` draws."""
    columns = [Column(region) for region in view.regions]
    column_of = {c.view.region: c for c in columns}
    x = float(MARGIN)
    for column in columns:
        column.gutter = max(GUTTER_MIN, 12 + len(column.view.lanes) * LANE_GAP + 8)
        column.x = x
        x += column.width + COL_GAP
    width = x - COL_GAP + MARGIN

    # The hub lane: each region's transit gateways, above its VPCs.
    cards: list[PlacedCard] = []
    table_card: dict[str, tuple[PlacedCard, Column]] = {}
    hub_bottom = float(MARGIN + REGION_HEAD)
    for column in columns:
        y = float(MARGIN + REGION_HEAD)
        for card, tables in column.view.hub:
            placed = place(card, column.card_x, y)
            cards.append(placed)
            for table_id in tables:
                table_card[table_id] = (placed, column)
            y = placed.box.bottom + TGW_GAP
        hub_bottom = max(hub_bottom, y)
    top = hub_bottom + (HUB_GAP if table_card or any(c.view.tgws for c in columns) else 0)

    # The VPC cards, column by column, then the region's other elements.
    vpc_cards: dict[str, PlacedCard] = {}
    bottom = top
    for column in columns:
        y = top
        for card in column.view.vpc_cards:
            placed = place(card, column.card_x, y)
            cards.append(placed)
            vpc_cards[card.key] = placed
            y = placed.box.bottom + CARD_GAP
        if column.view.misc is not None:
            placed = place(column.view.misc, column.card_x, y)
            cards.append(placed)
            y = placed.box.bottom + CARD_GAP
        bottom = max(bottom, y)
    height = bottom - CARD_GAP + MARGIN
    for column in columns:
        column.box = Box(column.x, MARGIN, column.width, height - 2 * MARGIN)

    def home(vpc_id: str) -> Column:
        return column_of[view.region_of[vpc_id].region]

    # Ports: where edges meet a card's left (buses, peerings from the left) and right edges.
    left: dict[str, list[tuple[tuple[float, float, str], str]]] = defaultdict(list)
    right: dict[str, list[tuple[tuple[float, float, str], str]]] = defaultdict(list)
    for stub in view.stubs:
        port = f"stub:{stub.table_id}:{stub.attachment_id}"
        left[stub.vpc_id].append(((0, stub.lane, port), port))
    for peering in view.peerings:
        pcx, a, b = peering.peering_id, peering.requester.vpc_id, peering.accepter.vpc_id
        ca, cb = home(a), home(b)
        ya, yb = vpc_cards[a].box.y, vpc_cards[b].box.y
        if ca is cb:
            right[a].append(((yb, 0, pcx), f"{pcx}:{a}"))
            right[b].append(((ya, 0, pcx), f"{pcx}:{b}"))
        else:
            first, second = (a, b) if columns.index(ca) < columns.index(cb) else (b, a)
            y_first, y_second = vpc_cards[first].box.y, vpc_cards[second].box.y
            right[first].append(((y_second, 0, pcx), f"{pcx}:{first}"))
            left[second].append(((1, y_first, pcx), f"{pcx}:{second}"))
    port_y: dict[str, float] = {}
    for side in (left, right):
        for vpc_id, entries in side.items():
            box = vpc_cards[vpc_id].box
            entries.sort()
            step = min(10.0, (box.h - 22) / max(1, len(entries) - 1))
            for k, (_, port) in enumerate(entries):
                port_y[port] = box.y + 13 + k * step

    # Buses: from the TGW route table's row, left into the gutter, down past its last stub.
    lowest: dict[str, float] = {}
    for stub in view.stubs:
        lowest[stub.table_id] = max(
            lowest.get(stub.table_id, 0.0), port_y[f"stub:{stub.table_id}:{stub.attachment_id}"]
        )
    buses: list[Bus] = []
    for table_id, (placed, column) in sorted(table_card.items(), key=lambda kv: kv[1][1].view.lanes.index(kv[0])):
        lx, ry = column.lane_x(table_id), placed.row_mid[table_id]
        path = f"M{fmt(placed.box.x)},{fmt(ry)} H{fmt(lx)} V{fmt(max(ry, lowest.get(table_id, ry)))}"
        buses.append(Bus(table_id, placed.card.key, column.view.colour(table_id), path))
    stubs: list[StubLine] = []
    for stub in view.stubs:
        column = home(stub.vpc_id)
        lx, y = column.lane_x(stub.table_id), port_y[f"stub:{stub.table_id}:{stub.attachment_id}"]
        path = f"M{fmt(lx)},{fmt(y)} H{fmt(vpc_cards[stub.vpc_id].box.x)}"
        stubs.append(StubLine(stub, lx, y, column.view.colour(stub.table_id), path))

    # Peerings: arcs beside a column (wider for longer spans, so they nest), curves across.
    bad = view.marks.bad_peerings
    spans: dict[str, list[float]] = defaultdict(list)
    arcs: list[tuple[Peering, str, float, float]] = []
    for peering in view.peerings:
        a, b = peering.requester.vpc_id, peering.accepter.vpc_id
        if home(a) is home(b):
            y1, y2 = port_y[f"{peering.peering_id}:{a}"], port_y[f"{peering.peering_id}:{b}"]
            spans[home(a).view.region].append(abs(y2 - y1))
            arcs.append((peering, home(a).view.region, y1, y2))
    lines: list[PeeringLine] = []
    for peering, region, y1, y2 in arcs:
        ranked = sorted(set(spans[region]))
        rank = ranked.index(abs(y2 - y1)) / max(1, len(ranked) - 1) if len(ranked) > 1 else 0.5
        d = 30 + (ARC_W - 60) * rank
        x0 = vpc_cards[peering.requester.vpc_id].box.right
        path = f"M{fmt(x0)},{fmt(y1)} C{fmt(x0 + d)},{fmt(y1)} {fmt(x0 + d)},{fmt(y2)} {fmt(x0)},{fmt(y2)}"
        lines.append(PeeringLine(peering, path, x0 + 0.75 * d, (y1 + y2) / 2, peering.peering_id in bad))
    corridor = 0
    for peering in view.peerings:
        a, b = peering.requester.vpc_id, peering.accepter.vpc_id
        if home(a) is home(b):
            continue
        first, second = (a, b) if columns.index(home(a)) < columns.index(home(b)) else (b, a)
        x1, y1 = vpc_cards[first].box.right, port_y[f"{peering.peering_id}:{first}"]
        x2, y2 = vpc_cards[second].box.x, port_y[f"{peering.peering_id}:{second}"]
        if columns.index(home(second)) - columns.index(home(first)) == 1:
            bend = max(60.0, (x2 - x1) / 3)  # next column: one curve over the gap
            path = f"M{fmt(x1)},{fmt(y1)} C{fmt(x1 + bend)},{fmt(y1)} {fmt(x2 - bend)},{fmt(y2)} {fmt(x2)},{fmt(y2)}"
        else:  # further: up beside the arcs, along the top margin, down the far column's gutter
            r = 6.0
            up = x1 + ARC_W - 8 - 3 * (corridor % 4)
            top = 4 + 3 * (corridor % 3)
            down = home(second).x + 5 + 2 * (corridor % 3)
            corridor += 1
            path = (
                f"M{fmt(x1)},{fmt(y1)} H{fmt(up - r)} Q{fmt(up)},{fmt(y1)} {fmt(up)},{fmt(y1 - r)} V{fmt(top + r)} "
                f"Q{fmt(up)},{fmt(top)} {fmt(up + r)},{fmt(top)} H{fmt(down - r)} Q{fmt(down)},{fmt(top)} "
                f"{fmt(down)},{fmt(top + r)} V{fmt(y2 - r)} Q{fmt(down)},{fmt(y2)} {fmt(down + r)},{fmt(y2)} H{fmt(x2)}"
            )
        lines.append(PeeringLine(peering, path, x1 + 70, y1 - 4, peering.peering_id in bad))
    return Layout(width, height, columns, cards, buses, stubs, lines)
