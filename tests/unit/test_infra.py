"""Deployment as data: the merge template matches the store, the hand-written IAM
policies grant exactly what the check registry and the service declare, scoped to the
one table, topic, queues, parameter path and member role, and the member role template
grants exactly the registry's read-only actions to the auditor that presents the external
id. Every asynchronously invoked function sends what it failed to process to the failure
queue. Every ARN names its partition as ${AWS::Partition}, never a hard-coded `aws`."""

import fnmatch
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from chalicelib.aws.store.table import table_definition
from chalicelib.core.checks import read_actions
from vpcwatch_tools.infra import (
    ASYNC_FUNCTIONS,
    EVENT_LOOKUP_ACTIONS,
    EVENT_RULES,
    FUNCTIONS,
    MEMBER_ROLE_ARN,
    MEMBER_ROLE_NAME,
    POLICY_PARAMETER,
    SERVICE_ACTIONS,
    SLACK_PARAMETER,
    member_role_actions,
    render,
    render_member_role,
    resolve_partition,
)
from vpcwatch_tools.provision import (
    AUDIT_QUEUE_VISIBILITY_SECONDS,
    FAILURE_QUEUE_NAME,
    QUEUE_NAME,
    TABLE_NAME,
    TOPIC_NAME,
    WORKER_TIMEOUT_SECONDS,
)

ROOT = Path(__file__).resolve().parents[2]
STAGES = ("dev", "prod")
P = "${AWS::Partition}"
SCOPED = {  # resource -> the ARNs its actions may touch (Fn::Sub templates)
    "table": {f"arn:{P}:dynamodb:*:*:table/{TABLE_NAME}", f"arn:{P}:dynamodb:*:*:table/{TABLE_NAME}/index/*"},
    "topic": {f"arn:{P}:sns:*:*:{TOPIC_NAME}"},
    "queue": {f"arn:{P}:sqs:*:*:{QUEUE_NAME}"},
    "failures": {f"arn:{P}:sqs:*:*:{FAILURE_QUEUE_NAME}"},  # send only: Lambda's on-failure destination
    "parameter": {f"arn:{P}:ssm:*:*:parameter/vpcwatch/*"},  # the Slack webhook URL and a POLICY parameter
    "member_role": {MEMBER_ROLE_ARN},
    "securityhub": {f"arn:{P}:securityhub:*:*:product/*/default"},  # the private integration's product
}
PARTITIONS = ("aws", "aws-cn", "aws-us-gov")
READ_ONLY_SERVICES = {"ec2", "sts", "xray", "organizations"}
READ_ONLY_PREFIXES = ("Describe", "Get", "Search", "List", "Put")  # Put: X-Ray telemetry only


def _statements(stage: str) -> list[dict[str, Any]]:
    policy = json.loads((ROOT / ".chalice" / f"policy-{stage}.json").read_text())
    return list(policy["Statement"])


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _resources(statement: dict[str, Any]) -> set[str]:
    """The statement's resources: '*', or the template of each {"Fn::Sub": ...} ARN."""
    resources = set()
    for resource in _as_list(statement["Resource"]):
        if isinstance(resource, dict):
            assert list(resource) == ["Fn::Sub"] and isinstance(resource["Fn::Sub"], str), resource
            resource = resource["Fn::Sub"]
        else:
            assert resource == "*", f"{statement['Sid']}: an ARN must be an Fn::Sub of ${{AWS::Partition}}"
        resources.add(resource)
    return resources


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
    declared = set(read_actions()) | {a for actions in SERVICE_ACTIONS.values() for a in actions}
    assert granted == declared


@pytest.mark.parametrize("stage", STAGES)
def test_policy_is_least_privilege(stage: str) -> None:
    for statement in _statements(stage):
        assert statement["Effect"] == "Allow"
        actions = _as_list(statement["Action"])
        resources = _resources(statement)
        assert not any(a.endswith("*") for a in actions), actions  # no wildcard actions at all
        services = {a.split(":")[0] for a in actions}
        kinds = [kind for kind in SCOPED if set(actions) <= set(SERVICE_ACTIONS[kind])]
        if kinds:  # a scoped resource's actions: on exactly that resource
            assert [k for k in kinds if resources == SCOPED[k]], (statement["Sid"], resources)
        else:
            if services <= READ_ONLY_SERVICES:
                assert all(a.split(":")[1].startswith(READ_ONLY_PREFIXES) for a in actions), statement["Sid"]
                assert all(a.startswith("xray:") for a in actions if a.split(":")[1].startswith("Put")), actions
            else:
                assert services == {"logs"} and resources == {f"arn:{P}:logs:*:*:*"}, statement


@pytest.mark.parametrize("stage", STAGES)
def test_stage_config(stage: str) -> None:
    config = json.loads((ROOT / ".chalice" / "config.json").read_text())["stages"][stage]
    assert config["autogen_policy"] is False
    assert config["iam_policy_file"] == f"policy-{stage}.json"


@pytest.mark.parametrize("stage", STAGES)
def test_policy_assumes_only_the_member_role(stage: str) -> None:
    assuming = [s for s in _statements(stage) if "sts:AssumeRole" in _as_list(s["Action"])]
    assert len(assuming) == 1
    assert _as_list(assuming[0]["Action"]) == ["sts:AssumeRole"]
    assert _resources(assuming[0]) == {f"arn:${{AWS::Partition}}:iam::*:role/{MEMBER_ROLE_NAME}"}


@pytest.mark.parametrize("stage", STAGES)
def test_policy_arns_name_the_partition_as_a_template(stage: str) -> None:
    for statement in _statements(stage):
        for resource in _resources(statement) - {"*"}:
            assert resource.startswith(f"arn:{P}:"), resource
            assert resource.count("${") == 1, resource  # nothing CloudFormation alone could resolve
    assert "arn:aws" not in (ROOT / ".chalice" / f"policy-{stage}.json").read_text()


@pytest.mark.parametrize("partition", PARTITIONS)
@pytest.mark.parametrize("stage", STAGES)
def test_policy_resolves_to_plain_iam_json_for_chalice_deploy(stage: str, partition: str) -> None:
    policy = json.loads((ROOT / ".chalice" / f"policy-{stage}.json").read_text())
    plain = resolve_partition(policy, partition)
    text = json.dumps(plain)
    assert "Fn::" not in text and "${" not in text
    for resolved, statement in zip(plain["Statement"], policy["Statement"], strict=True):
        assert resolved["Action"] == statement["Action"]
        expected = {r.replace(P, partition) for r in _resources(statement)}
        assert set(_as_list(resolved["Resource"])) == expected
        assert all(r == "*" or r.startswith(f"arn:{partition}:") for r in expected)


def test_iam_policy_command_prints_the_resolved_policy() -> None:
    command = [sys.executable, "-m", "vpcwatch_tools.infra", "--iam-policy", ".chalice/policy-prod.json"]
    proc = subprocess.run([*command, "--partition", "aws-us-gov"], cwd=ROOT, capture_output=True, text=True, check=True)
    policy = json.loads((ROOT / ".chalice" / "policy-prod.json").read_text())
    assert json.loads(proc.stdout) == resolve_partition(policy, "aws-us-gov")


def test_resolve_partition_refuses_what_only_cloudformation_knows() -> None:
    with pytest.raises(ValueError, match="AWS::AccountId"):
        resolve_partition({"Resource": {"Fn::Sub": "arn:${AWS::Partition}:sns:*:${AWS::AccountId}:t"}}, "aws")
    assert resolve_partition({"Resource": ["*", {"Ref": "X"}]}, "aws") == {"Resource": ["*", {"Ref": "X"}]}


@pytest.mark.parametrize("template", ["resources.json", "member-role.json"])
def test_templates_hard_code_no_partition(template: str) -> None:
    assert "arn:aws" not in (ROOT / template).read_text()


def test_worker_reports_partial_batch_failures() -> None:
    worker = json.loads(render())["Resources"]["AuditWorker"]["Properties"]["Events"]["AuditWorkerSqsEventSource"]
    assert worker["Properties"]["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert worker["Properties"]["ScalingConfig"]["MaximumConcurrency"] >= 2  # the least SQS allows


@pytest.mark.parametrize("stage", STAGES)
def test_worker_audits_one_pair_per_invocation_within_its_timeout(stage: str) -> None:
    """One message per invocation, so the timeout bounds one (account, region) audit; the
    queue hides a message six times that long (Lambda's SQS guide)."""
    import app

    assert app.AUDIT_BATCH_SIZE == 1
    config = json.loads((ROOT / ".chalice" / "config.json").read_text())
    timeout = config["stages"][stage]["lambda_functions"]["audit_worker"]["lambda_timeout"]
    assert timeout == WORKER_TIMEOUT_SECONDS
    queue = json.loads(render())["Resources"]["AuditQueue"]["Properties"]
    assert queue["VisibilityTimeout"] == AUDIT_QUEUE_VISIBILITY_SECONDS == 6 * timeout <= 12 * 3600


def test_every_asynchronous_function_sends_its_failures_to_the_failure_queue() -> None:
    resources = json.loads(render())["Resources"]
    queue = {"Fn::GetAtt": ["FailureQueue", "Arn"]}
    assert resources["FailureQueue"]["Type"] == "AWS::SQS::Queue"
    assert resources["FailureQueue"]["Properties"]["QueueName"] == FAILURE_QUEUE_NAME
    assert "FifoQueue" not in resources["FailureQueue"]["Properties"]  # destinations take standard queues only
    assert set(ASYNC_FUNCTIONS) == {"OnNetworkChange", "ScheduledSweep", "SlackForwarder"}
    for function in FUNCTIONS:
        config = resources[function]["Properties"].get("EventInvokeConfig")
        if function not in ASYNC_FUNCTIONS:  # invoked synchronously (SQS poller, API Gateway)
            assert config is None, function
            continue
        assert config["DestinationConfig"] == {"OnFailure": {"Type": "SQS", "Destination": queue}}, function
        assert config["MaximumRetryAttempts"] == 2, function  # Lambda retries, then the queue
    events = {f: resources[f]["Properties"]["Events"] for f in ASYNC_FUNCTIONS}
    assert events["OnNetworkChange"]["OnNetworkChangeEvent"]["Properties"]["DeadLetterConfig"] == {"Arn": queue}
    assert events["ScheduledSweep"]["ScheduledSweepEvent"]["Properties"]["DeadLetterConfig"] == {"Arn": queue}
    subscription = events["SlackForwarder"]["SlackForwarderSnsSubscription"]["Properties"]
    assert subscription["RedrivePolicy"] == {"deadLetterTargetArn": queue}
    policy = resources["FailureQueuePolicy"]["Properties"]
    assert policy["Queues"] == [{"Ref": "FailureQueue"}]
    senders = {
        s["Principal"]["Service"]: s["Condition"]["ArnEquals"]["aws:SourceArn"]
        for s in policy["PolicyDocument"]["Statement"]
    }
    assert senders == {
        "events.amazonaws.com": [{"Fn::GetAtt": [rule, "Arn"]} for rule in EVENT_RULES],
        "sns.amazonaws.com": {"Ref": "AlertsTopic"},
    }
    assert all(
        s["Action"] == "sqs:SendMessage" and s["Resource"] == queue for s in policy["PolicyDocument"]["Statement"]
    )


@pytest.mark.parametrize("stage", STAGES)
def test_the_functions_may_read_the_slack_and_policy_parameters(stage: str) -> None:
    """SPEC §2: POLICY may name an SSM parameter; the policies grant ssm:GetParameter on
    parameters under /vpcwatch/ (the Slack webhook URL, the suggested /vpcwatch/policy)."""
    (statement,) = [s for s in _statements(stage) if "ssm:GetParameter" in _as_list(s["Action"])]
    (pattern,) = _resources(statement)
    arn = pattern.replace(P, "aws")

    def readable(name: str) -> bool:
        return fnmatch.fnmatchcase(f"arn:aws:ssm:us-east-1:123456789012:parameter{name}", arn)

    assert readable(SLACK_PARAMETER) and readable(POLICY_PARAMETER) and readable("/vpcwatch/policies/prod")
    assert not readable("/other-app/secret") and not readable("/vpcwatchful/x")
    variables = json.loads(render())["Resources"]["SlackForwarder"]["Properties"]["Environment"]["Variables"]
    assert readable(variables["SLACK_WEBHOOK_PARAM"])


# -- the member role (member-role.json) ------------------------------------------------


def _member_role() -> dict[str, Any]:
    return dict(json.loads((ROOT / "member-role.json").read_text()))


def test_member_role_json_is_generated() -> None:
    assert (ROOT / "member-role.json").read_text() == render_member_role(), (
        "run `python -m vpcwatch_tools.infra --member-role member-role.json`"
    )


def test_member_role_grants_exactly_the_registry_read_only_actions() -> None:
    role = _member_role()["Resources"]["MemberRole"]["Properties"]
    statements = [s for policy in role["Policies"] for s in policy["PolicyDocument"]["Statement"]]
    granted = {a for s in statements for a in _as_list(s["Action"])}
    expected = set(read_actions()) | set(EVENT_LOOKUP_ACTIONS) | {"sts:GetCallerIdentity", "ec2:DescribeRegions"}
    assert granted == expected
    for statement in statements:
        assert statement["Effect"] == "Allow" and statement["Resource"] == "*"
        for action in _as_list(statement["Action"]):
            service, name = action.split(":")
            assert service in ("ec2", "sts") and name.startswith(("Describe", "Get", "Search")), action
    assert "ManagedPolicyArns" not in role  # nothing beyond the inline read-only policy


def test_member_role_trusts_only_the_auditor_with_the_external_id() -> None:
    template = _member_role()
    role = template["Resources"]["MemberRole"]["Properties"]
    assert role["RoleName"] == {"Ref": "RoleName"}
    assert template["Parameters"]["RoleName"]["Default"] == MEMBER_ROLE_NAME
    assert {"AuditorAccountId", "ExternalId"} <= set(template["Parameters"])
    assert "Default" not in template["Parameters"]["AuditorAccountId"]
    assert "Default" not in template["Parameters"]["ExternalId"]
    (trust,) = role["AssumeRolePolicyDocument"]["Statement"]
    assert trust["Effect"] == "Allow" and trust["Action"] == "sts:AssumeRole"
    assert trust["Principal"] == {"AWS": {"Fn::Sub": "arn:${AWS::Partition}:iam::${AuditorAccountId}:root"}}
    assert trust["Condition"]["StringEquals"] == {"sts:ExternalId": {"Ref": "ExternalId"}}
    principal = trust["Condition"]["ArnLike"]["aws:PrincipalArn"]["Fn::Sub"]
    assert principal.startswith("arn:${AWS::Partition}:iam::${AuditorAccountId}:role/")


class _RecordingEc2:
    """An EC2 client that answers every call with ``answer`` and records the operations."""

    def __init__(self, answer: dict[str, Any]) -> None:
        self.answer = answer
        self.operations: set[str] = set()

    def can_paginate(self, method: str) -> bool:
        return False

    def __getattr__(self, method: str) -> Any:
        def call(**params: Any) -> dict[str, Any]:
            self.operations.add(method)
            return self.answer

        return call


def test_every_call_the_event_pipeline_makes_is_granted() -> None:
    """The event pipeline resolves what an event touched with the auditor's credentials (the
    member role's in member accounts): each EC2 call it can make, for every watched event
    naming every kind of resource, answered with nothing and with VPC attachments, is
    granted by both policies and by the member role. The collector no longer reads TGW
    association lists (attachments carry their association); the event lookup still does."""
    from botocore import xform_name

    from chalicelib.aws.resolve import resolve_scope
    from chalicelib.core.events import EVENT_NAMES
    from chalicelib.core.scope import KIND_FIELDS, Touched

    attachment = {"TransitGatewayAttachmentId": "tgw-attach-1", "TransitGatewayId": "tgw-1"}
    attachment |= {"ResourceType": "vpc", "ResourceId": "vpc-1", "State": "available"}
    answers = [
        {},
        {
            "TransitGatewayAttachments": [attachment],
            "Associations": [{"ResourceType": "vpc", "ResourceId": "vpc-2"}],
            "TransitGatewayRouteTablePropagations": [{"ResourceType": "vpc", "ResourceId": "vpc-3"}],
        },
    ]
    every_kind = {field: (f"{prefix}-1",) for prefix, field in KIND_FIELDS.items()}
    called: set[str] = set()
    for answer in answers:
        for name in EVENT_NAMES:
            for ids in ({}, every_kind, *({field: ids} for field, ids in every_kind.items())):
                ec2 = _RecordingEc2(answer)
                touched = Touched(event_id="e-1", event_name=name, account_id="123456789012", region="us-east-1", **ids)
                resolve_scope(touched, ec2, {})
                called |= ec2.operations
    operations = {f"ec2:{name}" for name in botocore_operation_names()}
    called_actions = {next(a for a in operations if xform_name(a.split(":")[1]) == m) for m in called}
    assert "ec2:GetTransitGatewayRouteTableAssociations" in called_actions  # the lookup the grant is for
    granted_role = set(member_role_actions())
    for stage in STAGES:
        granted = {a for s in _statements(stage) for a in _as_list(s["Action"])}
        assert called_actions <= granted, sorted(called_actions - granted)
    assert called_actions <= granted_role, sorted(called_actions - granted_role)


def botocore_operation_names() -> list[str]:
    import botocore.session

    return list(botocore.session.get_session().get_service_model("ec2").operation_names)
