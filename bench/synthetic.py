"""Synthetic snapshots of any size, shaped like real landscapes: VPCs with subnets,
private route tables full of peering / TGW routes, peerings, a Transit Gateway whose
route tables carry every attachment's propagation, flow logs and endpoints."""

from __future__ import annotations

import ipaddress

from chalicelib.core.model import (
    FlowLog,
    NetworkSnapshot,
    Peering,
    PeeringSide,
    Route,
    RouteTable,
    Subnet,
    TgwAttachment,
    TgwRouteTable,
    TransitGateway,
    Vpc,
    VpcEndpoint,
)

ACCOUNT = "111122223333"
REGION = "us-east-1"


def _cidr(n: int) -> str:
    """The n-th /20 of 10.0.0.0/8, wrapping into 172.16.0.0/12 and 100.64.0.0/10; every
    97th VPC reuses an earlier range so the overlap checks have something to find."""
    if n % 97 == 96:
        n -= 50
    base = int(ipaddress.IPv4Address("10.0.0.0")) + (n % 4096) * 4096 + (n // 4096) * 256
    return f"{ipaddress.IPv4Address(base)}/{20 if n < 4096 else 24}"


def synthetic_snapshot(
    vpcs: int, routes: int, attachments: int, route_tables_per_tgw: int = 4, private_tables: int = 1
) -> NetworkSnapshot:
    """``routes`` spread over the private tables; each VPC has a main (public) table and
    ``private_tables`` private ones, each with its own subnet."""
    width = private_tables + 1  # subnets and route tables per VPC
    vpc_ids = [f"vpc-{i:017x}" for i in range(vpcs)]
    cidrs = [_cidr(i) for i in range(vpcs)]
    vpc_records = tuple(Vpc(v, ACCOUNT, (c,)) for v, c in zip(vpc_ids, cidrs, strict=True))
    subnets = []
    split = (width - 1).bit_length()  # prefix bits that give every subnet its own range
    for i, (v, c) in enumerate(zip(vpc_ids, cidrs, strict=True)):
        ranges = ipaddress.ip_network(c).subnets(prefixlen_diff=split)
        for j, net in zip(range(width), ranges, strict=False):
            subnets.append(Subnet(f"subnet-{width * i + j:017x}", v, ACCOUNT, str(net)))
    peerings = tuple(
        Peering(
            f"pcx-{i:017x}",
            "active",
            PeeringSide(vpc_ids[i], ACCOUNT, REGION, (cidrs[i],)),
            PeeringSide(vpc_ids[i + 1], ACCOUNT, REGION, (cidrs[i + 1],)),
        )
        for i in range(0, vpcs - 1, 2)
    )
    tgw = TransitGateway("tgw-0000000000000001", ACCOUNT, "available", "disable")
    tgw_tables = [f"tgw-rtb-{t:017x}" for t in range(route_tables_per_tgw)]
    atts = tuple(
        TgwAttachment(
            f"tgw-attach-{i:017x}",
            tgw.tgw_id,
            "vpc",
            vpc_ids[i % vpcs],
            ACCOUNT,
            "available",
            tgw_tables[i % route_tables_per_tgw],
            "associated",
        )
        for i in range(attachments)
    )
    tgw_route_tables = tuple(
        TgwRouteTable(rtb, tgw.tgw_id, propagations=tuple(a.attachment_id for a in atts)) for rtb in tgw_tables
    )
    # Each VPC gets a main table (public subnet) and private tables; routes spread over them.
    per_table = max(1, routes // max(1, vpcs * private_tables))
    tables = []
    for i, v in enumerate(vpc_ids):
        tables.append(RouteTable(f"rtb-{width * i:017x}", v, ACCOUNT, True, (), (Route("0.0.0.0/0", "igw-1"),)))
        for j in range(1, width):
            rs = [Route(cidrs[i], "local", origin="CreateRouteTable")]
            for k in range(per_table - 1):
                peer = (i + (j - 1) * per_table + k + 1) % vpcs
                target = peerings[(peer // 2) % len(peerings)].peering_id if k % 2 else tgw.tgw_id
                rs.append(Route(cidrs[peer], target))
            subnet = subnets[width * i + j].subnet_id
            tables.append(RouteTable(f"rtb-{width * i + j:017x}", v, ACCOUNT, False, (subnet,), tuple(rs)))
    flow_logs = tuple(FlowLog(f"fl-{i:017x}", v, "ALL", "ACTIVE", "SUCCESS") for i, v in enumerate(vpc_ids) if i % 2)
    endpoints = tuple(
        VpcEndpoint(
            f"vpce-{i:017x}",
            v,
            f"com.amazonaws.{REGION}.s3",
            "Gateway",
            "available",
            tuple(f"rtb-{width * i + j:017x}" for j in range(1, width)),
        )
        for i, v in enumerate(vpc_ids)
        if i % 3
    )
    return NetworkSnapshot(
        account_id=ACCOUNT,
        region=REGION,
        vpcs=vpc_records,
        subnets=tuple(subnets),
        route_tables=tuple(tables),
        flow_logs=flow_logs,
        vpc_endpoints=endpoints,
        peerings=peerings,
        transit_gateways=(tgw,),
        tgw_attachments=atts,
        tgw_route_tables=tgw_route_tables,
    )
