"""The demo plans in examples/plans are what tests/labplans.py builds (no drift), and
they say what the README says they do, offline."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from chalicelib.core.plan.apply import apply_plan, prior_snapshot
from chalicelib.core.plan.diff import PlanResult, compare
from chalicelib.core.plan.reader import read_plan
from chalicelib.core.policy import Policy
from tests.labplans import ACCOUNT, EXAMPLE_LAB, fix, overlap

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "plans"


def offline(doc: dict[str, object]) -> PlanResult:
    plan = read_plan(doc)
    region = EXAMPLE_LAB.region
    before = prior_snapshot(plan, plan.account_id or "", region, region)
    now = dt.datetime(2026, 11, 26, tzinfo=dt.UTC)
    return compare(plan, [before], [apply_plan(before, plan, region)], Policy(), now, default_region=region)


def test_the_committed_examples_are_the_generated_ones() -> None:
    assert json.loads((EXAMPLES / "lab-overlap.json").read_text()) == overlap()
    assert json.loads((EXAMPLES / "lab-s3-endpoint-fix.json").read_text()) == fix()


def test_offline_the_plans_own_state_is_the_lab_with_its_mistakes() -> None:
    result = offline(fix())
    assert result.after.account_id == ACCOUNT
    before = {(f.check, f.resource_id, f.evidence.get("service")) for f in result.before.findings}
    assert len(before) == 14  # the lab's mistakes, as `audit` finds them on the live lab
    assert {f.evidence.get("terraform_address") for f in result.resolved} == {"aws_route_table.app_private"}
    assert result.introduced == ()


def test_offline_the_overlap_plan_introduces_the_overlap() -> None:
    result = offline(overlap())
    assert {(f.check, f.resource_id) for f in result.introduced} == {
        ("peering-cidrs-non-overlapping", "aws_vpc_peering_connection.hub_reporting"),
        ("connected-cidrs-non-overlapping", "aws_vpc.reporting"),
        ("vpc-flow-logs-enabled", "aws_vpc.reporting"),
    }


def test_the_readme_grants_the_plan_exactly_what_the_checks_read() -> None:
    from chalicelib.core.checks import read_actions

    readme = (EXAMPLES.parents[1] / "README.md").read_text()
    section = readme[readme.index("## Auditing a Terraform plan") : readme.index("## Checks")]
    block = section[section.index("```json\n") + 8 :]
    policy = json.loads(block[: block.index("```")])
    assert sorted(policy["Statement"][0]["Action"]) == sorted({*read_actions(), "sts:GetCallerIdentity"})
    assert "vpcwatch plan examples/plans/lab-overlap.json --offline" in section
