"""client-vpn-connection-logging and client-vpn-no-authorize-all: one row per edge."""

from __future__ import annotations

from typing import Any

import pytest

from chalicelib.core.checks.client_vpn import check_client_vpn_connection_logging, check_client_vpn_no_authorize_all
from chalicelib.core.model import ClientVpnAuthorizationRule, ClientVpnEndpoint, NetworkSnapshot, Vpc
from chalicelib.core.policy import Policy

ACCOUNT = "111111111111"


def cvpn(
    endpoint_id: str = "cvpn-endpoint-1",
    logging: bool = True,
    status: str = "available",
    rules: tuple[ClientVpnAuthorizationRule, ...] = (),
    vpc_id: str | None = "vpc-1",
) -> ClientVpnEndpoint:
    return ClientVpnEndpoint(endpoint_id, vpc_id, logging, status, rules)


def snap(*endpoints: ClientVpnEndpoint, scope: tuple[str, ...] = ()) -> NetworkSnapshot:
    vpcs = (Vpc("vpc-1", ACCOUNT, ("10.0.0.0/16",)), Vpc("vpc-2", ACCOUNT, ("10.1.0.0/16",)))
    return NetworkSnapshot(ACCOUNT, "us-east-1", vpcs=vpcs, client_vpn_endpoints=endpoints, scope_vpc_ids=scope)


NO_LOG = {"connection_logging": False}

LOGGING_CASES: list[Any] = [
    pytest.param(snap(cvpn(logging=False)), [("cvpn-endpoint-1", "vpc-1", NO_LOG)], id="disabled"),
    pytest.param(snap(cvpn(logging=True)), [], id="enabled"),
    pytest.param(
        snap(cvpn(logging=False, status="pending-associate")),
        [("cvpn-endpoint-1", "vpc-1", NO_LOG)],
        id="pending-associate",
    ),
    pytest.param(snap(cvpn(logging=False, status="deleted")), [], id="deleted"),
    pytest.param(snap(cvpn(logging=False, status="deleting")), [], id="deleting"),
    pytest.param(snap(cvpn(logging=False), scope=("vpc-2",)), [], id="out-of-scope"),
    pytest.param(
        snap(cvpn(logging=False, vpc_id=None), scope=("vpc-2",)),
        [("cvpn-endpoint-1", None, NO_LOG)],
        id="no-vpc-reported-even-when-scoped",
    ),
    pytest.param(
        snap(cvpn("cvpn-endpoint-2", logging=False), cvpn("cvpn-endpoint-1", logging=False, vpc_id="vpc-2")),
        [("cvpn-endpoint-1", "vpc-2", NO_LOG), ("cvpn-endpoint-2", "vpc-1", NO_LOG)],
        id="sorted-by-endpoint",
    ),
]


@pytest.mark.parametrize(("snapshot", "expected"), LOGGING_CASES)
def test_client_vpn_connection_logging(
    snapshot: NetworkSnapshot, expected: list[tuple[str, str | None, dict[str, Any]]]
) -> None:
    found = list(check_client_vpn_connection_logging(snapshot, Policy()))
    assert [(v.resource_id, v.vpc_id, dict(v.evidence)) for v in found] == expected
    assert all(v.resource_id in v.detail for v in found)


def rule(cidr: str, access_all: bool = True, group: str = "", status: str = "active") -> ClientVpnAuthorizationRule:
    return ClientVpnAuthorizationRule(cidr, access_all, group, status)


def _rules(*pairs: tuple[str, str]) -> dict[str, Any]:
    return {"rules": [{"destination_cidr": cidr, "group_id": group} for cidr, group in pairs]}


AUTHORIZE_ALL_CASES: list[Any] = [
    pytest.param(
        snap(cvpn(rules=(rule("10.0.0.0/16"),))),
        [("cvpn-endpoint-1", "vpc-1", _rules(("10.0.0.0/16", "")))],
        id="access-all",
    ),
    pytest.param(snap(cvpn(rules=(rule("10.0.0.0/16", False, "S-1-5-21-1"),))), [], id="group-rule"),
    pytest.param(snap(cvpn()), [], id="no-rules"),
    pytest.param(snap(cvpn(rules=(rule("10.0.0.0/16", status="revoking"),))), [], id="revoking"),
    pytest.param(snap(cvpn(rules=(rule("10.0.0.0/16", status="failed"),))), [], id="failed-never-granted"),
    pytest.param(
        snap(cvpn(rules=(rule("0.0.0.0/0", status="authorizing"),))),
        [("cvpn-endpoint-1", "vpc-1", _rules(("0.0.0.0/0", "")))],
        id="authorizing",
    ),
    pytest.param(
        snap(
            cvpn(
                rules=(
                    rule("10.1.0.0/16"),
                    rule("10.2.0.0/16", False, "grp-admins"),
                    rule("0.0.0.0/0"),
                    rule("10.3.0.0/16", status="revoking"),
                )
            )
        ),
        [("cvpn-endpoint-1", "vpc-1", _rules(("0.0.0.0/0", ""), ("10.1.0.0/16", "")))],
        id="only-access-all-rules-sorted",
    ),
    pytest.param(snap(cvpn(status="deleted", rules=(rule("10.0.0.0/16"),))), [], id="deleted-endpoint"),
    pytest.param(snap(cvpn(rules=(rule("10.0.0.0/16"),)), scope=("vpc-2",)), [], id="out-of-scope"),
    pytest.param(
        snap(
            cvpn("cvpn-endpoint-2", rules=(rule("10.0.0.0/16"),)), cvpn("cvpn-endpoint-1", rules=(rule("0.0.0.0/0"),))
        ),
        [
            ("cvpn-endpoint-1", "vpc-1", _rules(("0.0.0.0/0", ""))),
            ("cvpn-endpoint-2", "vpc-1", _rules(("10.0.0.0/16", ""))),
        ],
        id="sorted-by-endpoint",
    ),
]


@pytest.mark.parametrize(("snapshot", "expected"), AUTHORIZE_ALL_CASES)
def test_client_vpn_no_authorize_all(
    snapshot: NetworkSnapshot, expected: list[tuple[str, str | None, dict[str, Any]]]
) -> None:
    found = list(check_client_vpn_no_authorize_all(snapshot, Policy()))
    assert [(v.resource_id, v.vpc_id, dict(v.evidence)) for v in found] == expected


def test_client_vpn_no_authorize_all_detail_names_destinations() -> None:
    (found,) = check_client_vpn_no_authorize_all(snap(cvpn(rules=(rule("0.0.0.0/0"), rule("10.1.0.0/16")))), Policy())
    assert "cvpn-endpoint-1" in found.detail and "0.0.0.0/0, 10.1.0.0/16" in found.detail
