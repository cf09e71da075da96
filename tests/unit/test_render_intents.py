"""The HTML report's Intents section (SPEC §7) and a path highlighted on the topology
diagram: every hop it passes marked, the blocking hop marked blocked, and without a
highlight the SVG unchanged."""

from __future__ import annotations

import datetime as dt
import xml.etree.ElementTree as ET
from dataclasses import replace
from typing import Any

import pytest

from chalicelib.core.audit import AuditResult, evaluate
from chalicelib.core.checks import CHECK_IDS
from chalicelib.core.model import NetworkSnapshot
from chalicelib.core.paths import PathIndex
from chalicelib.core.policy import Policy, parse_policy
from chalicelib.render import html, topology
from chalicelib.render.topology.svg import PATH_STYLE
from tests.unit.test_paths import base, peered, tgw_snapshot
from tests.unit.test_render import Page, _svg

NOW = dt.datetime(2026, 11, 26, tzinfo=dt.UTC)
A1 = {"subnet_ids": ["subnet-a1"]}  # no route out of vpc-a
A2 = {"subnet_ids": ["subnet-a2"]}  # public: default route to igw-a


def policy(*intents: dict[str, Any]) -> Policy:
    return parse_policy({"reachability": list(intents)}, CHECK_IDS)


def intent(name: str, source: Any, to: Any, expect: str) -> dict[str, Any]:
    return {"name": name, "from": source, "to": to, "expect": expect}


def result_of(snapshot: NetworkSnapshot, pol: Policy) -> AuditResult:
    return AuditResult(
        account_id=snapshot.account_id,
        regions=(snapshot.region,),
        scope_vpc_ids=(),
        started_at="2026-11-26T00:00:00Z",
        duration_ms=1,
        snapshots=(snapshot,),
        findings=tuple(evaluate(snapshot, pol, NOW).findings),
        suppressed=(),
        not_evaluated=(),
    )


def rows(text: str) -> dict[str, dict[str, str]]:
    return {a["data-intent"]: a for a in Page(text).find("tr") if "data-intent" in a}


def section(text: str) -> str:
    start = text.index('<section id="intents-section">')
    return text[start : text.index("</section>", start)]


@pytest.fixture(scope="module")
def lab() -> tuple[str, Policy]:
    pol = policy(
        intent("a1-s3-private", A1, "s3", "private"),  # fails: blocked at rtb-a (no gateway endpoint)
        intent("a2-s3-reachable", A2, "s3", "reachable"),  # holds, over the internet
        intent("a2-s3-private", A2, "s3", "private"),  # fails: reachable, but through igw-a
    )
    return html.render(result_of(base(), pol), intents=pol.intents), pol


def test_an_intent_that_holds_lists_its_hops(lab: tuple[str, Policy]) -> None:
    text, _ = lab
    row = rows(text)["a2-s3-reachable"]
    assert row["class"] == "intent holds" and row["data-source"] == "subnet-a2" and row["data-destination"] == "s3"
    assert row["data-verdict"] == "reachable"
    part = section(text)
    holds = part[part.index('data-intent="a2-s3-reachable"') : part.index("</tr>", part.index("a2-s3-reachable"))]
    assert "reachable, over the internet (not private)" in holds
    assert "<code>rtb-pub</code> route-table" in holds and "<code>igw-a</code> internet-gateway" in holds
    assert "blocked at" not in holds and "crosses the internet" not in holds


def test_an_intent_that_fails_names_the_blocking_hop_and_its_reason(lab: tuple[str, Policy]) -> None:
    text, _ = lab
    row = rows(text)["a1-s3-private"]
    assert row["class"] == "intent fails" and row["data-verdict"] == "unreachable"
    part = section(text)
    failing = part[part.index('data-intent="a1-s3-private"') : part.index("</tr>", part.index("a1-s3-private"))]
    assert "<b>fails</b>" in failing
    assert "blocked at <code>rtb-a</code> (route-table): no route to s3" in failing


def test_an_intent_that_fails_over_the_internet_names_the_public_hop(lab: tuple[str, Policy]) -> None:
    text, _ = lab
    row = rows(text)["a2-s3-private"]
    assert row["class"] == "intent fails" and row["data-verdict"] == "reachable"
    part = section(text)
    failing = part[part.index('data-intent="a2-s3-private"') : part.index("</tr>", part.index("a2-s3-private"))]
    assert "reachable, over the internet (not private)" in failing
    assert "crosses the internet at <code>igw-a</code> (internet-gateway)" in failing
    assert 'id="intents-summary">3 intents, 3 source/destination pairs: 1 hold, 2 fail' in part


def test_the_report_agrees_with_the_reachability_intent_findings(lab: tuple[str, Policy]) -> None:
    text, pol = lab
    findings = [f for f in evaluate(base(), pol, NOW).findings if f.check == "reachability-intent"]
    failing = {name for name, row in rows(text).items() if row["class"] == "intent fails"}
    assert failing == {f.evidence["intent"] for f in findings}


def test_the_first_failing_intent_is_drawn_on_the_diagram(lab: tuple[str, Policy]) -> None:
    text, _ = lab
    assert rows(text)["a1-s3-private"].get("data-highlighted") == "true"
    assert sum(1 for r in rows(text).values() if "data-highlighted" in r) == 1
    assert 'id="highlighted-path"' in text and "<b>a1-s3-private</b>" in text
    blocked = [el for el in _svg(text).iter() if "path-blocked" in (el.get("class") or "").split()]
    assert [el.get("data-resource") for el in blocked] == ["rtb-a"]


def test_without_intents_the_section_says_so_in_one_line() -> None:
    text = html.render(result_of(base(), Policy()))
    assert section(text).count("<p") == 1 and 'id="no-intents"' in section(text)
    assert "No reachability intents configured" in text
    assert "on-path" not in text.split("<style>", 1)[1] and 'id="highlighted-path"' not in text
    # the stored-findings report (GET /report) has no snapshots to judge them on, and says so
    stored = section(html.render_findings([]))
    assert stored.count("<p") == 1 and 'id="intents-not-judged"' in stored and "reachability-intent" in stored


def test_a_scoped_audit_judges_no_intent_and_says_so() -> None:
    pol = policy(intent("a1-s3-private", A1, "s3", "private"))
    scoped = replace(base(), scope_vpc_ids=("vpc-a",))
    text = html.render(result_of(scoped, pol), intents=pol.intents)
    assert 'id="intents-not-judged"' in section(text) and "scoped" in section(text)
    assert not rows(text) and "on-path" not in text


def test_an_intent_whose_selector_picks_nothing_says_so() -> None:
    pol = policy(intent("nobody", {"vpc_ids": ["vpc-zzz"]}, "s3", "private"))
    row = rows(html.render(result_of(base(), pol), intents=pol.intents))["nobody"]
    assert row["class"] == "intent none"


def test_when_all_intents_hold_nothing_is_highlighted() -> None:
    pol = policy(intent("peer", A1, "subnet-b1", "reachable"))
    text = html.render(result_of(peered(), pol), intents=pol.intents)
    assert rows(text)["peer"]["class"] == "intent holds"
    assert 'id="highlighted-path"' not in text and "on-path" not in text


# ---------------------------------------------------------------------------------
# the highlight on the diagram
# ---------------------------------------------------------------------------------


def classes_of(svg: str) -> dict[str, set[str]]:
    """resource id -> the classes of its elements (rows, tags, cards, lines)."""
    out: dict[str, set[str]] = {}
    for el in ET.fromstring(svg).iter():
        resource = el.get("data-resource")
        if resource:
            out.setdefault(resource, set()).update((el.get("class") or "").split())
    return out


def test_the_hops_of_a_path_carry_the_highlight_class() -> None:
    snapshot = peered()
    path = PathIndex([snapshot]).trace("subnet-a1", "subnet-b1", "tcp", 443)
    diagram = topology.build([snapshot], [], highlight=path)
    marked = {r for r, classes in classes_of(diagram.svg).items() if "on-path" in classes}
    # forward rtb-a, pcx-ab; the reply's rtb-b (NACLs and subnets are not drawn)
    assert marked == {"rtb-a", "pcx-ab", "rtb-b"} == diagram.highlighted
    assert not any("path-blocked" in c for c in classes_of(diagram.svg).values())
    assert PATH_STYLE in diagram.svg


def test_the_blocking_hop_is_marked_and_tgw_hops_are_drawn() -> None:
    snapshot = tgw_snapshot()
    path = PathIndex([snapshot]).trace("subnet-a1", "subnet-b1", "tcp", 443)
    assert path.blocked_at is not None and path.blocked_at.resource_id == "tgw-rtb-1"
    classes = classes_of(topology.build([snapshot], [], highlight=path).svg)
    assert {"on-path", "path-blocked"} <= classes["tgw-rtb-1"]
    assert "on-path" in classes["tgw-attach-a"] and "on-path" in classes["rtb-a"]
    assert "path-blocked" not in classes["rtb-a"] and "on-path" not in classes["rtb-b"]


@pytest.mark.parametrize("snapshot", [base(), peered(), tgw_snapshot()], ids=["base", "peered", "tgw"])
def test_without_a_highlight_the_svg_is_unchanged(snapshot: NetworkSnapshot) -> None:
    findings = evaluate(snapshot, Policy(), NOW).findings
    plain = topology.build([snapshot], findings)
    assert topology.build([snapshot], findings, highlight=None).svg == plain.svg
    assert "on-path" not in plain.svg and plain.highlighted == frozenset()
    # and a highlight only adds its classes and its style
    path = PathIndex([snapshot]).trace("subnet-a1", "subnet-b1", "tcp", 443)
    lit = topology.build([snapshot], findings, highlight=path).svg
    stripped = lit.replace(PATH_STYLE, "").replace(" on-path path-blocked", "").replace(" on-path", "")
    assert stripped == plain.svg


def test_a_blocking_hop_the_diagram_does_not_draw_marks_its_vpc() -> None:
    """The replies leave vpc-a's public subnet through its internet gateway (no element of
    the diagram): vpc-a's card is drawn blocked; the drawn hops keep their own marks."""
    snapshot = peered()
    path = PathIndex([snapshot]).trace("subnet-b1", "subnet-a2", "tcp", 443)
    assert path.blocked_at is not None and path.blocked_at.resource_id == "igw-a"
    diagram = topology.build([snapshot], [], highlight=path)
    classes = classes_of(diagram.svg)
    assert {"on-path", "path-blocked"} <= classes["vpc-a"] and "vpc-a" in diagram.highlighted
    assert "path-blocked" not in classes["vpc-b"] and "path-blocked" not in classes["rtb-b"]
    # a blocking hop that is drawn marks only itself
    tgw = tgw_snapshot()
    lit = classes_of(topology.build([tgw], [], highlight=PathIndex([tgw]).trace("subnet-a1", "subnet-b1")).svg)
    assert not any("path-blocked" in lit[v] for v in ("vpc-a", "vpc-b"))
