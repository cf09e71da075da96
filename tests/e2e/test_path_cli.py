"""``vpcwatch path`` as a user runs it (SPEC §7): a subprocess against a moto server, on the
lab landscape: the private subnet cannot reach S3 until a gateway endpoint is on its table."""

from __future__ import annotations

import json
import subprocess
import sys

import boto3
import pytest

from vpcwatch_tools.lab import Lab, apply_fix, build_lab, remove_default_vpc

REGION = "us-east-1"


def run_cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "chalicelib.cli", "path", *args], env=env, capture_output=True, text=True, timeout=120
    )


@pytest.fixture
def lab(aws_env: dict[str, str]) -> Lab:
    ec2 = boto3.client("ec2", region_name=REGION)
    remove_default_vpc(ec2)
    return build_lab(ec2, boto3.client("s3", region_name=REGION), REGION)


def test_private_subnet_reaches_s3_only_through_the_gateway_endpoint(lab: Lab, aws_env: dict[str, str]) -> None:
    proc = run_cli(aws_env, "--from", lab.app_private_subnet, "--to", "s3", "--format", "json")
    assert proc.returncode == 1, proc.stderr
    doc = json.loads(proc.stdout)
    assert doc["verdict"] == "unreachable"
    assert doc["blocked_at"]["resource_id"] == lab.app_private_rtb
    assert doc["blocked_at"]["type"] == "route-table"
    assert doc["source"]["subnet_id"] == lab.app_private_subnet and doc["source"]["vpc_id"] == lab.app_vpc
    assert "security groups not evaluated" in doc["notes"]

    table = run_cli(aws_env, "--from", lab.app_private_subnet, "--to", "s3")
    assert table.returncode == 1
    assert f"BLOCKED at {lab.app_private_rtb}" in table.stdout and "fix: add a gateway endpoint for s3" in table.stdout

    endpoint = apply_fix(boto3.client("ec2", region_name=REGION), lab)["VpcEndpoint"]["VpcEndpointId"]
    proc = run_cli(aws_env, "--from", lab.app_private_subnet, "--to", "s3", "--format", "json")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    doc = json.loads(proc.stdout)
    assert doc["verdict"] == "reachable" and doc["private"] is True and doc["blocked_at"] is None
    assert [(h["resource_id"], h["type"]) for h in doc["hops"] if h["type"] != "network-acl"] == [
        (lab.app_private_rtb, "route-table"),
        (endpoint, "gateway-endpoint"),
    ]


def test_peered_hub_and_the_public_subnet_and_usage_errors(lab: Lab, aws_env: dict[str, str]) -> None:
    # app -> hub over the peering, and the hub's 10.0.0.0/8 route brings the reply back.
    proc = run_cli(aws_env, "--from", lab.app_private_subnet, "--to", "10.1.0.10", "--format", "json")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    doc = json.loads(proc.stdout)
    assert lab.pcx_app_hub in [h["resource_id"] for h in doc["hops"]]
    assert lab.hub_main_rtb in [h["resource_id"] for h in doc["return_hops"]]
    # The public subnet reaches the internet through the internet gateway: not private.
    proc = run_cli(aws_env, "--from", lab.app_public_subnet, "--to", "internet", "--format", "json")
    assert proc.returncode == 0 and json.loads(proc.stdout)["private"] is False
    # A name that matches nothing is a usage error.
    proc = run_cli(aws_env, "--from", "subnet-0000000000000000f", "--to", "s3")
    assert proc.returncode == 2 and "not a subnet of the audited regions" in proc.stderr
