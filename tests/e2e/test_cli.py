"""The CLI as a user runs it: a subprocess against a moto server over HTTP."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import boto3
import pytest

from vpcwatch_tools.lab import Lab, apply_fix, build_lab, remove_default_vpc

REGION = "us-east-1"


def run_cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "chalicelib.cli", *args], env=env, capture_output=True, text=True, timeout=120
    )


def keys(doc: dict[str, Any]) -> set[tuple[str, str, str | None]]:
    return {(f["check"], f["resource_id"], f["evidence"].get("service")) for f in doc["findings"]}


@pytest.fixture
def lab(aws_env: dict[str, str]) -> Lab:
    ec2 = boto3.client("ec2", region_name=REGION)
    remove_default_vpc(ec2)
    return build_lab(ec2, boto3.client("s3", region_name=REGION), REGION)


def expected(lab: Lab) -> set[tuple[str, str, str | None]]:
    return {
        ("vpc-flow-logs-enabled", lab.hub_vpc, None),
        ("vpc-flow-logs-enabled", lab.legacy_vpc, None),
        *(
            ("private-subnet-gateway-endpoints", rtb, service)
            for rtb in (lab.app_private_rtb, lab.hub_main_rtb, lab.legacy_main_rtb)
            for service in ("s3", "dynamodb")
        ),
        ("connected-cidrs-non-overlapping", lab.hub_vpc, None),
        ("connected-cidrs-non-overlapping", lab.app_vpc, None),
        ("connected-cidrs-non-overlapping", lab.legacy_vpc, None),
        ("peering-routes-least-access", lab.hub_main_rtb, None),
        ("tgw-routes-non-overlapping", lab.tgw_rtb, None),
        # the hub sends 10.0.0.0/8 over its peering; app's public table answers via the internet gateway
        ("routes-return-path", lab.app_public_rtb, None),
    }


def test_json_audit_of_the_lab_finds_exactly_the_lab_mistakes(lab: Lab, aws_env: dict[str, str]) -> None:
    proc = run_cli(aws_env, "audit", "--format", "json")
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    assert keys(doc) == expected(lab)
    audit = doc["audit"]
    assert audit["account_id"] == "123456789012"
    assert audit["regions"] == [REGION]
    assert audit["errors"] == [] and audit["not_evaluated"] == []
    assert audit["resources"]["vpcs"] == 3
    assert audit["api_calls"] > 0
    overlap = next(f for f in doc["findings"] if f["check"] == "connected-cidrs-non-overlapping"
                   and f["resource_id"] == lab.hub_vpc)  # fmt: skip
    assert overlap["severity"] == "HIGH"
    assert overlap["resource_arn"] == f"arn:aws:ec2:{REGION}:123456789012:vpc/{lab.hub_vpc}"
    assert "10.0.0.0/16" in json.dumps(overlap["evidence"])


def test_ids_are_stable_and_the_fix_resolves_only_its_finding(lab: Lab, aws_env: dict[str, str]) -> None:
    first = json.loads(run_cli(aws_env, "audit", "--format", "json").stdout)
    again = json.loads(run_cli(aws_env, "audit", "--format", "json").stdout)
    assert [f["id"] for f in first["findings"]] == [f["id"] for f in again["findings"]]
    apply_fix(boto3.client("ec2", region_name=REGION), lab)
    after = json.loads(run_cli(aws_env, "audit", "--format", "json").stdout)
    assert keys(first) - keys(after) == {("private-subnet-gateway-endpoints", lab.app_private_rtb, "s3")}
    assert keys(after) <= keys(first)


def test_scoped_audit_reports_only_the_scoped_vpc(lab: Lab, aws_env: dict[str, str]) -> None:
    proc = run_cli(aws_env, "audit", "--format", "json", "--vpc-id", lab.legacy_vpc)
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    assert doc["audit"]["scope"] == {"vpc_ids": [lab.legacy_vpc]}
    assert keys(doc) == {
        ("vpc-flow-logs-enabled", lab.legacy_vpc, None),
        ("private-subnet-gateway-endpoints", lab.legacy_main_rtb, "s3"),
        ("private-subnet-gateway-endpoints", lab.legacy_main_rtb, "dynamodb"),
        ("connected-cidrs-non-overlapping", lab.legacy_vpc, None),
        ("tgw-routes-non-overlapping", lab.tgw_rtb, None),
    }
    full = json.loads(run_cli(aws_env, "audit", "--format", "json").stdout)
    assert doc["audit"]["resources"]["subnets"] < full["audit"]["resources"]["subnets"]


@pytest.mark.parametrize(("fail_on", "code"), [("HIGH", 1), ("medium", 1), ("CRITICAL", 0)])
def test_fail_on_sets_the_exit_code(lab: Lab, aws_env: dict[str, str], fail_on: str, code: int) -> None:
    assert run_cli(aws_env, "audit", "--fail-on", fail_on).returncode == code


def test_policy_exemption_and_severity_override(lab: Lab, aws_env: dict[str, str], tmp_path: Path) -> None:
    policy = tmp_path / "policy.yaml"
    policy.write_text(
        "endpoints: {gateway: [s3]}\n"
        "severity: {vpc-flow-logs-enabled: CRITICAL}\n"
        f"exemptions: [{{check: vpc-flow-logs-enabled, resource_id: {lab.hub_vpc}, reason: lab hub}}]\n"
    )
    doc = json.loads(run_cli(aws_env, "audit", "--format", "json", "--policy", str(policy)).stdout)
    assert ("private-subnet-gateway-endpoints", lab.hub_main_rtb, "dynamodb") not in keys(doc)
    assert [(f["check"], f["resource_id"], f["reason"]) for f in doc["suppressed"]] == [
        ("vpc-flow-logs-enabled", lab.hub_vpc, "policy exemption: lab hub")
    ]
    legacy = next(f for f in doc["findings"] if f["check"] == "vpc-flow-logs-enabled")
    assert legacy["resource_id"] == lab.legacy_vpc and legacy["severity"] == "CRITICAL"


def test_exempt_tag_suppresses(lab: Lab, aws_env: dict[str, str]) -> None:
    ec2 = boto3.client("ec2", region_name=REGION)
    ec2.create_tags(Resources=[lab.legacy_vpc], Tags=[{"Key": "vpcwatch:exempt", "Value": "all"}])
    doc = json.loads(run_cli(aws_env, "audit", "--format", "json").stdout)
    assert {f["resource_id"] for f in doc["suppressed"]} == {lab.legacy_vpc}
    assert lab.legacy_vpc not in {f["resource_id"] for f in doc["findings"]}


def test_table_markdown_sarif_and_output_file(lab: Lab, aws_env: dict[str, str], tmp_path: Path) -> None:
    table = run_cli(aws_env, "audit").stdout
    assert "HIGH (" in table and lab.hub_vpc in table
    assert max(len(line) for line in table.splitlines()) <= 100
    assert run_cli(aws_env, "audit", "--format", "markdown").stdout.startswith("### vpcwatch:")
    out = tmp_path / "report.sarif"
    proc = run_cli(aws_env, "audit", "--format", "sarif", "--output", str(out))
    assert proc.returncode == 0 and proc.stdout == ""
    sarif = json.loads(out.read_text())
    assert sarif["version"] == "2.1.0" and len(sarif["runs"][0]["results"]) == len(expected(lab))


def test_several_regions_show_progress_on_stderr(lab: Lab, aws_env: dict[str, str]) -> None:
    proc = run_cli(aws_env, "audit", "--format", "json", "--region", REGION, "--region", "eu-west-1")
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    assert doc["audit"]["regions"] == [REGION, "eu-west-1"]
    assert "[2/2]" in proc.stderr
    # eu-west-1 keeps moto's default VPC, which has no flow logs
    assert any(f["region"] == "eu-west-1" and f["check"] == "vpc-flow-logs-enabled" for f in doc["findings"])


def test_no_credentials_is_one_clear_line(aws_env: dict[str, str], tmp_path: Path) -> None:
    env = {k: v for k, v in aws_env.items() if k not in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY")}
    env.update(
        AWS_CONFIG_FILE=str(tmp_path / "none"),
        AWS_SHARED_CREDENTIALS_FILE=str(tmp_path / "none"),
        AWS_EC2_METADATA_DISABLED="true",
    )
    proc = run_cli(env, "audit")
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == [proc.stderr.strip()]
    assert "no AWS credentials" in proc.stderr and "Traceback" not in proc.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["audit", "--region", "mars"], "not a region name"),
        (["audit", "--vpc-id", "subnet-123"], "not a VPC id"),
        (["audit", "--format", "xml"], "invalid choice"),
        (["audit", "--fail-on", "SEVERE"], "unknown severity"),
    ],
)
def test_usage_errors_exit_2(aws_env: dict[str, str], args: list[str], message: str) -> None:
    proc = run_cli(aws_env, *args)
    assert proc.returncode == 2 and message in proc.stderr


def test_bad_policy_exits_2_naming_the_key(aws_env: dict[str, str], tmp_path: Path) -> None:
    policy = tmp_path / "p.yaml"
    policy.write_text("flow_logs: {traffic_type: ALL, destination: s3}\n")
    proc = run_cli(aws_env, "audit", "--policy", str(policy))
    assert proc.returncode == 2 and "'destination'" in proc.stderr


# -- the region: --region, then AWS_REGION, AWS_DEFAULT_REGION, the profile's ----------


def region_env(
    aws_env: dict[str, str], tmp_path: Path, profile_region: str | None = None, **env: str
) -> dict[str, str]:
    """``aws_env`` with only the region settings given (and a config file of its own)."""
    config = tmp_path / "aws-config"
    config.write_text(f"[default]\nregion = {profile_region}\n" if profile_region else "")
    base = {k: v for k, v in aws_env.items() if k not in ("AWS_REGION", "AWS_DEFAULT_REGION")}
    return {**base, "AWS_CONFIG_FILE": str(config), **env}


@pytest.mark.parametrize(
    ("settings", "audited"),
    [
        pytest.param({"AWS_REGION": "eu-west-1"}, "eu-west-1", id="AWS_REGION-only"),
        pytest.param({"AWS_DEFAULT_REGION": "eu-west-1"}, "eu-west-1", id="AWS_DEFAULT_REGION-only"),
        pytest.param({"profile": "eu-west-2"}, "eu-west-2", id="profile-only"),
        pytest.param(
            {"AWS_REGION": "eu-west-1", "AWS_DEFAULT_REGION": "us-west-2"}, "eu-west-1", id="AWS_REGION-first"
        ),
        pytest.param({"AWS_DEFAULT_REGION": "us-west-2", "profile": "eu-west-2"}, "us-west-2", id="env-before-profile"),
    ],
)
def test_the_region_honours_aws_region_first(
    aws_env: dict[str, str], tmp_path: Path, settings: dict[str, str], audited: str
) -> None:
    settings = dict(settings)
    env = region_env(aws_env, tmp_path, settings.pop("profile", None), **settings)
    proc = run_cli(env, "audit", "--format", "json")
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    assert doc["audit"]["regions"] == [audited]
    assert {f["region"] for f in doc["findings"]} == {audited}  # moto's default VPC there


def test_an_explicit_region_wins_over_aws_region(aws_env: dict[str, str], tmp_path: Path) -> None:
    env = region_env(aws_env, tmp_path, "eu-west-2", AWS_REGION="eu-west-1", AWS_DEFAULT_REGION="us-west-2")
    proc = run_cli(env, "audit", "--format", "json", "--region", "ap-southeast-2")
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["audit"]["regions"] == ["ap-southeast-2"]


def test_no_region_anywhere_is_one_clear_line(aws_env: dict[str, str], tmp_path: Path) -> None:
    proc = run_cli(region_env(aws_env, tmp_path), "audit")
    assert proc.returncode == 2
    assert proc.stderr.strip() == (
        "vpcwatch: no region: pass --region, or set AWS_REGION, AWS_DEFAULT_REGION or the profile's region"
    )


def test_setup_with_aws_region_only(aws_env: dict[str, str], tmp_path: Path) -> None:
    proc = run_cli(region_env(aws_env, tmp_path, AWS_REGION="eu-west-1"), "setup")
    assert proc.returncode == 0, proc.stderr
    env = json.loads(proc.stdout)
    assert env["AWS_REGION"] == "eu-west-1" and ":eu-west-1:" in env["ALERTS_TOPIC_ARN"]


def test_setup_creates_the_queues_as_the_template_has_them(aws_env: dict[str, str], tmp_path: Path) -> None:
    from vpcwatch_tools.provision import AUDIT_QUEUE_VISIBILITY_SECONDS, FAILURE_QUEUE_NAME

    proc = run_cli(region_env(aws_env, tmp_path, AWS_REGION="eu-west-1"), "setup")
    assert proc.returncode == 0, proc.stderr
    env = json.loads(proc.stdout)
    sqs = boto3.client("sqs", region_name="eu-west-1", endpoint_url=aws_env["AWS_ENDPOINT_URL"])
    attributes = sqs.get_queue_attributes(QueueUrl=env["AUDIT_QUEUE_URL"], AttributeNames=["All"])["Attributes"]
    assert attributes["VisibilityTimeout"] == str(AUDIT_QUEUE_VISIBILITY_SECONDS)
    assert "deadLetterTargetArn" in attributes["RedrivePolicy"]
    assert sqs.get_queue_url(QueueName=FAILURE_QUEUE_NAME)["QueueUrl"]
