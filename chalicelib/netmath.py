"""CIDR arithmetic: parsing, containment and the overlap sweep.

CIDR blocks are laminar: two blocks are either disjoint or one contains the other. So
the overlapping pairs of a list are found by sorting on (family, start, -end) and
sweeping with a stack of the blocks still open: every block on the stack when a block
starts contains it. The stack is a chain of nested blocks, so it is at most 33 (IPv4) or
129 (IPv6) deep: O(n log n + n * depth + pairs reported).
"""

from __future__ import annotations

import ipaddress
from bisect import bisect_left
from collections import defaultdict
from collections.abc import Hashable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from functools import cached_property, lru_cache
from itertools import combinations, islice
from typing import Generic, TypeVar

T = TypeVar("T")
Pair = tuple["Item[T]", "Item[T]"]


@dataclass(frozen=True, order=True)
class Block:
    """An address range [first, last] of one IP version."""

    version: int
    first: int
    last: int

    @property
    def prefixlen(self) -> int:
        bits = 32 if self.version == 4 else 128
        return bits - (self.last - self.first + 1).bit_length() + 1


def _parse_canonical_v4(cidr: str) -> Block | None:
    """The common case 'a.b.c.d/n', about 3x faster than ipaddress; None means "ask ipaddress"
    (anything unusual, valid or not, so both always agree)."""
    address, slash, length = cidr.partition("/")
    if not slash or not (length.isascii() and length.isdigit()) or len(length) > 2:
        return None
    octets = address.split(".")
    if len(octets) != 4:
        return None
    value = 0
    for octet in octets:
        # ipaddress rejects leading zeros (ambiguous octal) and non-ASCII digits.
        if not (octet.isascii() and octet.isdigit()) or len(octet) > 3 or (len(octet) > 1 and octet[0] == "0"):
            return None
        number = int(octet)
        if number > 255:
            return None
        value = value << 8 | number
    prefix = int(length)
    if prefix > 32:
        return None
    hostmask = (1 << (32 - prefix)) - 1
    return Block(4, value & ~hostmask, value | hostmask)


# Large enough for every distinct CIDR of a big region, so the checks share one parse.
@lru_cache(maxsize=1 << 17)
def parse(cidr: str) -> Block | None:
    """The range of a CIDR, or None for anything that is not one (a prefix list id)."""
    block = _parse_canonical_v4(cidr)
    if block is not None:
        return block
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


class _Group(Generic[T]):
    """The items of one block, by owner (in order of first appearance)."""

    __slots__ = ("by_owner", "size")

    def __init__(self) -> None:
        self.by_owner: dict[Hashable, list[Item[T]]] = {}
        self.size = 0

    def add(self, item: Item[T]) -> None:
        self.by_owner.setdefault(item.owner, []).append(item)
        self.size += 1


def _cross_count(outer: _Group[T], inner: _Group[T]) -> int:
    """Pairs (one item of each group) of different owners."""
    small, large = (outer, inner) if len(outer.by_owner) <= len(inner.by_owner) else (inner, outer)
    same = sum(len(items) * len(large.by_owner.get(owner, ())) for owner, items in small.by_owner.items())
    return outer.size * inner.size - same


def _within_count(group: _Group[T]) -> int:
    """Unordered pairs of items of the group of different owners."""
    return (group.size * group.size - sum(len(items) ** 2 for items in group.by_owner.values())) // 2


class OverlapSet(Generic[T]):
    """The overlapping pairs of different owners among items, held as pairs of same-block
    groups: counting is arithmetic and listing lazy, so a landscape with millions of
    overlapping pairs costs no more than its items. Items that are not CIDRs are ignored."""

    def __init__(self, items: Iterable[Item[T]]) -> None:
        groups: dict[Block, _Group[T]] = {}
        for item in items:
            block = parse(item.cidr)
            if block is not None:
                group = groups.get(block)
                if group is None:
                    group = groups[block] = _Group()
                group.add(item)
        # (outer, inner, count): inner is None for the pairs inside one group.
        self._links: list[tuple[_Group[T], _Group[T] | None, int]] = []
        stack: list[tuple[Block, _Group[T]]] = []
        for block in sorted(groups, key=lambda b: (b.version, b.first, -b.last)):
            group = groups[block]
            while stack and (stack[-1][0].version != block.version or stack[-1][0].last < block.first):
                stack.pop()
            for _, outer in stack:  # every open block contains this one
                if count := _cross_count(outer, group):
                    self._links.append((outer, group, count))
            if count := _within_count(group):
                self._links.append((group, None, count))
            stack.append((block, group))
        self.total = sum(count for _, _, count in self._links)

    @cached_property
    def _involving(self) -> dict[Hashable, int]:
        """owner -> how many pairs have one item of that owner."""
        result: dict[Hashable, int] = defaultdict(int)
        for outer, inner, _ in self._links:
            if inner is None:
                for owner, items in outer.by_owner.items():
                    result[owner] += len(items) * (outer.size - len(items))
                continue
            for owner, items in outer.by_owner.items():
                result[owner] += len(items) * (inner.size - len(inner.by_owner.get(owner, ())))
            for owner, items in inner.by_owner.items():
                result[owner] += len(items) * (outer.size - len(outer.by_owner.get(owner, ())))
        return result

    def count(self, without: Hashable | None = None) -> int:
        """The number of pairs, or of those with no item of owner ``without``."""
        if without is None:
            return self.total
        return self.total - self._involving.get(without, 0)

    def pairs(self, without: Hashable | None = None) -> Iterator[Pair[T]]:
        """Each pair once, the containing block's item first (for equal blocks, the owner
        seen first); optionally skipping pairs with an item of owner ``without``."""
        for outer, inner, _ in self._links:
            if inner is None:
                owners = [o for o in outer.by_owner if o != without or without is None]
                for first, second in combinations(owners, 2):
                    for a in outer.by_owner[first]:
                        for b in outer.by_owner[second]:
                            yield a, b
                continue
            for outer_owner, outer_items in outer.by_owner.items():
                if without is not None and outer_owner == without:
                    continue
                for inner_owner, inner_items in inner.by_owner.items():
                    if inner_owner == outer_owner or (without is not None and inner_owner == without):
                        continue
                    for a in outer_items:
                        for b in inner_items:
                            yield a, b

    def first(self, limit: int, without: Hashable | None = None) -> list[Pair[T]]:
        return list(islice(self.pairs(without), limit))


def overlapping_pairs(items: Sequence[Item[T]]) -> Iterator[Pair[T]]:
    """Pairs of items of different owners whose CIDRs overlap (each pair once, the
    containing block's item first). Items that do not parse as CIDRs are ignored."""
    return OverlapSet(items).pairs()


class CidrIndex(Generic[T]):
    """Items by block, to find those overlapping a query CIDR in O(log n + prefix length +
    results): in a laminar family they are the query's supernets (looked up by block)
    and the blocks starting inside it (a range of the sorted starts)."""

    def __init__(self, items: Iterable[Item[T]]) -> None:
        self._by_block: dict[Block, list[Item[T]]] = defaultdict(list)
        for item in items:
            block = parse(item.cidr)
            if block is not None:
                self._by_block[block].append(item)
        self._blocks = sorted(self._by_block, key=lambda b: (b.version, b.first, -b.last))
        self._keys = [(b.version, b.first, -b.last) for b in self._blocks]

    def overlapping(self, cidr: str) -> Iterator[Item[T]]:
        query = parse(cidr)
        if query is None or not self._blocks:
            return
        bits = 32 if query.version == 4 else 128
        for length in range(query.prefixlen):  # strict supernets, widest first
            size = 1 << (bits - length)
            first = query.first & ~(size - 1)
            yield from self._by_block.get(Block(query.version, first, first + size - 1), ())
        start = bisect_left(self._keys, (query.version, query.first, -query.last))
        end = bisect_left(self._keys, (query.version, query.last + 1, -(1 << 129)))
        for block in self._blocks[start:end]:
            yield from self._by_block[block]
