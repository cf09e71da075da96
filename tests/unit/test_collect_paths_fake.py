"""The path engine's data through the real collector on the fake EC2 (small pages): network
ACLs with their '*' rules, egress-only and VPN gateways, TGW peering attachments; then a
path across them."""

from __future__ import annotations

from chalicelib.aws.collect.ec2 import collect_region
from chalicelib.core.checks import PATH_NEEDS
from chalicelib.core.paths import PathIndex
from tests.fakeec2 import ACCOUNT, PEER_REGION, REGION, FakeEc2, WorldBuilder


def test_path_parts_through_the_collector_and_a_trace() -> None:
    b = WorldBuilder()
    vpc = b.vpc("10.0.0.0/16", ipv6=[("2600:1f18::/56", "associated")])
    subnets = [b.subnet(vpc, f"10.0.{n}.0/24") for n in range(3)]
    table = b.route_table(vpc, main=True)
    eigw = b.egress_only_gateway(vpc)
    vgw = b.vpn_gateway(vpc)
    b.route(table, "::/0", eigw)
    b.route(table, "192.168.0.0/16", vgw)
    acl = b.network_acl(
        vpc,
        [(100, True, "6", True, "0.0.0.0/0", (443, 443)), (100, False, "6", True, "0.0.0.0/0", (1024, 65535))],
        subnets=subnets[:1],
    )
    tgw = b.transit_gateway()
    peering = b.tgw_peering(tgw, "tgw-000000ff", PEER_REGION)
    fake = FakeEc2(b.build(), max_page=5)
    snapshot = collect_region(fake.client(), account_id=ACCOUNT, region=REGION, actions=PATH_NEEDS, page_size=5)
    assert snapshot.errors == () and fake.problems == []
    (collected,) = snapshot.network_acls
    assert collected.network_acl_id == acl and collected.subnet_ids == (subnets[0],)
    assert sorted(e.rule_number for e in collected.entries) == [100, 100, 32767, 32767]
    assert [g.gateway_id for g in snapshot.egress_only_internet_gateways] == [eigw]
    assert [(g.gateway_id, g.vpc_ids) for g in snapshot.vpn_gateways] == [(vgw, (vpc,))]
    (tgw_peering,) = snapshot.tgw_peering_attachments
    assert tgw_peering.attachment_id == peering and tgw_peering.peer_of(tgw) == ("tgw-000000ff", PEER_REGION)

    index = PathIndex([snapshot])
    tcp = index.trace(subnets[0], "192.168.1.1")
    assert tcp.reachable and [h.resource_id for h in tcp.hops] == [acl, table, vgw]
    udp = index.trace(subnets[0], "192.168.1.1", "udp", 53)
    assert udp.blocked_at is not None and udp.blocked_at.resource_id == acl and "rule *" in udp.blocked_at.reason
