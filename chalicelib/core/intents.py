"""Reachability intents (SPEC §2 ``reachability``, §7): what the policy says traffic must do.

Each intent names its sources (a subnet selector), its destinations (a ``path``
destination, or a subnet selector), the traffic (protocol, port) and what is expected:
``reachable``, ``private`` (reachable without crossing the internet) or ``unreachable``.
Parsing validates the document and names the bad key or value, like the rest of the
policy; ``sources`` / ``destinations`` pick subnets out of a snapshot. Pure.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from chalicelib.core.model import NetworkSnapshot, RouteTable, Subnet
from chalicelib.core.netmath import is_ip_address

EXPECTATIONS = ("reachable", "private", "unreachable")
SUBNET_KINDS = ("private", "public", "all")
INTENT_PROTOCOLS = ("tcp", "udp", "icmp", "all")  # as the path engine's PROTOCOLS
INTENT_KEYS = ("name", "from", "to", "port", "protocol", "expect")
SELECTOR_KEYS = ("subnets", "subnet_ids", "vpc_ids", "tags")
NAMED_DESTINATIONS = ("s3", "dynamodb", "internet")


class IntentError(ValueError):
    """An intent that does not validate; the message names the key or value (a PolicyError)."""


def is_public_table(table: RouteTable | None) -> bool:
    """A subnet is public when its table has an active IPv4 default route to an internet
    gateway (the same rule as ``private-subnet-gateway-endpoints``)."""
    if table is None:
        return False
    return any(
        r.destination == "0.0.0.0/0" and r.target.startswith("igw-") and r.state == "active" for r in table.routes
    )


@dataclass(frozen=True)
class Selector:
    """Subnets picked by every key given (several keys narrow: private subnets of a VPC)."""

    subnets: str | None = None  # private | public | all
    subnet_ids: tuple[str, ...] = ()
    vpc_ids: tuple[str, ...] = ()
    tags: tuple[tuple[str, str], ...] = ()

    def matches(self, snapshot: NetworkSnapshot, subnet: Subnet) -> bool:
        if self.subnet_ids and subnet.subnet_id not in self.subnet_ids:
            return False
        if self.vpc_ids and subnet.vpc_id not in self.vpc_ids:
            return False
        if any(subnet.tags.get(key) != value for key, value in self.tags):
            return False
        if self.subnets in ("private", "public"):
            public = is_public_table(snapshot.effective_route_table.get(subnet.subnet_id))
            return public == (self.subnets == "public")
        return True

    def select(self, snapshot: NetworkSnapshot) -> list[Subnet]:
        return sorted((s for s in snapshot.subnets if self.matches(snapshot, s)), key=lambda s: s.subnet_id)

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {}
        if self.subnets is not None:
            data["subnets"] = self.subnets
        if self.subnet_ids:
            data["subnet_ids"] = list(self.subnet_ids)
        if self.vpc_ids:
            data["vpc_ids"] = list(self.vpc_ids)
        if self.tags:
            data["tags"] = dict(self.tags)
        return data


@dataclass(frozen=True)
class Intent:
    name: str
    source: Selector
    expect: str
    destination: str | None = None  # a path destination (subnet id, IP, s3, internet, service:NAME) ...
    destination_selector: Selector | None = None  # ... or the subnets a selector picks
    protocol: str = "tcp"
    port: int | None = 443  # None for icmp / all

    def sources(self, snapshot: NetworkSnapshot) -> list[Subnet]:
        return self.source.select(snapshot)

    def destinations(self, snapshot: NetworkSnapshot) -> list[str]:
        if self.destination is not None:
            return [self.destination]
        assert self.destination_selector is not None
        return [s.subnet_id for s in self.destination_selector.select(snapshot)]

    def holds(self, verdict: str, private: bool) -> bool:
        """``unknown`` holds no expectation: what cannot be judged is not vouched for."""
        if self.expect == "unreachable":
            return verdict == "unreachable"
        return verdict == "reachable" and (private or self.expect == "reachable")


def _where(n: int, key: str = "") -> str:
    return f"reachability[{n}]" + (f".{key}" if key else "")


def _mapping(value: Any, where: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise IntentError(f"{where}: expected a mapping, got {type(value).__name__}")
    return value


def _ids(value: Any, where: str, prefix: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not value:
        raise IntentError(f"{where}: expected a non-empty list of {prefix}... ids")
    for item in value:
        if not isinstance(item, str) or not item.startswith(prefix):
            raise IntentError(f"{where}: {item!r} is not a {prefix}... id")
    return tuple(dict.fromkeys(value))


def parse_selector(raw: Any, where: str) -> Selector:
    doc = _mapping(raw, where)
    for key in doc:
        if key not in SELECTOR_KEYS:
            raise IntentError(f"{where}: unknown key {key!r} (expected one of: {', '.join(SELECTOR_KEYS)})")
    if not doc:
        raise IntentError(f"{where}: empty selector (expected one of: {', '.join(SELECTOR_KEYS)})")
    kind = doc.get("subnets")
    if "subnets" in doc and kind not in SUBNET_KINDS:
        raise IntentError(f"{where}.subnets: unknown value {kind!r} (expected one of: {', '.join(SUBNET_KINDS)})")
    tags: tuple[tuple[str, str], ...] = ()
    if "tags" in doc:
        raw_tags = _mapping(doc["tags"], f"{where}.tags")
        if not raw_tags:
            raise IntentError(f"{where}.tags: expected at least one tag")
        tags = tuple(sorted((str(k), str(v)) for k, v in raw_tags.items()))
    return Selector(
        subnets=kind,
        subnet_ids=_ids(doc["subnet_ids"], f"{where}.subnet_ids", "subnet-") if "subnet_ids" in doc else (),
        vpc_ids=_ids(doc["vpc_ids"], f"{where}.vpc_ids", "vpc-") if "vpc_ids" in doc else (),
        tags=tags,
    )


def parse_destination(value: Any, where: str) -> str:
    """A ``vpcwatch path`` destination, checked for its form (what it names is the audit's)."""
    if isinstance(value, str):
        if value in NAMED_DESTINATIONS or is_ip_address(value):
            return value
        if value.startswith("subnet-") and len(value) > len("subnet-"):
            return value
        if value.startswith("service:") and len(value) > len("service:"):
            return value
    raise IntentError(
        f"{where}: {value!r} is not a destination (a subnet id, an IP address, s3, dynamodb, internet, "
        "service:NAME, or a selector as in from)"
    )


def parse_intent(raw: Any, n: int) -> Intent:
    doc = _mapping(raw, _where(n))
    for key in doc:
        if key not in INTENT_KEYS:
            raise IntentError(f"{_where(n)}: unknown key {key!r} (expected one of: {', '.join(INTENT_KEYS)})")
    for required in ("name", "from", "to", "expect"):
        if required not in doc:
            raise IntentError(f"{_where(n, required)}: required")
    name = doc["name"]
    if not isinstance(name, str) or not name.strip():
        raise IntentError(f"{_where(n, 'name')}: expected a non-empty string")
    expect = doc["expect"]
    if expect not in EXPECTATIONS:
        raise IntentError(
            f"{_where(n, 'expect')}: unknown value {expect!r} (expected one of: {', '.join(EXPECTATIONS)})"
        )
    protocol = doc.get("protocol", "tcp")
    if protocol not in INTENT_PROTOCOLS:
        raise IntentError(
            f"{_where(n, 'protocol')}: unknown value {protocol!r} (expected one of: {', '.join(INTENT_PROTOCOLS)})"
        )
    port: int | None = None
    if protocol in ("tcp", "udp"):
        port = doc.get("port", 443)
        if isinstance(port, bool) or not isinstance(port, int) or not 0 <= port <= 65535:
            raise IntentError(f"{_where(n, 'port')}: expected a port number from 0 to 65535, got {port!r}")
    elif "port" in doc:
        raise IntentError(f"{_where(n, 'port')}: protocol {protocol} has no ports")
    source = parse_selector(doc["from"], _where(n, "from"))
    to, where = doc["to"], _where(n, "to")
    if isinstance(to, Mapping):
        return Intent(name, source, expect, None, parse_selector(to, where), protocol, port)
    return Intent(name, source, expect, parse_destination(to, where), None, protocol, port)


def parse_reachability(raw: Any) -> tuple[Intent, ...]:
    """The policy's ``reachability`` list (None: no intents)."""
    if raw is None:
        return ()
    if not isinstance(raw, list):
        raise IntentError("reachability: expected a list of intents")
    intents = tuple(parse_intent(item, n) for n, item in enumerate(raw))
    seen: set[str] = set()
    for n, intent in enumerate(intents):
        if intent.name in seen:
            raise IntentError(f"{_where(n, 'name')}: duplicate intent name {intent.name!r}")
        seen.add(intent.name)
    return intents
