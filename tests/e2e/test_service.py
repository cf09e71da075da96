"""The service end to end: the Chalice app through ``chalice.test.Client``, against a moto
server over HTTP, with the resources `vpcwatch setup` creates and an SQS queue
subscribed to the alerts topic to see exactly what SNS delivers."""

from __future__ import annotations

import datetime as dt
import json
import re
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import boto3
import pytest
from chalice.test import Client

import app as app_module
from vpcwatch_tools.lab import Lab, apply_fix, build_lab, cloudtrail_event, fix_event, remove_default_vpc
from vpcwatch_tools.provision import provision

REGION = "us-east-1"
ACCOUNT = "123456789012"


@dataclass
class Deployed:
    lab: Lab
    env: dict[str, str]
    capture_url: str
    dedupe_keys: list[str] = field(default_factory=list)  # of every message delivered, in order

    def messages(self) -> list[tuple[str, str, str]]:
        """(type, check, resource) of every SNS message delivered since the last call; each
        carries its dedupe key (finding id # state version), kept in ``dedupe_keys``."""
        sqs = boto3.client("sqs", region_name=REGION)
        seen: list[tuple[str, str, str]] = []
        while True:
            batch = sqs.receive_message(QueueUrl=self.capture_url, MaxNumberOfMessages=10).get("Messages", [])
            if not batch:
                return seen
            for message in batch:
                envelope = json.loads(message["Body"])
                default = json.loads(envelope["Message"])
                finding = default["finding"]
                assert envelope["MessageAttributes"]["type"]["Value"] == default["type"]
                key = envelope["MessageAttributes"]["dedupe_key"]["Value"]
                assert re.fullmatch(rf"{finding['id']}#[1-9][0-9]*", key), key
                self.dedupe_keys.append(key)
                seen.append((default["type"], finding["check"], finding["resource_id"]))
                sqs.delete_message(QueueUrl=self.capture_url, ReceiptHandle=message["ReceiptHandle"])


@pytest.fixture
def deployed(aws_env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> Iterator[Deployed]:
    session = boto3.session.Session(region_name=REGION)
    env = provision(session, REGION)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    sqs = boto3.client("sqs", region_name=REGION)
    capture = sqs.create_queue(QueueName="capture")["QueueUrl"]
    capture_arn = sqs.get_queue_attributes(QueueUrl=capture, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    boto3.client("sns", region_name=REGION).subscribe(
        TopicArn=env["ALERTS_TOPIC_ARN"], Protocol="sqs", Endpoint=capture_arn
    )
    ec2 = boto3.client("ec2", region_name=REGION)
    remove_default_vpc(ec2)
    lab = build_lab(ec2, boto3.client("s3", region_name=REGION), REGION)
    monkeypatch.setattr(app_module, "_service", None)  # built afresh from this environment
    yield Deployed(lab, env, capture)


@pytest.fixture
def client() -> Iterator[Client]:
    with Client(app_module.app) as test_client:
        yield test_client


def route_event(lab: Lab, event_id: str | None = None) -> dict[str, Any]:
    """CreateRoute on app's private table (flat style, as CloudTrail writes it)."""
    return cloudtrail_event(
        "CreateRoute",
        {"routeTableId": lab.app_private_rtb, "destinationCidrBlock": "10.1.0.0/16", "vpcPeeringConnectionId": "pcx-1"},
        {"requestId": "r-1", "_return": True},
        account_id=ACCOUNT,
        region=REGION,
        event_id=event_id or str(uuid.uuid4()),
    )


def post_audit(client: Client, body: dict[str, Any] | None = None) -> dict[str, Any]:
    response = client.http.post("/audits", headers={"Content-Type": "application/json"}, body=json.dumps(body or {}))
    assert response.status_code == 200, response.body
    return dict(json.loads(response.body))


def keys(findings: list[dict[str, Any]]) -> set[tuple[str, str]]:
    return {(f["check"], f["resource_id"]) for f in findings}


# ---------------------------------------------------------------------------------


def test_event_opens_findings_and_announces_exactly_those(deployed: Deployed, client: Client) -> None:
    lab = deployed.lab
    result = client.lambda_.invoke("on_network_change", route_event(lab)).payload
    assert result["scope"]["vpc_ids"] and lab.app_vpc in result["scope"]["vpc_ids"]
    opened = result["changes"]["opened"]
    assert opened and result["published"] == len(opened)
    messages = deployed.messages()
    assert len(messages) == len(opened)
    assert {m[0] for m in messages} == {"finding.opened"}
    app_private = ("private-subnet-gateway-endpoints", lab.app_private_rtb)
    assert app_private in {(m[1], m[2]) for m in messages}


def test_replayed_event_announces_nothing_new(deployed: Deployed, client: Client) -> None:
    event = route_event(deployed.lab, event_id="11111111-2222-3333-4444-555555555555")
    first = client.lambda_.invoke("on_network_change", event).payload
    assert deployed.messages()
    again = client.lambda_.invoke("on_network_change", event).payload
    assert again == first  # Powertools Idempotency answered from its record
    assert deployed.messages() == []
    # even without the idempotency record, the conditional writes announce nothing twice
    redelivered = route_event(deployed.lab)
    client.lambda_.invoke("on_network_change", redelivered)
    assert deployed.messages() == []


def test_the_fix_event_resolves_and_announces(deployed: Deployed, client: Client) -> None:
    lab = deployed.lab
    post_audit(client)
    deployed.messages()
    response = apply_fix(boto3.client("ec2", region_name=REGION), lab)
    result = client.lambda_.invoke("on_network_change", fix_event(lab, response, ACCOUNT, "fix-1")).payload
    assert result["scope"]["vpc_ids"][0] == lab.app_vpc
    assert deployed.messages() == [("finding.resolved", "private-subnet-gateway-endpoints", lab.app_private_rtb)]
    stored = json.loads(client.http.get("/findings?status=RESOLVED").body)["findings"]
    assert [(f["resource_id"], f["evidence"]["service"]) for f in stored] == [(lab.app_private_rtb, "s3")]
    assert stored[0]["resolved_at"]


def test_a_scoped_event_never_resolves_another_vpc(deployed: Deployed, client: Client) -> None:
    lab = deployed.lab
    post_audit(client)
    deployed.messages()
    # the hub is fixed, but the event only concerns legacy: the hub's finding stays open
    ec2 = boto3.client("ec2", region_name=REGION)
    ec2.create_flow_logs(
        ResourceIds=[lab.hub_vpc],
        ResourceType="VPC",
        TrafficType="ALL",
        LogDestinationType="s3",
        LogDestination="arn:aws:s3:::vpcwatch-lab-flow-logs",
    )
    event = cloudtrail_event(
        "CreateSubnet",
        {"vpcId": lab.legacy_vpc, "cidrBlock": "10.0.9.0/24"},
        {"subnet": {"subnetId": "subnet-0123456789abcdef0", "vpcId": lab.legacy_vpc}},
        account_id=ACCOUNT,
        region=REGION,
        event_id="scoped-1",
    )
    client.lambda_.invoke("on_network_change", event)
    assert deployed.messages() == []
    hub = json.loads(client.http.get(f"/findings?vpc_id={lab.hub_vpc}&check=vpc-flow-logs-enabled").body)
    assert [f["status"] for f in hub["findings"]] == ["OPEN"]


def test_access_denied_resolves_nothing_it_decides(deployed: Deployed, client: Client) -> None:
    lab = deployed.lab
    post_audit(client)
    deployed.messages()
    ec2 = boto3.client("ec2", region_name=REGION)
    ec2.create_flow_logs(
        ResourceIds=[lab.hub_vpc],
        ResourceType="VPC",
        TrafficType="ALL",
        LogDestinationType="s3",
        LogDestination="arn:aws:s3:::vpcwatch-lab-flow-logs",
    )

    def deny(**kwargs: Any) -> None:
        from botocore.exceptions import ClientError

        raise ClientError({"Error": {"Code": "AccessDenied", "Message": "no"}}, "DescribeFlowLogs")

    service = app_module.service()
    service.session.events.register("before-call.ec2.DescribeFlowLogs", deny)
    body = post_audit(client)
    assert body["audit"]["errors"][0]["api"] == "ec2:DescribeFlowLogs"
    assert body["audit"]["errors"][0]["error"] == "AccessDenied"
    assert {n["check"] for n in body["audit"]["not_evaluated"]} >= {"vpc-flow-logs-enabled"}
    assert body["changes"]["resolved"] == []
    assert deployed.messages() == []
    service.session.events.unregister("before-call.ec2.DescribeFlowLogs", deny)
    body = post_audit(client)
    assert ("vpc-flow-logs-enabled", lab.hub_vpc) in keys(body["changes"]["resolved"])


def test_a_failed_publish_is_delivered_by_the_next_run(deployed: Deployed, client: Client) -> None:
    service = app_module.service()
    failures = {"left": 1}

    def fail_once(**kwargs: Any) -> None:
        if failures["left"]:
            failures["left"] -= 1
            from botocore.exceptions import ClientError

            raise ClientError({"Error": {"Code": "InternalError", "Message": "try later"}}, "PublishBatch")

    # A run publishes its own changes ten to a PublishBatch: the first call fails.
    for operation in ("Publish", "PublishBatch"):
        service.sns.meta.events.register(f"before-call.sns.{operation}", fail_once)
    first = post_audit(client)
    opened = [("finding.opened", f["check"], f["resource_id"]) for f in first["changes"]["opened"]]
    delivered = deployed.messages()
    assert 0 < len(delivered) < len(opened)
    second = post_audit(client)
    assert second["changes"] == {"opened": [], "resolved": [], "reopened": []}
    retried = deployed.messages()  # the ones that failed, and only those
    assert sorted(delivered + retried) == sorted(opened)
    assert len(set(deployed.dedupe_keys)) == len(deployed.dedupe_keys) == len(opened)  # each change once


def test_racing_audits_announce_each_change_once(deployed: Deployed, client: Client) -> None:
    service = app_module.service()
    barrier = threading.Barrier(4)
    outcomes: list[Any] = []

    def run() -> None:
        barrier.wait()
        outcomes.append(service.audit_and_notify())

    threads = [threading.Thread(target=run) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    messages = deployed.messages()
    recorded = [c for outcome in outcomes for c in outcome.changes]
    announced = sorted((c.type, c.finding.check, c.finding.resource_id) for c in recorded)
    assert sorted(messages) == announced, (sorted(messages), announced)
    assert len(recorded) == len({(c.type, c.finding.id) for c in recorded})
    assert len(messages) == len(outcomes[0].result.findings)


@pytest.mark.parametrize(
    "event",
    [
        {},
        {"detail": "nope"},
        ["not", "a", "dict"],
        {"source": "aws.s3", "detail-type": "AWS API Call via CloudTrail", "detail": {"eventName": "PutObject"}},
        {"source": "aws.ec2", "detail": {"eventName": "CreateRoute", "requestParameters": ["rtb-1"]}},
        cloudtrail_event(
            "CreateRoute",
            {"routeTableId": "rtb-1"},
            None,
            account_id=ACCOUNT,
            region=REGION,
            event_id="e-1",
            error_code="Client.UnauthorizedOperation",
        ),
        cloudtrail_event(
            "CreateRoute", {"routeTableId": "rtb-1"}, None, account_id="999999999999", region=REGION, event_id="e-2"
        ),
    ],
)
def test_malformed_failed_and_foreign_events_are_skipped(
    deployed: Deployed, client: Client, event: dict[str, Any]
) -> None:
    result = client.lambda_.invoke("on_network_change", event).payload
    assert result["skipped"] is True
    assert deployed.messages() == []


@pytest.mark.parametrize(
    ("method", "path", "body", "field"),
    [
        ("post", "/audits", "{not json", "body"),
        ("post", "/audits", '{"regions": ["atlantis"]}', "regions"),
        ("post", "/audits", '{"vpc_ids": ["vpc-x"]}', "vpc_ids"),
        ("post", "/audits", '{"vpcs": []}', "vpcs"),
        ("get", "/findings?status=GONE", None, "status"),
        ("get", "/findings?severity=SEVERE", None, "severity"),
        ("get", "/findings?check=nope", None, "check"),
        ("get", "/findings?vpc_id=123", None, "vpc_id"),
        ("get", "/findings?region=x", None, "region"),
        ("get", "/findings?next_token=garbage", None, "next_token"),
        ("get", "/findings?limit=9999", None, "limit"),
        ("get", "/findings/not-an-id", None, "id"),
        ("get", "/report?status=GONE", None, "status"),
    ],
)
def test_bad_api_input_is_a_400_naming_the_field(
    deployed: Deployed, client: Client, method: str, path: str, body: str | None, field: str
) -> None:
    call = getattr(client.http, method)
    kwargs = {"headers": {"Content-Type": "application/json"}, "body": body} if body is not None else {}
    response = call(path, **kwargs)
    assert response.status_code == 400, response.body
    assert json.loads(response.body)["error"].startswith(field)


def test_findings_api_filters_pages_and_404(deployed: Deployed, client: Client) -> None:
    lab = deployed.lab
    audit = post_audit(client, {"regions": [REGION]})
    assert len(audit["changes"]["opened"]) == len(audit["findings"])
    every: list[dict[str, Any]] = []
    token = None
    while True:
        page = json.loads(client.http.get("/findings?limit=4" + (f"&next_token={token}" if token else "")).body)
        every += page["findings"]
        token = page["next_token"]
        if not token:
            break
    assert {f["id"] for f in every} == {f["id"] for f in audit["findings"]}
    high = json.loads(client.http.get("/findings?severity=HIGH&status=OPEN").body)["findings"]
    assert high and {f["severity"] for f in high} == {"HIGH"}
    one = client.http.get(f"/findings/{every[0]['id']}")
    assert one.status_code == 200 and json.loads(one.body)["id"] == every[0]["id"]
    missing = client.http.get("/findings/vw-000000000000000000000000")
    assert missing.status_code == 404 and "error" in json.loads(missing.body)
    report = client.http.get(f"/report?vpc_id={lab.hub_vpc}")
    assert report.status_code == 200 and report.headers["Content-Type"].startswith("text/html")
    assert lab.hub_vpc in report.body.decode()


def test_sweep_fans_out_and_the_worker_audits(
    deployed: Deployed, client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AUDIT_REGIONS", REGION)  # unset, the sweep covers every enabled region
    swept = client.lambda_.invoke(
        "scheduled_sweep", client.events.generate_cw_event("Scheduled Event", "aws.events", {}, [])
    ).payload
    assert (swept["enqueued"], swept["regions"], swept["errors"]) == (1, [REGION], [])
    sqs = boto3.client("sqs", region_name=REGION)
    queued = sqs.receive_message(QueueUrl=deployed.env["AUDIT_QUEUE_URL"], MaxNumberOfMessages=10)["Messages"]
    assert [json.loads(m["Body"]) for m in queued] == [{"account_id": ACCOUNT, "region": REGION}]
    event = client.events.generate_sqs_event(message_bodies=[m["Body"] for m in queued], queue_name="vpcwatch-audits")
    assert client.lambda_.invoke("audit_worker", event).payload == {"batchItemFailures": []}
    announced = deployed.messages()
    # the lab's 13 mistakes and its hub's replies lost on app's public table (routes-return-path)
    assert len(announced) == 14 and {m[0] for m in announced} == {"finding.opened"}


def test_slack_forwarder_posts_to_the_webhook_from_ssm(
    deployed: Deployed, client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    import http.server

    received: list[dict[str, Any]] = []

    class Hook(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            received.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            self.send_response(200)
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *args: Any) -> None:
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Hook)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_port}/services/T0/B0/secret"
    boto3.client("ssm", region_name=REGION).put_parameter(Name="/vpcwatch/slack", Value=url, Type="SecureString")
    monkeypatch.setenv("SLACK_WEBHOOK_PARAM", "/vpcwatch/slack")
    monkeypatch.setattr(app_module, "_service", None)
    post_audit(client)
    default = {"type": "finding.opened", "finding": post_audit(client)["findings"][0]}
    event = client.events.generate_sns_event(message=json.dumps(default), subject="vpcwatch")
    try:
        assert client.lambda_.invoke("slack_forwarder", event).payload == {"posted": 1}
    finally:
        server.shutdown()
    assert len(received) == 1 and received[0]["blocks"]
    assert default["finding"]["resource_id"] in json.dumps(received[0])


def test_a_failed_slack_post_raises_so_lambda_retries_then_dead_letters(
    deployed: Deployed, client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The webhook answers 500: the handler raises (never reports success), so Lambda
    retries the SNS event and then sends it to the failure queue (its on-failure
    destination, tests/unit/test_infra.py and tests/e2e/test_package.py)."""
    import http.server

    from chalicelib.aws.publish.slack import SlackDeliveryError

    class Broken(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers["Content-Length"]))
            self.send_response(500)
            self.end_headers()
            self.wfile.write(b"internal_error")

        def log_message(self, *args: Any) -> None:
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Broken)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_port}/services/T0/B0/secret"
    boto3.client("ssm", region_name=REGION).put_parameter(Name="/vpcwatch/slack", Value=url, Type="SecureString")
    monkeypatch.setenv("SLACK_WEBHOOK_PARAM", "/vpcwatch/slack")
    monkeypatch.setattr(app_module, "_service", None)
    default = {"type": "finding.opened", "finding": post_audit(client)["findings"][0]}
    event = client.events.generate_sns_event(message=json.dumps(default), subject="vpcwatch")
    try:
        with pytest.raises(SlackDeliveryError, match="HTTP 500") as raised:
            client.lambda_.invoke("slack_forwarder", event)
    finally:
        server.shutdown()
    assert "secret" not in str(raised.value)  # the webhook URL is never in the error


def test_policy_from_an_ssm_parameter_under_the_granted_path(
    deployed: Deployed, client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    """SPEC §2: POLICY may name an SSM parameter; the functions may read those under
    /vpcwatch/ (tests/unit/test_infra.py), and a parameter that cannot be read is an error
    that names the path the policy grants."""
    from chalicelib.aws.settings import SettingsError
    from vpcwatch_tools.infra import POLICY_PARAMETER

    policy = "severity:\n  vpc-flow-logs-enabled: CRITICAL\n"
    boto3.client("ssm", region_name=REGION).put_parameter(Name=POLICY_PARAMETER, Value=policy, Type="String")
    monkeypatch.setenv("POLICY", POLICY_PARAMETER)
    monkeypatch.setattr(app_module, "_service", None)
    flow = [f for f in post_audit(client)["findings"] if f["check"] == "vpc-flow-logs-enabled"]
    assert flow and {f["severity"] for f in flow} == {"CRITICAL"}
    with pytest.raises(SettingsError, match="/vpcwatch/"):
        app_module._read_parameter("/vpcwatch/no-such-policy")


def test_security_hub_export_rides_the_outbox(
    deployed: Deployed, client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SECURITY_HUB_EXPORT", "true")
    monkeypatch.setattr(app_module, "_service", None)
    service = app_module.service()
    failures = {"left": 1}

    def fail_once(**kwargs: Any) -> None:
        if failures["left"]:
            failures["left"] -= 1
            from botocore.exceptions import ClientError

            raise ClientError({"Error": {"Code": "ThrottlingException", "Message": "slow down"}}, "BatchImportFindings")

    service.securityhub.meta.events.register("before-call.securityhub.BatchImportFindings", fail_once)
    first = post_audit(client)
    opened = len(first["changes"]["opened"])
    assert len(deployed.messages()) == opened  # SNS delivered although Security Hub failed
    hub = boto3.client("securityhub", region_name=REGION)
    assert hub.get_findings()["Findings"] == []
    post_audit(client)  # the next run retries Security Hub only
    assert deployed.messages() == []
    imported = hub.get_findings(MaxResults=100)["Findings"]
    assert len(imported) == opened
    assert {f["GeneratorId"] for f in imported} >= {"private-subnet-gateway-endpoints", "vpc-flow-logs-enabled"}
    assert all(f["Compliance"]["Status"] == "FAILED" and f["RecordState"] == "ACTIVE" for f in imported)
    apply_fix(boto3.client("ec2", region_name=REGION), deployed.lab)
    post_audit(client)
    archived = [f for f in hub.get_findings(MaxResults=100)["Findings"] if f["RecordState"] == "ARCHIVED"]
    assert [(f["GeneratorId"], f["Compliance"]["Status"]) for f in archived] == [
        ("private-subnet-gateway-endpoints", "PASSED")
    ]


def test_a_sweep_that_read_before_an_event_never_undoes_it(
    deployed: Deployed, client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A sweep collects, an event audit resolves a finding, then the sweep records: the
    sweep's view is older than the event's, so the finding stays resolved (the store
    judges each audit as of when it read the network, not when it records)."""
    lab = deployed.lab
    service = app_module.service()
    moments = iter(dt.datetime(2026, 11, 30, 12, minute, tzinfo=dt.UTC) for minute in range(60))
    monkeypatch.setattr(service, "clock", lambda: next(moments))
    service.audit_and_notify()
    deployed.messages()
    stale_sweep = service.audit()  # reads the network before the fix
    response = apply_fix(boto3.client("ec2", region_name=REGION), lab)
    client.lambda_.invoke("on_network_change", fix_event(lab, response, ACCOUNT, "fix-race"))
    assert deployed.messages() == [("finding.resolved", "private-subnet-gateway-endpoints", lab.app_private_rtb)]

    outcome = service.record(stale_sweep)

    assert outcome.changes == ()
    assert deployed.messages() == []
    resolved = json.loads(client.http.get("/findings?status=RESOLVED").body)["findings"]
    assert [f["resource_id"] for f in resolved] == [lab.app_private_rtb]


def test_a_cross_region_peering_is_one_finding_re_audited_from_either_side(deployed: Deployed, client: Client) -> None:
    """The requester (app, us-east-1) and the accepter (us-west-2) overlap. Accepting in
    us-west-2 re-audits the requester's region too, where the one finding lives; a full
    audit of both regions finds the same single finding."""
    lab = deployed.lab
    west = boto3.client("ec2", region_name="us-west-2")
    peer = west.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    east = boto3.client("ec2", region_name=REGION)
    pcx = east.create_vpc_peering_connection(VpcId=lab.app_vpc, PeerVpcId=peer, PeerRegion="us-west-2")[
        "VpcPeeringConnection"
    ]["VpcPeeringConnectionId"]
    west.accept_vpc_peering_connection(VpcPeeringConnectionId=pcx)
    event = cloudtrail_event(
        "AcceptVpcPeeringConnection",
        {"vpcPeeringConnectionId": pcx},
        {"vpcPeeringConnection": {"vpcPeeringConnectionId": pcx}},
        account_id=ACCOUNT,
        region="us-west-2",
        event_id="accept-west",
    )
    answer = client.lambda_.invoke("on_network_change", event).payload
    assert answer["elsewhere"] == [{"region": REGION, "vpc_ids": [lab.app_vpc]}]
    peering = [m for m in deployed.messages() if m[1] == "peering-cidrs-non-overlapping"]
    assert peering == [("finding.opened", "peering-cidrs-non-overlapping", pcx)]

    body = post_audit(client, {"regions": [REGION, "us-west-2"]})
    found = [(f["region"], f["vpc_id"]) for f in body["findings"] if f["resource_id"] == pcx]
    assert found == [(REGION, lab.app_vpc)]
    assert not [m for m in deployed.messages() if m[2] == pcx]  # the same finding: nothing new announced


def test_an_intent_finding_resolves_and_reopens_within_one_event(
    deployed: Deployed, client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    """SPEC §7: intents are checked on every audit. The fix's event (CreateVpcEndpoint,
    re-audited in app's VPC) re-judges the path checks region-wide, so the lab's S3 intent
    resolves on it; a route change that then sends S3 through a NAT reopens it."""
    from vpcwatch_tools.demo import INTENT, demo_policy

    lab = deployed.lab
    monkeypatch.setenv("POLICY", json.dumps(demo_policy(lab)))
    monkeypatch.setattr(app_module, "_service", None)  # re-read the policy
    intent_key = ("reachability-intent", lab.app_private_subnet)
    opened = [f for f in post_audit(client)["changes"]["opened"] if (f["check"], f["resource_id"]) == intent_key]
    assert len(opened) == 1 and opened[0]["evidence"]["intent"] == INTENT
    finding_id = opened[0]["id"]
    deployed.messages()

    ec2 = boto3.client("ec2", region_name=REGION)
    response = apply_fix(ec2, lab)
    result = client.lambda_.invoke("on_network_change", fix_event(lab, response, ACCOUNT, "fix-paths-1")).payload
    assert result["scope"] == {"region": REGION, "vpc_ids": [lab.app_vpc], "region_wide": False}
    assert result["paths"]["checks"] == ["routes-return-path", "reachability-intent"]
    assert finding_id in result["changes"]["resolved"]
    assert ("finding.resolved", *intent_key) in deployed.messages()
    assert json.loads(client.http.get(f"/findings/{finding_id}").body)["status"] == "RESOLVED"

    # The endpoint goes: S3 is blocked again (moto keeps the route to the deleted
    # endpoint; AWS removes it), and the deletion's event alone reopens the intent.
    endpoint = response["VpcEndpoint"]["VpcEndpointId"]
    ec2.delete_vpc_endpoints(VpcEndpointIds=[endpoint])
    event = cloudtrail_event(
        "DeleteVpcEndpoints",
        {"DeleteVpcEndpointsRequest": {"VpcEndpointId": {"tag": 1, "content": endpoint}}},
        {"DeleteVpcEndpointsResponse": {"xmlns": "http://ec2.amazonaws.com/doc/2016-11-15/", "unsuccessful": ""}},
        account_id=ACCOUNT,
        region=REGION,
        event_id="delete-endpoint-1",
    )
    result = client.lambda_.invoke("on_network_change", event).payload
    assert result["scope"]["vpc_ids"] == [lab.app_vpc] and "paths" in result  # scoped, then the paths
    assert finding_id in result["changes"]["reopened"]
    assert ("finding.reopened", *intent_key) in deployed.messages()
    stored = json.loads(client.http.get(f"/findings/{finding_id}").body)
    assert (stored["status"], stored["evidence"]["verdict"]) == ("OPEN", "unreachable")


def test_without_intents_an_event_rejudges_only_return_paths(deployed: Deployed, client: Client) -> None:
    result = client.lambda_.invoke("on_network_change", route_event(deployed.lab)).payload
    assert result["paths"]["checks"] == ["routes-return-path"]  # the policy has no intent
