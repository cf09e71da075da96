"""Partitions: every ARN vpcwatch writes names the partition of the region it audits (so of
the account audited there): findings' resource_arn, the ASFF Resources and ProductArn, the
Security Hub export and the member role it assumes. Never a hard-coded `aws`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import boto3
import botocore
import pytest

from chalicelib.aws.accounts import AssumedSessions
from chalicelib.aws.publish.securityhub import export
from chalicelib.core.audit import build_finding, partition, resource_arn
from chalicelib.core.checks import CHECK_BY_ID, REGISTRY
from chalicelib.core.model import NetworkSnapshot, Violation
from chalicelib.core.policy import Policy
from chalicelib.render.asff import product_arn, to_asff

ACCOUNT = "111122223333"
REGIONS = [
    ("us-east-1", "aws"),
    ("eu-west-1", "aws"),
    ("ap-southeast-7", "aws"),
    ("cn-north-1", "aws-cn"),
    ("cn-northwest-1", "aws-cn"),
    ("us-gov-west-1", "aws-us-gov"),
    ("us-gov-east-1", "aws-us-gov"),
    ("us-iso-east-1", "aws-iso"),
    ("us-isob-east-1", "aws-iso-b"),
    ("eu-isoe-west-1", "aws-iso-e"),
    ("us-isof-south-1", "aws-iso-f"),
    ("eusc-de-east-1", "aws-eusc"),
]


def _botocore_regions() -> list[tuple[str, str]]:
    """Every region of every partition, as the installed botocore knows them."""
    data = json.loads((Path(botocore.__file__).parent / "data" / "partitions.json").read_text())
    return [
        (region, part["id"])
        for part in data["partitions"]
        for region in part["regions"]
        if not region.endswith("-global")
    ]


@pytest.mark.parametrize(("region", "expected"), REGIONS + _botocore_regions())
def test_partition_of_each_region(region: str, expected: str) -> None:
    assert partition(region) == expected


@pytest.mark.parametrize(("region", "expected"), REGIONS)
def test_finding_arns_carry_the_partition(region: str, expected: str) -> None:
    snapshot = NetworkSnapshot(ACCOUNT, region)
    for spec in REGISTRY:
        violation = Violation("res-1", "vpc-1", "detail", {})
        finding = build_finding(spec, violation, snapshot, Policy(), "2026-11-26T03:00:00Z")
        assert finding.resource_arn == f"arn:{expected}:ec2:{region}:{ACCOUNT}:{spec.arn_kind}/res-1"
        assert finding.resource_arn == resource_arn(spec, region, ACCOUNT, "res-1")


@pytest.mark.parametrize(("region", "expected"), REGIONS)
def test_asff_resources_and_product_carry_the_partition(region: str, expected: str) -> None:
    spec = CHECK_BY_ID["private-subnet-gateway-endpoints"]
    violation = Violation("rtb-1", "vpc-1", "detail", {"service": "s3"})
    finding = build_finding(spec, violation, NetworkSnapshot(ACCOUNT, region), Policy(), "2026-11-26T03:00:00Z")
    doc = to_asff(finding)
    assert doc["ProductArn"] == f"arn:{expected}:securityhub:{region}:{ACCOUNT}:product/{ACCOUNT}/default"
    assert doc["ProductArn"] == product_arn(region, ACCOUNT)
    assert [(r["Id"], r["Partition"], r["Region"]) for r in doc["Resources"]] == [
        (f"arn:{expected}:ec2:{region}:{ACCOUNT}:route-table/rtb-1", expected, region),
        (f"arn:{expected}:ec2:{region}:{ACCOUNT}:vpc/vpc-1", expected, region),
    ]


class _SecurityHub:
    """The part of a boto3 securityhub client export uses, recording what it sends."""

    def __init__(self, region: str) -> None:
        self.meta = type("Meta", (), {"region_name": region})()
        self.sent: list[dict[str, Any]] = []

    def batch_import_findings(self, Findings: list[dict[str, Any]]) -> dict[str, Any]:
        self.sent.extend(Findings)
        return {"FailedCount": 0, "SuccessCount": len(Findings), "FailedFindings": []}


@pytest.mark.parametrize(("region", "expected"), [("cn-north-1", "aws-cn"), ("us-gov-west-1", "aws-us-gov")])
def test_security_hub_export_imports_into_the_clients_partition(region: str, expected: str) -> None:
    spec = CHECK_BY_ID["vpc-flow-logs-enabled"]
    finding = build_finding(
        spec, Violation("vpc-1", "vpc-1", "d", {}), NetworkSnapshot(ACCOUNT, region), Policy(), "2026-11-26T03:00:00Z"
    )
    client = _SecurityHub(region)
    assert export(client, [finding]).imported == 1
    (sent,) = client.sent
    assert sent["ProductArn"] == f"arn:{expected}:securityhub:{region}:{ACCOUNT}:product/{ACCOUNT}/default"
    assert sent["Resources"][0]["Id"].startswith(f"arn:{expected}:ec2:{region}:")


@pytest.mark.parametrize(("region", "expected"), REGIONS)
def test_member_role_arn_carries_the_partition(region: str, expected: str) -> None:
    sessions = AssumedSessions(
        boto3.session.Session(region_name=region), own_account=ACCOUNT, region=region, role_name="vpcwatch-member"
    )
    assert sessions.role_arn("444455556666") == f"arn:{expected}:iam::444455556666:role/vpcwatch-member"
