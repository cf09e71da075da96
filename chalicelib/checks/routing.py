"""Checks of this family (placeholders until implemented)."""

from __future__ import annotations

from collections.abc import Iterator

from chalicelib.model import NetworkSnapshot, Violation
from chalicelib.policy import Policy


def check_peering_cidrs_non_overlapping(snapshot: NetworkSnapshot, policy: Policy) -> Iterator[Violation]:
    yield from ()


def check_connected_cidrs_non_overlapping(snapshot: NetworkSnapshot, policy: Policy) -> Iterator[Violation]:
    yield from ()


def check_peering_routes_least_access(snapshot: NetworkSnapshot, policy: Policy) -> Iterator[Violation]:
    yield from ()


def check_route_destinations_non_overlapping(snapshot: NetworkSnapshot, policy: Policy) -> Iterator[Violation]:
    yield from ()


def check_routes_no_blackhole(snapshot: NetworkSnapshot, policy: Policy) -> Iterator[Violation]:
    yield from ()


def check_tgw_routes_non_overlapping(snapshot: NetworkSnapshot, policy: Policy) -> Iterator[Violation]:
    yield from ()


def check_tgw_auto_accept_disabled(snapshot: NetworkSnapshot, policy: Policy) -> Iterator[Violation]:
    yield from ()
