"""Longest-prefix match: a dict per prefix length, probed from the longest length present
down, so a lookup costs one masked dict probe per distinct prefix length (a handful)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Generic, TypeVar

from chalicelib.core.netmath import Block

T = TypeVar("T")

_BITS = {4: 32, 6: 128}


def mask(version: int, length: int) -> int:
    bits = _BITS[version]
    return ((1 << bits) - 1) ^ ((1 << (bits - length)) - 1)


def any_address(version: int) -> Block:
    """0.0.0.0/0 or ::/0: "some public address", which only a default route is sure to hold."""
    return Block(version, 0, (1 << _BITS[version]) - 1)


def contains(outer: Block, inner: Block) -> bool:
    return outer.version == inner.version and outer.first <= inner.first and inner.last <= outer.last


class Lpm(Generic[T]):
    """Values by CIDR block; ``lookup`` answers the most specific block that holds the whole
    query block, and among equal blocks the value added with the lowest rank."""

    __slots__ = ("_by_length", "_lengths")

    def __init__(self) -> None:
        # version -> prefix length -> network start -> (rank, value)
        self._by_length: dict[int, dict[int, dict[int, tuple[int, T]]]] = {4: {}, 6: {}}
        self._lengths: dict[int, list[tuple[int, int, dict[int, tuple[int, T]]]]] | None = None

    def add(self, block: Block, value: T, rank: int = 0) -> None:
        table = self._by_length[block.version].setdefault(block.prefixlen, {})
        held = table.get(block.first)
        if held is None or rank < held[0]:
            table[block.first] = (rank, value)
        self._lengths = None

    def entries(self, version: int) -> Iterator[tuple[Block, T]]:
        """Every block of ``version`` held, with the value a lookup of exactly it answers."""
        size_bits = _BITS[version]
        for length, table in self._by_length[version].items():
            size = 1 << (size_bits - length)
            for first, (_, value) in table.items():
                yield Block(version, first, first + size - 1), value

    def lookup(self, query: Block) -> tuple[Block, T] | None:
        lengths = self._lengths
        if lengths is None:
            lengths = self._lengths = {
                version: [
                    (length, mask(version, length), table) for length, table in sorted(tables.items(), reverse=True)
                ]
                for version, tables in self._by_length.items()
            }
        query_length = query.prefixlen
        for length, bits, table in lengths[query.version]:
            if length > query_length:
                continue
            hit = table.get(query.first & bits)
            if hit is not None:
                size = 1 << (_BITS[query.version] - length)
                first = query.first & bits
                return Block(query.version, first, first + size - 1), hit[1]
        return None
