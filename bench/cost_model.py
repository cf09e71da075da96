"""What vpcwatch costs a month, from measured requests and durations (README: *What it
costs*).

Measures one (account, region), the 7-VPC landscape of ``bench_steady`` (the lab and four
VPCs without flow logs: 19 open findings), in moto in-process with ``--latency-ms`` slept
before every request (the round trip to a regional endpoint, which is what a Lambda waits
for): the first sweep and the sweep at rest, each as one ``audit_worker`` message would run
it. Counted: requests by service, DynamoDB read and write units (from the item sizes each
request reads and writes: 1 RRU per 4 KB strongly consistent, half eventually consistent;
1 WRU per KB written to the table and to each index the item is in; transactions twice),
wall time, and the bytes logged. Then prices 1, 100 and 1,000 accounts across all
commercial regions at sweep intervals of 1 h (the default), 6 h and 24 h, with
``--findings`` open findings per (account, region) (their daily ``last_seen`` refresh is
what DynamoDB costs at rest; most regions of most accounts hold a default VPC or nothing).

    .venv/bin/python -m bench.cost_model [--latency-ms 30] [--regions 17] [--findings 5]

Prices are us-east-1 list prices (``PRICES``; check them against the current price pages);
free tiers are ignored, so small figures are upper bounds."""

from __future__ import annotations

import argparse
import json
import logging
import math
import os
import sys
import threading
import time
import warnings
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import boto3

HOME = "us-east-1"
HOURS_A_MONTH = 730
LAMBDA_GB = 1.0  # .chalice/config.json lambda_memory_size 1024
PRICES = {
    "lambda_request": 0.20e-6,
    "lambda_gb_second": 0.0000166667,  # x86
    "sqs_request": 0.40e-6,  # standard queue
    "ddb_rru": 0.125e-6,  # on-demand
    "ddb_wru": 0.625e-6,
    "sns_publish": 0.50e-6,
    "logs_gb": 0.50,  # CloudWatch Logs ingestion
    "eventbridge_cross_account": 0.05e-6,  # a member account's event delivered to the auditor's bus
}


def _size(value: Any) -> int:
    """DynamoDB's size of an attribute map, closely enough: names and values as JSON
    (binary values by their length)."""
    return len(json.dumps(value, separators=(",", ":"), default=lambda blob: "x" * len(blob)))


LAMBDA_LOG_LINES = 300  # START, END and REPORT lines Lambda writes for every invocation
JSON_LOG_FIELDS = 250  # what Powertools' JSON adds to each message (level, time, service, ids)


class LogMeter(logging.Handler):
    """The bytes vpcwatch would log as Powertools JSON lines at INFO."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.bytes = 0

    def emit(self, record: logging.LogRecord) -> None:
        self.bytes += len(record.getMessage().encode()) + JSON_LOG_FIELDS


def _units(size: int, per: int) -> int:
    return max(1, math.ceil(size / per))


@dataclass
class Meter:
    """Requests by service, DynamoDB units, and a sleep before each request."""

    latency: float
    indexes: dict[str, tuple[str, str | None]]
    requests: Counter[str] = field(default_factory=Counter)
    rru: float = 0.0
    wru: float = 0.0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def attach(self, session: boto3.session.Session) -> None:
        session.events.register("before-call", self._count)
        session.events.register("before-parameter-build.dynamodb", self._write_units)
        session.events.register("after-call.dynamodb", self._read_units)
        if self.latency:
            session.events.register("before-send", lambda **_: time.sleep(self.latency))

    def hook(self, account: str, session: boto3.session.Session) -> None:
        self.attach(session)

    def _item_wru(self, item: dict[str, Any], transactional: bool) -> float:
        copies = 1 + sum(1 for partition, _ in self.indexes.values() if partition in item)
        return _units(_size(item), 1024) * copies * (2 if transactional else 1)

    def _count(self, model: Any, **_: Any) -> None:
        with self._lock:
            self.requests[model.service_model.service_name] += 1

    def _write_units(self, model: Any, params: dict[str, Any], **_: Any) -> None:
        with self._lock:
            name = model.name
            if name == "PutItem":
                self.wru += self._item_wru(params["Item"], False)
            elif name == "UpdateItem":
                self.wru += 1 + len(self.indexes)  # small outbox items: a KB and their indexes
            elif name == "TransactWriteItems":
                for action in params["TransactItems"]:
                    if "Put" in action:
                        self.wru += self._item_wru(action["Put"]["Item"], True)
                    else:
                        self.wru += 2 * (1 + len(self.indexes))

    def _read_units(self, model: Any, parsed: dict[str, Any], **_: Any) -> None:
        if model.name not in ("Query", "GetItem", "BatchGetItem"):
            return
        if model.name == "Query":
            size, per = sum(_size(i) for i in parsed.get("Items", [])), 8192  # an index: eventually consistent
        elif model.name == "GetItem":
            size, per = _size(parsed.get("Item", {})), 4096
        else:
            size, per = sum(_size(i) for items in parsed.get("Responses", {}).values() for i in items), 4096
        with self._lock:
            self.rru += _units(size, per)

    def take(self) -> tuple[Counter[str], float, float]:
        with self._lock:
            taken = (self.requests, self.rru, self.wru)
            self.requests, self.rru, self.wru = Counter(), 0.0, 0.0
        return taken


@dataclass(frozen=True)
class PairRun:
    """One (account, region) audited once, as one ``audit_worker`` message."""

    sweep: str
    seconds: float
    requests: Counter[str]
    rru: float
    wru: float
    log_bytes: int
    changes: int


def measure(latency: float) -> list[PairRun]:
    from moto import mock_aws

    from bench.bench_sweep import serialize_moto
    from chalicelib.aws.session import make_client
    from chalicelib.aws.settings import Settings
    from chalicelib.aws.store.table import INDEXES
    from chalicelib.service.pipelines import Service
    from vpcwatch_tools.lab import build_lab, remove_default_vpc
    from vpcwatch_tools.provision import provision

    serialize_moto()
    runs = []
    with mock_aws():
        base = boto3.session.Session(region_name=HOME)
        ec2 = make_client(base, "ec2", HOME)
        remove_default_vpc(ec2)
        build_lab(ec2, make_client(base, "s3", HOME), HOME)
        for n in range(4):
            ec2.create_vpc(CidrBlock=f"10.{20 + n}.0.0/16")
        env = provision(base, HOME)
        meter = Meter(latency, dict(INDEXES))
        session = boto3.session.Session(region_name=HOME)
        meter.attach(session)
        settings = Settings(
            region=HOME,
            findings_table=env["FINDINGS_TABLE"],
            alerts_topic_arn=env["ALERTS_TOPIC_ARN"],
            audit_regions=(HOME,),
        )
        service = Service(settings, session=session, session_hook=meter.hook)
        logs = LogMeter()
        vpcwatch_log = logging.getLogger("vpcwatch")
        vpcwatch_log.addHandler(logs)
        vpcwatch_log.setLevel(logging.INFO)
        for label in ("first", "at rest"):
            meter.take()
            logs.bytes = LAMBDA_LOG_LINES
            started = time.perf_counter()
            summary = service.sweep()
            seconds = time.perf_counter() - started
            assert not summary["errors"], summary["errors"]
            requests, rru, wru = meter.take()
            runs.append(PairRun(label, seconds, requests, rru, wru, logs.bytes, summary["changes"]))
    return runs


def monthly(rest: PairRun, pairs: int, interval_h: float, findings: int, finding_wru: float) -> dict[str, float]:
    """Dollars a month for ``pairs`` (account, region) pairs swept every ``interval_h``
    hours with nothing changing (the cost at rest), per service."""
    sweeps = HOURS_A_MONTH / interval_h * pairs  # audit_worker messages a month
    sweep_runs = HOURS_A_MONTH / interval_h  # scheduled_sweep invocations
    p = PRICES
    lambda_cost = (sweeps + sweep_runs) * p["lambda_request"] + sweeps * rest.seconds * LAMBDA_GB * p[
        "lambda_gb_second"
    ]
    # Per message: a tenth of a SendMessageBatch, the event source's receive and its delete.
    sqs_cost = sweeps * (0.1 + 1 + 1) * p["sqs_request"]
    refresh_wru = findings * finding_wru * 30 * pairs  # last_seen, once a day per open finding
    ddb_cost = sweeps * rest.rru * p["ddb_rru"] + (sweeps * rest.wru + refresh_wru) * p["ddb_wru"]
    logs_cost = sweeps * rest.log_bytes / 1e9 * p["logs_gb"]
    return {
        "Lambda": lambda_cost,
        "SQS": sqs_cost,
        "DynamoDB": ddb_cost,
        "SNS": 0.0,  # nothing changes: nothing is published
        "EventBridge": 0.0,  # schedules and AWS management events on the default bus are free
        "Logs": logs_cost,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--latency-ms", type=float, default=30.0, help="sleep before each request (network RTT)")
    parser.add_argument("--regions", type=int, default=17, help="regions per account")
    parser.add_argument("--findings", type=int, default=5, help="open findings per (account, region)")
    args = parser.parse_args()
    for name in ("AWS_ENDPOINT_URL", "AWS_PROFILE", "POLICY", "AWS_RETRY_MODE", "AWS_MAX_ATTEMPTS"):
        os.environ.pop(name, None)
    os.environ.update(
        AWS_ACCESS_KEY_ID="bench",
        AWS_SECRET_ACCESS_KEY="bench",
        AWS_DEFAULT_REGION=HOME,
        POWERTOOLS_LOG_LEVEL="INFO",
        POWERTOOLS_METRICS_DISABLED="true",
    )
    warnings.filterwarnings("ignore")
    first, rest = measure(args.latency_ms / 1000)
    print(f"One (account, region), 7-VPC landscape, {args.latency_ms:g} ms per request (moto in-process)\n")
    columns = ("changes", "seconds", "EC2", "DDB", "RRU", "WRU", "SNS", "log KB")
    print(f"{'sweep':<8} " + " ".join(f"{c:>7}" for c in columns))
    for run in (first, rest):
        r = run.requests
        print(
            f"{run.sweep:<8} {run.changes:>7} {run.seconds:>7.2f} {r['ec2']:>7} {r['dynamodb']:>7} "
            f"{run.rru:>7.1f} {run.wru:>7.1f} {r['sns']:>7} {run.log_bytes / 1024:>7.1f}"
        )
    # A finding's daily refresh: one transactional put of the item, as the first sweep wrote
    # it, without its outbox entry (about half of what an opening writes).
    finding_wru = first.wru / max(first.changes, 1) / 2
    print(
        f"\nper open finding, daily last_seen refresh: {finding_wru:.0f} WRU; open findings per pair: {args.findings}"
    )
    services = ("Lambda", "SQS", "DynamoDB", "SNS", "EventBridge", "Logs")
    print(f"\nDollars a month at rest, {args.regions} regions per account (us-east-1 list prices, no free tier)\n")
    print(f"{'accounts':>8} {'interval':>8} " + " ".join(f"{s:>11}" for s in services) + f" {'total':>10}")
    for accounts in (1, 100, 1000):
        for interval in (1, 6, 24):
            cost = monthly(rest, accounts * args.regions, interval, args.findings, finding_wru)
            print(
                f"{accounts:>8} {interval:>7}h "
                + " ".join(f"{cost[s]:>11.2f}" for s in services)
                + f" {sum(cost.values()):>10.2f}"
            )
    sys.stdout.flush()


if __name__ == "__main__":
    main()
