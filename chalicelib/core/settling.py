"""What an audit saw still in flight, and the audit queue's messages (SPEC §4, §5).

A new attachment, peering, endpoint or NAT gateway is still pending when CloudTrail
reports its creation: the event's re-audit passes over it (states.py: in flight is
neither a blackhole nor a misconfiguration), so its settled state would wait for the
hourly sweep. ``in_flight`` names what a snapshot shows in flight; the service then sends
one delayed re-audit of the same scope (``QueuedAudit`` with ``attempt`` >= 1) to the
audit queue, again while something is still in flight, at most ``MAX_RECHECKS`` times.

``QueuedAudit`` is one message of the audit queue, either form: the sweep's
``{"account_id", "region"}`` (the whole region, every check) and a delayed re-audit's
``{"account_id", "region", "vpc_ids", "checks", "attempt"}``. ``parse`` validates a
message and raises ``ValueError`` naming the field.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Any

from chalicelib.core.checks import CHECK_IDS
from chalicelib.core.ids import ACCOUNT_RE, REGION_RE, TOKEN_SUFFIX
from chalicelib.core.model import NetworkSnapshot
from chalicelib.core.states import is_in_flight

RECHECK_DELAY_SECONDS = 120  # SQS DelaySeconds of a delayed re-audit (at most 900)
MAX_RECHECKS = 3  # delayed re-audits after one event, at most

# As resolve_scope names VPCs: any id token (AWS mints vpc- and 8 or 17 hex digits).
VPC_ID_RE = re.compile(rf"^vpc-{TOKEN_SUFFIX}$")
_KEYS = frozenset({"account_id", "region", "vpc_ids", "checks", "attempt"})


def in_flight(snapshots: Iterable[NetworkSnapshot]) -> tuple[str, ...]:
    """The ids of every resource of the snapshots whose state is in flight (states.py):
    VPCs, NAT gateways, endpoints, endpoint services, peerings, transit gateways, their
    attachments (and their route table associations), TGW route tables and their routes,
    Client VPN endpoints (and their authorization rules). In snapshot order, once each."""
    found: dict[str, None] = {}

    def check(resource_id: str, *states: str | None) -> None:
        if any(is_in_flight(state) for state in states):
            found[resource_id] = None

    for snapshot in snapshots:
        for vpc in snapshot.vpcs:
            check(vpc.vpc_id, vpc.state)
        for nat in snapshot.nat_gateways:
            check(nat.nat_gateway_id, nat.state)
        for endpoint in snapshot.vpc_endpoints:
            check(endpoint.endpoint_id, endpoint.state)
        for service in snapshot.endpoint_services:
            check(service.service_id, service.state)
        for peering in snapshot.peerings:
            check(peering.peering_id, peering.status)
        for tgw in snapshot.transit_gateways:
            check(tgw.tgw_id, tgw.state)
        for attachment in snapshot.tgw_attachments:
            check(attachment.attachment_id, attachment.state, attachment.association_state)
        for table in snapshot.tgw_route_tables:
            check(table.route_table_id, table.state, *(route.state for route in table.routes))
        for client_vpn in snapshot.client_vpn_endpoints:
            check(client_vpn.endpoint_id, client_vpn.status, *(r.status for r in client_vpn.authorization_rules))
    return tuple(found)


@dataclass(frozen=True)
class QueuedAudit:
    """One audit of the audit queue: ``vpc_ids`` empty is the whole region, ``checks``
    None every check; ``attempt`` 0 is a sweep's message, n >= 1 the n-th delayed
    re-audit of an event's scope."""

    account_id: str
    region: str
    vpc_ids: tuple[str, ...] = ()
    checks: tuple[str, ...] | None = None
    attempt: int = 0

    @property
    def is_recheck(self) -> bool:
        return self.attempt > 0

    def next(self) -> QueuedAudit:
        """The re-audit that follows this one."""
        return replace(self, attempt=self.attempt + 1)

    def to_message(self) -> dict[str, Any]:
        if not self.is_recheck and not self.vpc_ids and self.checks is None:
            return {"account_id": self.account_id, "region": self.region}
        return {
            "account_id": self.account_id,
            "region": self.region,
            "vpc_ids": list(self.vpc_ids),
            "checks": None if self.checks is None else list(self.checks),
            "attempt": self.attempt,
        }

    @classmethod
    def parse(cls, message: Any, *, account_id: str, region: str) -> QueuedAudit:
        """A queue message, validated; ``account_id`` and ``region`` stand in for absent
        ones. Raises ``ValueError`` naming the field."""
        if not isinstance(message, Mapping):
            raise ValueError(f"message: expected a JSON object, not {type(message).__name__}")
        unknown = sorted(str(k) for k in message if k not in _KEYS)
        if unknown:
            raise ValueError(f"{unknown[0]}: not a field of an audit message (expected {', '.join(sorted(_KEYS))})")
        account = message.get("account_id") or account_id
        if not isinstance(account, str) or not ACCOUNT_RE.match(account):
            raise ValueError(f"account_id: {account!r} is not a 12-digit account id")
        where = message.get("region") or region
        if not isinstance(where, str) or not REGION_RE.match(where):
            raise ValueError(f"region: {where!r} is not a region name")
        vpc_ids = message.get("vpc_ids") or []
        if not isinstance(vpc_ids, list) or not all(isinstance(v, str) and VPC_ID_RE.match(v) for v in vpc_ids):
            raise ValueError(f"vpc_ids: {_short(vpc_ids)} is not a list of VPC ids")
        checks = message.get("checks")
        if checks is not None:
            if not isinstance(checks, list) or not checks or not all(isinstance(c, str) for c in checks):
                raise ValueError(f"checks: {_short(checks)} is not a non-empty list of check ids (or null: all)")
            unknown_checks = [c for c in checks if c not in CHECK_IDS]
            if unknown_checks:
                raise ValueError(f"checks: unknown check {unknown_checks[0]!r}")
        attempt = message.get("attempt", 0)
        if isinstance(attempt, bool) or not isinstance(attempt, int) or not 0 <= attempt <= MAX_RECHECKS:
            raise ValueError(f"attempt: {_short(attempt)} is not a whole number from 0 to {MAX_RECHECKS}")
        return cls(
            account_id=account,
            region=where,
            vpc_ids=tuple(dict.fromkeys(vpc_ids)),
            checks=None if checks is None else tuple(dict.fromkeys(checks)),
            attempt=attempt,
        )


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."
