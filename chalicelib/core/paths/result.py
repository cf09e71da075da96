"""What a path query answers (SPEC §7): hops, the verdict, where it was blocked, as JSON."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

REACHABLE, UNREACHABLE, UNKNOWN = "reachable", "unreachable", "unknown"
SG_NOTE = "security groups not evaluated"


@dataclass(frozen=True)
class Hop:
    resource_id: str
    type: str  # route-table | network-acl | internet-gateway | nat-gateway | peering | transit-gateway-attachment ...
    detail: str

    def to_json(self) -> dict[str, str]:
        return {"resource_id": self.resource_id, "type": self.type, "detail": self.detail}


@dataclass(frozen=True)
class Blocked:
    """The hop that drops the packet (or, for an unknown verdict, where the path ends)."""

    resource_id: str
    type: str
    reason: str
    fix: str = ""  # what would let it through (the table format shows it; not in the JSON)

    def to_json(self) -> dict[str, str]:
        return {"resource_id": self.resource_id, "type": self.type, "reason": self.reason}


@dataclass(frozen=True)
class Source:
    subnet_id: str
    vpc_id: str
    region: str
    address: str  # the IP asked for, or the subnet's CIDR

    def to_json(self) -> dict[str, str]:
        return {"subnet_id": self.subnet_id, "vpc_id": self.vpc_id, "region": self.region, "address": self.address}


@dataclass(frozen=True)
class Destination:
    kind: str  # subnet | address | service | internet
    value: str  # as asked: subnet-..., 10.1.2.3, s3, service:ssm, internet
    address: str | None  # the CIDR, IP, prefix list or endpoint it stands for

    def to_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "value": self.value, "address": self.address}


@dataclass(frozen=True)
class PathResult:
    source: Source
    destination: Destination
    protocol: str
    port: int | None
    verdict: str
    private: bool
    hops: tuple[Hop, ...]
    return_hops: tuple[Hop, ...] = ()
    blocked_at: Blocked | None = None
    notes: tuple[str, ...] = field(default=(SG_NOTE,))

    @property
    def reachable(self) -> bool:
        return self.verdict == REACHABLE

    @property
    def resource_ids(self) -> frozenset[str]:
        """Every resource the answer depends on (forward and return hops, the blocking hop,
        both subnets): a change to any of them may change the answer."""
        ids = {h.resource_id for h in (*self.hops, *self.return_hops)}
        ids.add(self.source.subnet_id)
        if self.blocked_at is not None:
            ids.add(self.blocked_at.resource_id)
        return frozenset(i for i in ids if i)

    def to_json(self) -> dict[str, Any]:
        return {
            "source": self.source.to_json(),
            "destination": self.destination.to_json(),
            "protocol": self.protocol,
            "port": self.port,
            "verdict": self.verdict,
            "private": self.private,
            "hops": [h.to_json() for h in self.hops],
            "return_hops": [h.to_json() for h in self.return_hops],
            "blocked_at": None if self.blocked_at is None else self.blocked_at.to_json(),
            "notes": list(self.notes),
        }
