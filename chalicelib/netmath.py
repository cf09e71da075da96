"""CIDR arithmetic: parsing, containment and the overlap sweep.

CIDR blocks are laminar: two blocks are either disjoint or one contains the other. So
the overlapping pairs of a list are found by sorting on (family, start, -end) and
sweeping with a stack of the blocks still open: every block on the stack when a block
starts contains it. O(n log n + pairs reported).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Hashable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Generic, TypeVar

T = TypeVar("T")


@dataclass(frozen=True, order=True)
class Block:
    """An address range [first, last] of one IP version."""

    version: int
    first: int
    last: int


@lru_cache(maxsize=65536)
def parse(cidr: str) -> Block | None:
    """The range of a CIDR, or None for anything that is not one (a prefix list id)."""
    try:
        net = ipaddress.ip_network(cidr, strict=False)
    except ValueError:
        return None
    return Block(net.version, int(net.network_address), int(net.broadcast_address))


def overlaps(a: str, b: str) -> bool:
    ba, bb = parse(a), parse(b)
    if ba is None or bb is None or ba.version != bb.version:
        return False
    return ba.first <= bb.last and bb.first <= ba.last


def contains(outer: str, inner: str) -> bool:
    bo, bi = parse(outer), parse(inner)
    if bo is None or bi is None or bo.version != bi.version:
        return False
    return bo.first <= bi.first and bi.last <= bo.last


def contained_in_any(inner: str, outers: Iterable[str]) -> bool:
    return any(contains(o, inner) for o in outers)


def any_overlap(left: Iterable[str], right: Iterable[str]) -> list[tuple[str, str]]:
    """Every (a, b) with a from left and b from right that overlap, by the sweep."""
    items = [Item(c, "L", c) for c in left] + [Item(c, "R", c) for c in right]
    return [(a.payload, b.payload) if a.owner == "L" else (b.payload, a.payload) for a, b in overlapping_pairs(items)]


@dataclass(frozen=True)
class Item(Generic[T]):
    """A CIDR with an owner (pairs of the same owner are not overlaps) and a payload."""

    cidr: str
    owner: Hashable
    payload: T


def overlapping_pairs(items: Sequence[Item[T]]) -> Iterator[tuple[Item[T], Item[T]]]:
    """Pairs of items of different owners whose CIDRs overlap (each pair once, the
    containing or earlier block first). Items that do not parse as CIDRs are ignored."""
    parsed = [(block, item) for item in items if (block := parse(item.cidr)) is not None]
    # Equal blocks are grouped so a stack entry holds every item of one block.
    parsed.sort(key=lambda p: (p[0].version, p[0].first, -p[0].last))
    stack: list[tuple[Block, list[Item[T]]]] = []
    i = 0
    while i < len(parsed):
        block = parsed[i][0]
        group = [parsed[i][1]]
        i += 1
        while i < len(parsed) and parsed[i][0] == block:
            group.append(parsed[i][1])
            i += 1
        while stack and (stack[-1][0].version != block.version or stack[-1][0].last < block.first):
            stack.pop()
        for _, outer_group in stack:
            for outer in outer_group:
                for inner in group:
                    if outer.owner != inner.owner:
                        yield outer, inner
        for x in range(len(group)):
            for y in range(x + 1, len(group)):
                if group[x].owner != group[y].owner:
                    yield group[x], group[y]
        stack.append((block, group))
