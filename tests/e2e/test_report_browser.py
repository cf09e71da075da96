"""The HTML report as a person sees it: the demo landscape's report (written by `vpcwatch
demo`) and a 50-VPC landscape opened in headless Debian Chromium through Playwright, with
the diagram, the table, a filter, sorting and a click on the diagram exercised; a
screenshot of each lands in tests/artifacts/. Also `audit --format html|asff` from the CLI.

Chromium comes from Debian (`make browser` installs it, as root); Playwright never
downloads a browser here. Without /usr/bin/chromium the browser tests are skipped."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest

from chalicelib.render.html import render
from tests.unit.test_render_topology import audit_result, landscape
from vpcwatch_tools.lab import build_lab, remove_default_vpc

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "tests" / "artifacts"
CHROMIUM = Path("/usr/bin/chromium")
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not CHROMIUM.exists():
        pytest.skip("Debian chromium is not installed at /usr/bin/chromium: `make browser` (as root) installs it")
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield browser
        browser.close()


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    """`vpcwatch demo` run as a user runs it: its report and the lab's ids from its story."""
    workdir = tmp_path_factory.mktemp("demo")
    report = workdir / "lab-report.html"
    proc = subprocess.run(
        [sys.executable, "-m", "chalicelib.cli", "demo", "--report", str(report)],
        cwd=workdir,
        capture_output=True,
        text=True,
        timeout=300,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT)},
    )
    assert proc.returncode == 0, proc.stderr
    assert f"written to {report}" in proc.stdout  # the demo says where
    ids = {
        "app": re.search(r"app\s+(vpc-\w+)", proc.stdout),
        "hub": re.search(r"hub\s+(vpc-\w+)", proc.stdout),
        "legacy": re.search(r"legacy\s+(vpc-\w+)", proc.stdout),
        "private_rtb": re.search(r"own route table (rtb-\w+)", proc.stdout),
        "tgw": re.search(r"transit gateway (tgw-\w+)", proc.stdout),
    }
    assert all(ids.values()), proc.stdout
    return report, {k: m.group(1) for k, m in ids.items() if m}


def open_page(browser: Any, path: Path, width: int = 1440) -> tuple[Any, list[str], list[str]]:
    """A fresh page on ``path``: (page, requests it made, console errors)."""
    page = browser.new_page(viewport={"width": width, "height": 900})
    requests: list[str] = []
    errors: list[str] = []
    page.on("request", lambda r: requests.append(r.url))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(path.as_uri())
    page.wait_for_load_state("load")
    return page, requests, errors


def visible_rows(page: Any) -> list[dict[str, str]]:
    rows: list[dict[str, str]] = page.eval_on_selector_all(
        "#findings tbody tr", "rows => rows.filter(r => !r.hidden).map(r => Object.assign({}, r.dataset))"
    )
    return rows


# Real geometry from Chromium: the cards of the diagram do not overlap and every text stays
# inside its card, measured with the fonts the browser actually uses.
GEOMETRY = """
svg => {
  const cards = [...svg.querySelectorAll('g.vpc, g.tgw, g.misc')].map(g => {
    const r = g.querySelector('rect.card').getBBox();
    const spill = [...g.querySelectorAll('text')].filter(t => {
      const b = t.getBBox(); return b.x + b.width > r.x + r.width - 2 || b.x < r.x; }).map(t => t.textContent);
    return {id: g.dataset.resource, x: r.x, y: r.y, w: r.width, h: r.height, spill};
  });
  const overlaps = [];
  for (let i = 0; i < cards.length; i++) for (let j = i + 1; j < cards.length; j++) {
    const a = cards[i], b = cards[j];
    if (a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h) overlaps.push([a.id, b.id]);
  }
  return {count: cards.length, overlaps, spill: cards.filter(c => c.spill.length)};
}
"""


def test_the_demo_report_in_chromium(browser: Any, demo: tuple[Path, dict[str, str]]) -> None:
    report, ids = demo
    page, requests, errors = open_page(browser, report)
    try:
        assert requests == [report.as_uri()]  # self-contained: nothing else is fetched
        assert errors == []
        svg = page.locator("#topology")
        assert svg.is_visible()

        # The diagram: three VPCs with their CIDRs, the overlap marked on both sides.
        names = page.eval_on_selector_all("#topology g.vpc", "gs => gs.map(g => g.dataset.name).sort()")
        assert names == ["app", "hub", "legacy"]
        for vpc in ("app", "legacy"):
            card = page.locator(f'#topology g.vpc[data-resource="{ids[vpc]}"]')
            assert card.locator(".t-overlap text").all_text_contents() == ["10.0.0.0/16 overlap"]
            assert "has-finding" in (card.get_attribute("class") or "")
        hub = page.locator(f'#topology g.vpc[data-resource="{ids["hub"]}"]')
        assert hub.locator(".cidrs .tag text").all_text_contents() == ["10.1.0.0/16"]
        # The private route table without its S3 endpoint, marked on the app VPC.
        rtb = page.locator(f'#topology g.vpc[data-resource="{ids["app"]}"] g.rtb[data-resource="{ids["private_rtb"]}"]')
        assert "has-finding" in (rtb.get_attribute("class") or "")
        assert "s3 missing" in rtb.locator(".tag.missing text").all_text_contents()
        # Peerings (both carry the hub's overlapping routes) and the TGW with its buses.
        assert page.locator("#topology path.peering").count() == 2
        assert page.locator("#topology path.peering.bad").count() == 2
        tgw = page.locator(f'#topology g.tgw[data-resource="{ids["tgw"]}"]')
        assert tgw.locator("g.tgw-rtb").count() >= 1
        assert tgw.locator("g.tgw-rtb.has-finding").count() == 1  # the table that carries 10.0.0.0/16 twice
        assert page.locator("#topology path.trunk").count() == tgw.locator("g.tgw-rtb").count()
        assert page.locator("#topology path.stub.bad").count() == 2  # app's and legacy's attachments
        geometry = svg.evaluate(GEOMETRY)
        # 3 VPCs, the TGW, and the card of findings the map has no element for: the demo
        # intent's finding on app's private subnet (subnets on the map: issue 11, phase 2b)
        assert geometry["count"] == 5 and geometry["overlaps"] == [] and geometry["spill"] == []

        # The summary and the table: the lab's 13, routes-return-path and the intent.
        assert page.locator(".sev-card.HIGH b").inner_text() == "5"
        assert page.locator(".sev-card.MEDIUM b").inner_text() == "10"
        rows = visible_rows(page)
        assert len(rows) == 15 and page.locator("#shown").inner_text() == "15 of 15 shown"

        # A filter: HIGH only, then text, then clear.
        page.select_option("#f-severity", "HIGH")
        rows = visible_rows(page)
        assert len(rows) == 5 and {r["severity"] for r in rows} == {"HIGH"}
        assert page.locator("#shown").inner_text() == "5 of 15 shown"
        assert page.locator('.sev-card.HIGH[aria-pressed="true"]').count() == 1
        page.fill("#q", "propagated")
        assert [r["check"] for r in visible_rows(page)] == ["tgw-routes-non-overlapping"]
        page.click("#clear")
        assert len(visible_rows(page)) == 15

        # Sorting by severity, both ways.
        page.click('th[data-key="rank"] button')
        ranks = [int(r["rank"]) for r in visible_rows(page)]
        assert ranks == sorted(ranks) and ranks[0] < ranks[-1]
        page.click('th[data-key="rank"] button')
        assert [int(r["rank"]) for r in visible_rows(page)] == sorted(ranks, reverse=True)

        # A click on the diagram lists that element's findings; a row shows its element.
        rtb.locator(".lead").click()
        assert page.input_value("#q") == ids["private_rtb"]
        rows = visible_rows(page)
        assert len(rows) == 3 and [r["resource"] for r in rows].count(ids["private_rtb"]) == 2
        # and the demo intent's finding on app's private subnet, whose detail names the table blocking it
        assert {r["check"] for r in rows if r["resource"] != ids["private_rtb"]} == {"reachability-intent"}
        page.locator(f'button.locate[data-resource="{ids["private_rtb"]}"]').first.click()
        assert "hl" in (rtb.get_attribute("class") or "")
        page.click("#clear")

        page.evaluate("window.scrollTo(0, 0)")
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "report-demo.png"), full_page=True)
        svg.screenshot(path=str(ARTIFACTS / "report-demo-topology.png"))
        assert (ARTIFACTS / "report-demo.png").stat().st_size > 10_000
    finally:
        page.close()


def test_fifty_vpcs_stay_readable_in_chromium(browser: Any, tmp_path: Path) -> None:
    result = audit_result(landscape())
    report = tmp_path / "fifty.html"
    report.write_text(render(result, "fifty VPCs"), encoding="utf-8")
    page, requests, errors = open_page(browser, report)
    try:
        assert requests == [report.as_uri()] and errors == []
        assert page.locator("#topology g.vpc:not(.ext)").count() == 50
        geometry = page.locator("#topology").evaluate(GEOMETRY)
        assert geometry["overlaps"] == [] and geometry["spill"] == []
        font = page.locator("#topology g.vpc text.id").first.evaluate("t => getComputedStyle(t).fontSize")
        assert font == "11px"  # drawn at its natural size: the page scrolls, text is never shrunk
        page.click("#zoom-fit")
        width = page.locator("#topology").evaluate("s => s.getBoundingClientRect().width")
        assert width <= 1440
        page.click("#zoom-fit")  # idempotent
        page.select_option("#f-check", "connected-cidrs-non-overlapping")
        assert {r["check"] for r in visible_rows(page)} == {"connected-cidrs-non-overlapping"}
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "report-50-vpcs.png"), full_page=False)
    finally:
        page.close()


def test_cli_writes_html_and_asff(aws_env: dict[str, str], tmp_path: Path) -> None:
    session = boto3.session.Session(region_name="us-east-1")
    ec2 = session.client("ec2", endpoint_url=aws_env["AWS_ENDPOINT_URL"])
    remove_default_vpc(ec2)
    lab = build_lab(ec2, session.client("s3", endpoint_url=aws_env["AWS_ENDPOINT_URL"]), "us-east-1")
    out = tmp_path / "report.html"

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "chalicelib.cli", "audit", *args],
            env=aws_env,
            capture_output=True,
            text=True,
            timeout=120,
        )

    assert cli("--format", "html", "--output", str(out)).returncode == 0
    text = out.read_text()
    assert text.startswith("<!doctype html>") and 'id="topology"' in text
    assert f'data-resource="{lab.app_private_rtb}"' in text
    asff = cli("--format", "asff")
    assert asff.returncode == 0, asff.stderr
    docs = json.loads(asff.stdout)
    assert {d["GeneratorId"] for d in docs} >= {"private-subnet-gateway-endpoints", "connected-cidrs-non-overlapping"}
    assert all(d["SchemaVersion"] == "2018-10-08" and d["RecordState"] == "ACTIVE" for d in docs)
