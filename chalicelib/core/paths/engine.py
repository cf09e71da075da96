"""The path engine (SPEC §7): where a packet from a subnet goes, hop by hop, from snapshots.

``PathIndex(snapshots)`` indexes one or more regional snapshots once (route tables as
longest-prefix-match tables, built lazily per table; subnets by address; gateways, NACLs
and TGW attachments by id); ``trace`` then answers one question with a few dict probes
per hop. Each route target kind is one small handler in ``HANDLERS``: a new hop type is
one function and one entry there.

Pure: no I/O, a function of the snapshots.
"""

from __future__ import annotations

import ipaddress
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import cached_property

from chalicelib.core import actions as A
from chalicelib.core.model import (
    NetworkAcl,
    NetworkSnapshot,
    Route,
    RouteTable,
    Subnet,
    TgwAttachment,
    TgwRoute,
    VpcEndpoint,
    service_short_name,
)
from chalicelib.core.netmath import Block, parse
from chalicelib.core.paths.lookup import Lpm, any_address, contains
from chalicelib.core.paths.nacl import EPHEMERAL, evaluate
from chalicelib.core.paths.result import (
    REACHABLE,
    SG_NOTE,
    UNKNOWN,
    UNREACHABLE,
    Blocked,
    Destination,
    Hop,
    PathResult,
    Source,
)
from chalicelib.core.states import is_live

PROTOCOLS = ("tcp", "udp", "icmp", "all")
GATEWAY_SERVICES = ("s3", "dynamodb")
AWS_OWNER = "AWS"

# Equal destinations: static routes win over prefix-list routes, which win over propagated
# ones (the VPC user guide's "How route priority works").
_RANK_STATIC, _RANK_PREFIX_LIST, _RANK_PROPAGATED = 0, 1, 2
# TGW: static before propagated; among propagated, VPC before Direct Connect before VPN.
_TGW_PROPAGATED_RANK = {"vpc": 2, "direct-connect-gateway": 3, "connect": 4, "vpn": 5}


class PathQueryError(ValueError):
    """A source or destination that names nothing in the snapshots (a usage error)."""


# ---------------------------------------------------------------------------------
# Per-region indexes
# ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class _RouteEntry:
    route: Route
    via_list: str | None = None  # the customer prefix list the CIDR came from


class _RouteLookup:
    """One VPC route table as LPM tables: CIDR routes and expanded customer prefix lists;
    the AWS-managed S3 / DynamoDB lists, which stand for their service, apart."""

    def __init__(self, table: RouteTable, region: _Region) -> None:
        self.lpm: Lpm[_RouteEntry] = Lpm()
        self.services: dict[str, Route] = {}
        for route in table.routes:
            if route.is_prefix_list:
                service = region.service_of_prefix_list(route)
                if service is not None:
                    self.services.setdefault(service, route)
                    continue
                for cidr in region.prefix_list_cidrs(route.destination):
                    block = parse(cidr)
                    if block is not None:
                        self.lpm.add(block, _RouteEntry(route, route.destination), _RANK_PREFIX_LIST)
                continue
            block = parse(route.destination)
            if block is not None:
                rank = _RANK_PROPAGATED if route.origin == "EnableVgwRoutePropagation" else _RANK_STATIC
                self.lpm.add(block, _RouteEntry(route), rank)
        # A gateway endpoint associated with the table routes its service there even where the
        # description lacks the prefix-list route (AWS adds it on association).
        for endpoint in region.gateway_endpoints_of_table.get(table.route_table_id, ()):
            if endpoint.service not in self.services:
                plist = region.service_prefix_list(endpoint.service) or endpoint.service
                self.services[endpoint.service] = Route(plist, endpoint.endpoint_id)


class _Region:
    """One snapshot with the indexes the walk needs, built on first use."""

    def __init__(self, snapshot: NetworkSnapshot) -> None:
        self.snapshot = snapshot
        self.region = snapshot.region
        self._lookups: dict[str, _RouteLookup] = {}
        self._tgw_lookups: dict[str, Lpm[TgwRoute]] = {}

    def route_lookup(self, table: RouteTable) -> _RouteLookup:
        lookup = self._lookups.get(table.route_table_id)
        if lookup is None:
            lookup = self._lookups[table.route_table_id] = _RouteLookup(table, self)
        return lookup

    def tgw_lookup(self, table_id: str) -> Lpm[TgwRoute]:
        lookup = self._tgw_lookups.get(table_id)
        if lookup is None:
            lookup = self._tgw_lookups[table_id] = Lpm()
            attachments = self.snapshot.tgw_attachment_by_id
            for route in self.snapshot.tgw_routes.get(table_id, ()):
                cidrs = (
                    self.prefix_list_cidrs(route.destination)
                    if route.destination.startswith("pl-")
                    else (route.destination,)
                )
                if route.route_type == "static":
                    rank = 0 if not route.destination.startswith("pl-") else 1
                else:
                    kind = next((attachments[a].resource_type for a in route.attachment_ids if a in attachments), "")
                    rank = _TGW_PROPAGATED_RANK.get(kind, 6)
                for cidr in cidrs:
                    block = parse(cidr)
                    if block is not None:
                        lookup.add(block, route, rank)
        return lookup

    # -- prefix lists ---------------------------------------------------------------
    def service_of_prefix_list(self, route: Route) -> str | None:
        """The service an AWS-managed list (com.amazonaws.<region>.s3) stands for, or that
        the gateway endpoint the route leads to serves."""
        plist = self.snapshot.prefix_list_by_id.get(route.destination)
        if plist is not None and plist.owner_id == AWS_OWNER:
            return service_short_name(plist.name)
        endpoint = self.snapshot.vpc_endpoint_by_id.get(route.target)
        if plist is None and endpoint is not None and endpoint.endpoint_type == "Gateway":
            return endpoint.service
        return None

    def prefix_list_cidrs(self, list_id: str) -> tuple[str, ...]:
        plist = self.snapshot.prefix_list_by_id.get(list_id)
        return plist.cidrs or () if plist is not None else ()

    def service_prefix_list(self, service: str) -> str | None:
        name = f"com.amazonaws.{self.region}.{service}"
        return next((p.prefix_list_id for p in self.snapshot.prefix_lists if p.name == name), None)

    # -- by id ------------------------------------------------------------------------
    @cached_property
    def acl_of_subnet(self) -> dict[str, NetworkAcl]:
        return {s: acl for acl in self.snapshot.network_acls for s in acl.subnet_ids}

    @cached_property
    def igw_by_id(self) -> dict[str, tuple[str, ...]]:
        return {g.gateway_id: g.vpc_ids for g in self.snapshot.internet_gateways}

    @cached_property
    def eigw_by_id(self) -> dict[str, tuple[str, ...]]:
        return {g.gateway_id: g.vpc_ids for g in self.snapshot.egress_only_internet_gateways}

    @cached_property
    def vgw_by_id(self) -> dict[str, tuple[str, tuple[str, ...]]]:
        return {g.gateway_id: (g.state, g.vpc_ids) for g in self.snapshot.vpn_gateways}

    @cached_property
    def tgw_peering_by_id(self) -> dict[str, tuple[str, str, str, str]]:
        return {
            p.attachment_id: (p.requester_tgw_id, p.requester_region, p.accepter_tgw_id, p.accepter_region)
            for p in self.snapshot.tgw_peering_attachments
        }

    @cached_property
    def subnet_blocks(self) -> dict[str, tuple[tuple[Block, Subnet], ...]]:
        """VPC id -> (CIDR block, subnet) of every subnet CIDR (IPv4 and IPv6)."""
        grouped: dict[str, list[tuple[Block, Subnet]]] = defaultdict(list)
        for subnet in self.snapshot.subnets:
            for cidr in (subnet.cidr, *subnet.ipv6_cidrs):
                block = parse(cidr) if cidr else None
                if block is not None:
                    grouped[subnet.vpc_id].append((block, subnet))
        return {k: tuple(v) for k, v in grouped.items()}

    def subnet_holding(self, vpc_id: str, block: Block) -> Subnet | None:
        return next((s for b, s in self.subnet_blocks.get(vpc_id, ()) if contains(b, block)), None)

    @cached_property
    def gateway_endpoints_of_table(self) -> dict[str, tuple[VpcEndpoint, ...]]:
        grouped: dict[str, list[VpcEndpoint]] = defaultdict(list)
        for e in self.snapshot.vpc_endpoints:
            if e.endpoint_type == "Gateway":
                for table_id in e.route_table_ids:
                    grouped[table_id].append(e)
        return {k: tuple(v) for k, v in grouped.items()}

    @cached_property
    def interface_endpoints(self) -> dict[str, tuple[VpcEndpoint, ...]]:
        grouped: dict[str, list[VpcEndpoint]] = defaultdict(list)
        for e in self.snapshot.vpc_endpoints:
            if e.endpoint_type == "Interface":
                grouped[e.vpc_id].append(e)
        return {k: tuple(v) for k, v in grouped.items()}

    def collected(self, action: str) -> bool:
        return action not in self.snapshot.failed_actions


# ---------------------------------------------------------------------------------
# One walk: the hops of one direction, and how it ended
# ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Target:
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
        return _block_text(self.block)


def _block_text(block: Block) -> str:
    address = ipaddress.ip_address(block.first) if block.version == 4 else ipaddress.IPv6Address(block.first)
    return f"{address}/{block.prefixlen}"


@dataclass
class _Walk:
    hops: list[Hop] = field(default_factory=list)
    blocked: Blocked | None = None
    unknown: bool = False
    public: bool = False
    notes: list[str] = field(default_factory=list)
    # (region, subnet) of the NAT gateways passed: the reply comes back through them.
    nats: list[tuple[_Region, Subnet, str]] = field(default_factory=list)

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
class _Deliver:
    """The address is delivered locally inside ``vpc_id``."""

    region: _Region
    vpc_id: str


@dataclass(frozen=True)
class _Exit:
    """The packet reached its service, or left AWS (internet, on premises)."""


@dataclass(frozen=True)
class _Next:
    """Routing goes on in another route table (a NAT gateway's subnet)."""

    region: _Region
    vpc_id: str
    table: RouteTable


Outcome = _Deliver | _Exit | _Next | None  # None: blocked or unknown (recorded on the walk)


@dataclass(frozen=True)
class _At:
    """Where a route was found: the region, the VPC whose table it is, whether a NAT passed."""

    region: _Region
    vpc_id: str
    after_nat: str | None  # the connectivity (public | private) of the NAT passed, if any


Handler = Callable[["PathIndex", _Walk, _At, Route, _Target], Outcome]


# ---------------------------------------------------------------------------------
# Hop handlers: one per route target kind
# ---------------------------------------------------------------------------------


def _missing(walk: _Walk, at: _At, target: str, kind: str, action: str) -> None:
    """A route to a target the snapshot does not hold: unknown when its data could not be
    read, else the target is gone and the route a blackhole."""
    if not at.region.collected(action):
        walk.stop_unknown(target, kind, f"{target} not known: {action} could not be read")
    else:
        walk.block(target, kind, f"{target} does not exist (the route is a blackhole)", "delete or replace the route")


def hop_local(index: PathIndex, walk: _Walk, at: _At, route: Route, target: _Target) -> Outcome:
    return _Deliver(at.region, at.vpc_id)


def hop_internet_gateway(index: PathIndex, walk: _Walk, at: _At, route: Route, target: _Target) -> Outcome:
    igw = route.target
    vpcs = at.region.igw_by_id.get(igw)
    if vpcs is None:
        _missing(walk, at, igw, "internet-gateway", A.IGWS)
        return None
    walk.hop(igw, "internet-gateway", "to the internet")
    if at.vpc_id not in vpcs:
        walk.block(igw, "internet-gateway", f"not attached to {at.vpc_id}", f"attach {igw} to {at.vpc_id}")
        return None
    if at.after_nat == "private":
        walk.block(
            igw,
            "internet-gateway",
            "a private NAT gateway's traffic cannot leave through an internet gateway",
            "use a public NAT gateway",
        )
        return None
    if not target.public:
        walk.block(igw, "internet-gateway", f"{target.text} is not a public address: the internet gateway drops it")
        return None
    if at.after_nat is None and target.block.version == 4:
        walk.notes.append("the source needs a public IPv4 address to use the internet gateway (not evaluated)")
    walk.public = True
    return _Exit()


def hop_egress_only_gateway(index: PathIndex, walk: _Walk, at: _At, route: Route, target: _Target) -> Outcome:
    eigw = route.target
    vpcs = at.region.eigw_by_id.get(eigw)
    if vpcs is None:
        _missing(walk, at, eigw, "egress-only-internet-gateway", A.EIGWS)
        return None
    walk.hop(eigw, "egress-only-internet-gateway", "IPv6 to the internet, outbound only")
    if at.vpc_id not in vpcs:
        walk.block(eigw, "egress-only-internet-gateway", f"not attached to {at.vpc_id}")
        return None
    if target.block.version != 6 or not target.public:
        walk.block(
            eigw, "egress-only-internet-gateway", f"carries only IPv6 traffic to the internet, not {target.text}"
        )
        return None
    walk.public = True
    return _Exit()


def hop_nat_gateway(index: PathIndex, walk: _Walk, at: _At, route: Route, target: _Target) -> Outcome:
    snapshot = at.region.snapshot
    nat = snapshot.nat_gateway_by_id.get(route.target)
    if nat is None:
        _missing(walk, at, route.target, "nat-gateway", A.NATS)
        return None
    walk.hop(nat.nat_gateway_id, "nat-gateway", f"{nat.connectivity} NAT in {nat.subnet_id}")
    if not is_live(nat.state):
        walk.block(nat.nat_gateway_id, "nat-gateway", f"NAT gateway is {nat.state}", "replace the NAT gateway")
        return None
    if at.after_nat is not None:
        walk.block(nat.nat_gateway_id, "nat-gateway", "traffic already translated by a NAT gateway")
        return None
    subnet = snapshot.subnet_by_id.get(nat.subnet_id)
    table = snapshot.effective_route_table.get(nat.subnet_id)
    if subnet is None or table is None:
        walk.block(nat.nat_gateway_id, "nat-gateway", f"its subnet {nat.subnet_id} has no route table")
        return None
    walk.nats.append((at.region, subnet, nat.nat_gateway_id))
    # The packet enters the NAT's subnet and leaves it: that subnet's ACL, both ways.
    if not index._acl(walk, at.region, subnet, egress=False, remote=index._current_source, ports=index._ports):
        return None
    if not index._acl(walk, at.region, subnet, egress=True, remote=target.block, ports=index._ports):
        return None
    return _Next(at.region, nat.vpc_id, table)


def hop_vpn_gateway(index: PathIndex, walk: _Walk, at: _At, route: Route, target: _Target) -> Outcome:
    vgw = route.target
    known = at.region.vgw_by_id.get(vgw)
    if known is None:
        _missing(walk, at, vgw, "vpn-gateway", A.VGWS)
        return None
    state, vpcs = known
    walk.hop(vgw, "vpn-gateway", "leaves AWS toward on premises")
    if not is_live(state) or at.vpc_id not in vpcs:
        walk.block(vgw, "vpn-gateway", f"virtual private gateway is {state} or not attached to {at.vpc_id}")
        return None
    walk.notes.append("beyond the virtual private gateway: the on-premises network is not evaluated")
    return _Exit()


def hop_peering(index: PathIndex, walk: _Walk, at: _At, route: Route, target: _Target) -> Outcome:
    peering = at.region.snapshot.peering_by_id.get(route.target)
    if peering is None:
        _missing(walk, at, route.target, "peering", A.PCX)
        return None
    other = peering.other_side(at.vpc_id)
    peer_region = index._region_of_vpc(other.vpc_id) if other is not None else None
    walk.hop(peering.peering_id, "peering", f"to {other.vpc_id if other else '?'} ({other.region if other else '?'})")
    if not is_live(peering.status) or other is None:
        walk.block(peering.peering_id, "peering", f"peering is {peering.status}", "accept or re-create the peering")
        return None
    cidrs = peer_region.snapshot.vpc_by_id[other.vpc_id].cidrs if peer_region is not None else other.cidrs
    if not any((b := parse(c)) is not None and contains(b, target.block) for c in cidrs):
        # Not transitive, no edge-to-edge: only the peer VPC's own addresses are delivered.
        walk.block(
            peering.peering_id,
            "peering",
            f"{target.text} is not an address of {other.vpc_id}: a peering delivers only to the peer VPC "
            "(not transitive, no edge-to-edge routing through the peer's gateways)",
            "route this destination through a transit gateway, a NAT or an endpoint of the source VPC",
        )
        return None
    if peer_region is None:
        walk.stop_unknown(
            other.vpc_id, "vpc", f"peer VPC {other.vpc_id} ({other.region}) is not in the audited regions"
        )
        return None
    return _Deliver(peer_region, other.vpc_id)


def hop_gateway_endpoint(index: PathIndex, walk: _Walk, at: _At, route: Route, target: _Target) -> Outcome:
    endpoint = at.region.snapshot.vpc_endpoint_by_id.get(route.target)
    if endpoint is None:
        _missing(walk, at, route.target, "gateway-endpoint", A.VPCE)
        return None
    if endpoint.endpoint_type == "GatewayLoadBalancer":
        walk.hop(endpoint.endpoint_id, "gateway-load-balancer-endpoint", endpoint.service_name)
        walk.stop_unknown(endpoint.endpoint_id, "gateway-load-balancer-endpoint", "inspection appliance not modelled")
        return None
    walk.hop(endpoint.endpoint_id, "gateway-endpoint", endpoint.service_name)
    if not is_live(endpoint.state):
        walk.block(endpoint.endpoint_id, "gateway-endpoint", f"endpoint is {endpoint.state}", "re-create the endpoint")
        return None
    return _Exit()


def hop_transit_gateway(index: PathIndex, walk: _Walk, at: _At, route: Route, target: _Target) -> Outcome:
    snapshot = at.region.snapshot
    tgw = snapshot.tgw_by_id.get(route.target)
    if tgw is None:
        _missing(walk, at, route.target, "transit-gateway", A.TGW)
        return None
    if not is_live(tgw.state):
        walk.block(tgw.tgw_id, "transit-gateway", f"transit gateway is {tgw.state}")
        return None
    attachment = next(
        (a for a in snapshot.tgw_attachments_by_vpc.get(at.vpc_id, ()) if a.tgw_id == tgw.tgw_id and is_live(a.state)),
        None,
    )
    if attachment is None:
        walk.block(
            tgw.tgw_id,
            "transit-gateway",
            f"{at.vpc_id} has no available attachment to {tgw.tgw_id}",
            f"attach {at.vpc_id} to {tgw.tgw_id}",
        )
        return None
    walk.hop(attachment.attachment_id, "transit-gateway-attachment", f"{at.vpc_id} -> {tgw.tgw_id}")
    return index._tgw_walk(walk, at.region, attachment, target)


def hop_not_modelled(index: PathIndex, walk: _Walk, at: _At, route: Route, target: _Target) -> Outcome:
    if "networkmanager" in route.target:
        what = "core-network"
    else:
        what = _NOT_MODELLED.get(route.target_kind, route.target_kind or "target")
    walk.hop(route.target, what, "not modelled")
    walk.stop_unknown(route.target, what, f"routes to a {what}: what lies beyond is not modelled")
    return None


_NOT_MODELLED = {"eni": "network-interface", "i": "instance", "cagw": "carrier-gateway", "lgw": "local-gateway"}


HANDLERS: dict[str, Handler] = {
    "local": hop_local,
    "igw": hop_internet_gateway,
    "eigw": hop_egress_only_gateway,
    "nat": hop_nat_gateway,
    "vgw": hop_vpn_gateway,
    "pcx": hop_peering,
    "vpce": hop_gateway_endpoint,
    "tgw": hop_transit_gateway,
}


# ---------------------------------------------------------------------------------
# The index
# ---------------------------------------------------------------------------------


class PathIndex:
    """Answers path questions over regional snapshots (one per region; SPEC §7)."""

    def __init__(self, snapshots: Iterable[NetworkSnapshot]) -> None:
        self.regions: dict[str, _Region] = {}
        for snapshot in snapshots:
            self.regions[snapshot.region] = _Region(snapshot)
        self._vpc_home: dict[str, _Region] = {}
        self._subnet_home: dict[str, _Region] = {}
        self._subnets_by_block: dict[Block, list[Subnet]] = defaultdict(list)
        self._subnet_lpm_lengths: dict[int, set[int]] = defaultdict(set)
        for region in self.regions.values():
            for vpc in region.snapshot.vpcs:
                self._vpc_home.setdefault(vpc.vpc_id, region)
            for subnet in region.snapshot.subnets:
                self._subnet_home[subnet.subnet_id] = region
                for cidr in (subnet.cidr, *subnet.ipv6_cidrs):
                    block = parse(cidr) if cidr else None
                    if block is not None:
                        self._subnets_by_block[block].append(subnet)
                        self._subnet_lpm_lengths[block.version].add(block.prefixlen)
        # Per query (set by ``trace``): the address replies go to, and the traffic's ports.
        self._current_source: Block = any_address(4)
        self._ports: tuple[int, int] | None = None
        self._protocol = "tcp"

    # -- lookups --------------------------------------------------------------------
    def _region_of_vpc(self, vpc_id: str) -> _Region | None:
        return self._vpc_home.get(vpc_id)

    def subnets_holding(self, address: Block) -> list[Subnet]:
        """The audited subnets whose CIDR holds ``address`` (several when VPCs overlap)."""
        found: list[Subnet] = []
        for length in self._subnet_lpm_lengths.get(address.version, ()):
            if length > address.prefixlen:
                continue
            bits = 32 if address.version == 4 else 128
            size = 1 << (bits - length)
            first = address.first & ~(size - 1)
            found.extend(self._subnets_by_block.get(Block(address.version, first, first + size - 1), ()))
        return found

    # -- queries --------------------------------------------------------------------
    def _source(self, source: str) -> tuple[_Region, Subnet, Block | None, str]:
        if source.startswith("subnet-"):
            region = self._subnet_home.get(source)
            if region is None:
                raise PathQueryError(f"source {source} is not a subnet of the audited regions")
            return region, region.snapshot.subnet_by_id[source], None, ""
        address = _address(source)
        if address is None:
            raise PathQueryError(f"source {source!r} is neither a subnet id nor an IP address")
        subnets = self.subnets_holding(address)
        if not subnets:
            raise PathQueryError(f"source {source} is not inside a subnet of the audited regions")
        if len(subnets) > 1:
            names = ", ".join(f"{s.subnet_id} ({s.vpc_id})" for s in subnets)
            raise PathQueryError(f"source {source} is in several subnets ({names}): pass the subnet id")
        subnet = subnets[0]
        return self._subnet_home[subnet.subnet_id], subnet, address, source

    def trace(self, source: str, destination: str, protocol: str = "tcp", port: int | None = 443) -> PathResult:
        """The path from ``source`` (subnet id or IP) to ``destination`` (subnet id, IP,
        ``s3``, ``dynamodb``, ``internet``, ``service:NAME``). Raises ``PathQueryError``
        for names that match nothing."""
        if protocol not in PROTOCOLS:
            raise PathQueryError(f"protocol {protocol!r} is not one of {', '.join(PROTOCOLS)}")
        port = port if protocol in ("tcp", "udp") else None
        region, subnet, source_address, source_text = self._source(source)
        want_v6 = _wants_ipv6(destination)
        if source_address is None:
            source_address, source_text = _subnet_address(subnet, want_v6)
        src = Source(subnet.subnet_id, subnet.vpc_id, region.region, source_text or subnet.subnet_id)
        self._protocol = protocol
        self._ports = (port, port) if port is not None else None
        if source_address is None:
            family = "IPv6" if want_v6 else "IPv4"
            dest = Destination("address", destination, None)
            blocked = Blocked(subnet.subnet_id, "subnet", f"the subnet has no {family} CIDR")
            return PathResult(src, dest, protocol, port, UNREACHABLE, True, (), (), blocked, (SG_NOTE,))
        self._current_source = source_address
        target, dest, endpoint = self._target(destination, region, subnet, source_address)
        return self._run(region, subnet, source_address, src, target, dest, endpoint, protocol, port)

    def _target(
        self, destination: str, region: _Region, subnet: Subnet, source: Block
    ) -> tuple[_Target, Destination, VpcEndpoint | None]:
        version = source.version
        if destination.startswith("subnet-"):
            home = self._subnet_home.get(destination)
            if home is None:
                raise PathQueryError(f"destination {destination} is not a subnet of the audited regions")
            dst = home.snapshot.subnet_by_id[destination]
            cidrs = [
                c for c in (dst.cidr, *dst.ipv6_cidrs) if c and (b := parse(c)) is not None and b.version == version
            ]
            if not cidrs:
                raise PathQueryError(f"destination {destination} has no IPv{version} CIDR")
            block = parse(cidrs[0])
            assert block is not None
            return (
                _Target(block, subnet_id=destination, vpc_id=dst.vpc_id),
                Destination("subnet", destination, cidrs[0]),
                None,
            )
        address = _address(destination)
        if address is not None:
            ip = ipaddress.ip_address(destination.split("/")[0])
            return _Target(address, public=ip.is_global), Destination("address", destination, destination), None
        if destination == "internet":
            anywhere = any_address(version)
            return _Target(anywhere, public=True), Destination("internet", destination, _block_text(anywhere)), None
        service = destination.removeprefix("service:")
        if destination in GATEWAY_SERVICES or (destination.startswith("service:") and service):
            anywhere = any_address(version)
            if service in GATEWAY_SERVICES:
                # S3 and DynamoDB: the gateway endpoint's prefix-list route, else the public endpoint.
                plist = region.service_prefix_list(service)
                return _Target(anywhere, service=service, public=True), Destination("service", destination, plist), None
            endpoint = next(
                (
                    e
                    for e in region.interface_endpoints.get(subnet.vpc_id, ())
                    if e.serves(service, region.region) and e.subnet_ids
                ),
                None,
            )
            address_text = endpoint.endpoint_id if endpoint is not None else None
            return _Target(anywhere, public=True), Destination("service", destination, address_text), endpoint
        raise PathQueryError(
            f"destination {destination!r} is not a subnet id, an IP address, s3, dynamodb, internet or service:NAME"
        )

    # -- the walk ---------------------------------------------------------------------
    def _acl(
        self,
        walk: _Walk,
        region: _Region,
        subnet: Subnet,
        *,
        egress: bool,
        remote: Block,
        ports: tuple[int, int] | None,
    ) -> bool:
        """One network ACL check as a hop; False (and the walk blocked) when it denies."""
        acl = region.acl_of_subnet.get(subnet.subnet_id)
        direction = "outbound" if egress else "inbound"
        if acl is None:
            note = f"no network ACL known for {subnet.subnet_id}: not evaluated"
            if note not in walk.notes:
                walk.notes.append(note)
            return True
        verdict = evaluate(acl, egress=egress, protocol=self._protocol, ports=ports, remote=remote)
        flow = self._protocol if ports is None else f"{self._protocol} {_ports_text(ports)}"
        peer = "to" if egress else "from"
        decision = "allows" if verdict.allowed else "denies"
        detail = f"{subnet.subnet_id} {direction} {verdict.rule_text} {decision} {flow} {peer} {_block_text(remote)}"
        walk.hop(acl.network_acl_id, "network-acl", detail)
        for rule in verdict.partial:
            walk.notes.append(
                f"{acl.network_acl_id} {direction} rule {rule.rule_number} covers only part of the traffic: not applied"
            )
        if not verdict.allowed:
            walk.block(
                acl.network_acl_id,
                "network-acl",
                f"{direction} {verdict.rule_text} denies {flow} {peer} {_block_text(remote)}",
                f"add an {direction} allow rule for {flow} {peer} {_block_text(remote)} before {verdict.rule_text}",
            )
            return False
        return True

    def _route(self, walk: _Walk, region: _Region, vpc_id: str, table: RouteTable, target: _Target) -> Outcome:
        """Follows route tables from ``table`` until the packet is delivered, leaves, or drops."""
        seen: set[str] = set()
        after_nat: str | None = None
        while True:
            if table.route_table_id in seen:
                walk.block(table.route_table_id, "route-table", "routing loop")
                return None
            seen.add(table.route_table_id)
            lookup = region.route_lookup(table)
            entry: _RouteEntry | None = None
            route = lookup.services.get(target.service) if target.service else None
            if route is None:
                hit = lookup.lpm.lookup(target.block)
                if hit is not None:
                    entry = hit[1]
                    route = entry.route
            if route is None:
                walk.hop(table.route_table_id, "route-table", f"no route to {target.text}")
                walk.block(
                    table.route_table_id,
                    "route-table",
                    f"no route to {target.text}",
                    _no_route_fix(target, table),
                )
                return None
            via = f" (via {entry.via_list})" if entry is not None and entry.via_list else ""
            walk.hop(table.route_table_id, "route-table", f"{route.destination}{via} -> {route.target}")
            if route.state == "blackhole":
                walk.block(
                    table.route_table_id,
                    "route-table",
                    f"route {route.destination} -> {route.target} is a blackhole",
                    "delete the route or point it at a live target",
                )
                return None
            handler = HANDLERS.get(route.target_kind, hop_not_modelled)
            outcome = handler(self, walk, _At(region, vpc_id, after_nat), route, target)
            if isinstance(outcome, _Next):
                after_nat = region.snapshot.nat_gateway_by_id[route.target].connectivity
                region, vpc_id, table = outcome.region, outcome.vpc_id, outcome.table
                continue
            return outcome

    def _tgw_walk(self, walk: _Walk, region: _Region, attachment: TgwAttachment, target: _Target) -> Outcome:
        """From an attachment into its gateway: the associated table, LPM, the next attachment."""
        seen: set[str] = set()
        while True:
            table_id = attachment.association_route_table_id
            if table_id is None or not is_live(attachment.association_state):
                walk.block(
                    attachment.attachment_id,
                    "transit-gateway-attachment",
                    "not associated with a transit gateway route table",
                    "associate the attachment with a TGW route table",
                )
                return None
            if table_id in seen:
                walk.block(table_id, "transit-gateway-route-table", "routing loop")
                return None
            seen.add(table_id)
            hit = region.tgw_lookup(table_id).lookup(target.block)
            if hit is None:
                walk.hop(table_id, "transit-gateway-route-table", f"no route to {target.text}")
                walk.block(
                    table_id,
                    "transit-gateway-route-table",
                    f"no route to {target.text}",
                    "add a static route or a propagation for the destination",
                )
                return None
            route = hit[1]
            if route.state == "blackhole" or not route.attachment_ids:
                walk.hop(table_id, "transit-gateway-route-table", f"{route.destination} -> blackhole")
                walk.block(table_id, "transit-gateway-route-table", f"route {route.destination} is a blackhole")
                return None
            next_id = route.attachment_ids[0]
            walk.hop(table_id, "transit-gateway-route-table", f"{route.destination} -> {next_id} ({route.route_type})")
            nxt = region.snapshot.tgw_attachment_by_id.get(next_id)
            if nxt is None or not is_live(nxt.state):
                state = nxt.state if nxt is not None else "gone"
                walk.block(next_id, "transit-gateway-attachment", f"attachment is {state}")
                return None
            walk.hop(nxt.attachment_id, "transit-gateway-attachment", f"{nxt.resource_type} {nxt.resource_id}")
            if nxt.resource_type == "vpc":
                home = self._region_of_vpc(nxt.resource_id)
                if home is None:
                    walk.stop_unknown(nxt.resource_id, "vpc", f"VPC {nxt.resource_id} is not in the audited snapshots")
                    return None
                cidrs = home.snapshot.vpc_by_id[nxt.resource_id].cidrs
                if not any((b := parse(c)) is not None and contains(b, target.block) for c in cidrs):
                    walk.stop_unknown(
                        nxt.attachment_id,
                        "transit-gateway-attachment",
                        f"{target.text} is outside {nxt.resource_id}: its attachment subnets' routing is not modelled",
                    )
                    return None
                return _Deliver(home, nxt.resource_id)
            if nxt.resource_type in ("vpn", "direct-connect-gateway"):
                walk.notes.append(f"beyond {nxt.attachment_id} ({nxt.resource_type}): on premises, not evaluated")
                return _Exit()
            if nxt.resource_type == "peering":
                peer = self._tgw_peer(region, nxt)
                if peer is None:
                    walk.stop_unknown(
                        nxt.attachment_id,
                        "transit-gateway-attachment",
                        "the peer transit gateway's region is not in the audited snapshots",
                    )
                    return None
                region, attachment = peer
                continue
            walk.stop_unknown(
                nxt.attachment_id, "transit-gateway-attachment", f"{nxt.resource_type} attachment not modelled"
            )
            return None

    def _tgw_peer(self, region: _Region, attachment: TgwAttachment) -> tuple[_Region, TgwAttachment] | None:
        """The other side of a TGW peering attachment: the same attachment id in the peer
        gateway's region, associated with a table of the peer gateway."""
        sides = region.tgw_peering_by_id.get(attachment.attachment_id)
        if sides is None:
            return None
        requester_tgw, requester_region, _, accepter_region = sides
        peer_region = accepter_region if attachment.tgw_id == requester_tgw else requester_region
        home = self.regions.get(peer_region)
        if home is None or home is region:
            return None
        peer = home.snapshot.tgw_attachment_by_id.get(attachment.attachment_id)
        return (home, peer) if peer is not None else None

    def _deliver(self, walk: _Walk, outcome: _Deliver, target: _Target) -> tuple[_Region, Subnet] | None:
        """The subnet of the delivering VPC that holds the address."""
        subnet = outcome.region.subnet_holding(outcome.vpc_id, target.block)
        if subnet is None:
            walk.block(outcome.vpc_id, "vpc", f"no subnet of {outcome.vpc_id} holds {target.text}")
            return None
        if target.subnet_id is not None and subnet.subnet_id != target.subnet_id:
            walk.block(
                subnet.subnet_id,
                "subnet",
                f"{target.text} is delivered to {subnet.subnet_id} in {outcome.vpc_id}, not to {target.subnet_id} "
                "(overlapping address ranges)",
                "renumber one of the overlapping networks",
            )
            return None
        walk.hop(subnet.subnet_id, "subnet", f"delivered in {outcome.vpc_id}")
        return outcome.region, subnet

    def _run(
        self,
        region: _Region,
        subnet: Subnet,
        source: Block,
        src: Source,
        target: _Target,
        dest: Destination,
        endpoint: VpcEndpoint | None,
        protocol: str,
        port: int | None,
    ) -> PathResult:
        fwd = _Walk()
        back = _Walk()
        ports = self._ports
        reply_ports = EPHEMERAL if protocol in ("tcp", "udp") else None
        if endpoint is not None:
            target = self._endpoint_target(fwd, region, subnet, endpoint, target)
        table = region.snapshot.effective_route_table.get(subnet.subnet_id)
        if self._acl(fwd, region, subnet, egress=True, remote=target.block, ports=ports):
            if table is None:
                fwd.block(subnet.subnet_id, "subnet", "the subnet has no route table (and its VPC no main table)")
            else:
                outcome = self._route(fwd, region, subnet.vpc_id, table, target)
                if isinstance(outcome, _Deliver):
                    self._arrive(fwd, back, outcome, target, source, region, subnet, reply_ports)
                    if endpoint is not None and fwd.ok:
                        fwd.hop(endpoint.endpoint_id, "interface-endpoint", endpoint.service_name)
                elif isinstance(outcome, _Exit):
                    # The reply of a connection that left: back through each NAT, then the
                    # source subnet's ACL (replies are stateless there).
                    for nat_region, nat_subnet, nat_id in reversed(fwd.nats):
                        if not self._acl(
                            back, nat_region, nat_subnet, egress=False, remote=target.block, ports=reply_ports
                        ):
                            break
                        back.hop(nat_id, "nat-gateway", "reply translated back")
                        if not self._acl(back, nat_region, nat_subnet, egress=True, remote=source, ports=reply_ports):
                            break
                    if back.ok:
                        self._acl(back, region, subnet, egress=False, remote=target.block, ports=reply_ports)
        blocked = fwd.blocked or back.blocked
        unknown = fwd.unknown or back.unknown
        verdict = REACHABLE if blocked is None else (UNKNOWN if unknown else UNREACHABLE)
        notes = [SG_NOTE, *dict.fromkeys([*fwd.notes, *back.notes])]
        return PathResult(
            source=src,
            destination=dest,
            protocol=protocol,
            port=port,
            verdict=verdict,
            private=not fwd.public,
            hops=tuple(fwd.hops),
            return_hops=tuple(back.hops),
            blocked_at=blocked,
            notes=tuple(notes),
        )

    def _endpoint_target(
        self, walk: _Walk, region: _Region, subnet: Subnet, endpoint: VpcEndpoint, public: _Target
    ) -> _Target:
        """An interface endpoint serving the service in the source VPC: with private DNS
        the service's name resolves to its address in one of its subnets (the source's AZ
        first); without, clients reach the public endpoint."""
        if not endpoint.private_dns_enabled:
            walk.notes.append(
                f"{endpoint.endpoint_id} has private DNS disabled: clients resolve the public name (path shown)"
            )
            return public
        if not is_live(endpoint.state):
            walk.notes.append(f"{endpoint.endpoint_id} is {endpoint.state}")
            return public
        by_id = region.snapshot.subnet_by_id
        subnets = [by_id[s] for s in endpoint.subnet_ids if s in by_id]
        same_zone = [s for s in subnets if s.availability_zone == subnet.availability_zone]
        if not subnets:
            return public
        chosen = (same_zone or subnets)[0]
        block = next(
            (
                b
                for b, s in region.subnet_blocks.get(chosen.vpc_id, ())
                if s is chosen and b.version == public.block.version
            ),
            None,
        )
        if block is None:
            return public
        return _Target(block, subnet_id=chosen.subnet_id, vpc_id=chosen.vpc_id)

    def _arrive(
        self,
        fwd: _Walk,
        back: _Walk,
        outcome: _Deliver,
        target: _Target,
        source: Block,
        region: _Region,
        subnet: Subnet,
        reply_ports: tuple[int, int] | None,
    ) -> None:
        """Delivered into a VPC: the destination subnet's ACL, then the reply, routed back."""
        arrived = self._deliver(fwd, outcome, target)
        if arrived is None:
            return
        dst_region, dst_subnet = arrived
        # A packet that passed a NAT comes from the NAT's address: the reply goes there.
        reply_to = source
        reply_subnet = subnet
        if fwd.nats:
            nat_region, nat_subnet, _ = fwd.nats[-1]
            block = parse(nat_subnet.cidr or "")
            if block is not None:
                reply_to, reply_subnet = block, nat_subnet
        if not self._acl(fwd, dst_region, dst_subnet, egress=False, remote=reply_to, ports=self._ports):
            return
        # The return path: from the destination subnet back to the source address.
        dst_block = target.block
        if not self._acl(back, dst_region, dst_subnet, egress=True, remote=reply_to, ports=reply_ports):
            return
        table = dst_region.snapshot.effective_route_table.get(dst_subnet.subnet_id)
        if table is None:
            back.block(dst_subnet.subnet_id, "subnet", "the subnet has no route table")
            return
        reply = _Target(reply_to, subnet_id=reply_subnet.subnet_id, vpc_id=reply_subnet.vpc_id)
        outcome_back = self._route(back, dst_region, dst_subnet.vpc_id, table, reply)
        if not back.ok:
            return
        if not isinstance(outcome_back, _Deliver):
            last = back.hops[-1] if back.hops else Hop(table.route_table_id, "route-table", "")
            back.block(
                last.resource_id,
                last.type,
                f"the reply to {_block_text(reply_to)} leaves instead of returning to the source",
            )
            return
        if self._deliver(back, outcome_back, reply) is None:
            return
        for nat_region, nat_subnet, nat_id in reversed(fwd.nats):
            back.hop(nat_id, "nat-gateway", "reply translated back")
            if not self._acl(back, nat_region, nat_subnet, egress=True, remote=source, ports=reply_ports):
                return
        self._acl(back, region, subnet, egress=False, remote=dst_block, ports=reply_ports)


# ---------------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------------


def _address(text: str) -> Block | None:
    """An IP address as a one-address block (None if it is not one)."""
    try:
        ip = ipaddress.ip_address(text)
    except ValueError:
        return None
    return Block(ip.version, int(ip), int(ip))


def _wants_ipv6(destination: str) -> bool:
    try:
        return ipaddress.ip_address(destination).version == 6
    except ValueError:
        return False


def _subnet_address(subnet: Subnet, ipv6: bool) -> tuple[Block | None, str]:
    """The source subnet's range in the family the destination needs (IPv4 first)."""
    cidrs = list(subnet.ipv6_cidrs) if ipv6 else [c for c in (subnet.cidr,) if c] or list(subnet.ipv6_cidrs)
    for cidr in cidrs:
        block = parse(cidr)
        if block is not None:
            return block, cidr
    return None, ""


def _ports_text(ports: tuple[int, int]) -> str:
    return str(ports[0]) if ports[0] == ports[1] else f"{ports[0]}-{ports[1]}"


def _no_route_fix(target: _Target, table: RouteTable) -> str:
    if target.service:
        return (
            f"add a gateway endpoint for {target.service} on {table.route_table_id} "
            f"(aws ec2 create-vpc-endpoint --vpc-endpoint-type Gateway --vpc-id {table.vpc_id} "
            f"--service-name com.amazonaws.<region>.{target.service} --route-table-ids {table.route_table_id})"
        )
    if target.public:
        return f"add a route for {target.text} to a NAT gateway or an internet gateway on {table.route_table_id}"
    return f"add a route for {target.text} (peering, transit gateway or VPN gateway) on {table.route_table_id}"
