"""The service's reaction to one change, in-process against moto (mock_aws):
latency from the CloudTrail event reaching ``on_network_change`` to the SNS publish of
the state change, and the API calls one scoped re-audit makes (scope lookups included).

    .venv/bin/python -m bench.bench_service   (or: make bench)

The event is the lab's fix (CreateVpcEndpoint: resolves a finding) and its undoing
(DeleteVpcEndpoints: reopens it), alternated, so every event publishes one change."""

from __future__ import annotations

import os
import statistics
import sys
import time
import warnings
from collections import Counter
from pathlib import Path
from typing import Any

import boto3

REGION = "us-east-1"
ROUNDS = 10


def main() -> None:
    from moto import mock_aws

    from chalicelib.aws.session import make_client
    from vpcwatch_tools.lab import apply_fix, build_lab, cloudtrail_event, fix_event, remove_default_vpc
    from vpcwatch_tools.provision import provision

    for name in ("AWS_ENDPOINT_URL", "AWS_PROFILE", "POLICY"):
        os.environ.pop(name, None)
    os.environ.update(
        AWS_ACCESS_KEY_ID="bench",
        AWS_SECRET_ACCESS_KEY="bench",
        AWS_DEFAULT_REGION=REGION,
        POWERTOOLS_LOG_LEVEL="WARNING",
        POWERTOOLS_METRICS_DISABLED="true",
    )
    warnings.filterwarnings("ignore", category=UserWarning)
    with mock_aws():
        session = boto3.session.Session(region_name=REGION)
        ec2 = make_client(session, "ec2", REGION)
        remove_default_vpc(ec2)
        lab = build_lab(ec2, make_client(session, "s3", REGION), REGION)
        os.environ.update(provision(session, REGION))
        sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
        import app as lambdas

        lambdas._service = None
        service = lambdas.service()
        calls: Counter[str] = Counter()

        def count(model: Any, **kwargs: Any) -> None:
            calls[f"{model.service_model.service_name}:{model.name}"] += 1

        service.session.events.register("before-call", count)
        full = service.audit_and_notify()
        calls.clear()

        latencies: list[float] = []
        ec2_calls: list[int] = []
        published = 0
        for n in range(ROUNDS):
            if n % 2 == 0:
                response = apply_fix(ec2, lab)
                endpoint = response["VpcEndpoint"]["VpcEndpointId"]
                event = fix_event(lab, response, full.result.account_id, f"bench-{n}")
            else:
                ec2.delete_vpc_endpoints(VpcEndpointIds=[endpoint])
                event = cloudtrail_event(
                    "DeleteVpcEndpoints",
                    {"DeleteVpcEndpointsRequest": {"VpcEndpointId": {"tag": 1, "content": endpoint}}},
                    {"DeleteVpcEndpointsResponse": {"unsuccessful": ""}},
                    account_id=full.result.account_id,
                    region=REGION,
                    event_id=f"bench-{n}",
                )
            calls.clear()
            t0 = time.perf_counter()
            answer = lambdas.on_network_change(event, None)
            latencies.append(time.perf_counter() - t0)
            published += answer["published"]
            ec2_calls.append(sum(v for k, v in calls.items() if k.startswith("ec2:")))
            if n == 0:
                first = dict(calls)
    print(f"{'measure':<46} {'value':>12}")
    print("-" * 59)
    print(f"{'full audit of the lab: API calls (EC2)':<46} {full.result.api_calls:>12}")
    print(f"{'events delivered / state changes published':<46} {ROUNDS:>5} / {published:<5}")
    print(f"{'event -> SNS publish, median ms':<46} {statistics.median(latencies) * 1000:>12.0f}")
    print(f"{'event -> SNS publish, max ms':<46} {max(latencies) * 1000:>12.0f}")
    print(f"{'scoped re-audit: EC2 requests (median)':<46} {statistics.median(ec2_calls):>12.0f}")
    print("\nrequests of the first event's handling, by operation:")
    for name, value in sorted(first.items()):
        print(f"  {name:<52} {value:>4}")


if __name__ == "__main__":
    main()
