"""Deployment as data: the merge template matches the store, and the hand-written IAM
policies grant exactly what the check registry and the service declare, scoped to the
one table, topic, queue and parameter."""

import json
from pathlib import Path
from typing import Any

import pytest

from chalicelib.checks import required_actions
from chalicelib.infra import SERVICE_ACTIONS, render
from chalicelib.provision import QUEUE_NAME, TABLE_NAME, TOPIC_NAME
from chalicelib.store import table_definition

ROOT = Path(__file__).resolve().parents[2]
STAGES = ("dev", "prod")
SCOPED = {  # resource -> the ARNs its actions may touch
    "table": {f"arn:aws:dynamodb:*:*:table/{TABLE_NAME}", f"arn:aws:dynamodb:*:*:table/{TABLE_NAME}/index/*"},
    "topic": {f"arn:aws:sns:*:*:{TOPIC_NAME}"},
    "queue": {f"arn:aws:sqs:*:*:{QUEUE_NAME}"},
    "parameter": {"arn:aws:ssm:*:*:parameter/vpcwatch/slack-webhook-url"},
}


def _statements(stage: str) -> list[dict[str, Any]]:
    policy = json.loads((ROOT / ".chalice" / f"policy-{stage}.json").read_text())
    return list(policy["Statement"])


def _as_list(value: str | list[str]) -> list[str]:
    return [value] if isinstance(value, str) else value


def test_resources_json_is_generated() -> None:
    assert (ROOT / "resources.json").read_text() == render(), "run `make resources`"


def test_template_table_is_the_store_table() -> None:
    template = json.loads(render())
    table = template["Resources"]["FindingsTable"]["Properties"]
    for key, value in table_definition(TABLE_NAME).items():
        assert table[key] == value, key
    assert table["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
    assert table["SSESpecification"] == {"SSEEnabled": True}


@pytest.mark.parametrize("stage", STAGES)
def test_policy_grants_exactly_the_declared_actions(stage: str) -> None:
    granted = {a for s in _statements(stage) for a in _as_list(s["Action"])}
    declared = set(required_actions()) | {a for actions in SERVICE_ACTIONS.values() for a in actions}
    assert granted == declared


@pytest.mark.parametrize("stage", STAGES)
def test_policy_is_least_privilege(stage: str) -> None:
    for statement in _statements(stage):
        assert statement["Effect"] == "Allow"
        actions = _as_list(statement["Action"])
        resources = set(_as_list(statement["Resource"]))
        assert not any(a.endswith("*") for a in actions), actions  # no wildcard actions at all
        services = {a.split(":")[0] for a in actions}
        if services <= {"ec2", "sts", "xray"}:
            assert all(a.split(":")[1].startswith(("Describe", "Get", "Search", "Put")) for a in actions)
            continue
        for kind, arns in SCOPED.items():
            if set(actions) <= set(SERVICE_ACTIONS[kind]):
                assert resources == arns, statement["Sid"]
                break
        else:
            assert services == {"logs"} and resources == {"arn:aws:logs:*:*:*"}, statement


@pytest.mark.parametrize("stage", STAGES)
def test_stage_config(stage: str) -> None:
    config = json.loads((ROOT / ".chalice" / "config.json").read_text())["stages"][stage]
    assert config["autogen_policy"] is False
    assert config["iam_policy_file"] == f"policy-{stage}.json"
