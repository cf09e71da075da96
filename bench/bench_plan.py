"""``vpcwatch plan`` after collection: a plan of 2,000 resources against a 1,000-VPC live
snapshot (``bench.synthetic``), time per phase and peak memory (goal: under 5 s).

    .venv/bin/python -m bench.bench_plan   (or: make bench)

The plan (``tests.planbuilder``, shaped as Terraform 1.x writes it) adds 200 VPCs, each
with two subnets, a route table and its association, a route over a new peering to a live
VPC, that peering, a flow log, an S3 endpoint and a TGW attachment to the live gateway:
ten resources per VPC, every link between planned resources a configuration reference.
Every 7th new VPC reuses a live VPC's range, so overlaps are introduced. Time is the best
of 3 runs; memory is the tracemalloc peak of one more run, measured apart."""

from __future__ import annotations

import datetime as dt
import json
import time
import tracemalloc
from collections.abc import Callable
from typing import Any

from bench.synthetic import REGION, synthetic_snapshot
from chalicelib.core.model import NetworkSnapshot
from chalicelib.core.plan.apply import apply_plan
from chalicelib.core.plan.diff import PlanResult, compare
from chalicelib.core.plan.reader import Plan, load_plan
from chalicelib.core.policy import Policy
from chalicelib.render.plan import render_json, render_markdown
from tests.planbuilder import PlanBuilder

NOW = dt.datetime(2026, 11, 26, tzinfo=dt.UTC)
LIVE_VPCS, PLANNED_VPCS = 1_000, 200


def build_plan(live: NetworkSnapshot) -> str:
    b = PlanBuilder(region=REGION)
    for i in range(PLANNED_VPCS):
        peer = live.vpcs[(i * 5) % len(live.vpcs)]
        # 100.64.0.0/10 is not used by the live landscape, except where an overlap is wanted
        cidr = peer.cidrs[0] if i % 7 == 0 else f"100.{64 + i // 64}.{(i % 64) * 4}.0/22"
        v = f"aws_vpc.v{i}"
        b.create("aws_vpc", f"v{i}", {"cidr_block": cidr})
        for half in (0, 1):
            b.create("aws_subnet", f"s{i}", {"cidr_block": cidr}, refs={"vpc_id": v}, index=half)
        b.create("aws_route_table", f"rt{i}", refs={"vpc_id": v})
        b.create(
            "aws_route_table_association",
            f"a{i}",
            refs={"subnet_id": f"aws_subnet.s{i}[1]", "route_table_id": f"aws_route_table.rt{i}"},
        )
        b.create(
            "aws_vpc_peering_connection", f"p{i}", {"peer_vpc_id": peer.vpc_id, "auto_accept": True}, refs={"vpc_id": v}
        )
        b.create(
            "aws_route",
            f"r{i}",
            {"destination_cidr_block": peer.cidrs[0]},
            refs={
                "route_table_id": f"aws_route_table.rt{i}",
                "vpc_peering_connection_id": f"aws_vpc_peering_connection.p{i}",
            },
        )
        b.create("aws_flow_log", f"fl{i}", {"traffic_type": "ALL"}, refs={"vpc_id": v})
        b.create(
            "aws_vpc_endpoint",
            f"e{i}",
            {"service_name": f"com.amazonaws.{REGION}.s3"},
            refs={"vpc_id": v, "route_table_ids": f"aws_route_table.rt{i}"},
        )
        b.create(
            "aws_ec2_transit_gateway_vpc_attachment",
            f"t{i}",
            {"transit_gateway_id": live.transit_gateways[0].tgw_id},
            refs={"vpc_id": v, "subnet_ids": [f"aws_subnet.s{i}[0]"]},
        )
    return b.json()


def run(text: str, live: NetworkSnapshot, timings: dict[str, float]) -> tuple[Plan, PlanResult, int]:
    def timed(phase: str, fn: Callable[[], Any]) -> Any:
        t0 = time.perf_counter()
        value = fn()
        timings[phase] = min(timings.get(phase, float("inf")), time.perf_counter() - t0)
        return value

    plan: Plan = timed("read", lambda: load_plan(text))
    applied = timed("apply", lambda: apply_plan(live, plan, REGION))
    result: PlanResult = timed(
        "evaluate + diff", lambda: compare(plan, [live], [applied], Policy(), NOW, default_region=REGION)
    )
    size = len(timed("render json", lambda: render_json(result)))
    timed("render markdown", lambda: render_markdown(result))
    return plan, result, size


def main() -> None:
    text = build_plan(synthetic_snapshot(LIVE_VPCS, 10_000, 500))
    timings: dict[str, float] = {}
    for _ in range(3):
        live = synthetic_snapshot(LIVE_VPCS, 10_000, 500)  # fresh: joins are cached per snapshot
        plan, result, json_size = run(text, live, timings)
    live = synthetic_snapshot(LIVE_VPCS, 10_000, 500)
    tracemalloc.start()
    run(text, live, {})
    peak = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    resources = len(json.loads(text)["resource_changes"])
    print(f"plan: {resources} resources ({len(text) / 2**20:.1f} MiB JSON) against {LIVE_VPCS} live VPCs")
    print(
        f"introduced {len(result.introduced)}, resolved {len(result.resolved)}, unchanged {len(result.unchanged)}"
        f"; JSON report {json_size / 2**20:.1f} MiB"
    )
    header = f"{'phase':<18} {'s':>8}"
    print(header)
    print("-" * len(header))
    for phase, seconds in timings.items():
        print(f"{phase:<18} {seconds:>8.3f}")
    total = sum(timings.values())
    print(f"{'total':<18} {total:>8.3f}   (goal < 5 s)   peak {peak:.1f} MiB")
    assert plan.unknown == (), plan.unknown[:5]


if __name__ == "__main__":
    main()
