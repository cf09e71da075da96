"""Many accounts through the Chalice app (``chalice.test.Client``) against a moto server:
an organization of three accounts, the sweep's messages, the worker's partial batch
responses, ``POST /audits`` with ``accounts``, a member account's event; and the member
role template through cfn-lint."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from chalice.test import Client

import app as app_module
from chalicelib.core.settling import RECHECK_DELAY_SECONDS
from vpcwatch_tools.infra import MEMBER_ROLE_NAME
from vpcwatch_tools.lab import cloudtrail_event, remove_default_vpc
from vpcwatch_tools.provision import provision

REGION = "us-east-1"
ACCOUNT = "123456789012"
ROOT = Path(__file__).resolve().parents[2]


@dataclass
class Org:
    env: dict[str, str]
    members: list[str]
    vpcs: dict[str, str]  # account -> its VPC in REGION

    def findings(self, client: Client, vpc_id: str) -> list[dict[str, Any]]:
        return list(json.loads(client.http.get(f"/findings?vpc_id={vpc_id}").body)["findings"])


def member_client(service: str, account: str) -> Any:
    creds = boto3.client("sts", region_name=REGION).assume_role(
        RoleArn=f"arn:aws:iam::{account}:role/{MEMBER_ROLE_NAME}", RoleSessionName="builder"
    )["Credentials"]
    return boto3.client(
        service,
        region_name=REGION,
        aws_access_key_id=creds["AccessKeyId"],
        aws_secret_access_key=creds["SecretAccessKey"],
        aws_session_token=creds["SessionToken"],
    )


@pytest.fixture
def org(aws_env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> Iterator[Org]:
    env = provision(boto3.session.Session(region_name=REGION), REGION)
    env.update(MEMBER_ROLE_NAME=MEMBER_ROLE_NAME, EXTERNAL_ID="vpcwatch-e2e", AUDIT_REGIONS=REGION)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    organizations = boto3.client("organizations", region_name=REGION)
    organizations.create_organization(FeatureSet="ALL")
    members = [
        organizations.create_account(AccountName=f"m{n}", Email=f"m{n}@example.com")["CreateAccountStatus"]["AccountId"]
        for n in range(2)
    ]
    vpcs: dict[str, str] = {}
    for n, account in enumerate([ACCOUNT, *members]):
        ec2 = boto3.client("ec2", region_name=REGION) if account == ACCOUNT else member_client("ec2", account)
        remove_default_vpc(ec2)
        vpcs[account] = ec2.create_vpc(CidrBlock=f"10.{n}.0.0/24")["Vpc"]["VpcId"]
        ec2.create_subnet(VpcId=vpcs[account], CidrBlock=f"10.{n}.0.0/25", AvailabilityZone=f"{REGION}a")
    monkeypatch.setattr(app_module, "_service", None)  # built afresh from this environment
    yield Org(env, members, vpcs)


@pytest.fixture
def client() -> Iterator[Client]:
    with Client(app_module.app) as test_client:
        yield test_client


def deny_assume_role(account: str) -> None:
    """The app's service refuses AssumeRole on ``account``'s role (moto never refuses)."""

    def deny(params: dict[str, Any], **kwargs: Any) -> None:
        if f":{account}:" in str(params.get("RoleArn")):
            raise ClientError({"Error": {"Code": "AccessDenied", "Message": "not authorized"}}, "AssumeRole")

    app_module.service().session.events.register("before-parameter-build.sts.AssumeRole", deny)


def sqs_event(client: Client, bodies: list[dict[str, Any]]) -> dict[str, Any]:
    event = client.events.generate_sqs_event([json.dumps(b) for b in bodies], queue_name="vpcwatch-audits")
    for n, record in enumerate(event["Records"]):
        record["messageId"] = f"message-{n}"  # Chalice gives every record the same id
    return dict(event)


def test_sweep_then_workers_audit_every_account(org: Org, client: Client) -> None:
    swept = client.lambda_.invoke(
        "scheduled_sweep", client.events.generate_cw_event("Scheduled Event", "aws.events", {}, [])
    ).payload
    assert (swept["accounts"], swept["enqueued"], swept["errors"]) == (3, 3, [])
    sqs = boto3.client("sqs", region_name=REGION)
    queued = sqs.receive_message(QueueUrl=org.env["AUDIT_QUEUE_URL"], MaxNumberOfMessages=10)["Messages"]
    bodies = [json.loads(m["Body"]) for m in queued]
    assert sorted(b["account_id"] for b in bodies) == sorted([ACCOUNT, *org.members])
    assert {b["region"] for b in bodies} == {REGION}
    result = client.lambda_.invoke("audit_worker", sqs_event(client, bodies)).payload
    assert result == {"batchItemFailures": []}
    for account, vpc in org.vpcs.items():
        findings = org.findings(client, vpc)
        assert findings and {f["account_id"] for f in findings} == {account}


def test_one_failing_message_is_the_only_batch_item_failure(org: Org, client: Client) -> None:
    good, bad = org.members
    deny_assume_role(bad)
    bodies = [
        {"account_id": ACCOUNT, "region": REGION},
        {"account_id": bad, "region": REGION},
        {"account_id": good, "region": REGION},
    ]
    result = client.lambda_.invoke("audit_worker", sqs_event(client, bodies)).payload
    assert result == {"batchItemFailures": [{"itemIdentifier": "message-1"}]}
    assert org.findings(client, org.vpcs[bad]) == []
    for account in (ACCOUNT, good):
        assert {f["account_id"] for f in org.findings(client, org.vpcs[account])} == {account}
    # a batch whose every message fails is reported message by message, not raised
    alone = client.lambda_.invoke("audit_worker", sqs_event(client, [bodies[1], {"region": "atlantis"}])).payload
    assert alone == {"batchItemFailures": [{"itemIdentifier": "message-0"}, {"itemIdentifier": "message-1"}]}


def post(client: Client, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    response = client.http.post("/audits", headers={"Content-Type": "application/json"}, body=json.dumps(body))
    return response.status_code, json.loads(response.body)


def queued_bodies(org: Org) -> list[dict[str, Any]]:
    sqs = boto3.client("sqs", region_name=REGION)
    bodies: list[dict[str, Any]] = []
    while True:
        batch = sqs.receive_message(QueueUrl=org.env["AUDIT_QUEUE_URL"], MaxNumberOfMessages=10).get("Messages", [])
        if not batch:
            return bodies
        for message in batch:
            bodies.append(json.loads(message["Body"]))
            sqs.delete_message(QueueUrl=org.env["AUDIT_QUEUE_URL"], ReceiptHandle=message["ReceiptHandle"])


def test_post_audits_with_other_accounts_queues_them_and_answers_202(org: Org, client: Client) -> None:
    """SPEC §4: other accounts are not audited inline (API Gateway stops waiting at 29 s):
    one message per (account, region) on the audit queue, 202 with what was queued; the
    workers audit them and the findings reach the store."""
    good, bad = org.members
    deny_assume_role(bad)  # the API never assumes a member role: the worker will
    regions = [REGION, "us-west-2"]
    status, body = post(client, {"accounts": [good, bad, ACCOUNT], "regions": regions})
    assert status == 202, body
    expected = [{"account_id": a, "region": r} for a in (good, bad, ACCOUNT) for r in regions]
    assert body == {"queued": expected}
    assert queued_bodies(org) == expected  # the sweep's message form: the whole region, every check
    assert org.findings(client, org.vpcs[good]) == []  # nothing audited inline

    result = client.lambda_.invoke("audit_worker", sqs_event(client, expected[:1])).payload
    assert result == {"batchItemFailures": []}
    assert {f["account_id"] for f in org.findings(client, org.vpcs[good])} == {good}
    failed = client.lambda_.invoke("audit_worker", sqs_event(client, [expected[2]])).payload
    assert failed == {"batchItemFailures": [{"itemIdentifier": "message-0"}]}  # SQS retries, then dead-letters

    # vpc_ids scope every queued audit as they scope the inline one
    vpc = org.vpcs[good]
    status, body = post(client, {"accounts": [good], "vpc_ids": [vpc]})
    assert (status, body) == (202, {"queued": [{"account_id": good, "region": REGION}], "vpc_ids": [vpc]})
    (message,) = queued_bodies(org)
    assert (message["account_id"], message["region"], message["vpc_ids"], message["attempt"]) == (
        good,
        REGION,
        [vpc],
        0,
    )
    assert client.lambda_.invoke("audit_worker", sqs_event(client, [message])).payload == {"batchItemFailures": []}

    bad_body = client.http.post("/audits", headers={"Content-Type": "application/json"}, body='{"accounts": ["12"]}')
    assert bad_body.status_code == 400 and json.loads(bad_body.body)["error"].startswith("accounts")


def test_post_audits_of_our_own_account_answers_200_with_the_audit(org: Org, client: Client) -> None:
    for body in ({}, {"accounts": [ACCOUNT]}):
        status, answer = post(client, body)
        assert status == 200, answer
        assert answer["audit"]["account_id"] == ACCOUNT and answer["audit"]["regions"] == [REGION]
        assert {f["account_id"] for f in answer["findings"]} == {ACCOUNT}
    assert queued_bodies(org) == []


def test_post_audits_of_other_accounts_without_a_queue_is_refused(
    org: Org, client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("AUDIT_QUEUE_URL")
    monkeypatch.setattr(app_module, "_service", None)
    status, body = post(client, {"accounts": [org.members[0]]})
    assert status == 503 and body["error"].startswith("accounts") and "AUDIT_QUEUE_URL" in body["error"]
    assert org.findings(client, org.vpcs[org.members[0]]) == []
    status, _ = post(client, {"accounts": [ACCOUNT]})  # our own account needs no queue
    assert status == 200


class RefusingSqs:
    """The real SQS client, but SendMessageBatch refuses every entry for ``account``."""

    def __init__(self, sqs: Any, account: str) -> None:
        self._sqs, self._account = sqs, account

    def __getattr__(self, name: str) -> Any:
        return getattr(self._sqs, name)

    def send_message_batch(self, QueueUrl: str, Entries: list[dict[str, str]]) -> dict[str, Any]:
        refused = [e for e in Entries if json.loads(e["MessageBody"])["account_id"] == self._account]
        accepted = [e for e in Entries if e not in refused]
        response = self._sqs.send_message_batch(QueueUrl=QueueUrl, Entries=accepted) if accepted else {}
        failed = [{"Id": e["Id"], "Code": "KMS.Throttled", "SenderFault": False, "Message": "busy"} for e in refused]
        return {"Successful": response.get("Successful", []), "Failed": failed}


def test_post_audits_reports_what_sqs_refused(org: Org, client: Client, monkeypatch: pytest.MonkeyPatch) -> None:
    good, other = org.members
    service = app_module.service()
    real = service._client

    def client_for(session: Any, name: str, region: str) -> Any:
        made = real(session, name, region)
        return RefusingSqs(made, other) if name == "sqs" else made

    monkeypatch.setattr(service, "_client", client_for)
    status, body = post(client, {"accounts": [good, other]})
    assert status == 202, body
    assert body["queued"] == [{"account_id": good, "region": REGION}]
    errors = [(e["api"], e["account_id"], e["region"], e["error"]) for e in body["errors"]]
    assert errors == [("sqs:SendMessage", other, REGION, "KMS.Throttled")]
    assert [b["account_id"] for b in queued_bodies(org)] == [good]
    status, body = post(client, {"accounts": [other]})
    assert status == 503 and body["errors"][0]["account_id"] == other and body["error"].startswith("accounts")


def test_a_member_account_event_is_audited_in_that_account(org: Org, client: Client) -> None:
    member = org.members[0]
    vpc = org.vpcs[member]
    event = cloudtrail_event(
        "CreateSubnet",
        {"vpcId": vpc, "cidrBlock": "10.1.0.128/25"},
        {"subnet": {"subnetId": "subnet-0123456789abcdef0", "vpcId": vpc}},
        account_id=member,
        region=REGION,
        event_id="member-event-1",
    )
    result = client.lambda_.invoke("on_network_change", event).payload
    assert result["account_id"] == member and result["scope"]["vpc_ids"] == [vpc]
    findings = org.findings(client, vpc)
    assert findings and {f["account_id"] for f in findings} == {member}
    assert {f["id"] for f in findings} == set(result["changes"]["opened"])
    assert org.findings(client, org.vpcs[ACCOUNT]) == []  # nothing audited in ours


def test_a_pending_attachment_is_reaudited_later_by_the_worker(org: Org, client: Client) -> None:
    """A member account's new TGW attachment: on_network_change re-audits its scope and
    puts one delayed re-audit of that scope on the audit queue (and one of the region's
    return paths); audit_worker takes it."""
    member = org.members[1]
    vpc = org.vpcs[member]
    ec2 = member_client("ec2", member)
    subnet = ec2.describe_subnets(Filters=[{"Name": "vpc-id", "Values": [vpc]}])["Subnets"][0]["SubnetId"]
    tgw = ec2.create_transit_gateway()["TransitGateway"]["TransitGatewayId"]
    created = ec2.create_transit_gateway_vpc_attachment(TransitGatewayId=tgw, VpcId=vpc, SubnetIds=[subnet])
    attachment = created["TransitGatewayVpcAttachment"]["TransitGatewayAttachmentId"]
    event = cloudtrail_event(
        "CreateTransitGatewayVpcAttachment",
        {"CreateTransitGatewayVpcAttachmentRequest": {"TransitGatewayId": tgw, "VpcId": vpc, "SubnetIds": [subnet]}},
        {
            "CreateTransitGatewayVpcAttachmentResponse": {
                "transitGatewayVpcAttachment": {"transitGatewayAttachmentId": attachment, "transitGatewayId": tgw}
                | {"vpcId": vpc, "state": "pending"}
            }
        },
        account_id=member,
        region=REGION,
        event_id="member-attach-1",
    )
    result = client.lambda_.invoke("on_network_change", event).payload
    assert result["account_id"] == member and result["scope"]["vpc_ids"] == [vpc]
    recheck = result["recheck"]
    assert recheck["queued"] and recheck["delay_seconds"] == RECHECK_DELAY_SECONDS
    message = recheck["message"]
    assert (message["account_id"], message["region"], message["vpc_ids"], message["attempt"]) == (
        member,
        REGION,
        [vpc],
        1,
    )
    sqs = boto3.client("sqs", region_name=REGION)
    attributes = sqs.get_queue_attributes(
        QueueUrl=org.env["AUDIT_QUEUE_URL"], AttributeNames=["ApproximateNumberOfMessagesDelayed"]
    )["Attributes"]
    # And one of the region's return paths, which the settled attachment may move.
    paths = result["paths"]["recheck"]["message"]
    assert (paths["region"], paths["vpc_ids"], paths["checks"]) == (REGION, [], ["routes-return-path"])
    assert attributes["ApproximateNumberOfMessagesDelayed"] == "2"
    assert "Messages" not in sqs.receive_message(QueueUrl=org.env["AUDIT_QUEUE_URL"], MaxNumberOfMessages=10)
    # The delayed message, as SQS hands it to the worker after its delay.
    worked = client.lambda_.invoke("audit_worker", sqs_event(client, [message])).payload
    assert worked == {"batchItemFailures": []}
    findings = org.findings(client, vpc)
    assert findings and {f["account_id"] for f in findings} == {member}
    assert org.findings(client, org.vpcs[ACCOUNT]) == []
    # A scoped message that does not validate fails alone.
    bad = {**message, "checks": ["no-such-check"]}
    failed = client.lambda_.invoke("audit_worker", sqs_event(client, [message, bad])).payload
    assert failed == {"batchItemFailures": [{"itemIdentifier": "message-1"}]}


def test_cfn_lint_accepts_the_member_role_template() -> None:
    cfn_lint = shutil.which("cfn-lint", path=str(Path(sys.executable).parent)) or "cfn-lint"
    proc = subprocess.run([cfn_lint, str(ROOT / "member-role.json")], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_a_sweep_whose_pairs_sqs_refused_fails_so_lambda_retries_it(
    org: Org, client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    from chalicelib.service.fanout import SweepIncompleteError

    _, other = org.members
    service = app_module.service()
    real = service._client

    def client_for(session: Any, name: str, region: str) -> Any:
        made = real(session, name, region)
        return RefusingSqs(made, other) if name == "sqs" else made

    monkeypatch.setattr(service, "_client", client_for)
    event = client.events.generate_cw_event("Scheduled Event", "aws.events", {}, [])
    with pytest.raises(SweepIncompleteError, match=f"1 audit\\(s\\) not enqueued: {other}/{REGION}"):
        client.lambda_.invoke("scheduled_sweep", event)
    assert sorted(b["account_id"] for b in queued_bodies(org)) == sorted([ACCOUNT, org.members[0]])
