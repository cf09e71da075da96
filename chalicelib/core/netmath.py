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
from collections.abc import Collection, Hashable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from functools import cached_property, lru_cache
from itertools import chain, combinations, islice
from typing import Generic, NamedTuple, TypeVar

T = TypeVar("T")
Pair = tuple["Item[T]", "Item[T]"]


class Block(NamedTuple):
    """An address range [first, last] of one IP version (a tuple: hashing and sorting
    are native, which the sweep and the index do a lot of)."""

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


def is_ip_address(text: str) -> bool:
    """An IPv4 or IPv6 address (no prefix length)."""
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def contains(outer: str, inner: str) -> bool:
    bo, bi = parse(outer), parse(inner)
    if bo is None or bi is None or bo.version != bi.version:
        return False
    return bo.first <= bi.first and bi.last <= bo.last


def contained_in_any(inner: str, outers: Iterable[str]) -> bool:
    return any(contains(o, inner) for o in outers)


@dataclass(frozen=True)
class Item(Generic[T]):
    """A CIDR with an owner (pairs of the same owner are not overlaps) and a payload."""

    cidr: str
    owner: Hashable
    payload: T


class _Group(Generic[T]):
    """The items of one block; by owner (in order of first appearance) only when asked,
    since most blocks hold one item and allocation is what a sweep of 100k items costs."""

    __slots__ = ("_by_owner", "items")

    def __init__(self, first: Item[T]) -> None:
        self.items = [first]
        self._by_owner: dict[Hashable, list[Item[T]]] | None = None

    @property
    def size(self) -> int:
        return len(self.items)

    @property
    def by_owner(self) -> dict[Hashable, list[Item[T]]]:
        if self._by_owner is None:
            grouped: dict[Hashable, list[Item[T]]] = {}
            for item in self.items:
                grouped.setdefault(item.owner, []).append(item)
            self._by_owner = grouped
        return self._by_owner


def _group_by_block(items: Iterable[Item[T]]) -> dict[Block, _Group[T]]:
    """Items by the block of their CIDR; items that are not CIDRs are dropped."""
    groups: dict[Block, _Group[T]] = {}
    for item in items:
        block = parse(item.cidr)
        if block is not None:
            group = groups.get(block)
            if group is None:
                groups[block] = _Group(item)
            else:
                group.items.append(item)
    return groups


def _cross_count(outer: _Group[T], inner: _Group[T]) -> int:
    """Pairs (one item of each group) of different owners."""
    if outer.size == 1 and inner.size == 1:  # the common case, made cheap
        return 0 if outer.items[0].owner == inner.items[0].owner else 1
    small, large = (outer, inner) if len(outer.by_owner) <= len(inner.by_owner) else (inner, outer)
    same = sum(len(items) * len(large.by_owner.get(owner, ())) for owner, items in small.by_owner.items())
    return outer.size * inner.size - same


def _within_count(group: _Group[T]) -> int:
    """Unordered pairs of items of the group of different owners."""
    if group.size == 1 or len(group.by_owner) == 1:
        return 0
    return (group.size * group.size - sum(len(items) ** 2 for items in group.by_owner.values())) // 2


class OverlapSet(Generic[T]):
    """The overlapping pairs of different owners among items, held as pairs of same-block
    groups: counting is arithmetic and listing lazy, so a landscape with millions of
    overlapping pairs costs no more than its items. Items that are not CIDRs are ignored."""

    def __init__(self, items: Iterable[Item[T]]) -> None:
        self._groups = groups = _group_by_block(items)
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

    @cached_property
    def index(self) -> CidrIndex[T]:
        """An index of the same items (sharing the grouping work)."""
        return CidrIndex(groups=self._groups)


def overlapping_pairs(items: Sequence[Item[T]]) -> Iterator[Pair[T]]:
    """Pairs of items of different owners whose CIDRs overlap (each pair once, the
    containing block's item first). Items that do not parse as CIDRs are ignored."""
    return OverlapSet(items).pairs()


class CidrIndex(Generic[T]):
    """Items by block, to find (or count) those overlapping a query CIDR without a sweep.
    In a laminar family they are the query's supernets (looked up by block, only at the
    prefix lengths present) and the blocks starting inside it (a range of the sorted
    starts, counted with prefix sums): O(log n + prefix lengths + results)."""

    def __init__(self, items: Iterable[Item[T]] = (), *, groups: dict[Block, _Group[T]] | None = None) -> None:
        self._groups = groups = _group_by_block(items) if groups is None else groups
        self._blocks = sorted(groups, key=lambda b: (b.version, b.first, -b.last))
        self._keys = [(b.version, b.first, -b.last) for b in self._blocks]
        self._lengths: dict[int, list[int]] = defaultdict(list)
        for length, version in sorted({(b.prefixlen, b.version) for b in self._blocks}):
            self._lengths[version].append(length)
        # Prefix sums of items, overall and per owner (as positions), over the sorted blocks.
        self._cumulative = [0]
        self._positions: dict[Hashable, list[int]] = defaultdict(list)
        for position, block in enumerate(self._blocks):
            group = groups[block]
            self._cumulative.append(self._cumulative[-1] + group.size)
            for item in group.items:
                self._positions[item.owner].append(position)

    def _supernets(self, query: Block) -> Iterator[_Group[T]]:
        """Groups of the blocks strictly containing the query, widest first."""
        bits = 32 if query.version == 4 else 128
        for length in self._lengths.get(query.version, ()):
            if length >= query.prefixlen:
                break
            size = 1 << (bits - length)
            first = query.first & ~(size - 1)
            group = self._groups.get(Block(query.version, first, first + size - 1))
            if group is not None:
                yield group

    def _inside(self, query: Block) -> tuple[int, int]:
        """The range of sorted positions of the blocks the query contains (itself included)."""
        start = bisect_left(self._keys, (query.version, query.first, -query.last))
        end = bisect_left(self._keys, (query.version, query.last + 1, -(1 << 129)))
        return start, end

    def overlapping(self, cidr: str, exclude: Collection[Hashable] = ()) -> Iterator[Item[T]]:
        """Items overlapping the CIDR, lazily, skipping those of the excluded owners."""
        query = parse(cidr)
        if query is None:
            return
        start, end = self._inside(query)
        groups = chain(self._supernets(query), (self._groups[b] for b in self._blocks[start:end]))
        for group in groups:
            if group.size == 1:
                if group.items[0].owner not in exclude:
                    yield group.items[0]
                continue
            for owner, owned in group.by_owner.items():
                if owner not in exclude:
                    yield from owned

    def containing(self, cidr: str, exclude: Collection[Hashable] = ()) -> Iterator[Item[T]]:
        """Items whose CIDR contains the query CIDR or equals it (the query is "equal or more
        specific"), skipping those of the excluded owners: O(prefix lengths + results)."""
        query = parse(cidr)
        if query is None:
            return
        exact = self._groups.get(query)
        groups = chain(self._supernets(query), () if exact is None else (exact,))
        for group in groups:
            for item in group.items:
                if item.owner not in exclude:
                    yield item

    def count_overlapping(self, cidr: str, exclude: Collection[Hashable] = ()) -> int:
        """How many items ``overlapping`` yields, in O(log n + prefix lengths)."""
        query = parse(cidr)
        if query is None:
            return 0
        excluded = frozenset(exclude)  # an owner named twice is still subtracted once
        count = 0
        for group in self._supernets(query):
            count += group.size - sum(len(group.by_owner.get(owner, ())) for owner in excluded)
        start, end = self._inside(query)
        count += self._cumulative[end] - self._cumulative[start]
        for owner in excluded:
            positions = self._positions.get(owner, ())
            count -= bisect_left(positions, end) - bisect_left(positions, start)
        return count
