"""Requests of a full one-region audit of 55 VPCs whose transit gateway has 5 route tables
(issue 9: at most 30), by operation, against a moto server; of scoped audits of one VPC
(attached to the gateway, and not attached), with wall time and peak memory; and of
``vpcwatch path`` on the same landscape (issue 11: no more than the full audit), which
collects what the path engine needs (the registry's ``PATH_NEEDS``) and traces one pair.

    .venv/bin/python -m bench.bench_full_audit   (or: make bench)

The landscape is ``bench.landscape`` (14 of the VPCs attached: every attachment associated
with the default table, each propagating into one of 4 segment tables). Requests are
counted with a botocore ``before-call`` handler: one per operation invocation, so one per
page; moto answers every call in one page."""

from __future__ import annotations

import os
import time
import tracemalloc
from collections import Counter

import boto3

from bench.landscape import build_landscape
from chalicelib.aws.collect.ec2 import collect_region
from chalicelib.aws.session import CallCounter, account_id, make_client
from chalicelib.core.audit import run_audit
from chalicelib.core.model import NetworkSnapshot
from chalicelib.core.policy import Policy
from vpcwatch_tools.devserver import moto_server, reset

REGION = "us-east-1"
VPCS, TGW_TABLES = 55, 5
BUDGET = 30


def audit(session: boto3.session.Session, account: str, vpc_ids: list[str]) -> tuple[Counter[str], float, float, int]:
    ec2 = make_client(session, "ec2", REGION)

    def collect(region: str) -> NetworkSnapshot:
        return collect_region(ec2, account_id=account, region=region, vpc_ids=vpc_ids)

    tracemalloc.start()
    t0 = time.perf_counter()
    with CallCounter(ec2) as counter:
        result = run_audit(collect, account_id=account, regions=[REGION], vpc_ids=vpc_ids, policy=Policy())
    wall = time.perf_counter() - t0
    peak = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    assert result.api_calls == counter.total, (result.api_calls, counter.total)
    return counter.by_operation, wall, peak, len(result.findings)


def path_query(session: boto3.session.Session, account: str, source: str) -> tuple[Counter[str], float, float, int]:
    """What ``vpcwatch path --from SOURCE --to s3`` does: the lean collection, then a trace."""
    from chalicelib.core.checks import PATH_NEEDS
    from chalicelib.core.paths import PathIndex

    ec2 = make_client(session, "ec2", REGION)
    tracemalloc.start()
    t0 = time.perf_counter()
    with CallCounter(ec2) as counter:
        snapshot = collect_region(ec2, account_id=account, region=REGION, actions=PATH_NEEDS)
    result = PathIndex([snapshot]).trace(source, "s3")
    wall = time.perf_counter() - t0
    peak = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    return counter.by_operation, wall, peak, len(result.hops)


def main() -> None:
    os.environ.update(AWS_ACCESS_KEY_ID="bench", AWS_SECRET_ACCESS_KEY="bench", AWS_DEFAULT_REGION=REGION)
    with moto_server() as url:
        reset(url)
        os.environ["AWS_ENDPOINT_URL"] = url
        session = boto3.session.Session(region_name=REGION)
        vpc_ids = build_landscape(boto3.client("ec2", region_name=REGION), REGION, VPCS, tgw_tables=TGW_TABLES)
        account = account_id(session, REGION)
        audits = {
            "full": [],
            "1 VPC, attached": vpc_ids[:1],  # bench.landscape attaches every 4th VPC
            "1 VPC, not attached": vpc_ids[1:2],
        }
        runs = {label: audit(session, account, scope) for label, scope in audits.items()}
        subnet = boto3.client("ec2", region_name=REGION).describe_subnets(
            Filters=[{"Name": "vpc-id", "Values": vpc_ids[:1]}]
        )["Subnets"][0]["SubnetId"]
        runs["path (subnet -> s3)"] = path_query(session, account, subnet)

    print(f"{VPCS} VPCs, a transit gateway with {TGW_TABLES} route tables; moto server, one region\n")
    header = f"{'audit':<20} {'API calls':>9} {'wall s':>7} {'peak MiB':>8} {'findings':>8}  (path: hops)"
    print(header)
    print("-" * len(header))
    for label, (calls, wall, peak, findings) in runs.items():
        print(f"{label:<20} {sum(calls.values()):>9} {wall:>7.2f} {peak:>8.1f} {findings:>8}")
    full = sum(runs["full"][0].values())
    print(f"\nfull audit: {full} requests (goal: at most {BUDGET}) {'OK' if full <= BUDGET else 'OVER BUDGET'}")
    path = sum(runs["path (subnet -> s3)"][0].values())
    print(f"vpcwatch path: {path} requests (goal: no more than the full audit's) {'OK' if path <= full else 'OVER'}\n")

    operations = sorted({op for calls, *_ in runs.values() for op in calls})
    header = f"{'requests by operation':<44} " + " ".join(f"{label[:20]:>20}" for label in runs)
    print(header)
    print("-" * len(header))
    for op in operations:
        print(f"{op:<44} " + " ".join(f"{runs[label][0].get(op, 0):>20}" for label in runs))


if __name__ == "__main__":
    main()
