"""Fail closed (DESIGN "Fail closed", SPEC §3, §4): data that could not be read is an
error that makes its checks not evaluated and resolves nothing, never "no such
resources"; and refused credentials in a member account's region are retried with a
fresh session unless the region is established as not enabled.

Against moto's in-process ``mock_aws``; faults are HTTP answers injected with botocore
``before-send`` handlers on the service's session, so they go through botocore's parser
and retries exactly as an answer from the wire would. The integration fixtures set the
emulator opt-in (VPCWATCH_EMULATOR=1); the production tests here clear it.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Callable, Iterator
from typing import Any

import boto3
import pytest
from botocore.awsrequest import AWSResponse
from botocore.exceptions import ClientError
from botocore.stub import Stubber

from chalicelib.aws.accounts import AuditUnavailableError, member_accounts, region_not_enabled
from chalicelib.aws.collect.ec2 import collect_region
from chalicelib.aws.session import EMULATOR_ENV, is_unsupported, make_client
from chalicelib.aws.settings import Settings
from chalicelib.core.audit import evaluate
from chalicelib.core.checks import REGISTRY
from chalicelib.core.model import RESOLVED, NetworkSnapshot
from chalicelib.core.policy import Policy
from chalicelib.service.pipelines import Service
from vpcwatch_tools.infra import MEMBER_ROLE_NAME
from vpcwatch_tools.provision import provision

# As in conftest.py (not importable: tests/integration is no package).
REGION = "us-east-1"
PEER_REGION = "us-west-2"  # moto: opt-in not required
OPT_IN_REGION = "ap-east-1"  # moto: an opt-in region this account has not opted in to
ACCOUNT = "123456789012"
ATTEMPTS = 2  # AWS_MAX_ATTEMPTS in these tests: "past retries" stays fast
NOW = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
INJECTED = "vpcwatch-test-fault"

# The checks that need DescribeTransitGateways, as the registry declares them.
TGW_CHECKS = {spec.id for spec in REGISTRY if "ec2:DescribeTransitGateways" in spec.needs}


class _RawBody:
    def __init__(self, body: bytes) -> None:
        self._body = body

    def stream(self, **kwargs: Any) -> Iterator[bytes]:
        yield self._body


def answer(status: int, content_type: str, body: str) -> AWSResponse:
    headers: Any = {"Content-Type": content_type}
    return AWSResponse(f"https://ec2.{REGION}.amazonaws.com/", status, headers, _RawBody(body.encode()))


def ec2_error(status: int, code: str, message: str) -> AWSResponse:
    """An answer shaped like EC2's own error document."""
    return answer(
        status,
        "text/xml",
        f"<Response><Errors><Error><Code>{code}</Code><Message>{message}</Message></Error></Errors>"
        "<RequestID>00000000-0000-0000-0000-000000000000</RequestID></Response>",
    )


# A proxy's (or a Werkzeug app's) bare error page, exactly what moto server answers for an
# action it lacks: before the fix it read as "operation not supported" everywhere.
WERKZEUG_500 = answer(
    500,
    "text/html; charset=utf-8",
    "<!doctype html>\n<html lang=en>\n<title>500 Internal Server Error</title>\n"
    "<h1>Internal Server Error</h1>\n<p>The server encountered an internal error.</p>\n",
)
PROXY_502 = answer(502, "text/html", "<html><body><h1>502 Bad Gateway</h1></body></html>")

# (answer, the error code recorded, retried by botocore)
FAULTS = {
    "html-500-from-a-proxy": (WERKZEUG_500, "ResponseParserError", False),
    "html-502-from-a-proxy": (PROXY_502, "502", True),
    "throttling-past-retries": (ec2_error(503, "RequestLimitExceeded", "Request limit exceeded."), None, True),
    "access-denied": (ec2_error(403, "UnauthorizedOperation", "You are not authorized"), None, False),
    "unknown-api-InvalidAction": (ec2_error(400, "InvalidAction", "The action is not valid"), None, False),
    "unknown-api-UnsupportedOperation": (ec2_error(400, "UnsupportedOperation", "Not supported here"), None, False),
    "unknown-api-NotImplemented": (ec2_error(501, "NotImplemented", "Not implemented"), None, False),
}


def code_of(name: str) -> str:
    response, code, _ = FAULTS[name]
    if code is not None:
        return code
    return str(response.content.decode().split("<Code>")[1].split("</Code>")[0])


def inject(events: Any, operation: str, response: AWSResponse) -> Counter[str]:
    """Answer every ``operation`` call made by clients created from now on with
    ``response``; returns the count of HTTP attempts."""
    sends: Counter[str] = Counter()

    def handler(**kwargs: Any) -> AWSResponse:
        sends[operation] += 1
        return response

    events.register_first(f"before-send.ec2.{operation}", handler, unique_id=INJECTED)
    return sends


@pytest.fixture
def production(aws_env: None, monkeypatch: pytest.MonkeyPatch) -> None:
    """No emulator opt-in (as deployed), and few retries."""
    monkeypatch.delenv(EMULATOR_ENV, raising=False)
    monkeypatch.setenv("AWS_RETRY_MODE", "standard")
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", str(ATTEMPTS))


def settings_for(env: dict[str, str], **changes: Any) -> Settings:
    return Settings(
        region=REGION,
        findings_table=env["FINDINGS_TABLE"],
        alerts_topic_arn=env["ALERTS_TOPIC_ARN"],
        audit_regions=(REGION,),
        **changes,
    )


# ---------------------------------------------------------------------------------
# Data that could not be read: an error, its checks not evaluated, nothing resolved
# ---------------------------------------------------------------------------------


@pytest.mark.parametrize("fault", list(FAULTS))
def test_unreadable_data_is_an_error_and_resolves_nothing_in_the_store(
    production: None, session: boto3.session.Session, ec2: Any, fault: str
) -> None:
    tgw = ec2.create_transit_gateway(Options={"AutoAcceptSharedAttachments": "enable"})["TransitGateway"]
    service = Service(settings_for(provision(session, REGION)), session=session)
    first = service.audit_and_notify()
    (opened,) = [c.finding for c in first.changes if c.finding.check == "tgw-auto-accept-disabled"]
    assert opened.resource_id == tgw["TransitGatewayId"] and opened.status == "OPEN"
    # The gateway is deleted: an audit that takes "could not read" for "none there" would
    # resolve its finding.
    ec2.delete_transit_gateway(TransitGatewayId=tgw["TransitGatewayId"])

    response, _, retried = FAULTS[fault]
    sends = inject(session.events, "DescribeTransitGateways", response)
    outcome = service.audit_and_notify()

    code = code_of(fault)
    assert sends["DescribeTransitGateways"] == (ATTEMPTS if retried else 1)
    body = outcome.to_dict()
    (error,) = [e for e in body["audit"]["errors"] if e["api"] == "ec2:DescribeTransitGateways"]
    assert (error["region"], error["error"], error["account_id"]) == (REGION, code, ACCOUNT)
    not_evaluated = {n["check"] for n in body["audit"]["not_evaluated"]}
    assert not_evaluated >= TGW_CHECKS
    assert not any(f["check"] in TGW_CHECKS for f in body["findings"])
    assert outcome.failures == ()  # the region was audited: only that data is missing
    assert [c for c in outcome.changes if c.type == RESOLVED] == []
    stored = service.store.get(opened.id)
    assert stored is not None and stored.status == "OPEN"

    # Once the data can be read again, the audit resolves it.
    session.events.unregister("before-send.ec2.DescribeTransitGateways", unique_id=INJECTED)
    healed = service.audit_and_notify()
    assert opened.id in {c.finding.id for c in healed.changes if c.type == RESOLVED}


def test_a_proxy_html_page_is_an_error_whose_message_is_short(production: None, ec2: Any) -> None:
    inject(ec2.meta.events, "DescribeTransitGateways", WERKZEUG_500)
    snapshot = collect_region(ec2, account_id=ACCOUNT, region=REGION)
    (error,) = [e for e in snapshot.errors if e.action == "ec2:DescribeTransitGateways"]
    assert error.code == "ResponseParserError"
    assert error.message.startswith("the response is not AWS's") and len(error.message) < 300
    assert snapshot.unsupported == ()


def test_moto_missing_client_vpn_is_an_error_without_the_opt_in(production: None, ec2: Any) -> None:
    snapshot = collect_region(ec2, account_id=ACCOUNT, region=REGION)
    assert snapshot.unsupported == ()
    assert [(e.action, e.code) for e in snapshot.errors] == [("ec2:DescribeClientVpnEndpoints", "NotImplemented")]
    evaluation = evaluate(snapshot, Policy(), NOW)
    assert {n.check for n in evaluation.not_evaluated} == {
        "client-vpn-connection-logging",
        "client-vpn-no-authorize-all",
    }


# ---------------------------------------------------------------------------------
# The emulator opt-in: only the emulator's own answers, only when asked for
# ---------------------------------------------------------------------------------


def test_under_the_opt_in_the_emulator_page_reads_as_unsupported(aws_env: None, ec2: Any) -> None:
    """What the demo and the tests rely on for moto server's missing Client VPN API (moto
    in-process raises for it whatever a handler answers, so another action stands in)."""
    sends = inject(ec2.meta.events, "DescribeTransitGateways", WERKZEUG_500)
    snapshot = collect_region(ec2, account_id=ACCOUNT, region=REGION)
    assert sends["DescribeTransitGateways"] == 1  # not retried
    assert sorted((u.action, u.code) for u in snapshot.unsupported) == [
        ("ec2:DescribeClientVpnEndpoints", "NotImplemented"),
        ("ec2:DescribeTransitGateways", "NotImplemented"),
    ]
    assert snapshot.errors == ()


@pytest.mark.parametrize("code", ["InvalidAction", "UnsupportedOperation", "NotImplemented"])
def test_an_unknown_api_answered_by_aws_is_an_error_even_under_the_opt_in(aws_env: None, ec2: Any, code: str) -> None:
    inject(ec2.meta.events, "DescribeTransitGateways", ec2_error(400, code, "no such API here"))
    snapshot = collect_region(ec2, account_id=ACCOUNT, region=REGION)
    assert [u.action for u in snapshot.unsupported] == ["ec2:DescribeClientVpnEndpoints"]  # moto's, opted in
    assert [(e.action, e.code) for e in snapshot.errors] == [("ec2:DescribeTransitGateways", code)]
    evaluation = evaluate(snapshot, Policy(), NOW)
    assert {n.check for n in evaluation.not_evaluated} == TGW_CHECKS


def test_is_unsupported_needs_the_opt_in(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(EMULATOR_ENV, raising=False)
    assert not is_unsupported(NotImplementedError("no"))
    assert is_unsupported(NotImplementedError("no"), emulator=True)
    monkeypatch.setenv(EMULATOR_ENV, "1")
    assert is_unsupported(NotImplementedError("no"))
    assert not is_unsupported(NotImplementedError("no"), emulator=False)
    for code in ("InvalidAction", "UnsupportedOperation", "NotImplemented"):
        assert not is_unsupported(ClientError({"Error": {"Code": code}}, "DescribeClientVpnEndpoints"))


# ---------------------------------------------------------------------------------
# AuthFailure on a member account's session
# ---------------------------------------------------------------------------------


@pytest.fixture
def member(session: boto3.session.Session) -> str:
    organizations = session.client("organizations", region_name=REGION)
    organizations.create_organization(FeatureSet="ALL")
    organizations.create_account(AccountName="member", Email="member@example.com")
    (account,) = [a for a in member_accounts(organizations) if a != ACCOUNT]
    return account


def refusing(region: str, code: str = "AuthFailure") -> Callable[[str, boto3.session.Session], None]:
    """A session hook: every EC2 call of a new member session in ``region`` answers ``code``."""

    def hook(account: str, member_session: boto3.session.Session) -> None:
        def handler(params: dict[str, Any], **kwargs: Any) -> None:
            if f".{region}." in str(params.get("url")):
                raise ClientError(
                    {
                        "Error": {
                            "Code": code,
                            "Message": "AWS was not able to validate the provided access credentials",
                        }
                    },
                    "DescribeVpcs",
                )

        member_session.events.register("before-call.ec2", handler)

    return hook


def member_service(session: boto3.session.Session, hook: Callable[[str, boto3.session.Session], None]) -> Service:
    settings = settings_for(provision(session, REGION), member_role_name=MEMBER_ROLE_NAME, external_id="vpcwatch-test")
    return Service(settings, session=session, session_hook=hook)


def test_auth_failure_in_an_enabled_region_is_retriable_and_drops_the_session(
    production: None, session: boto3.session.Session, member: str
) -> None:
    service = member_service(session, refusing(PEER_REGION))
    outcome = service.audit_and_notify([PEER_REGION], account_id=member)
    (failure,) = outcome.failures
    assert (failure.account_id, failure.region, failure.code, failure.api) == (
        member,
        PEER_REGION,
        "AuthFailure",
        "ec2:DescribeVpcs",
    )
    assert failure.retriable and "not enabled" not in failure.message
    assert outcome.changes == ()
    assert service.sessions.expires_at(member) is None  # forgotten
    assert service.sessions.assumed == 1
    # The worker fails the message (SQS retries it), and the retry assumes the role afresh.
    with pytest.raises(AuditUnavailableError) as raised:
        service.audit_message({"account_id": member, "region": PEER_REGION})
    assert raised.value.code == "AuthFailure"
    assert service.sessions.assumed == 2 and service.sessions.expires_at(member) is None


def test_auth_failure_in_a_region_not_opted_in_is_permanent(
    production: None, session: boto3.session.Session, member: str
) -> None:
    service = member_service(session, refusing(OPT_IN_REGION))
    outcome = service.audit_and_notify([OPT_IN_REGION], account_id=member)
    (failure,) = outcome.failures
    assert (failure.region, failure.code, failure.retriable) == (OPT_IN_REGION, "AuthFailure", False)
    assert failure.message.startswith("region not enabled for this account")
    assert service.sessions.expires_at(member) is not None  # the credentials are fine: kept
    # The worker reports it without failing the message.
    again = service.audit_message({"account_id": member, "region": OPT_IN_REGION})
    assert [f.code for f in again.failures] == ["AuthFailure"] and again.retriable_failures == ()
    assert service.sessions.assumed == 1


def test_auth_failure_stays_retriable_when_describe_regions_cannot_tell(
    production: None, session: boto3.session.Session, member: str
) -> None:
    refuse = refusing(OPT_IN_REGION)

    def hook(account: str, member_session: boto3.session.Session) -> None:
        refuse(account, member_session)

        def deny(**kwargs: Any) -> None:  # the member role need not grant DescribeRegions
            raise ClientError({"Error": {"Code": "UnauthorizedOperation", "Message": "no"}}, "DescribeRegions")

        member_session.events.register("before-call.ec2.DescribeRegions", deny)

    service = member_service(session, hook)
    (failure,) = service.audit_and_notify([OPT_IN_REGION], account_id=member).failures
    assert failure.retriable and failure.code == "AuthFailure"
    assert service.sessions.expires_at(member) is None


def test_opt_in_required_is_permanent(production: None, session: boto3.session.Session, member: str) -> None:
    service = member_service(session, refusing(PEER_REGION, "OptInRequired"))
    (failure,) = service.audit_and_notify([PEER_REGION], account_id=member).failures
    assert (failure.code, failure.retriable) == ("OptInRequired", False)
    assert service.sessions.expires_at(member) is not None


@pytest.mark.parametrize(
    ("status", "expected"),
    [("not-opted-in", True), ("opted-in", False), ("opt-in-not-required", False), (None, False)],
)
def test_region_not_enabled_only_when_describe_regions_says_so(status: str | None, expected: bool) -> None:
    client = boto3.client("ec2", region_name=REGION, aws_access_key_id="a", aws_secret_access_key="b")
    params = {"AllRegions": True, "RegionNames": [OPT_IN_REGION]}
    with Stubber(client) as stubber:
        if status is None:
            stubber.add_client_error("describe_regions", "UnauthorizedOperation", expected_params=params)
        else:
            regions = [{"RegionName": OPT_IN_REGION, "Endpoint": "ec2.ap-east-1.amazonaws.com", "OptInStatus": status}]
            stubber.add_response("describe_regions", {"Regions": regions}, params)
        assert region_not_enabled(client, OPT_IN_REGION) is expected


def test_moto_reports_the_opt_in_region_as_not_opted_in(ec2: Any) -> None:
    """The premise of the tests above: moto's DescribeRegions (what the service asks)."""
    assert region_not_enabled(ec2, OPT_IN_REGION) and not region_not_enabled(ec2, PEER_REGION)


def test_the_snapshot_of_a_healthy_region_has_no_error(production: None, session: boto3.session.Session) -> None:
    """Guard: in production mode, moto in-process only lacks Client VPN."""
    snapshot: NetworkSnapshot = collect_region(make_client(session, "ec2", REGION), account_id=ACCOUNT, region=REGION)
    assert {e.action for e in snapshot.errors} == {"ec2:DescribeClientVpnEndpoints"}
