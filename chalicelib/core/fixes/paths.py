"""Fixes of the path checks (SPEC §7): the missing return route, and a reachability intent."""

from __future__ import annotations

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
    _route_target_flag,
    _tf_destination,
    _tf_name,
    _yaml,
    gateway_service_name,
)


def _fix_return_path(ctx: _Ctx) -> Fix:
    """A route back to the sources through the connection the forward route used: a
    peering is symmetric, and a transit gateway attachment returns through its gateway."""
    forward = str(ctx.ev.get("route") or "")
    _, _, target = forward.partition(" -> ")
    cidrs = [str(c) for c in _list(ctx.ev.get("source_cidrs")) or [ctx.ev.get("source_cidr")] if c][:MAX_ITEMS]
    blocked = ctx.ev.get("return_blocked_at") or {}
    if not target or not cidrs:
        return _fix(
            ctx, f"VPC console > Route tables > {ctx.rid} > Routes: add a route back to the sources.", [], "", ""
        )
    flag = _route_target_flag(target)
    cli = [ctx.aws("ec2 create-route", f"--route-table-id {ctx.rid}", _destination_flag(c), flag) for c in cidrs]
    attribute = {"pcx": "vpc_peering_connection_id", "tgw": "transit_gateway_id"}.get(target.split("-", 1)[0])
    tf = "\n".join(
        f'resource "aws_route" "{_tf_name(ctx.rid, "return", c)}" {{\n'
        f"  route_table_id = {_hcl(ctx.rid)}\n  {_tf_destination(c)}\n"
        f"  {attribute or 'gateway_id'} = {_hcl(target)}\n}}"
        for c in cidrs
    )
    cfn_property = {"pcx": "VpcPeeringConnectionId", "tgw": "TransitGatewayId"}.get(
        target.split("-", 1)[0], "GatewayId"
    )
    cfn = "\n".join(
        f"{_cfn_name(ctx.rid, 'Return', c)}:\n  Type: AWS::EC2::Route\n  Properties:\n"
        f"    RouteTableId: {_yaml(ctx.rid)}\n    {_cfn_destination(c)}\n    {cfn_property}: {_yaml(target)}"
        for c in cidrs
    )
    step = (
        f"VPC console > Route tables > {ctx.rid} > Routes > Edit routes: add {', '.join(cidrs)} -> {target}, so "
        f"replies to what {ctx.ev.get('forward_table')} sends ({forward}) go back the way they came "
        f"(they die today at {blocked.get('resource_id', '?')}: {blocked.get('reason', '?')})."
    )
    if ctx.address:
        tf = f"# the route table is {ctx.address}: add beside it\n{tf}"
    return _fix(ctx, step, cli, tf, cfn)


def _fix_reachability_intent(ctx: _Ctx) -> Fix:
    """What breaks the intent is where the fix goes: the blocking hop, or the public hop
    where the intent wants private traffic. The command shows the path from the source."""
    ev = ctx.ev
    destination = str(ev.get("destination") or "")
    blocked = ev.get("blocked_at") or {}
    public = ev.get("public_hop") or {}
    trace = ctx.aws(
        "ec2 describe-route-tables",
        f"--filters Name=association.subnet-id,Values={ctx.rid}",
        "--query 'RouteTables[].Routes'",
    )
    expect, verdict = ev.get("expect"), ev.get("verdict")
    if expect == "unreachable":
        where = " -> ".join(str(h) for h in _list(ev.get("hops"))[:8]) or "see evidence"
        step = (
            f"Intent {ev.get('intent')}: {ctx.rid} must not reach {destination}, and it does ({where}). Remove the "
            "route that carries it, or deny it in the network ACL of the source or destination subnet."
        )
    elif blocked:
        step = (
            f"Intent {ev.get('intent')}: {ctx.rid} -> {destination} ({ev.get('protocol')} {ev.get('port')}) is "
            f"blocked at {blocked.get('resource_id')} ({blocked.get('type')}): {blocked.get('reason')}. Fix that hop "
            f"(e.g. for s3/dynamodb, a gateway endpoint on the subnet's route table; for a VPC, the route and the "
            f"route back)."
        )
    elif public:
        step = (
            f"Intent {ev.get('intent')} wants private traffic: {ctx.rid} -> {destination} leaves through "
            f"{public.get('resource_id')} ({public.get('type')}). Give it a private way (a gateway or interface "
            "endpoint, a peering or transit gateway route) that longest-prefix match prefers."
        )
    else:
        step = (
            f"Intent {ev.get('intent')}: {ctx.rid} -> {destination} is {verdict}"
            f" ({ev.get('reason', 'not modelled')}); check the path with vpcwatch path."
        )
    cli = [trace]
    if blocked.get("type") == "route-table" and destination in ("s3", "dynamodb") and expect != "unreachable":
        # The lab's case: no gateway endpoint on the subnet's table. Create one on it.
        service = gateway_service_name(destination, ctx.region)
        cli = [
            ctx.aws(
                "ec2 create-vpc-endpoint",
                f"--vpc-id {ctx.vpc}",
                "--vpc-endpoint-type Gateway",
                f"--service-name {service}",
                f"--route-table-ids {blocked.get('resource_id')}",
            ),
            trace,  # then the subnet's routes show the endpoint's prefix list
        ]
    explain = f"vpcwatch path --from {ctx.rid} --to {destination} --region {ctx.region}"
    hop = blocked.get("resource_id") or public.get("resource_id") or ctx.rid
    tf = f"# {explain}\n# then change the Terraform block of the hop it names ({hop})"
    cfn = f"# {explain}\n# then change the resource of the hop it names in its template"
    return _fix(ctx, step, cli, tf, cfn)
