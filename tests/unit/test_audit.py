"""The evaluation mechanics (not-evaluated, exemptions, scope, ids, JSON shape), with a
registry of test checks so these tests do not depend on any real rule."""

import datetime as dt
import json
from collections.abc import Iterator

import pytest

from chalicelib.core import audit
from chalicelib.core.audit import evaluate, run_audit
from chalicelib.core.checks import REGISTRY, CheckSpec
from chalicelib.core.model import CollectionError, NetworkSnapshot, Severity, Violation, Vpc
from chalicelib.core.policy import Policy, parse_policy
from chalicelib.render import RENDERERS

NOW = dt.datetime(2026, 11, 26, 3, 0, tzinfo=dt.UTC)


def _violations(snapshot: NetworkSnapshot, policy: Policy) -> Iterator[Violation]:
    for vpc in snapshot.vpcs:
        yield Violation(vpc.vpc_id, vpc.vpc_id, f"{vpc.vpc_id} is bad", {"service": "s3"})
    yield Violation("tgw-1", None, "a regional resource", {})


def _subjects(snapshot: NetworkSnapshot) -> frozenset[str]:
    return frozenset([*(v.vpc_id for v in snapshot.vpcs if snapshot.in_scope(v.vpc_id)), "tgw-1"])


SPEC = CheckSpec(
    id="vpc-flow-logs-enabled",
    title="t",
    resource_type="AWS::EC2::VPC",
    arn_kind="vpc",
    severity=Severity.MEDIUM,
    fn=_violations,
    needs=("ec2:DescribeVpcs",),
    subjects=_subjects,
    remediation="do it",
    cli="aws ec2 do-it",
)
OTHER = CheckSpec(**{**SPEC.__dict__, "id": "tgw-auto-accept-disabled", "needs": ("ec2:DescribeTransitGateways",)})


@pytest.fixture(autouse=True)
def registry(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(audit, "REGISTRY", (SPEC, OTHER))


def snap(**kw: object) -> NetworkSnapshot:
    vpcs = (Vpc("vpc-a", "111122223333", ("10.0.0.0/16",)), Vpc("vpc-b", "111122223333", ("10.1.0.0/16",)))
    return NetworkSnapshot(account_id="111122223333", region="eu-west-1", vpcs=vpcs, **kw)  # type: ignore[arg-type]


def test_failed_data_makes_the_check_not_evaluated_and_never_passing() -> None:
    error = CollectionError("ec2:DescribeTransitGateways", "eu-west-1", "AccessDenied")
    result = evaluate(snap(errors=(error,)), Policy(), NOW)
    assert {f.check for f in result.findings} == {"vpc-flow-logs-enabled"}
    assert [(n.check, n.missing) for n in result.not_evaluated] == [
        ("tgw-auto-accept-disabled", ("ec2:DescribeTransitGateways",))
    ]


def test_scope_keeps_scoped_vpcs_and_regional_resources() -> None:
    result = evaluate(snap(scope_vpc_ids=("vpc-b",)), Policy(), NOW)
    assert sorted({f.resource_id for f in result.findings}) == ["tgw-1", "vpc-b"]


def test_exemptions_by_file_and_tag_are_suppressed_with_reason() -> None:
    tagged = Vpc("vpc-t", "111122223333", ("10.2.0.0/16",), tags={"vpcwatch:exempt": "vpc-flow-logs-enabled"})
    snapshot = NetworkSnapshot(account_id="111122223333", region="eu-west-1", vpcs=(tagged, *snap().vpcs))
    policy = parse_policy(
        {"exemptions": [{"check": "vpc-flow-logs-enabled", "resource_id": "vpc-a", "reason": "sandbox"}]},
        known_checks={"vpc-flow-logs-enabled"},
    )
    result = evaluate(snapshot, policy, NOW)
    suppressed = {f.resource_id: f for f in result.suppressed if f.check == "vpc-flow-logs-enabled"}
    assert set(suppressed) == {"vpc-a", "vpc-t"}
    assert suppressed["vpc-a"].reason == "policy exemption: sandbox"
    assert "vpcwatch:exempt" in (suppressed["vpc-t"].reason or "")
    assert all(f.status == "SUPPRESSED" for f in suppressed.values())
    assert "vpc-b" in {f.resource_id for f in result.findings}


def test_severity_override_and_finding_fields() -> None:
    policy = parse_policy({"severity": {"vpc-flow-logs-enabled": "critical"}}, known_checks={"vpc-flow-logs-enabled"})
    finding = next(f for f in evaluate(snap(), policy, NOW).findings if f.resource_id == "vpc-a")
    assert finding.severity is Severity.CRITICAL
    assert finding.resource_arn == "arn:aws:ec2:eu-west-1:111122223333:vpc/vpc-a"
    assert finding.first_seen == finding.last_seen == "2026-11-26T03:00:00Z"
    # The finding's own fix (chalicelib.core.fixes), not the check's generic text with placeholders.
    assert finding.remediation.endswith(
        "CLI: aws ec2 create-flow-logs --region eu-west-1 --resource-type VPC --resource-ids vpc-a --traffic-type ALL "
        "--log-destination-type s3 --log-destination arn:aws:s3:::<flow-logs-bucket>"
    )


def test_ids_are_deterministic_and_distinguish_service() -> None:
    first = {f.resource_id: f.id for f in evaluate(snap(), Policy(), NOW).findings}
    again = {f.resource_id: f.id for f in evaluate(snap(), Policy(), NOW + dt.timedelta(days=1)).findings}
    assert first == again
    assert len(set(first.values())) == len(first)


def test_json_document_has_exactly_the_spec_fields() -> None:
    result = run_audit(
        lambda region: snap(api_calls=7),
        account_id="111122223333",
        regions=["eu-west-1"],
        policy=Policy(),
        clock=lambda: NOW,
    )
    doc = json.loads(RENDERERS["json"](result))
    assert set(doc) == {"audit", "findings", "suppressed"}
    assert set(doc["audit"]) == {
        "account_id",
        "regions",
        "scope",
        "started_at",
        "duration_ms",
        "api_calls",
        "resources",
        "errors",
        "not_evaluated",
    }
    assert doc["audit"]["api_calls"] == 7
    assert doc["audit"]["scope"] == {"vpc_ids": []}
    assert doc["audit"]["started_at"] == "2026-11-26T03:00:00Z"
    assert doc["audit"]["resources"]["vpcs"] == 2
    assert set(doc["findings"][0]) == {
        "id",
        "check",
        "severity",
        "account_id",
        "region",
        "resource_type",
        "resource_id",
        "resource_arn",
        "vpc_id",
        "title",
        "detail",
        "remediation",
        "evidence",
        "first_seen",
        "last_seen",
        "status",
    }
    assert {f["vpc_id"] for f in doc["findings"]} == {"vpc-a", "vpc-b", None}


def test_real_registry_ids_are_the_spec_ones() -> None:
    assert [s.id for s in REGISTRY] == [
        "vpc-flow-logs-enabled", "vpc-flow-logs-traffic-type", "vpc-flow-logs-delivering",
        "private-subnet-gateway-endpoints", "required-interface-endpoints", "interface-endpoint-private-dns",
        "endpoint-service-acceptance-required", "endpoint-service-trusted-principals",
        "peering-cidrs-non-overlapping", "connected-cidrs-non-overlapping", "peering-routes-least-access",
        "route-destinations-non-overlapping", "routes-return-path", "reachability-intent",
        "routes-no-blackhole", "tgw-routes-non-overlapping",
        "tgw-auto-accept-disabled", "client-vpn-connection-logging", "client-vpn-no-authorize-all",
    ]  # fmt: skip
    severities = {s.id: s.severity.name for s in REGISTRY}
    assert severities["peering-cidrs-non-overlapping"] == "HIGH"
    assert severities["vpc-flow-logs-traffic-type"] == "LOW"
    assert severities["tgw-auto-accept-disabled"] == "HIGH"
    assert severities["routes-return-path"] == "MEDIUM"
    assert severities["reachability-intent"] == "HIGH"
