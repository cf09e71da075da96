"""Client VPN checks: connections are logged, and no authorization rule admits every user."""

from __future__ import annotations

from collections.abc import Iterator

from chalicelib.model import ClientVpnEndpoint, NetworkSnapshot, Violation
from chalicelib.policy import Policy

_GONE = frozenset({"deleted", "deleting"})
# A revoking rule is on its way out and a failed one never took effect: neither grants access.
_INEFFECTIVE_RULE_STATES = frozenset({"revoking", "failed"})


def _live_endpoints(snapshot: NetworkSnapshot) -> list[ClientVpnEndpoint]:
    # An endpoint without a target network has no VPC; scope can only filter what it can place.
    return sorted(
        (
            e
            for e in snapshot.client_vpn_endpoints
            if e.status.lower() not in _GONE and (e.vpc_id is None or snapshot.in_scope(e.vpc_id))
        ),
        key=lambda e: e.endpoint_id,
    )


def check_client_vpn_connection_logging(snapshot: NetworkSnapshot, policy: Policy) -> Iterator[Violation]:
    for endpoint in _live_endpoints(snapshot):
        if endpoint.connection_logging:
            continue
        yield Violation(
            resource_id=endpoint.endpoint_id,
            vpc_id=endpoint.vpc_id,
            detail=(
                f"Client VPN endpoint {endpoint.endpoint_id} has connection logging disabled, so who connected, "
                f"from where and when is not recorded."
            ),
            evidence={"connection_logging": False},
        )


def check_client_vpn_no_authorize_all(snapshot: NetworkSnapshot, policy: Policy) -> Iterator[Violation]:
    for endpoint in _live_endpoints(snapshot):
        rules = sorted(
            {
                (rule.destination_cidr, rule.group_id)
                for rule in endpoint.authorization_rules
                if rule.access_all and rule.status.lower() not in _INEFFECTIVE_RULE_STATES
            }
        )
        if not rules:
            continue
        destinations = ", ".join(dict.fromkeys(cidr for cidr, _ in rules))
        yield Violation(
            resource_id=endpoint.endpoint_id,
            vpc_id=endpoint.vpc_id,
            detail=f"Client VPN endpoint {endpoint.endpoint_id} authorizes every user to reach {destinations}.",
            evidence={"rules": [{"destination_cidr": cidr, "group_id": group} for cidr, group in rules]},
        )
