"""Checks on the path engine (SPEC §7): the policy's reachability intents, and return paths.

Both are judged by region-wide audits only (``subjects`` below): a path may cross any
VPC of the region, and a scoped (event) collection holds only its VPCs' subnets and
route tables, so a scoped audit could not reach the full audit's verdict. A scoped
audit judges neither (and so resolves nothing of theirs); the sweep, or a region-wide
re-audit, does. Paths are followed inside the audited region: one that leaves it (a
cross-region peering or TGW peering) is ``unknown``.
"""

from __future__ import annotations

import bisect
import dataclasses
from collections import defaultdict
from collections.abc import Iterator
from typing import Any

from chalicelib.core.intents import Intent
from chalicelib.core.model import NetworkSnapshot, RouteTable, Subnet, Violation
from chalicelib.core.netmath import Block, parse
from chalicelib.core.paths import UNKNOWN, UNREACHABLE, PathIndex, PathQueryError, PathResult
from chalicelib.core.policy import Policy

# Hop types that mean the traffic crossed the internet (``private: false``).
PUBLIC_HOPS = ("internet-gateway", "nat-gateway", "egress-only-internet-gateway")
# Route targets across which a reply must find its own way back.
CROSSING_TARGETS = ("pcx", "tgw")


# ---------------------------------------------------------------------------------
# What they judge
# ---------------------------------------------------------------------------------


def audited_source_subnets(snapshot: NetworkSnapshot) -> frozenset[str]:
    """The account's own subnets, in region-wide audits only (see the module docstring)."""
    if snapshot.scope_vpc_ids:
        return frozenset()
    return frozenset(s.subnet_id for s in snapshot.subnets if snapshot.owns(s.owner_id))


def audited_return_tables(snapshot: NetworkSnapshot) -> frozenset[str]:
    """The account's own route tables, in region-wide audits only."""
    if snapshot.scope_vpc_ids:
        return frozenset()
    return frozenset(t.route_table_id for t in snapshot.route_tables if snapshot.owns(t.owner_id))


# ---------------------------------------------------------------------------------
# reachability-intent
# ---------------------------------------------------------------------------------


def intent_questions(intent: Intent, snapshot: NetworkSnapshot) -> Iterator[tuple[Subnet, str]]:
    """The (source subnet, destination) pairs ``intent`` asks about in ``snapshot``: each
    audited source subnet it picks, with each of its destinations but the subnet itself."""
    subjects = audited_source_subnets(snapshot)
    if not subjects:
        return
    destinations = intent.destinations(snapshot)
    for source in intent.sources(snapshot):
        if source.subnet_id in subjects:
            for destination in destinations:
                if destination != source.subnet_id:  # a subnet reaches itself: not a question of routing
                    yield source, destination


def trace_intent(index: PathIndex, intent: Intent, source: str, destination: str) -> PathResult | str:
    """The path, or why it could not be asked (a destination that names nothing here)."""
    try:
        return index.trace(source, destination, intent.protocol, intent.port)
    except PathQueryError as exc:
        return str(exc)


def _public_hop(result: PathResult) -> dict[str, str] | None:
    hop = next((h for h in result.hops if h.type in PUBLIC_HOPS), None)
    return None if hop is None else hop.to_json()


def check_reachability_intent(snapshot: NetworkSnapshot, policy: Policy) -> Iterator[Violation]:
    if not policy.intents or not audited_source_subnets(snapshot):
        return
    index = PathIndex([snapshot])
    for intent in policy.intents:
        for source, destination in intent_questions(intent, snapshot):
            violation = _judge(index, intent, source, destination)
            if violation is not None:
                yield violation


def _judge(index: PathIndex, intent: Intent, source: Subnet, destination: str) -> Violation | None:
    answer = trace_intent(index, intent, source.subnet_id, destination)
    evidence: dict[str, Any] = {
        "intent": intent.name,
        "expect": intent.expect,
        "destination": destination,
        "protocol": intent.protocol,
        "port": intent.port,
    }
    if isinstance(answer, str):
        evidence.update(verdict=UNKNOWN, private=None, blocked_at=None, reason=answer)
        detail = f"intent {intent.name}: {source.subnet_id} -> {destination} cannot be judged: {answer}"
    else:
        if intent.holds(answer.verdict, answer.private):
            return None
        blocked = answer.blocked_at.to_json() if answer.blocked_at is not None else None
        evidence.update(verdict=answer.verdict, private=answer.private, blocked_at=blocked)
        public = _public_hop(answer)
        if public is not None:
            evidence["public_hop"] = public
        evidence["hops"] = [h.resource_id for h in answer.hops]
        detail = f"intent {intent.name} expects {intent.expect}: {source.subnet_id} -> {destination} is "
        if blocked is not None:
            detail += f"{answer.verdict}, blocked at {blocked['resource_id']} ({blocked['reason']})"
        elif not answer.private:
            detail += f"reachable over the internet through {public['resource_id'] if public else '?'}"
        else:
            detail += "reachable"
    return Violation(source.subnet_id, source.vpc_id, detail, evidence)


# ---------------------------------------------------------------------------------
# routes-return-path
# ---------------------------------------------------------------------------------


def _routing_only(snapshot: NetworkSnapshot) -> NetworkSnapshot:
    """The snapshot without network ACLs: this check judges routes (ACLs are the intents'
    business), and so neither reads nor declares them."""
    return dataclasses.replace(snapshot, network_acls=())


class _SubnetsByAddress:
    """The snapshot's subnets by IPv4 block, sorted by first address, so the subnets that
    lie inside a route's destination are found by bisection rather than by scanning every
    subnet for every route table (which made this check quadratic in large regions)."""

    def __init__(self, snapshot: NetworkSnapshot) -> None:
        # A subnet's rank: its place in the order the check reports in (VPC id, then subnet).
        ranked = [s for vpc_id in sorted(snapshot.subnets_by_vpc) for s in snapshot.subnets_by_vpc[vpc_id]]
        held: list[tuple[Block, int, Subnet]] = []
        for rank, subnet in enumerate(ranked):
            block = parse(subnet.cidr) if subnet.cidr else None
            if block is not None and block.version == 4:
                held.append((block, rank, subnet))
        held.sort(key=lambda h: h[0].first)
        self._held = held
        self._firsts = [h[0].first for h in held]

    def within(self, block: Block) -> Iterator[tuple[Block, int, Subnet]]:
        """(CIDR block, rank, subnet) of every subnet whose CIDR lies inside ``block``."""
        start = bisect.bisect_left(self._firsts, block.first)
        end = bisect.bisect_right(self._firsts, block.last)
        for held in self._held[start:end]:
            if held[0].last <= block.last:
                yield held


def _crossing(
    index: PathIndex, snapshot: NetworkSnapshot, table: RouteTable, subnets: _SubnetsByAddress
) -> list[tuple[Subnet, str]]:
    """The subnets of other VPCs whose whole CIDR ``table`` sends across a peering or a
    transit gateway, each with that route ("10.1.0.0/16 -> pcx-..."), in report order. Only
    the subnets inside a crossing route's destination can be sent across by it; each is
    confirmed by the table's longest-prefix match (a more specific route may win)."""
    lpm = index.regions[snapshot.region].route_lookup(table).lpm
    candidates: dict[str, tuple[Block, int, Subnet]] = {}
    for block, entry in lpm.entries(4):
        if entry.route.target_kind in CROSSING_TARGETS:
            for held in subnets.within(block):
                if held[2].vpc_id != table.vpc_id:
                    candidates[held[2].subnet_id] = held
    crossing: list[tuple[int, Subnet, str]] = []
    for subnet_block, rank, subnet in candidates.values():
        hit = lpm.lookup(subnet_block)
        if hit is not None and hit[1].route.target_kind in CROSSING_TARGETS:
            crossing.append((rank, subnet, f"{hit[1].route.destination} -> {hit[1].route.target}"))
    return [(subnet, route) for _, subnet, route in sorted(crossing, key=lambda c: c[0])]


def check_routes_return_path(snapshot: NetworkSnapshot, policy: Policy) -> Iterator[Violation]:
    subjects = audited_return_tables(snapshot)
    if not subjects:
        return
    snapshot = _routing_only(snapshot)
    index = PathIndex([snapshot])
    subnets = _SubnetsByAddress(snapshot)
    # (return table, forward table) -> what was lost: the forward routes, sources, destinations
    lost: dict[tuple[str, str], dict[str, Any]] = defaultdict(
        lambda: {"routes": set(), "source_cidrs": set(), "destination_subnet_ids": set(), "blocked_at": None}
    )
    for table in sorted(snapshot.route_tables, key=lambda t: t.route_table_id):
        if not any(r.target_kind in CROSSING_TARGETS for r in table.routes):
            continue
        served = snapshot.subnets_served.get(table.route_table_id, ())
        sources = [s for s in (snapshot.subnet_by_id[i] for i in served) if s.cidr]
        if not sources:
            continue
        crossing = _crossing(index, snapshot, table, subnets)
        for source in sources:
            for destination, route in crossing:
                result = index.trace(source.subnet_id, destination.subnet_id, "all", None)
                if result.verdict != UNREACHABLE or result.blocked_at is None:
                    continue  # reachable both ways, or not known well enough to judge
                if not any(h.resource_id == destination.subnet_id and h.type == "subnet" for h in result.hops):
                    continue  # the forward path does not reach the subnet: not a return problem
                back = snapshot.effective_route_table.get(destination.subnet_id)
                if back is None:
                    continue
                entry = lost[(back.route_table_id, table.route_table_id)]
                entry["routes"].add(route)
                entry["source_cidrs"].add(source.cidr)
                entry["destination_subnet_ids"].add(destination.subnet_id)
                if entry["blocked_at"] is None:
                    entry["blocked_at"] = result.blocked_at.to_json()
    for (back_id, forward_id), entry in sorted(lost.items()):
        back = snapshot.route_table_by_id[back_id]
        routes = sorted(entry["routes"])
        cidrs = sorted(entry["source_cidrs"])
        blocked = entry["blocked_at"]
        yield Violation(
            back_id,
            back.vpc_id,
            f"{forward_id} sends {', '.join(cidrs)} to {', '.join(sorted(entry['destination_subnet_ids']))} "
            f"({'; '.join(routes)}), but the replies from {back_id} do not get back: "
            f"{blocked['resource_id']}: {blocked['reason']}",
            {
                "forward_table": forward_id,
                "forward_vpc_id": snapshot.route_table_by_id[forward_id].vpc_id,
                "route": routes[0],
                "routes": routes,
                "source_cidr": cidrs[0],
                "source_cidrs": cidrs,
                "destination_subnet_ids": sorted(entry["destination_subnet_ids"]),
                "return_blocked_at": blocked,
            },
        )
