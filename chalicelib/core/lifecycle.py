"""A finding's lifecycle (SPEC §4), pure: the statuses, what an audit does to a stored
finding (``transition``), and what an audit may resolve (``Coverage``).

The store (``chalicelib.aws.store``) reads the stored findings, asks ``transition`` what
each becomes, and writes the answer; nothing here knows how findings are stored.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, replace

from chalicelib.core.audit import NotEvaluated
from chalicelib.core.checks import REGISTRY
from chalicelib.core.model import OPENED, REOPENED, RESOLVED, Finding, NetworkSnapshot

OPEN, SUPPRESSED, RESOLVED_STATUS = "OPEN", "SUPPRESSED", "RESOLVED"
STATUSES = (OPEN, RESOLVED_STATUS, SUPPRESSED)
ACTIVE_STATUSES = (OPEN, SUPPRESSED)  # the statuses a later audit can resolve
NOTHING_ANNOUNCED = "none"  # what subscribers heard of a finding no change of which was announced yet


# ---------------------------------------------------------------------------------
# The state machine
# ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Transition:
    finding: Finding  # as it is to be stored
    change: str | None  # the Change type to announce, or None for a silent write
    announced: str | None = None  # what subscribers will have heard last (None: unknown, not written)


def transition(
    current: Finding | None, observed: Finding | None, now: str, announced: str | None = None
) -> Transition | None:
    """What an audit at ``now`` does to a stored finding (``current``, None when absent).
    ``observed`` is the audit's finding (OPEN or SUPPRESSED), or None when the audit covers
    the finding and did not find it; ``announced`` is the change of ``current`` its
    subscribers last heard (``NOTHING_ANNOUNCED``; None when not recorded). Returns None
    when nothing is to be written.

    Suppression is never announced, so leaving it is an opening; and a finding that
    returns from RESOLVED is ``reopened`` only when its resolution was announced. One
    resolved while suppressed (silently) comes back ``opened``: nobody heard it resolve,
    and if it was first seen suppressed, nobody ever heard it open. Where ``announced``
    was not recorded (items of an older version), a return from RESOLVED is a reopening,
    as it always was."""
    if current is not None and max(current.last_seen, current.resolved_at or "") > now:
        return None  # a more recent audit already decided; an older view must not undo it
    if announced is None and current is not None and current.status == OPEN:
        announced = OPENED  # every way into OPEN is announced
    if observed is None:
        if current is None or current.status not in ACTIVE_STATUSES:
            return None
        resolved = replace(current, status=RESOLVED_STATUS, resolved_at=now, reason=None)
        change = RESOLVED if current.status == OPEN else None
        return Transition(resolved, change, change or announced)
    suppressed = observed.status == SUPPRESSED
    new = replace(
        observed,
        evidence=json.loads(json.dumps(observed.evidence)),  # as stored: tuples become lists
        first_seen=current.first_seen if current is not None else now,
        last_seen=now,
        status=SUPPRESSED if suppressed else OPEN,
        reason=observed.reason if suppressed else None,
        resolved_at=None,
    )
    if new == current:
        return None  # the same audit again (a replayed event): nothing new to record
    change = None
    if not suppressed and (current is None or current.status == SUPPRESSED):
        change = OPENED  # suppression is never announced, so leaving it is an opening
    elif not suppressed and current is not None and current.status == RESOLVED_STATUS:
        change = REOPENED if announced in (None, RESOLVED) else OPENED  # (see above)
    if current is None:
        announced = NOTHING_ANNOUNCED
    return Transition(new, change, change or announced)


def refresh_only(current: Finding, step: Transition) -> bool:
    """The transition changes nothing but ``last_seen`` (the finding seen again)."""
    return step.change is None and replace(step.finding, last_seen=current.last_seen) == current


# ---------------------------------------------------------------------------------
# Coverage: what an audit may resolve
# ---------------------------------------------------------------------------------


def collected_resource_ids(snapshot: NetworkSnapshot) -> frozenset[str]:
    """Every resource id the snapshot describes."""
    ids: set[str] = set()
    ids.update(v.vpc_id for v in snapshot.vpcs)
    ids.update(s.subnet_id for s in snapshot.subnets)
    ids.update(r.route_table_id for r in snapshot.route_tables)
    ids.update(g.gateway_id for g in snapshot.internet_gateways)
    ids.update(n.nat_gateway_id for n in snapshot.nat_gateways)
    ids.update(f.flow_log_id for f in snapshot.flow_logs)
    ids.update(e.endpoint_id for e in snapshot.vpc_endpoints)
    ids.update(s.service_id for s in snapshot.endpoint_services)
    ids.update(p.peering_id for p in snapshot.peerings)
    ids.update(t.tgw_id for t in snapshot.transit_gateways)
    ids.update(a.attachment_id for a in snapshot.tgw_attachments)
    ids.update(t.route_table_id for t in snapshot.tgw_route_tables)
    ids.update(c.endpoint_id for c in snapshot.client_vpn_endpoints)
    ids.update(p.prefix_list_id for p in snapshot.prefix_lists)
    return frozenset(ids)


@dataclass(frozen=True)
class Coverage:
    """What one region snapshot of an audit can vouch for: a stored finding it did not find
    is resolved only when covered (SPEC §4: scope, and complete data for the check).

    A region-wide audit covers every finding of its region for the checks it evaluated. A
    scoped audit covers exactly what it evaluated: each check's subjects in the snapshot
    (``CheckSpec.subjects``), and the findings of its VPCs on resources that no longer
    exist (a deleted route table's findings resolve with the event that deleted it)."""

    account_id: str
    region: str
    evaluated_checks: frozenset[str]
    scope_vpc_ids: frozenset[str]  # empty: the whole region
    collected: frozenset[str]
    subjects: Mapping[str, frozenset[str]]  # check -> resource ids judged (scoped audits)

    @classmethod
    def of(
        cls,
        snapshot: NetworkSnapshot,
        not_evaluated: Iterable[NotEvaluated] = (),
        checks: Collection[str] | None = None,
    ) -> Coverage:
        """``checks``: the checks the audit ran (None: all of them)."""
        skipped = {n.check for n in not_evaluated if n.region == snapshot.region}
        failed = snapshot.failed_actions
        evaluated = [
            spec
            for spec in REGISTRY
            if (checks is None or spec.id in checks) and spec.id not in skipped and not failed.intersection(spec.needs)
        ]
        scoped = bool(snapshot.scope_vpc_ids)
        return cls(
            account_id=snapshot.account_id,
            region=snapshot.region,
            evaluated_checks=frozenset(spec.id for spec in evaluated),
            scope_vpc_ids=frozenset(snapshot.scope_vpc_ids),
            collected=collected_resource_ids(snapshot) if scoped else frozenset(),
            subjects={spec.id: spec.subjects(snapshot) for spec in evaluated} if scoped else {},
        )

    def covers(self, finding: Finding) -> bool:
        if (finding.account_id, finding.region) != (self.account_id, self.region):
            return False
        if finding.check not in self.evaluated_checks:  # includes checks no longer registered
            return False
        if not self.scope_vpc_ids:
            return True
        if finding.resource_id in self.subjects.get(finding.check, ()):
            return True
        # Gone: a resource of the scope that the scoped collection no longer finds.
        return (
            finding.vpc_id is not None
            and finding.vpc_id in self.scope_vpc_ids
            and finding.resource_id not in self.collected
        )


# ---------------------------------------------------------------------------------
# Which VPC each resource belongs to
# ---------------------------------------------------------------------------------


def resource_vpc_map(snapshot: NetworkSnapshot) -> dict[str, str]:
    """Resource id -> the VPC it belongs to, for every resource of the snapshot that has
    one: what a CloudTrail event about a deleted resource no longer lets us describe."""
    mapping: dict[str, str] = {}
    mapping.update({s.subnet_id: s.vpc_id for s in snapshot.subnets})
    mapping.update({r.route_table_id: r.vpc_id for r in snapshot.route_tables})
    mapping.update({g.gateway_id: g.vpc_ids[0] for g in snapshot.internet_gateways if g.vpc_ids})
    mapping.update({n.nat_gateway_id: n.vpc_id for n in snapshot.nat_gateways})
    mapping.update({e.endpoint_id: e.vpc_id for e in snapshot.vpc_endpoints})
    mapping.update({c.endpoint_id: c.vpc_id for c in snapshot.client_vpn_endpoints if c.vpc_id})
    mapping.update({a.attachment_id: a.resource_id for a in snapshot.tgw_attachments if a.resource_type == "vpc"})
    for peering in snapshot.peerings:
        # One VPC per id: the side that lives in this account and region, requester first.
        sides = (peering.requester, peering.accepter)
        local = [s for s in sides if s.region in ("", snapshot.region) and snapshot.owns(s.owner_id)]
        mapping[peering.peering_id] = (local or list(sides))[0].vpc_id
    for flow_log in snapshot.flow_logs:
        kind = flow_log.resource_kind
        if kind == "vpc":
            mapping[flow_log.flow_log_id] = flow_log.resource_id
        elif kind in ("subnet", "tgw-attach") and flow_log.resource_id in mapping:
            mapping[flow_log.flow_log_id] = mapping[flow_log.resource_id]
    return mapping
