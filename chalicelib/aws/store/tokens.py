"""Page tokens: a query's LastEvaluatedKey, handed to the caller as an opaque string and
checked when it comes back (pure)."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Collection, Mapping
from typing import Any

from chalicelib.aws.store.table import Item


def encode_token(key: Mapping[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(key, separators=(",", ":"), sort_keys=True).encode()).decode()


def decode_token(token: str, attributes: Collection[str]) -> Item:
    """The LastEvaluatedKey a token carries; ValueError unless it is one of ``attributes``' keys."""
    try:
        key = json.loads(base64.urlsafe_b64decode(token.encode("ascii")))
    except (binascii.Error, UnicodeError, ValueError):
        raise ValueError("next_token is not a valid token") from None
    if (
        not isinstance(key, dict)
        or set(key) != set(attributes)
        or not all(isinstance(v, dict) and set(v) == {"S"} and isinstance(v["S"], str) for v in key.values())
    ):
        raise ValueError("next_token does not belong to this query")
    return key
