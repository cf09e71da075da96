"""One walk of the path engine: where the packet is addressed (``Target``), the hops of one
direction and how it ended (``Walk``), and what a hop handler answers (``Outcome``).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable
from dataclasses import dataclass, field

from chalicelib.core.model import Route, RouteTable, Subnet
from chalicelib.core.netmath import Block
from chalicelib.core.paths.index import Indexes, RegionIndex
from chalicelib.core.paths.result import Blocked, Hop


@dataclass(frozen=True)
class Target:
    """What the packet is addressed to, as routing sees it."""

    block: Block  # the address (or range) looked up; /0 for "some public address"
    service: str | None = None  # s3 / dynamodb: a gateway endpoint route for it applies
    public: bool = False  # a global address (an internet gateway can carry it)
    subnet_id: str | None = None  # the subnet asked for, when one was
    vpc_id: str | None = None

    @property
    def text(self) -> str:
        if self.service:
            return self.service
        if self.block.first == 0 and self.block.prefixlen == 0:
            return "0.0.0.0/0" if self.block.version == 4 else "::/0"
        return block_text(self.block)


def block_text(block: Block) -> str:
    address = ipaddress.ip_address(block.first) if block.version == 4 else ipaddress.IPv6Address(block.first)
    return f"{address}/{block.prefixlen}"


@dataclass(frozen=True)
class Query:
    """What one trace asks, for both directions: the protocol, the forward ports, and the
    source address (where replies go)."""

    protocol: str
    ports: tuple[int, int] | None
    source: Block


@dataclass
class Walk:
    query: Query
    hops: list[Hop] = field(default_factory=list)
    blocked: Blocked | None = None
    unknown: bool = False
    public: bool = False
    notes: list[str] = field(default_factory=list)
    # (region, subnet) of the NAT gateways passed: the reply comes back through them.
    nats: list[tuple[RegionIndex, Subnet, str]] = field(default_factory=list)

    def hop(self, resource_id: str, kind: str, detail: str) -> None:
        self.hops.append(Hop(resource_id, kind, detail))

    def block(self, resource_id: str, kind: str, reason: str, fix: str = "") -> None:
        if self.blocked is None:
            self.blocked = Blocked(resource_id, kind, reason, fix)

    def stop_unknown(self, resource_id: str, kind: str, reason: str) -> None:
        self.unknown = True
        self.block(resource_id, kind, reason)

    @property
    def ok(self) -> bool:
        return self.blocked is None


@dataclass(frozen=True)
class Deliver:
    """The address is delivered locally inside ``vpc_id``."""

    region: RegionIndex
    vpc_id: str


@dataclass(frozen=True)
class Exit:
    """The packet reached its service, or left AWS (internet, on premises)."""


@dataclass(frozen=True)
class Next:
    """Routing goes on in another route table (a NAT gateway's subnet)."""

    region: RegionIndex
    vpc_id: str
    table: RouteTable


Outcome = Deliver | Exit | Next | None  # None: blocked or unknown (recorded on the walk)


@dataclass(frozen=True)
class At:
    """Where a route was found: the region, the VPC whose table it is, whether a NAT passed."""

    region: RegionIndex
    vpc_id: str
    after_nat: str | None  # the connectivity (public | private) of the NAT passed, if any


Handler = Callable[[Indexes, Walk, At, Route, Target], Outcome]
