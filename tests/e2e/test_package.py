"""`chalice package` with the merge template produces a template cfn-lint accepts, with
every function wired to the table, topic and queue, IAM auth on every route, and no
hard-coded partition: one template deploys to aws, aws-cn and aws-us-gov. The zip holds
the handlers, the layers of chalicelib/ and the locked runtime, and no dev tool."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from chalicelib.core.events import EVENT_NAMES
from vpcwatch_tools.infra import (
    ASYNC_FUNCTIONS,
    FUNCTIONS,
)
from vpcwatch_tools.provision import AUDIT_QUEUE_VISIBILITY_SECONDS, FAILURE_QUEUE_NAME, WORKER_TIMEOUT_SECONDS

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    out = tmp_path_factory.mktemp("package")
    chalice = Path(sys.executable).with_name("chalice")
    env = {**os.environ, "AWS_DEFAULT_REGION": "us-east-1"}
    proc = subprocess.run(
        [str(chalice), "package", "--stage", "prod", "--merge-template", "resources.json", str(out)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    path = out / "sam.json"
    assert (out / "deployment.zip").is_file()
    retarget = [sys.executable, "-m", "vpcwatch_tools.infra", "--retarget", str(path)]  # as `make package` does
    subprocess.run(retarget, cwd=ROOT, check=True, capture_output=True, timeout=60)
    return path, json.loads(path.read_text())


def test_cfn_lint_accepts_the_template(template: tuple[Path, dict[str, Any]]) -> None:
    path, _ = template
    cfn_lint = shutil.which("cfn-lint", path=str(Path(sys.executable).parent)) or "cfn-lint"
    proc = subprocess.run([cfn_lint, str(path)], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_functions_are_wired_to_the_resources(template: tuple[Path, dict[str, Any]]) -> None:
    resources = template[1]["Resources"]
    for name in FUNCTIONS:
        variables = resources[name]["Properties"]["Environment"]["Variables"]
        assert variables["FINDINGS_TABLE"] == {"Ref": "FindingsTable"}, name
        assert variables["ALERTS_TOPIC_ARN"] == {"Ref": "AlertsTopic"}, name
    pattern = resources["OnNetworkChange"]["Properties"]["Events"]["OnNetworkChangeEvent"]["Properties"]["Pattern"]
    assert pattern["detail"]["eventName"] == list(EVENT_NAMES)
    assert resources["AuditQueue"]["Properties"]["RedrivePolicy"]["maxReceiveCount"] == 3


def test_every_route_requires_iam(template: tuple[Path, dict[str, Any]]) -> None:
    paths = template[1]["Resources"]["RestAPI"]["Properties"]["DefinitionBody"]["paths"]
    assert set(paths) == {"/audits", "/findings", "/findings/{finding_id}", "/report", "/paths"}
    for path, methods in paths.items():
        for method, spec in methods.items():
            assert spec["security"] == [{"sigv4": []}], (path, method)


def _strings(value: Any) -> list[str]:
    if isinstance(value, dict):
        return [s for item in value.values() for s in _strings(item)]
    if isinstance(value, list):
        return [s for item in value for s in _strings(item)]
    return [value] if isinstance(value, str) else []


def test_no_arn_hard_codes_the_partition(template: tuple[Path, dict[str, Any]]) -> None:
    path, doc = template
    assert "arn:aws:" not in path.read_text()
    assert not [s for s in _strings(doc) if s.startswith("arn:aws")]


def test_role_policies_are_the_policy_file_with_partition_templates(template: tuple[Path, dict[str, Any]]) -> None:
    """Chalice copies .chalice/policy-prod.json into each role verbatim, Fn::Sub included."""
    policy = json.loads((ROOT / ".chalice" / "policy-prod.json").read_text())
    roles = [r for r in template[1]["Resources"].values() if r.get("Type") == "AWS::IAM::Role"]
    assert roles
    for role in roles:
        (document,) = [p["PolicyDocument"] for p in role["Properties"]["Policies"]]
        assert document == policy
        subs = [r["Fn::Sub"] for s in document["Statement"] for r in _listed(s["Resource"]) if isinstance(r, dict)]
        assert subs and all(s.startswith("arn:${AWS::Partition}:") for s in subs)


def _listed(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _zip_names(template: tuple[Path, dict[str, Any]]) -> list[str]:
    with zipfile.ZipFile(template[0].parent / "deployment.zip") as zipped:
        return zipped.namelist()


def test_the_zip_holds_the_handlers_and_the_layers(template: tuple[Path, dict[str, Any]]) -> None:
    names = set(_zip_names(template))
    assert "app.py" in names
    for layer in ("core", "aws", "service", "render"):
        assert f"chalicelib/{layer}/__init__.py" in names, layer
    assert "chalicelib/core/checks/__init__.py" in names
    # the locked runtime (requirements.txt), e.g. the policy's YAML parser and Powertools
    assert any(n.startswith("yaml/") for n in names) and any(n.startswith("aws_lambda_powertools/") for n in names)


def test_the_zip_holds_no_dev_tool(template: tuple[Path, dict[str, Any]]) -> None:
    names = _zip_names(template)
    tops = {n.split("/", 1)[0] for n in names}
    # the dev tools (demo, lab, devserver, setup, infra, docs), tests, benchmarks, emulator
    # (chalice/ itself is there: its runtime, which app.py imports)
    for top in ("vpcwatch_tools", "tests", "bench", "wip", "moto", "pytest", "hypothesis"):
        assert top not in tops, top
    tools = {p.stem for p in (ROOT / "vpcwatch_tools").glob("*.py")} - {"__init__"}
    assert tools >= {"demo", "lab", "devserver", "provision", "infra", "docs"}
    shipped = {Path(n).stem for n in names if n.startswith("chalicelib/")}
    assert not tools & shipped, tools & shipped


@pytest.fixture(scope="module")
def deployed(template: tuple[Path, dict[str, Any]], monkeypatch_module: None) -> dict[str, Any]:
    """The resources CloudFormation creates: the packaged template through the SAM
    transform (as CloudFormation and cfn-lint apply it; code at a stand-in S3 location)."""
    from samtranslator.translator.transform import transform

    class NoManagedPolicies:
        def load(self) -> dict[str, str]:
            return {}

    document = json.loads(json.dumps(template[1]))
    for resource in document["Resources"].values():
        if resource["Type"] == "AWS::Serverless::Function":
            resource["Properties"]["CodeUri"] = "s3://bucket/deployment.zip"
    return dict(transform(document, {}, NoManagedPolicies())["Resources"])


@pytest.fixture(scope="module")
def monkeypatch_module() -> Iterator[None]:
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("AWS_DEFAULT_REGION", "us-east-1")  # the transform resolves pseudo parameters
        yield


def test_failures_of_asynchronous_functions_reach_the_failure_queue(deployed: dict[str, Any]) -> None:
    """Lambda retries a failed asynchronous invocation (slack_forwarder's failed post, an
    event or sweep that raised) twice, then sends it to the failure queue; EventBridge and
    SNS send what they could not deliver there too; the roles may send to it."""
    queue = {"Fn::GetAtt": ["FailureQueue", "Arn"]}
    assert deployed["FailureQueue"]["Properties"]["QueueName"] == FAILURE_QUEUE_NAME
    configs = {
        r["Properties"]["FunctionName"]["Ref"]: r["Properties"]
        for r in deployed.values()
        if r["Type"] == "AWS::Lambda::EventInvokeConfig"
    }
    assert set(configs) == set(ASYNC_FUNCTIONS)
    for function, config in configs.items():
        assert config["DestinationConfig"] == {"OnFailure": {"Destination": queue}}, function
        assert config["MaximumRetryAttempts"] == 2 and config["Qualifier"] == "$LATEST", function
    rules = {name: r for name, r in deployed.items() if r["Type"] == "AWS::Events::Rule"}
    assert len(rules) == 2 and all(
        r["Properties"]["Targets"][0]["DeadLetterConfig"] == {"Arn": queue} for r in rules.values()
    )
    (subscription,) = [r for r in deployed.values() if r["Type"] == "AWS::SNS::Subscription"]
    assert subscription["Properties"]["Endpoint"] == {"Fn::GetAtt": ["SlackForwarder", "Arn"]}
    assert subscription["Properties"]["RedrivePolicy"] == {"deadLetterTargetArn": queue}
    (policy,) = [r for r in deployed.values() if r["Type"] == "AWS::SQS::QueuePolicy"]
    sources = [
        s["Condition"]["ArnEquals"]["aws:SourceArn"] for s in policy["Properties"]["PolicyDocument"]["Statement"]
    ]
    assert sources == [[{"Fn::GetAtt": [name, "Arn"]} for name in sorted(rules)], {"Ref": "AlertsTopic"}]
    role = deployed[deployed["SlackForwarder"]["Properties"]["Role"]["Fn::GetAtt"][0]]
    statements = role["Properties"]["Policies"][0]["PolicyDocument"]["Statement"]
    sends = [s["Resource"] for s in statements if s["Action"] == ["sqs:SendMessage"]]
    assert sends == [{"Fn::Sub": f"arn:${{AWS::Partition}}:sqs:*:*:{FAILURE_QUEUE_NAME}"}]


def test_the_worker_takes_one_message_per_invocation_within_its_timeout(deployed: dict[str, Any]) -> None:
    (mapping,) = [r["Properties"] for r in deployed.values() if r["Type"] == "AWS::Lambda::EventSourceMapping"]
    assert mapping["BatchSize"] == 1 and mapping["FunctionName"] == {"Ref": "AuditWorker"}
    assert deployed["AuditWorker"]["Properties"]["Timeout"] == WORKER_TIMEOUT_SECONDS
    visibility = deployed["AuditQueue"]["Properties"]["VisibilityTimeout"]
    assert visibility == AUDIT_QUEUE_VISIBILITY_SECONDS >= 6 * WORKER_TIMEOUT_SECONDS
