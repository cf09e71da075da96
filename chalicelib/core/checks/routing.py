"""Peering, route table and Transit Gateway checks: overlapping address space, routes wider
than their peer, routes to dead targets, and TGW attachment acceptance.

Overlap is judged by who owns the addresses (SPEC §1, *Address ownership*): a VPC owns its
CIDR blocks. Two owned ranges of different VPCs that overlap are a conflict; a route that
sends an owned range, or part of it (an equal or more specific destination), somewhere
else than its owner is a conflict; a summary route that merely contains owned ranges
(on-premises 10.0.0.0/8 over VPN, a default route to an inspection VPC) is a design:
longest-prefix match still delivers each VPC's traffic to the VPC.

Every overlap is found with the sort-and-sweep of ``netmath`` (never all pairs), and pair
lists in evidence are capped at ``MAX_PAIRS`` with the true total in ``pair_count``.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Iterator
from dataclasses import dataclass
from functools import cached_property
from itertools import islice
from typing import Any, NamedTuple, TypeVar

from chalicelib.core.checks import subjects as S
from chalicelib.core.model import (
    NetworkSnapshot,
    Peering,
    Route,
    RouteTable,
    TgwRoute,
    Violation,
    is_default_route,
    target_kind,
)
from chalicelib.core.netmath import CidrIndex, Item, OverlapSet, contained_in_any, overlapping_pairs
from chalicelib.core.policy import Policy
from chalicelib.core.states import is_gone, is_in_flight, is_live

MAX_PAIRS = 50
T = TypeVar("T")


def _unique(values: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(values))


def _expand(snapshot: NetworkSnapshot, destination: str) -> tuple[str, ...] | None:
    """The CIDRs a route destination stands for; None when it is a prefix list whose
    entries are unknown (so the route cannot be judged)."""
    if not destination.startswith("pl-"):
        return (destination,)
    prefix_list = snapshot.prefix_list_by_id.get(destination)
    return None if prefix_list is None else prefix_list.cidrs


def _route_tables(snapshot: NetworkSnapshot) -> list[RouteTable]:
    """The account's route tables within the audit's scope, by id."""
    audited = S.audited_route_tables(snapshot)
    return sorted((t for t in snapshot.route_tables if t.route_table_id in audited), key=lambda t: t.route_table_id)


def _more(total: int, noun: str) -> str:
    return f" (and {total - 1} more {noun}{'s' if total > 2 else ''})" if total > 1 else ""


# ---------------------------------------------------------------------------------
# peering-cidrs-non-overlapping
# ---------------------------------------------------------------------------------


def check_peering_cidrs_non_overlapping(snapshot: NetworkSnapshot, policy: Policy) -> Iterator[Violation]:
    audited = S.audited_peerings(snapshot)
    for peering in sorted(snapshot.peerings, key=lambda p: p.peering_id):
        if peering.peering_id not in audited or not is_live(peering.status):
            continue  # in flight: judged once accepted; gone: joins nothing
        req, acc = peering.requester, peering.accepter
        # What the peering reports and what we know of each VPC (a secondary CIDR the
        # peering description lacks still collides).
        items = [Item(c, "requester", c) for c in _unique((*req.cidrs, *snapshot.vpc_cidrs.get(req.vpc_id, ())))]
        items += [Item(c, "accepter", c) for c in _unique((*acc.cidrs, *snapshot.vpc_cidrs.get(acc.vpc_id, ())))]
        pairs = [
            {"requester_cidr": a.cidr, "accepter_cidr": b.cidr}
            if a.owner == "requester"
            else {"requester_cidr": b.cidr, "accepter_cidr": a.cidr}
            for a, b in overlapping_pairs(items)
        ]
        if not pairs:
            continue
        first = pairs[0]
        yield Violation(
            resource_id=peering.peering_id,
            vpc_id=S.peering_local_vpc(snapshot, peering),
            detail=f"Peering {peering.peering_id} joins {req.vpc_id} and {acc.vpc_id} whose CIDRs overlap: "
            f"{first['requester_cidr']} and {first['accepter_cidr']}{_more(len(pairs), 'pair')}",
            evidence={"pairs": pairs, "requester_vpc_id": req.vpc_id, "accepter_vpc_id": acc.vpc_id},
        )


# ---------------------------------------------------------------------------------
# connected-cidrs-non-overlapping
# ---------------------------------------------------------------------------------


class _Reach(NamedTuple):
    """A CIDR a VPC reaches, and how: 'self', a pcx id, or '<tgw-rtb-id>/<tgw-attach-id>'."""

    cidr: str
    via: str
    vpc_id: str | None

    def as_dict(self) -> dict[str, Any]:
        return {"cidr": self.cidr, "via": self.via, "vpc_id": self.vpc_id}

    def describe(self) -> str:
        if self.via == "self":
            return f"its own {self.cidr}"
        return f"{self.cidr} through {self.via}" + (f" ({self.vpc_id})" if self.vpc_id else "")


_ReachPair = tuple[Item[_Reach], Item[_Reach]]


@dataclass(frozen=True)
class _TgwTableReach:
    """What a TGW route table offers every VPC associated with it, computed once per table
    (a table can serve thousands of VPCs, which all see the table's own overlaps)."""

    items: list[Item[_Reach]]
    overlaps: OverlapSet[_Reach]

    @cached_property
    def _head(self) -> list[tuple[Hashable, Hashable, _ReachPair]]:
        return [(a.owner, b.owner, (a, b)) for a, b in self.overlaps.first(2 * MAX_PAIRS)]

    def pairs_without(self, owner: Hashable, limit: int) -> list[_ReachPair]:
        """The table's first overlapping pairs that do not involve ``owner`` (a VPC's routes
        to itself): filtered from a shared head, so each VPC pays O(MAX_PAIRS)."""
        if limit <= 0:
            return []
        chosen = [pair for a, b, pair in self._head if owner != a and owner != b][:limit]
        if len(chosen) < limit and len(self._head) < self.overlaps.total:  # the head was not enough
            chosen = self.overlaps.first(limit, without=owner)
        return chosen


def _attachment_vpc(snapshot: NetworkSnapshot, attachment_id: str) -> str | None:
    attachment = snapshot.tgw_attachment_by_id.get(attachment_id)
    if attachment is None or attachment.resource_type != "vpc":
        return None
    return attachment.resource_id


def _live_tgw_route(route: TgwRoute) -> bool:
    """Routes that forward traffic to an attachment (blackhole routes drop it on purpose;
    pending and deleting routes carry nothing yet or any more)."""
    return route.state != "blackhole" and is_live(route.state) and bool(route.attachment_ids)


class _TgwItem(NamedTuple):
    """One CIDR of a live TGW route, and whom it belongs to."""

    cidr: str
    route: TgwRoute
    owner: str  # the target VPC, else the attachment id(s) (VPN, Direct Connect, peering)
    vpc_id: str | None  # the target VPC, when the attachment is a VPC's
    owned: bool  # True when the CIDR is (part of) the target VPC's own range


def _tgw_items(snapshot: NetworkSnapshot, table_id: str) -> list[_TgwItem]:
    """The live routes of a TGW route table, each CIDR classified: owned by the VPC it
    goes to (a propagated route, or a static one inside that VPC's CIDRs), or a route (a
    summary toward an inspection VPC, a VPN, Direct Connect or peering route)."""
    result: list[_TgwItem] = []
    for route in snapshot.tgw_routes.get(table_id, ()):
        if not _live_tgw_route(route) or is_default_route(route.destination):
            continue
        cidrs = _expand(snapshot, route.destination)
        if cidrs is None:
            continue
        vpc_ids = {_attachment_vpc(snapshot, a) for a in route.attachment_ids}
        vpc_id = next(iter(vpc_ids)) if len(vpc_ids) == 1 else None
        owner = vpc_id or ",".join(sorted(route.attachment_ids))  # several: one ECMP route, one owner
        vpc_cidrs = snapshot.vpc_cidrs.get(vpc_id, ()) if vpc_id else ()
        for cidr in cidrs:
            if is_default_route(cidr):
                continue
            # A propagated route of a VPC attachment is exactly one of the VPC's CIDRs.
            owned = vpc_id is not None and (route.route_type == "propagated" or contained_in_any(cidr, vpc_cidrs))
            result.append(_TgwItem(cidr, route, owner, vpc_id, owned))
    return result


def _tgw_table_reach(snapshot: NetworkSnapshot, table_id: str) -> _TgwTableReach:
    """The VPC ranges a TGW route table delivers (summary routes are not VPC ranges)."""
    via_of: dict[tuple[str, ...], str] = {}
    items: list[Item[_Reach]] = []
    for t in _tgw_items(snapshot, table_id):
        if not t.owned:
            continue
        attachments = t.route.attachment_ids
        via = via_of.get(attachments) or via_of.setdefault(attachments, f"{table_id}/{','.join(attachments)}")
        items.append(Item(t.cidr, t.owner, _Reach(t.cidr, via, t.vpc_id)))
    return _TgwTableReach(items, OverlapSet(items))


def ownership_conflicts(
    owned: list[Item[T]], routes: list[Item[T]], limit: int = MAX_PAIRS
) -> tuple[int, list[tuple[Item[T], Item[T]]]]:
    """(total, first ``limit`` pairs) of the address-ownership conflicts: owned ranges of
    different owners that overlap, and routes whose destination lies inside (or equals) a
    range owned by someone else than the route's target. Routes that merely contain
    owned ranges are not conflicts."""
    overlaps = OverlapSet(owned)
    total = overlaps.total
    pairs = overlaps.first(limit)
    index: CidrIndex[T] = overlaps.index
    for route in routes:
        for holder in index.containing(route.cidr, (route.owner,)):
            total += 1
            if len(pairs) < limit:
                pairs.append((holder, route))
    return total, pairs


def _ordered(pair: _ReachPair) -> tuple[_Reach, _Reach]:
    a, b = pair[0].payload, pair[1].payload
    return (b, a) if b.via == "self" else (a, b)  # the VPC's own CIDR reads best first


class _PairDicts(dict[tuple[_Reach, _Reach], dict[str, Any]]):
    """Evidence entries built once per check run and shared by the findings (read-only):
    every VPC on a busy TGW route table lists the same overlaps of that table, and one
    copy each cut the peak memory of a 5,000-VPC landscape by two thirds."""

    def __missing__(self, key: tuple[_Reach, _Reach]) -> dict[str, Any]:
        entry = self[key] = {"a": key[0].as_dict(), "b": key[1].as_dict()}
        return entry


def check_connected_cidrs_non_overlapping(snapshot: NetworkSnapshot, policy: Policy) -> Iterator[Violation]:
    table_reach: dict[str, _TgwTableReach] = {}
    pair_dicts = _PairDicts()
    audited = S.audited_vpcs(snapshot)
    for vpc in sorted(snapshot.vpcs, key=lambda v: v.vpc_id):
        if vpc.vpc_id not in audited:
            continue
        me = vpc.vpc_id
        local = [Item(c, me, _Reach(c, "self", me)) for c in _unique(vpc.cidrs)]
        for peering in sorted(snapshot.peerings_by_vpc.get(me, ()), key=lambda p: p.peering_id):
            side = peering.other_side(me)
            if not is_live(peering.status) or side is None or side.vpc_id == me:
                continue
            # The peer as it describes itself when visible (all its CIDRs), else as the peering reports it.
            peer_cidrs = snapshot.vpc_cidrs.get(side.vpc_id) or side.cidrs
            local += [Item(c, side.vpc_id, _Reach(c, peering.peering_id, side.vpc_id)) for c in _unique(peer_cidrs)]
        table_ids = sorted(
            {
                table_id
                for a in snapshot.tgw_attachments_by_vpc.get(me, ())
                if is_live(a.state)
                for table_id in snapshot.tgw_tables_of_attachment.get(a.attachment_id, ())
            }
        )
        for table_id in table_ids:
            if table_id not in table_reach:
                table_reach[table_id] = _tgw_table_reach(snapshot, table_id)

        # Routes back to this VPC (owner `me`) are its own CIDRs: never an overlap.
        pairs: list[_ReachPair]
        if len(table_ids) == 1:
            # The usual case: reuse the table's own overlaps, and look up only this
            # VPC's few local CIDRs in the table, instead of sweeping the whole table again.
            reach = table_reach[table_ids[0]]
            total = reach.overlaps.count(without=me)
            pairs = []
            if len(local) > 1:
                local_overlaps = OverlapSet(local)
                total += local_overlaps.total
                pairs = local_overlaps.first(MAX_PAIRS)
            for mine in local:
                exclude = {me, mine.owner}
                total += reach.overlaps.index.count_overlapping(mine.cidr, exclude)
                theirs = islice(reach.overlaps.index.overlapping(mine.cidr, exclude), max(0, MAX_PAIRS - len(pairs)))
                pairs += [(mine, other) for other in theirs]
            pairs += reach.pairs_without(me, MAX_PAIRS - len(pairs))
        else:
            items = local + [i for t in table_ids for i in table_reach[t].items if i.owner != me]
            overlaps = OverlapSet(items)
            total, pairs = overlaps.total, overlaps.first(MAX_PAIRS)
        if not total:
            continue
        shown = [_ordered(pair) for pair in pairs[:MAX_PAIRS]]
        a, b = shown[0]
        yield Violation(
            resource_id=me,
            vpc_id=me,
            detail=f"VPC {me} reaches overlapping CIDRs: {a.describe()} and {b.describe()}{_more(total, 'pair')}",
            evidence={"pairs": [pair_dicts[pair] for pair in shown], "pair_count": total},
        )


# ---------------------------------------------------------------------------------
# peering-routes-least-access
# ---------------------------------------------------------------------------------


def check_peering_routes_least_access(snapshot: NetworkSnapshot, policy: Policy) -> Iterator[Violation]:
    peer_cidrs_cache: dict[tuple[str, str], list[str]] = {}
    for table in _route_tables(snapshot):
        bad: list[dict[str, Any]] = []
        for route in table.routes:
            if not route.target.startswith("pcx-"):
                continue
            peering = snapshot.peering_by_id.get(route.target)
            peer = peering.other_side(table.vpc_id) if peering is not None else None
            if peer is None:  # unknown peering: routes-no-blackhole reports it
                continue
            key = (route.target, peer.vpc_id)
            if key not in peer_cidrs_cache:
                peer_cidrs_cache[key] = _unique((*peer.cidrs, *snapshot.vpc_cidrs.get(peer.vpc_id, ())))
            peer_cidrs = peer_cidrs_cache[key]
            if not is_default_route(route.destination):
                cidrs = _expand(snapshot, route.destination)
                if cidrs is None or all(contained_in_any(c, peer_cidrs) for c in cidrs):
                    continue  # unknown prefix list entries cannot be judged
            bad.append(
                {
                    "destination": route.destination,
                    "target": route.target,
                    "peer_vpc_id": peer.vpc_id,
                    "peer_cidrs": list(peer_cidrs),
                }
            )
        if bad:
            first = bad[0]
            yield Violation(
                resource_id=table.route_table_id,
                vpc_id=table.vpc_id,
                detail=f"Route table {table.route_table_id} routes {first['destination']} to peering "
                f"{first['target']}, beyond peer {first['peer_vpc_id']}'s CIDRs{_more(len(bad), 'route')}",
                evidence={"routes": bad},
            )


# ---------------------------------------------------------------------------------
# route-destinations-non-overlapping
# ---------------------------------------------------------------------------------


def _dest_entry(item: Item[Route]) -> dict[str, Any]:
    entry = {"destination": item.payload.destination, "target": item.payload.target}
    if item.cidr != item.payload.destination:  # an entry of a prefix list
        entry["cidr"] = item.cidr
    return entry


class _PeerRange(NamedTuple):
    cidr: str
    vpc_id: str
    via: str  # the peering

    def as_dict(self) -> dict[str, Any]:
        return {"cidr": self.cidr, "vpc_id": self.vpc_id, "via": self.via}


def check_route_destinations_non_overlapping(snapshot: NetworkSnapshot, policy: Policy) -> Iterator[Violation]:
    """A route to one peering or transit gateway whose destination lies inside (or equals)
    the range of a VPC reached through a different peering: that VPC's traffic goes the
    other way. The owned ranges are the peers' CIDRs (what a route table reaches through a
    transit gateway is judged by connected-cidrs-non-overlapping and tgw-routes-non-overlapping)."""
    compared: dict[str, bool] = {}  # target -> is a peering / TGW (memo: this sees every route of the region)
    for table in _route_tables(snapshot):
        routes: list[Item[Any]] = []
        owned: list[Item[Any]] = []
        peers_seen: set[str] = set()
        for route in table.routes:
            target = route.target
            if (keep := compared.get(target)) is None:
                keep = compared[target] = target_kind(target) in ("pcx", "tgw")
            if not keep:
                continue
            if target.startswith("pcx-") and target not in peers_seen:
                peers_seen.add(target)
                peering = snapshot.peering_by_id.get(target)
                peer = peering.other_side(table.vpc_id) if peering is not None else None
                if peering is not None and peer is not None and is_live(peering.status):
                    cidrs = snapshot.vpc_cidrs.get(peer.vpc_id) or peer.cidrs
                    owned += [Item(c, target, _PeerRange(c, peer.vpc_id, target)) for c in _unique(cidrs)]
            # The default route is the catch-all: longest-prefix match makes overlap intended.
            if is_default_route(route.destination):
                continue
            for cidr in _expand(snapshot, route.destination) or ():
                if not is_default_route(cidr):
                    routes.append(Item(cidr, target, route))
        if not owned or not routes:
            continue
        index: CidrIndex[Any] = CidrIndex(owned)
        total = 0
        pairs: list[dict[str, Any]] = []
        for item in routes:
            for holder in index.containing(item.cidr, (item.owner,)):
                total += 1
                if len(pairs) < MAX_PAIRS:
                    pairs.append({"a": _dest_entry(item), "b": holder.payload.as_dict()})
        if not total:
            continue
        a, b = pairs[0]["a"], pairs[0]["b"]
        yield Violation(
            resource_id=table.route_table_id,
            vpc_id=table.vpc_id,
            detail=f"Route table {table.route_table_id} sends {a.get('cidr', a['destination'])} to {a['target']}, "
            f"inside {b['cidr']} of VPC {b['vpc_id']} reached through {b['via']}{_more(total, 'pair')}",
            evidence={"pairs": pairs, "pair_count": total},
        )


# ---------------------------------------------------------------------------------
# routes-no-blackhole
# ---------------------------------------------------------------------------------


def _target_state(snapshot: NetworkSnapshot, table: RouteTable, target: str) -> tuple[str | None, str] | None:
    """(state, what) of a route's target as the snapshot describes it: state None when the
    target cannot be found; None for targets this check does not judge (igw, eni, ...)."""
    kind = target_kind(target)
    if kind == "pcx":
        peering: Peering | None = snapshot.peering_by_id.get(target)
        return (None if peering is None else peering.status), f"peering {target}"
    if kind == "tgw":
        tgw = snapshot.tgw_by_id.get(target)
        if tgw is not None and not is_gone(tgw.state):
            return tgw.state, f"transit gateway {target}"
        # A TGW shared from another account may be invisible; an attachment proves it.
        states = [a.state for a in snapshot.tgw_attachments_by_vpc.get(table.vpc_id, ()) if a.tgw_id == target]
        present = [st for st in states if not is_gone(st)]
        if present:
            return (next((st for st in present if is_live(st)), present[0])), f"transit gateway {target}"
        return (None if tgw is None else tgw.state), f"transit gateway {target}"
    if kind == "nat":
        nat = snapshot.nat_gateway_by_id.get(target)
        return (None if nat is None else nat.state), f"NAT gateway {target}"
    if kind == "vpce":
        endpoint = snapshot.vpc_endpoint_by_id.get(target)
        return (None if endpoint is None else endpoint.state), f"VPC endpoint {target}"
    return None


def check_routes_no_blackhole(snapshot: NetworkSnapshot, policy: Policy) -> Iterator[Violation]:
    for table in _route_tables(snapshot):
        bad: list[dict[str, Any]] = []
        for route in table.routes:
            if route.target == "local":
                continue
            # Derived from the target itself (routes to a deleted peering or NAT gateway are not
            # always flagged blackhole); the state field alone is the fallback.
            found = _target_state(snapshot, table, route.target)
            reason: str | None = None
            if found is not None:
                state, what = found
                if state is None:
                    reason = f"{what} not found"
                elif is_in_flight(state):
                    continue  # being created or accepted: judged once it has settled
                elif is_gone(state):
                    reason = f"{what} is {state}"
            if reason is None and route.state == "blackhole":
                reason = "state blackhole"
            if reason is not None:
                bad.append({"destination": route.destination, "target": route.target, "reason": reason})
        if bad:
            first = bad[0]
            yield Violation(
                resource_id=table.route_table_id,
                vpc_id=table.vpc_id,
                detail=f"Route table {table.route_table_id} routes {first['destination']} to {first['target']}, "
                f"which cannot carry traffic ({first['reason']}){_more(len(bad), 'route')}",
                evidence={"routes": bad},
            )


# ---------------------------------------------------------------------------------
# tgw-routes-non-overlapping
# ---------------------------------------------------------------------------------


class _TgwDest(NamedTuple):
    destination: str
    attachment_id: str
    type: str
    vpc_id: str | None
    cidr: str  # the prefix list entry, when destination is a prefix list

    def as_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "destination": self.destination,
            "attachment_id": self.attachment_id,
            "type": self.type,
            "vpc_id": self.vpc_id,
        }
        if self.cidr != self.destination:
            data["cidr"] = self.cidr
        return data


def check_tgw_routes_non_overlapping(snapshot: NetworkSnapshot, policy: Policy) -> Iterator[Violation]:
    audited = S.audited_tgw_route_tables(snapshot)
    for table in sorted(snapshot.tgw_route_tables, key=lambda t: t.route_table_id):
        if table.route_table_id not in audited:
            continue
        owned: list[Item[_TgwDest]] = []
        routes: list[Item[_TgwDest]] = []
        for t in _tgw_items(snapshot, table.route_table_id):
            r = t.route
            payload = _TgwDest(r.destination, ",".join(r.attachment_ids), r.route_type, t.vpc_id, t.cidr)
            (owned if t.owned else routes).append(Item(t.cidr, t.owner, payload))
        total, pairs = ownership_conflicts(owned, routes)
        if not total:
            continue
        a, b = pairs[0][0].payload, pairs[0][1].payload
        yield Violation(
            resource_id=table.route_table_id,
            vpc_id=None,
            detail=f"Transit gateway route table {table.route_table_id} has overlapping routes "
            f"{a.destination} ({a.type}, {a.attachment_id}) and {b.destination} ({b.type}, {b.attachment_id})"
            f"{_more(total, 'pair')}",
            evidence={
                "pairs": [{"a": x.payload.as_dict(), "b": y.payload.as_dict()} for x, y in pairs],
                "pair_count": total,
            },
        )


# ---------------------------------------------------------------------------------
# tgw-auto-accept-disabled
# ---------------------------------------------------------------------------------


def check_tgw_auto_accept_disabled(snapshot: NetworkSnapshot, policy: Policy) -> Iterator[Violation]:
    audited = S.audited_transit_gateways(snapshot)
    for tgw in sorted(snapshot.transit_gateways, key=lambda t: t.tgw_id):
        if tgw.tgw_id not in audited:
            continue
        if tgw.auto_accept_shared_attachments == "enable":
            yield Violation(
                resource_id=tgw.tgw_id,
                vpc_id=None,
                detail=f"Transit gateway {tgw.tgw_id} automatically accepts attachments shared with it "
                "(AutoAcceptSharedAttachments=enable)",
                evidence={"auto_accept_shared_attachments": tgw.auto_accept_shared_attachments},
            )
