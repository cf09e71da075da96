"""SARIF 2.1.0: one rule per registered check, one result per finding, fingerprinted by
the finding id so code-scanning UIs deduplicate across runs.

Each result carries its own fix in ``properties.fix`` (console step, AWS CLI commands,
Terraform, CloudFormation; see ``chalicelib.core.fixes``) and the commands in its message's
markdown. SARIF's ``fixes`` are not used: they are replacements of regions of files
(``artifactChanges``), and a finding's location is an AWS resource (its ARN), not a file; a
Terraform plan's JSON does not carry source positions either, so no honest file edit can be
expressed."""

from __future__ import annotations

import json
from typing import Any

from chalicelib.core.audit import AuditResult
from chalicelib.core.checks import REGISTRY, CheckSpec
from chalicelib.core.fixes import Fix, fix_for
from chalicelib.core.model import Finding, Severity

SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
LEVEL = {
    Severity.CRITICAL: "error",
    Severity.HIGH: "error",
    Severity.MEDIUM: "warning",
    Severity.LOW: "note",
    Severity.INFORMATIONAL: "note",
}
# GitHub's security-severity scale (0-10) for each severity.
SECURITY_SEVERITY = {
    Severity.CRITICAL: "9.5",
    Severity.HIGH: "8.0",
    Severity.MEDIUM: "5.5",
    Severity.LOW: "3.0",
    Severity.INFORMATIONAL: "0.0",
}


def _rule(spec: CheckSpec) -> dict[str, Any]:
    refs = [*(f"Security Hub {c}" for c in spec.security_hub), *(f"CIS {c}" for c in spec.cis)]
    return {
        "id": spec.id,
        "name": "".join(part.title() for part in spec.id.split("-")),
        "shortDescription": {"text": spec.title},
        "fullDescription": {"text": f"{spec.title} ({spec.resource_type})."},
        "help": {"text": f"{spec.remediation}\nAWS CLI: {spec.cli}"},
        "defaultConfiguration": {"level": LEVEL[spec.severity]},
        "properties": {
            "security-severity": SECURITY_SEVERITY[spec.severity],
            "tags": ["security", "aws", "vpc", *refs],
        },
    }


def _message(finding: Finding, fix: Fix) -> dict[str, Any]:
    if not fix.cli:
        return {"text": finding.detail}
    commands = "\n".join(fix.cli)
    return {"text": f"{finding.detail} Fix: {fix.cli_text}", "markdown": f"{finding.detail}\n\n```sh\n{commands}\n```"}


def _result(finding: Finding, index: int) -> dict[str, Any]:
    fix = fix_for(finding)
    return {
        "ruleId": finding.check,
        "ruleIndex": index,
        "level": LEVEL[finding.severity],
        "message": _message(finding, fix),
        "locations": [
            {
                "physicalLocation": {"artifactLocation": {"uri": finding.resource_arn}},
                "logicalLocations": [
                    {"name": finding.resource_id, "fullyQualifiedName": finding.resource_arn, "kind": "resource"}
                ],
            }
        ],
        "partialFingerprints": {"vpcwatchFindingId/v1": finding.id},
        "properties": {
            "severity": finding.severity.name,
            "account_id": finding.account_id,
            "region": finding.region,
            "vpc_id": finding.vpc_id,
            "evidence": dict(finding.evidence),
            "fix": fix.to_dict(),
        },
    }


def to_sarif(result: AuditResult) -> dict[str, Any]:
    index = {spec.id: n for n, spec in enumerate(REGISTRY)}
    suppressed = [
        {**_result(f, index[f.check]), "suppressions": [{"kind": "external", "justification": f.reason or ""}]}
        for f in result.suppressed
    ]
    return {
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "vpcwatch",
                        "version": "0.1.0",
                        "rules": [_rule(spec) for spec in REGISTRY],
                    }
                },
                "invocations": [
                    {
                        "executionSuccessful": result.complete,
                        "startTimeUtc": result.started_at,
                        "toolExecutionNotifications": [
                            {"level": "error", "message": {"text": f"{e.action} failed in {e.region}: {e.code}"}}
                            for s in result.snapshots
                            for e in s.errors
                        ],
                    }
                ],
                "results": [_result(f, index[f.check]) for f in result.findings] + suppressed,
            }
        ],
    }


def render(result: AuditResult) -> str:
    return json.dumps(to_sarif(result), indent=2) + "\n"
