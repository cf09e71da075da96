"""The sweep of an organization: 20 accounts x 3 regions in moto (in-process mock_aws),
each member assumed through STS, each (account, region) holding a couple of VPCs built
through that account's assumed session. Wall time and API requests of:

  serial      Service.sweep() in-process, one pair at a time
  pool(4)     Service.sweep() in-process, SWEEP_CONCURRENCY pairs at once
  sqs+N       Service.sweep() enqueues one message per pair on SQS (moto), then N worker
              threads drain the queue, each with its own Service (as N Lambda containers
              would: their own credential caches), calling Service.work on each batch

each twice: "first" opens every finding (store writes and SNS publishes), "steady" is the
next sweep, which changes nothing. Requests are counted with a botocore ``before-call``
handler on every session (the auditor's and each assumed one): one per operation
invocation, so one per page.

    .venv/bin/python -m bench.bench_sweep [--latency-ms 25] [--workers 8]

moto in-process answers in microseconds and one request at a time (its backends are not
thread-safe), so at 0 ms concurrency buys nothing; ``--latency-ms`` adds a sleep before
each request is sent (outside moto), as the network round trip to a regional endpoint
would, which is what the pool and the workers overlap.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import threading
import time
import warnings
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import boto3

ACCOUNTS = 20
REGIONS = ("us-east-1", "eu-west-1", "ap-southeast-2")
VPCS_PER_PAIR = 2
HOME = REGIONS[0]
ROLE = "vpcwatch-member"


@dataclass
class Run:
    mode: str
    sweep: str
    seconds: float
    requests: Counter[str]
    audited: int
    errors: int
    changes: int


class Meter:
    """Counts every request made through the sessions it is attached to, by service, and
    optionally sleeps before sending each, as a network round trip would."""

    def __init__(self, latency: float) -> None:
        self.latency = latency
        self.requests: Counter[str] = Counter()
        self._lock = threading.Lock()

    def attach(self, session: boto3.session.Session) -> None:
        session.events.register("before-call", self._count)
        if self.latency:
            session.events.register("before-send", self._wait)

    def hook(self, account: str, session: boto3.session.Session) -> None:
        self.attach(session)

    def _count(self, model: Any, **kwargs: Any) -> None:
        with self._lock:
            self.requests[model.service_model.service_name] += 1

    def _wait(self, **kwargs: Any) -> None:
        time.sleep(self.latency)

    def take(self) -> Counter[str]:
        with self._lock:
            taken, self.requests = self.requests, Counter()
        return taken


def serialize_moto() -> None:
    """moto's in-process backends are not thread-safe; AWS applies each request
    atomically. Answer one request at a time (vpcwatch's threads still race)."""
    from moto.core.botocore_stubber import BotocoreStubber

    lock = threading.RLock()
    answer = BotocoreStubber.__call__

    def serialized(self: BotocoreStubber, event_name: str, request: Any, **kwargs: Any) -> Any:
        with lock:
            return answer(self, event_name, request, **kwargs)

    BotocoreStubber.__call__ = serialized  # type: ignore[method-assign]


def build_organization(
    session: boto3.session.Session,
    accounts_wanted: int = ACCOUNTS,
    regions: tuple[str, ...] = REGIONS,
    vpcs_per_pair: int = VPCS_PER_PAIR,
) -> list[str]:
    """``accounts_wanted`` accounts (moto's management account and the others members), each
    with ``vpcs_per_pair`` private VPCs per region (default VPC removed), built as that
    account."""
    from chalicelib.aws.session import make_client
    from vpcwatch_tools.lab import remove_default_vpc

    organizations = make_client(session, "organizations", HOME)
    organizations.create_organization(FeatureSet="ALL")
    for n in range(accounts_wanted - 1):
        organizations.create_account(AccountName=f"member-{n}", Email=f"member-{n}@example.com")
    accounts = [a["Id"] for page in organizations.get_paginator("list_accounts").paginate() for a in page["Accounts"]]
    sts = make_client(session, "sts", HOME)
    for a, account in enumerate(accounts):
        creds = sts.assume_role(RoleArn=f"arn:aws:iam::{account}:role/{ROLE}", RoleSessionName="builder")
        member = boto3.session.Session(
            aws_access_key_id=creds["Credentials"]["AccessKeyId"],
            aws_secret_access_key=creds["Credentials"]["SecretAccessKey"],
            aws_session_token=creds["Credentials"]["SessionToken"],
        )
        for r, region in enumerate(regions):
            ec2 = make_client(member, "ec2", region)
            remove_default_vpc(ec2)
            for v in range(vpcs_per_pair):
                vpc = ec2.create_vpc(CidrBlock=f"10.{a}.{r * 16 + v}.0/24")["Vpc"]["VpcId"]
                ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.{a}.{r * 16 + v}.0/25", AvailabilityZone=f"{region}a")
    return accounts


def fresh_store(session: boto3.session.Session, env: dict[str, str]) -> None:
    """An empty findings table, so every mode does the same work (the queue is empty
    between modes: the workers drain it)."""
    from chalicelib.aws.session import make_client
    from vpcwatch_tools.provision import provision

    dynamodb = make_client(session, "dynamodb", HOME)
    dynamodb.delete_table(TableName=env["FINDINGS_TABLE"])
    provision(session, HOME)


def in_process(make_service: Callable[..., Any], concurrency: int) -> Callable[[], tuple[int, int, int]]:
    def sweep() -> tuple[int, int, int]:
        summary = make_service(queue=False, concurrency=concurrency).sweep()
        return summary["audited"], len(summary["errors"]), summary["changes"]

    return sweep


def through_sqs(
    make_service: Callable[..., Any], session: boto3.session.Session, queue_url: str, workers: int
) -> Callable[[], tuple[int, int, int]]:
    from chalicelib.aws.session import make_client

    def sweep() -> tuple[int, int, int]:
        enqueued = make_service(queue=True).sweep()
        assert enqueued["enqueued"] == enqueued["pairs"], enqueued
        audited = Counter[str]()
        lock = threading.Lock()

        def worker() -> None:
            service = make_service(queue=True)  # one Lambda container
            sqs = make_client(session, "sqs", HOME)
            while True:
                messages = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10).get("Messages", [])
                if not messages:
                    return
                result = service.work([json.loads(m["Body"]) for m in messages])
                sqs.delete_message_batch(
                    QueueUrl=queue_url,
                    Entries=[{"Id": str(n), "ReceiptHandle": m["ReceiptHandle"]} for n, m in enumerate(messages)],
                )
                with lock:
                    audited["pairs"] += len(result["audited"])
                    audited["errors"] += len(result["errors"])
                    audited["changes"] += result["changes"]

        threads = [threading.Thread(target=worker) for _ in range(workers)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        return audited["pairs"], audited["errors"], audited["changes"]

    return sweep


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--latency-ms", type=float, default=0.0, help="sleep before each request (network RTT)")
    parser.add_argument("--workers", type=int, default=8, help="worker threads draining the queue")
    args = parser.parse_args()

    from moto import mock_aws

    from chalicelib.aws.settings import Settings
    from chalicelib.service.base import SWEEP_CONCURRENCY
    from chalicelib.service.pipelines import Service
    from vpcwatch_tools.provision import provision

    for name in ("AWS_ENDPOINT_URL", "AWS_PROFILE", "POLICY", "AWS_RETRY_MODE", "AWS_MAX_ATTEMPTS"):
        os.environ.pop(name, None)
    os.environ.update(AWS_ACCESS_KEY_ID="bench", AWS_SECRET_ACCESS_KEY="bench", AWS_DEFAULT_REGION=HOME)
    warnings.filterwarnings("ignore")
    serialize_moto()
    with mock_aws():
        base = boto3.session.Session(region_name=HOME)
        t0 = time.perf_counter()
        accounts = build_organization(base)
        env = provision(base, HOME)
        setup = time.perf_counter() - t0
        meter = Meter(args.latency_ms / 1000)
        meter.attach(base)  # the workers' ReceiveMessage / DeleteMessageBatch (Lambda's poller, in AWS)

        def make_service(queue: bool, concurrency: int = SWEEP_CONCURRENCY) -> Service:
            session = boto3.session.Session(region_name=HOME)  # a Lambda container's own session
            meter.attach(session)
            settings = Settings(
                region=HOME,
                findings_table=env["FINDINGS_TABLE"],
                alerts_topic_arn=env["ALERTS_TOPIC_ARN"],
                audit_regions=REGIONS,
                member_role_name=ROLE,
                external_id="vpcwatch-bench",
                audit_queue_url=env["AUDIT_QUEUE_URL"] if queue else None,
            )
            return Service(settings, session=session, session_hook=meter.hook, concurrency=concurrency)

        modes = {
            "serial": in_process(make_service, 1),
            f"pool({SWEEP_CONCURRENCY})": in_process(make_service, SWEEP_CONCURRENCY),
            f"sqs+{args.workers} workers": through_sqs(make_service, base, env["AUDIT_QUEUE_URL"], args.workers),
        }
        runs: list[Run] = []
        for mode, sweep in modes.items():
            fresh_store(base, env)
            for label in ("first", "steady"):
                meter.take()
                t1 = time.perf_counter()
                audited, errors, changes = sweep()
                runs.append(Run(mode, label, time.perf_counter() - t1, meter.take(), audited, errors, changes))

    pairs = len(accounts) * len(REGIONS)
    print(
        f"sweep of {len(accounts)} accounts x {len(REGIONS)} regions = {pairs} pairs, {VPCS_PER_PAIR} VPCs each; "
        f"moto in-process, {args.latency_ms:g} ms simulated latency per request (setup {setup:.1f} s)\n"
    )
    services = ("ec2", "sts", "organizations", "dynamodb", "sns", "sqs")
    header = (
        f"{'mode':<16} {'sweep':<7} {'wall s':>7} {'pairs ok':>8} {'changes':>7} {'requests':>9} {'/pair':>6}  "
        + " ".join(f"{s[:6]:>6}" for s in services)
    )
    print(header)
    print("-" * len(header))
    for run in runs:
        total = sum(run.requests.values())
        by_service = " ".join(f"{run.requests.get(s, 0):>6}" for s in services)
        print(
            f"{run.mode:<16} {run.sweep:<7} {run.seconds:>7.2f} {run.audited:>8} {run.changes:>7} {total:>9} "
            f"{total / pairs:>6.1f}  "
            f"{by_service}"
        )
    other = {k for run in runs for k in run.requests} - set(services)
    if other:
        print(f"\nother services: {sorted(other)}")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
