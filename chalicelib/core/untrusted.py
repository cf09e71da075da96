"""Reading documents vpcwatch does not trust (CloudTrail records, AWS answers through
emulators): one definition of "a member, if this is an object", "a string, else None" and
"the objects of a list", so a malformed value never raises or reaches a set as unhashable."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def member(value: Any, key: str) -> Any:
    """``value[key]`` when ``value`` is an object, else None."""
    return value.get(key) if isinstance(value, Mapping) else None


def string(value: Any) -> str | None:
    """``value`` when it is a string, else None (never an unhashable value)."""
    return value if isinstance(value, str) else None


def objects(value: Any) -> list[Mapping[str, Any]]:
    """The objects of a list (anything else in it, or a value that is no list: none)."""
    return [v for v in value if isinstance(v, Mapping)] if isinstance(value, list) else []
