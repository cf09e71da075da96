"""The cost of a sweep at rest: AWS requests and DynamoDB writes per (account, region) of
a first sweep (which opens every finding) and of the next one, when nothing has changed.
In-process moto (``mock_aws``), ``Service.sweep()`` auditing one pair at a time (as each
``audit_worker`` message does); requests counted with a botocore ``before-call`` handler on
the auditor's session and on every assumed member session (one per operation invocation).

    .venv/bin/python -m bench.bench_steady [--accounts 5]   (or: make bench)

Landscapes:
  org        ``--accounts`` accounts (the management account and members, assumed through
             the member role) x 3 regions, 2 VPCs each (no flow logs: 2 open findings a pair);
  7-VPC      one account, one region: the lab (SPEC §6) and 4 more VPCs without flow logs
             (19 open findings).

The store's writes are whatever the code does (issue 9's goal: no DynamoDB write, at most
3 reads and nothing beyond the EC2 collection for an unchanged region)."""

from __future__ import annotations

import argparse
import os
import sys
import warnings
from collections import Counter
from dataclasses import dataclass

import boto3

from bench.bench_sweep import HOME, REGIONS, ROLE, build_organization, serialize_moto
from bench.event_cost import Meter, by_service, dynamodb_writes

SERVICES = ("ec2", "dynamodb", "sns", "sqs", "sts", "organizations")


@dataclass
class Run:
    landscape: str
    sweep: str
    pairs: int
    changes: int
    requests: Counter[tuple[str, str]]


def sweep_twice(landscape: str, build: str, accounts: int) -> list[Run]:
    from moto import mock_aws

    from chalicelib.aws.session import make_client
    from chalicelib.aws.settings import Settings
    from chalicelib.service.pipelines import Service
    from vpcwatch_tools.lab import build_lab, remove_default_vpc
    from vpcwatch_tools.provision import provision

    runs = []
    with mock_aws():
        base = boto3.session.Session(region_name=HOME)
        if build == "org":
            regions: tuple[str, ...] = REGIONS
            build_organization(base, accounts, regions)
            member_role: str | None = ROLE
        else:
            regions = (HOME,)
            ec2 = make_client(base, "ec2", HOME)
            remove_default_vpc(ec2)
            build_lab(ec2, make_client(base, "s3", HOME), HOME)
            for n in range(4):
                ec2.create_vpc(CidrBlock=f"10.{20 + n}.0.0/16")
            member_role = None
        env = provision(base, HOME)
        meter = Meter()
        session = boto3.session.Session(region_name=HOME)
        meter.attach(session)  # before the service makes its clients
        settings = Settings(
            region=HOME,
            findings_table=env["FINDINGS_TABLE"],
            alerts_topic_arn=env["ALERTS_TOPIC_ARN"],
            audit_regions=regions,
            member_role_name=member_role,
            external_id="vpcwatch-bench" if member_role else None,
        )
        service = Service(settings, session=session, session_hook=meter.hook, concurrency=1)
        for label in ("first", "steady"):
            meter.take()
            summary = service.sweep()
            assert not summary["errors"], summary["errors"]
            runs.append(Run(landscape, label, summary["pairs"], summary["changes"], meter.take()))
    return runs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--accounts", type=int, default=5, help="accounts of the organization landscape")
    args = parser.parse_args()
    for name in ("AWS_ENDPOINT_URL", "AWS_PROFILE", "POLICY", "AWS_RETRY_MODE", "AWS_MAX_ATTEMPTS"):
        os.environ.pop(name, None)
    os.environ.update(
        AWS_ACCESS_KEY_ID="bench",
        AWS_SECRET_ACCESS_KEY="bench",
        AWS_DEFAULT_REGION=HOME,
        POWERTOOLS_LOG_LEVEL="WARNING",
        POWERTOOLS_METRICS_DISABLED="true",
    )
    warnings.filterwarnings("ignore")
    serialize_moto()
    runs = sweep_twice(f"org {args.accounts}x{len(REGIONS)}", "org", args.accounts)
    runs += sweep_twice("7-VPC region", "lab", 1)

    print("Sweeps, first and at rest (nothing changed); requests per (account, region) pair\n")
    header = (
        f"{'landscape':<14} {'sweep':<7} {'pairs':>5} {'changes':>7} {'req/pair':>8} {'EC2':>5} {'DDB':>5} "
        f"{'reads':>5} {'writes':>6} {'SNS':>5} {'SQS':>5} {'STS+Org /sweep':>14}"
    )
    print(header)
    print("-" * len(header))
    for run in runs:
        services = by_service(run.requests)
        writes = dynamodb_writes(run.requests)
        overhead = services["sts"] + services["organizations"]
        per_pair = (sum(services.values()) - overhead) / run.pairs

        def each(count: int, pairs: int = run.pairs) -> str:
            return f"{count / pairs:.1f}"

        print(
            f"{run.landscape:<14} {run.sweep:<7} {run.pairs:>5} {run.changes:>7} {per_pair:>8.1f} "
            f"{each(services['ec2']):>5} {each(services['dynamodb']):>5} {each(services['dynamodb'] - writes):>5} "
            f"{each(writes):>6} {each(services['sns']):>5} {each(services['sqs']):>5} {overhead:>14}"
        )
    other = {s for run in runs for s, _ in run.requests} - set(SERVICES)
    if other:
        print(f"\nother services: {sorted(other)}")
    steady = [run for run in runs if run.sweep == "steady"]
    print("\nat rest, DynamoDB requests by operation (all pairs):")
    for run in steady:
        ops = Counter({op: n for (service, op), n in run.requests.items() if service == "dynamodb"})
        print(f"  {run.landscape:<14} " + ", ".join(f"{op} {n}" for op, n in sorted(ops.items())))
    sys.stdout.flush()


if __name__ == "__main__":
    main()
