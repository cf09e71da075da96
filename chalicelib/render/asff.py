"""AWS Security Finding Format (ASFF, schema 2018-10-08): what Security Hub imports.

One ASFF finding per vpcwatch finding, under the account's private integration
(``arn:<partition>:securityhub:<region>:<account>:product/<account>/default``), with the
same ``Id`` on every run (the finding id), so each import updates the finding Security
Hub already has. Its state follows the finding's lifecycle:

| vpcwatch status | Compliance.Status | RecordState | Workflow.Status (on creation) |
|---|---|---|---|
| OPEN | FAILED | ACTIVE | NEW |
| SUPPRESSED (exempt) | FAILED | ACTIVE | SUPPRESSED |
| RESOLVED | PASSED | ARCHIVED | RESOLVED |

``UpdatedAt`` is the time of the finding's last change (``resolved_at`` once resolved,
else ``last_seen``), so it increases with every change, as Security Hub requires of an
update; a retried import of the same state carries the same time and changes nothing.

``--format asff`` prints a JSON list of findings: what ``aws securityhub
batch-import-findings --findings file://…`` takes (in batches of 100).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from chalicelib.core.audit import AuditResult, partition
from chalicelib.core.checks import CHECK_BY_ID
from chalicelib.core.fixes import fix_for
from chalicelib.core.model import Finding

SCHEMA_VERSION = "2018-10-08"
PRODUCT_NAME = "vpcwatch"
BEST_PRACTICES = "Software and Configuration Checks/AWS Security Best Practices"
CIS = "Software and Configuration Checks/Industry and Regulatory Standards/CIS AWS Foundations Benchmark"
# CloudFormation type -> ASFF resource type; what ASFF has no type for is "Other".
RESOURCE_TYPES = {
    "AWS::EC2::VPC": "AwsEc2Vpc",
    "AWS::EC2::RouteTable": "AwsEc2RouteTable",
    "AWS::EC2::VPCPeeringConnection": "AwsEc2VpcPeeringConnection",
    "AWS::EC2::TransitGateway": "AwsEc2TransitGateway",
    "AWS::EC2::VPCEndpointService": "AwsEc2VpcEndpointService",
    "AWS::EC2::ClientVpnEndpoint": "AwsEc2ClientVpnEndpoint",
    "AWS::EC2::Subnet": "AwsEc2Subnet",
}
OTHER = "Other"
# Limits of the ASFF fields (characters).
TITLE_MAX, DESCRIPTION_MAX, RECOMMENDATION_MAX, FIELD_MAX = 256, 1024, 512, 2048
STATE = {
    "OPEN": ("FAILED", "ACTIVE", "NEW"),
    "SUPPRESSED": ("FAILED", "ACTIVE", "SUPPRESSED"),
    "RESOLVED": ("PASSED", "ARCHIVED", "RESOLVED"),
}


def product_arn(region: str, account_id: str) -> str:
    """The ARN of the account's private integration (the default product)."""
    return f"arn:{partition(region)}:securityhub:{region}:{account_id}:product/{account_id}/default"


def updated_at(finding: Finding) -> str:
    """When the finding last changed: increases with each change of its state."""
    if finding.status == "RESOLVED" and finding.resolved_at:
        return max(finding.resolved_at, finding.last_seen)
    return finding.last_seen


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _types(check: str) -> list[str]:
    spec = CHECK_BY_ID.get(check)
    types = [BEST_PRACTICES]
    if spec is not None and spec.cis:
        types.append(CIS)
    return types


def _requirements(check: str) -> list[str]:
    spec = CHECK_BY_ID.get(check)
    if spec is None:
        return []
    return [
        *(f"Security Hub {c}" for c in spec.security_hub),
        *(f"AWS Config {c}" for c in spec.config_rule),
        *(f"CIS AWS Foundations Benchmark {c}" for c in spec.cis),
    ]


def _resources(finding: Finding) -> list[dict[str, Any]]:
    region, part = finding.region, partition(finding.region)
    resources = [
        {
            "Type": RESOURCE_TYPES.get(finding.resource_type, OTHER),
            "Id": finding.resource_arn,
            "Partition": part,
            "Region": region,
        }
    ]
    if finding.vpc_id and finding.vpc_id != finding.resource_id:
        resources.append(
            {
                "Type": "AwsEc2Vpc",
                "Id": f"arn:{part}:ec2:{region}:{finding.account_id}:vpc/{finding.vpc_id}",
                "Partition": part,
                "Region": region,
            }
        )
    return resources


def to_asff(finding: Finding, *, region: str | None = None, account_id: str | None = None) -> dict[str, Any]:
    """One ASFF finding. ``region`` and ``account_id`` name the Security Hub that imports it
    (the product ARN's): by default the finding's own."""
    compliance, record_state, workflow = STATE.get(finding.status, STATE["OPEN"])
    fields = {
        "ProviderName": PRODUCT_NAME,
        "vpcwatch/check": finding.check,
        "vpcwatch/status": finding.status,
        "vpcwatch/resourceId": finding.resource_id,
        "vpcwatch/evidence": _cut(json.dumps(dict(finding.evidence), sort_keys=True, default=str), FIELD_MAX),
    }
    if finding.vpc_id:
        fields["vpcwatch/vpcId"] = finding.vpc_id
    cli = fix_for(finding).cli_text
    if cli:  # the whole command (Recommendation.Text stops at 512 characters)
        fields["vpcwatch/cli"] = _cut(cli, FIELD_MAX)
    if finding.reason:
        fields["vpcwatch/suppressedReason"] = _cut(finding.reason, FIELD_MAX)
    if finding.resolved_at:
        fields["vpcwatch/resolvedAt"] = finding.resolved_at
    compliance_doc: dict[str, Any] = {"Status": compliance}
    requirements = _requirements(finding.check)
    if requirements:
        compliance_doc["RelatedRequirements"] = requirements
    return {
        "SchemaVersion": SCHEMA_VERSION,
        "Id": finding.id,
        "ProductArn": product_arn(region or finding.region, account_id or finding.account_id),
        "ProductName": PRODUCT_NAME,
        "CompanyName": PRODUCT_NAME,
        "GeneratorId": finding.check,
        "AwsAccountId": finding.account_id,
        "Types": _types(finding.check),
        "CreatedAt": finding.first_seen,
        "UpdatedAt": updated_at(finding),
        "FirstObservedAt": finding.first_seen,
        "LastObservedAt": finding.last_seen,
        "Severity": {"Label": finding.severity.name, "Original": finding.severity.name},
        "Title": _cut(finding.title, TITLE_MAX),
        "Description": _cut(finding.detail, DESCRIPTION_MAX),
        "Remediation": {"Recommendation": {"Text": _cut(finding.remediation, RECOMMENDATION_MAX)}},
        "ProductFields": fields,
        "Resources": _resources(finding),
        "Compliance": compliance_doc,
        "RecordState": record_state,
        "Workflow": {"Status": workflow},
    }


def to_asff_list(findings: Iterable[Finding]) -> list[dict[str, Any]]:
    return [to_asff(f) for f in findings]


def render(result: AuditResult) -> str:
    """The audit's findings and suppressed findings, as a JSON list of ASFF findings."""
    return json.dumps(to_asff_list([*result.findings, *result.suppressed]), indent=2) + "\n"
