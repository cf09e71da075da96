"""Notifications against moto (SNS -> SQS with a filter policy, SSM SecureString) and the
Slack forwarder against a real HTTP server on the loopback interface."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from slack_sdk.webhook import WebhookClient

from chalicelib.aws.publish.slack import SlackDeliveryError, forward_to_slack, webhook_url
from chalicelib.aws.publish.sns import publish, publish_batch
from chalicelib.core.model import OPENED, RESOLVED, Change, Finding, Severity
from chalicelib.render.slack import slack_blocks
from tests.integration.conftest import ACCOUNT, REGION

SECRET_PATH = "/services/T0VPCW/B0VPCW/zvWq3sEcReT9tOkEn"


def make_change(change_type: str = OPENED, severity: Severity = Severity.HIGH, resource_id: str = "vpc-1") -> Change:
    finding = Finding(
        id=f"vw-{resource_id}-{severity.name.lower()}",
        check="connected-cidrs-non-overlapping",
        severity=severity,
        account_id=ACCOUNT,
        region=REGION,
        resource_type="AWS::EC2::VPC",
        resource_id=resource_id,
        resource_arn=f"arn:aws:ec2:{REGION}:{ACCOUNT}:vpc/{resource_id}",
        vpc_id=resource_id,
        title="CIDRs reachable from a VPC do not overlap",
        detail=f"{resource_id} reaches 10.2.0.0/16 through pcx-1 and through tgw-rtb-1",
        remediation="Renumber one side. CLI: aws ec2 disable-transit-gateway-route-table-propagation",
        evidence={"pairs": [{"a": "10.2.0.0/16", "b": "10.2.0.0/24"}]},
        first_seen="2026-11-26T03:00:00Z",
        last_seen="2026-11-26T03:00:00Z",
        status="RESOLVED" if change_type == RESOLVED else "OPEN",
        resolved_at="2026-11-26T04:00:00Z" if change_type == RESOLVED else None,
    )
    return Change(change_type, finding)


# ---------------------------------------------------------------------------------
# SNS -> SQS
# ---------------------------------------------------------------------------------


@dataclass
class Topic:
    sns: Any
    sqs: Any
    arn: str
    all_url: str
    severe_url: str


@pytest.fixture
def topic(session: boto3.session.Session) -> Topic:
    sns = session.client("sns", region_name=REGION)
    sqs = session.client("sqs", region_name=REGION)
    arn = sns.create_topic(Name="vpcwatch-alerts")["TopicArn"]
    urls = []
    for name, attributes in (
        ("everything", {}),
        ("severe", {"FilterPolicy": json.dumps({"severity": ["HIGH", "CRITICAL"]})}),
    ):
        url = sqs.create_queue(QueueName=name)["QueueUrl"]
        queue_arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        sns.subscribe(
            TopicArn=arn,
            Protocol="sqs",
            Endpoint=queue_arn,
            Attributes={"RawMessageDelivery": "false", **attributes},
        )
        urls.append(url)
    return Topic(sns, sqs, arn, urls[0], urls[1])


def receive_all(sqs: Any, url: str) -> list[dict[str, Any]]:
    bodies: list[dict[str, Any]] = []
    while True:
        messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=0).get("Messages", [])
        if not messages:
            return bodies
        for message in messages:
            bodies.append(json.loads(message["Body"]))
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])


def test_sqs_subscriber_gets_the_default_json_and_the_attributes(topic: Topic) -> None:
    change = make_change()
    message_id = publish(topic.sns, topic.arn, change, f"{change.finding.id}#1")

    [envelope] = receive_all(topic.sqs, topic.all_url)
    assert envelope["Type"] == "Notification"
    assert envelope["MessageId"] == message_id
    assert envelope["Subject"] == "[vpcwatch] HIGH opened: connected-cidrs-non-overlapping vpc-1"
    assert json.loads(envelope["Message"]) == {"type": OPENED, "finding": change.finding.to_dict()}
    assert Finding.from_dict(json.loads(envelope["Message"])["finding"]) == change.finding
    assert envelope["MessageAttributes"] == {
        "severity": {"Type": "String", "Value": "HIGH"},
        "check": {"Type": "String", "Value": "connected-cidrs-non-overlapping"},
        "type": {"Type": "String", "Value": OPENED},
        "dedupe_key": {"Type": "String", "Value": f"{change.finding.id}#1"},
    }


def test_filter_policy_lets_only_high_and_critical_through(topic: Topic) -> None:
    changes = [
        make_change(OPENED, Severity.HIGH, "vpc-high"),
        make_change(OPENED, Severity.MEDIUM, "vpc-medium"),
        make_change(OPENED, Severity.LOW, "vpc-low"),
        make_change(RESOLVED, Severity.CRITICAL, "vpc-critical"),
        make_change(OPENED, Severity.INFORMATIONAL, "vpc-info"),
    ]
    for change in changes:
        publish(topic.sns, topic.arn, change, f"{change.finding.id}#1")

    def received(url: str) -> list[tuple[str, str]]:
        return sorted(
            (json.loads(b["Message"])["type"], json.loads(b["Message"])["finding"]["severity"])
            for b in receive_all(topic.sqs, url)
        )

    assert received(topic.severe_url) == [(OPENED, "HIGH"), (RESOLVED, "CRITICAL")]
    assert len(received(topic.all_url)) == len(changes)


def test_publish_batch_delivers_each_change_with_its_dedupe_key_and_filters_apply(topic: Topic) -> None:
    changes = [
        make_change(OPENED, severity, f"vpc-{n}") for n, severity in enumerate([Severity.HIGH, Severity.LOW] * 7)
    ]
    keyed = [(change, f"{change.finding.id}#{n + 1}") for n, change in enumerate(changes)]
    results = publish_batch(topic.sns, topic.arn, keyed)
    assert all(r.ok for r in results)
    everything = receive_all(topic.sqs, topic.all_url)
    keys = {b["MessageAttributes"]["dedupe_key"]["Value"]: json.loads(b["Message"]) for b in everything}
    assert keys == {key: change.to_message() for change, key in keyed}
    assert len(receive_all(topic.sqs, topic.severe_url)) == 7  # the HIGH ones only
    missing = topic.arn.replace("vpcwatch-alerts", "no-such-topic")
    assert not any(r.ok for r in publish_batch(topic.sns, missing, keyed[:3]))


def test_publish_raises_when_sns_refuses(topic: Topic) -> None:
    missing = topic.arn.replace("vpcwatch-alerts", "no-such-topic")
    with pytest.raises(ClientError):
        publish(topic.sns, missing, make_change(), "vw-x#1")


# ---------------------------------------------------------------------------------
# Slack webhook: a real HTTP server on 127.0.0.1
# ---------------------------------------------------------------------------------


@dataclass
class Webhook:
    url: str
    requests: list[dict[str, Any]] = field(default_factory=list)
    status: int = 200
    body: str = "ok"


@pytest.fixture
def webhook(monkeypatch: pytest.MonkeyPatch) -> Iterator[Webhook]:
    for var in ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy"):
        monkeypatch.delenv(var, raising=False)
    hook = Webhook(url="")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", 0))
            hook.requests.append(
                {
                    "path": self.path,
                    "content_type": self.headers.get("Content-Type"),
                    "json": json.loads(self.rfile.read(length)),
                }
            )
            payload = hook.body.encode()
            self.send_response(hook.status)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, format: str, *args: Any) -> None:  # keep the test output clean
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    hook.url = f"http://127.0.0.1:{server.server_address[1]}{SECRET_PATH}"
    try:
        yield hook
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def lambda_event(*messages: str) -> dict[str, Any]:
    """An SNS -> Lambda event as the service delivers it (Message = the `default` JSON)."""
    return {
        "Records": [
            {
                "EventSource": "aws:sns",
                "EventVersion": "1.0",
                "Sns": {"Type": "Notification", "MessageId": f"msg-{i}", "Message": message, "Subject": "s"},
            }
            for i, message in enumerate(messages)
        ]
    }


def test_forward_to_slack_posts_block_kit(topic: Topic, webhook: Webhook) -> None:
    # The whole path: publish, take what a subscriber receives, forward it.
    publish(topic.sns, topic.arn, make_change(), "vw-x#1")
    [envelope] = receive_all(topic.sqs, topic.all_url)
    event = lambda_event(envelope["Message"], "not for us")

    assert forward_to_slack(event, webhook.url) == 1

    [request] = webhook.requests
    assert request["path"] == SECRET_PATH
    assert request["content_type"].startswith("application/json")
    assert request["json"] == slack_blocks(json.loads(envelope["Message"]))
    blocks = request["json"]["blocks"]
    assert blocks[0]["type"] == "header"
    assert blocks[0]["text"]["text"].startswith(":red_circle: HIGH opened")
    assert "vw-vpc-1-high" in json.dumps(blocks)


def test_forward_to_slack_raises_on_a_server_error(webhook: Webhook) -> None:
    webhook.status, webhook.body = 500, "internal_error"
    event = lambda_event(json.dumps(make_change().to_message()))
    with pytest.raises(SlackDeliveryError, match="HTTP 500") as raised:
        forward_to_slack(event, webhook.url)
    assert "internal_error" in str(raised.value)
    assert SECRET_PATH not in str(raised.value)
    assert len(webhook.requests) == 1  # reached the server: the status is its answer


def test_forward_to_slack_raises_when_nobody_listens(webhook: Webhook) -> None:
    with socket.socket() as probe:  # a port that was free a moment ago: nobody serves it
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    closed = f"http://127.0.0.1:{port}{SECRET_PATH}"
    event = lambda_event(json.dumps(make_change().to_message()))
    with pytest.raises(SlackDeliveryError) as raised:
        forward_to_slack(event, closed)
    assert SECRET_PATH not in str(raised.value)


# ---------------------------------------------------------------------------------
# The webhook URL from SSM, and never in the logs
# ---------------------------------------------------------------------------------


def put_secret(ssm: Any, name: str, value: str) -> None:
    ssm.put_parameter(Name=name, Value=value, Type="SecureString", Overwrite=True)


def test_webhook_url_reads_and_caches_a_secure_string(session: boto3.session.Session) -> None:
    ssm = session.client("ssm", region_name=REGION)
    put_secret(ssm, "/vpcwatch/slack-webhook", "https://hooks.slack.com/services/T1/B1/first")
    assert webhook_url("/vpcwatch/slack-webhook", ssm) == "https://hooks.slack.com/services/T1/B1/first"

    # Cached (max_age=300): a warm Lambda does not call SSM on every message.
    put_secret(ssm, "/vpcwatch/slack-webhook", "https://hooks.slack.com/services/T1/B1/second")
    assert webhook_url("/vpcwatch/slack-webhook", ssm) == "https://hooks.slack.com/services/T1/B1/first"

    # A new client (a new cold start) reads the current value.
    fresh = session.client("ssm", region_name=REGION)
    assert webhook_url("/vpcwatch/slack-webhook", fresh) == "https://hooks.slack.com/services/T1/B1/second"


def test_webhook_url_without_a_client_uses_the_default_provider(session: boto3.session.Session) -> None:
    from aws_lambda_powertools.utilities import parameters

    parameters.clear_caches()
    parameters.base.DEFAULT_PROVIDERS.clear()  # providers built in another test hold another client
    put_secret(session.client("ssm", region_name=REGION), "/vpcwatch/default-path", "https://example.com/hook")
    try:
        assert webhook_url("/vpcwatch/default-path") == "https://example.com/hook"
    finally:
        parameters.clear_caches()
        parameters.base.DEFAULT_PROVIDERS.clear()


def test_webhook_url_refuses_a_value_that_is_not_a_url_without_echoing_it(session: boto3.session.Session) -> None:
    ssm = session.client("ssm", region_name=REGION)
    put_secret(ssm, "/vpcwatch/bad", "hooks.slack.com/services/T1/B1/s3cr3t")
    with pytest.raises(ValueError, match="/vpcwatch/bad") as raised:
        webhook_url("/vpcwatch/bad", ssm)
    assert "s3cr3t" not in str(raised.value)


def test_the_webhook_url_appears_in_no_log_record(
    session: boto3.session.Session, webhook: Webhook, caplog: pytest.LogCaptureFixture
) -> None:
    ssm = session.client("ssm", region_name=REGION)
    put_secret(ssm, "/vpcwatch/logged", webhook.url)  # the test's own request body is not watched
    caplog.set_level("DEBUG")  # every logger, botocore's and slack_sdk's included

    url = webhook_url("/vpcwatch/logged", ssm)
    assert url == webhook.url
    event = lambda_event(json.dumps(make_change().to_message()), "something else")
    assert forward_to_slack(event, url) == 1
    webhook.status = 500
    with pytest.raises(SlackDeliveryError):
        forward_to_slack(event, url)
    with pytest.raises(SlackDeliveryError):
        forward_to_slack(event, url.replace("http://", "ftp://"))

    assert caplog.records, "the test must see the logs it checks"
    assert any(r.name == "botocore.parsers" for r in caplog.records)  # the SSM response was logged...
    for record in caplog.records:
        text = record.getMessage()
        assert SECRET_PATH not in text, f"{record.name} logged the webhook URL"
        assert "zvWq3sEcReT9tOkEn" not in text

    # ...and the guard is what keeps it out: the stock client would have logged the URL.
    caplog.clear()
    webhook.status = 200
    forward_to_slack(event, url, client_factory=WebhookClient)
    assert any(SECRET_PATH in r.getMessage() for r in caplog.records)
