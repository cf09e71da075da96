"""What every check module shares: the signature of a check, and how a detail lists ids."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence

from chalicelib.core.model import NetworkSnapshot, Violation
from chalicelib.core.policy import Policy

CheckFn = Callable[[NetworkSnapshot, Policy], Iterable[Violation]]


def listing(ids: Sequence[str], limit: int = 5) -> str:
    """'a, b, c' or 'a, b, c, d, e and 7 more': keeps the detail one readable sentence."""
    if len(ids) <= limit:
        return ", ".join(ids)
    return f"{', '.join(ids[:limit])} and {len(ids) - limit} more"
