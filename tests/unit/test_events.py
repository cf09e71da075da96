"""parse_event on real and hand-written CloudTrail payloads, malformed input and random
input; resolve_scope's composition rules on a fake EC2 client (moto cases: integration)."""

from __future__ import annotations

import copy
import dataclasses
import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import botocore.session
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chalicelib.aws.resolve import resolve_scope
from chalicelib.core import events, scope
from chalicelib.core.checks import CHECK_BY_ID, CHECK_IDS, REGISTRY
from chalicelib.core.events import (
    CLIENT_VPN_CHECKS,
    ENDPOINT_SERVICE_CHECKS,
    EVENT_NAMES,
    EVENT_PATTERN,
    FAMILIES,
    FAMILY_OF_EVENT,
    FLOW_LOG_CHECKS,
    ROUTE_CHECKS,
    SETTLING_EVENTS,
    TAG_EVENTS,
    TGW_ACTIONS,
    TGW_CHECKS,
    TGW_ROUTE_TABLE_CHECKS,
    checks_for_event,
    checks_reading,
)
from chalicelib.core.scope import KIND_FIELDS, Scope, Touched, parse_event

ACCOUNT = "123456789012"
REGION = "us-east-1"
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "cloudtrail"
# The shared data set lives beside the repository (../shared); the tests use the copies.
SHARED_SAMPLES = Path(__file__).resolve().parents[3] / "shared" / "data" / "cloudtrail-ec2-samples.json"
META_KEYS = ("source", "provenance", "notes", "expect")
ID_FIELDS = (*KIND_FIELDS.values(), "resource_ids")


def _load(name: str) -> list[dict[str, Any]]:
    records: list[dict[str, Any]] = json.loads((FIXTURES / name).read_text())["records"]
    return records


SAMPLES = _load("samples.json")
HAND_WRITTEN = _load("hand-written.json")
ROWS = [(f"sample{i:02d}-{r['eventName']}", r) for i, r in enumerate(SAMPLES)] + [
    (f"hand{i:02d}-{r['eventName']}", r) for i, r in enumerate(HAND_WRITTEN)
]


def detail(record: dict[str, Any], n: int = 0, **overrides: Any) -> dict[str, Any]:
    """A full CloudTrail record around a fixture's payload (the samples are trimmed to
    eventName, requestParameters, responseElements and, for failures, errorCode)."""
    body = {k: v for k, v in record.items() if k not in META_KEYS}
    full = {
        "eventVersion": "1.09",
        "userIdentity": {
            "type": "AssumedRole",
            "principalId": "AROAEXAMPLE:ops",
            "arn": f"arn:aws:sts::{ACCOUNT}:assumed-role/ops/ops",
            "accountId": ACCOUNT,
        },
        "eventTime": "2026-11-26T03:00:00Z",
        "eventSource": "ec2.amazonaws.com",
        "awsRegion": REGION,
        "sourceIPAddress": "198.51.100.7",
        "userAgent": "aws-cli/2.17.0",
        "requestID": "0b3c4d5e-0000-4000-8000-000000000000",
        "eventID": f"6f1e2d3c-0000-4000-8000-{n:012d}",
        "readOnly": False,
        "eventType": "AwsApiCall",
        "managementEvent": True,
        "recipientAccountId": ACCOUNT,
        "eventCategory": "Management",
        **body,
    }
    full.update(overrides)
    return full


def envelope(record: dict[str, Any], n: int = 0, **overrides: Any) -> dict[str, Any]:
    return {
        "version": "0",
        "id": f"a1b2c3d4-0000-4000-8000-{n:012d}",
        "detail-type": "AWS API Call via CloudTrail",
        "source": "aws.ec2",
        "account": ACCOUNT,
        "time": "2026-11-26T03:00:05Z",
        "region": REGION,
        "resources": [],
        "detail": detail(record, n, **overrides),
    }


def ids_of(touched: Touched) -> dict[str, list[str]]:
    return {f: list(getattr(touched, f)) for f in ID_FIELDS if getattr(touched, f)}


@contextmanager
def captured() -> Iterator[list[logging.LogRecord]]:
    """The records of the events logger (usable inside hypothesis tests, unlike caplog)."""
    records: list[logging.LogRecord] = []

    class Handler(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record)

    logger = logging.getLogger("vpcwatch.events")
    handler, level = Handler(level=logging.DEBUG), logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    try:
        yield records
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)


# ---------------------------------------------------------------------------------
# The event list and the rule pattern
# ---------------------------------------------------------------------------------


def test_event_names_are_ec2_operations_without_duplicates() -> None:
    operations = set(botocore.session.get_session().get_service_model("ec2").operation_names)
    assert len(set(EVENT_NAMES)) == len(EVENT_NAMES)
    assert set(EVENT_NAMES) <= operations, set(EVENT_NAMES) - operations


def test_event_pattern_matches_the_event_names() -> None:
    assert {
        "source": ["aws.ec2"],
        "detail-type": ["AWS API Call via CloudTrail"],
        "detail": {"eventSource": ["ec2.amazonaws.com"], "eventName": list(EVENT_NAMES)},
    } == EVENT_PATTERN
    # PutRule takes an EventPattern of at most 4096 characters.
    limit = botocore.session.get_session().get_service_model("events").operation_model("PutRule")
    assert len(json.dumps(EVENT_PATTERN)) <= limit.input_shape.members["EventPattern"].metadata["max"]


def readers(*actions: str) -> set[str]:
    """The registered checks that declare one of ``actions`` among their needs."""
    return {spec.id for spec in REGISTRY if set(actions) & set(spec.needs)}


def test_region_fallback_check_sets_are_the_readers_of_their_data() -> None:
    assert set(FLOW_LOG_CHECKS) == readers("ec2:DescribeFlowLogs")
    assert set(ENDPOINT_SERVICE_CHECKS) == readers(
        "ec2:DescribeVpcEndpointServiceConfigurations", "ec2:DescribeVpcEndpointServicePermissions"
    )
    assert set(CLIENT_VPN_CHECKS) == readers(
        "ec2:DescribeClientVpnEndpoints", "ec2:DescribeClientVpnAuthorizationRules"
    )
    assert set(ROUTE_CHECKS) == readers("ec2:DescribeRouteTables")
    assert set(TGW_CHECKS) == readers(*TGW_ACTIONS)
    assert set(TGW_ROUTE_TABLE_CHECKS) == {
        s.id for s in REGISTRY if s.resource_type.endswith("TransitGatewayRouteTable")
    }
    for checks in (FLOW_LOG_CHECKS, ENDPOINT_SERVICE_CHECKS, CLIENT_VPN_CHECKS, ROUTE_CHECKS, TGW_CHECKS):
        assert checks and list(checks) == [s.id for s in REGISTRY if s.id in checks]  # registry order


# ---------------------------------------------------------------------------------
# Which checks an event re-runs: derived from what it changes and what each check reads
# ---------------------------------------------------------------------------------


def test_every_event_belongs_to_one_family_and_has_a_plan() -> None:
    assert len(FAMILY_OF_EVENT) == len(EVENT_NAMES) == sum(len(f.events) for f in FAMILIES)
    assert len({f.name for f in FAMILIES}) == len(FAMILIES)
    planned = (
        scope.VPC_EVENTS
        | scope.PEERING_EVENTS
        | scope.TGW_EVENTS
        | scope.TGW_ATTACHMENT_EVENTS
        | scope.VPN_EVENTS
        | scope.TGW_TABLE_EVENTS
        | scope.ENDPOINT_SERVICE_EVENTS
        | scope.PREFIX_LIST_EVENTS
        | scope.NETWORK_ACL_EVENTS
        | scope.PATH_GATEWAY_EVENTS
        | set(scope.SUBJECTS)
        | {"DeleteInternetGateway"}
    )
    assert planned == set(EVENT_NAMES) - TAG_EVENTS  # only tags take the resolver's generic path
    assert SETTLING_EVENTS.issubset(EVENT_NAMES)


def test_families_name_their_data_as_ec2_read_actions() -> None:
    operations = set(botocore.session.get_session().get_service_model("ec2").operation_names)
    actions = {a for f in FAMILIES for a in f.changes or ()} | TGW_ACTIONS
    for action in actions:
        service, operation = action.split(":")
        assert service == "ec2" and operation in operations, action
        assert operation.startswith(("Describe", "Get", "Search")), action
    # Every action a check needs is one some family changes: no check is left to the sweep
    # (the path checks' network ACLs, gateways and TGW peering attachments included).
    needed = {a for spec in REGISTRY for a in spec.needs}
    assert needed <= actions, needed - actions


@pytest.mark.parametrize("name", EVENT_NAMES)
def test_an_event_reruns_exactly_the_checks_reading_what_it_changes(name: str) -> None:
    family = FAMILY_OF_EVENT[name]
    checks = checks_for_event(name)
    if family.changes is None:
        assert checks is None  # a VPC created or deleted, an exemption tag: every check
        return
    assert checks is not None
    assert set(checks) == readers(*family.changes)
    assert list(checks) == [s.id for s in REGISTRY if s.id in checks]


@pytest.mark.parametrize(
    ("event", "data"),
    [
        ("CreateRoute", ["ec2:DescribeRouteTables"]),
        ("ReplaceRouteTableAssociation", ["ec2:DescribeRouteTables"]),
        ("EnableVgwRoutePropagation", ["ec2:DescribeRouteTables"]),
        ("CreateFlowLogs", ["ec2:DescribeFlowLogs"]),
        ("ModifyVpcEndpointServicePermissions", ["ec2:DescribeVpcEndpointServicePermissions"]),
        ("RevokeClientVpnIngress", ["ec2:DescribeClientVpnAuthorizationRules"]),
        ("RestoreManagedPrefixListVersion", ["ec2:GetManagedPrefixListEntries"]),
        ("CreateTransitGatewayRoute", ["ec2:SearchTransitGatewayRoutes"]),
        ("CreateTransitGatewayPrefixListReference", ["ec2:SearchTransitGatewayRoutes"]),
        ("ModifyTransitGatewayPrefixListReference", ["ec2:SearchTransitGatewayRoutes"]),
        ("DeleteTransitGatewayPrefixListReference", ["ec2:SearchTransitGatewayRoutes"]),
        ("EnableTransitGatewayRouteTablePropagation", ["ec2:GetTransitGatewayRouteTablePropagations"]),
        ("AssociateTransitGatewayRouteTable", ["ec2:GetTransitGatewayRouteTableAssociations"]),
        ("CreateTransitGatewayConnectPeer", ["ec2:SearchTransitGatewayRoutes"]),
        *(
            (name, ["ec2:DescribeTransitGatewayAttachments", "ec2:SearchTransitGatewayRoutes"])
            for name in (
                "CreateTransitGatewayConnect",
                "DeleteTransitGatewayConnect",
                "CreateVpnConnection",
                "ModifyVpnConnection",
                "DeleteVpnConnection",
                "CreateTransitGatewayVpcAttachment",
            )
        ),
        ("CreateDefaultSubnet", ["ec2:DescribeSubnets"]),
    ],
)
def test_an_event_reruns_every_check_reading_data_it_changes(event: str, data: list[str]) -> None:
    """A route change re-runs every check that reads route tables; a new TGW attachment
    every check that reads attachments or TGW routes; and so on (whatever the registry says)."""
    checks = checks_for_event(event)
    assert checks is not None and readers(*data) <= set(checks)


def test_a_route_change_reruns_nothing_that_does_not_read_routes() -> None:
    assert set(checks_for_event("CreateRoute") or ()) == readers("ec2:DescribeRouteTables")
    assert set(checks_for_event("CreateFlowLogs") or ()) == readers("ec2:DescribeFlowLogs")
    assert not set(checks_for_event("CreateRoute") or ()) & (set(CLIENT_VPN_CHECKS) | set(ENDPOINT_SERVICE_CHECKS))


def test_the_derivation_follows_the_registry(monkeypatch: pytest.MonkeyPatch) -> None:
    """When a check declares a new need (tgw-auto-accept-disabled reading attachments,
    connected-cidrs-non-overlapping reading prefix lists), the calls that change that
    data re-run it, and a region-wide fallback for that data includes it."""
    # The registry declares both needs (the regressions of the verdicts issue): the derivation follows.
    assert {"ec2:DescribeTransitGatewayAttachments"} <= set(CHECK_BY_ID["tgw-auto-accept-disabled"].needs)
    assert {"ec2:GetManagedPrefixListEntries"} <= set(CHECK_BY_ID["connected-cidrs-non-overlapping"].needs)
    registry = REGISTRY
    made_up = dataclasses.replace(CHECK_BY_ID["routes-no-blackhole"], id="made-up", needs=("ec2:DescribeFlowLogs",))
    monkeypatch.setattr(events, "REGISTRY", (*registry, made_up))
    attachment = checks_for_event("CreateTransitGatewayVpcAttachment") or ()
    assert "tgw-auto-accept-disabled" in attachment and "made-up" not in attachment
    assert "tgw-auto-accept-disabled" in (checks_for_event("AssociateTransitGatewayRouteTable") or ())
    assert "connected-cidrs-non-overlapping" in (checks_for_event("ModifyManagedPrefixList") or ())
    assert "made-up" in (checks_for_event("DeleteFlowLogs") or ())
    assert checks_reading(["ec2:DescribeFlowLogs"])[-1] == "made-up"
    scope = resolve_scope(touched("RestoreManagedPrefixListVersion", prefix_list_ids=("pl-1",)), FakeEc2({}), {})
    assert scope.region_wide and scope.checks is not None and "connected-cidrs-non-overlapping" in scope.checks


def test_every_watched_event_has_a_payload() -> None:
    parsed = {r["eventName"] for _, r in ROWS if r["expect"] is not None}
    assert set(EVENT_NAMES) <= parsed, sorted(set(EVENT_NAMES) - parsed)
    by_sample = {r["eventName"] for r in SAMPLES if r["expect"]}
    for record in HAND_WRITTEN:
        assert record["provenance"] == "hand-written after the AWS API reference"
    # A hand-written payload stands in only where no real sample names ids.
    assert not {r["eventName"] for r in HAND_WRITTEN if r["eventName"] in by_sample}


def test_copied_samples_match_the_shared_data() -> None:
    if not SHARED_SAMPLES.exists():
        pytest.skip(f"{SHARED_SAMPLES} is not beside the repository")
    shared = json.loads(SHARED_SAMPLES.read_text())
    assert [{k: v for k, v in r.items() if k != "expect"} for r in SAMPLES] == shared


# ---------------------------------------------------------------------------------
# Every payload, in both delivery forms
# ---------------------------------------------------------------------------------


@pytest.mark.parametrize("form", ["envelope", "bare"])
@pytest.mark.parametrize(("row_id", "record"), ROWS, ids=[row_id for row_id, _ in ROWS])
def test_parse_event_finds_the_ids(row_id: str, record: dict[str, Any], form: str) -> None:
    event = envelope(record, 7) if form == "envelope" else detail(record, 7)
    touched = parse_event(event)
    if record["expect"] is None:
        assert touched is None
        return
    assert touched is not None
    assert (touched.event_name, touched.account_id, touched.region) == (record["eventName"], ACCOUNT, REGION)
    assert touched.event_id == "6f1e2d3c-0000-4000-8000-000000000007"
    assert ids_of(touched) == record["expect"]


# ---------------------------------------------------------------------------------
# What is skipped, and said so
# ---------------------------------------------------------------------------------


def _sample(name: str, *, failed: bool = False) -> dict[str, Any]:
    return next(r for r in SAMPLES if r["eventName"] == name and ("errorCode" in r) == failed)


@pytest.mark.parametrize(
    ("event", "reason"),
    [
        (envelope(_sample("DeleteVpc", failed=True)), "failed call (Client.DependencyViolation)"),
        (envelope(_sample("CreateRoute", failed=True)), "failed call (Blocked)"),
        (envelope(_sample("CreateRoute"), errorCode="Client.UnauthorizedOperation"), "failed call"),
        (envelope(_sample("CreateVpcEndpointServiceConfiguration", failed=True)), "failed call"),
        ({**envelope(_sample("CreateRoute")), "source": "aws.s3"}, "source aws.s3 is not aws.ec2"),
        ({**envelope(_sample("CreateRoute")), "detail-type": "AWS Service Event via CloudTrail"}, "detail-type"),
        (detail(_sample("CreateRoute"), eventSource="s3.amazonaws.com"), "eventSource s3.amazonaws.com"),
        (envelope(_sample("CreateRoute"), eventSource="iam.amazonaws.com"), "eventSource iam.amazonaws.com"),
        (envelope(_sample("ModifyVpcAttribute")), "not an event vpcwatch watches"),
        (envelope(_sample("CreateRoute"), eventName="DescribeRouteTables"), "not an event vpcwatch watches"),
    ],
)
def test_skipped_events_log_one_warning(caplog: pytest.LogCaptureFixture, event: dict[str, Any], reason: str) -> None:
    with caplog.at_level(logging.DEBUG, logger="vpcwatch.events"):
        assert parse_event(event) is None
    [entry] = caplog.records
    assert entry.levelno == logging.WARNING
    assert reason in entry.getMessage()
    event_id = event.get("detail", event).get("eventID") or event.get("id")
    assert str(event_id) in entry.getMessage()


def test_a_failed_call_names_event_id_and_name(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="vpcwatch.events"):
        parse_event(envelope(_sample("DeleteVpc", failed=True), 42))
    assert caplog.messages == [
        "event 6f1e2d3c-0000-4000-8000-000000000042 DeleteVpc skipped: failed call (Client.DependencyViolation)"
    ]


CREATE_ROUTE = _sample("CreateRoute")
MALFORMED: list[tuple[str, Any]] = [
    ("not a mapping", ["CreateRoute"]),
    ("a string", "CreateRoute"),
    ("empty", {}),
    ("detail a list", {**envelope(CREATE_ROUTE), "detail": [detail(CREATE_ROUTE)]}),
    ("detail a string", {**envelope(CREATE_ROUTE), "detail": json.dumps(detail(CREATE_ROUTE))}),
    ("detail null", {**envelope(CREATE_ROUTE), "detail": None}),
    ("requestParameters a list", envelope(CREATE_ROUTE, requestParameters=[{"routeTableId": "rtb-1"}])),
    ("responseElements a string", envelope(CREATE_ROUTE, responseElements="true")),
    ("eventName not a string", envelope(CREATE_ROUTE, eventName=["CreateRoute"])),
    ("no eventName", {k: v for k, v in detail(CREATE_ROUTE).items() if k != "eventName"}),
    ("bare record without eventSource", {k: v for k, v in detail(CREATE_ROUTE).items() if k != "eventSource"}),
    ("no account anywhere", detail(CREATE_ROUTE, recipientAccountId=None, userIdentity={})),
    ("account not 12 digits", detail(CREATE_ROUTE, recipientAccountId="12345", userIdentity="root")),
    ("account an int", detail(CREATE_ROUTE, recipientAccountId=123456789012, userIdentity=None)),
    ("no region", detail(CREATE_ROUTE, awsRegion=None)),
    ("region not a region", detail(CREATE_ROUTE, awsRegion="../../etc")),
]


@pytest.mark.parametrize(("label", "event"), MALFORMED, ids=[label for label, _ in MALFORMED])
def test_malformed_events_are_skipped(caplog: pytest.LogCaptureFixture, label: str, event: Any) -> None:
    with caplog.at_level(logging.DEBUG, logger="vpcwatch.events"):
        assert parse_event(event) is None
    assert len(caplog.records) == 1 and caplog.records[0].levelno == logging.WARNING


PARTIAL: list[tuple[str, dict[str, Any], dict[str, list[str]]]] = [
    ("id an int", {"routeTableId": 123, "gatewayId": "igw-1"}, {"igw_ids": ["igw-1"]}),
    ("id a list", {"routeTableId": ["rtb-1", None, 5]}, {"route_table_ids": ["rtb-1"]}),
    ("items a string", {"subnetIdSet": {"items": "subnet-1"}}, {"subnet_ids": ["subnet-1"]}),
    ("member without content", {"R": {"VpcEndpointId": {"tag": 1}}}, {}),
    ("nested nulls", {"R": {"VpcId": None, "SubnetId": [{"tag": 1, "content": None}]}}, {}),
    ("id too long", {"vpcId": "vpc-" + "a" * 100}, {}),
    ("keys not ids", {"a": "rtb-1", "dnsName": "vpce-0123456789abcdef0-x.s3.amazonaws.com"}, {}),
]


@pytest.mark.parametrize(("label", "params", "expect"), PARTIAL, ids=[label for label, _, _ in PARTIAL])
def test_ids_of_wrong_types_are_ignored(label: str, params: dict[str, Any], expect: dict[str, list[str]]) -> None:
    touched = parse_event(envelope(CREATE_ROUTE, requestParameters=params, responseElements=None))
    assert touched is not None
    assert ids_of(touched) == expect


def test_ids_are_classified_by_exact_prefix() -> None:
    params = {
        "Filler": {
            "a": "vpc-0123456789abcdef0",
            "b": "vpce-0123456789abcdef0",
            "c": "vpce-svc-0123456789abcdef0",
            "d": "vpc-cidr-assoc-0123456789abcdef0",
            "e": "tgw-0123456789abcdef0",
            "f": "tgw-rtb-0123456789abcdef0",
            "g": "tgw-attach-0123456789abcdef0",
            "h": "cvpn-endpoint-0123456789abcdef0",
            "i": "rtb-0123abcd",
            "j": "rtbassoc-0123456789abcdef0",
            "k": ["sg-0123456789abcdef0", "eni-0123456789abcdef0", "eipalloc-0123456789abcdef0"],
            "l": "vpc-0123456789ABCDEF0",  # not as AWS mints ids, and not under an id key
            "m": "pl-0123456789abcdef0",
            "n": "fl-0123456789abcdef0",
            "o": "nat-0123456789abcdef0",
            "p": "igw-0123456789abcdef0",
            "q": "pcx-0123456789abcdef0",
            "r": "subnet-0123456789abcdef0",
            "s": "vpn-0123456789abcdef0",
            "t": ["tgw-connect-peer-0123456789abcdef0", "vgw-0123456789abcdef0", "cgw-0123456789abcdef0"],
            "u": ["acl-0123456789abcdef0", "aclassoc-0123456789abcdef0", "eigw-0123456789abcdef0"],
        },
        "Description": "vpc-0fedcba9876543210",
    }
    touched = parse_event(envelope(CREATE_ROUTE, requestParameters=params, responseElements={}))
    assert touched is not None
    assert ids_of(touched) == {
        "vpc_ids": ["vpc-0123456789abcdef0"],
        "endpoint_ids": ["vpce-0123456789abcdef0"],
        "endpoint_service_ids": ["vpce-svc-0123456789abcdef0"],
        "tgw_ids": ["tgw-0123456789abcdef0"],
        "tgw_route_table_ids": ["tgw-rtb-0123456789abcdef0"],
        "tgw_attachment_ids": ["tgw-attach-0123456789abcdef0"],
        "client_vpn_ids": ["cvpn-endpoint-0123456789abcdef0"],
        "route_table_ids": ["rtb-0123abcd"],
        "association_ids": ["rtbassoc-0123456789abcdef0"],
        "prefix_list_ids": ["pl-0123456789abcdef0"],
        "flow_log_ids": ["fl-0123456789abcdef0"],
        "nat_gateway_ids": ["nat-0123456789abcdef0"],
        "igw_ids": ["igw-0123456789abcdef0"],
        "peering_ids": ["pcx-0123456789abcdef0"],
        "subnet_ids": ["subnet-0123456789abcdef0"],
        "vpn_connection_ids": ["vpn-0123456789abcdef0"],
        "vgw_ids": ["vgw-0123456789abcdef0"],
        "network_acl_ids": ["acl-0123456789abcdef0"],
        "acl_association_ids": ["aclassoc-0123456789abcdef0"],
        "eigw_ids": ["eigw-0123456789abcdef0"],
    }


def test_duplicates_are_dropped_in_document_order() -> None:
    params = {"B": {"SubnetId": [{"tag": 1, "content": "subnet-2"}, {"tag": 2, "content": "subnet-1"}]}}
    response = {"R": {"subnetIdSet": {"item": ["subnet-1", "subnet-2", "subnet-3"]}}}
    touched = parse_event(envelope(CREATE_ROUTE, requestParameters=params, responseElements=response))
    assert touched is not None and touched.subnet_ids == ("subnet-2", "subnet-1", "subnet-3")


def test_account_and_region_precedence() -> None:
    cross = envelope(CREATE_ROUTE, recipientAccountId="210987654321", awsRegion="eu-west-1")
    touched = parse_event(cross)
    assert touched is not None and (touched.account_id, touched.region) == ("210987654321", "eu-west-1")
    caller = envelope(CREATE_ROUTE, recipientAccountId=None, awsRegion=None)
    caller["account"], caller["region"] = "999999999999", "ap-northeast-3"
    touched = parse_event(caller)
    assert touched is not None and (touched.account_id, touched.region) == (ACCOUNT, "ap-northeast-3")
    caller["detail"]["userIdentity"] = {"type": "AWSService", "invokedBy": "ec2.amazonaws.com"}
    touched = parse_event(caller)
    assert touched is not None and touched.account_id == "999999999999"


def test_an_envelope_detail_without_event_source_is_accepted() -> None:
    event = envelope(CREATE_ROUTE)
    del event["detail"]["eventSource"]
    assert parse_event(event) is not None


def test_irrelevant_tag_changes_are_skipped_quietly(caplog: pytest.LogCaptureFixture) -> None:
    untagged = next(r for r in HAND_WRITTEN if r["eventName"] == "CreateTags" and r["expect"] is None)
    with caplog.at_level(logging.DEBUG, logger="vpcwatch.events"):
        assert parse_event(envelope(untagged)) is None
    [entry] = caplog.records
    assert entry.levelno == logging.INFO and "no vpcwatch:exempt tag" in entry.getMessage()


# ---------------------------------------------------------------------------------
# Never an exception
# ---------------------------------------------------------------------------------

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=30),
    lambda children: st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=20), children, max_size=6),
    max_leaves=40,
)
NAMES = st.sampled_from([*EVENT_NAMES, "DescribeVpcs", "", "CreateTags"])
IDISH = st.sampled_from(["vpc-1", "rtb-0123abcd", "tgw-rtb-x", "vpce-svc-", "pl-", "-", "vpcwatch:exempt"])
KEYS = st.sampled_from(["vpcId", "VpcId", "item", "items", "content", "tag", "key", "resourceId", "tagSet", "x"])
ID_JSON = st.recursive(
    st.none() | st.integers() | IDISH | st.text(max_size=10),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(KEYS, children, max_size=4),
    max_leaves=30,
)
RECORDS = st.fixed_dictionaries(
    {"eventName": NAMES, "eventSource": st.sampled_from(["ec2.amazonaws.com", "s3.amazonaws.com"])},
    optional={
        "requestParameters": ID_JSON,
        "responseElements": ID_JSON,
        "recipientAccountId": st.sampled_from([ACCOUNT, "1", 5]),
        "awsRegion": st.sampled_from([REGION, "", None, 3]),
        "errorCode": st.sampled_from([None, "", "AccessDenied", 0]),
        "userIdentity": JSON,
        "eventID": JSON,
    },
)
ENVELOPES = st.fixed_dictionaries(
    {"detail": st.one_of(RECORDS, JSON)},
    optional={
        "source": st.sampled_from(["aws.ec2", "aws.s3", None]),
        "detail-type": st.sampled_from(["AWS API Call via CloudTrail", "x"]),
        "account": JSON,
        "region": JSON,
        "id": JSON,
    },
)


def _check_contract(event: Any) -> None:
    with captured() as records:
        touched = parse_event(event)
    if touched is None:
        assert len(records) == 1, [r.getMessage() for r in records]
    else:
        assert isinstance(touched, Touched) and touched.event_name in EVENT_NAMES
        assert all(isinstance(i, str) for f in ID_FIELDS for i in getattr(touched, f))
        assert not records


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(JSON, RECORDS, ENVELOPES))
def test_no_exception_on_any_event(event: Any) -> None:
    _check_contract(event)


VALID = [envelope(r) for _, r in ROWS if r["expect"] is not None]


@st.composite
def mutated(draw: st.DrawFn) -> Any:
    """A real event with one node, chosen along a random path, replaced or removed."""
    event = copy.deepcopy(draw(st.sampled_from(VALID)))
    node: Any = event
    for _ in range(draw(st.integers(min_value=0, max_value=8))):
        children = list(node.items()) if isinstance(node, dict) else list(enumerate(node))
        containers = [(k, v) for k, v in children if isinstance(v, dict | list) and v]
        if not containers:
            break
        _, node = draw(st.sampled_from(containers))
    keys = list(node.keys()) if isinstance(node, dict) else list(range(len(node)))
    key = draw(st.sampled_from(keys))
    if draw(st.booleans()):
        node[key] = draw(JSON)
    elif isinstance(node, dict):
        del node[key]
    else:
        node.pop(key)
    return event


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated())
def test_no_exception_on_mutated_real_events(event: Any) -> None:
    _check_contract(event)


def test_deep_and_cyclic_payloads() -> None:
    deep: dict[str, Any] = {"vpcId": "vpc-1"}
    for _ in range(5000):
        deep = {"x": [deep]}
    touched = parse_event(envelope(CREATE_ROUTE, requestParameters=deep))
    assert touched is not None and touched.vpc_ids == ("vpc-1",)
    cyclic: dict[str, Any] = {"routeTableId": "rtb-1"}
    cyclic["self"] = cyclic
    touched = parse_event(envelope(CREATE_ROUTE, requestParameters=cyclic))
    assert touched is not None and touched.route_table_ids == ("rtb-1",)


# ---------------------------------------------------------------------------------
# resolve_scope's composition, on a fake client (EC2 calls against moto: integration)
# ---------------------------------------------------------------------------------


class FakeEc2:
    """Answers each operation with canned items (or raises), and records the calls."""

    def __init__(self, answers: dict[str, Any]) -> None:
        self.answers = answers
        self.calls: list[tuple[str, dict[str, Any]]] = []

    def can_paginate(self, method: str) -> bool:
        return False

    def __getattr__(self, method: str) -> Any:
        def call(**params: Any) -> Any:
            self.calls.append((method, params))
            answer = self.answers[method]
            if isinstance(answer, Exception):
                raise answer
            return answer

        return call


def touched(name: str, **ids: tuple[str, ...]) -> Touched:
    return Touched(event_id="e-1", event_name=name, account_id=ACCOUNT, region=REGION, **ids)


def test_client_vpn_endpoint_in_a_vpc_and_the_vpc_memory_saw() -> None:
    ec2 = FakeEc2(
        {
            "describe_client_vpn_endpoints": {
                "ClientVpnEndpoints": [{"ClientVpnEndpointId": "cvpn-endpoint-1", "VpcId": "vpc-new"}]
            }
        }
    )
    scope = resolve_scope(
        touched("ModifyClientVpnEndpoint", client_vpn_ids=("cvpn-endpoint-1",), vpc_ids=("vpc-new",)),
        ec2,
        {"cvpn-endpoint-1": "vpc-old"},
    )
    assert (scope.vpc_ids, scope.region_wide, scope.checks) == (("vpc-new", "vpc-old"), False, CLIENT_VPN_CHECKS)
    assert [c for c, _ in ec2.calls] == ["describe_client_vpn_endpoints"]


def test_client_vpn_unsupported_and_unknown_needs_the_region_for_its_checks() -> None:
    ec2 = FakeEc2({"describe_client_vpn_endpoints": NotImplementedError("no Client VPN here")})
    scope = resolve_scope(touched("AuthorizeClientVpnIngress", client_vpn_ids=("cvpn-endpoint-1",)), ec2, {})
    assert (scope.vpc_ids, scope.region_wide, scope.checks) == ((), True, CLIENT_VPN_CHECKS)
    assert "ec2:DescribeClientVpnEndpoints NotImplemented" in scope.reason


def test_endpoint_service_and_prefix_list_changes_need_the_region_without_a_call() -> None:
    ec2 = FakeEc2({})
    svc = resolve_scope(touched("ModifyVpcEndpointServicePermissions", endpoint_service_ids=("vpce-svc-1",)), ec2, {})
    assert (svc.region_wide, svc.checks) == (True, ENDPOINT_SERVICE_CHECKS)
    pl = resolve_scope(touched("ModifyManagedPrefixList", prefix_list_ids=("pl-1",)), ec2, {})
    assert (pl.region_wide, pl.checks) == (True, checks_for_event("ModifyManagedPrefixList"))
    assert pl.checks and set(pl.checks) == readers("ec2:DescribeManagedPrefixLists", "ec2:GetManagedPrefixListEntries")
    assert ec2.calls == []


def test_the_path_only_data_has_families_that_rerun_the_path_checks() -> None:
    """Network ACLs, egress-only internet gateways, virtual private gateways and TGW
    peering attachments: only the path engine reads them, and their calls re-run its checks."""
    assert events.PATH_CHECKS == ("routes-return-path", "reachability-intent")
    assert events.NETWORK_ACL_CHECKS == ("reachability-intent",)  # routes-return-path judges routes only
    for name in (
        "CreateNetworkAclEntry",
        "ReplaceNetworkAclEntry",
        "DeleteNetworkAclEntry",
        "ReplaceNetworkAclAssociation",
    ):
        assert FAMILY_OF_EVENT[name].name == "network-acl"
        assert checks_for_event(name) == ("reachability-intent",)
    for name in ("CreateEgressOnlyInternetGateway", "AttachVpnGateway", "RejectTransitGatewayPeeringAttachment"):
        assert set(events.PATH_CHECKS) <= set(checks_for_event(name) or ())
        assert name in EVENT_PATTERN["detail"]["eventName"]
    assert "ec2:DescribeTransitGatewayPeeringAttachments" in (
        FAMILY_OF_EVENT["AcceptTransitGatewayPeeringAttachment"].changes or ()
    )


def test_a_network_acl_change_needs_the_region_for_the_intents_without_a_call() -> None:
    ec2 = FakeEc2({})
    for name, ids in (
        ("CreateNetworkAclEntry", {"network_acl_ids": ("acl-1",)}),
        ("ReplaceNetworkAclAssociation", {"network_acl_ids": ("acl-1",), "acl_association_ids": ("aclassoc-1",)}),
        ("DeleteNetworkAcl", {}),
    ):
        scope = resolve_scope(touched(name, **ids), ec2, {})
        assert (scope.vpc_ids, scope.region_wide, scope.checks) == ((), True, ("reachability-intent",)), name
    assert ec2.calls == []


def test_a_gateway_change_is_its_vpc_when_named_else_the_region() -> None:
    ec2 = FakeEc2({})
    attach = resolve_scope(touched("AttachVpnGateway", vpc_ids=("vpc-1",), vgw_ids=("vgw-1",)), ec2, {})
    assert (attach.vpc_ids, attach.region_wide, attach.checks) == (
        ("vpc-1",),
        False,
        checks_for_event("AttachVpnGateway"),
    )
    eigw = resolve_scope(touched("DeleteEgressOnlyInternetGateway", eigw_ids=("eigw-1",)), ec2, {})
    assert (eigw.region_wide, eigw.checks) == (True, checks_for_event("DeleteEgressOnlyInternetGateway"))
    assert "routes-no-blackhole" in (eigw.checks or ())  # its routes turn blackhole
    for name in ("CreateVpnGateway", "DeleteVpnGateway"):  # detached: no route table changes
        vgw = resolve_scope(touched(name, vgw_ids=("vgw-1",)), ec2, {})
        assert (vgw.region_wide, vgw.checks) == (True, events.VPN_GATEWAY_CHECKS), name
    tagged = resolve_scope(touched("CreateTags", network_acl_ids=("acl-1",), resource_ids=("acl-1",)), ec2, {})
    assert (tagged.region_wide, tagged.checks) == (True, ("reachability-intent",))
    assert ec2.calls == []


def test_a_tgw_peering_attachment_is_resolved_as_an_attachment() -> None:
    ec2 = FakeEc2(
        {
            "describe_transit_gateway_attachments": {
                "TransitGatewayAttachments": [
                    {
                        "TransitGatewayAttachmentId": "tgw-attach-9",
                        "TransitGatewayId": "tgw-1",
                        "ResourceType": "peering",
                    },
                    {
                        "TransitGatewayAttachmentId": "tgw-attach-1",
                        "TransitGatewayId": "tgw-1",
                        "ResourceType": "vpc",
                        "ResourceId": "vpc-1",
                    },
                ]
            }
        }
    )
    scope = resolve_scope(
        touched("RejectTransitGatewayPeeringAttachment", tgw_attachment_ids=("tgw-attach-9",)), ec2, {}
    )
    assert (scope.vpc_ids, scope.region_wide) == (("vpc-1",), False)
    assert scope.checks == checks_for_event("RejectTransitGatewayPeeringAttachment")


def test_a_restricted_region_need_and_vpcs_make_a_full_region_audit() -> None:
    scope = resolve_scope(
        touched("CreateTags", vpc_ids=("vpc-1",), endpoint_service_ids=("vpce-svc-1",)), FakeEc2({}), {}
    )
    assert (scope.vpc_ids, scope.region_wide, scope.checks) == ((), True, None)


def test_a_named_vpc_settles_an_intra_vpc_event_without_a_call() -> None:
    ec2 = FakeEc2({})
    scope = resolve_scope(
        touched("CreateVpcEndpoint", vpc_ids=("vpc-1",), subnet_ids=("subnet-1",), endpoint_ids=("vpce-1",)), ec2, {}
    )
    assert scope.vpc_ids == ("vpc-1",) and ec2.calls == []
    assert scope.reason == "CreateVpcEndpoint on vpc-1: in vpc-1"


def test_an_event_naming_nothing_needs_the_region() -> None:
    scope = resolve_scope(touched("CreateRoute"), FakeEc2({}), {})
    assert (scope.region_wide, scope.checks) == (True, None)
    assert "names no resource" in scope.reason


def test_a_new_tgw_route_table_and_a_deleted_internet_gateway_touch_nothing() -> None:
    table = resolve_scope(touched("CreateTransitGatewayRouteTable", tgw_ids=("tgw-1",)), FakeEc2({}), {})
    igw = resolve_scope(touched("DeleteInternetGateway", igw_ids=("igw-1",)), FakeEc2({}), {})
    assert table.empty and igw.empty


def test_a_deleted_tgw_route_table_needs_the_region_for_its_own_check() -> None:
    scope = resolve_scope(
        touched("DeleteTransitGatewayRouteTable", tgw_route_table_ids=("tgw-rtb-1",)), FakeEc2({}), {}
    )
    assert (scope.region_wide, scope.checks) == (True, TGW_ROUTE_TABLE_CHECKS)


def test_a_lookup_that_fails_in_any_way_falls_back() -> None:
    class Broken:
        def can_paginate(self, method: str) -> bool:
            raise RuntimeError("boom")

    scope = resolve_scope(touched("DeleteRoute", route_table_ids=("rtb-1",)), Broken(), {})
    assert (scope.region_wide, scope.checks) == (True, None)
    assert "ec2:DescribeRouteTables RuntimeError" in scope.reason


def test_a_resolver_bug_costs_a_region_audit_not_the_event(caplog: pytest.LogCaptureFixture) -> None:
    class BrokenMemory(dict[str, str]):
        def get(self, key: Any, default: Any = None) -> Any:
            raise RuntimeError("boom")

    with caplog.at_level(logging.ERROR, logger="vpcwatch.events"):
        scope = resolve_scope(touched("DeleteRoute", route_table_ids=("rtb-1",)), FakeEc2({}), BrokenMemory())
    assert (scope.region_wide, scope.checks) == (True, None)
    assert "resolution failed (RuntimeError)" in scope.reason
    assert len(caplog.records) == 1


# ---------------------------------------------------------------------------------
# The calls added to the watch list, on their real-shaped records: parsed, then resolved
# ---------------------------------------------------------------------------------

VPC_A, VPC_B, VPC_C = "vpc-0a1b2c3d4e5f60718", "vpc-0b2c3d4e5f6071828", "vpc-0c3d4e5f607182938"
TGW_1, TGW_2 = "tgw-0a1b2c3d4e5f6071c", "tgw-0a1b2c3d4e5f60735"
TRANSPORT, CONNECT = "tgw-attach-0a1b2c3d4e5f6071e", "tgw-attach-0a1b2c3d4e5f60730"
VPN = "vpn-0a1b2c3d4e5f60732"


def record_of(name: str) -> dict[str, Any]:
    return next(r for _, r in ROWS if r["eventName"] == name and r["expect"] is not None)


def vpn_on_tgw() -> dict[str, Any]:
    """The captured CreateVpnConnection, its target a transit gateway instead of a virtual
    private gateway (the request member and the response field AWS names for it)."""
    record = copy.deepcopy(record_of("CreateVpnConnection"))
    del record["requestParameters"]["vpnGatewayId"]
    record["requestParameters"]["transitGatewayId"] = TGW_1
    del record["responseElements"]["vpnConnection"]["vpnGatewayId"]
    record["responseElements"]["vpnConnection"]["transitGatewayId"] = TGW_1
    return record


def attachment(attachment_id: str, tgw: str, kind: str, resource: str, state: str = "available") -> dict[str, Any]:
    return {
        "TransitGatewayAttachmentId": attachment_id,
        "TransitGatewayId": tgw,
        "ResourceType": kind,
        "ResourceId": resource,
        "State": state,
    }


# VPC A (the Connect transport) and VPC B on TGW 1; VPC C on TGW 2; a VPN and a Connect
# attachment on TGW 1.
ATTACHMENTS = {
    "TransitGatewayAttachments": [
        attachment(TRANSPORT, TGW_1, "vpc", VPC_A),
        attachment("tgw-attach-0b2c3d4e5f6071829", TGW_1, "vpc", VPC_B),
        attachment("tgw-attach-0c3d4e5f607182939", TGW_2, "vpc", VPC_C),
        attachment(CONNECT, TGW_1, "connect", TRANSPORT),
        attachment("tgw-attach-0d4e5f60718293a4a", TGW_1, "vpn", VPN, "deleting"),
    ]
}
TABLE_USERS = {
    "get_transit_gateway_route_table_associations": {"Associations": [{"ResourceType": "vpc", "ResourceId": VPC_B}]},
    "get_transit_gateway_route_table_propagations": {
        "TransitGatewayRouteTablePropagations": [{"ResourceType": "vpn", "ResourceId": VPN}]
    },
}
DENIED = RuntimeError("AccessDenied")

# (row id, record, EC2's answers, memory, VPCs of the scope (None: the region), calls)
NEW_EVENTS: list[tuple[str, dict[str, Any], dict[str, Any], dict[str, str], tuple[str, ...] | None, list[str]]] = [
    ("CreateDefaultVpc", record_of("CreateDefaultVpc"), {}, {}, ("vpc-0a1b2c3d4e5f60733",), []),
    ("CreateDefaultSubnet", record_of("CreateDefaultSubnet"), {}, {}, ("vpc-0a1b2c3d4e5f60733",), []),
    ("RestoreManagedPrefixListVersion", record_of("RestoreManagedPrefixListVersion"), {}, {}, None, []),
    *(
        (
            name,
            record_of(name),
            TABLE_USERS,
            {},
            (VPC_A, VPC_B),  # the reference's target VPC, and the table's associated VPC
            ["get_transit_gateway_route_table_associations", "get_transit_gateway_route_table_propagations"],
        )
        for name in (
            "CreateTransitGatewayPrefixListReference",
            "ModifyTransitGatewayPrefixListReference",
            "DeleteTransitGatewayPrefixListReference",
        )
    ),
    *(
        (
            name,
            record_of(name),
            {"describe_transit_gateway_attachments": ATTACHMENTS},
            {},
            (VPC_A, VPC_B),  # the transport's VPC, and every VPC on the gateway
            ["describe_transit_gateway_attachments"] * 2,
        )
        for name in (
            "CreateTransitGatewayConnect",
            "DeleteTransitGatewayConnect",
            "CreateTransitGatewayConnectPeer",
            "DeleteTransitGatewayConnectPeer",
        )
    ),
    ("CreateVpnConnection-vgw", record_of("CreateVpnConnection"), {}, {}, (), []),
    (
        "CreateVpnConnection-tgw",
        vpn_on_tgw(),
        {"describe_transit_gateway_attachments": ATTACHMENTS},
        {},
        (VPC_A, VPC_B),
        ["describe_transit_gateway_attachments"],
    ),
    (
        "ModifyVpnConnection",  # from TGW 1 (its attachment deleting) to TGW 2
        record_of("ModifyVpnConnection"),
        {"describe_transit_gateway_attachments": ATTACHMENTS},
        {},
        (VPC_A, VPC_B, VPC_C),
        ["describe_transit_gateway_attachments"] * 2,
    ),
    (
        "DeleteVpnConnection",
        record_of("DeleteVpnConnection"),
        {"describe_transit_gateway_attachments": ATTACHMENTS},
        {},
        (VPC_A, VPC_B),
        ["describe_transit_gateway_attachments"] * 2,
    ),
    (
        "DeleteVpnConnection-vgw",  # no attachment: a virtual private gateway's
        record_of("DeleteVpnConnection"),
        {"describe_transit_gateway_attachments": {"TransitGatewayAttachments": []}},
        {},
        (),
        ["describe_transit_gateway_attachments"],
    ),
    (
        "DeleteVpnConnection-denied",
        record_of("DeleteVpnConnection"),
        {"describe_transit_gateway_attachments": DENIED},
        {},
        None,
        ["describe_transit_gateway_attachments"],
    ),
]


@pytest.mark.parametrize(
    ("row_id", "record", "answers", "memory", "vpcs", "calls"), NEW_EVENTS, ids=[row[0] for row in NEW_EVENTS]
)
def test_new_events_resolve_to_the_vpcs_they_touch(
    row_id: str,
    record: dict[str, Any],
    answers: dict[str, Any],
    memory: dict[str, str],
    vpcs: tuple[str, ...] | None,
    calls: list[str],
) -> None:
    parsed = parse_event(envelope(record, 3))
    assert parsed is not None and parsed.event_name == record["eventName"]
    ec2 = FakeEc2(answers)
    scope = resolve_scope(parsed, ec2, memory)
    assert [method for method, _ in ec2.calls] == calls
    name = record["eventName"]
    if vpcs is None:  # the region, for what the call can move
        assert (scope.region_wide, scope.vpc_ids, scope.checks) == (True, (), checks_for_event(name)), scope
    elif not vpcs:
        assert scope.empty and "virtual private gateway" in scope.reason, scope
    else:
        assert (scope.region_wide, scope.vpc_ids, scope.checks) == (False, vpcs, checks_for_event(name)), scope


class RandomEc2:
    """Every call answers with hypothesis-drawn JSON, or fails."""

    def __init__(self, data: st.DataObject) -> None:
        self.data = data

    def can_paginate(self, method: str) -> bool:
        return False

    def __getattr__(self, method: str) -> Any:
        def call(**params: Any) -> Any:
            if self.data.draw(st.booleans()):
                raise self.data.draw(st.sampled_from([RuntimeError("boom"), NotImplementedError("no")]))
            return self.data.draw(ANSWERS)

        return call


ANY_ID = st.sampled_from(["vpc-1", "vpc-2", "subnet-1", "rtb-1", "rtbassoc-1", "pcx-1", "tgw-1", "tgw-rtb-1"])
FIELDS = [
    "VpcId",
    "SubnetId",
    "RouteTableId",
    "ResourceId",
    "ResourceType",
    "TransitGatewayId",
    "State",
    "Status",
    "Code",
    "VpcPeeringConnectionId",
    "RequesterVpcInfo",
    "AccepterVpcInfo",
    "Associations",
    "FlowLogId",
    "RouteTableAssociationId",
    "TransitGatewayAttachmentId",
    "Attachments",
    "OwnerId",
    "Region",
    "ClientVpnEndpointId",
    "VpcEndpointId",
    "NatGatewayId",
    "InternetGatewayId",
]
PAGE_KEYS = [
    "Subnets",
    "RouteTables",
    "VpcPeeringConnections",
    "TransitGatewayAttachments",
    "FlowLogs",
    "Associations",
    "InternetGateways",
    "TransitGatewayRouteTablePropagations",
    "NatGateways",
    "VpcEndpoints",
    "ClientVpnEndpoints",
]
# AWS-shaped answers whose fields may hold anything: ids, states, nulls, lists, objects.
VALUE: st.SearchStrategy[Any] = st.deferred(
    lambda: st.one_of(
        ANY_ID,
        st.sampled_from(["vpc", "active", "deleted", ACCOUNT, REGION]),
        st.none(),
        st.lists(st.one_of(ANY_ID, st.none(), ITEM), max_size=2),
        ITEM,
    )
)
ITEM: st.SearchStrategy[Any] = st.fixed_dictionaries({}, optional=dict.fromkeys(FIELDS, VALUE))
ANSWERS = st.one_of(JSON, st.fixed_dictionaries({}, optional={k: st.lists(ITEM, max_size=3) for k in PAGE_KEYS}))


@settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    name=st.sampled_from(EVENT_NAMES),
    ids=st.dictionaries(st.sampled_from(sorted(KIND_FIELDS.values())), st.lists(ANY_ID, max_size=2), max_size=4),
    memory=st.dictionaries(ANY_ID, ANY_ID, max_size=3),
    data=st.data(),
)
def test_resolve_scope_handles_any_answer(
    name: str, ids: dict[str, list[str]], memory: dict[str, str], data: st.DataObject
) -> None:
    event = touched(name, **{field: tuple(values) for field, values in ids.items()})
    scope = resolve_scope(event, RandomEc2(data), memory)
    assert isinstance(scope, Scope) and "resolution failed" not in scope.reason
    assert all(isinstance(v, str) and v for v in scope.vpc_ids)
    assert scope.checks is None or set(scope.checks) <= CHECK_IDS
    if not scope.region_wide and scope.vpc_ids:
        assert scope.checks == checks_for_event(name)


GARBAGE_ITEMS = [
    {
        "Status": {"Code": ["active"]},
        "State": ["available"],
        "RequesterVpcInfo": {"VpcId": "vpc-1", "OwnerId": [ACCOUNT], "Region": {}},
        "AccepterVpcInfo": {"VpcId": ["vpc-2"]},
        "TransitGatewayId": ["tgw-1"],
        "ResourceType": "vpc",
        "ResourceId": {"vpc": "vpc-1"},
        "VpcId": ["vpc-1"],
        "Associations": [{"RouteTableAssociationId": ["rtbassoc-1"]}, "x"],
        "Attachments": {"VpcId": "vpc-1"},
    },
    {"TransitGatewayId": "tgw-1", "ResourceType": "vpc", "ResourceId": "vpc-1", "State": {"x": 1}},
    "junk",
    None,
    7,
]


@pytest.mark.parametrize("name", EVENT_NAMES)
def test_resolve_scope_handles_malformed_answers(name: str) -> None:
    every_kind = {field: (f"{prefix}-1",) for prefix, field in KIND_FIELDS.items()}
    answer = {key: GARBAGE_ITEMS for key in PAGE_KEYS}
    for ec2 in (FakeEc2(dict.fromkeys(DESCRIBE_METHODS, answer)), FakeEc2(dict.fromkeys(DESCRIBE_METHODS, "junk"))):
        scope = resolve_scope(touched(name, **every_kind), ec2, {"rtb-1": ["not a vpc id"]})  # type: ignore[dict-item]
        assert "resolution failed" not in scope.reason


DESCRIBE_METHODS = [
    "describe_subnets",
    "describe_route_tables",
    "describe_vpc_endpoints",
    "describe_nat_gateways",
    "describe_flow_logs",
    "describe_internet_gateways",
    "describe_client_vpn_endpoints",
    "describe_vpc_peering_connections",
    "describe_transit_gateway_attachments",
    "get_transit_gateway_route_table_associations",
    "get_transit_gateway_route_table_propagations",
]


def _cross_region_peering(status: str = "active") -> dict[str, Any]:
    return {
        "VpcPeeringConnectionId": "pcx-x",
        "Status": {"Code": status},
        "RequesterVpcInfo": {"VpcId": "vpc-home", "OwnerId": ACCOUNT, "Region": "eu-west-1"},
        "AccepterVpcInfo": {"VpcId": "vpc-here", "OwnerId": ACCOUNT, "Region": REGION},
    }


def test_a_cidr_change_re_audits_the_peer_in_its_own_region() -> None:
    """A CIDR added here moves the verdict of a cross-region peering whose finding lives in
    the requester's region: that region is re-audited for the peer, in the same event."""
    ec2 = FakeEc2(
        {
            "describe_vpc_peering_connections": {"VpcPeeringConnections": [_cross_region_peering()]},
            "describe_transit_gateway_attachments": {"TransitGatewayAttachments": []},
        }
    )
    scope = resolve_scope(touched("AssociateVpcCidrBlock", vpc_ids=("vpc-here",)), ec2, {})
    assert scope.vpc_ids == ("vpc-here",) and not scope.region_wide
    assert scope.elsewhere == (("eu-west-1", ("vpc-home",)),)
    assert scope.checks == checks_for_event("AssociateVpcCidrBlock")
    assert "vpc-home in eu-west-1" in scope.reason


def test_accepting_a_cross_region_peering_re_audits_the_requester_region() -> None:
    ec2 = FakeEc2({"describe_vpc_peering_connections": {"VpcPeeringConnections": [_cross_region_peering()]}})
    scope = resolve_scope(touched("AcceptVpcPeeringConnection", peering_ids=("pcx-x",)), ec2, {})
    assert scope.vpc_ids == ("vpc-here",)
    assert scope.elsewhere == (("eu-west-1", ("vpc-home",)),)


def test_another_accounts_side_is_not_re_audited_elsewhere() -> None:
    peering = _cross_region_peering()
    peering["RequesterVpcInfo"]["OwnerId"] = "999999999999"
    ec2 = FakeEc2({"describe_vpc_peering_connections": {"VpcPeeringConnections": [peering]}})
    scope = resolve_scope(touched("AcceptVpcPeeringConnection", peering_ids=("pcx-x",)), ec2, {})
    assert scope.elsewhere == ()
