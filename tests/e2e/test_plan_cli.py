"""``vpcwatch plan`` as a user runs it: a subprocess against a moto server holding the lab,
with plans built over the lab's live ids (tests/labplans.py)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import boto3
import pytest

from tests.e2e.test_cli import REGION, run_cli
from tests.labplans import EXAMPLE_EXTRA, fix, overlap
from vpcwatch_tools.lab import Lab, build_lab, remove_default_vpc


@pytest.fixture
def lab(aws_env: dict[str, str]) -> Lab:
    ec2 = boto3.client("ec2", region_name=REGION)
    remove_default_vpc(ec2)
    return build_lab(ec2, boto3.client("s3", region_name=REGION), REGION)


def write(tmp_path: Path, name: str, doc: dict[str, Any]) -> str:
    path = tmp_path / name
    path.write_text(json.dumps(doc))
    return str(path)


def keys(findings: list[dict[str, Any]]) -> set[tuple[str, str, str | None]]:
    return {(f["check"], f["resource_id"], f["evidence"].get("service")) for f in findings}


def test_a_planned_overlap_with_the_live_lab_is_introduced_and_fails(
    lab: Lab, aws_env: dict[str, str], tmp_path: Path
) -> None:
    plan = write(tmp_path, "overlap.json", overlap(lab, EXAMPLE_EXTRA))
    proc = run_cli(aws_env, "plan", plan, "--format", "json")
    assert proc.returncode == 1, proc.stderr
    doc = json.loads(proc.stdout)
    assert keys(doc["introduced"]) == {
        ("peering-cidrs-non-overlapping", "aws_vpc_peering_connection.hub_reporting", None),
        ("connected-cidrs-non-overlapping", "aws_vpc.reporting", None),
        ("vpc-flow-logs-enabled", "aws_vpc.reporting", None),
    }
    assert doc["resolved"] == []
    # the live lab's own mistakes are there before and after, with the addresses Terraform gives them
    unchanged = {(f["check"], f["resource_id"]): f for f in doc["unchanged"]}
    hub = unchanged[("connected-cidrs-non-overlapping", lab.hub_vpc)]
    assert hub["evidence"]["terraform_address"] == "aws_vpc.hub"
    assert doc["plan"]["regions"] == [REGION] and doc["audit"]["account_id"] == "123456789012"
    assert doc["audit"]["api_calls"] > 0
    # ids of live findings are the ones `audit` reports
    audit = json.loads(run_cli(aws_env, "audit", "--format", "json").stdout)
    assert {f["id"] for f in doc["unchanged"]} == {f["id"] for f in audit["findings"]}
    # below the threshold: exit 0
    assert run_cli(aws_env, "plan", plan, "--fail-on", "CRITICAL").returncode == 0


def test_the_lab_fix_as_a_plan_resolves_its_finding(lab: Lab, aws_env: dict[str, str], tmp_path: Path) -> None:
    plan = write(tmp_path, "fix.json", fix(lab, EXAMPLE_EXTRA))
    proc = run_cli(aws_env, "plan", plan, "--format", "json")
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    assert doc["introduced"] == []
    assert keys(doc["resolved"]) == {("private-subnet-gateway-endpoints", lab.app_private_rtb, "s3")}
    markdown = run_cli(aws_env, "plan", plan, "--format", "markdown")
    assert markdown.returncode == 0 and "#### Resolved (1)" in markdown.stdout
    sarif = json.loads(run_cli(aws_env, "plan", plan, "--format", "sarif").stdout)
    assert sarif["runs"][0]["properties"]["resolved"] == [doc["resolved"][0]["id"]]


def test_an_unsupported_plan_is_exit_2_with_the_reason(aws_env: dict[str, str], tmp_path: Path) -> None:
    old = Path(__file__).resolve().parents[1] / "fixtures" / "terraform-plans" / "tgw-two-vpcs.tf0.12.20.json"
    proc = run_cli(aws_env, "plan", str(old))
    assert proc.returncode == 2
    assert "unsupported plan format_version 0.1" in proc.stderr
    state = write(tmp_path, "state.json", {"format_version": "1.0", "values": {"root_module": {}}})
    proc = run_cli(aws_env, "plan", state)
    assert proc.returncode == 2 and "a state, not a plan" in proc.stderr
    proc = run_cli(aws_env, "plan", str(tmp_path / "missing.json"))
    assert proc.returncode == 2 and "cannot read" in proc.stderr


def test_the_examples_run_offline_without_aws(tmp_path: Path, aws_env: dict[str, str]) -> None:
    examples = Path(__file__).resolve().parents[2] / "examples" / "plans"
    env = {k: v for k, v in aws_env.items() if k not in ("AWS_ENDPOINT_URL",)}
    env["AWS_ENDPOINT_URL"] = "http://127.0.0.1:9"  # nothing listens: offline must not call AWS
    proc = run_cli(env, "plan", str(examples / "lab-overlap.json"), "--offline", "--format", "json")
    assert proc.returncode == 1, proc.stderr
    assert "peering-cidrs-non-overlapping" in {f["check"] for f in json.loads(proc.stdout)["introduced"]}
    proc = run_cli(env, "plan", str(examples / "lab-s3-endpoint-fix.json"), "--offline")
    assert proc.returncode == 0, proc.stderr
    assert "1 resolved" in proc.stdout
