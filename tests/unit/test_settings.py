import re

import pytest

from chalicelib.aws.settings import SettingsError, is_parameter_name, load_settings

BASE = {"AWS_REGION": "eu-west-1", "FINDINGS_TABLE": "t", "ALERTS_TOPIC_ARN": "arn:aws:sns:eu-west-1:1:a"}


def test_defaults_from_the_function_region() -> None:
    settings = load_settings(BASE)
    assert settings.audit_regions == ("eu-west-1",)
    assert settings.policy.traffic_type == "ALL"
    assert settings.audit_queue_url is None and settings.security_hub_export is False


def test_every_variable() -> None:
    env = {
        **BASE,
        "AUDIT_REGIONS": "us-east-1, eu-west-1,",
        "POLICY": "flow_logs: {traffic_type: REJECT}",
        "SLACK_WEBHOOK_PARAM": "/vpcwatch/slack",
        "MEMBER_ROLE_NAME": "vpcwatch-member",
        "EXTERNAL_ID": "x-1",
        "AUDIT_QUEUE_URL": "https://sqs/q",
        "SECURITY_HUB_EXPORT": "TRUE",
    }
    settings = load_settings(env)
    assert settings.audit_regions == ("us-east-1", "eu-west-1")
    assert settings.policy.traffic_type == "REJECT"
    assert (settings.slack_webhook_param, settings.member_role_name, settings.external_id) == (
        "/vpcwatch/slack",
        "vpcwatch-member",
        "x-1",
    )
    assert settings.audit_queue_url == "https://sqs/q" and settings.security_hub_export is True


def test_policy_from_a_parameter() -> None:
    asked: list[str] = []

    def read(name: str) -> str:
        asked.append(name)
        return '{"endpoints": {"gateway": ["s3"]}}'

    settings = load_settings({**BASE, "POLICY": "/vpcwatch/policy"}, read_parameter=read)
    assert asked == ["/vpcwatch/policy"] and settings.policy.gateway_endpoints == ("s3",)


@pytest.mark.parametrize(
    ("value", "is_name"),
    [
        ("/vpcwatch/policy", True),
        ("vpcwatch-policy", True),
        ("arn:aws:ssm:us-east-1:123456789012:parameter/vpcwatch/policy", True),
        ("flow_logs: {traffic_type: ALL}", False),
        ('{"severity": {}}', False),
    ],
)
def test_parameter_names_and_documents_are_told_apart(value: str, is_name: bool) -> None:
    assert is_parameter_name(value) is is_name


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({k: v for k, v in BASE.items() if k != "FINDINGS_TABLE"}, "FINDINGS_TABLE"),
        ({k: v for k, v in BASE.items() if k != "ALERTS_TOPIC_ARN"}, "ALERTS_TOPIC_ARN"),
        ({k: v for k, v in BASE.items() if k != "AWS_REGION"}, "AWS_REGION"),
        ({**BASE, "POLICY": "flow_logs: {nope: 1}"}, "POLICY"),
    ],
)
def test_errors_name_the_variable(env: dict[str, str], named: str) -> None:
    with pytest.raises(SettingsError, match=named):
        load_settings(env)


@pytest.mark.parametrize(
    ("env", "region"),
    [
        ({"AWS_REGION": "eu-west-1"}, "eu-west-1"),
        ({"AWS_DEFAULT_REGION": "eu-west-2"}, "eu-west-2"),
        ({"AWS_REGION": "eu-west-1", "AWS_DEFAULT_REGION": "eu-west-2"}, "eu-west-1"),
        ({"AWS_REGION": " ", "AWS_DEFAULT_REGION": "eu-west-2"}, "eu-west-2"),
    ],
)
def test_the_region_is_aws_region_then_aws_default_region(env: dict[str, str], region: str) -> None:
    base = {k: v for k, v in BASE.items() if k != "AWS_REGION"}
    settings = load_settings({**base, **env})
    assert settings.region == region and settings.audit_regions == (region,)


def test_no_region_names_both_variables() -> None:
    with pytest.raises(SettingsError, match=re.escape("AWS_REGION (or AWS_DEFAULT_REGION)")):
        load_settings({k: v for k, v in BASE.items() if k != "AWS_REGION"})
