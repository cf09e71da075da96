"""Fixes of the Transit Gateway checks: overlapping routes in a TGW route table, auto-accept."""

from __future__ import annotations

from collections.abc import Mapping

from chalicelib.core.fixes.context import (
    MAX_ITEMS,
    Fix,
    _Ctx,
    _fix,
    _list,
    _more,
)


def _fix_tgw_overlap(ctx: _Ctx) -> Fix:
    pairs = [p for p in _list(ctx.ev.get("pairs")) if isinstance(p, Mapping)]
    cli: list[str] = []
    tf: list[str] = []
    cfn: list[str] = []
    shown: list[str] = []
    table = ctx.address or ctx.rid
    for pair in pairs:
        a, b = pair.get("a"), pair.get("b")
        if not isinstance(b, Mapping):
            continue
        destination, attachment = str(b.get("destination")), str(b.get("attachment_id") or "").split(",")[0]
        if isinstance(a, Mapping):
            first = f"{a.get('destination')} ({a.get('type')}, {a.get('attachment_id')})"
            shown.append(f"{first} and {destination} ({b.get('type')}, {attachment})")
        if b.get("type") == "propagated":
            cmd = ctx.aws(
                "ec2 disable-transit-gateway-route-table-propagation",
                f"--transit-gateway-route-table-id {ctx.rid}",
                f"--transit-gateway-attachment-id {attachment}",
            )
            tf_line = f"# remove the aws_ec2_transit_gateway_route_table_propagation of {attachment} in {table}"
            cfn_line = f"# remove the AWS::EC2::TransitGatewayRouteTablePropagation of {attachment} in {ctx.rid}"
        elif destination.startswith("pl-"):
            cmd = ctx.aws(
                "ec2 delete-transit-gateway-prefix-list-reference",
                f"--transit-gateway-route-table-id {ctx.rid}",
                f"--prefix-list-id {destination}",
            )
            tf_line = f"# remove the aws_ec2_transit_gateway_prefix_list_reference of {destination} in {table}"
            cfn_line = f"# remove the AWS::EC2::TransitGatewayRoute of {destination} in {ctx.rid}"
        else:
            cmd = ctx.aws(
                "ec2 delete-transit-gateway-route",
                f"--transit-gateway-route-table-id {ctx.rid}",
                f"--destination-cidr-block {destination}",
            )
            tf_line = f"# remove the aws_ec2_transit_gateway_route to {destination} ({attachment}) in {table}"
            cfn_line = f"# remove the AWS::EC2::TransitGatewayRoute to {destination} in {ctx.rid}"
        if cmd not in cli:
            cli.append(cmd)
            tf.append(tf_line)
            cfn.append(cfn_line)
        if len(cli) >= MAX_ITEMS:
            break
    step = (
        f"VPC console > Transit gateway route tables > {ctx.rid}: remove the second route of each overlapping "
        f"pair (disable its propagation or delete the static route), or renumber the overlapping VPC: "
        f"{'; '.join(shown[:3]) or 'see evidence'}." + _more(pairs, int(ctx.ev.get("pair_count") or len(pairs)))
    )
    return _fix(ctx, step, cli, "\n".join(tf), "\n".join(cfn), "Check which attachment should keep the range first.")


def _fix_tgw_auto_accept(ctx: _Ctx) -> Fix:
    step = f"VPC console > Transit gateways > {ctx.rid} > Actions > Modify: clear 'Auto accept shared attachments'."
    cli = ctx.aws(
        "ec2 modify-transit-gateway", f"--transit-gateway-id {ctx.rid}", "--options AutoAcceptSharedAttachments=disable"
    )
    _, comment = ctx.block("aws_ec2_transit_gateway", ctx.rid)
    terraform = f"""
{comment}
  auto_accept_shared_attachments = "disable\""""
    cloudformation = f"""
# In the AWS::EC2::TransitGateway of {ctx.rid}:
    AutoAcceptSharedAttachments: disable"""
    return _fix(ctx, step, [cli], terraform, cloudformation)
