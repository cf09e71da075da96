"""Fixes of the route table checks: overlapping route destinations and blackhole routes."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from chalicelib.core.fixes.context import (
    MAX_ITEMS,
    Fix,
    _cfn_destination,
    _Ctx,
    _destination_flag,
    _fix,
    _list,
    _more,
    _route_entries,
    _unique,
)


def _fix_route_overlap(ctx: _Ctx) -> Fix:
    pairs = [p for p in _list(ctx.ev.get("pairs")) if isinstance(p, Mapping)]
    routes = _unique(
        f"{p['a'].get('destination')}|{p['a'].get('target')}" for p in pairs if isinstance(p.get("a"), Mapping)
    )[:MAX_ITEMS]
    cli, tf, cfn, shown = [], [], [], []
    for entry in routes:
        destination, target = entry.split("|", 1)
        holder: Mapping[str, Any] = next(
            (p["b"] for p in pairs if isinstance(p.get("a"), Mapping) and p["a"].get("destination") == destination), {}
        )
        shown.append(
            f"{destination} -> {target} (inside {holder.get('cidr')} of {holder.get('vpc_id')} via {holder.get('via')})"
        )
        cli.append(ctx.aws("ec2 delete-route", f"--route-table-id {ctx.rid}", _destination_flag(destination)))
        tf.append(
            f"# remove the route of {ctx.address or ctx.rid} to {destination} via {target} (aws_route or inline route)"
        )
        cfn.append(f"# remove the AWS::EC2::Route of {ctx.rid} with {_cfn_destination(destination)} via {target}")
    step = (
        f"VPC console > Route tables > {ctx.rid} > Routes: remove (or narrow) the routes that take a peer VPC's "
        f"range elsewhere: {'; '.join(shown) or 'see evidence'}."
        + _more(pairs, int(ctx.ev.get("pair_count") or len(pairs)))
    )
    return _fix(ctx, step, cli, "\n".join(tf), "\n".join(cfn))


def _fix_blackhole(ctx: _Ctx) -> Fix:
    routes = _route_entries(ctx)[:MAX_ITEMS]
    cli = [
        ctx.aws("ec2 delete-route", f"--route-table-id {ctx.rid}", _destination_flag(str(r.get("destination"))))
        for r in routes
    ]
    shown = "; ".join(f"{r.get('destination')} -> {r.get('target')} ({r.get('reason')})" for r in routes)
    step = (
        f"VPC console > Route tables > {ctx.rid} > Routes: delete each dead route, or edit it to a live target "
        f"(aws ec2 replace-route): {shown or 'see evidence'}." + _more(_route_entries(ctx))
    )
    tf = "\n".join(
        f"# remove the route of {ctx.address or ctx.rid} to {r.get('destination')} via {r.get('target')} "
        "(aws_route or inline route), or point it at a live target"
        for r in routes
    )
    cfn = "\n".join(
        f"# remove the AWS::EC2::Route of {ctx.rid} with {_cfn_destination(str(r.get('destination')))} "
        f"via {r.get('target')}"
        for r in routes
    )
    return _fix(ctx, step, cli, tf, cfn)
