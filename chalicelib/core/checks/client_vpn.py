"""Client VPN checks: connections are logged, and no authorization rule admits every user."""

from __future__ import annotations

from collections.abc import Iterator

from chalicelib.core.checks.subjects import audited_client_vpn_endpoints
from chalicelib.core.model import ClientVpnEndpoint, NetworkSnapshot, Violation
from chalicelib.core.policy import Policy
from chalicelib.core.states import is_gone


def _live_endpoints(snapshot: NetworkSnapshot) -> list[ClientVpnEndpoint]:
    audited = audited_client_vpn_endpoints(snapshot)
    return sorted((e for e in snapshot.client_vpn_endpoints if e.endpoint_id in audited), key=lambda e: e.endpoint_id)


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
                if rule.access_all and not is_gone(rule.status)  # revoking or failed: grants nothing
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
