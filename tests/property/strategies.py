"""Hypothesis strategies: small EC2 worlds full of the cases where a scoped audit could
part ways with the full one.

Address space comes from a small pool, so overlaps are the rule: equal VPC ranges,
a /24 VPC inside a /16 one, secondary blocks (some of them associating or already
disassociated), IPv6 blocks. Around the VPCs: main and custom route tables (some subnets
left on the main table, some associated with it explicitly), routes to peerings, transit
gateways, internet and NAT gateways, ENIs and VGWs, active or blackhole, some to targets
that no longer exist; peerings in every status, to VPCs of the world, of another region
(either side requesting) and of another account; transit gateways (own or shared by
another account) with one or two route tables, VPC / VPN / TGW-peering attachments in
several states, associations, propagations, static and blackhole routes, prefix-list
destinations; gateway and interface endpoints in several states; NAT gateways; flow logs on
VPCs, subnets and ENIs; a customer-managed prefix list; Client VPN endpoints; an endpoint
service; and ``vpcwatch:exempt`` tags, so suppressed findings are compared too.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from typing import Any

from hypothesis import strategies as st

from chalicelib.core.checks import CHECK_IDS
from chalicelib.core.events import EVENT_NAMES, checks_for_event
from chalicelib.core.model import EXEMPT_TAG
from chalicelib.core.policy import Policy, parse_policy
from tests.fakeec2 import FOREIGN_ACCOUNT, PEER_REGION, World, WorldBuilder

VPC_CIDRS = ("10.0.0.0/16", "10.1.0.0/16", "10.0.5.0/24", "10.1.128.0/17", "172.16.0.0/16", "192.168.0.0/20")
IPV6_BLOCKS = ("2600:1f18:1000:100::/56", "2600:1f18:2000:200::/56")
# Route destinations: VPC ranges, pieces of them, summaries and defaults. "pl" stands for
# the world's customer-managed prefix list.
DESTINATIONS = (
    "10.1.0.0/16",
    "10.0.0.0/16",
    "10.0.5.0/24",
    "10.1.5.0/24",
    "10.0.0.0/8",
    "0.0.0.0/0",
    "pl",
    "10.1.128.0/17",
    "172.16.0.0/16",
    "192.168.0.0/20",
    "192.168.0.0/16",
    "::/0",
    IPV6_BLOCKS[0],
    IPV6_BLOCKS[1],
)
TGW_DESTINATIONS = ("10.0.0.0/8", "10.1.0.0/16", "10.0.0.0/16", "10.0.5.0/24", "pl", "192.168.0.0/16", "0.0.0.0/0")
ADVERTISED = ("10.0.0.0/8", "192.168.0.0/16", "10.1.0.0/16", "10.0.5.0/24", "172.16.0.0/12")
PEERING_STATUSES = ("active", "pending-acceptance", "provisioning", "deleted", "rejected", "failed")
ROUTE_TARGETS = ("pcx", "tgw", "igw", "nat", "eni", "vgw")
STALE_TARGETS = ("pcx-gone", "tgw-gone", "nat-gone")
INTERFACE_SERVICES = (
    "com.amazonaws.us-east-1.ssm",
    "com.amazonaws.us-east-1.ec2",
    "com.amazonaws.vpce.us-east-1.vpce-svc-0a",
)

# Ids of resources that do not exist (deleted long ago), as stale routes still name them.
GONE = {"pcx-gone": "pcx-0000dead", "tgw-gone": "tgw-0000dead", "nat-gone": "nat-0000000000000dead"}

POLICIES: tuple[tuple[str, Policy], ...] = (
    ("default", Policy()),
    (
        "strict",
        Policy(traffic_type="REJECT", interface_endpoints=("ssm",), trusted_accounts=(FOREIGN_ACCOUNT,)),
    ),
    # Reachability intents (every expectation, selectors and path destinations), so the
    # path checks judge something in every world.
    (
        "intents",
        parse_policy(
            {
                "reachability": [
                    {"name": "private-s3", "from": {"subnets": "private"}, "to": "s3", "expect": "private"},
                    {"name": "mesh", "from": {"subnets": "all"}, "to": {"subnets": "all"}, "expect": "reachable"},
                    {
                        "name": "public-no-dns-out",
                        "from": {"subnets": "public"},
                        "to": "internet",
                        "protocol": "udp",
                        "port": 53,
                        "expect": "unreachable",
                    },
                    {"name": "to-an-address", "from": {"subnets": "all"}, "to": "10.1.5.9", "expect": "reachable"},
                ]
            },
            CHECK_IDS,
        ),
    ),
)


def _event_families() -> list[tuple[str, tuple[str, ...] | None]]:
    """One event name per distinct set of checks an event runs (None: all checks)."""
    seen: dict[tuple[str, ...] | None, str] = {}
    for name in EVENT_NAMES:
        seen.setdefault(checks_for_event(name), name)
    return [(name, checks) for checks, name in seen.items()]


EVENT_FAMILIES = _event_families()


class Scenario:
    """A world, and the scoped audit to compare with the full one. (A plain class, not a
    dataclass, so that hypothesis prints its readable ``repr``, not every raw record.)"""

    def __init__(
        self,
        world: World,
        scope: tuple[str, ...],
        event: str,
        checks: tuple[str, ...] | None,
        policy_name: str = "default",
        page_size: int | None = None,
        max_page: int | None = None,
    ) -> None:
        self.world = world
        self.scope = scope
        self.event = event  # the CloudTrail event whose check family the scoped audit runs
        self.checks = checks
        self.policy_name = policy_name
        self.policy = dict(POLICIES)[policy_name]
        self.page_size = page_size  # the collector's page size
        self.max_page = max_page  # the fake's cap on items per page

    def __repr__(self) -> str:
        checks = "all" if self.checks is None else ", ".join(self.checks)
        return (
            f"\n--- world ---\n{self.world.describe()}\n--- scoped audit ---\n"
            f"scope={list(self.scope)} event={self.event} checks=[{checks}]\n"
            f"policy={self.policy_name} page_size={self.page_size} max_page={self.max_page}\n"
        )


def _slices(cidr: str) -> list[str]:
    """Three subnet-sized pieces of a VPC range (the 1st, 2nd and 6th)."""
    net = ipaddress.ip_network(cidr)
    pieces = list(net.subnets(new_prefix=min(net.prefixlen + 8, 28)))
    return [str(pieces[i]) for i in (0, 1, 5)]


def _overlaps(a: str, b: str) -> bool:
    x, y = ipaddress.ip_network(a), ipaddress.ip_network(b)
    return x.version == y.version and x.overlaps(y)


def _pick(draw: Any, items: Sequence[str]) -> str | None:
    return draw(st.sampled_from(items)) if items else None


@st.composite
def worlds(draw: Any) -> tuple[World, list[str]]:
    """A world and the ids of its VPCs (in creation order)."""
    b = WorldBuilder()
    vpcs: list[str] = []
    v4: dict[str, list[str]] = {}  # vpc -> associated IPv4 blocks
    for _ in range(draw(st.integers(2, 6))):
        primary = draw(st.sampled_from(VPC_CIDRS))
        secondary: list[tuple[str, str]] = []
        for cidr, state in draw(
            st.lists(
                st.tuples(
                    st.sampled_from(VPC_CIDRS),
                    st.sampled_from(("associated", "associated", "associating", "disassociated")),
                ),
                max_size=2,
            )
        ):
            if all(not _overlaps(cidr, c) for c in (primary, *(c for c, _ in secondary))):
                secondary.append((cidr, state))
        ipv6 = [(draw(st.sampled_from(IPV6_BLOCKS)), "associated")] if draw(st.booleans()) else []
        vpc_id = b.vpc(primary, secondary=secondary, ipv6=ipv6)
        vpcs.append(vpc_id)
        v4[vpc_id] = [primary, *(c for c, s in secondary if s == "associated")]

    # Subnets and route tables
    subnets: dict[str, list[str]] = {}
    tables: dict[str, list[str]] = {}
    for vpc_id in vpcs:
        subnets[vpc_id] = []
        taken: list[str] = []
        for block, piece in draw(st.lists(st.tuples(st.integers(0, 3), st.integers(0, 2)), max_size=3)):
            blocks = v4[vpc_id]
            cidr = _slices(blocks[block % len(blocks)])[piece]
            if any(_overlaps(cidr, t) for t in taken):
                continue
            taken.append(cidr)
            block_v6 = b.vpc_cidrs(vpc_id)[-1] if ":" in b.vpc_cidrs(vpc_id)[-1] and draw(st.booleans()) else None
            subnet_v6 = str(next(ipaddress.ip_network(block_v6).subnets(new_prefix=64))) if block_v6 else None
            subnet_id = b.subnet(vpc_id, cidr, ipv6=subnet_v6)
            subnets[vpc_id].append(subnet_id)
        tables[vpc_id] = [b.route_table(vpc_id, main=True)]
        tables[vpc_id] += [b.route_table(vpc_id) for _ in range(draw(st.integers(0, 2)))]
        for subnet_id in subnets[vpc_id]:
            # -1: no explicit association (the main table routes it)
            choice = draw(st.integers(-1, len(tables[vpc_id]) - 1))
            if choice >= 0:
                b.associate(tables[vpc_id][choice], subnet_id)
    all_subnets = [s for v in vpcs for s in subnets[v]]

    # Gateways
    igws: dict[str, str] = {}
    for vpc_id in vpcs:
        if draw(st.booleans()):
            igws[vpc_id] = b.internet_gateway(vpc_id)
    detached = b.internet_gateway(None) if draw(st.booleans()) else None
    nats: dict[str, list[str]] = {v: [] for v in vpcs}
    for subnet_id, state in draw(
        st.lists(
            st.tuples(
                st.sampled_from(all_subnets) if all_subnets else st.none(),
                st.sampled_from(("available", "pending", "deleted", "failed")),
            ),
            max_size=2,
        )
    ):
        if subnet_id is not None:
            vpc_id = b.raw(subnet_id)["VpcId"]
            nats[vpc_id].append(b.nat_gateway(subnet_id, state=state))

    # Peerings, to the world and beyond
    externals = [
        b.external_vpc([draw(st.sampled_from(VPC_CIDRS))], region=PEER_REGION),
        b.external_vpc([draw(st.sampled_from(VPC_CIDRS))], owner=FOREIGN_ACCOUNT),
    ]
    ends = vpcs + externals
    peerings: list[str] = []
    peers_of: dict[str, list[str]] = {v: [] for v in vpcs}
    for req, acc, status in draw(
        st.lists(
            st.tuples(st.sampled_from(ends), st.sampled_from(ends), st.sampled_from(PEERING_STATUSES)),
            max_size=4,
        )
    ):
        if req == acc or (req in externals and acc in externals):
            continue
        peering_id = b.peering(req, acc, status=status)
        peerings.append(peering_id)
        for side in (req, acc):
            if side in peers_of:
                peers_of[side].append(peering_id)

    # Transit gateways
    tgws: list[str] = []
    tgw_tables: list[str] = []
    for owned, auto_accept in draw(
        st.lists(st.tuples(st.sampled_from((True, True, False)), st.sampled_from(("disable", "enable"))), max_size=2)
    ):
        tgw_id = b.transit_gateway(owner=None if owned else FOREIGN_ACCOUNT, auto_accept=auto_accept)
        tgws.append(tgw_id)
        own_tables = [b.tgw_route_table(tgw_id) for _ in range(draw(st.integers(1, 2)))] if owned else []
        tgw_tables += own_tables
        attachments: list[str] = []
        for vpc_id in vpcs:
            if draw(st.booleans()):
                state = draw(st.sampled_from(("available", "available", "pending", "deleting")))
                attachments.append(b.tgw_attachment(tgw_id, "vpc", vpc_id, state=state))
        if not owned:
            continue  # a shared gateway's tables, and others' attachments to it, are its owner's
        if draw(st.booleans()):
            foreign = b.external_vpc([draw(st.sampled_from(VPC_CIDRS))], owner=FOREIGN_ACCOUNT)
            attachments.append(b.tgw_attachment(tgw_id, "vpc", foreign, resource_owner=FOREIGN_ACCOUNT))
        if draw(st.booleans()):
            advertised = draw(st.lists(st.sampled_from(ADVERTISED), min_size=1, max_size=2, unique=True))
            attachments.append(b.tgw_attachment(tgw_id, "vpn", "vpn-00000001", advertised=advertised))
        if draw(st.booleans()):
            attachments.append(b.tgw_attachment(tgw_id, "peering", "tgw-0000beef"))
        for attachment_id in attachments:
            choice = draw(st.integers(-1, len(own_tables) - 1))
            if choice >= 0:
                b.tgw_associate(own_tables[choice], attachment_id)
            for table_id in own_tables:
                if draw(st.booleans()):
                    b.tgw_propagate(table_id, attachment_id)
        for table_id in own_tables:
            for destination, target in draw(
                st.lists(st.tuples(st.sampled_from(TGW_DESTINATIONS), st.integers(-1, 5)), max_size=3)
            ):
                if destination == "pl":
                    continue  # replaced below, once the prefix list exists
                b.tgw_route(
                    table_id,
                    destination,
                    attachments[target % len(attachments)] if target >= 0 and attachments else None,
                )

    # A customer-managed prefix list
    prefix_list = None
    if draw(st.booleans()):
        entries = draw(
            st.lists(st.sampled_from((*DESTINATIONS[:5], "192.168.0.0/16")), min_size=1, max_size=3, unique=True)
        )
        entries = [e for e in entries if e != "pl"] or ["10.0.5.0/24"]
        prefix_list = b.prefix_list("corp", entries)
        for table_id in tgw_tables:
            if draw(st.booleans()):
                b.tgw_route(table_id, prefix_list, None if draw(st.booleans()) else _tgw_attachment_of(b, table_id))

    # VPC routes (in some worlds, stale routes to targets deleted long ago)
    kinds = ROUTE_TARGETS + STALE_TARGETS if draw(st.integers(0, 3)) == 0 else ROUTE_TARGETS
    for vpc_id in vpcs:
        for table_id in tables[vpc_id]:
            for destination, kind, index, state in draw(
                st.lists(
                    st.tuples(
                        st.sampled_from(DESTINATIONS),
                        st.sampled_from(kinds),
                        st.integers(0, 3),
                        st.sampled_from(("active", "active", "blackhole")),
                    ),
                    max_size=3,
                )
            ):
                if destination == "pl":
                    if prefix_list is None:
                        continue
                    destination = prefix_list
                if destination in b.vpc_cidrs(vpc_id):
                    continue  # the local route owns it
                target = _target(kind, index, vpc_id, peers_of, tgws, igws, detached, nats, subnets)
                if target is None:
                    continue
                origin = "EnableVgwRoutePropagation" if kind == "vgw" else "CreateRoute"
                b.route(table_id, destination, target, state=state, origin=origin)

    # Endpoints
    for vpc_id, service, state, picks in draw(
        st.lists(
            st.tuples(
                st.sampled_from(vpcs),
                st.sampled_from(("s3", "dynamodb")),
                st.sampled_from(("Available", "Available", "Pending", "Deleting")),
                st.lists(st.integers(0, 2), max_size=2, unique=True),
            ),
            max_size=3,
        )
    ):
        chosen = sorted({tables[vpc_id][i % len(tables[vpc_id])] for i in picks})
        b.gateway_endpoint(vpc_id, service, state=state, route_table_ids=chosen)
    for vpc_id, service_name, state, private_dns in draw(
        st.lists(
            st.tuples(
                st.sampled_from(vpcs),
                st.sampled_from(INTERFACE_SERVICES),
                st.sampled_from(("Available", "Pending", "Deleted")),
                st.booleans(),
            ),
            max_size=2,
        )
    ):
        b.interface_endpoint(vpc_id, service_name, state=state, private_dns=private_dns, subnet_ids=subnets[vpc_id][:1])

    # Flow logs
    resources = vpcs + all_subnets + ["eni-0000f001"]
    for resource_id, traffic, failed in draw(
        st.lists(
            st.tuples(st.sampled_from(resources), st.sampled_from(("ALL", "ACCEPT", "REJECT")), st.booleans()),
            max_size=4,
        )
    ):
        b.flow_log(
            resource_id,
            traffic_type=traffic,
            deliver_status="FAILED" if failed else "SUCCESS",
            error="Access error" if failed else None,
        )

    # Client VPN, endpoint services
    for vpc_index, logging, status, rules in draw(
        st.lists(
            st.tuples(
                st.integers(-1, 5),
                st.booleans(),
                st.sampled_from(("available", "pending-associate", "deleted")),
                st.lists(
                    st.tuples(
                        st.sampled_from(("10.0.0.0/16", "0.0.0.0/0")),
                        st.booleans(),
                        st.sampled_from(("active", "revoking")),
                    ),
                    max_size=2,
                ),
            ),
            max_size=2,
        )
    ):
        target = vpcs[vpc_index % len(vpcs)] if vpc_index >= 0 and status != "pending-associate" else None
        b.client_vpn_endpoint(target, logging=logging, status=status, rules=rules)
    if draw(st.booleans()):
        principals = draw(
            st.sampled_from(([], ["*"], [f"arn:aws:iam::{FOREIGN_ACCOUNT}:root"], ["arn:aws:iam::999999999999:root"]))
        )
        b.endpoint_service(acceptance_required=draw(st.booleans()), principals=principals)

    # Exemptions by tag
    taggable = [*vpcs, *(t for v in vpcs for t in tables[v]), *peerings, *tgws, *tgw_tables]
    for resource_id, value in draw(
        st.lists(
            st.tuples(st.sampled_from(taggable), st.sampled_from(("all", *sorted(CHECK_IDS)))),
            max_size=2,
        )
    ):
        b.tag(resource_id, EXEMPT_TAG, value)
    return b.build(), vpcs


def _tgw_attachment_of(b: WorldBuilder, table_id: str) -> str | None:
    tgw_id = b.raw(table_id)["TransitGatewayId"]
    ids = [a["TransitGatewayAttachmentId"] for a in b.world.tgw_attachments if a["TransitGatewayId"] == tgw_id]
    return ids[0] if ids else None


def _target(
    kind: str,
    index: int,
    vpc_id: str,
    peers_of: dict[str, list[str]],
    tgws: list[str],
    igws: dict[str, str],
    detached: str | None,
    nats: dict[str, list[str]],
    subnets: dict[str, list[str]],
) -> str | None:
    """A route target of ``kind``; None when the world has none of that kind."""

    def nth(items: Sequence[str]) -> str | None:
        return items[index % len(items)] if items else None

    if kind == "pcx":
        # EC2 routes only to a peering the VPC takes part in (a deleted one included).
        return nth(peers_of[vpc_id])
    if kind == "tgw":
        return nth(tgws)
    if kind == "igw":
        return igws.get(vpc_id) if index < 3 else detached
    if kind == "nat":
        return nth(nats[vpc_id])
    if kind == "eni":
        return f"eni-0000f00{index}" if subnets[vpc_id] else None
    if kind == "vgw":
        return "vgw-00000001"
    return GONE[kind]


@st.composite
def scenarios(draw: Any) -> Scenario:
    world, vpcs = draw(worlds())
    scope = draw(st.lists(st.sampled_from(vpcs), min_size=1, max_size=len(vpcs), unique=True))
    if draw(st.integers(0, 9)) == 9:
        scope.append("vpc-0000dead")  # a VPC deleted since (DeleteVpc)
    event, checks = draw(st.sampled_from(EVENT_FAMILIES))
    return Scenario(
        world=world,
        scope=tuple(scope),
        event=event,
        checks=checks,
        policy_name=draw(st.sampled_from([name for name, _ in POLICIES])),
        page_size=draw(st.sampled_from((None, 5))),
        max_page=draw(st.sampled_from((None, 2, 1))),
    )
