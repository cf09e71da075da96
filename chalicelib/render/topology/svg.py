"""The topology diagram written as inline SVG: the laid-out view model, element by element.

Every element carries ``data-resource`` (its resource id: the report's script lists the
findings of what is clicked) and a ``<title>`` tooltip; findings colour an element's frame
through the ``has-finding sev-*`` classes that ``STYLE`` defines. Drawing order: region
columns, TGW buses and stubs, peering lines, cards, then the peering labels above them.
"""

from __future__ import annotations

from collections.abc import Mapping
from html import escape

from chalicelib.core.states import is_in_flight
from chalicelib.render.topology.layout import (
    CHAR_W,
    HEADER_H,
    INNER_W,
    LINE_H,
    MARGIN,
    PAD,
    TAG_H,
    TITLE_CHAR_W,
    Column,
    Layout,
    PeeringLine,
    PlacedCard,
    fit,
    fmt,
    layout_row,
    text_w,
)
from chalicelib.render.topology.model import Marks, View, finding_classes, finding_title

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

# Added to ``STYLE`` only when a path is highlighted, so that a diagram without one is
# unchanged. ``on-path``: a hop the path passes; ``path-blocked``: the hop that drops it.
PATH_STYLE = """
.topo .on-path>.card,.topo .on-path>.row-bg,.topo .tag.on-path>rect{stroke:#0b8a5f;stroke-width:3}
.topo .on-path>.row-bg{fill:#e3f6ee}.topo path.on-path,.topo .on-path>path{stroke:#0b8a5f;stroke-width:4.5}
.topo .path-blocked>.card,.topo .path-blocked>.row-bg,.topo .tag.path-blocked>rect{stroke:#d50000;stroke-width:3.5;
stroke-dasharray:5 3}
.topo .path-blocked>.row-bg{fill:#ffe3e3}.topo path.path-blocked,.topo .path-blocked>path{stroke:#d50000;stroke-width:5}
.topo text.on-path{fill:#0b6b4a;font-weight:700}.topo text.path-blocked{fill:#d50000;font-weight:700}
"""

ON_PATH, BLOCKED = "on-path", "on-path path-blocked"


class _Marker:
    """The classes a highlighted path adds to an element (none without a path)."""

    def __init__(self, path: Mapping[str, str] | None) -> None:
        self.path = path or {}
        self.marked: set[str] = set()

    def __call__(self, resource: str | None) -> str:
        kind = self.path.get(resource or "")
        if not kind:
            return ""
        self.marked.add(resource or "")
        return " " + kind


def draw(view: View, layout: Layout, path: Mapping[str, str] | None = None) -> tuple[str, frozenset[str]]:
    """The ``<svg>`` element of the laid-out view, and the resources marked as on ``path``
    (resource id -> ``ON_PATH`` or ``BLOCKED``; None: no path highlighted)."""
    mark = _Marker(path)
    svg = [_region_svg(column) for column in layout.columns]
    for bus in layout.buses:
        svg.append(
            f'<path class="trunk{mark(bus.table_id)}" data-resource="{_attr(bus.table_id)}" '
            f'stroke="{bus.colour}" d="{bus.path}">'
            f"<title>bus of TGW route table {escape(bus.table_id)}</title></path>"
        )
    for line in layout.stubs:
        stub, colour = line.stub, line.colour
        kind = "assoc" if stub.associated else "prop"
        how = "associated with" if stub.associated else "propagating to"
        svg.append(
            f'<g class="attachment{mark(stub.attachment_id)}" data-resource="{_attr(stub.attachment_id)}">'
            f"<title>{escape(stub.attachment_id)} "
            f"({escape(stub.vpc_id)}) {how} {escape(stub.table_id)}</title>"
            f'<path class="stub {kind}{" bad" if stub.bad else ""}" stroke="{colour}" d="{line.path}"/>'
            f'<circle class="dot" cx="{fmt(line.x)}" cy="{fmt(line.y)}" r="3.6" stroke="{colour}" '
            f'fill="{colour if stub.associated else "#fff"}"/></g>'
        )
    labels: list[str] = []
    for peering in layout.peerings:
        curve, label = _peering_svg(peering, view.marks, mark(peering.peering.peering_id))
        svg.append(curve)
        labels.append(label)
    svg += [_card_svg(placed, mark) for placed in layout.cards]
    svg += labels
    style = STYLE + (PATH_STYLE if path else "")
    return (
        f'<svg id="topology" class="topo" viewBox="0 0 {fmt(layout.width)} {fmt(layout.height)}" '
        f'width="{fmt(layout.width)}" height="{fmt(layout.height)}" role="img" '
        f'aria-label="Network topology: {view.vpc_count} VPCs in {len(layout.columns)} regions">'
        f"<style>{style}</style>" + "".join(svg) + "</svg>"
    ), frozenset(mark.marked)


def _attr(value: str) -> str:
    return escape(value, quote=True)


def _region_svg(column: Column) -> str:
    region, cbox = column.view, column.box
    vpc_count = sum(1 for v in region.vpcs if not v.external)
    note = "outside this audit" if region.external_only else f"{vpc_count} VPC{'s' if vpc_count != 1 else ''}"
    if not region.external_only and region.tgws:
        note += f" · {len(region.tgws)} TGW{'s' if len(region.tgws) != 1 else ''}"
    return (
        f'<g class="region" data-region="{_attr(region.region)}">'
        f'<rect class="column{" outside" if region.external_only else ""}" x="{fmt(cbox.x)}" y="{fmt(cbox.y)}" '
        f'width="{fmt(cbox.w)}" height="{fmt(cbox.h)}" rx="8"/>'
        f'<text class="region-name" x="{fmt(column.card_x)}" y="{MARGIN + 19}">{escape(region.region)}</text>'
        f'<text class="region-note" x="{fmt(column.card_x + text_w(region.region, 7.8) + 12)}" '
        f'y="{MARGIN + 19}">{escape(note)}</text></g>'
    )


def _peering_svg(line: PeeringLine, marks: Marks, on_path: str = "") -> tuple[str, str]:
    """A peering's curve, and its label (drawn last, above the cards)."""
    peering = line.peering
    findings = marks.on(peering.peering_id)
    classes = "peering" + (" bad" if line.bad else "") + (" pending" if is_in_flight(peering.status) else "")
    classes += finding_classes(findings) + on_path
    title = f"{peering.peering_id} ({peering.status}): {peering.requester.vpc_id} - {peering.accepter.vpc_id}"
    if findings:
        title += "\n" + finding_title(findings)
    path = (
        f'<path class="{classes}" data-resource="{_attr(peering.peering_id)}" d="{line.path}">'
        f"<title>{escape(title)}</title></path>"
    )
    label = fit(peering.peering_id, 13 * CHAR_W)
    return path, (
        f'<text class="peer-label{" bad" if line.bad else ""}{on_path}" data-resource="{_attr(peering.peering_id)}" '
        f'x="{fmt(line.label_x)}" y="{fmt(line.label_y + 4)}" text-anchor="middle">{escape(label)}'
        f"<title>{escape(title)}</title></text>"
    )


def _card_svg(at: PlacedCard, mark: _Marker) -> str:
    card, box = at.card, at.box
    out = [
        f'<g class="{_attr(card.classes)}{mark(card.key)}" data-resource="{_attr(card.key)}"'
        + "".join(f' {k}="{_attr(v)}"' for k, v in card.attrs.items())
        + f"><title>{escape(card.title)}</title>"
        f'<rect class="card" x="{fmt(box.x)}" y="{fmt(box.y)}" width="{fmt(box.w)}" height="{fmt(box.h)}" rx="6"/>'
    ]
    pill_w = text_w(card.pill) + 10 if card.pill else 0.0
    head_y = box.y + PAD + 11
    name = fit(card.name, (INNER_W - pill_w - 8) * 0.55, TITLE_CHAR_W)
    name_w = text_w(name, TITLE_CHAR_W) + 8
    subtitle = fit(card.subtitle, INNER_W - pill_w - 8 - name_w)
    out.append(f'<text class="name" x="{fmt(box.x + PAD)}" y="{fmt(head_y)}">{escape(name)}</text>')
    out.append(f'<text class="id" x="{fmt(box.x + PAD + name_w)}" y="{fmt(head_y)}">{escape(subtitle)}</text>')
    if card.pill:
        px = box.right - PAD - pill_w
        out.append(
            f'<g class="pill {card.pill_classes}"><rect x="{fmt(px)}" y="{fmt(head_y - 11)}" width="{fmt(pill_w)}" '
            f'height="{TAG_H}" rx="7"/><text x="{fmt(px + 5)}" y="{fmt(head_y)}">{escape(card.pill)}</text></g>'
        )
    top = box.y + PAD + HEADER_H
    inner_x = box.x + PAD
    for row in card.rows:
        lead, placed, lines = layout_row(row)
        group = f'<g class="row {_attr(row.classes)}{mark(row.resource)}"'
        if row.resource:
            group += f' data-resource="{_attr(row.resource)}"'
        out.append(group + ">" + (f"<title>{escape(row.title)}</title>" if row.title else ""))
        if row.resource:
            rb = at.row_box[row.resource]
            out.append(
                f'<rect class="row-bg" x="{fmt(rb.x)}" y="{fmt(rb.y)}" width="{fmt(rb.w)}" '
                f'height="{fmt(rb.h - 1)}" rx="3"/>'
            )
        lead_x = inner_x
        if row.swatch:
            out.append(
                f'<rect class="swatch" x="{fmt(inner_x)}" y="{fmt(top + 4)}" width="7" height="9" fill="{row.swatch}"/>'
            )
            lead_x += 10
        if lead:
            out.append(f'<text class="lead" x="{fmt(lead_x)}" y="{fmt(top + 12)}">{escape(lead)}</text>')
        for p in placed:
            tag = p.tag
            tx, ty = inner_x + p.x, top + p.line * LINE_H + 1.5
            attrs = f' data-resource="{_attr(tag.resource)}"' if tag.resource else ""
            on_path = mark(tag.resource) if tag.resource != row.resource else ""  # the row carries its own
            out.append(
                f'<g class="tag t-{tag.kind}{_attr(tag.classes)}{on_path}"{attrs}>'
                + (f"<title>{escape(tag.title)}</title>" if tag.title else "")
                + f'<rect x="{fmt(tx)}" y="{fmt(ty)}" width="{fmt(p.w)}" height="{TAG_H}" rx="3"/>'
                f'<text x="{fmt(tx + 4)}" y="{fmt(ty + 10.5)}">{escape(p.text)}</text></g>'
            )
        out.append("</g>")
        top += lines * LINE_H
    out.append("</g>")
    return "".join(out)
