"""The path engine's driver (SPEC §7): one trace, from a source to a destination and back.

``trace`` resolves the source and destination names, then walks: the source subnet's ACL,
route table after route table (each route's target handled by its hop in ``HANDLERS``)
until the packet is delivered, leaves AWS or is dropped; for a delivered packet the
destination's ACL and the reply routed back; for one that left, the reply back through
each NAT gateway passed. The verdict: reachable, unreachable (and where), or unknown
(data that could not be read, or a hop not modelled).
"""

from __future__ import annotations

import ipaddress

from chalicelib.core.model import RouteTable, Subnet, VpcEndpoint
from chalicelib.core.netmath import Block, parse
from chalicelib.core.paths.hops import HANDLERS, check_acl, hop_not_modelled
from chalicelib.core.paths.index import Indexes, RegionIndex, RouteEntry
from chalicelib.core.paths.lookup import any_address
from chalicelib.core.paths.nacl import EPHEMERAL
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
from chalicelib.core.paths.walk import At, Deliver, Exit, Next, Outcome, Query, Target, Walk, block_text
from chalicelib.core.states import is_live

PROTOCOLS = ("tcp", "udp", "icmp", "all")
GATEWAY_SERVICES = ("s3", "dynamodb")


class PathQueryError(ValueError):
    """A source or destination that names nothing in the snapshots (a usage error)."""


class PathIndex(Indexes):
    """Answers path questions over regional snapshots (one per region; SPEC §7): the
    indexes are built once (``Indexes``), each ``trace`` walks them."""

    # -- queries --------------------------------------------------------------------
    def _source(self, source: str) -> tuple[RegionIndex, Subnet, Block | None, str]:
        if source.startswith("subnet-"):
            region = self.subnet_home.get(source)
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
        return self.subnet_home[subnet.subnet_id], subnet, address, source

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
        if source_address is None:
            family = "IPv6" if want_v6 else "IPv4"
            dest = Destination("address", destination, None)
            blocked = Blocked(subnet.subnet_id, "subnet", f"the subnet has no {family} CIDR")
            return PathResult(src, dest, protocol, port, UNREACHABLE, True, (), (), blocked, (SG_NOTE,))
        query = Query(protocol, (port, port) if port is not None else None, source_address)
        target, dest, endpoint = self._target(destination, region, subnet, source_address)
        return self._run(query, region, subnet, src, target, dest, endpoint, port)

    def _target(
        self, destination: str, region: RegionIndex, subnet: Subnet, source: Block
    ) -> tuple[Target, Destination, VpcEndpoint | None]:
        version = source.version
        if destination.startswith("subnet-"):
            home = self.subnet_home.get(destination)
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
                Target(block, subnet_id=destination, vpc_id=dst.vpc_id),
                Destination("subnet", destination, cidrs[0]),
                None,
            )
        address = _address(destination)
        if address is not None:
            ip = ipaddress.ip_address(destination.split("/")[0])
            return Target(address, public=ip.is_global), Destination("address", destination, destination), None
        if destination == "internet":
            anywhere = any_address(version)
            return Target(anywhere, public=True), Destination("internet", destination, block_text(anywhere)), None
        service = destination.removeprefix("service:")
        if destination in GATEWAY_SERVICES or (destination.startswith("service:") and service):
            anywhere = any_address(version)
            if service in GATEWAY_SERVICES:
                # S3 and DynamoDB: the gateway endpoint's prefix-list route, else the public endpoint.
                plist = region.service_prefix_list(service)
                return Target(anywhere, service=service, public=True), Destination("service", destination, plist), None
            endpoint = next(
                (
                    e
                    for e in region.interface_endpoints.get(subnet.vpc_id, ())
                    if e.serves(service, region.region) and e.subnet_ids
                ),
                None,
            )
            address_text = endpoint.endpoint_id if endpoint is not None else None
            return Target(anywhere, public=True), Destination("service", destination, address_text), endpoint
        raise PathQueryError(
            f"destination {destination!r} is not a subnet id, an IP address, s3, dynamodb, internet or service:NAME"
        )

    # -- the walk ---------------------------------------------------------------------
    # -- the walk ---------------------------------------------------------------------
    def _route(self, walk: Walk, region: RegionIndex, vpc_id: str, table: RouteTable, target: Target) -> Outcome:
        """Follows route tables from ``table`` until the packet is delivered, leaves, or drops."""
        seen: set[str] = set()
        after_nat: str | None = None
        while True:
            if table.route_table_id in seen:
                walk.block(table.route_table_id, "route-table", "routing loop")
                return None
            seen.add(table.route_table_id)
            lookup = region.route_lookup(table)
            entry: RouteEntry | None = None
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
                    _no_route_fix(target, table, region.region),
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
            outcome = handler(self, walk, At(region, vpc_id, after_nat), route, target)
            if isinstance(outcome, Next):
                after_nat = region.snapshot.nat_gateway_by_id[route.target].connectivity
                region, vpc_id, table = outcome.region, outcome.vpc_id, outcome.table
                continue
            return outcome

    def _deliver(self, walk: Walk, outcome: Deliver, target: Target) -> tuple[RegionIndex, Subnet] | None:
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
        query: Query,
        region: RegionIndex,
        subnet: Subnet,
        src: Source,
        target: Target,
        dest: Destination,
        endpoint: VpcEndpoint | None,
        port: int | None,
    ) -> PathResult:
        # Per query, on the walks (not on the index): one index answers concurrent traces.
        fwd = Walk(query)
        back = Walk(query)
        source, protocol, ports = query.source, query.protocol, query.ports
        reply_ports = EPHEMERAL if protocol in ("tcp", "udp") else None
        if endpoint is not None:
            target = self._endpoint_target(fwd, region, subnet, endpoint, target)
        table = region.snapshot.effective_route_table.get(subnet.subnet_id)
        if check_acl(fwd, region, subnet, egress=True, remote=target.block, ports=ports):
            if table is None:
                fwd.block(subnet.subnet_id, "subnet", "the subnet has no route table (and its VPC no main table)")
            else:
                outcome = self._route(fwd, region, subnet.vpc_id, table, target)
                if isinstance(outcome, Deliver):
                    self._arrive(fwd, back, outcome, target, source, region, subnet, reply_ports)
                    if endpoint is not None and fwd.ok:
                        fwd.hop(endpoint.endpoint_id, "interface-endpoint", endpoint.service_name)
                elif isinstance(outcome, Exit):
                    # The reply of a connection that left: back through each NAT, then the
                    # source subnet's ACL (replies are stateless there).
                    for nat_region, nat_subnet, nat_id in reversed(fwd.nats):
                        if not check_acl(
                            back, nat_region, nat_subnet, egress=False, remote=target.block, ports=reply_ports
                        ):
                            break
                        back.hop(nat_id, "nat-gateway", "reply translated back")
                        if not check_acl(back, nat_region, nat_subnet, egress=True, remote=source, ports=reply_ports):
                            break
                    if back.ok:
                        check_acl(back, region, subnet, egress=False, remote=target.block, ports=reply_ports)
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
        self, walk: Walk, region: RegionIndex, subnet: Subnet, endpoint: VpcEndpoint, public: Target
    ) -> Target:
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
        return Target(block, subnet_id=chosen.subnet_id, vpc_id=chosen.vpc_id)

    def _arrive(
        self,
        fwd: Walk,
        back: Walk,
        outcome: Deliver,
        target: Target,
        source: Block,
        region: RegionIndex,
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
        if not check_acl(fwd, dst_region, dst_subnet, egress=False, remote=reply_to, ports=fwd.query.ports):
            return
        # The return path: from the destination subnet back to the source address.
        dst_block = target.block
        if not check_acl(back, dst_region, dst_subnet, egress=True, remote=reply_to, ports=reply_ports):
            return
        table = dst_region.snapshot.effective_route_table.get(dst_subnet.subnet_id)
        if table is None:
            back.block(dst_subnet.subnet_id, "subnet", "the subnet has no route table")
            return
        reply = Target(reply_to, subnet_id=reply_subnet.subnet_id, vpc_id=reply_subnet.vpc_id)
        outcome_back = self._route(back, dst_region, dst_subnet.vpc_id, table, reply)
        if not back.ok:
            return
        if not isinstance(outcome_back, Deliver):
            last = back.hops[-1] if back.hops else Hop(table.route_table_id, "route-table", "")
            back.block(
                last.resource_id,
                last.type,
                f"the reply to {block_text(reply_to)} leaves instead of returning to the source",
            )
            return
        if self._deliver(back, outcome_back, reply) is None:
            return
        for nat_region, nat_subnet, nat_id in reversed(fwd.nats):
            back.hop(nat_id, "nat-gateway", "reply translated back")
            if not check_acl(back, nat_region, nat_subnet, egress=True, remote=source, ports=reply_ports):
                return
        check_acl(back, region, subnet, egress=False, remote=dst_block, ports=reply_ports)


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


def _no_route_fix(target: Target, table: RouteTable, region: str) -> str:
    if target.service:
        return (
            f"add a gateway endpoint for {target.service} on {table.route_table_id} "
            f"(aws ec2 create-vpc-endpoint --region {region} --vpc-endpoint-type Gateway --vpc-id {table.vpc_id} "
            f"--service-name com.amazonaws.{region}.{target.service} --route-table-ids {table.route_table_id})"
        )
    if target.public:
        return f"add a route for {target.text} to a NAT gateway or an internet gateway on {table.route_table_id}"
    return f"add a route for {target.text} (peering, transit gateway or VPN gateway) on {table.route_table_id}"
