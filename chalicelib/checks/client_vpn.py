"""Checks of this family (placeholders until implemented)."""

from __future__ import annotations

from collections.abc import Iterator

from chalicelib.model import NetworkSnapshot, Violation
from chalicelib.policy import Policy


def check_client_vpn_connection_logging(snapshot: NetworkSnapshot, policy: Policy) -> Iterator[Violation]:
    yield from ()


def check_client_vpn_no_authorize_all(snapshot: NetworkSnapshot, policy: Policy) -> Iterator[Violation]:
    yield from ()
