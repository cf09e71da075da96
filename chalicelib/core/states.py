"""One definition of live, in flight and gone, for every state vocabulary EC2 uses.

EC2 resources report their state in several vocabularies (peering status codes, endpoint
and NAT states, TGW attachment and association states, CIDR association states), in
camelCase, kebab-case or capitals. Every check and the event pipeline read them through
this module, so "is this peering usable?" has one answer everywhere:

- **live**: exists and carries traffic (available, active, associated, modifying, ...);
- **in flight**: being created or accepted; will settle within minutes (pending,
  pendingAcceptance, provisioning, associating, ...). Neither a blackhole nor a
  misconfiguration: a check passes over it, and the event pipeline re-audits its scope
  once it has settled;
- **gone**: deleted or never to exist (deleting, deleted, failed, rejected, expired,
  disassociating, ...). A route to it is a blackhole; as a required resource it is absent.

A state this module does not know is taken as live: the resource exists, and judging it
as if it carries traffic is what the full and the scoped audit both do.
"""

from __future__ import annotations

import enum


class Lifecycle(enum.Enum):
    LIVE = "live"
    IN_FLIGHT = "in_flight"
    GONE = "gone"


def _norm(state: str) -> str:
    return "".join(c for c in state.lower() if c.isalnum())


# Normalised (lower case, no '-' or '_'): 'pending-acceptance', 'pendingAcceptance' and
# 'PendingAcceptance' are one state.
IN_FLIGHT_STATES = frozenset(
    {
        "pending",
        "pendingacceptance",  # peering, endpoint, TGW attachment
        "initiating",
        "initiatingrequest",  # peering (initiating-request), TGW attachment
        "provisioning",  # peering
        "associating",  # route table, CIDR block and TGW route table associations
        "enabling",  # TGW propagations
        "creating",
        "createinprogress",  # managed prefix lists
        "modifyinprogress",
        "restoreinprogress",
        "pendingassociate",  # Client VPN endpoints without a target network yet
        "authorizing",  # Client VPN authorization rules
    }
)
GONE_STATES = frozenset(
    {
        "deleting",
        "deleted",
        "failed",
        "failing",
        "rejected",
        "rejecting",
        "expired",
        "rollingback",  # TGW attachment creation being undone
        "disassociating",
        "disassociated",
        "disabling",
        "disabled",
        "detaching",
        "detached",
        "deleteinprogress",  # managed prefix lists
        "createfailed",
        "revoking",  # Client VPN authorization rules
    }
)


def lifecycle(state: str | None) -> Lifecycle:
    """Where a resource in ``state`` stands (None or '': live, as AWS omits it for live ones)."""
    norm = _norm(state or "")
    if norm in IN_FLIGHT_STATES:
        return Lifecycle.IN_FLIGHT
    if norm in GONE_STATES:
        return Lifecycle.GONE
    return Lifecycle.LIVE


def is_live(state: str | None) -> bool:
    return lifecycle(state) is Lifecycle.LIVE


def is_in_flight(state: str | None) -> bool:
    return lifecycle(state) is Lifecycle.IN_FLIGHT


def is_gone(state: str | None) -> bool:
    return lifecycle(state) is Lifecycle.GONE


def is_present(state: str | None) -> bool:
    """Live or in flight: not a misconfiguration to flag now (in flight is judged once settled)."""
    return lifecycle(state) is not Lifecycle.GONE
