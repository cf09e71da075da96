"""API calls, wall time and memory of a full one-region audit against a moto server,
by landscape size; and of a scoped audit of one VPC.

    .venv/bin/python -m bench.bench_collect   (or: make bench)

The call count must not grow with the number of VPCs beyond pagination (1000 items a
page): per-resource calls exist only for TGW route tables, endpoint services, Client VPN
endpoints and customer prefix lists, none of which this landscape multiplies."""

from __future__ import annotations

import os
import time
import tracemalloc

import boto3

from bench.landscape import build_landscape
from chalicelib.aws.collect.ec2 import collect_region
from chalicelib.aws.session import account_id, make_client
from chalicelib.core.audit import run_audit
from chalicelib.core.model import NetworkSnapshot
from chalicelib.core.policy import Policy
from vpcwatch_tools.devserver import moto_server, reset

REGION = "us-east-1"
SIZES = (10, 50, 200)


def audit(session: boto3.session.Session, account: str, vpc_ids: list[str]) -> tuple[int, float, float, int]:
    def collect(region: str) -> NetworkSnapshot:
        return collect_region(make_client(session, "ec2", region), account_id=account, region=region, vpc_ids=vpc_ids)

    tracemalloc.start()
    t0 = time.perf_counter()
    result = run_audit(collect, account_id=account, regions=[REGION], vpc_ids=vpc_ids, policy=Policy())
    wall = time.perf_counter() - t0
    peak = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    return result.api_calls, wall, peak, len(result.findings)


def main() -> None:
    os.environ.update(AWS_ACCESS_KEY_ID="bench", AWS_SECRET_ACCESS_KEY="bench", AWS_DEFAULT_REGION=REGION)
    header = f"{'VPCs':>5} {'subnets':>7} {'audit':>7} {'API calls':>9} {'wall s':>7} {'peak MiB':>8} {'findings':>8}"
    print(header)
    print("-" * len(header))
    with moto_server() as url:
        os.environ["AWS_ENDPOINT_URL"] = url
        session = boto3.session.Session(region_name=REGION)
        for size in SIZES:
            reset(url)
            ec2 = boto3.client("ec2", region_name=REGION)
            vpc_ids = build_landscape(ec2, REGION, size)
            subnets = len(ec2.describe_subnets()["Subnets"])
            account = account_id(session, REGION)
            for label, scope in (("full", []), ("1 VPC", vpc_ids[:1])):
                calls, wall, peak, findings = audit(session, account, scope)
                print(f"{size:>5} {subnets:>7} {label:>7} {calls:>9} {wall:>7.2f} {peak:>8.1f} {findings:>8}")


if __name__ == "__main__":
    main()
