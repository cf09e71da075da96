import datetime as dt

import pytest

from chalicelib.core.checks import CHECK_IDS
from chalicelib.core.model import Severity
from chalicelib.core.policy import Policy, PolicyError, loads_policy, parse_policy

TODAY = dt.date(2026, 11, 26)


def test_empty_document_gives_the_defaults() -> None:
    policy = loads_policy("", CHECK_IDS)
    assert policy == Policy()
    assert policy.traffic_type == "ALL"
    assert policy.gateway_endpoints == ("s3", "dynamodb")


def test_full_yaml_document() -> None:
    policy = loads_policy(
        """
flow_logs: {traffic_type: reject}
endpoints: {gateway: [s3], interface: [ssm, ecr.api]}
trusted_accounts: [111122223333]
severity: {vpc-flow-logs-enabled: high}
exemptions:
  - {check: vpc-flow-logs-enabled, resource_id: vpc-0abc, reason: sandbox, expires: 2027-01-31}
""",
        CHECK_IDS,
    )
    assert policy.traffic_type == "REJECT"
    assert policy.gateway_endpoints == ("s3",)
    assert policy.interface_endpoints == ("ssm", "ecr.api")
    assert policy.trusted_accounts == ("111122223333",)
    assert policy.severity == {"vpc-flow-logs-enabled": Severity.HIGH}
    assert policy.exemptions[0].expires == dt.date(2027, 1, 31)


def test_json_document() -> None:
    policy = loads_policy('{"endpoints": {"interface": ["sts"]}}', CHECK_IDS)
    assert policy.interface_endpoints == ("sts",)


@pytest.mark.parametrize(
    ("document", "named"),
    [
        ("flow_log: {}", "'flow_log'"),
        ("flow_logs: {traffic: ALL}", "'traffic'"),
        ("flow_logs: {traffic_type: SOME}", "flow_logs.traffic_type"),
        ("endpoints: {gateway: [sqs]}", "'sqs'"),
        ("endpoints: {interface: ssm}", "endpoints.interface"),
        ("trusted_accounts: [1234]", "'1234'"),
        ("severity: {no-such-check: HIGH}", "'no-such-check'"),
        ("severity: {vpc-flow-logs-enabled: URGENT}", "'URGENT'"),
        ("exemptions: [{check: nope, resource_id: vpc-1, reason: x}]", "'nope'"),
        ("exemptions: [{check: vpc-flow-logs-enabled, resource_id: vpc-1}]", "exemptions[0].reason"),
        ("exemptions: [{check: vpc-flow-logs-enabled, resource_id: vpc-1, reason: x, expires: soon}]", "expires"),
        ("exemptions: [{check: vpc-flow-logs-enabled, resource_id: vpc-1, reason: x, until: 2027-01-01}]", "'until'"),
        ("[1, 2]", "expected a mapping"),
        ("flow_logs: [", "not valid YAML"),
    ],
)
def test_errors_name_the_bad_key_or_value(document: str, named: str) -> None:
    with pytest.raises(PolicyError, match=named.replace("[", r"\[").replace("]", r"\]")):
        loads_policy(document, CHECK_IDS)


@pytest.mark.parametrize(
    ("tag", "check", "exempt"),
    [
        ("all", "vpc-flow-logs-enabled", True),
        ("vpc-flow-logs-enabled", "vpc-flow-logs-enabled", True),
        ("vpc-flow-logs-traffic-type, vpc-flow-logs-enabled", "vpc-flow-logs-enabled", True),
        ("vpc-flow-logs-traffic-type", "vpc-flow-logs-enabled", False),
        (None, "vpc-flow-logs-enabled", False),
    ],
)
def test_exempt_tag(tag: str | None, check: str, exempt: bool) -> None:
    tags = {} if tag is None else {"vpcwatch:exempt": tag}
    reason = Policy().exemption_reason(check, "vpc-1", tags, TODAY)
    assert (reason is not None) is exempt
    if exempt:
        assert "vpcwatch:exempt" in str(reason)


@pytest.mark.parametrize(
    ("expires", "exempt"),
    [(None, True), ("2026-11-26", True), ("2026-11-25", False), ("2027-01-31", True)],
)
def test_file_exemption_expiry(expires: str | None, exempt: bool) -> None:
    entry = {"check": "vpc-flow-logs-enabled", "resource_id": "vpc-1", "reason": "sandbox"}
    if expires:
        entry["expires"] = expires
    policy = parse_policy({"exemptions": [entry]}, CHECK_IDS)
    reason = policy.exemption_reason("vpc-flow-logs-enabled", "vpc-1", {}, TODAY)
    assert (reason is not None) is exempt
    assert policy.exemption_reason("vpc-flow-logs-enabled", "vpc-2", {}, TODAY) is None
