"""The renderers' shapes: table, Markdown (a pull-request comment), SARIF 2.1.0 (validated
against the official OASIS schema, vendored in ``tests/fixtures``: no download at test
time) and the self-contained HTML report."""

from __future__ import annotations

import hashlib
import json
import re
import xml.etree.ElementTree as ET
from collections import Counter
from dataclasses import replace
from functools import cache
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from chalicelib.core.audit import AuditResult, NotEvaluated, build_finding
from chalicelib.core.checks import CHECK_BY_ID, REGISTRY
from chalicelib.core.fixes import fix_for
from chalicelib.core.model import CollectionError, Finding, NetworkSnapshot, Violation
from chalicelib.core.policy import Policy
from chalicelib.render import RENDERERS, html, markdown
from chalicelib.render.sarif import to_sarif
from tests.unit.test_render_topology import audit_result, landscape

SNAP = NetworkSnapshot(
    account_id="111122223333",
    region="us-east-1",
    errors=(CollectionError("ec2:DescribeClientVpnEndpoints", "us-east-1", "AccessDenied"),),
)
LONG = "Route table rtb-0123456789abcdef0 routes 10.0.0.0/8 to peering pcx-0123 " * 4


def _finding(check: str, resource: str, detail: str = "short", **evidence: object) -> Finding:
    return build_finding(CHECK_BY_ID[check], Violation(resource, "vpc-1", detail, evidence), SNAP, Policy(), "t")


@pytest.fixture
def result() -> AuditResult:
    high = _finding("peering-cidrs-non-overlapping", "pcx-1", LONG)
    medium = _finding("private-subnet-gateway-endpoints", "rtb-1", service="s3")
    low = _finding("vpc-flow-logs-traffic-type", "vpc-1")
    exempt = _finding("vpc-flow-logs-enabled", "vpc-2")
    return AuditResult(
        account_id="111122223333",
        regions=("us-east-1",),
        scope_vpc_ids=(),
        started_at="2026-11-26T03:00:00Z",
        duration_ms=12,
        snapshots=(SNAP,),
        findings=(high, medium, low),
        suppressed=(replace(exempt, status="SUPPRESSED", reason="policy exemption: sandbox"),),
        not_evaluated=(
            NotEvaluated("client-vpn-connection-logging", "us-east-1", ("ec2:DescribeClientVpnEndpoints",)),
        ),
    )


@pytest.fixture(scope="module")
def big() -> AuditResult:
    """50 VPCs in three regions, 100+ findings."""
    return audit_result(landscape())


# ---------------------------------------------------------------------------------
# table
# ---------------------------------------------------------------------------------


def test_table_fits_100_columns_and_groups_by_severity(result: AuditResult) -> None:
    text = RENDERERS["table"](result)
    assert max(len(line) for line in text.splitlines()) <= 100
    assert text.index("HIGH (1)") < text.index("MEDIUM (1)") < text.index("LOW (1)") < text.index("SUPPRESSED (1)")
    assert "3 findings (1 HIGH, 1 MEDIUM, 1 LOW)" in text
    assert "ec2:DescribeClientVpnEndpoints" in text
    assert "policy exemption: sandbox" in text


# ---------------------------------------------------------------------------------
# Markdown
# ---------------------------------------------------------------------------------

SUMMARY_ROW = re.compile(r"^\| \*\*(\w+)\*\* \| (\d+) \| (.+) \|$")
SECTION = re.compile(r"^<details( open)?><summary><b>(\w+)</b> \((\d+)\)</summary>$")


def _cells(line: str) -> list[str]:
    """A GitHub table row's cells (an escaped pipe stays inside its cell)."""
    assert line.startswith("| ") and line.endswith(" |"), line
    return [c.strip() for c in re.split(r"(?<!\\)\|", line[1:-1])]


def _sections(text: str) -> list[tuple[str, bool, int, list[list[str]]]]:
    """(severity, open, count, table rows) of each folded section, checking its frame."""
    lines = text.splitlines()
    found = []
    for n, line in enumerate(lines):
        match = SECTION.match(line)
        if not match:
            continue
        assert lines[n + 1] == "", "GitHub renders Markdown inside <details> only after a blank line"
        assert (
            lines[n + 2] == "| Check | Resource | VPC | Region | Detail |" and lines[n + 3] == "|---|---|---|---|---|"
        )
        end = lines.index("</details>", n)
        assert lines[end - 1] == ""
        rows = [_cells(r) for r in lines[n + 4 : end] if r.startswith("| ")]
        assert all(len(r) == 5 for r in rows), rows
        found.append((match.group(2), bool(match.group(1)), int(match.group(3)), rows))
    return found


def test_markdown_is_a_summary_line_a_table_by_severity_and_folded_sections(result: AuditResult) -> None:
    text = RENDERERS["markdown"](result)
    lines = text.splitlines()
    assert lines[0] == "### vpcwatch: 3 findings (1 HIGH, 1 MEDIUM, 1 LOW) · 1 suppressed · 1 not evaluated"
    table = lines.index("| Severity | Findings | Checks |")
    assert lines[table + 1] == "|---|---:|---|"
    summary = [SUMMARY_ROW.match(line) for line in lines[table + 2 : table + 5]]
    assert [(m.group(1), m.group(2)) for m in summary if m] == [("HIGH", "1"), ("MEDIUM", "1"), ("LOW", "1")]
    assert summary[0] and summary[0].group(3) == "`peering-cidrs-non-overlapping` (1)"
    sections = _sections(text)
    assert [(s, o, c) for s, o, c, _ in sections] == [("HIGH", True, 1), ("MEDIUM", False, 1), ("LOW", False, 1)]
    high_rows = sections[0][3]
    assert high_rows[0][:4] == ["`peering-cidrs-non-overlapping`", "`pcx-1`", "vpc-1", "us-east-1"]
    assert high_rows[0][4] == " ".join(LONG.split())
    # Each finding's own fix, folded: its real command, not the check's generic one with placeholders.
    assert "**Fixes**" in text and CHECK_BY_ID["private-subnet-gateway-endpoints"].cli not in text
    assert fix_for(result.findings[1]).cli_text in text
    assert text.count("<details") == text.count("</details>") == 7  # 3 severities, 3 fixes, the suppressed list
    assert "<details><summary>1 suppressed</summary>" in text and "policy exemption: sandbox" in text
    assert "**Not evaluated**" in text and "ec2:DescribeClientVpnEndpoints" in text


def test_markdown_cells_survive_pipes_newlines_and_html(result: AuditResult) -> None:
    nasty = _finding("routes-no-blackhole", "rtb-9", "a | b\nc <script>alert(1)</script> \\ d")
    text = RENDERERS["markdown"](replace(result, findings=(*result.findings, nasty)))
    row = next(r for _, _, _, rows in _sections(text) for r in rows if r[1] == "`rtb-9`")
    assert row[4] == "a \\| b c &lt;script&gt;alert(1)&lt;/script&gt; \\\\ d"
    assert "<script>" not in text


def test_markdown_without_findings_says_so(result: AuditResult) -> None:
    text = RENDERERS["markdown"](replace(result, findings=(), suppressed=(), not_evaluated=()))
    assert text.splitlines()[0] == "### vpcwatch: 0 findings · 0 suppressed · 0 not evaluated"
    assert "No findings." in text and "<details" not in text and "| Severity |" not in text


def test_markdown_stays_under_the_comment_limit_leaving_out_the_least_severe(big: AuditResult) -> None:
    text = RENDERERS["markdown"](big)
    assert len(text) < 65_536
    counts = Counter(f.severity.name for f in big.findings)
    listed = {s: len(rows) for s, _, _, rows in _sections(text)}
    assert listed == dict(counts)  # 107 findings fit
    small = markdown.render(big, limit=6_000)
    assert len(small) <= 6_000
    listed = {s: len(rows) for s, _, _, rows in _sections(small)}
    assert listed["HIGH"] == counts["HIGH"]  # the most severe are kept
    note = re.search(r"_Not listed to fit a comment: (.+)\. The full list", small)
    assert note is not None
    left = {name: int(n) for n, name in re.findall(r"(\d+) (\w+)", note.group(1))}
    for severity, total in counts.items():
        assert listed.get(severity, 0) + left.get(severity, 0) == total


# ---------------------------------------------------------------------------------
# SARIF
# ---------------------------------------------------------------------------------


# The OASIS SARIF 2.1.0 errata01 schema (draft-04; its "id" is the errata01 URL on
# docs.oasis-open.org), as the SARIF TC's repository holds it since "Update the github
# copies of the schemata to match the Approved Errata" (#613).
SARIF_SCHEMA_FILE = Path(__file__).resolve().parents[1] / "fixtures" / "sarif-schema-2.1.0.json"
SARIF_SCHEMA_SOURCE = (
    "https://raw.githubusercontent.com/oasis-tcs/sarif-spec/ffa72eb4d4d7504ac43736489b0444aff7afdd74"
    "/Schemata/sarif-schema-2.1.0.json"
)
SARIF_SCHEMA_ID = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
SARIF_SCHEMA_SHA256 = "c3b4bb2d6093897483348925aaa73af03b3e3f4bd4ca38cef26dcb4212a2682e"


@cache
def sarif_schema() -> dict[str, Any]:
    """The vendored schema, refused unless its bytes are the ones fetched from the source."""
    raw = SARIF_SCHEMA_FILE.read_bytes()
    assert hashlib.sha256(raw).hexdigest() == SARIF_SCHEMA_SHA256, f"{SARIF_SCHEMA_FILE} is not {SARIF_SCHEMA_SOURCE}"
    schema: dict[str, Any] = json.loads(raw)
    return schema


def sarif_errors(doc: dict[str, Any]) -> list[str]:
    # Every format jsonschema[format-nongpl] knows: the schema is draft-04 but names formats
    # of later drafts (uri-reference), which draft-04's own checker would skip.
    validator = jsonschema.Draft4Validator(sarif_schema(), format_checker=jsonschema.FormatChecker())
    return [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(doc)]


def test_the_schema_is_the_official_one() -> None:
    schema = sarif_schema()
    assert schema["title"] == "Static Analysis Results Format (SARIF) Version 2.1.0 JSON Schema"
    assert schema["id"] == SARIF_SCHEMA_ID
    assert schema["$schema"] == "http://json-schema.org/draft-04/schema#"
    assert "result" in schema["definitions"] and "reportingDescriptor" in schema["definitions"]


def test_sarif_validates_against_the_sarif_2_1_0_schema(result: AuditResult, big: AuditResult) -> None:
    for audit in (result, big, replace(result, findings=(), suppressed=())):
        doc = json.loads(RENDERERS["sarif"](audit))
        assert sarif_errors(doc) == []


@pytest.mark.parametrize(
    ("path", "value"),
    [
        (("version",), "2.1"),
        (("runs", 0, "results", 0, "level"), "critical"),
        (("runs", 0, "results", 0, "message"), "not an object"),
        (("runs", 0, "tool", "driver", "rules", 0, "defaultConfiguration", "level"), "high"),
        (("runs", 0, "results", 0, "locations", 0, "physicalLocation", "artifactLocation", "uri"), "not a uri"),
        (("runs", 0, "invocations", 0, "startTimeUtc"), "yesterday"),
    ],
)
def test_the_schema_catches_a_wrong_shape(result: AuditResult, path: tuple[Any, ...], value: Any) -> None:
    doc = to_sarif(result)
    target: Any = doc
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    assert sarif_errors(doc)


def test_sarif_rules_results_and_fingerprints(result: AuditResult) -> None:
    doc = to_sarif(result)
    assert json.loads(RENDERERS["sarif"](result)) == doc
    assert doc["version"] == "2.1.0"
    run = doc["runs"][0]
    rules = run["tool"]["driver"]["rules"]
    assert [r["id"] for r in rules] == [s.id for s in REGISTRY]
    assert all(r["properties"]["security-severity"] for r in rules)
    results = run["results"]
    assert len(results) == 4
    for item, finding in zip(results, [*result.findings, *result.suppressed], strict=True):
        assert rules[item["ruleIndex"]]["id"] == item["ruleId"] == finding.check
        assert item["partialFingerprints"]["vpcwatchFindingId/v1"] == finding.id
    assert results[0]["level"] == "error" and results[2]["level"] == "note"
    assert results[3]["suppressions"][0]["justification"] == "policy exemption: sandbox"
    assert run["invocations"][0]["executionSuccessful"] is False


# ---------------------------------------------------------------------------------
# HTML
# ---------------------------------------------------------------------------------


class Page(HTMLParser):
    """The elements of an HTML page: (tag, attributes) in document order, and texts."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.elements: list[tuple[str, dict[str, str]]] = []
        self.styles: list[str] = []
        self._in_style = False
        self.feed(text)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.elements.append((tag, {k: v or "" for k, v in attrs}))
        self._in_style = tag == "style"

    def handle_endtag(self, tag: str) -> None:
        self._in_style = False

    def handle_data(self, data: str) -> None:
        if self._in_style:
            self.styles.append(data)

    def find(self, tag: str, **attrs: str) -> list[dict[str, str]]:
        return [a for t, a in self.elements if t == tag and all(a.get(k) == v for k, v in attrs.items())]


def _svg(text: str) -> ET.Element:
    start, end = text.index("<svg"), text.index("</svg>") + len("</svg>")
    return ET.fromstring(text[start:end])  # the diagram is well-formed XML


def test_html_report_is_self_contained(big: AuditResult) -> None:
    text = RENDERERS["html"](big)
    page = Page(text)
    assert text.startswith("<!doctype html>")
    csp = page.find("meta", **{"http-equiv": "Content-Security-Policy"})
    assert csp and "default-src 'none'" in csp[0]["content"]
    assert not page.find("link") and not page.find("img") and not page.find("iframe")
    assert all("src" not in attrs for tag, attrs in page.elements if tag == "script")
    for _, attrs in page.elements:
        for key in ("src", "href", "xlink:href", "action", "data"):
            assert key not in attrs or not re.match(r"\s*(https?:|//)", attrs[key]), attrs
    assert not any("@import" in s or "url(" in s for s in page.styles)
    assert len(page.find("svg")) == 1 and len(page.find("script")) == 1


def test_html_report_has_the_summary_the_diagram_and_every_finding(big: AuditResult) -> None:
    text = RENDERERS["html"](big)
    page = Page(text)
    counts = Counter(f.severity.name for f in big.findings)
    cards = page.find("button", **{"aria-pressed": "false"})
    assert [c["data-severity"] for c in cards] == ["CRITICAL", "HIGH", "MEDIUM", "LOW", "INFORMATIONAL"]
    assert re.findall(r'data-severity="(\w+)" aria-pressed="false"><b>(\d+)</b>', text) == [
        (s, str(counts[s])) for s in ("CRITICAL", "HIGH", "MEDIUM", "LOW", "INFORMATIONAL")
    ]
    by_check = [a["data-check"] for a in page.find("tr") if "data-check" in a and "data-id" not in a]
    assert sorted(by_check) == sorted({f.check for f in big.findings})
    rows = [a for a in page.find("tr") if "data-id" in a]
    assert [r["data-id"] for r in rows] == [f.id for f in big.findings]
    for row, finding in zip(rows, big.findings, strict=True):
        assert row["data-severity"] == finding.severity.name and row["data-rank"] == str(int(finding.severity))
        assert row["data-check"] == finding.check and row["data-resource"] == finding.resource_id
        assert finding.resource_id.lower() in row["data-search"]
    sortable = [a["data-key"] for a in page.find("th") if "data-key" in a]
    assert sortable == ["rank", "check", "resource", "region", "status"]
    for select in ("f-severity", "f-check", "f-status", "f-region"):
        assert page.find("select", id=select)
    svg = _svg(text)
    assert svg.get("id") == "topology"
    vpcs = {g.get("data-resource") for g in svg.iter("g") if (g.get("class") or "").startswith("vpc")}
    assert {v.vpc_id for s in big.snapshots for v in s.vpcs} <= vpcs
    located = {a["data-resource"] for a in page.find("button") if a.get("class") == "locate"}
    assert located == {f.resource_id for f in big.findings}  # every finding can be shown on the diagram


def test_html_report_escapes_what_aws_returns(result: AuditResult) -> None:
    evil = _finding("routes-no-blackhole", "rtb-<b>", '<script>alert("x")</script>', note="</pre><script>")
    text = html.render(replace(result, findings=(evil,)))
    assert "<script>alert" not in text and "</pre><script>" not in text
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in text
    assert len(Page(text).find("script")) == 1


def test_html_report_of_stored_findings_has_no_diagram_but_keeps_the_old_signature(result: AuditResult) -> None:
    resolved = replace(result.findings[1], status="RESOLVED", resolved_at="2026-11-27T00:00:00Z")
    text = html.render_findings([result.findings[0], resolved, *result.suppressed], "stored")
    page = Page(text)
    assert "<svg" not in text and page.find("p", id="no-topology")
    assert [a["data-status"] for a in page.find("tr") if "data-id" in a] == ["OPEN", "RESOLVED", "SUPPRESSED"]
    assert page.find("title") and "<title>stored</title>" in text
    assert "1 open finding, 2 other" in text
    assert not [a for a in page.find("button") if a.get("class") == "locate"]


def test_html_report_lists_what_could_not_be_collected(result: AuditResult) -> None:
    text = html.render(result)
    assert 'id="problems"' in text and "ec2:DescribeClientVpnEndpoints" in text and "not evaluated" in text


# ---------------------------------------------------------------------------------
# Each finding's own fix, in every format
# ---------------------------------------------------------------------------------

GATEWAY_CLI = (
    "aws ec2 create-vpc-endpoint --region us-east-1 --vpc-id vpc-1 --vpc-endpoint-type Gateway "
    "--service-name com.amazonaws.us-east-1.s3 --route-table-ids rtb-1"
)


def test_the_table_shows_each_open_findings_command_folded_to_paste_whole(result: AuditResult) -> None:
    text = RENDERERS["table"](result)
    lines = text.splitlines()
    start = next(n for n, line in enumerate(lines) if line.lstrip().startswith("$ aws ec2 create-vpc-endpoint"))
    folded = []
    for line in lines[start:]:
        folded.append(line.strip().removeprefix("$ ").removesuffix(" \\"))
        if not line.endswith("\\"):
            break
    assert " ".join(folded) == GATEWAY_CLI
    assert "--resource-ids vpc-2" not in text  # the suppressed finding's fix is not offered


def test_markdown_folds_each_findings_commands_terraform_and_cloudformation(result: AuditResult) -> None:
    text = RENDERERS["markdown"](result)
    block = text[text.index("<details><summary>Fix: <code>private-subnet-gateway-endpoints</code>") :]
    block = block[: block.index("</details>")]
    assert f"```sh\n{GATEWAY_CLI}\n```" in block
    assert '```hcl\nresource "aws_vpc_endpoint"' in block and 'route_table_ids   = ["rtb-1"]' in block
    assert "```yaml\n" in block and "Type: AWS::EC2::VPCEndpoint" in block
    assert "<rtb-id>" not in text and "<vpc-id>" not in text


def test_markdown_drops_fix_blocks_before_rows(big: AuditResult) -> None:
    small = markdown.render(big, limit=20_000)
    assert len(small) <= 20_000
    assert "fixes not shown to fit a comment" in small or small.count("<summary>Fix:") == len(big.findings)


def test_html_shows_each_findings_fix(result: AuditResult) -> None:
    page = RENDERERS["html"](result)
    assert f'<pre class="fix-cli">{GATEWAY_CLI}</pre>' in page
    assert '<pre class="fix-tf">resource &quot;aws_vpc_endpoint&quot;' in page
    assert '<pre class="fix-cfn">' in page and "Type: AWS::EC2::VPCEndpoint" in page


def test_sarif_results_carry_the_fix_in_properties(result: AuditResult) -> None:
    doc = to_sarif(result)
    gateway = next(r for r in doc["runs"][0]["results"] if r["ruleId"] == "private-subnet-gateway-endpoints")
    assert gateway["properties"]["fix"]["cli"] == [GATEWAY_CLI]
    assert "aws_vpc_endpoint" in gateway["properties"]["fix"]["terraform"]
    assert GATEWAY_CLI in gateway["message"]["markdown"] and "fixes" not in gateway
    assert sarif_errors(doc) == []
