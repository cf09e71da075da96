"""The topology diagram: geometry (no overlaps, every element placed, readable at 50 VPCs),
what is marked, determinism, and that the SVG is well-formed XML."""

from __future__ import annotations

import datetime as dt
import xml.etree.ElementTree as ET
from dataclasses import replace

import pytest

from chalicelib.core.audit import AuditResult, evaluate
from chalicelib.core.model import (
    ClientVpnEndpoint,
    EndpointService,
    Finding,
    FlowLog,
    InternetGateway,
    NetworkSnapshot,
    Peering,
    PeeringSide,
    Route,
    RouteTable,
    Subnet,
    TgwAttachment,
    TgwRouteTable,
    TransitGateway,
    Vpc,
    VpcEndpoint,
)
from chalicelib.core.policy import Policy
from chalicelib.render import topology
from chalicelib.render.topology import CARD_W, CHAR_W, INNER_W, TITLE_CHAR_W, Box

ACCOUNT = "111122223333"
NOW = dt.datetime(2026, 11, 26, 3, 0, tzinfo=dt.UTC)
REGIONS = (("us-east-1", 24), ("eu-west-1", 16), ("ap-southeast-2", 10))
EXTERNAL_PEER = ("vpc-0e0e0e0e0e0e0e0e0", "999999999999", "us-west-2", "10.250.0.0/16")
CROSS_REGION = "pcx-0c0c0c0c0c0c0c0c0"


def _hex(prefix: str, *numbers: int) -> str:
    return f"{prefix}-0" + "".join(f"{n:02x}" for n in numbers).ljust(16, "a")


def landscape(regions: tuple[tuple[str, int], ...] = REGIONS) -> tuple[NetworkSnapshot, ...]:
    """A synthetic multi-region landscape (50 VPCs by default) with every kind of element:
    hub-and-spoke peerings, a chain, a cross-region and a cross-account peering, one TGW per
    region with two route tables, gateway and interface endpoints, flow logs, a Client VPN
    endpoint, and deliberate mistakes (overlaps, missing endpoints, no flow logs)."""
    peerings_by_region: dict[str, list[Peering]] = {r: [] for r, _ in regions}
    vpc_ids: dict[tuple[str, int], str] = {}
    cidrs: dict[tuple[str, int], str] = {}
    second = 0
    for r, (region, count) in enumerate(regions):
        for i in range(count):
            vpc_ids[region, i] = _hex("vpc", r + 1, i)
            second += 1
            # VPC 5 of each region reuses VPC 3's range: the hub reaches both.
            cidrs[region, i] = f"10.{r * 60 + (3 if i == 5 else i)}.0.0/16"
    snapshots = []
    for r, (region, count) in enumerate(regions):

        def side(i: int, region: str = region) -> PeeringSide:
            return PeeringSide(vpc_ids[region, i], ACCOUNT, region, (cidrs[region, i],))

        peerings = peerings_by_region[region]
        for i in range(1, min(7, count)):
            peerings.append(Peering(_hex("pcx", r + 1, i), "active", side(0), side(i)))
        if count > 8:
            peerings.append(Peering(_hex("pcx", r + 1, 78), "active", side(7), side(8)))
        if count > 10:
            peerings.append(Peering(_hex("pcx", r + 1, 99), "pending-acceptance", side(9), side(10)))
        vpcs, subnets, tables, flow_logs, endpoints, igws = [], [], [], [], [], []
        for i in range(count):
            vpc_id = vpc_ids[region, i]
            base = cidrs[region, i].rsplit(".", 2)[0]
            vpcs.append(Vpc(vpc_id, ACCOUNT, (cidrs[region, i],), tags={"Name": f"{region[:2]}-svc-{i:02d}"}))
            public, private = _hex("subnet", r + 1, i, 1), _hex("subnet", r + 1, i, 2)
            subnets += [
                Subnet(public, vpc_id, ACCOUNT, f"{base}.0.0/24"),
                Subnet(private, vpc_id, ACCOUNT, f"{base}.1.0/24"),
            ]
            igw = _hex("igw", r + 1, i)
            igws.append(InternetGateway(igw, (vpc_id,), ACCOUNT))
            main_routes = [Route(cidrs[region, i], "local")]
            if i == 0:  # the hub routes to each spoke; one route is broader than the spoke
                for p in peerings:
                    if p.requester.vpc_id == vpc_id:
                        destination = "10.0.0.0/8" if p.accepter.vpc_id == vpc_ids[region, 1] else p.accepter.cidrs[0]
                        main_routes.append(Route(destination, p.peering_id))
            main = _hex("rtb", r + 1, i, 1)
            tables.append(RouteTable(main, vpc_id, ACCOUNT, True, (), tuple(main_routes), tags={"Name": "main"}))
            tables.append(
                RouteTable(
                    _hex("rtb", r + 1, i, 2),
                    vpc_id,
                    ACCOUNT,
                    False,
                    (public,),
                    (Route(cidrs[region, i], "local"), Route("0.0.0.0/0", igw)),
                    tags={"Name": "public"},
                )
            )
            if i % 2 == 0:
                flow_logs.append(FlowLog(_hex("fl", r + 1, i), vpc_id, "ALL", "ACTIVE", "SUCCESS"))
            if i % 3 != 2:
                endpoints.append(
                    VpcEndpoint(
                        _hex("vpce", r + 1, i, 1),
                        vpc_id,
                        f"com.amazonaws.{region}.s3",
                        "Gateway",
                        "available",
                        route_table_ids=(main,),
                    )
                )
            if i % 3 == 0:
                endpoints.append(
                    VpcEndpoint(
                        _hex("vpce", r + 1, i, 2),
                        vpc_id,
                        f"com.amazonaws.{region}.ssm",
                        "Interface",
                        "available",
                        subnet_ids=(private,),
                        private_dns_enabled=i != 3,
                    )
                )
        if r == 0:  # a peering across regions, and one to another account's VPC outside the audit
            other_region = regions[1][0] if len(regions) > 1 else region
            peerings.append(
                Peering(
                    CROSS_REGION,
                    "active",
                    side(1),
                    PeeringSide(vpc_ids[other_region, 2], ACCOUNT, other_region, (cidrs[other_region, 2],)),
                )
            )
            vpc, owner, peer_region, cidr = EXTERNAL_PEER
            peerings.append(
                Peering(_hex("pcx", 9, 9), "active", side(2), PeeringSide(vpc, owner, peer_region, (cidr,)))
            )
        if r == 1:
            peerings.append(next(p for p in peerings_by_region[regions[0][0]] if p.peering_id == CROSS_REGION))
        tgw = _hex("tgw", r + 1)
        prod, shared = _hex("tgw-rtb", r + 1, 1), _hex("tgw-rtb", r + 1, 2)
        attachments, shared_prop = [], []
        for i in range(count):
            if i % 3 == 2:
                continue
            attachment = _hex("tgw-attach", r + 1, i)
            table = prod if i % 3 == 0 else shared
            attachments.append(
                TgwAttachment(attachment, tgw, "vpc", vpc_ids[region, i], ACCOUNT, "available", table, "associated")
            )
            if i % 3 == 0:
                shared_prop.append(attachment)
        attachments.append(TgwAttachment(_hex("tgw-attach", r + 1, 250), tgw, "vpn", "vpn-0abc", ACCOUNT, "available"))
        tgw_tables = (
            TgwRouteTable(prod, tgw, tags={"Name": "prod"}),
            TgwRouteTable(shared, tgw, propagations=tuple(shared_prop), tags={"Name": "shared"}),
        )
        snapshots.append(
            NetworkSnapshot(
                account_id=ACCOUNT,
                region=region,
                vpcs=tuple(vpcs),
                subnets=tuple(subnets),
                route_tables=tuple(tables),
                internet_gateways=tuple(igws),
                flow_logs=tuple(flow_logs),
                vpc_endpoints=tuple(endpoints),
                peerings=tuple(peerings),
                transit_gateways=(
                    TransitGateway(tgw, ACCOUNT, "available", "enable" if r == 0 else "disable", {"Name": "core"}),
                ),
                tgw_attachments=tuple(attachments),
                tgw_route_tables=tgw_tables,
                client_vpn_endpoints=(
                    ClientVpnEndpoint(_hex("cvpn-endpoint", r + 1), vpc_ids[region, 0], connection_logging=False),
                ),
                endpoint_services=(
                    EndpointService(_hex("vpce-svc", r + 1), f"com.amazonaws.vpce.{region}.svc-{r}", r == 0, ("*",)),
                ),
            )
        )
    return tuple(snapshots)


def findings_of(snapshots: tuple[NetworkSnapshot, ...]) -> list[Finding]:
    return [f for s in snapshots for f in evaluate(s, Policy(), NOW).findings]


def audit_result(snapshots: tuple[NetworkSnapshot, ...]) -> AuditResult:
    findings = findings_of(snapshots)
    return AuditResult(
        account_id=ACCOUNT,
        regions=tuple(s.region for s in snapshots),
        scope_vpc_ids=(),
        started_at="2026-11-26T03:00:00Z",
        duration_ms=1,
        snapshots=snapshots,
        findings=tuple(findings),
        suppressed=(),
        not_evaluated=(),
    )


@pytest.fixture(scope="module")
def big() -> tuple[tuple[NetworkSnapshot, ...], list[Finding], topology.Diagram]:
    snapshots = landscape()
    findings = findings_of(snapshots)
    return snapshots, findings, topology.build(snapshots, findings)


def test_the_landscape_has_the_mistakes_the_diagram_must_show(
    big: tuple[tuple[NetworkSnapshot, ...], list[Finding], topology.Diagram],
) -> None:
    _, findings, _ = big
    checks = {f.check for f in findings}
    assert {
        "connected-cidrs-non-overlapping",
        "private-subnet-gateway-endpoints",
        "vpc-flow-logs-enabled",
        "peering-routes-least-access",
        "interface-endpoint-private-dns",
        "tgw-auto-accept-disabled",
        "client-vpn-connection-logging",
        "endpoint-service-acceptance-required",
        "endpoint-service-trusted-principals",
    } <= checks


def test_fifty_vpcs_each_get_a_card_in_their_region_column_and_none_overlap(
    big: tuple[tuple[NetworkSnapshot, ...], list[Finding], topology.Diagram],
) -> None:
    snapshots, _, diagram = big
    vpcs = {v.vpc_id: s.region for s in snapshots for v in s.vpcs}
    assert len(vpcs) == 50
    cards = {key: box for key, box in diagram.boxes.items() if key.startswith(("vpc-", "tgw-", "region:"))}
    cards = {k: b for k, b in cards.items() if not k.startswith("tgw-rtb-")}
    for vpc_id, region in vpcs.items():
        column = diagram.columns[region]
        box = diagram.boxes[vpc_id]
        assert column.x <= box.x and box.right <= column.right, vpc_id
        assert box.w == CARD_W
    keys = sorted(cards)
    for n, a in enumerate(keys):
        for b in keys[n + 1 :]:
            assert not cards[a].overlaps(cards[b]), (a, b)
    # the external peer gets its own column (its region was not audited)
    assert list(diagram.columns) == ["us-east-1", "eu-west-1", "ap-southeast-2", "us-west-2"]
    assert diagram.columns["us-west-2"].x <= diagram.boxes[EXTERNAL_PEER[0]].x
    # readable: natural size, no shrinking; the tallest column holds 24 cards
    assert diagram.width < 2700 and diagram.height < 24 * 220


def test_every_open_finding_is_drawn_on_an_element(
    big: tuple[tuple[NetworkSnapshot, ...], list[Finding], topology.Diagram],
) -> None:
    _, findings, diagram = big
    root = ET.fromstring(diagram.svg)
    resources = {el.get("data-resource") for el in root.iter() if el.get("data-resource")}
    for f in findings:
        assert f.resource_id in resources, (f.check, f.resource_id)
        assert f.resource_id in diagram.drawn


def test_hub_and_spoke_peerings_are_arcs_and_the_cross_region_peering_a_curve(
    big: tuple[tuple[NetworkSnapshot, ...], list[Finding], topology.Diagram],
) -> None:
    snapshots, _, diagram = big
    peerings = {p.peering_id for s in snapshots for p in s.peerings}
    drawn = [e for e in diagram.edges if e.kind == "peering"]
    assert sorted(e.resource for e in drawn) == sorted(peerings)  # each once, even when two regions list it
    cross = next(e for e in drawn if e.resource == CROSS_REGION)
    a, b = (diagram.boxes[v] for v in cross.ends)
    assert a.right < b.x  # from the right edge of one column to the left edge of the next
    for edge in drawn:
        if edge.resource != CROSS_REGION and EXTERNAL_PEER[0] not in edge.ends:
            x = diagram.boxes[edge.ends[0]].right
            assert edge.path.startswith(f"M{x:g},"), edge  # arcs leave from the card's right edge


def test_overlaps_are_marked_on_both_vpcs_and_on_the_peerings_that_join_them(
    big: tuple[tuple[NetworkSnapshot, ...], list[Finding], topology.Diagram],
) -> None:
    snapshots, findings, diagram = big
    root = ET.fromstring(diagram.svg)
    east = snapshots[0]
    v3, v5 = _hex("vpc", 1, 3), _hex("vpc", 1, 5)
    for vpc_id in (v3, v5):
        card = _element(root, vpc_id)
        overlap = [t for t in card.iter("g") if "t-overlap" in (t.get("class") or "")]
        assert [t.findtext("text") for t in overlap] == ["10.3.0.0/16 overlap"], vpc_id
    bad = {e.resource for e in diagram.edges if e.kind == "peering" and e.bad}
    joins = {p.peering_id for p in east.peerings if {p.requester.vpc_id, p.accepter.vpc_id} & {v3, v5}}
    assert joins <= bad
    assert _hex("pcx", 1, 78) not in bad  # an innocent peering stays blue
    hub = next(
        f for f in findings if f.check == "connected-cidrs-non-overlapping" and f.resource_id == _hex("vpc", 1, 0)
    )
    assert "has-finding" in (_element(root, hub.resource_id).get("class") or "")


def test_a_private_route_table_without_its_endpoint_is_marked(
    big: tuple[tuple[NetworkSnapshot, ...], list[Finding], topology.Diagram],
) -> None:
    _, findings, diagram = big
    root = ET.fromstring(diagram.svg)
    missing = [f for f in findings if f.check == "private-subnet-gateway-endpoints"]
    assert missing
    for f in missing:
        row = _element(root, f.resource_id)
        assert "has-finding" in (row.get("class") or "")
        tags = [t.findtext("text") for t in row.iter("g") if "missing" in (t.get("class") or "")]
        assert f"{f.evidence['service']} missing" in tags
    with_endpoint = _hex("rtb", 1, 0, 1)  # VPC 0's main table has its S3 endpoint
    texts = [t.findtext("text") for t in _element(root, with_endpoint).iter("g")]
    assert "s3 endpoint" in texts and "s3 missing" not in texts


def test_tgw_route_tables_are_buses_with_one_stub_per_attachment(
    big: tuple[tuple[NetworkSnapshot, ...], list[Finding], topology.Diagram],
) -> None:
    snapshots, _, diagram = big
    east = snapshots[0]
    trunks = {e.resource for e in diagram.edges if e.kind == "trunk"}
    assert trunks == {t.route_table_id for s in snapshots for t in s.tgw_route_tables}
    stubs = [
        e for e in diagram.edges if e.kind == "stub" and e.ends[0] in {t.route_table_id for t in east.tgw_route_tables}
    ]
    expected = sum(1 for a in east.tgw_attachments if a.resource_type == "vpc")
    expected += sum(len(t.propagations) for t in east.tgw_route_tables)  # propagating into the other table
    assert len(stubs) == expected
    for stub in stubs:
        vpc = diagram.boxes[stub.ends[1]]
        assert stub.path.endswith(f"H{vpc.x:g}")  # ends on the VPC card's left edge
    tgw_box = diagram.boxes[east.transit_gateways[0].tgw_id]
    assert all(tgw_box.bottom < diagram.boxes[v.vpc_id].y for v in east.vpcs)  # the hub lane is on top


def test_text_fits_its_card(big: tuple[tuple[NetworkSnapshot, ...], list[Finding], topology.Diagram]) -> None:
    _, _, diagram = big
    root = ET.fromstring(diagram.svg)
    for card in root.iter("g"):
        if card.get("class", "").split()[0:1] not in (["vpc"], ["tgw"], ["misc"]):
            continue
        frame = card.find("rect")
        assert frame is not None
        left, width = float(frame.get("x", 0)), float(frame.get("width", 0))
        for text in card.iter("text"):
            x, content = float(text.get("x", 0)), text.text or ""
            char_w = TITLE_CHAR_W if "name" in (text.get("class") or "") else CHAR_W
            assert x + len(content) * char_w <= left + width - 4 + 0.01, content
    assert INNER_W < CARD_W


def test_the_layout_is_deterministic_and_independent_of_input_order() -> None:
    snapshots = landscape((("us-east-1", 9), ("eu-west-1", 4)))
    findings = findings_of(snapshots)
    first = topology.build(snapshots, findings).svg
    shuffled = tuple(
        replace(
            s, vpcs=tuple(reversed(s.vpcs)), peerings=tuple(reversed(s.peerings)), route_tables=s.route_tables[::-1]
        )
        for s in snapshots
    )
    assert topology.build(shuffled, list(reversed(findings))).svg == first


def test_suppressed_and_resolved_findings_are_not_drawn() -> None:
    snapshots = landscape((("us-east-1", 6),))
    findings = findings_of(snapshots)
    quiet = [replace(f, status="SUPPRESSED", reason="sandbox") for f in findings[::2]]
    quiet += [replace(f, status="RESOLVED", resolved_at="2026-11-27T00:00:00Z") for f in findings[1::2]]

    def marked(svg: str) -> set[str]:
        classes = {c for el in ET.fromstring(svg).iter() for c in (el.get("class") or "").split()}
        return classes & {"has-finding", "t-overlap", "missing", "bad", "t-bad"}

    assert marked(topology.build(snapshots, quiet).svg) == set()
    assert marked(topology.build(snapshots, findings).svg) == {"has-finding", "t-overlap", "missing", "bad", "t-bad"}


def test_boxes_overlap_geometry() -> None:
    a = Box(0, 0, 10, 10)
    assert a.overlaps(Box(5, 5, 10, 10))
    assert not a.overlaps(Box(10, 0, 5, 5))  # touching edges do not overlap
    assert not a.overlaps(Box(0, 11, 5, 5))


def test_an_empty_audit_draws_an_empty_canvas() -> None:
    diagram = topology.build([NetworkSnapshot(account_id=ACCOUNT, region="us-east-1")], [])
    root = ET.fromstring(diagram.svg)
    assert root.get("id") == "topology"
    assert [g.get("data-region") for g in root.iter("g") if g.get("class") == "region"] == ["us-east-1"]
    assert diagram.edges == [] and not any(k.startswith("vpc-") for k in diagram.boxes)


def _element(root: ET.Element, resource_id: str) -> ET.Element:
    for el in root.iter():
        if el.get("data-resource") == resource_id and el.tag == "g":
            return el
    raise AssertionError(f"no element for {resource_id}")
