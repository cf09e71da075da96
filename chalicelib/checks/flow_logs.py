"""Checks of this family (placeholders until implemented)."""

from __future__ import annotations

from collections.abc import Iterator

from chalicelib.model import NetworkSnapshot, Violation
from chalicelib.policy import Policy


def check_flow_logs_enabled(snapshot: NetworkSnapshot, policy: Policy) -> Iterator[Violation]:
    yield from ()


def check_flow_logs_traffic_type(snapshot: NetworkSnapshot, policy: Policy) -> Iterator[Violation]:
    yield from ()


def check_flow_logs_delivering(snapshot: NetworkSnapshot, policy: Policy) -> Iterator[Violation]:
    yield from ()
