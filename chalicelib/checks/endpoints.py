"""Checks of this family (placeholders until implemented)."""

from __future__ import annotations

from collections.abc import Iterator

from chalicelib.model import NetworkSnapshot, Violation
from chalicelib.policy import Policy


def check_private_subnet_gateway_endpoints(snapshot: NetworkSnapshot, policy: Policy) -> Iterator[Violation]:
    yield from ()


def check_required_interface_endpoints(snapshot: NetworkSnapshot, policy: Policy) -> Iterator[Violation]:
    yield from ()


def check_interface_endpoint_private_dns(snapshot: NetworkSnapshot, policy: Policy) -> Iterator[Violation]:
    yield from ()


def check_endpoint_service_acceptance_required(snapshot: NetworkSnapshot, policy: Policy) -> Iterator[Violation]:
    yield from ()


def check_endpoint_service_trusted_principals(snapshot: NetworkSnapshot, policy: Policy) -> Iterator[Violation]:
    yield from ()
