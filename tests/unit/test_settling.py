"""What a snapshot shows in flight (through states.py), and the audit queue's messages:
both forms parsed and validated, a delayed re-audit's message round-tripped."""

from __future__ import annotations

import json
from typing import Any

import pytest

from chalicelib.core.model import (
    ClientVpnAuthorizationRule,
    ClientVpnEndpoint,
    EndpointService,
    NatGateway,
    NetworkSnapshot,
    Peering,
    PeeringSide,
    TgwAttachment,
    TgwRoute,
    TgwRouteTable,
    TransitGateway,
    Vpc,
    VpcEndpoint,
)
from chalicelib.core.settling import MAX_RECHECKS, QueuedAudit, in_flight

ACCOUNT, REGION = "123456789012", "us-east-1"


def side(vpc: str) -> PeeringSide:
    return PeeringSide(vpc, ACCOUNT, REGION, ("10.0.0.0/16",))


def snapshot(**resources: Any) -> NetworkSnapshot:
    return NetworkSnapshot(account_id=ACCOUNT, region=REGION, **resources)


# (resource kind, the snapshot with one such resource in the given state, its id)
def one_of_each(state: str) -> list[tuple[str, NetworkSnapshot, str]]:
    return [
        ("vpc", snapshot(vpcs=(Vpc("vpc-1", ACCOUNT, ("10.0.0.0/16",), state=state),)), "vpc-1"),
        ("nat", snapshot(nat_gateways=(NatGateway("nat-1", "vpc-1", "subnet-1", state),)), "nat-1"),
        (
            "endpoint",
            snapshot(vpc_endpoints=(VpcEndpoint("vpce-1", "vpc-1", "com.amazonaws.us-east-1.s3", "Gateway", state),)),
            "vpce-1",
        ),
        ("service", snapshot(endpoint_services=(EndpointService("vpce-svc-1", "n", True, (), state),)), "vpce-svc-1"),
        ("peering", snapshot(peerings=(Peering("pcx-1", state, side("vpc-1"), side("vpc-2")),)), "pcx-1"),
        ("tgw", snapshot(transit_gateways=(TransitGateway("tgw-1", ACCOUNT, state),)), "tgw-1"),
        (
            "attachment",
            snapshot(tgw_attachments=(TgwAttachment("tgw-attach-1", "tgw-1", "vpc", "vpc-1", ACCOUNT, state),)),
            "tgw-attach-1",
        ),
        (
            "association",
            snapshot(
                tgw_attachments=(
                    TgwAttachment("tgw-attach-2", "tgw-1", "vpc", "vpc-1", ACCOUNT, "available", "tgw-rtb-1", state),
                )
            ),
            "tgw-attach-2",
        ),
        ("tgw table", snapshot(tgw_route_tables=(TgwRouteTable("tgw-rtb-1", "tgw-1", state),)), "tgw-rtb-1"),
        (
            "tgw route",
            snapshot(
                tgw_route_tables=(
                    TgwRouteTable("tgw-rtb-2", "tgw-1", routes=(TgwRoute("10.0.0.0/8", "static", state),)),
                )
            ),
            "tgw-rtb-2",
        ),
        (
            "client vpn",
            snapshot(client_vpn_endpoints=(ClientVpnEndpoint("cvpn-endpoint-1", None, True, state),)),
            "cvpn-endpoint-1",
        ),
        (
            "client vpn rule",
            snapshot(
                client_vpn_endpoints=(
                    ClientVpnEndpoint(
                        "cvpn-endpoint-2",
                        None,
                        True,
                        authorization_rules=(ClientVpnAuthorizationRule("0.0.0.0/0", False, status=state),),
                    ),
                )
            ),
            "cvpn-endpoint-2",
        ),
    ]


@pytest.mark.parametrize("state", ["pending", "pendingAcceptance", "pending-acceptance", "provisioning", "associating"])
@pytest.mark.parametrize("kind", [kind for kind, _, _ in one_of_each("pending")])
def test_a_resource_in_flight_is_named(kind: str, state: str) -> None:
    (shot, resource_id) = next((s, i) for k, s, i in one_of_each(state) if k == kind)
    assert in_flight([shot]) == (resource_id,)


@pytest.mark.parametrize("state", ["available", "active", "associated", "deleted", "failed", "blackhole", ""])
@pytest.mark.parametrize("kind", [kind for kind, _, _ in one_of_each("available")])
def test_a_live_or_gone_resource_is_not(kind: str, state: str) -> None:
    (shot, _) = next((s, i) for k, s, i in one_of_each(state) if k == kind)
    assert in_flight([shot]) == ()


def test_in_flight_names_each_resource_once_across_snapshots() -> None:
    shots = [s for _, s, _ in one_of_each("pending")]
    named = in_flight([*shots, *shots])
    assert len(named) == len(set(named)) == len({i for _, _, i in one_of_each("pending")})
    assert in_flight([]) == ()


# ---------------------------------------------------------------------------------
# The audit queue's messages
# ---------------------------------------------------------------------------------


def parse(message: Any) -> QueuedAudit:
    return QueuedAudit.parse(message, account_id=ACCOUNT, region=REGION)


def test_a_sweep_message_is_the_whole_region() -> None:
    request = parse({"account_id": "210987654321", "region": "eu-west-1"})
    assert request == QueuedAudit("210987654321", "eu-west-1")
    assert not request.is_recheck
    assert request.to_message() == {"account_id": "210987654321", "region": "eu-west-1"}
    assert parse({}) == QueuedAudit(ACCOUNT, REGION)  # absent: the worker's own account and region


def test_a_delayed_reaudit_round_trips_through_json() -> None:
    request = QueuedAudit(ACCOUNT, REGION, ("vpc-0a1b2c3d4e5f60718", "vpc-1"), ("routes-no-blackhole",), attempt=1)
    message = json.loads(json.dumps(request.to_message()))
    assert message == {
        "account_id": ACCOUNT,
        "region": REGION,
        "vpc_ids": ["vpc-0a1b2c3d4e5f60718", "vpc-1"],
        "checks": ["routes-no-blackhole"],
        "attempt": 1,
    }
    assert parse(message) == request
    assert request.is_recheck and request.next().attempt == 2
    region_wide = QueuedAudit(ACCOUNT, REGION, attempt=2)
    assert parse(json.loads(json.dumps(region_wide.to_message()))) == region_wide
    assert region_wide.to_message()["checks"] is None


@pytest.mark.parametrize(
    ("message", "field"),
    [
        (["not", "an", "object"], "message"),
        ({"account_id": "12"}, "account_id"),
        ({"account_id": 123456789012}, "account_id"),
        ({"region": "atlantis"}, "region"),
        ({"vpc_ids": "vpc-1"}, "vpc_ids"),
        ({"vpc_ids": ["vpc-1", "subnet-1"]}, "vpc_ids"),
        ({"vpc_ids": [None]}, "vpc_ids"),
        ({"checks": "routes-no-blackhole"}, "checks"),
        ({"checks": []}, "checks"),
        ({"checks": ["no-such-check"]}, "checks"),
        ({"attempt": -1}, "attempt"),
        ({"attempt": MAX_RECHECKS + 1}, "attempt"),
        ({"attempt": "1"}, "attempt"),
        ({"attempt": True}, "attempt"),
        ({"attempt": 1.0}, "attempt"),
        ({"vpcs": ["vpc-1"]}, "vpcs"),
    ],
)
def test_a_malformed_message_names_its_field(message: Any, field: str) -> None:
    with pytest.raises(ValueError) as raised:
        parse(message)
    assert str(raised.value).startswith(f"{field}:")
