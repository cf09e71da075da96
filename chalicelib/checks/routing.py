"""Peering, route table and Transit Gateway checks: overlapping address space, routes wider
than their peer, routes to dead targets, and TGW attachment acceptance.

Every overlap is found with the sort-and-sweep of ``netmath`` (never all pairs), and pair
lists in evidence are capped at ``MAX_PAIRS`` with the true total in ``pair_count``.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Iterator
from dataclasses import dataclass
from functools import cached_property
from itertools import islice
from typing import Any, NamedTuple

from chalicelib.model import (
    NetworkSnapshot,
    Peering,
    Route,
    RouteTable,
    TgwRoute,
    Violation,
    is_default_route,
    target_kind,
)
from chalicelib.netmath import Item, OverlapSet, contained_in_any, overlapping_pairs
from chalicelib.policy import Policy

MAX_PAIRS = 50
# Routes that carry no traffic: a TGW blackhole route is a deliberate drop, not a path.
_DEAD_TGW_ROUTE_STATES = frozenset({"blackhole", "deleted", "deleting"})
_GONE_STATES = frozenset({"deleted", "deleting"})


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
    return sorted(
        (t for t in snapshot.route_tables if snapshot.owns(t.owner_id) and snapshot.in_scope(t.vpc_id)),
        key=lambda t: t.route_table_id,
    )


def _more(total: int, noun: str) -> str:
    return f" (and {total - 1} more {noun}{'s' if total > 2 else ''})" if total > 1 else ""


# ---------------------------------------------------------------------------------
# peering-cidrs-non-overlapping
# ---------------------------------------------------------------------------------


def check_peering_cidrs_non_overlapping(snapshot: NetworkSnapshot, policy: Policy) -> Iterator[Violation]:
    for peering in sorted(snapshot.peerings, key=lambda p: p.peering_id):
        if peering.status != "active":
            continue
        req, acc = peering.requester, peering.accepter
        if not (snapshot.owns(req.owner_id) or snapshot.owns(acc.owner_id)):
            continue
        if not (snapshot.in_scope(req.vpc_id) or snapshot.in_scope(acc.vpc_id)):
            continue
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
            vpc_id=req.vpc_id if snapshot.in_scope(req.vpc_id) else acc.vpc_id,
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
    """Routes that forward traffic to an attachment (blackhole routes drop it on purpose)."""
    return route.state not in _DEAD_TGW_ROUTE_STATES and bool(route.attachment_ids)


def _tgw_table_reach(snapshot: NetworkSnapshot, table_id: str) -> _TgwTableReach:
    items: list[Item[_Reach]] = []
    for route in snapshot.tgw_routes.get(table_id, ()):
        if not _live_tgw_route(route) or is_default_route(route.destination):
            continue
        cidrs = _expand(snapshot, route.destination)
        if cidrs is None:
            continue
        vpc_ids = {_attachment_vpc(snapshot, a) for a in route.attachment_ids}
        vpc_id = next(iter(vpc_ids)) if len(vpc_ids) == 1 else None
        # Owner = the remote VPC when known, so one VPC reached two ways is not an overlap.
        owner = vpc_id or ",".join(sorted(route.attachment_ids))
        via = f"{table_id}/{','.join(route.attachment_ids)}"
        items.extend(Item(c, owner, _Reach(c, via, vpc_id)) for c in cidrs if not is_default_route(c))
    return _TgwTableReach(items, OverlapSet(items))


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
    for vpc in sorted(snapshot.vpcs, key=lambda v: v.vpc_id):
        if not (snapshot.owns(vpc.owner_id) and snapshot.in_scope(vpc.vpc_id)):
            continue
        me = vpc.vpc_id
        local = [Item(c, me, _Reach(c, "self", me)) for c in _unique(vpc.cidrs)]
        for peering in sorted(snapshot.peerings_by_vpc.get(me, ()), key=lambda p: p.peering_id):
            side = peering.other_side(me)
            if peering.status != "active" or side is None or side.vpc_id == me:
                continue
            # The peer as it describes itself when visible (all its CIDRs), else as the peering reports it.
            peer_cidrs = snapshot.vpc_cidrs.get(side.vpc_id) or side.cidrs
            local += [Item(c, side.vpc_id, _Reach(c, peering.peering_id, side.vpc_id)) for c in _unique(peer_cidrs)]
        table_ids = sorted(
            {
                table_id
                for a in snapshot.tgw_attachments_by_vpc.get(me, ())
                if a.state == "available"
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


def check_route_destinations_non_overlapping(snapshot: NetworkSnapshot, policy: Policy) -> Iterator[Violation]:
    compared: dict[str, bool] = {}  # target -> is a peering / TGW (memo: this sees every route of the region)
    for table in _route_tables(snapshot):
        items: list[Item[Route]] = []
        for route in table.routes:
            target = route.target
            if (keep := compared.get(target)) is None:
                keep = compared[target] = target_kind(target) in ("pcx", "tgw")
            # The default route is the catch-all: longest-prefix match makes overlap intended.
            if not keep or is_default_route(route.destination):
                continue
            for cidr in _expand(snapshot, route.destination) or ():
                if not is_default_route(cidr):
                    items.append(Item(cidr, target, route))
        if len(items) < 2:
            continue
        overlaps = OverlapSet(items)
        if not overlaps.total:
            continue
        pairs = overlaps.first(MAX_PAIRS)
        a, b = pairs[0][0].payload, pairs[0][1].payload
        yield Violation(
            resource_id=table.route_table_id,
            vpc_id=table.vpc_id,
            detail=f"Route table {table.route_table_id} routes overlapping destinations {a.destination} to "
            f"{a.target} and {b.destination} to {b.target}{_more(overlaps.total, 'pair')}",
            evidence={
                "pairs": [{"a": _dest_entry(x), "b": _dest_entry(y)} for x, y in pairs],
                "pair_count": overlaps.total,
            },
        )


# ---------------------------------------------------------------------------------
# routes-no-blackhole
# ---------------------------------------------------------------------------------


def _dead_target_reason(snapshot: NetworkSnapshot, table: RouteTable, target: str) -> str | None:
    """Why a route's target cannot carry traffic, derived from the target itself (routes
    to a deleted peering or NAT gateway are not always flagged blackhole by AWS, nor by
    emulators)."""
    kind = target_kind(target)
    if kind == "pcx":
        peering: Peering | None = snapshot.peering_by_id.get(target)
        if peering is None:
            return f"peering {target} not found"
        return None if peering.status == "active" else f"peering {target} is {peering.status}"
    if kind == "tgw":
        tgw = snapshot.tgw_by_id.get(target)
        if tgw is not None and tgw.state == "available":
            return None
        # A TGW shared from another account may be invisible; an attachment proves it.
        if any(
            a.tgw_id == target and a.state == "available" for a in snapshot.tgw_attachments_by_vpc.get(table.vpc_id, ())
        ):
            return None
        return f"transit gateway {target} not found" if tgw is None else f"transit gateway {target} is {tgw.state}"
    if kind == "nat":
        nat = snapshot.nat_gateway_by_id.get(target)
        if nat is None:
            return f"NAT gateway {target} not found"
        return None if nat.state == "available" else f"NAT gateway {target} is {nat.state}"
    if kind == "vpce":
        endpoint = snapshot.vpc_endpoint_by_id.get(target)
        if endpoint is None:
            return f"VPC endpoint {target} not found"
        return None if endpoint.state == "available" else f"VPC endpoint {target} is {endpoint.state}"
    return None


def check_routes_no_blackhole(snapshot: NetworkSnapshot, policy: Policy) -> Iterator[Violation]:
    for table in _route_tables(snapshot):
        bad: list[dict[str, Any]] = []
        for route in table.routes:
            if route.target == "local":
                continue
            # The derived reason says why; the state field alone is the fallback.
            reason = _dead_target_reason(snapshot, table, route.target)
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


def _scoped_tgw_route_tables(snapshot: NetworkSnapshot) -> set[str] | None:
    """In a scoped audit, the TGW route tables the scoped VPCs' attachments are associated
    with or propagate into; None when the audit covers the whole region."""
    if not snapshot.scope_vpc_ids:
        return None
    attachments = {a.attachment_id for v in snapshot.scope_vpc_ids for a in snapshot.tgw_attachments_by_vpc.get(v, ())}
    tables = {table for a in attachments for table in snapshot.tgw_tables_of_attachment.get(a, ())}
    tables |= {t.route_table_id for t in snapshot.tgw_route_tables if attachments.intersection(t.propagations)}
    return tables


def check_tgw_routes_non_overlapping(snapshot: NetworkSnapshot, policy: Policy) -> Iterator[Violation]:
    scoped = _scoped_tgw_route_tables(snapshot)
    for table in sorted(snapshot.tgw_route_tables, key=lambda t: t.route_table_id):
        tgw = snapshot.tgw_by_id.get(table.tgw_id)
        if tgw is not None and not snapshot.owns(tgw.owner_id):
            continue
        if table.state in _GONE_STATES or (scoped is not None and table.route_table_id not in scoped):
            continue
        items: list[Item[_TgwDest]] = []
        for route in snapshot.tgw_routes.get(table.route_table_id, ()):
            if not _live_tgw_route(route) or is_default_route(route.destination):
                continue
            attachment = ",".join(route.attachment_ids)
            owner = ",".join(sorted(route.attachment_ids))  # several: one ECMP route, one owner
            vpc_ids = {_attachment_vpc(snapshot, a) for a in route.attachment_ids}
            vpc_id = next(iter(vpc_ids)) if len(vpc_ids) == 1 else None
            for cidr in _expand(snapshot, route.destination) or ():
                if not is_default_route(cidr):
                    payload = _TgwDest(route.destination, attachment, route.route_type, vpc_id, cidr)
                    items.append(Item(cidr, owner, payload))
        overlaps = OverlapSet(items)
        if not overlaps.total:
            continue
        pairs = overlaps.first(MAX_PAIRS)
        a, b = pairs[0][0].payload, pairs[0][1].payload
        yield Violation(
            resource_id=table.route_table_id,
            vpc_id=None,
            detail=f"Transit gateway route table {table.route_table_id} has overlapping routes "
            f"{a.destination} ({a.type}, {a.attachment_id}) and {b.destination} ({b.type}, {b.attachment_id})"
            f"{_more(overlaps.total, 'pair')}",
            evidence={
                "pairs": [{"a": x.payload.as_dict(), "b": y.payload.as_dict()} for x, y in pairs],
                "pair_count": overlaps.total,
            },
        )


# ---------------------------------------------------------------------------------
# tgw-auto-accept-disabled
# ---------------------------------------------------------------------------------


def check_tgw_auto_accept_disabled(snapshot: NetworkSnapshot, policy: Policy) -> Iterator[Violation]:
    scoped_tgws = (
        {a.tgw_id for v in snapshot.scope_vpc_ids for a in snapshot.tgw_attachments_by_vpc.get(v, ())}
        if snapshot.scope_vpc_ids
        else None
    )
    for tgw in sorted(snapshot.transit_gateways, key=lambda t: t.tgw_id):
        # Only the owner can change a shared TGW's options.
        if not snapshot.owns(tgw.owner_id) or tgw.state in _GONE_STATES:
            continue
        if scoped_tgws is not None and tgw.tgw_id not in scoped_tgws:
            continue
        if tgw.auto_accept_shared_attachments == "enable":
            yield Violation(
                resource_id=tgw.tgw_id,
                vpc_id=None,
                detail=f"Transit gateway {tgw.tgw_id} automatically accepts attachments shared with it "
                "(AutoAcceptSharedAttachments=enable)",
                evidence={"auto_accept_shared_attachments": tgw.auto_accept_shared_attachments},
            )
