"""The path engine's indexes over the snapshots, built once: route tables as longest-prefix
match tables (lazily, per table), subnets by address, gateways, NACLs and TGW attachments by
id, VPCs and subnets by region. Pure: a function of the snapshots.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cached_property

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
from chalicelib.core.paths.lookup import Lpm, contains

AWS_OWNER = "AWS"

# Equal destinations: static routes win over prefix-list routes, which win over propagated
# ones (the VPC user guide's "How route priority works").
_RANK_STATIC, _RANK_PREFIX_LIST, _RANK_PROPAGATED = 0, 1, 2
# TGW: static before propagated; among propagated, VPC before Direct Connect before VPN.
_TGW_PROPAGATED_RANK = {"vpc": 2, "direct-connect-gateway": 3, "connect": 4, "vpn": 5}


@dataclass(frozen=True)
class RouteEntry:
    route: Route
    via_list: str | None = None  # the customer prefix list the CIDR came from


class RouteLookup:
    """One VPC route table as LPM tables: CIDR routes and expanded customer prefix lists;
    the AWS-managed S3 / DynamoDB lists, which stand for their service, apart."""

    def __init__(self, table: RouteTable, region: RegionIndex) -> None:
        self.lpm: Lpm[RouteEntry] = Lpm()
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
                        self.lpm.add(block, RouteEntry(route, route.destination), _RANK_PREFIX_LIST)
                continue
            block = parse(route.destination)
            if block is not None:
                rank = _RANK_PROPAGATED if route.origin == "EnableVgwRoutePropagation" else _RANK_STATIC
                self.lpm.add(block, RouteEntry(route), rank)
        # A gateway endpoint associated with the table routes its service there even where the
        # description lacks the prefix-list route (AWS adds it on association).
        for endpoint in region.gateway_endpoints_of_table.get(table.route_table_id, ()):
            if endpoint.service not in self.services:
                plist = region.service_prefix_list(endpoint.service) or endpoint.service
                self.services[endpoint.service] = Route(plist, endpoint.endpoint_id)


class RegionIndex:
    """One snapshot with the indexes the walk needs, built on first use."""

    def __init__(self, snapshot: NetworkSnapshot) -> None:
        self.snapshot = snapshot
        self.region = snapshot.region
        self._lookups: dict[str, RouteLookup] = {}
        self._tgw_lookups: dict[str, Lpm[TgwRoute]] = {}

    def route_lookup(self, table: RouteTable) -> RouteLookup:
        lookup = self._lookups.get(table.route_table_id)
        if lookup is None:
            lookup = self._lookups[table.route_table_id] = RouteLookup(table, self)
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


class Indexes:
    """Regional snapshots (one per region) indexed across regions: where a VPC or subnet
    lives, which subnets hold an address, the other side of a TGW peering."""

    def __init__(self, snapshots: Iterable[NetworkSnapshot]) -> None:
        self.regions: dict[str, RegionIndex] = {}
        for snapshot in snapshots:
            self.regions[snapshot.region] = RegionIndex(snapshot)
        self.vpc_home: dict[str, RegionIndex] = {}
        self.subnet_home: dict[str, RegionIndex] = {}
        self._subnets_by_block: dict[Block, list[Subnet]] = defaultdict(list)
        self._subnet_lpm_lengths: dict[int, set[int]] = defaultdict(set)
        for region in self.regions.values():
            for vpc in region.snapshot.vpcs:
                self.vpc_home.setdefault(vpc.vpc_id, region)
            for subnet in region.snapshot.subnets:
                self.subnet_home[subnet.subnet_id] = region
                for cidr in (subnet.cidr, *subnet.ipv6_cidrs):
                    block = parse(cidr) if cidr else None
                    if block is not None:
                        self._subnets_by_block[block].append(subnet)
                        self._subnet_lpm_lengths[block.version].add(block.prefixlen)

    def region_of_vpc(self, vpc_id: str) -> RegionIndex | None:
        return self.vpc_home.get(vpc_id)

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

    def tgw_peer(self, region: RegionIndex, attachment: TgwAttachment) -> tuple[RegionIndex, TgwAttachment] | None:
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
