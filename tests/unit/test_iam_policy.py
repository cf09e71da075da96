"""The hand-written IAM policy grants exactly the EC2 actions the check registry needs."""

import json
from pathlib import Path

from chalicelib.checks import required_actions

CHALICE = Path(__file__).resolve().parents[2] / ".chalice"


def _ec2_actions(stage: str) -> set[str]:
    policy = json.loads((CHALICE / f"policy-{stage}.json").read_text())
    actions: set[str] = set()
    for statement in policy["Statement"]:
        assert statement["Effect"] == "Allow"
        listed = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        actions.update(a for a in listed if a.startswith("ec2:"))
    return actions


def test_dev_policy_grants_exactly_the_registry_actions() -> None:
    assert _ec2_actions("dev") == set(required_actions())


def test_every_ec2_action_is_read_only() -> None:
    for action in _ec2_actions("dev"):
        verb = action.split(":", 1)[1]
        assert verb.startswith(("Describe", "Get", "Search")), action


def test_app_imports_without_aws() -> None:
    from app import app

    assert app.app_name == "vpcwatch"
