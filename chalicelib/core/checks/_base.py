"""What every check module shares: the signature of a check."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from chalicelib.core.model import NetworkSnapshot, Violation
from chalicelib.core.policy import Policy

CheckFn = Callable[[NetworkSnapshot, Policy], Iterable[Violation]]
