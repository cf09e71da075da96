"""The path engine's hops: one handler per route target kind (``HANDLERS``), the network ACL
check, and the walk through a transit gateway. A new hop type is one function and one entry
in ``HANDLERS``; each handler records its hop on the walk and answers where routing goes on
(an ``Outcome``), or blocks the walk.
"""

from __future__ import annotations

from chalicelib.core import actions as A
from chalicelib.core.model import Route, Subnet, TgwAttachment
from chalicelib.core.netmath import Block, parse
from chalicelib.core.paths.index import Indexes, RegionIndex
from chalicelib.core.paths.lookup import contains
from chalicelib.core.paths.nacl import evaluate
from chalicelib.core.paths.walk import At, Deliver, Exit, Handler, Next, Outcome, Target, Walk, block_text
from chalicelib.core.states import is_live


def _missing(walk: Walk, at: At, target: str, kind: str, action: str) -> None:
    """A route to a target the snapshot does not hold: unknown when its data could not be
    read, else the target is gone and the route a blackhole."""
    if not at.region.collected(action):
        walk.stop_unknown(target, kind, f"{target} not known: {action} could not be read")
    else:
        walk.block(target, kind, f"{target} does not exist (the route is a blackhole)", "delete or replace the route")


def hop_local(index: Indexes, walk: Walk, at: At, route: Route, target: Target) -> Outcome:
    return Deliver(at.region, at.vpc_id)


def hop_internet_gateway(index: Indexes, walk: Walk, at: At, route: Route, target: Target) -> Outcome:
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
    return Exit()


def hop_egress_only_gateway(index: Indexes, walk: Walk, at: At, route: Route, target: Target) -> Outcome:
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
    return Exit()


def hop_nat_gateway(index: Indexes, walk: Walk, at: At, route: Route, target: Target) -> Outcome:
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
    if not check_acl(walk, at.region, subnet, egress=False, remote=walk.query.source, ports=walk.query.ports):
        return None
    if not check_acl(walk, at.region, subnet, egress=True, remote=target.block, ports=walk.query.ports):
        return None
    return Next(at.region, nat.vpc_id, table)


def hop_vpn_gateway(index: Indexes, walk: Walk, at: At, route: Route, target: Target) -> Outcome:
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
    return Exit()


def hop_peering(index: Indexes, walk: Walk, at: At, route: Route, target: Target) -> Outcome:
    peering = at.region.snapshot.peering_by_id.get(route.target)
    if peering is None:
        _missing(walk, at, route.target, "peering", A.PCX)
        return None
    other = peering.other_side(at.vpc_id)
    peer_region = index.region_of_vpc(other.vpc_id) if other is not None else None
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
    return Deliver(peer_region, other.vpc_id)


def hop_gateway_endpoint(index: Indexes, walk: Walk, at: At, route: Route, target: Target) -> Outcome:
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
    return Exit()


def hop_transit_gateway(index: Indexes, walk: Walk, at: At, route: Route, target: Target) -> Outcome:
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
    return tgw_walk(index, walk, at.region, attachment, target)


def hop_not_modelled(index: Indexes, walk: Walk, at: At, route: Route, target: Target) -> Outcome:
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
# Inside a hop: network ACLs, a transit gateway's route tables
# ---------------------------------------------------------------------------------


def check_acl(
    walk: Walk,
    region: RegionIndex,
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
    verdict = evaluate(acl, egress=egress, protocol=walk.query.protocol, ports=ports, remote=remote)
    flow = walk.query.protocol if ports is None else f"{walk.query.protocol} {_ports_text(ports)}"
    peer = "to" if egress else "from"
    decision = "allows" if verdict.allowed else "denies"
    detail = f"{subnet.subnet_id} {direction} {verdict.rule_text} {decision} {flow} {peer} {block_text(remote)}"
    walk.hop(acl.network_acl_id, "network-acl", detail)
    for rule in verdict.partial:
        walk.notes.append(
            f"{acl.network_acl_id} {direction} rule {rule.rule_number} covers only part of the traffic: not applied"
        )
    if not verdict.allowed:
        walk.block(
            acl.network_acl_id,
            "network-acl",
            f"{direction} {verdict.rule_text} denies {flow} {peer} {block_text(remote)}",
            f"add an {direction} allow rule for {flow} {peer} {block_text(remote)} before {verdict.rule_text}",
        )
        return False
    return True


def tgw_walk(index: Indexes, walk: Walk, region: RegionIndex, attachment: TgwAttachment, target: Target) -> Outcome:
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
            home = index.region_of_vpc(nxt.resource_id)
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
            return Deliver(home, nxt.resource_id)
        if nxt.resource_type in ("vpn", "direct-connect-gateway"):
            walk.notes.append(f"beyond {nxt.attachment_id} ({nxt.resource_type}): on premises, not evaluated")
            return Exit()
        if nxt.resource_type == "peering":
            peer = index.tgw_peer(region, nxt)
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


def _ports_text(ports: tuple[int, int]) -> str:
    return str(ports[0]) if ports[0] == ports[1] else f"{ports[0]}-{ports[1]}"
