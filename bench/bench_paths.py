"""Path queries on synthetic snapshots (bench/synthetic.py): one index build, then 10,000
queries: 8 in 10 from a private subnet to a subnet of a VPC its table routes to (through
the TGW, a peering, or locally; the synthetic routes are one-way, so most replies find no
route back, which the engine traces too), 1 in 10 to s3, 1 in 10 to the internet.

    .venv/bin/python -m bench.bench_paths   (or: make bench)

Then the routes-return-path check over the whole snapshot (every forward route through a
peering or the TGW traced back; "return s"), the TGW's 4 route tables each carrying every
attachment's propagation.

Build is PathIndex(...) (the global subnet index; route tables are indexed on first
use, which the queries pay for); memory is the tracemalloc peak of one more run."""

from __future__ import annotations

import datetime as dt
import random
import time
import tracemalloc

from bench.synthetic import synthetic_snapshot
from chalicelib.core.audit import evaluate
from chalicelib.core.model import NetworkSnapshot
from chalicelib.core.paths import PathIndex
from chalicelib.core.policy import Policy

QUERIES = 10_000
SIZES = [  # VPCs, VPC routes, TGW attachments, private route tables per VPC
    (1_000, 10_000, 500, 1),  # 2,000 route tables
    (1_000, 50_000, 500, 9),  # 10,000 route tables
    (5_000, 50_000, 2_500, 1),  # 10,000 route tables, 5 times the VPCs
]
NOW = dt.datetime(2026, 11, 30, tzinfo=dt.UTC)


def queries(snapshot: NetworkSnapshot, count: int) -> list[tuple[str, str]]:
    rng = random.Random(7)
    private = [t for t in snapshot.route_tables if t.subnet_ids and len(t.routes) > 1]
    first_subnet = {s.vpc_id: s for s in reversed(snapshot.subnets)}
    vpc_of_cidr = {c: v.vpc_id for v in snapshot.vpcs for c in v.cidrs}
    asked = []
    for i in range(count):
        table = rng.choice(private)
        source = table.subnet_ids[0]
        if i % 10 == 0:
            asked.append((source, "s3" if i % 20 else "internet"))
            continue
        route = rng.choice(table.routes)
        asked.append((source, first_subnet[vpc_of_cidr[route.destination]].subnet_id))
    return asked


def run(snapshot: NetworkSnapshot, asked: list[tuple[str, str]]) -> tuple[float, float, dict[str, int]]:
    t0 = time.perf_counter()
    index = PathIndex([snapshot])
    built = time.perf_counter() - t0
    verdicts: dict[str, int] = {}
    for source, destination in asked:
        verdict = index.trace(source, destination).verdict
        verdicts[verdict] = verdicts.get(verdict, 0) + 1
    return built, time.perf_counter() - t0, verdicts


def main() -> None:
    header = (
        f"{'VPCs':>6} {'route tables':>12} {'routes':>7} {'queries':>8} {'build s':>8} {'total s':>8}"
        f" {'us/query':>9} {'peak MiB':>9} {'return s':>9} {'findings':>8}  verdicts"
    )
    print(header)
    print("-" * len(header))
    for vpcs, routes, attachments, private_tables in SIZES:
        snapshot = synthetic_snapshot(vpcs, routes, attachments, private_tables=private_tables)
        asked = queries(snapshot, QUERIES)
        built, total, verdicts = run(snapshot, asked)
        tracemalloc.start()
        run(synthetic_snapshot(vpcs, routes, attachments, private_tables=private_tables), asked)
        peak = tracemalloc.get_traced_memory()[1] / 2**20
        tracemalloc.stop()
        fresh = synthetic_snapshot(vpcs, routes, attachments, private_tables=private_tables)
        t0 = time.perf_counter()
        returns = evaluate(fresh, Policy(), NOW, checks=("routes-return-path",)).findings
        return_seconds = time.perf_counter() - t0
        n_routes = sum(len(t.routes) for t in snapshot.route_tables)
        per = (total - built) / len(asked) * 1e6
        counts = ", ".join(f"{k} {v}" for k, v in sorted(verdicts.items()))
        print(
            f"{vpcs:>6} {len(snapshot.route_tables):>12} {n_routes:>7} {len(asked):>8} {built:>8.3f} {total:>8.3f}"
            f" {per:>9.1f} {peak:>9.1f} {return_seconds:>9.2f} {len(returns):>8}  {counts}"
        )


if __name__ == "__main__":
    main()
