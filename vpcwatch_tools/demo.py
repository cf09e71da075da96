"""``vpcwatch demo``: the lab story end to end on an embedded AWS emulator (moto,
in-process), no account needed.

It builds the lab, creates the service's table, topic and queue (as ``vpcwatch setup``
does) with an SQS queue subscribed to the topic to show what SNS delivers, runs the
pipeline (audit, store, notify), applies the lab's fix, delivers the matching CloudTrail
event to the ``on_network_change`` Lambda handler, and shows the finding resolved and
the notification sent. It writes an HTML report.

It sets ``VPCWATCH_EMULATOR=1`` (``chalicelib/aws/session.py``): the emulator has no Client VPN,
and under this opt-in its "not implemented" reads as no Client VPN endpoints instead of
an error, as nowhere else than against an emulator.
"""

from __future__ import annotations

import json
import os
import sys
import textwrap
import time
import warnings
from pathlib import Path
from typing import Any, TextIO

import boto3

from chalicelib.aws.session import EMULATOR_ENV, make_client

REGION = "us-east-1"
# Settings the demo sets for the service; everything else about AWS is cleared, so the
# emulator answers in-process and no real credentials are ever used.
CLEARED = ("AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_EC2", "AWS_ENDPOINT_URL_STS", "AWS_PROFILE", "POLICY")


def _drain(sqs: Any, queue_url: str) -> list[dict[str, Any]]:
    """The SNS messages delivered to the capture queue so far (their ``default`` JSON)."""
    messages: list[dict[str, Any]] = []
    while batch := sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10).get("Messages", []):
        for message in batch:
            messages.append(json.loads(json.loads(message["Body"])["Message"]))
            sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
    return messages


def _notification_lines(messages: list[dict[str, Any]]) -> list[str]:
    return [
        f"   SNS {m['type']:<17} {m['finding']['severity']:<7} {m['finding']['check']:<34} "
        f"{m['finding']['resource_id']}"
        for m in messages
    ]


class MissingExtraError(RuntimeError):
    """The demo's own dependencies (the ``demo`` extra) are not installed."""


# The emulator and the Chalice handlers: installed with `pip install 'vpcwatch[demo]'`
# (or requirements-dev.txt), never shipped in the Lambda zip.
DEMO_MODULES = ("moto", "chalice")


def require_demo_extra() -> None:
    import importlib.util

    missing = [name for name in DEMO_MODULES if importlib.util.find_spec(name) is None]
    if missing:
        raise MissingExtraError(
            f"vpcwatch demo needs {' and '.join(missing)}, which the demo extra installs: pip install 'vpcwatch[demo]'"
        )


def _lambda_handlers() -> Any:
    """app.py, the deployed handlers, as Lambda calls them: beside chalicelib/ in a checkout,
    else the copy the package ships (vpcwatch_tools/lambda_app.py is a link to it)."""
    root = Path(__file__).resolve().parents[1]
    if (root / ".chalice").is_dir() and (root / "app.py").is_file():  # a checkout of the Chalice project
        sys.path.insert(0, str(root))
        import app

        return app
    from vpcwatch_tools import lambda_app

    return lambda_app


INTENT = "private-subnets-reach-s3-privately"


def demo_policy(lab: Any) -> dict[str, Any]:
    """The lab's intent: app's private subnets reach S3 without crossing the internet."""
    return {
        "reachability": [
            {
                "name": INTENT,
                "from": {"subnets": "private", "vpc_ids": [lab.app_vpc]},
                "to": "s3",
                "port": 443,
                "expect": "private",
            }
        ]
    }


def _path(snapshots: Any, lab: Any) -> str:
    from chalicelib.core.paths import PathIndex
    from chalicelib.core.paths.text import render_path

    return render_path(PathIndex(snapshots).trace(lab.app_private_subnet, "s3", "tcp", 443))


def run_demo(out: TextIO, report: str = "vpcwatch-report.html") -> int:
    require_demo_extra()
    from moto import mock_aws

    from chalicelib.core.intents import parse_reachability
    from chalicelib.render.html import render as render_html
    from chalicelib.render.table import render
    from vpcwatch_tools.lab import apply_fix, build_lab, fix_event, remove_default_vpc
    from vpcwatch_tools.provision import provision

    for name in CLEARED:
        os.environ.pop(name, None)
    os.environ[EMULATOR_ENV] = "1"  # the emulator's missing Client VPN API is no Client VPN
    with mock_aws():
        session = boto3.session.Session(region_name=REGION)
        ec2 = make_client(session, "ec2", REGION)
        remove_default_vpc(ec2)
        lab = build_lab(ec2, make_client(session, "s3", REGION), REGION)
        out.write(
            f"== 1. The lab, built in the embedded emulator ({REGION})\n"
            f"   app    {lab.app_vpc} 10.0.0.0/16: private subnet {lab.app_private_subnet}\n"
            f"          with its own route table {lab.app_private_rtb}\n"
            f"   hub    {lab.hub_vpc} 10.1.0.0/16: peered with app ({lab.pcx_app_hub}) and legacy\n"
            f"   legacy {lab.legacy_vpc} 10.0.0.0/16: overlaps app; app and legacy on transit gateway {lab.tgw}\n\n"
        )

        env = provision(session, REGION)
        os.environ.update(env)
        # The demo's policy: one reachability intent (SPEC §2, §7), the lab's question.
        os.environ["POLICY"] = json.dumps(demo_policy(lab))
        sqs = make_client(session, "sqs", REGION)
        capture = sqs.create_queue(QueueName="demo-alerts-capture")["QueueUrl"]
        capture_arn = sqs.get_queue_attributes(QueueUrl=capture, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        make_client(session, "sns", REGION).subscribe(
            TopicArn=env["ALERTS_TOPIC_ARN"], Protocol="sqs", Endpoint=capture_arn
        )
        out.write(
            "== 2. The service's resources (`vpcwatch setup`), an SQS queue subscribed to the alerts topic\n"
            + textwrap.indent(json.dumps(env, indent=2), "   ")
            + "\n\n"
        )

        # Quiet the service's own JSON logs and EMF metrics: the demo narrates instead.
        os.environ.update(POWERTOOLS_LOG_LEVEL="WARNING", POWERTOOLS_METRICS_DISABLED="true")
        warnings.filterwarnings("ignore", category=UserWarning, module="aws_lambda_powertools")
        lambdas = _lambda_handlers()
        lambdas._service = None
        outcome = lambdas.service().audit_and_notify()
        opened = _drain(sqs, capture)
        out.write("== 3. Full audit, stored in DynamoDB, every new finding announced once on SNS\n")
        out.write(textwrap.indent(render(outcome.result), "   ") + "\n")
        out.write(f"   {len(opened)} notifications delivered:\n" + "\n".join(_notification_lines(opened)) + "\n\n")
        out.write(
            f"== 3b. `vpcwatch path --from {lab.app_private_subnet} --to s3` before the fix (intent {INTENT} is open)\n"
        )
        out.write(textwrap.indent(_path(outcome.result.snapshots, lab), "   ") + "\n")

        response = apply_fix(ec2, lab)
        endpoint = response["VpcEndpoint"]["VpcEndpointId"]
        event = fix_event(lab, response, outcome.result.account_id, "9d1c6a0e-demo-fix-0001")
        out.write(
            f"== 4. The fix: S3 gateway endpoint {endpoint} on {lab.app_private_rtb}; CloudTrail's "
            "CreateVpcEndpoint event goes to on_network_change\n"
        )
        t0 = time.perf_counter()
        answer = lambdas.on_network_change(event, None)
        latency = time.perf_counter() - t0
        resolved = _drain(sqs, capture)
        out.write(
            f"   re-audited {', '.join(answer['scope']['vpc_ids'])} only ({answer['reason']}); "
            f"event to SNS publish in {latency * 1000:.0f} ms\n"
        )
        out.write("\n".join(_notification_lines(resolved)) + "\n")
        if resolved:
            finding = resolved[0]["finding"]
            out.write(
                f"   {finding['id']} is {finding['status']} since {finding['resolved_at']}; "
                f"first seen {finding['first_seen']}\n"
            )
        replay = lambdas.on_network_change(event, None)
        again = _drain(sqs, capture)
        out.write(f"   the same event delivered again: {len(again)} notifications (idempotent: {replay == answer})\n\n")

        # The event re-judged the intents region-wide (a path may cross any VPC of the
        # region): the next sweep's full audit agrees and announces nothing more.
        after = lambdas.service().audit_and_notify()
        swept = _drain(sqs, capture)
        out.write(
            f"== 4b. `vpcwatch path --from {lab.app_private_subnet} --to s3` after the fix; the next sweep "
            f"(a full audit) announces {len(swept)} change(s): the event already re-judged the intents\n"
        )
        out.write(textwrap.indent(_path(after.result.snapshots, lab), "   ") + "\n")
        if swept:
            out.write("\n".join(_notification_lines(swept)) + "\n")
        out.write("\n")

        # The report of the full audit (before the fix): the topology with every finding drawn on it.
        before = outcome.result
        intents = parse_reachability(demo_policy(lab)["reachability"])
        page = render_html(before, title="vpcwatch lab report: the audit before the fix", intents=intents)
        Path(report).write_text(page, "utf-8")
        out.write(
            f"== 5. HTML report (topology of {before.resources()['vpcs']} VPCs, {len(before.findings)} findings) "
            f"written to {Path(report).resolve()}\n"
        )
    return 0
