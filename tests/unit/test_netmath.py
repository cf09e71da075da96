"""Property tests: the CIDR sweep and index agree with brute force over ipaddress."""

from __future__ import annotations

import ipaddress
from collections import Counter

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chalicelib.core import netmath
from chalicelib.core.netmath import CidrIndex, Item, OverlapSet, overlapping_pairs

NOT_CIDRS = ("pl-123", "pl-0abc", "", "local", "10.0.0.0/33", "010.0.0.0/8", "::/129")


def _v4(draw: st.DrawFn, narrow: bool) -> str:
    # Narrow: addresses inside 10.0.0.0/20 and long prefixes, so overlaps are frequent.
    address = draw(st.integers(0, 4095)) + (10 << 24) if narrow else draw(st.integers(0, 2**32 - 1))
    prefix = draw(st.integers(16, 32) if narrow else st.integers(0, 32))
    return str(ipaddress.ip_network((address, prefix), strict=False))


def _v6(draw: st.DrawFn, narrow: bool) -> str:
    base = 0x2600_1F18 << 96
    address = base + draw(st.integers(0, 2**80 - 1)) if narrow else draw(st.integers(0, 2**128 - 1))
    prefix = draw(st.integers(32, 64) if narrow else st.integers(0, 128))
    return str(ipaddress.ip_network((address, prefix), strict=False))


EDGE_CIDRS = ("0.0.0.0/0", "::/0", "10.0.0.0/8", "10.0.0.0/32", "255.255.255.255/32", "ffff::/16")


@st.composite
def cidrs(draw: st.DrawFn) -> str:
    if draw(st.integers(0, 9)) == 0:
        return draw(st.sampled_from(EDGE_CIDRS))
    narrow = draw(st.booleans())
    return _v6(draw, narrow) if draw(st.booleans()) else _v4(draw, narrow)


@st.composite
def item_lists(draw: st.DrawFn) -> list[Item[int]]:
    """Items drawn from a small pool of CIDRs (so duplicates and nesting are common) and
    a few owners; some are not CIDRs at all. The payload is the item's position."""
    pool = draw(st.lists(st.one_of(cidrs(), st.sampled_from(NOT_CIDRS)), min_size=1, max_size=10))
    entries = draw(st.lists(st.tuples(st.sampled_from(pool), st.integers(0, 3)), max_size=40))
    return [Item(cidr, owner, n) for n, (cidr, owner) in enumerate(entries)]


def _net(cidr: str) -> ipaddress.IPv4Network | ipaddress.IPv6Network | None:
    try:
        return ipaddress.ip_network(cidr, strict=False)
    except ValueError:
        return None


def _ref_overlaps(a: str, b: str) -> bool:
    na, nb = _net(a), _net(b)
    return na is not None and nb is not None and na.version == nb.version and na.overlaps(nb)  # type: ignore[arg-type]


def _ref_contains(outer: str, inner: str) -> bool:
    no, ni = _net(outer), _net(inner)
    return no is not None and ni is not None and no.version == ni.version and ni.subnet_of(no)  # type: ignore[arg-type]


def _brute_pairs(items: list[Item[int]], without: int | None = None) -> Counter[frozenset[int]]:
    return Counter(
        frozenset((a.payload, b.payload))
        for i, a in enumerate(items)
        for b in items[i + 1 :]
        if a.owner != b.owner and without not in (a.owner, b.owner) and _ref_overlaps(a.cidr, b.cidr)
    )


@settings(max_examples=300)
@given(item_lists())
def test_overlapping_pairs_equals_brute_force(items: list[Item[int]]) -> None:
    found = list(overlapping_pairs(items))
    assert Counter(frozenset((a.payload, b.payload)) for a, b in found) == _brute_pairs(items)
    for outer, inner in found:
        assert outer.owner != inner.owner
        assert _ref_contains(outer.cidr, inner.cidr)  # the containing block comes first


@settings(max_examples=300)
@given(item_lists(), st.integers(0, 4))
def test_overlap_set_counts_and_exclusion_equal_brute_force(items: list[Item[int]], without: int) -> None:
    overlaps = OverlapSet(items)
    expected = _brute_pairs(items, without)
    assert overlaps.total == sum(_brute_pairs(items).values())
    assert overlaps.count(without=without) == sum(expected.values())
    listed = Counter(frozenset((a.payload, b.payload)) for a, b in overlaps.pairs(without=without))
    assert listed == expected
    assert len(overlaps.first(3, without=without)) == min(3, sum(expected.values()))


@settings(max_examples=300)
@given(item_lists(), st.one_of(cidrs(), st.sampled_from(NOT_CIDRS)), st.sets(st.integers(0, 4), max_size=2))
def test_cidr_index_finds_and_counts_exactly_the_overlapping_items(
    items: list[Item[int]], query: str, exclude: set[int]
) -> None:
    index = OverlapSet(items).index if len(items) % 2 else CidrIndex(items)  # both ways of building one
    expected = [i.payload for i in items if i.owner not in exclude and _ref_overlaps(i.cidr, query)]
    assert sorted(i.payload for i in index.overlapping(query, exclude)) == expected
    assert index.count_overlapping(query, exclude) == len(expected)
    assert index.count_overlapping(query, [*exclude, *exclude]) == len(expected)  # an owner named twice


@settings(max_examples=500)
@given(cidrs(), cidrs())
def test_overlaps_and_contains_agree_with_ipaddress(a: str, b: str) -> None:
    assert bool(list(overlapping_pairs([Item(a, "a", 0), Item(b, "b", 1)]))) == _ref_overlaps(a, b)
    assert netmath.contains(a, b) == _ref_contains(a, b)
    assert netmath.contains(b, a) == _ref_contains(b, a)


@settings(max_examples=500)
@given(
    st.one_of(
        cidrs(),
        # Near-miss strings around the fast IPv4 path: leading zeros, big octets, odd prefixes.
        st.builds(
            lambda octets, prefix: ".".join(octets) + prefix,
            st.lists(st.from_regex(r"\A[0-9]{1,4}\Z"), min_size=3, max_size=5),
            st.sampled_from(["", "/", "/0", "/8", "/08", "/32", "/33", "/255.255.0.0", "/ 8", "/８"]),
        ),
        st.text(alphabet="0123456789abcdef.:/-pl ", max_size=24),
    )
)
def test_parse_agrees_with_ipaddress(text: str) -> None:
    net = _net(text)
    expected = None if net is None else netmath.Block(net.version, int(net[0]), int(net[-1]))
    assert netmath.parse(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "255.255.255.255/32",
        "256.0.0.0/8",
        "10.0.0.256/32",
        "1.2.3.4/0",
        "1.2.3.4/32",
        "1.2.3.4/33",
        "1.2.3.4",
        "1.2.3/24",
        "1.2.3.4.5/24",
        "01.2.3.4/8",
        "0.0.0.0/08",
        "10.0.0.0/255.0.0.0",
        "１.2.3.4/8",
        "10.1.2.3/16",
        "2600:1f18::/56",
    ],
)
def test_parse_edges_agree_with_ipaddress(text: str) -> None:
    net = _net(text)
    expected = None if net is None else netmath.Block(net.version, int(net[0]), int(net[-1]))
    assert netmath.parse(text) == expected


@pytest.mark.parametrize("not_cidr", NOT_CIDRS)
def test_non_cidrs_are_ignored(not_cidr: str) -> None:
    assert netmath.parse(not_cidr) is None
    assert not netmath.contains("0.0.0.0/0", not_cidr)
    items = [Item(not_cidr, "a", 0), Item("0.0.0.0/0", "b", 1), Item(not_cidr, "c", 2)]
    assert list(overlapping_pairs(items)) == []
    assert list(CidrIndex(items).overlapping(not_cidr)) == []


@pytest.mark.parametrize(
    ("left", "right", "expected"),
    [
        (["10.0.0.0/16"], ["10.0.1.0/24"], [("10.0.0.0/16", "10.0.1.0/24")]),
        (["10.0.1.0/24"], ["10.0.0.0/16"], [("10.0.1.0/24", "10.0.0.0/16")]),  # left stays left
        (["10.0.0.0/16", "10.0.0.0/16"], ["10.1.0.0/16"], []),  # same side never pairs
        (["10.0.0.0/8"], ["::/0"], []),  # families never overlap
        (["2600:1f18::/56"], ["2600:1f18:0:10::/60", "pl-1"], [("2600:1f18::/56", "2600:1f18:0:10::/60")]),
    ],
)
def test_overlapping_pairs_of_two_sides(left: list[str], right: list[str], expected: list[tuple[str, str]]) -> None:
    items = [Item(c, "L", c) for c in left] + [Item(c, "R", c) for c in right]
    pairs = [(a.payload, b.payload) if a.owner == "L" else (b.payload, a.payload) for a, b in overlapping_pairs(items)]
    assert pairs == expected


def test_many_same_owner_duplicates_are_not_quadratic() -> None:
    """50k copies of one block under one owner, and 50k nested blocks of that owner, are
    checked in linear time (the old group loop compared every copy with every other)."""
    items = [Item("10.0.0.0/8", "a", n) for n in range(50_000)]
    items += [Item(f"10.{n // 256 % 256}.{n % 256}.0/24", "a", n) for n in range(50_000)]
    items.append(Item("10.1.2.0/24", "b", -1))
    overlaps = OverlapSet(items)
    assert overlaps.total == 50_001  # b's /24 against every /8 copy and its one twin
    assert overlaps.count(without="b") == 0
