"""ASFF: each finding as Security Hub imports it, checked against the BatchImportFindings
model botocore ships (required members, types, enums, patterns), and its lifecycle
(FAILED/ACTIVE -> PASSED/ARCHIVED -> FAILED/ACTIVE, UpdatedAt increasing)."""

from __future__ import annotations

import json
import re
from dataclasses import replace
from typing import Any

import botocore.session
import pytest
from botocore.exceptions import ParamValidationError
from botocore.model import ListShape, MapShape, Shape, StructureShape
from botocore.validate import ParamValidator

from chalicelib.core.audit import AuditResult, build_finding
from chalicelib.core.checks import CHECK_BY_ID, REGISTRY
from chalicelib.core.fixes import fix_for
from chalicelib.core.lifecycle import transition
from chalicelib.core.model import Finding, NetworkSnapshot, Severity, Violation
from chalicelib.core.policy import Policy
from chalicelib.render import RENDERERS
from chalicelib.render.asff import BEST_PRACTICES, CIS, DESCRIPTION_MAX, product_arn, to_asff, updated_at

ACCOUNT = "111122223333"
SNAP = NetworkSnapshot(account_id=ACCOUNT, region="eu-west-1")
EXPECTED_TYPES = {
    "AWS::EC2::VPC": "AwsEc2Vpc",
    "AWS::EC2::RouteTable": "AwsEc2RouteTable",
    "AWS::EC2::VPCPeeringConnection": "AwsEc2VpcPeeringConnection",
    "AWS::EC2::TransitGateway": "AwsEc2TransitGateway",
    "AWS::EC2::VPCEndpointService": "AwsEc2VpcEndpointService",
    "AWS::EC2::ClientVpnEndpoint": "AwsEc2ClientVpnEndpoint",
    "AWS::EC2::Subnet": "AwsEc2Subnet",
    "AWS::EC2::VPCEndpoint": "Other",
    "AWS::EC2::FlowLog": "Other",
    "AWS::EC2::TransitGatewayRouteTable": "Other",
}


def finding(check: str = "private-subnet-gateway-endpoints", resource: str = "rtb-0a1", now: str = "t0") -> Finding:
    violation = Violation(resource, "vpc-0v1", f"{resource} fails {check}", {"service": "s3"})
    return build_finding(CHECK_BY_ID[check], violation, SNAP, Policy(), now)


@pytest.fixture(scope="module")
def finding_shape() -> StructureShape:
    model = botocore.session.get_session().get_service_model("securityhub")
    shape = model.operation_model("BatchImportFindings").input_shape.members["Findings"]
    assert isinstance(shape, ListShape) and isinstance(shape.member, StructureShape)
    return shape.member


def model_errors(value: Any, shape: Shape, path: str = "") -> list[str]:
    """What botocore's validator does not check: enums and patterns, recursively."""
    errors = []
    if isinstance(shape, StructureShape):
        for key, item in value.items():
            if key not in shape.members:
                errors.append(f"{path}.{key}: not in the model")
            else:
                errors += model_errors(item, shape.members[key], f"{path}.{key}")
    elif isinstance(shape, ListShape):
        for n, item in enumerate(value):
            errors += model_errors(item, shape.member, f"{path}[{n}]")
    elif isinstance(shape, MapShape):
        for key, item in value.items():
            errors += model_errors(item, shape.value, f"{path}[{key}]")
    elif shape.type_name == "string":
        if shape.enum and value not in shape.enum:
            errors.append(f"{path}: {value!r} not one of {shape.enum}")
        pattern = shape.metadata.get("pattern")
        if pattern and not re.fullmatch(pattern, value, re.S):
            errors.append(f"{path}: {value!r} does not match {pattern}")
    return errors


def assert_valid(doc: dict[str, Any], shape: StructureShape) -> None:
    report = ParamValidator().validate(doc, shape)
    assert not report.has_errors(), report.generate_report()
    assert model_errors(doc, shape) == []


def test_an_open_finding(finding_shape: StructureShape) -> None:
    f = finding(now="2026-11-26T03:00:00Z")
    doc = to_asff(f)
    assert_valid(doc, finding_shape)
    assert doc["SchemaVersion"] == "2018-10-08"
    assert doc["Id"] == f.id
    assert doc["ProductArn"] == f"arn:aws:securityhub:eu-west-1:{ACCOUNT}:product/{ACCOUNT}/default"
    assert doc["GeneratorId"] == "private-subnet-gateway-endpoints"
    assert doc["AwsAccountId"] == ACCOUNT
    assert doc["Types"] == [BEST_PRACTICES]
    assert doc["Severity"] == {"Label": "MEDIUM", "Original": "MEDIUM"}
    assert doc["Compliance"] == {"Status": "FAILED"}
    assert doc["RecordState"] == "ACTIVE" and doc["Workflow"] == {"Status": "NEW"}
    assert doc["CreatedAt"] == doc["FirstObservedAt"] == "2026-11-26T03:00:00Z"
    assert doc["UpdatedAt"] == doc["LastObservedAt"] == "2026-11-26T03:00:00Z"
    assert doc["Title"] == f.title and doc["Description"] == f.detail
    assert doc["Remediation"]["Recommendation"]["Text"].startswith(fix_for(f).console)
    assert doc["ProductFields"]["vpcwatch/cli"] == (
        "aws ec2 create-vpc-endpoint --region eu-west-1 --vpc-id vpc-0v1 --vpc-endpoint-type Gateway "
        "--service-name com.amazonaws.eu-west-1.s3 --route-table-ids rtb-0a1"
    )
    assert doc["Resources"] == [
        {"Type": "AwsEc2RouteTable", "Id": f.resource_arn, "Partition": "aws", "Region": "eu-west-1"},
        {
            "Type": "AwsEc2Vpc",
            "Id": f"arn:aws:ec2:eu-west-1:{ACCOUNT}:vpc/vpc-0v1",
            "Partition": "aws",
            "Region": "eu-west-1",
        },
    ]
    assert json.loads(doc["ProductFields"]["vpcwatch/evidence"]) == {"service": "s3"}
    assert doc["ProductFields"]["vpcwatch/vpcId"] == "vpc-0v1"


@pytest.mark.parametrize("spec", REGISTRY, ids=lambda s: s.id)
def test_every_check_maps_to_a_valid_finding(spec: Any, finding_shape: StructureShape) -> None:
    resource = {"vpc": "vpc-0v1"}.get(spec.arn_kind, "res-0a1")
    doc = to_asff(finding(spec.id, resource))
    assert_valid(doc, finding_shape)
    assert doc["GeneratorId"] == spec.id
    assert doc["Resources"][0]["Type"] == EXPECTED_TYPES[spec.resource_type]
    assert doc["Resources"][0]["Id"] == f"arn:aws:ec2:eu-west-1:{ACCOUNT}:{spec.arn_kind}/{resource}"
    assert len(doc["Resources"]) == (1 if resource == "vpc-0v1" else 2)
    assert (CIS in doc["Types"]) == bool(spec.cis)
    requirements = doc["Compliance"].get("RelatedRequirements", [])
    assert all(any(c in r for r in requirements) for c in (*spec.security_hub, *spec.cis))


def test_the_model_check_fails_on_a_wrong_shape(finding_shape: StructureShape) -> None:
    doc = to_asff(finding())
    for broken in (
        {**doc, "RecordState": "RESOLVED"},
        {**doc, "Severity": {"Label": "SEVERE"}},
        {**doc, "Compliance": {"Status": "OK"}},
        {**doc, "Title": "   "},
    ):
        assert model_errors(broken, finding_shape)
    missing = {k: v for k, v in doc.items() if k != "Resources"}
    assert ParamValidator().validate(missing, finding_shape).has_errors()
    with pytest.raises(ParamValidationError):
        botocore.session.get_session().create_client(
            "securityhub", region_name="eu-west-1", aws_access_key_id="x", aws_secret_access_key="x"
        ).batch_import_findings(Findings=[{**doc, "Severity": "HIGH"}])


def test_lifecycle_failed_archived_reopened_with_updated_at_increasing(finding_shape: StructureShape) -> None:
    observed = finding()
    opened = transition(None, observed, "2026-11-26T03:00:00Z")
    assert opened is not None
    resolved = transition(opened.finding, None, "2026-11-26T04:00:00Z")
    assert resolved is not None
    reopened = transition(resolved.finding, observed, "2026-11-26T05:00:00Z")
    assert reopened is not None
    docs = [to_asff(step.finding) for step in (opened, resolved, reopened)]
    for doc in docs:
        assert_valid(doc, finding_shape)
    assert [d["Compliance"]["Status"] for d in docs] == ["FAILED", "PASSED", "FAILED"]
    assert [d["RecordState"] for d in docs] == ["ACTIVE", "ARCHIVED", "ACTIVE"]
    assert [d["Workflow"]["Status"] for d in docs] == ["NEW", "RESOLVED", "NEW"]
    stamps = [d["UpdatedAt"] for d in docs]
    assert stamps == sorted(stamps) and len(set(stamps)) == 3
    assert {d["CreatedAt"] for d in docs} == {"2026-11-26T03:00:00Z"}
    assert {d["Id"] for d in docs} == {observed.id}
    assert docs[1]["ProductFields"]["vpcwatch/resolvedAt"] == "2026-11-26T04:00:00Z"


def test_suppressed_findings_stay_failed_and_say_why() -> None:
    doc = to_asff(replace(finding(), status="SUPPRESSED", reason="policy exemption: sandbox"))
    assert doc["Compliance"]["Status"] == "FAILED" and doc["RecordState"] == "ACTIVE"
    assert doc["Workflow"] == {"Status": "SUPPRESSED"}
    assert doc["ProductFields"]["vpcwatch/suppressedReason"] == "policy exemption: sandbox"


def test_limits_partitions_and_the_importing_account() -> None:
    long = replace(finding(), detail="x" * 5000, region="cn-north-1")
    doc = to_asff(long, region="cn-northwest-1", account_id="999988887777")
    assert len(doc["Description"]) == DESCRIPTION_MAX
    assert doc["ProductArn"] == "arn:aws-cn:securityhub:cn-northwest-1:999988887777:product/999988887777/default"
    assert doc["AwsAccountId"] == ACCOUNT
    assert doc["Resources"][1]["Partition"] == "aws-cn"
    assert product_arn("us-gov-west-1", "1").startswith("arn:aws-us-gov:securityhub:us-gov-west-1:1:")


def test_updated_at_of_a_resolved_finding_is_its_resolution() -> None:
    f = replace(finding(now="2026-11-26T03:00:00Z"), status="RESOLVED", resolved_at="2026-11-26T09:00:00Z")
    assert updated_at(f) == "2026-11-26T09:00:00Z"
    assert updated_at(replace(f, status="OPEN", resolved_at=None)) == "2026-11-26T03:00:00Z"


def test_render_is_a_list_of_the_findings_and_suppressed_findings(finding_shape: StructureShape) -> None:
    high = finding("tgw-auto-accept-disabled", "tgw-0a1")
    exempt = replace(finding("vpc-flow-logs-enabled", "vpc-0v1"), status="SUPPRESSED", reason="sandbox")
    result = AuditResult(ACCOUNT, ("eu-west-1",), (), "2026-11-26T03:00:00Z", 1, (SNAP,), (high,), (exempt,), ())
    docs = json.loads(RENDERERS["asff"](result))
    assert isinstance(docs, list) and [d["Id"] for d in docs] == [high.id, exempt.id]
    assert docs[0]["Severity"]["Label"] == Severity.HIGH.name
    assert docs == [to_asff(high), to_asff(exempt)]
    for doc in docs:
        assert_valid(doc, finding_shape)
