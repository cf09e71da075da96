"""Before / after: introduced, resolved, unchanged by finding id; Terraform addresses on
findings; unknown values as not evaluated; exit codes; the four renderings."""

from __future__ import annotations

import datetime as dt
import json

from chalicelib.core.model import NetworkSnapshot, Route, RouteTable, Severity, Subnet, Vpc
from chalicelib.core.plan.apply import apply_plan
from chalicelib.core.plan.diff import PlanResult, compare
from chalicelib.core.plan.reader import read_plan
from chalicelib.core.policy import Policy
from chalicelib.render.plan import render_json, render_markdown, render_table, to_sarif
from tests.planbuilder import PlanBuilder

ACCOUNT, REGION = "111122223333", "us-east-1"
NOW = dt.datetime(2026, 11, 26, tzinfo=dt.UTC)
POLICY = Policy(gateway_endpoints=("s3",))


def live() -> NetworkSnapshot:
    """vpc-0app 10.0.0.0/16 with a private subnet on rtb-0private (no S3 endpoint, no flow logs)."""
    return NetworkSnapshot(
        account_id=ACCOUNT,
        region=REGION,
        vpcs=(Vpc("vpc-0app", ACCOUNT, ("10.0.0.0/16",)),),
        subnets=(Subnet("subnet-0private", "vpc-0app", ACCOUNT, "10.0.1.0/24"),),
        route_tables=(
            RouteTable(
                "rtb-0private", "vpc-0app", ACCOUNT, False, ("subnet-0private",), (Route("10.0.0.0/16", "local"),)
            ),
        ),
    )


def run(b: PlanBuilder, base: NetworkSnapshot | None = None) -> PlanResult:
    plan = read_plan(b.doc())
    before = base or live()
    return compare(plan, [before], [apply_plan(before, plan, REGION)], POLICY, NOW, default_region=REGION)


def keys(findings: tuple[object, ...]) -> set[tuple[str, str]]:
    return {(f.check, f.resource_id) for f in findings}  # type: ignore[attr-defined]


def overlap_plan() -> PlanBuilder:
    b = PlanBuilder()
    b.create("aws_vpc", "reporting", {"cidr_block": "10.0.128.0/17"})
    b.create(
        "aws_vpc_peering_connection",
        "app_reporting",
        {"vpc_id": "vpc-0app", "auto_accept": True},
        refs={"peer_vpc_id": "aws_vpc.reporting"},
    )
    return b


def test_an_overlap_with_a_live_vpc_is_introduced_on_the_planned_peering() -> None:
    result = run(overlap_plan())
    assert keys(result.introduced) == {
        ("peering-cidrs-non-overlapping", "aws_vpc_peering_connection.app_reporting"),
        ("connected-cidrs-non-overlapping", "vpc-0app"),
        ("connected-cidrs-non-overlapping", "aws_vpc.reporting"),
        ("vpc-flow-logs-enabled", "aws_vpc.reporting"),
    }
    peering = next(f for f in result.introduced if f.check == "peering-cidrs-non-overlapping")
    assert peering.evidence["terraform_address"] == "aws_vpc_peering_connection.app_reporting"
    assert peering.resource_arn.endswith(":vpc-peering-connection/aws_vpc_peering_connection.app_reporting")
    assert "tf0" not in json.dumps(peering.to_dict())  # no stand-in id leaks out
    assert keys(result.unchanged) == {
        ("vpc-flow-logs-enabled", "vpc-0app"),
        ("private-subnet-gateway-endpoints", "rtb-0private"),
    }
    assert result.resolved == ()
    assert result.exit_code(Severity.HIGH) == 1
    assert result.exit_code(Severity.CRITICAL) == 0


def test_a_gateway_endpoint_resolves_the_finding_and_names_the_managed_table() -> None:
    b = PlanBuilder()
    b.existing("aws_route_table", "private", {"id": "rtb-0private", "vpc_id": "vpc-0app"})
    b.create(
        "aws_vpc_endpoint",
        "s3",
        {"vpc_id": "vpc-0app", "service_name": f"com.amazonaws.{REGION}.s3", "route_table_ids": ["rtb-0private"]},
    )
    result = run(b)
    (resolved,) = result.resolved
    assert (resolved.check, resolved.resource_id) == ("private-subnet-gateway-endpoints", "rtb-0private")
    assert result.introduced == ()
    # the plan manages the live table: its findings carry the address too
    (unchanged,) = result.unchanged
    assert unchanged.resource_id == "vpc-0app" and "terraform_address" not in unchanged.evidence
    assert result.exit_code(Severity.HIGH) == 0
    assert result.after.findings and all(f.id for f in result.after.findings)


def test_ids_are_the_ones_a_later_audit_will_compute_for_the_live_resources() -> None:
    result = run(PlanBuilder())
    assert {f.id for f in result.unchanged} == {f.id for f in result.before.findings}


def test_an_unknown_cidr_makes_its_checks_not_evaluated_never_a_guess() -> None:
    b = PlanBuilder()
    b.create("aws_vpc", "ipam", {"ipv4_ipam_pool_id": "ipam-pool-0abc"}, unknown={"cidr_block": True})
    result = run(b)
    # without the CIDR, "no flow logs" and every overlap check on it cannot be decided
    assert not any(f.resource_id == "aws_vpc.ipam" for f in result.introduced)
    doc = result.to_dict()
    assert doc["plan"]["unknown"] == [{"address": "aws_vpc.ipam", "attribute": "cidr_block"}]
    entries = [e for e in doc["audit"]["not_evaluated"] if e.get("resource") == "aws_vpc.ipam"]
    assert {e["check"] for e in entries} >= {"peering-cidrs-non-overlapping", "vpc-flow-logs-enabled"}
    assert all(e["unknown"] == ["cidr_block"] for e in entries)


def test_json_shape_of_spec_8() -> None:
    b = overlap_plan()
    b.ignored("aws_security_group", "sg")
    doc = json.loads(render_json(run(b)))
    assert set(doc) == {"plan", "audit", "introduced", "resolved", "unchanged"}
    assert doc["plan"]["format_version"] == "1.2" and doc["plan"]["terraform_version"] == "1.9.8"
    assert doc["plan"]["regions"] == [REGION]
    assert doc["plan"]["resources_applied"] == 2
    assert doc["plan"]["resources_ignored"] == ["aws_security_group.sg"]
    assert doc["audit"]["account_id"] == ACCOUNT and doc["audit"]["errors"] == []


def test_markdown_puts_introduced_first_with_the_address_and_the_fix() -> None:
    b = overlap_plan()
    b.create(
        "aws_vpc_endpoint",
        "s3",
        {"vpc_id": "vpc-0app", "service_name": f"com.amazonaws.{REGION}.s3", "route_table_ids": ["rtb-0private"]},
    )
    text = render_markdown(run(b))
    introduced, resolved, unchanged = (
        text.index(h) for h in ("#### Introduced", "#### Resolved", "unchanged</summary>")
    )
    assert introduced < resolved < unchanged
    assert "`aws_vpc_peering_connection.app_reporting`" in text
    # The planned peering's own fix: its block, by address (no command before it exists).
    assert "**Fix:** Planned resource aws_vpc_peering_connection.app_reporting: change its Terraform block" in text
    assert "Renumber one side" in text
    assert "<details><summary>1 unchanged</summary>" in text


def test_markdown_stays_under_githubs_comment_limit() -> None:
    b = PlanBuilder()
    for n in range(3000):  # 3,000 VPCs without flow logs: 3,000 introduced findings
        b.create("aws_vpc", f"v{n}", {"cidr_block": f"10.{n // 256}.{n % 256}.0/24"})
    result = run(b)
    assert len(result.introduced) == 3000
    text = render_markdown(result)
    assert len(text) < 65_536
    assert "_Not listed to fit a comment:" in text


def test_sarif_puts_the_address_in_the_logical_location() -> None:
    sarif = to_sarif(run(overlap_plan()))
    results = sarif["runs"][0]["results"]
    peering = next(r for r in results if r["ruleId"] == "peering-cidrs-non-overlapping")
    assert peering["locations"][0]["logicalLocations"][0]["name"] == ("aws_vpc_peering_connection.app_reporting")
    assert peering["baselineState"] == "new"
    assert {r["baselineState"] for r in results} == {"new", "unchanged"}


def test_table_lists_each_section() -> None:
    text = render_table(run(overlap_plan()))
    assert "INTRODUCED (4)" in text and "UNCHANGED (2)" in text and "RESOLVED" not in text
    assert "aws_vpc_peering_connection.app_reporting" in text
