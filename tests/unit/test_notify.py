"""The notification renderers (pure) and the Slack forwarder with a fake webhook client."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import pytest

from chalicelib.aws.publish.slack import SlackDeliveryError, forward_to_slack
from chalicelib.aws.publish.sns import publish_batch
from chalicelib.core.model import OPENED, REOPENED, RESOLVED, Change, Finding, Severity
from chalicelib.render.messages import (
    CHATBOT_DESCRIPTION_MAX,
    CHATBOT_TITLE_MAX,
    SNS_MESSAGE_MAX_BYTES,
    dedupe_key,
    parse_message,
    sns_message,
)
from chalicelib.render.slack import SLACK_FALLBACK_MAX, slack_blocks

TYPES = (OPENED, RESOLVED, REOPENED)
URL = "https://hooks.slack.com/services/T0000/B0000/s3cr3t-t0ken"
KEY = "vw-0123456789abcdef01234567#3"  # the dedupe key of the change's state version


def make_finding(**overrides: Any) -> Finding:
    fields: dict[str, Any] = {
        "id": "vw-0123456789abcdef01234567",
        "check": "connected-cidrs-non-overlapping",
        "severity": Severity.HIGH,
        "account_id": "123456789012",
        "region": "us-east-1",
        "resource_type": "AWS::EC2::VPC",
        "resource_id": "vpc-0abc",
        "resource_arn": "arn:aws:ec2:us-east-1:123456789012:vpc/vpc-0abc",
        "vpc_id": "vpc-0abc",
        "title": "CIDRs reachable from a VPC do not overlap",
        "detail": "vpc-0abc reaches 10.2.0.0/16 through pcx-1 and 10.2.0.0/24 through tgw-rtb-1",
        "remediation": "Renumber one of the overlapping networks. CLI: aws ec2 disable-transit-gateway-route-"
        "table-propagation --transit-gateway-route-table-id <tgw-rtb-id> --transit-gateway-attachment-id "
        "<tgw-attach-id>",
        "evidence": {"pairs": [{"a": "10.2.0.0/16", "via_a": "pcx-1", "b": "10.2.0.0/24", "via_b": "tgw-rtb-1"}]},
        "first_seen": "2026-11-26T03:00:00Z",
        "last_seen": "2026-11-26T04:00:00Z",
    }
    fields.update(overrides)
    return Finding(**fields)


def change_of(change_type: str, **overrides: Any) -> Change:
    if change_type == RESOLVED:
        overrides = {"status": "RESOLVED", "resolved_at": "2026-11-26T05:00:00Z", **overrides}
    return Change(change_type, make_finding(**overrides))


def structured(change: Change) -> dict[str, Any]:
    message = json.loads(sns_message(change, KEY)["Message"])
    assert isinstance(message, dict)
    return message


HUGE_EVIDENCE = {
    "pairs": [{"a": f"10.{i // 256}.{i % 256}.0/24", "via": "x" * 40} for i in range(2000)],
    "note": "n" * 20_000,
}


# ---------------------------------------------------------------------------------
# default: the SPEC §4 contract
# ---------------------------------------------------------------------------------


@pytest.mark.parametrize("change_type", TYPES)
def test_default_is_exactly_the_contract_and_round_trips(change_type: str) -> None:
    change = change_of(change_type)
    kwargs = sns_message(change, KEY)
    assert kwargs["MessageStructure"] == "json"
    assert "TopicArn" not in kwargs
    default = json.loads(structured(change)["default"])
    assert default == {"type": change_type, "finding": change.finding.to_dict()}
    assert Finding.from_dict(default["finding"]) == change.finding


def test_every_top_level_value_is_a_string() -> None:
    # SNS refuses a JSON-structure message whose protocol values are not strings.
    message = structured(change_of(OPENED))
    assert set(message) == {"default", "email", "https"}
    assert all(isinstance(value, str) for value in message.values())


def test_unknown_change_type_is_refused() -> None:
    with pytest.raises(ValueError, match=r"finding\.closed"):
        sns_message(Change("finding.closed", make_finding()), KEY)


# ---------------------------------------------------------------------------------
# email
# ---------------------------------------------------------------------------------


@pytest.mark.parametrize("change_type", TYPES)
def test_email_is_readable_and_complete(change_type: str) -> None:
    change = change_of(change_type)
    email = structured(change)["email"]
    finding = change.finding
    for expected in (
        finding.id,
        finding.title,
        finding.check,
        finding.severity.name,
        finding.resource_id,
        finding.resource_arn,
        finding.account_id,
        finding.region,
        finding.detail,
        "Renumber one of the overlapping networks.",
        "CLI: aws ec2 disable-transit-gateway-route-table-propagation",
        "<tgw-rtb-id>",
        "pairs (1)",
        finding.first_seen,
        finding.last_seen,
    ):
        assert expected in email
    assert ("Resolved at: 2026-11-26T05:00:00Z" in email) == (change_type == RESOLVED)
    assert not email.lstrip().startswith("{")


def test_email_cli_comes_from_the_registry_when_the_finding_has_none() -> None:
    email = structured(change_of(OPENED, check="tgw-auto-accept-disabled", remediation="Disable it."))["email"]
    assert "Disable it." in email
    assert "aws ec2 modify-transit-gateway" in email
    assert "Security Hub EC2.23" in email


def test_email_summarises_huge_evidence() -> None:
    email = structured(change_of(OPENED, evidence=HUGE_EVIDENCE))["email"]
    assert "pairs (2000)" in email
    assert "(+1995 more)" in email
    assert len(email) < 10_000


# ---------------------------------------------------------------------------------
# https: Amazon Q Developer in chat applications custom notification
# ---------------------------------------------------------------------------------


def assert_custom_notification(doc: dict[str, Any]) -> None:
    """The event schema of the Chatbot custom notifications guide."""
    assert doc["version"] == "1.0"
    assert doc["source"] == "custom"
    assert isinstance(doc["id"], str) and doc["id"]
    assert set(doc) <= {"version", "source", "id", "content", "metadata"}
    content = doc["content"]
    assert set(content) <= {"textType", "title", "description", "nextSteps", "keywords"}
    assert content["textType"] == "client-markdown"
    assert isinstance(content["title"], str) and content["title"]
    assert isinstance(content["description"], str) and content["description"]
    for key in ("nextSteps", "keywords"):
        assert isinstance(content[key], list) and all(isinstance(s, str) and s for s in content[key])
    metadata = doc["metadata"]
    assert set(metadata) <= {"threadId", "summary", "eventType", "relatedResources", "additionalContext"}
    for key in ("threadId", "summary", "eventType"):
        assert isinstance(metadata[key], str) and metadata[key]
    assert all(isinstance(arn, str) for arn in metadata["relatedResources"])
    assert all(isinstance(k, str) and isinstance(v, str) for k, v in metadata["additionalContext"].items())


@pytest.mark.parametrize("change_type", TYPES)
def test_https_is_a_valid_custom_notification(change_type: str) -> None:
    change = change_of(change_type)
    doc = json.loads(structured(change)["https"])
    assert_custom_notification(doc)
    assert doc["metadata"]["threadId"] == change.finding.id
    assert doc["metadata"]["eventType"] == change_type
    assert doc["metadata"]["relatedResources"] == [change.finding.resource_arn]
    assert doc["metadata"]["additionalContext"]["findingId"] == change.finding.id
    assert change.finding.detail in doc["content"]["description"]
    assert any(change.finding.id in step for step in doc["content"]["nextSteps"])
    steps = " ".join(doc["content"]["nextSteps"])
    assert ("aws ec2 disable-transit-gateway-route-table-propagation" in steps) == (change_type != RESOLVED)


def test_opening_and_resolution_share_a_thread_but_not_an_id() -> None:
    opened = json.loads(structured(change_of(OPENED))["https"])
    resolved = json.loads(structured(change_of(RESOLVED))["https"])
    reopened = json.loads(structured(change_of(REOPENED, last_seen="2026-11-27T00:00:00Z"))["https"])
    assert opened["metadata"]["threadId"] == resolved["metadata"]["threadId"] == reopened["metadata"]["threadId"]
    assert len({opened["id"], resolved["id"], reopened["id"]}) == 3
    # A retried publish of the same change keeps its id.
    assert json.loads(structured(change_of(OPENED))["https"])["id"] == opened["id"]


def test_absent_values_are_left_out_of_additional_context() -> None:
    doc = json.loads(structured(change_of(OPENED, vpc_id=None))["https"])
    assert "vpcId" not in doc["metadata"]["additionalContext"]
    assert "resolvedAt" not in doc["metadata"]["additionalContext"]


def test_https_description_is_bounded_for_huge_evidence() -> None:
    doc = json.loads(structured(change_of(OPENED, evidence=HUGE_EVIDENCE))["https"])
    assert_custom_notification(doc)
    assert len(doc["content"]["description"]) <= CHATBOT_DESCRIPTION_MAX
    assert len(doc["content"]["title"]) <= CHATBOT_TITLE_MAX


# ---------------------------------------------------------------------------------
# attributes and subject
# ---------------------------------------------------------------------------------


@pytest.mark.parametrize("change_type", TYPES)
def test_attributes_allow_filter_policies(change_type: str) -> None:
    change = change_of(change_type, severity=Severity.CRITICAL)
    attributes = sns_message(change, KEY)["MessageAttributes"]
    assert attributes == {
        "severity": {"DataType": "String", "StringValue": "CRITICAL"},
        "check": {"DataType": "String", "StringValue": "connected-cidrs-non-overlapping"},
        "type": {"DataType": "String", "StringValue": change_type},
        "dedupe_key": {"DataType": "String", "StringValue": KEY},
    }


def test_the_dedupe_key_is_the_finding_id_and_state_version_and_never_missing() -> None:
    assert dedupe_key("vw-0123456789abcdef01234567", 3) == KEY
    with pytest.raises(ValueError, match="dedupe_key"):
        sns_message(change_of(OPENED), "")


def test_subject_names_severity_change_check_and_resource() -> None:
    assert sns_message(change_of(OPENED), KEY)["Subject"] == (
        "[vpcwatch] HIGH opened: connected-cidrs-non-overlapping vpc-0abc"
    )
    assert sns_message(change_of(RESOLVED), KEY)["Subject"].startswith("[vpcwatch] HIGH resolved: ")


@pytest.mark.parametrize(
    "resource_id",
    ["tgw-rtb-" + "0" * 300, "vpce-svc-ünïcødé-\u2603-\n\t-x", "vpc-1\r\nBcc: someone@example.com"],
)
def test_subject_is_short_ascii_and_single_line(resource_id: str) -> None:
    text = sns_message(change_of(OPENED, check="endpoint-service-trusted-principals", resource_id=resource_id), KEY)[
        "Subject"
    ]
    assert 0 < len(text) <= 100
    assert text.isascii() and text.isprintable()
    assert text.startswith("[vpcwatch] HIGH opened: endpoint-service-trusted-principals")


def test_whole_message_fits_sns_even_with_huge_evidence() -> None:
    kwargs = sns_message(change_of(OPENED, evidence=HUGE_EVIDENCE), KEY)
    size = len(kwargs["Message"].encode()) + len(kwargs["Subject"]) + len(json.dumps(kwargs["MessageAttributes"]))
    assert size < SNS_MESSAGE_MAX_BYTES
    default = json.loads(json.loads(kwargs["Message"])["default"])
    assert default["finding"]["evidence"] == HUGE_EVIDENCE  # the contract is never cut


# ---------------------------------------------------------------------------------
# Slack Block Kit
# ---------------------------------------------------------------------------------


def assert_block_kit_limits(payload: dict[str, Any]) -> None:
    assert isinstance(payload["text"], str) and 0 < len(payload["text"]) <= SLACK_FALLBACK_MAX
    blocks = payload["blocks"]
    assert 0 < len(blocks) <= 50
    for block in blocks:
        if block["type"] == "header":
            assert block["text"]["type"] == "plain_text"
            assert len(block["text"]["text"]) <= 150
        elif block["type"] == "section":
            if "text" in block:
                assert len(block["text"]["text"]) <= 3000
            fields = block.get("fields", [])
            assert len(fields) <= 10
            assert all(len(field["text"]) <= 2000 for field in fields)
        elif block["type"] == "context":
            assert len(block["elements"]) <= 10
            assert all(len(element["text"]) <= 3000 for element in block["elements"])
        else:
            raise AssertionError(f"unexpected block {block['type']}")


@pytest.mark.parametrize("change_type", TYPES)
def test_slack_blocks_carry_the_finding(change_type: str) -> None:
    change = change_of(change_type)
    payload = slack_blocks(change.to_message())
    assert_block_kit_limits(payload)
    header = payload["blocks"][0]["text"]["text"]
    emoji = {OPENED: ":red_circle:", RESOLVED: ":white_check_mark:", REOPENED: ":repeat:"}[change_type]
    assert header.startswith(emoji)
    assert change.finding.title in header
    fields = " ".join(f["text"] for f in payload["blocks"][1]["fields"])
    for expected in ("*Check*", "connected-cidrs-non-overlapping", "*Severity*\nHIGH", "vpc-0abc", "us-east-1"):
        assert expected in fields
    assert "123456789012" in fields
    text = json.dumps(payload)
    assert change.finding.detail in text
    assert change.finding.id in text
    # CLI placeholders are escaped, or Slack would read <tgw-rtb-id> as a link.
    assert ("&lt;tgw-rtb-id&gt;" in text) == (change_type != RESOLVED)
    assert "<tgw-rtb-id>" not in text


def test_slack_header_emoji_follows_severity() -> None:
    for severity, emoji in ((Severity.CRITICAL, ":rotating_light:"), (Severity.LOW, ":large_yellow_circle:")):
        payload = slack_blocks(change_of(OPENED, severity=severity).to_message())
        assert payload["blocks"][0]["text"]["text"].startswith(emoji)


def test_slack_blocks_respect_limits_for_huge_values() -> None:
    change = change_of(
        OPENED,
        evidence=HUGE_EVIDENCE,
        detail="d" * 10_000,
        title="t" * 500,
        resource_id="r" * 3000,
        remediation="x" * 5000 + " CLI: " + "aws " * 2000,
    )
    payload = slack_blocks(change.to_message())
    assert_block_kit_limits(payload)
    evidence = next(b for b in payload["blocks"] if "Evidence" in b.get("text", {}).get("text", ""))
    assert evidence["text"]["text"].endswith("\n```")


def test_slack_blocks_refuse_other_messages() -> None:
    with pytest.raises(ValueError):
        slack_blocks({"type": "something.else", "finding": make_finding().to_dict()})


# ---------------------------------------------------------------------------------
# parse_message and forward_to_slack (fake client)
# ---------------------------------------------------------------------------------


def test_parse_message_accepts_default_and_whole_structure() -> None:
    change = change_of(OPENED)
    kwargs = sns_message(change, KEY)
    default = json.loads(kwargs["Message"])["default"]
    assert parse_message(default) == change.to_message()
    assert parse_message(kwargs["Message"]) == change.to_message()


@pytest.mark.parametrize(
    "raw",
    [
        None,
        "",
        "plain text alarm",
        "[1, 2]",
        json.dumps({"AlarmName": "cpu"}),
        json.dumps({"type": "finding.opened"}),
        json.dumps({"type": "finding.opened", "finding": {"id": "vw-1"}}),
        json.dumps({"type": "other", "finding": make_finding().to_dict()}),
        json.dumps({"default": "not json"}),
    ],
)
def test_parse_message_rejects_what_is_not_a_vpcwatch_change(raw: Any) -> None:
    assert parse_message(raw) is None


class FakeResponse:
    def __init__(self, status_code: int, body: str = "ok") -> None:
        self.status_code = status_code
        self.body = body


class FakeClient:
    def __init__(self, status_code: int = 200, body: str = "ok", error: Exception | None = None) -> None:
        self.status_code, self.body, self.error = status_code, body, error
        self.sent: list[dict[str, Any]] = []
        self.urls: list[str] = []

    def __call__(self, url: str) -> FakeClient:  # the client factory
        self.urls.append(url)
        return self

    def send(self, **kwargs: Any) -> FakeResponse:
        if self.error is not None:
            raise self.error
        self.sent.append(kwargs)
        return FakeResponse(self.status_code, self.body)


def sns_event(*messages: Any) -> dict[str, Any]:
    return {
        "Records": [
            {"EventSource": "aws:sns", "Sns": {"MessageId": f"m-{i}", "Message": message}}
            for i, message in enumerate(messages)
        ]
    }


def test_forward_posts_vpcwatch_messages_and_skips_others(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level("DEBUG")
    opened, resolved = change_of(OPENED), change_of(RESOLVED)
    event = sns_event(
        json.loads(sns_message(opened, KEY)["Message"])["default"],
        "a CloudWatch alarm",
        sns_message(resolved, KEY)["Message"],
    )
    client = FakeClient()
    assert forward_to_slack(event, URL, client_factory=client) == 2
    assert client.urls == [URL]
    assert [sent["blocks"] for sent in client.sent] == [
        slack_blocks(opened.to_message())["blocks"],
        slack_blocks(resolved.to_message())["blocks"],
    ]
    assert any("m-1" in r.getMessage() and "skipped" in r.getMessage() for r in caplog.records)
    assert all(URL not in r.getMessage() for r in caplog.records)


def test_forward_without_vpcwatch_messages_makes_no_client() -> None:
    client = FakeClient()
    assert forward_to_slack(sns_event("hello"), URL, client_factory=client) == 0
    assert forward_to_slack({}, URL, client_factory=client) == 0
    assert client.urls == []


def test_forward_raises_naming_the_status() -> None:
    event = sns_event(json.dumps(change_of(OPENED).to_message()))
    with pytest.raises(SlackDeliveryError, match="HTTP 404") as raised:
        forward_to_slack(event, URL, client_factory=FakeClient(404, "no_service"))
    assert "no_service" in str(raised.value)


def test_forward_wraps_transport_errors_without_the_url() -> None:
    event = sns_event(json.dumps(change_of(OPENED).to_message()))
    client = FakeClient(error=ValueError(f"Invalid URL detected: {URL}"))
    with pytest.raises(SlackDeliveryError, match="ValueError") as raised:
        forward_to_slack(event, URL, client_factory=client)
    assert URL not in str(raised.value)
    assert raised.value.__cause__ is None and raised.value.__suppress_context__


def test_findings_without_a_known_check_still_render() -> None:
    finding = dataclasses.replace(make_finding(), check="future-check", remediation="Fix it.")
    change = Change(OPENED, finding)
    assert "Fix it." in structured(change)["email"]
    assert_block_kit_limits(slack_blocks(change.to_message()))


# ---------------------------------------------------------------------------------
# publish_batch (fake SNS client)
# ---------------------------------------------------------------------------------


class FakeSns:
    """Records each PublishBatch request; refuses the entries whose finding ids it is told
    to, or the whole request while ``down``."""

    def __init__(self, refuse: frozenset[str] = frozenset(), down: int = 0) -> None:
        self.requests: list[list[dict[str, Any]]] = []
        self.refuse, self.down = refuse, down

    def publish_batch(self, TopicArn: str, PublishBatchRequestEntries: list[dict[str, Any]]) -> dict[str, Any]:
        from botocore.exceptions import ClientError

        self.requests.append(PublishBatchRequestEntries)
        assert len(PublishBatchRequestEntries) <= 10
        if self.down:
            self.down -= 1
            raise ClientError({"Error": {"Code": "Throttled", "Message": "slow down"}}, "PublishBatch")
        ok, failed = [], []
        for entry in PublishBatchRequestEntries:
            finding = json.loads(json.loads(entry["Message"])["default"])["finding"]["id"]
            if finding in self.refuse:
                failed.append({"Id": entry["Id"], "Code": "InvalidParameter", "Message": "no", "SenderFault": True})
            else:
                ok.append({"Id": entry["Id"], "MessageId": f"m-{finding}"})
        return {"Successful": ok, "Failed": failed}


def _changes(count: int, **overrides: Any) -> list[tuple[Change, str]]:
    ids = [f"vw-{n:024x}" for n in range(count)]
    return [(Change(OPENED, make_finding(id=i, **overrides)), f"{i}#1") for i in ids]


def test_publish_batch_sends_ten_a_request_each_with_its_dedupe_key() -> None:
    sns = FakeSns()
    changes = _changes(23)
    results = publish_batch(sns, "arn:aws:sns:us-east-1:123456789012:t", changes)
    assert [len(r) for r in sns.requests] == [10, 10, 3]
    assert [r.message_id for r in results] == [f"m-{c.finding.id}" for c, _ in changes]
    sent = [e for request in sns.requests for e in request]
    assert [e["MessageAttributes"]["dedupe_key"]["StringValue"] for e in sent] == [k for _, k in changes]
    assert all(e["MessageStructure"] == "json" and len(e["Id"]) <= 80 for e in sent)


def test_publish_batch_keeps_each_request_within_the_aggregate_size() -> None:
    sns = FakeSns()
    changes = _changes(6, evidence=HUGE_EVIDENCE)  # each message close to 256 KiB on its own
    results = publish_batch(sns, "arn", changes)
    assert all(r.ok for r in results)
    for request in sns.requests:
        size = sum(
            len(e["Message"].encode()) + len(e["Subject"]) + len(json.dumps(e["MessageAttributes"])) for e in request
        )
        assert size <= SNS_MESSAGE_MAX_BYTES
    assert sum(len(r) for r in sns.requests) == 6 and len(sns.requests) >= 3


def test_publish_batch_reports_refused_entries_and_requests_without_raising() -> None:
    changes = _changes(12)
    refused = changes[3][0].finding.id
    sns = FakeSns(refuse=frozenset({refused}), down=1)  # the first request fails whole
    results = publish_batch(sns, "arn", changes)
    assert [r.ok for r in results] == [False] * 10 + [True, True]
    assert all(r.error and r.error.startswith("Throttled") for r in results[:10])
    again = publish_batch(sns, "arn", changes[:10])
    assert [r.ok for r in again] == [n != 3 for n in range(10)]
    assert again[3].error == "InvalidParameter: no"
