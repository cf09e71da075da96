"""Many accounts and regions (SPEC §5) against moto's in-process ``mock_aws``: an
organization of three accounts (ours, the management account, and two members moto
creates), two regions, the member role assumed through STS. moto keeps each account's
EC2 state apart, so a finding labelled with the wrong account, or a VPC audited in the
wrong account, shows.

Faults are injected with botocore handlers: AssumeRole refused for one account's role
ARN, EC2 refusing every call in one region as a region not enabled would.

moto's in-process backends are not thread-safe (two concurrent UpdateItem calls on one
DynamoDB item can raise inside moto), while an AWS endpoint applies each request
atomically: so moto answers one request at a time here, and vpcwatch's threads still
race each other as they would against AWS."""

from __future__ import annotations

import datetime as dt
import json
import logging
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from chalicelib.aws.accounts import (
    AssumedSessions,
    AuditUnavailableError,
    RoleAssumptionError,
    member_accounts,
    pairs,
    regions_to_audit,
)
from chalicelib.aws.session import make_client
from chalicelib.aws.settings import Settings, load_settings
from chalicelib.core.events import checks_for_event
from chalicelib.core.model import Finding
from chalicelib.core.settling import MAX_RECHECKS, RECHECK_DELAY_SECONDS
from chalicelib.service.outcome import Outcome
from chalicelib.service.pipelines import Service
from tests.integration.conftest import ACCOUNT, PEER_REGION, REGION
from vpcwatch_tools.infra import MEMBER_ROLE_NAME
from vpcwatch_tools.lab import cloudtrail_event, remove_default_vpc
from vpcwatch_tools.provision import provision

REGIONS = (REGION, PEER_REGION)
EXTERNAL_ID = "vpcwatch-test-external-id"


@pytest.fixture(autouse=True)
def moto_one_request_at_a_time(monkeypatch: pytest.MonkeyPatch) -> None:
    from moto.core.botocore_stubber import BotocoreStubber

    lock = threading.RLock()
    answer = BotocoreStubber.__call__

    def serialized(self: BotocoreStubber, event_name: str, request: Any, **kwargs: Any) -> Any:
        with lock:
            return answer(self, event_name, request, **kwargs)

    monkeypatch.setattr(BotocoreStubber, "__call__", serialized)


@dataclass
class Org:
    session: boto3.session.Session
    env: dict[str, str]
    accounts: list[str]  # ours first, then the two members
    vpcs: dict[tuple[str, str], str]  # (account, region) -> the VPC built there

    @property
    def members(self) -> list[str]:
        return self.accounts[1:]

    def settings(self, **changes: Any) -> Settings:
        base = Settings(
            region=REGION,
            findings_table=self.env["FINDINGS_TABLE"],
            alerts_topic_arn=self.env["ALERTS_TOPIC_ARN"],
            audit_regions=REGIONS,
            member_role_name=MEMBER_ROLE_NAME,
            external_id=EXTERNAL_ID,
            audit_queue_url=self.env["AUDIT_QUEUE_URL"],
        )
        return replace(base, **changes)

    def service(self, **changes: Any) -> Service:
        return Service(self.settings(**changes), session=self.session)

    def member_ec2(self, account: str, region: str) -> Any:
        if account == ACCOUNT:
            return make_client(self.session, "ec2", region)
        creds = self.session.client("sts", region_name=REGION).assume_role(
            RoleArn=f"arn:aws:iam::{account}:role/{MEMBER_ROLE_NAME}", RoleSessionName="builder"
        )["Credentials"]
        return boto3.client(
            "ec2",
            region_name=region,
            aws_access_key_id=creds["AccessKeyId"],
            aws_secret_access_key=creds["SecretAccessKey"],
            aws_session_token=creds["SessionToken"],
        )


@pytest.fixture
def org(session: boto3.session.Session) -> Org:
    """Ours (moto's management account) and two member accounts, each with one private
    VPC per region (10.<account>.<region>.0/24, one subnet, no flow log, no endpoint)."""
    organizations = session.client("organizations", region_name=REGION)
    organizations.create_organization(FeatureSet="ALL")
    for n in range(2):
        organizations.create_account(AccountName=f"member-{n}", Email=f"member-{n}@example.com")
    accounts = [ACCOUNT] + [a for a in member_accounts(organizations) if a != ACCOUNT]
    assert len(accounts) == 3
    org = Org(session, provision(session, REGION), accounts, {})
    for a, account in enumerate(accounts):
        for r, region in enumerate(REGIONS):
            ec2 = org.member_ec2(account, region)
            remove_default_vpc(ec2)
            vpc = ec2.create_vpc(CidrBlock=f"10.{a}.{r}.0/24")["Vpc"]["VpcId"]
            ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.{a}.{r}.0/25", AvailabilityZone=f"{region}a")
            org.vpcs[(account, region)] = vpc
    return org


def drain(org: Org) -> list[dict[str, Any]]:
    sqs = make_client(org.session, "sqs", REGION)
    bodies: list[dict[str, Any]] = []
    while True:
        batch = sqs.receive_message(QueueUrl=org.env["AUDIT_QUEUE_URL"], MaxNumberOfMessages=10).get("Messages", [])
        if not batch:
            return bodies
        for message in batch:
            bodies.append(json.loads(message["Body"]))
            sqs.delete_message(QueueUrl=org.env["AUDIT_QUEUE_URL"], ReceiptHandle=message["ReceiptHandle"])


def stored(service: Service, vpc_id: str) -> list[Finding]:
    findings, _ = service.store.query(vpc_id=vpc_id, limit=100)
    return findings


def flow_log_finding(service: Service, vpc_id: str) -> Finding:
    (finding,) = [f for f in stored(service, vpc_id) if f.check == "vpc-flow-logs-enabled"]
    return finding


def delete_vpc(org: Org, account: str, region: str) -> None:
    ec2 = org.member_ec2(account, region)
    vpc = org.vpcs[(account, region)]
    for subnet in ec2.describe_subnets(Filters=[{"Name": "vpc-id", "Values": [vpc]}])["Subnets"]:
        ec2.delete_subnet(SubnetId=subnet["SubnetId"])
    ec2.delete_vpc(VpcId=vpc)


def deny_assume_role(session: boto3.session.Session, account: str) -> Callable[..., None]:
    """Refuse AssumeRole on ``account``'s member role (moto itself never refuses)."""

    def deny(params: dict[str, Any], **kwargs: Any) -> None:
        if f":{account}:" in str(params.get("RoleArn")):
            raise ClientError({"Error": {"Code": "AccessDenied", "Message": "not authorized"}}, "AssumeRole")

    session.events.register("before-parameter-build.sts.AssumeRole", deny)
    return deny


def assert_each_pair_audited_in_its_account(org: Org, service: Service) -> None:
    for (account, region), vpc in org.vpcs.items():
        finding = flow_log_finding(service, vpc)
        assert (finding.account_id, finding.region, finding.status) == (account, region, "OPEN")
        assert finding.resource_arn == f"arn:aws:ec2:{region}:{account}:vpc/{vpc}"
        # every finding of that VPC is labelled with the account and region it lives in
        assert {(f.account_id, f.region) for f in stored(service, vpc)} == {(account, region)}


# -- the sweep and the worker ----------------------------------------------------------


def test_sweep_sends_one_message_per_account_and_region(org: Org) -> None:
    swept = org.service().sweep()
    assert swept["enqueued"] == 6 and swept["errors"] == []
    assert (swept["accounts"], swept["regions"]) == (3, list(REGIONS))
    messages = drain(org)
    assert len(messages) == 6
    assert {(m["account_id"], m["region"]) for m in messages} == set(pairs(org.accounts, REGIONS))
    assert all(set(m) == {"account_id", "region"} for m in messages)


def test_the_worker_audits_each_pair_in_its_account_and_region(org: Org) -> None:
    service = org.service()
    service.sweep()
    messages = drain(org)
    assumed: list[str] = []
    service.sessions.prepare = lambda account, session: assumed.append(account)
    result = service.work(messages)
    assert result["errors"] == []
    assert {(a["account_id"], a["region"]) for a in result["audited"]} == set(pairs(org.accounts, REGIONS))
    assert sorted(assumed) == sorted(org.members)  # once per member, both regions on one session; ours never
    assert_each_pair_audited_in_its_account(org, service)


def test_sweep_in_process_audits_every_pair_with_bounded_concurrency(org: Org) -> None:
    service = org.service(audit_queue_url=None)
    running = peak = 0
    lock = threading.Lock()
    audit_and_notify = service.audit_and_notify

    def tracked(*args: Any, **kwargs: Any) -> Outcome:
        nonlocal running, peak
        with lock:
            running += 1
            peak = max(peak, running)
        try:
            return audit_and_notify(*args, **kwargs)
        finally:
            with lock:
                running -= 1

    service.audit_and_notify = tracked  # type: ignore[method-assign]
    swept = service.sweep()
    assert (swept["pairs"], swept["audited"], swept["errors"]) == (6, 6, [])
    assert 1 < peak <= 4
    assert_each_pair_audited_in_its_account(org, service)
    assert drain(org) == []  # nothing went through the queue


def test_an_account_whose_role_cannot_be_assumed_is_reported_and_keeps_its_findings(org: Org) -> None:
    org.service(audit_queue_url=None).sweep()
    bad = org.members[1]
    # Delete the bad account's VPCs: an audit that ran would resolve their findings.
    for region in REGIONS:
        delete_vpc(org, bad, region)
    service = org.service(audit_queue_url=None)
    deny = deny_assume_role(org.session, bad)
    swept = service.sweep()
    assert swept["audited"] == 4
    assert [(e["api"], e["account_id"], e["region"], e["error"]) for e in swept["errors"]] == [
        ("sts:AssumeRole", bad, REGION, "AccessDenied"),
        ("sts:AssumeRole", bad, PEER_REGION, "AccessDenied"),
    ]
    assert f"arn:aws:iam::{bad}:role/{MEMBER_ROLE_NAME}" in swept["errors"][0]["message"]
    for region in REGIONS:
        assert {f.status for f in stored(service, org.vpcs[(bad, region)])} == {"OPEN"}  # none resolved
    # The worker path: the message fails (a retry is worth it), the pair is not recorded.
    with pytest.raises(RoleAssumptionError) as raised:
        service.audit_message({"account_id": bad, "region": REGION})
    assert raised.value.failure.account_id == bad and raised.value.code == "AccessDenied"
    worked = service.work([{"account_id": bad, "region": REGION}, {"account_id": org.members[0], "region": REGION}])
    assert worked["audited"] == [{"account_id": org.members[0], "region": REGION}]
    assert [(e["account_id"], e["error"]) for e in worked["errors"]] == [(bad, "AccessDenied")]
    assert flow_log_finding(service, org.vpcs[(bad, REGION)]).status == "OPEN"
    # Once the role can be assumed again, the next sweep resolves what was fixed.
    org.session.events.unregister("before-parameter-build.sts.AssumeRole", deny)
    healed = org.service(audit_queue_url=None).sweep()
    assert healed["errors"] == [] and healed["audited"] == 6
    for region in REGIONS:
        findings = stored(service, org.vpcs[(bad, region)])
        assert findings and {f.status for f in findings} == {"RESOLVED"}


# AuthFailure is "not enabled" only where DescribeRegions says so (us-west-2 is enabled):
# tests/integration/test_fail_closed.py covers it, retriable and permanent.
@pytest.mark.parametrize("code", ["OptInRequired"])
def test_a_disabled_region_is_one_error_and_resolves_nothing(org: Org, code: str) -> None:
    service = org.service(audit_queue_url=None)
    service.sweep()
    member = org.members[0]
    delete_vpc(org, member, PEER_REGION)

    def refuse(account: str, session: boto3.session.Session) -> None:
        if account != member:
            return

        def handler(params: dict[str, Any], **kwargs: Any) -> None:
            if PEER_REGION in str(params.get("url")):
                raise ClientError({"Error": {"Code": code, "Message": "not enabled"}}, "DescribeVpcs")

        session.events.register("before-call.ec2", handler)

    broken = Service(org.settings(audit_queue_url=None), session=org.session, session_hook=refuse)
    swept = broken.sweep()
    assert swept["audited"] == 5
    (error,) = swept["errors"]
    assert (error["account_id"], error["region"], error["error"]) == (member, PEER_REGION, code)
    assert error["api"].startswith("ec2:") and "not enabled" in error["message"]
    # The VPC is gone, but nothing was collected there: its finding stays open.
    assert flow_log_finding(service, org.vpcs[(member, PEER_REGION)]).status == "OPEN"
    # A disabled region is permanent: the worker reports it without failing the message.
    outcome = broken.audit_message({"account_id": member, "region": PEER_REGION})
    assert [f.code for f in outcome.failures] == [code] and outcome.retriable_failures == ()
    assert outcome.changes == ()


def test_strict_audit_raises_and_names_the_account(org: Org) -> None:
    bad = org.members[0]
    deny_assume_role(org.session, bad)
    with pytest.raises(AuditUnavailableError) as raised:
        org.service().audit([REGION], account_id=bad)
    assert raised.value.failure.api == "sts:AssumeRole" and bad in str(raised.value)


def test_audit_accounts_reports_the_unassumable_one_and_audits_the_rest(org: Org) -> None:
    good, bad = org.members
    deny_assume_role(org.session, bad)
    body = org.service().audit_accounts([good, bad], [REGION])
    audit = body["audit"]
    assert audit["accounts"] == [good, bad] and audit["account_id"] is None
    assert [(e["api"], e["account_id"], e["error"]) for e in audit["errors"]] == [
        ("sts:AssumeRole", bad, "AccessDenied")
    ]
    assert {f["account_id"] for f in body["findings"]} == {good}
    assert org.vpcs[(good, REGION)] in {f["resource_id"] for f in body["findings"]}
    assert {f["account_id"] for f in body["changes"]["opened"]} == {good}
    own = org.service().audit_accounts([], [REGION])
    assert own["audit"]["accounts"] == [ACCOUNT] and own["audit"]["account_id"] == ACCOUNT


# -- events from member accounts -----------------------------------------------------


def member_event(account: str, vpc_id: str, event_id: str) -> dict[str, Any]:
    return cloudtrail_event(
        "CreateFlowLogs",
        {"CreateFlowLogsRequest": {"ResourceId": {"tag": 1, "content": vpc_id}, "ResourceType": "VPC"}},
        None,
        account_id=account,
        region=REGION,
        event_id=event_id,
    )


def test_a_member_account_event_is_audited_in_that_account(org: Org) -> None:
    member = org.members[0]
    vpc = org.vpcs[(member, REGION)]
    service = org.service()
    answer = service.on_event(member_event(member, vpc, "e-member"))
    assert answer["account_id"] == member
    assert answer["scope"]["region"] == REGION and answer["scope"]["vpc_ids"] == [vpc]
    opened = set(answer["changes"]["opened"])
    finding = flow_log_finding(service, vpc)
    assert finding.id in opened and (finding.account_id, finding.region) == (member, REGION)
    # nothing of any other account was touched
    for (account, region), other in org.vpcs.items():
        if (account, region) != (member, REGION):
            assert stored(service, other) == []
    # without MEMBER_ROLE_NAME, a member's event is not this account's: skipped
    unset = org.service(member_role_name=None).on_event(member_event(member, vpc, "e-unset"))
    assert unset == {"skipped": True, "reason": "foreign account"}


def test_a_member_event_whose_role_fails_is_an_error_not_a_crash(org: Org) -> None:
    bad = org.members[1]
    deny_assume_role(org.session, bad)
    seen: list[Outcome] = []
    service = org.service()
    service.observe = seen.append
    answer = service.on_event(member_event(bad, org.vpcs[(bad, REGION)], "e-bad"))
    assert [(e["api"], e["account_id"], e["error"]) for e in answer["errors"]] == [
        ("sts:AssumeRole", bad, "AccessDenied")
    ]
    assert [f.account_id for o in seen for f in o.failures] == [bad]  # the metrics path hears of it
    assert stored(service, org.vpcs[(bad, REGION)]) == []


# -- regions, accounts, sessions ---------------------------------------------------------


def test_regions_from_audit_regions_or_every_enabled_region(org: Org) -> None:
    ec2 = make_client(org.session, "ec2", REGION)
    base = {"FINDINGS_TABLE": "t", "ALERTS_TOPIC_ARN": "arn:aws:sns:us-east-1:1:a", "AWS_REGION": REGION}
    explicit = load_settings({**base, "AUDIT_REGIONS": "eu-west-1,us-east-1"})
    assert regions_to_audit(explicit, ec2) == ["eu-west-1", "us-east-1"]
    implicit = load_settings(base)
    assert implicit.audit_regions == (REGION,) and not implicit.audit_regions_explicit
    enabled = regions_to_audit(implicit, ec2)
    described = ec2.describe_regions(AllRegions=False)["Regions"]
    assert enabled == sorted(r["RegionName"] for r in described if r["OptInStatus"] != "not-opted-in")
    assert set(REGIONS) <= set(enabled) and "ap-east-1" not in enabled  # moto lists opt-in regions as not opted in


class FakeOrganizations:
    def __init__(self, pages: list[list[dict[str, str]]]) -> None:
        self.pages = pages

    def get_paginator(self, name: str) -> Any:
        assert name == "list_accounts"
        pages = self.pages

        class Paginator:
            def paginate(self) -> Iterator[dict[str, Any]]:
                yield from ({"Accounts": page} for page in pages)

        return Paginator()


def test_member_accounts_are_the_active_ones_of_every_page() -> None:
    fake = FakeOrganizations(
        [
            [{"Id": "111111111111", "Status": "ACTIVE"}, {"Id": "222222222222", "Status": "SUSPENDED"}],
            [
                {"Id": "333333333333", "Status": "ACTIVE", "State": "PENDING_CLOSURE"},
                {"Id": "444444444444", "State": "ACTIVE"},
                {"Id": "111111111111", "Status": "ACTIVE"},
            ],
        ]
    )
    assert member_accounts(fake) == ["111111111111", "444444444444"]


def test_member_accounts_pages_through_moto(session: boto3.session.Session) -> None:
    organizations = session.client("organizations", region_name=REGION)
    organizations.create_organization(FeatureSet="ALL")
    for n in range(25):  # moto pages ListAccounts by 20
        organizations.create_account(AccountName=f"m{n}", Email=f"m{n}@example.com")
    assert len(member_accounts(organizations)) == 26


def test_assumed_sessions_are_cached_until_shortly_before_expiry(session: boto3.session.Session) -> None:
    now = [dt.datetime.now(dt.UTC).timestamp()]
    calls: list[dict[str, Any]] = []
    session.events.register("before-parameter-build.sts.AssumeRole", lambda params, **_: calls.append(dict(params)))
    sessions = AssumedSessions(
        session,
        own_account=ACCOUNT,
        region=REGION,
        role_name="vpcwatch-member",
        external_id=EXTERNAL_ID,
        clock=lambda: now[0],
    )
    assert sessions.session(ACCOUNT) is session and calls == []  # our own account: no role
    first = sessions.session("111111111111")
    assert sessions.session("111111111111") is first and len(calls) == 1
    assert calls[0] == {
        "RoleArn": "arn:aws:iam::111111111111:role/vpcwatch-member",
        "RoleSessionName": "vpcwatch",
        "DurationSeconds": 3600,
        "ExternalId": EXTERNAL_ID,
    }
    assert make_client(first, "sts", REGION).get_caller_identity()["Account"] == "111111111111"
    loader = first._session.get_component("data_loader")
    assert loader is session._session.get_component("data_loader")  # service models parsed once
    expires = sessions.expires_at("111111111111")
    assert expires is not None
    now[0] = expires - 301  # still more than the margin left
    assert sessions.session("111111111111") is first and len(calls) == 1
    now[0] = expires - 299  # within the margin: assumed again
    assert sessions.session("111111111111") is not first and len(calls) == 2


def test_assumed_sessions_assume_once_per_account_across_threads(session: boto3.session.Session) -> None:
    calls: list[str] = []
    session.events.register(
        "before-parameter-build.sts.AssumeRole", lambda params, **_: calls.append(str(params["RoleArn"]))
    )
    sessions = AssumedSessions(session, own_account=ACCOUNT, region=REGION, role_name="vpcwatch-member")
    accounts = ["111111111111", "222222222222"]
    got: dict[str, set[int]] = {a: set() for a in accounts}
    barrier = threading.Barrier(8)

    def fetch(n: int) -> None:
        barrier.wait()
        account = accounts[n % 2]
        got[account].add(id(sessions.session(account)))

    threads = [threading.Thread(target=fetch, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(calls) == [f"arn:aws:iam::{a}:role/vpcwatch-member" for a in accounts]
    assert all(len(ids) == 1 for ids in got.values())


def test_role_assumption_failure_is_typed_and_names_account_and_code(session: boto3.session.Session) -> None:
    deny_assume_role(session, "222222222222")
    sessions = AssumedSessions(session, own_account=ACCOUNT, region=REGION, role_name="vpcwatch-member")
    with pytest.raises(RoleAssumptionError) as raised:
        sessions.session("222222222222")
    error = raised.value
    assert (error.account_id, error.code) == ("222222222222", "AccessDenied")
    assert "222222222222" in str(error) and "AccessDenied" in str(error)
    assert error.failure.to_dict()["api"] == "sts:AssumeRole"
    unset = AssumedSessions(session, own_account=ACCOUNT, region=REGION, role_name=None)
    with pytest.raises(RoleAssumptionError) as no_role:
        unset.session("111111111111")
    assert no_role.value.code == "MemberRoleNotConfigured"


# -- enqueueing --------------------------------------------------------------------------


class FlakySqs:
    """SendMessageBatch that refuses some entry ids: ``refusals`` times each."""

    def __init__(self, refuse: dict[str, int]) -> None:
        self.refuse = dict(refuse)
        self.batches: list[list[str]] = []

    def send_message_batch(self, QueueUrl: str, Entries: list[dict[str, str]]) -> dict[str, Any]:
        self.batches.append([json.loads(e["MessageBody"])["account_id"] for e in Entries])
        failed = []
        for entry in Entries:
            account = json.loads(entry["MessageBody"])["account_id"]
            if self.refuse.get(account, 0) > 0:
                self.refuse[account] -= 1
                failed.append({"Id": entry["Id"], "Code": "InternalError", "SenderFault": False, "Message": "busy"})
        return {"Successful": [], "Failed": failed}


def test_enqueue_batches_by_ten_retries_refused_entries_once_then_reports(
    org: Org, monkeypatch: pytest.MonkeyPatch
) -> None:
    service = org.service()
    sqs = FlakySqs({"000000000003": 1, "000000000007": 2})
    monkeypatch.setattr(service, "_client", lambda session, name, region: sqs)
    todo = [(f"{n:012d}", REGION) for n in range(23)]
    sent, errors = service.enqueue(todo)
    assert [len(b) for b in sqs.batches] == [10, 2, 10, 3]  # 10 + the retry of 2, 10, 3
    assert sqs.batches[1] == ["000000000003", "000000000007"]
    assert sent == 22
    assert errors == [
        {
            "api": "sqs:SendMessage",
            "account_id": "000000000007",
            "region": REGION,
            "error": "InternalError",
            "message": "busy",
        }
    ]


def test_a_malformed_message_fails_alone(org: Org) -> None:
    service = org.service()
    worked = service.work([{"account_id": "nope", "region": REGION}, {"account_id": ACCOUNT, "region": REGION}])
    assert worked["audited"] == [{"account_id": ACCOUNT, "region": REGION}]
    assert [e["error"] for e in worked["errors"]] == ["MalformedMessage"]


# -- delayed re-audits of what an event left in flight ------------------------------------


def sent_messages(session: boto3.session.Session) -> list[dict[str, Any]]:
    """The parameters of every SendMessage the service's SQS clients make from now on."""
    sent: list[dict[str, Any]] = []
    session.events.register("before-parameter-build.sqs.SendMessage", lambda params, **_: sent.append(dict(params)))
    return sent


def delayed(org: Org) -> int:
    sqs = make_client(org.session, "sqs", REGION)
    attributes = sqs.get_queue_attributes(
        QueueUrl=org.env["AUDIT_QUEUE_URL"], AttributeNames=["ApproximateNumberOfMessagesDelayed"]
    )["Attributes"]
    return int(attributes["ApproximateNumberOfMessagesDelayed"])


def attachment_event(org: Org, account: str) -> tuple[dict[str, Any], str]:
    """A new TGW VPC attachment of ``account``'s VPC, and its CloudTrail event."""
    ec2 = org.member_ec2(account, REGION)
    vpc = org.vpcs[(account, REGION)]
    subnet = ec2.describe_subnets(Filters=[{"Name": "vpc-id", "Values": [vpc]}])["Subnets"][0]["SubnetId"]
    tgw = ec2.create_transit_gateway()["TransitGateway"]["TransitGatewayId"]
    created = ec2.create_transit_gateway_vpc_attachment(TransitGatewayId=tgw, VpcId=vpc, SubnetIds=[subnet])
    attachment = created["TransitGatewayVpcAttachment"]["TransitGatewayAttachmentId"]
    event = cloudtrail_event(
        "CreateTransitGatewayVpcAttachment",
        {
            "CreateTransitGatewayVpcAttachmentRequest": {"TransitGatewayId": tgw, "VpcId": vpc}
            | {"SubnetIds": {"tag": 1, "content": subnet}}
        },
        {
            "CreateTransitGatewayVpcAttachmentResponse": {
                "transitGatewayVpcAttachment": {"transitGatewayAttachmentId": attachment, "transitGatewayId": tgw}
                | {"vpcId": vpc, "vpcOwnerId": account, "state": "pending"}
            }
        },
        account_id=account,
        region=REGION,
        event_id=f"attach-{account}",
    )
    return event, vpc


def test_a_new_attachment_enqueues_one_delayed_reaudit_of_its_scope(org: Org) -> None:
    member = org.members[0]
    event, vpc = attachment_event(org, member)
    service = org.service()
    sent = sent_messages(org.session)
    answer = service.on_event(event)
    assert answer["account_id"] == member and answer["scope"]["vpc_ids"] == [vpc]
    checks = checks_for_event("CreateTransitGatewayVpcAttachment")
    assert checks and "tgw-routes-non-overlapping" in checks
    message = {"account_id": member, "region": REGION, "vpc_ids": [vpc], "checks": list(checks), "attempt": 1}
    assert answer["recheck"] == {"queued": True, "delay_seconds": RECHECK_DELAY_SECONDS, "message": message}
    # And one region-wide re-judge of the return paths the settled attachment may move.
    paths = {"account_id": member, "region": REGION, "vpc_ids": [], "checks": ["routes-return-path"], "attempt": 1}
    assert answer["paths"]["recheck"]["message"] == paths
    assert [json.loads(p["MessageBody"]) for p in sent] == [message, paths]
    for params in sent:
        assert params["QueueUrl"] == org.env["AUDIT_QUEUE_URL"] and params["DelaySeconds"] == RECHECK_DELAY_SECONDS
    assert delayed(org) == 2 and drain(org) == []  # not visible before their delay
    # The worker audits that scope in that account; moto's attachment is already available.
    worked = service.work([message])
    assert worked["errors"] == [] and worked["rechecks"] == []
    assert worked["audited"] == [{"account_id": member, "region": REGION, "vpc_ids": [vpc], "attempt": 1}]
    assert len(sent) == 2
    assert {f.account_id for f in stored(service, vpc)} == {member}
    assert stored(service, org.vpcs[(ACCOUNT, REGION)]) == []  # nothing of ours was audited


def test_the_worker_reaudits_while_something_is_in_flight_at_most_max_times(
    org: Org, caplog: pytest.LogCaptureFixture
) -> None:
    ec2 = org.member_ec2(ACCOUNT, REGION)
    vpc = org.vpcs[(ACCOUNT, REGION)]
    peer = ec2.create_vpc(CidrBlock="10.9.9.0/24")["Vpc"]["VpcId"]
    pcx = ec2.create_vpc_peering_connection(VpcId=vpc, PeerVpcId=peer)["VpcPeeringConnection"]
    pcx_id = pcx["VpcPeeringConnectionId"]  # pending-acceptance until someone accepts it
    event = cloudtrail_event(
        "CreateVpcPeeringConnection",
        {"vpcId": vpc, "peerVpcId": peer},
        {"vpcPeeringConnection": {"vpcPeeringConnectionId": pcx_id, "status": {"code": "initiating-request"}}},
        account_id=ACCOUNT,
        region=REGION,
        event_id="peering-1",
    )
    service = org.service()
    sent = sent_messages(org.session)
    answer = service.on_event(event)
    assert answer["in_flight"] == [pcx_id]
    message = answer["recheck"]["message"]
    assert (message["vpc_ids"], message["attempt"]) == ([vpc, peer], 1)
    for attempt in range(1, MAX_RECHECKS + 1):
        assert message["attempt"] == attempt
        with caplog.at_level(logging.INFO, logger="vpcwatch.service"):
            worked = service.work([message])
        assert worked["errors"] == [] and worked["audited"][0]["attempt"] == attempt
        if attempt < MAX_RECHECKS:
            [message] = worked["rechecks"]
        else:
            assert worked["rechecks"] == []
    scoped = [json.loads(p["MessageBody"]) for p in sent if json.loads(p["MessageBody"])["vpc_ids"]]
    assert [m["attempt"] for m in scoped] == list(range(1, MAX_RECHECKS + 1))
    assert answer["paths"]["recheck"]["queued"]  # and the region's return paths, once, by the event
    assert {p["DelaySeconds"] for p in sent} == {RECHECK_DELAY_SECONDS}
    assert f"still in flight after {MAX_RECHECKS} delayed re-audits" in caplog.text
    # Once accepted, the next re-audit finds it settled and stops.
    ec2.accept_vpc_peering_connection(VpcPeeringConnectionId=pcx_id)
    assert service.work([{**message, "attempt": 1}])["rechecks"] == []


def test_without_a_queue_the_settled_state_waits_for_the_sweep(org: Org, caplog: pytest.LogCaptureFixture) -> None:
    event, _ = attachment_event(org, ACCOUNT)
    sent = sent_messages(org.session)
    with caplog.at_level(logging.INFO, logger="vpcwatch.service"):
        answer = org.service(audit_queue_url=None).on_event(event)
    assert answer["recheck"]["queued"] is False and "AUDIT_QUEUE_URL" in answer["recheck"]["reason"]
    assert sent == [] and delayed(org) == 0
    assert "the settled state waits for the sweep" in caplog.text


def test_a_settled_change_enqueues_nothing(org: Org) -> None:
    vpc = org.vpcs[(ACCOUNT, REGION)]
    event = cloudtrail_event(
        "CreateSubnet",
        {"vpcId": vpc, "cidrBlock": "10.0.0.128/26"},
        {"subnet": {"subnetId": "subnet-0123456789abcdef0", "vpcId": vpc}},
        account_id=ACCOUNT,
        region=REGION,
        event_id="subnet-1",
    )
    sent = sent_messages(org.session)
    answer = org.service().on_event(event)
    assert answer["scope"]["vpc_ids"] == [vpc]
    assert "recheck" not in answer and "in_flight" not in answer and sent == []


def test_a_refused_delayed_reaudit_is_reported_not_raised(org: Org, monkeypatch: pytest.MonkeyPatch) -> None:
    event, _ = attachment_event(org, ACCOUNT)
    service = org.service()
    client = service._client

    class RefusingSqs:
        def send_message(self, **params: Any) -> None:
            raise ClientError({"Error": {"Code": "AccessDenied", "Message": "no"}}, "SendMessage")

    monkeypatch.setattr(service, "_client", lambda s, name, r: RefusingSqs() if name == "sqs" else client(s, name, r))
    answer = service.on_event(event)
    assert answer["recheck"] == {
        "queued": False,
        "reason": "sqs:SendMessage AccessDenied: the settled state waits for the sweep",
    }
    assert answer["changes"]["opened"]  # the event's own re-audit was recorded


@pytest.mark.parametrize(
    "message",
    [
        {"account_id": ACCOUNT, "region": REGION, "vpc_ids": ["vpc-1"], "checks": ["no-such-check"], "attempt": 1},
        {"account_id": ACCOUNT, "region": REGION, "vpc_ids": "vpc-1", "checks": None, "attempt": 1},
        {"account_id": ACCOUNT, "region": REGION, "vpc_ids": [], "checks": None, "attempt": MAX_RECHECKS + 1},
        {"account_id": ACCOUNT, "region": REGION, "vpcs": ["vpc-1"]},
    ],
)
def test_a_malformed_scoped_message_fails_alone(org: Org, message: dict[str, Any]) -> None:
    vpc = org.vpcs[(ACCOUNT, REGION)]
    good = {
        "account_id": ACCOUNT,
        "region": REGION,
        "vpc_ids": [vpc],
        "checks": ["vpc-flow-logs-enabled"],
        "attempt": 2,
    }
    worked = org.service().work([message, good])
    assert [e["error"] for e in worked["errors"]] == ["MalformedMessage"]
    assert worked["audited"] == [{"account_id": ACCOUNT, "region": REGION, "vpc_ids": [vpc], "attempt": 2}]
    # the scoped audit ran only the named check, on that VPC
    assert {f.check for f in stored(org.service(), vpc)} == {"vpc-flow-logs-enabled"}
