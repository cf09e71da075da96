"""Fixes of the peering checks: overlapping CIDRs of a peering or of connected VPCs, and broad
routes to a peer narrowed to its CIDRs."""

from __future__ import annotations

from collections.abc import Mapping

from chalicelib.core.fixes.context import (
    MAX_ITEMS,
    Fix,
    _cfn_destination,
    _cfn_name,
    _Ctx,
    _destination_flag,
    _fix,
    _hcl,
    _list,
    _more,
    _route_entries,
    _tf_destination,
    _tf_name,
    _unique,
    _yaml,
)


def _cidr_association_id(ctx: _Ctx, vpc_id: str, cidr: str) -> str:
    """A shell substitution that finds the association id of a VPC CIDR block."""
    field_name = (
        ("Ipv6CidrBlockAssociationSet", "Ipv6CidrBlock") if ":" in cidr else ("CidrBlockAssociationSet", "CidrBlock")
    )
    query = f"Vpcs[0].{field_name[0]}[?{field_name[1]}=='{cidr}'].AssociationId | [0]"
    return '"$(' + ctx.aws("ec2 describe-vpcs", f"--vpc-ids {vpc_id}", f'--query "{query}"', "--output text") + ')"'


def _fix_peering_overlap(ctx: _Ctx) -> Fix:
    pairs = [p for p in _list(ctx.ev.get("pairs")) if isinstance(p, Mapping)]
    requester = str(ctx.ev.get("requester_vpc_id") or "<requester-vpc-id>")
    accepter = str(ctx.ev.get("accepter_vpc_id") or "<accepter-vpc-id>")
    mine, side = (accepter, "accepter_cidr") if ctx.f.vpc_id == accepter else (requester, "requester_cidr")
    first = pairs[0] if pairs else {}
    cidr = str(first.get(side) or "<cidr>")
    overlap = (
        f"{first.get('requester_cidr')} ({requester}) and {first.get('accepter_cidr')} ({accepter})" if first else ""
    )
    step = (
        f"Peering {ctx.rid} joins overlapping ranges{': ' + overlap if overlap else ''}. Renumber one side: if "
        f"{cidr} is a secondary CIDR of {mine}, move its subnets and disassociate it; otherwise replace the peering "
        "with PrivateLink or a private NAT gateway (delete-vpc-peering-connection), since both ranges cannot be "
        "reached through it."
    )
    cli = ctx.aws("ec2 disassociate-vpc-cidr-block", f"--association-id {_cidr_association_id(ctx, mine, cidr)}")
    terraform = f"""
# Renumber {mine}: remove the aws_vpc_ipv4_cidr_block_association (or ipv6) of {cidr} on {_hcl(mine)}
# after moving its aws_subnet blocks to a range that does not overlap; or remove the
# aws_vpc_peering_connection {ctx.address or ctx.rid} and reach the peer through PrivateLink."""
    cloudformation = f"""
# Renumber {mine}: remove the AWS::EC2::VPCCidrBlock of {cidr} after moving its subnets,
# or remove the AWS::EC2::VPCPeeringConnection {ctx.rid}."""
    return _fix(
        ctx, step, [cli], terraform, cloudformation, "AWS refuses to disassociate a primary CIDR or one with subnets."
    )


def _fix_connected_overlap(ctx: _Ctx) -> Fix:
    pairs = [p for p in _list(ctx.ev.get("pairs")) if isinstance(p, Mapping)]
    cli: list[str] = []
    tf: list[str] = []
    cfn: list[str] = []
    described: list[str] = []
    for pair in pairs:
        for side in ("b", "a"):
            reach = pair.get(side)
            if not isinstance(reach, Mapping) or reach.get("via") in (None, "self"):
                continue
            via, cidr, owner = str(reach["via"]), str(reach.get("cidr")), reach.get("vpc_id")
            described.append(f"{cidr} through {via}" + (f" ({owner})" if owner else ""))
            if "/" in via and via.startswith("tgw-rtb-"):
                table, attachment = via.split("/", 1)
                cmd = ctx.aws(
                    "ec2 disable-transit-gateway-route-table-propagation",
                    f"--transit-gateway-route-table-id {table}",
                    f"--transit-gateway-attachment-id {attachment.split(',')[0]}",
                )
                tf.append(
                    f"# remove the aws_ec2_transit_gateway_route_table_propagation of {attachment} in {table} "
                    f"(or the aws_ec2_transit_gateway_route to {cidr})"
                )
                cfn.append(f"# remove the AWS::EC2::TransitGatewayRouteTablePropagation of {attachment} in {table}")
            else:
                cmd = ctx.aws(
                    "ec2 describe-route-tables",
                    f"--filters Name=vpc-id,Values={ctx.rid} Name=route.vpc-peering-connection-id,Values={via}",
                    "--query 'RouteTables[].RouteTableId'",
                )
                tf.append(f"# remove the aws_route blocks of {ctx.rid}'s tables to {via} for {cidr}, or the peering")
                cfn.append(f"# remove the AWS::EC2::Route resources of {ctx.rid}'s tables to {via} for {cidr}")
            if cmd not in cli:
                cli.append(cmd)
            break
        if len(cli) >= MAX_ITEMS:
            break
    if not cli:
        cli = [ctx.aws("ec2 describe-transit-gateway-attachments", f"--filters Name=resource-id,Values={ctx.rid}")]
    step = (
        f"VPC {ctx.rid} reaches overlapping ranges ({'; '.join(_unique(described)[:3]) or 'see evidence'}). Keep one "
        "path per range: stop propagating the second VPC into the TGW route table this VPC uses (or give it its "
        "own table), or remove the routes to / the peering with one of them; renumbering removes the cause."
        + _more(pairs, int(ctx.ev.get("pair_count") or len(pairs)))
    )
    return _fix(
        ctx,
        step,
        cli,
        "\n".join(_unique(tf)) or "# see the console step",
        "\n".join(_unique(cfn)) or "# see the console step",
    )


def _fix_peering_least_access(ctx: _Ctx) -> Fix:
    routes = _route_entries(ctx)[:MAX_ITEMS]
    cli: list[str] = []
    tf: list[str] = []
    cfn: list[str] = []
    for route in routes:
        destination, target = str(route.get("destination")), str(route.get("target"))
        cidrs = [str(c) for c in _list(route.get("peer_cidrs"))] or ["<peer-cidr>"]
        for cidr in cidrs:
            cli.append(
                ctx.aws(
                    "ec2 create-route",
                    f"--route-table-id {ctx.rid}",
                    _destination_flag(cidr),
                    f"--vpc-peering-connection-id {target}",
                )
            )
            tf.append(
                f'resource "aws_route" "{_tf_name(ctx.rid, target, cidr)}" {{\n'
                f"  route_table_id            = {_hcl(ctx.rid)}\n"
                f"  {_tf_destination(cidr)}\n"
                f"  vpc_peering_connection_id = {_hcl(target)}\n}}"
            )
            cfn.append(
                f"{_cfn_name(ctx.rid, target, cidr)}:\n  Type: AWS::EC2::Route\n  Properties:\n"
                f"    RouteTableId: {_yaml(ctx.rid)}\n    {_cfn_destination(cidr)}\n"
                f"    VpcPeeringConnectionId: {_yaml(target)}"
            )
        cli.append(ctx.aws("ec2 delete-route", f"--route-table-id {ctx.rid}", _destination_flag(destination)))
        where = f"{ctx.address} (inline route)" if ctx.address else f"the aws_route of {ctx.rid}"
        tf.append(f"# and remove {where} to {destination} via {target}")
        cfn.append(f"# and remove the AWS::EC2::Route of {ctx.rid} to {destination} via {target}")
    shown = "; ".join(
        f"{r.get('destination')} via {r.get('target')} -> {', '.join(map(str, _list(r.get('peer_cidrs'))))}"
        for r in routes
    )
    step = (
        f"VPC console > Route tables > {ctx.rid} > Routes > Edit routes: replace each broad route with routes to "
        f"the peer's CIDRs ({shown or 'see evidence'})." + _more(_route_entries(ctx))
    )
    return _fix(
        ctx,
        step,
        cli,
        "\n".join(tf),
        "\n".join(cfn),
        "Each route to a peer CIDR is created before the broad one is deleted.",
    )
