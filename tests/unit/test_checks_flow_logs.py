"""vpc-flow-logs-enabled, vpc-flow-logs-traffic-type, vpc-flow-logs-delivering: one row per edge."""

from __future__ import annotations

from typing import Any

import pytest

from chalicelib.core.checks.flow_logs import (
    check_flow_logs_delivering,
    check_flow_logs_enabled,
    check_flow_logs_traffic_type,
)
from chalicelib.core.model import FlowLog, NetworkSnapshot, Subnet, Vpc
from chalicelib.core.policy import Policy

ACCOUNT = "111111111111"
OTHER = "222222222222"


def vpc(vpc_id: str = "vpc-1", owner: str = ACCOUNT) -> Vpc:
    return Vpc(vpc_id, owner, ("10.0.0.0/16",))


def subnet(subnet_id: str, vpc_id: str = "vpc-1") -> Subnet:
    return Subnet(subnet_id, vpc_id, ACCOUNT, "10.0.1.0/24")


def fl(
    fl_id: str,
    resource: str,
    traffic: str | None = "ALL",
    status: str = "ACTIVE",
    deliver: str | None = "SUCCESS",
    error: str | None = None,
) -> FlowLog:
    return FlowLog(fl_id, resource, traffic, status, deliver_status=deliver, deliver_error=error)


def snap(
    vpcs: tuple[Vpc, ...] = (vpc(),),
    subnets: tuple[Subnet, ...] = (),
    logs: tuple[FlowLog, ...] = (),
    scope: tuple[str, ...] = (),
) -> NetworkSnapshot:
    return NetworkSnapshot(ACCOUNT, "us-east-1", vpcs=vpcs, subnets=subnets, flow_logs=logs, scope_vpc_ids=scope)


TWO_SUBNETS = (subnet("subnet-a"), subnet("subnet-b"))


# --------------------------------------------------------------------------- enabled

ENABLED_CASES: list[Any] = [
    pytest.param(snap(logs=(fl("fl-v", "vpc-1"),), subnets=TWO_SUBNETS), [], id="vpc-level-active-log"),
    pytest.param(
        snap(subnets=TWO_SUBNETS),
        [("vpc-1", {"subnet_ids_without_logs": ["subnet-a", "subnet-b"]})],
        id="no-logs",
    ),
    pytest.param(
        snap(subnets=TWO_SUBNETS, logs=(fl("fl-v", "vpc-1", status="INACTIVE"),)),
        [("vpc-1", {"subnet_ids_without_logs": ["subnet-a", "subnet-b"]})],
        id="vpc-level-log-not-active",
    ),
    pytest.param(
        snap(subnets=TWO_SUBNETS, logs=(fl("fl-a", "subnet-a"), fl("fl-b", "subnet-b"))),
        [],
        id="every-subnet-logged",
    ),
    pytest.param(
        snap(subnets=TWO_SUBNETS, logs=(fl("fl-a", "subnet-a"),)),
        [("vpc-1", {"subnet_ids_without_logs": ["subnet-b"]})],
        id="one-subnet-unlogged",
    ),
    pytest.param(
        snap(subnets=TWO_SUBNETS, logs=(fl("fl-a", "subnet-a"), fl("fl-b", "subnet-b", status="INACTIVE"))),
        [("vpc-1", {"subnet_ids_without_logs": ["subnet-b"]})],
        id="subnet-log-not-active",
    ),
    pytest.param(
        snap(subnets=TWO_SUBNETS, logs=(fl("fl-e", "eni-1"),)),
        [("vpc-1", {"subnet_ids_without_logs": ["subnet-a", "subnet-b"]})],
        id="eni-log-never-covers",
    ),
    pytest.param(snap(), [("vpc-1", {"subnet_ids_without_logs": []})], id="no-subnets-no-vpc-log"),
    pytest.param(snap(logs=(fl("fl-v", "vpc-1"),)), [], id="no-subnets-vpc-log"),
    pytest.param(
        snap(logs=(fl("fl-v", "vpc-1", traffic="REJECT", deliver="FAILED"),)),
        [],
        id="failing-delivery-still-enabled",
    ),
    pytest.param(
        snap(
            vpcs=(vpc("vpc-1"), vpc("vpc-2")),
            subnets=(subnet("subnet-a"), subnet("subnet-x", "vpc-2")),
            logs=(fl("fl-x", "subnet-x"),),
        ),
        [("vpc-1", {"subnet_ids_without_logs": ["subnet-a"]})],
        id="other-vpcs-subnet-log-does-not-count",
    ),
    pytest.param(snap(vpcs=(vpc(owner=OTHER),), subnets=TWO_SUBNETS), [], id="shared-vpc-of-other-owner-skipped"),
    pytest.param(snap(vpcs=(vpc(owner=""),)), [("vpc-1", {"subnet_ids_without_logs": []})], id="empty-owner-is-ours"),
    pytest.param(
        snap(vpcs=(vpc("vpc-1"), vpc("vpc-2")), scope=("vpc-2",)),
        [("vpc-2", {"subnet_ids_without_logs": []})],
        id="out-of-scope-skipped",
    ),
    pytest.param(
        snap(vpcs=(vpc("vpc-3"), vpc("vpc-1"), vpc("vpc-2")), logs=(fl("fl-2", "vpc-2"),)),
        [("vpc-1", {"subnet_ids_without_logs": []}), ("vpc-3", {"subnet_ids_without_logs": []})],
        id="sorted-by-vpc",
    ),
]


@pytest.mark.parametrize(("snapshot", "expected"), ENABLED_CASES)
def test_flow_logs_enabled(snapshot: NetworkSnapshot, expected: list[tuple[str, dict[str, Any]]]) -> None:
    found = list(check_flow_logs_enabled(snapshot, Policy()))
    assert [(v.resource_id, dict(v.evidence)) for v in found] == expected
    assert all(v.vpc_id == v.resource_id for v in found)


def test_flow_logs_enabled_detail_names_the_subnets() -> None:
    (found,) = check_flow_logs_enabled(snap(subnets=TWO_SUBNETS, logs=(fl("fl-a", "subnet-a"),)), Policy())
    assert "vpc-1" in found.detail and "missing on 1 of its 2 subnets (subnet-b)" in found.detail


# --------------------------------------------------------------------------- traffic type


def _tt(required: str, captured: list[str], ids: list[str]) -> dict[str, Any]:
    return {"required": required, "captured": captured, "flow_log_ids": ids}


TRAFFIC_CASES: list[Any] = [
    pytest.param("ALL", TWO_SUBNETS, (fl("fl-v", "vpc-1"),), [], id="all-needs-all:ok"),
    pytest.param(
        "ALL",
        TWO_SUBNETS,
        (fl("fl-v", "vpc-1", "ACCEPT"),),
        [("vpc-1", _tt("ALL", ["ACCEPT"], ["fl-v"]))],
        id="all-vs-accept:fails",
    ),
    pytest.param(
        "ALL",
        TWO_SUBNETS,
        (fl("fl-v", "vpc-1", "REJECT"),),
        [("vpc-1", _tt("ALL", ["REJECT"], ["fl-v"]))],
        id="all-vs-reject:fails",
    ),
    pytest.param(
        "ALL", TWO_SUBNETS, (fl("fl-1", "vpc-1", "ACCEPT"), fl("fl-2", "vpc-1", "REJECT")), [], id="accept+reject=all"
    ),
    pytest.param("REJECT", TWO_SUBNETS, (fl("fl-v", "vpc-1", "REJECT"),), [], id="reject-needs-reject:ok"),
    pytest.param("REJECT", TWO_SUBNETS, (fl("fl-v", "vpc-1", "ALL"),), [], id="reject-accepts-all:ok"),
    pytest.param(
        "REJECT",
        TWO_SUBNETS,
        (fl("fl-v", "vpc-1", "ACCEPT"),),
        [("vpc-1", _tt("REJECT", ["ACCEPT"], ["fl-v"]))],
        id="reject-vs-accept:fails",
    ),
    pytest.param("ACCEPT", TWO_SUBNETS, (fl("fl-v", "vpc-1", "ACCEPT"),), [], id="accept-needs-accept:ok"),
    pytest.param("ACCEPT", TWO_SUBNETS, (fl("fl-v", "vpc-1", "ALL"),), [], id="accept-accepts-all:ok"),
    pytest.param(
        "ACCEPT",
        TWO_SUBNETS,
        (fl("fl-v", "vpc-1", "REJECT"),),
        [("vpc-1", _tt("ACCEPT", ["REJECT"], ["fl-v"]))],
        id="accept-vs-reject:fails",
    ),
    pytest.param(
        "ALL",
        TWO_SUBNETS,
        (fl("fl-v", "vpc-1", "ACCEPT"), fl("fl-a", "subnet-a", "REJECT"), fl("fl-b", "subnet-b", "REJECT")),
        [],
        id="vpc-accept+every-subnet-reject:ok",
    ),
    pytest.param(
        "ALL",
        TWO_SUBNETS,
        (fl("fl-v", "vpc-1", "ACCEPT"), fl("fl-a", "subnet-a", "REJECT")),
        [("vpc-1", _tt("ALL", ["ACCEPT", "REJECT"], ["fl-a", "fl-v"]))],
        id="vpc-accept+one-subnet-reject:fails",
    ),
    pytest.param(
        "ALL", TWO_SUBNETS, (fl("fl-a", "subnet-a"), fl("fl-b", "subnet-b")), [], id="subnet-level-all-everywhere:ok"
    ),
    pytest.param(
        "ALL",
        TWO_SUBNETS,
        (fl("fl-a", "subnet-a"), fl("fl-b", "subnet-b", "ACCEPT")),
        [("vpc-1", _tt("ALL", ["ACCEPT", "ALL"], ["fl-a", "fl-b"]))],
        id="subnet-level-one-narrow:fails",
    ),
    pytest.param(
        "ALL",
        TWO_SUBNETS,
        (fl("fl-v", "vpc-1", "ACCEPT"), fl("fl-x", "vpc-1", "ALL", status="INACTIVE")),
        [("vpc-1", _tt("ALL", ["ACCEPT"], ["fl-v"]))],
        id="inactive-log-ignored",
    ),
    pytest.param(
        "ALL",
        TWO_SUBNETS,
        (fl("fl-v", "vpc-1", "ACCEPT"), fl("fl-e", "eni-1", "REJECT")),
        [("vpc-1", _tt("ALL", ["ACCEPT"], ["fl-v"]))],
        id="eni-log-ignored",
    ),
    pytest.param(
        "ALL", (), (fl("fl-v", "vpc-1", "ACCEPT"),), [("vpc-1", _tt("ALL", ["ACCEPT"], ["fl-v"]))], id="no-subnets"
    ),
    pytest.param("ACCEPT", TWO_SUBNETS, (), [], id="not-enabled:left-to-enabled-check"),
    pytest.param(
        "ALL", TWO_SUBNETS, (fl("fl-a", "subnet-a", "ACCEPT"),), [], id="partly-enabled:left-to-enabled-check"
    ),
]


@pytest.mark.parametrize(("traffic", "subnets", "logs", "expected"), TRAFFIC_CASES)
def test_flow_logs_traffic_type(
    traffic: str, subnets: tuple[Subnet, ...], logs: tuple[FlowLog, ...], expected: list[tuple[str, dict[str, Any]]]
) -> None:
    found = list(check_flow_logs_traffic_type(snap(subnets=subnets, logs=logs), Policy(traffic_type=traffic)))
    assert [(v.resource_id, dict(v.evidence)) for v in found] == expected
    assert all(v.vpc_id == v.resource_id for v in found)


@pytest.mark.parametrize(
    "snapshot",
    [
        pytest.param(snap(vpcs=(vpc(owner=OTHER),), logs=(fl("fl-v", "vpc-1", "ACCEPT"),)), id="other-owner"),
        pytest.param(snap(logs=(fl("fl-v", "vpc-1", "ACCEPT"),), scope=("vpc-9",)), id="out-of-scope"),
    ],
)
def test_flow_logs_traffic_type_skips(snapshot: NetworkSnapshot) -> None:
    assert list(check_flow_logs_traffic_type(snapshot, Policy())) == []


def test_flow_logs_traffic_type_detail_names_uncovered_subnet() -> None:
    logs = (fl("fl-v", "vpc-1", "ACCEPT"), fl("fl-a", "subnet-a", "REJECT"))
    (found,) = check_flow_logs_traffic_type(snap(subnets=TWO_SUBNETS, logs=logs), Policy())
    assert "vpc-1" in found.detail and "ACCEPT traffic only" in found.detail
    assert "subnet-b" in found.detail and "subnet-a" not in found.detail


# --------------------------------------------------------------------------- delivering

DELIVERING_CASES: list[Any] = [
    pytest.param(snap(logs=(fl("fl-1", "vpc-1"),)), (), [], id="success"),
    pytest.param(snap(logs=(fl("fl-1", "vpc-1", deliver=None),)), (), [], id="no-status"),
    pytest.param(
        snap(logs=(fl("fl-1", "vpc-1", deliver="FAILED", error="Access error"),)),
        (),
        [("fl-1", "vpc-1", {"error": "Access error", "resource_id": "vpc-1"})],
        id="failed-vpc-log",
    ),
    pytest.param(
        snap(logs=(fl("fl-1", "vpc-1", deliver="FAILED"),)),
        (),
        [("fl-1", "vpc-1", {"error": "", "resource_id": "vpc-1"})],
        id="failed-without-message",
    ),
    pytest.param(
        snap(subnets=(subnet("subnet-a", "vpc-1"),), logs=(fl("fl-1", "subnet-a", deliver="FAILED", error="x"),)),
        (),
        [("fl-1", "vpc-1", {"error": "x", "resource_id": "subnet-a"})],
        id="failed-subnet-log-placed-in-its-vpc",
    ),
    pytest.param(
        snap(logs=(fl("fl-1", "subnet-zz", deliver="FAILED"),)),
        (),
        [("fl-1", None, {"error": "", "resource_id": "subnet-zz"})],
        id="unknown-subnet-no-vpc",
    ),
    pytest.param(
        snap(logs=(fl("fl-1", "eni-1", deliver="FAILED", status="INACTIVE"),)),
        ("vpc-1",),
        [("fl-1", None, {"error": "", "resource_id": "eni-1"})],
        id="eni-log-reported-even-when-scoped",
    ),
    pytest.param(
        snap(vpcs=(vpc("vpc-1"), vpc("vpc-2")), logs=(fl("fl-1", "vpc-1", deliver="FAILED"),)),
        ("vpc-2",),
        [],
        id="vpc-log-out-of-scope",
    ),
    pytest.param(
        snap(logs=(fl("fl-1", "vpc-1", deliver=None, error="Access error"),)),
        (),
        [("fl-1", "vpc-1", {"error": "Access error", "resource_id": "vpc-1"})],
        id="older-shape:message-without-status",
    ),
    pytest.param(
        snap(logs=(fl("fl-1", "vpc-1", deliver="SUCCESS", error="Rate limited"),)),
        (),
        [("fl-1", "vpc-1", {"error": "Rate limited", "resource_id": "vpc-1"})],
        id="message-whatever-the-status-says",
    ),
    pytest.param(
        snap(logs=(fl("fl-1", "vpc-1", deliver="failed", error="Unknown error"),)),
        (),
        [("fl-1", "vpc-1", {"error": "Unknown error", "resource_id": "vpc-1"})],
        id="status-in-any-case",
    ),
    pytest.param(
        snap(logs=(fl("fl-1", "vpc-1", deliver="SUCCESS", error=None),)),
        (),
        [],
        id="success-without-message",
    ),
    pytest.param(
        snap(logs=(fl("fl-b", "vpc-1", deliver="FAILED"), fl("fl-a", "eni-1", deliver="FAILED"))),
        (),
        [
            ("fl-a", None, {"error": "", "resource_id": "eni-1"}),
            ("fl-b", "vpc-1", {"error": "", "resource_id": "vpc-1"}),
        ],
        id="sorted-by-flow-log",
    ),
]


@pytest.mark.parametrize(("snapshot", "scope", "expected"), DELIVERING_CASES)
def test_flow_logs_delivering(
    snapshot: NetworkSnapshot, scope: tuple[str, ...], expected: list[tuple[str, str | None, dict[str, Any]]]
) -> None:
    if scope:
        snapshot = snap(vpcs=snapshot.vpcs, subnets=snapshot.subnets, logs=snapshot.flow_logs, scope=scope)
    found = list(check_flow_logs_delivering(snapshot, Policy()))
    assert [(v.resource_id, v.vpc_id, dict(v.evidence)) for v in found] == expected


@pytest.mark.parametrize("deliver", ["FAILED", None])
def test_flow_logs_delivering_detail_carries_error(deliver: str | None) -> None:
    (found,) = check_flow_logs_delivering(
        snap(logs=(fl("fl-1", "vpc-1", deliver=deliver, error="Rate limited"),)), Policy()
    )
    assert "fl-1" in found.detail and "Rate limited" in found.detail
