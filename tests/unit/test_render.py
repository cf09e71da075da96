import json
from dataclasses import replace

import pytest

from chalicelib.audit import AuditResult, NotEvaluated, build_finding
from chalicelib.checks import CHECK_BY_ID, REGISTRY
from chalicelib.model import CollectionError, NetworkSnapshot, Violation
from chalicelib.policy import Policy
from chalicelib.render import RENDERERS
from chalicelib.render.sarif import to_sarif

SNAP = NetworkSnapshot(
    account_id="111122223333",
    region="us-east-1",
    errors=(CollectionError("ec2:DescribeClientVpnEndpoints", "us-east-1", "AccessDenied"),),
)
LONG = "Route table rtb-0123456789abcdef0 routes 10.0.0.0/8 to peering pcx-0123 " * 4


def _finding(check: str, resource: str, detail: str = "short", **evidence: object):  # type: ignore[no-untyped-def]
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


def test_table_fits_100_columns_and_groups_by_severity(result: AuditResult) -> None:
    text = RENDERERS["table"](result)
    assert max(len(line) for line in text.splitlines()) <= 100
    assert text.index("HIGH (1)") < text.index("MEDIUM (1)") < text.index("LOW (1)") < text.index("SUPPRESSED (1)")
    assert "3 findings (1 HIGH, 1 MEDIUM, 1 LOW)" in text
    assert "ec2:DescribeClientVpnEndpoints" in text
    assert "policy exemption: sandbox" in text


def test_markdown_has_summary_table_and_folded_details(result: AuditResult) -> None:
    text = RENDERERS["markdown"](result)
    assert text.startswith("### vpcwatch: 3 findings")
    assert "| HIGH | `peering-cidrs-non-overlapping` | `pcx-1` |" in text
    assert text.count("<details>") == 4  # three findings and the suppressed list
    assert "Not evaluated" in text


def test_sarif_rules_results_and_fingerprints(result: AuditResult) -> None:
    doc = to_sarif(result)
    assert json.loads(RENDERERS["sarif"](result)) == doc
    assert doc["version"] == "2.1.0"
    run = doc["runs"][0]
    rules = run["tool"]["driver"]["rules"]
    assert [r["id"] for r in rules] == [s.id for s in REGISTRY]
    results = run["results"]
    assert len(results) == 4
    for item, finding in zip(results, [*result.findings, *result.suppressed], strict=True):
        assert rules[item["ruleIndex"]]["id"] == item["ruleId"] == finding.check
        assert item["partialFingerprints"]["vpcwatchFindingId/v1"] == finding.id
    assert results[0]["level"] == "error" and results[2]["level"] == "note"
    assert results[3]["suppressions"][0]["justification"] == "policy exemption: sandbox"
    assert run["invocations"][0]["executionSuccessful"] is False
