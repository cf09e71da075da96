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

Three passes: ``model`` says what is drawn (regions, VPCs, TGW route tables, peerings,
attachments, the findings per resource), ``layout`` where (positions, sizes, line paths),
``svg`` how (the elements, classes and tooltips).

A path (``highlight``, a ``PathResult`` of the path engine) can be drawn on top: every
element it passes (route tables, TGW route tables and their buses, attachments, peerings,
gateway endpoints) gets the class ``on-path``, the hop that drops it ``path-blocked`` as
well (its VPC's card, when the hop is no element of the diagram). Without one, the SVG
is exactly what it would be without the option.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence, Set
from dataclasses import dataclass

from chalicelib.core.model import Finding, NetworkSnapshot
from chalicelib.core.paths import PathResult
from chalicelib.render.topology.layout import CARD_W, CHAR_W, INNER_W, TITLE_CHAR_W, Box, Edge, lay_out
from chalicelib.render.topology.model import build_view
from chalicelib.render.topology.svg import BLOCKED, ON_PATH, STYLE, draw

__all__ = [
    "CARD_W",
    "CHAR_W",
    "INNER_W",
    "STYLE",
    "TITLE_CHAR_W",
    "Box",
    "Diagram",
    "Edge",
    "build",
    "path_marks",
]


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
    highlighted: frozenset[str] = frozenset()  # the resource ids drawn as on the highlighted path


def path_marks(
    result: PathResult, drawn: Set[str] = frozenset(), vpc_of: Mapping[str, str] | None = None
) -> dict[str, str]:
    """Resource id -> how it is drawn: every hop forward and back on the path, and the
    blocking hop (drawn blocked even when it is also an ordinary hop). A blocking hop that
    is no element of the diagram (a network ACL, subnet, internet or NAT gateway) marks
    its VPC's card blocked instead (``vpc_of``), so the break is never invisible."""
    marks = {h.resource_id: ON_PATH for h in (*result.hops, *result.return_hops) if h.resource_id}
    blocked = result.blocked_at.resource_id if result.blocked_at is not None else ""
    if blocked:
        marks[blocked] = BLOCKED
        if vpc_of is not None and blocked not in drawn and blocked in vpc_of:
            marks[vpc_of[blocked]] = BLOCKED
    return marks


def _vpc_of(snapshots: Sequence[NetworkSnapshot]) -> dict[str, str]:
    """The VPC of each resource a path may pass that the diagram draws no element for."""
    vpc_of: dict[str, str] = {}
    for s in snapshots:
        vpc_of.update({x.subnet_id: x.vpc_id for x in s.subnets})
        vpc_of.update({x.network_acl_id: x.vpc_id for x in s.network_acls})
        vpc_of.update({x.nat_gateway_id: x.vpc_id for x in s.nat_gateways})
        vpc_of.update({x.endpoint_id: x.vpc_id for x in s.vpc_endpoints})
        vpc_of.update({g.gateway_id: g.vpc_ids[0] for g in s.internet_gateways if g.vpc_ids})
        vpc_of.update({g.gateway_id: g.vpc_ids[0] for g in s.egress_only_internet_gateways if g.vpc_ids})
        vpc_of.update({g.gateway_id: g.vpc_ids[0] for g in s.vpn_gateways if g.vpc_ids})
    return vpc_of


def build(
    snapshots: Sequence[NetworkSnapshot], findings: Iterable[Finding], highlight: PathResult | None = None
) -> Diagram:
    """Lay out and draw the snapshots' topology, with ``findings`` (the OPEN ones) on it,
    and the path ``highlight`` drawn on top."""
    view = build_view(snapshots, findings)
    layout = lay_out(view)
    boxes: dict[str, Box] = {}
    for placed in layout.cards:
        boxes[placed.card.key] = placed.box
        boxes.update(placed.row_box)
    edges = layout.edges
    drawn = frozenset(view.drawn | {e.resource for e in edges})
    marks = path_marks(highlight, drawn, _vpc_of(snapshots)) if highlight is not None else None
    svg, highlighted = draw(view, layout, marks)
    return Diagram(
        width=layout.width,
        height=layout.height,
        boxes=boxes,
        columns={column.view.region: column.box for column in layout.columns},
        edges=edges,
        drawn=drawn,
        svg=svg,
        highlighted=highlighted,
    )
