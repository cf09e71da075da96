"""Evaluation time and peak memory of every check on synthetic snapshots.

    .venv/bin/python -m bench.bench_evaluate   (or: make bench)

Time is the best of 3 runs on a fresh snapshot (joins are cached per snapshot, so each
run pays for them); memory is the tracemalloc peak of one more run, measured apart
because tracing slows Python down. The last column divides time by n log2 n (n = routes
+ derived TGW routes): roughly flat means the growth is n log n at worst."""

from __future__ import annotations

import datetime as dt
import math
import time
import tracemalloc

from bench.synthetic import synthetic_snapshot
from chalicelib.core.audit import evaluate
from chalicelib.core.policy import Policy

NOW = dt.datetime(2026, 11, 26, tzinfo=dt.UTC)
SIZES = [  # (VPCs, VPC routes, TGW attachments)
    (100, 1_000, 50),
    (1_000, 10_000, 500),
    (10_000, 100_000, 5_000),
]


def main() -> None:
    policy = Policy()
    header = (
        f"{'VPCs':>7} {'routes':>8} {'TGW att.':>8} {'TGW routes':>10} {'findings':>8}"
        f" {'eval s':>8} {'peak MiB':>9} {'us/(n log n)':>13}"
    )
    print(header)
    print("-" * len(header))
    for vpcs, routes, attachments in SIZES:
        times = []
        for _ in range(3):
            snapshot = synthetic_snapshot(vpcs, routes, attachments)
            t0 = time.perf_counter()
            result = evaluate(snapshot, policy, NOW)
            times.append(time.perf_counter() - t0)
        snapshot = synthetic_snapshot(vpcs, routes, attachments)
        tracemalloc.start()
        evaluate(snapshot, policy, NOW)
        peak = tracemalloc.get_traced_memory()[1] / 2**20
        tracemalloc.stop()
        vpc_routes = sum(len(t.routes) for t in snapshot.route_tables)
        tgw_routes = sum(len(r) for r in snapshot.tgw_routes.values())
        n = vpc_routes + tgw_routes
        per = min(times) / (n * math.log2(n)) * 1e6
        print(
            f"{vpcs:>7} {vpc_routes:>8} {attachments:>8} {tgw_routes:>10} {len(result.findings):>8}"
            f" {min(times):>8.3f} {peak:>9.1f} {per:>13.3f}"
        )


if __name__ == "__main__":
    main()
