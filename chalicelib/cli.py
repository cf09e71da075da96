"""Command line: ``python -m chalicelib.cli audit|demo`` (also installed as ``vpcwatch``).

Exit codes (SPEC §3): 0 audit complete and nothing at or above --fail-on; 1 findings at
or above --fail-on; 2 usage error, no credentials, or data that could not be collected.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence
from typing import TextIO

from chalicelib.api import REGION_RE, VPC_ID_RE
from chalicelib.model import NetworkSnapshot, Severity

Progress = Callable[[int, int, NetworkSnapshot], None]

EXIT_OK, EXIT_FINDINGS, EXIT_ERROR = 0, 1, 2
FORMATS = ("table", "json", "markdown", "sarif", "asff", "html")


class UsageError(Exception):
    """Bad input or environment: one line on stderr, exit 2."""


def _region(value: str) -> str:
    if not REGION_RE.match(value):
        raise argparse.ArgumentTypeError(f"not a region name: {value!r}")
    return value


def _vpc_id(value: str) -> str:
    if not VPC_ID_RE.match(value):
        raise argparse.ArgumentTypeError(f"not a VPC id: {value!r}")
    return value


def _severity(value: str) -> Severity:
    try:
        return Severity.parse(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="vpcwatch", description="Continuous compliance auditing for AWS VPC networking"
    )
    commands = parser.add_subparsers(dest="command", required=True)
    audit = commands.add_parser("audit", help="audit the account's VPC networking")
    audit.add_argument("--region", action="append", type=_region, default=[], help="region to audit (repeatable)")
    audit.add_argument("--vpc-id", action="append", type=_vpc_id, default=[], help="scope to a VPC (repeatable)")
    audit.add_argument("--policy", metavar="FILE", help="policy file (YAML or JSON)")
    audit.add_argument("--format", choices=FORMATS, default="table")
    audit.add_argument("--output", metavar="FILE", help="write the report here instead of stdout")
    audit.add_argument("--fail-on", type=_severity, metavar="SEVERITY", help="exit 1 on findings at or above it")
    demo = commands.add_parser("demo", help="run the lab story on an embedded AWS emulator")
    demo.add_argument("--report", metavar="FILE", default="vpcwatch-report.html", help="where to write the HTML report")
    setup = commands.add_parser("setup", help="create the service's table, topic and queue at the current endpoint")
    setup.add_argument("--region", type=_region, help="region (default: the session's)")
    return parser


def _progress(stream: TextIO) -> Progress:
    def report(done: int, total: int, snapshot: NetworkSnapshot) -> None:
        if total > 1:
            stream.write(f"[{done}/{total}] {snapshot.region}: collected ({snapshot.api_calls} API calls)\n")
            stream.flush()

    return report


def run_audit_command(args: argparse.Namespace, stdout: TextIO, stderr: TextIO) -> int:
    import boto3
    from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError, NoRegionError

    from chalicelib.audit import run_audit
    from chalicelib.collect.ec2 import collect_region
    from chalicelib.collect.session import account_id, make_client
    from chalicelib.policy import Policy, PolicyError, load_policy_file
    from chalicelib.render import RENDERERS

    try:
        policy = load_policy_file(args.policy) if args.policy else Policy()
    except PolicyError as exc:
        raise UsageError(str(exc)) from None
    session = boto3.session.Session()
    regions = list(dict.fromkeys(args.region)) or ([session.region_name] if session.region_name else [])
    if not regions:
        raise UsageError("no region: pass --region or set AWS_REGION / AWS_DEFAULT_REGION")
    try:
        account = account_id(session, regions[0])
    except NoCredentialsError:
        raise UsageError(
            "no AWS credentials found (set AWS_PROFILE, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY)"
        ) from None
    except NoRegionError:
        raise UsageError("no region: pass --region or set AWS_REGION / AWS_DEFAULT_REGION") from None
    except ClientError as exc:
        error = exc.response.get("Error", {})
        raise UsageError(f"cannot identify the account (sts:GetCallerIdentity): {error.get('Code')}") from None
    except BotoCoreError as exc:
        raise UsageError(f"cannot reach AWS: {exc}") from None

    def collect(region: str) -> NetworkSnapshot:
        client = make_client(session, "ec2", region)
        return collect_region(client, account_id=account, region=region, vpc_ids=args.vpc_id)

    try:
        result = run_audit(
            collect,
            account_id=account,
            regions=regions,
            vpc_ids=args.vpc_id,
            policy=policy,
            progress=_progress(stderr),
        )
    except NoCredentialsError:
        raise UsageError("no AWS credentials found") from None
    text = RENDERERS[args.format](result)
    if args.output:
        with open(args.output, "w", encoding="utf-8") as handle:
            handle.write(text)
    else:
        stdout.write(text)
    if not result.complete:
        for snapshot in result.snapshots:
            for e in snapshot.errors:
                stderr.write(f"vpcwatch: could not collect {e.action} in {e.region}: {e.code}\n")
        return EXIT_ERROR
    if args.fail_on is not None and any(f.severity >= args.fail_on for f in result.findings):
        return EXIT_FINDINGS
    return EXIT_OK


def run_setup_command(args: argparse.Namespace, stdout: TextIO) -> int:
    import boto3
    from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError

    from chalicelib.provision import describe, provision

    session = boto3.session.Session()
    region = args.region or session.region_name
    if not region:
        raise UsageError("no region: pass --region or set AWS_REGION / AWS_DEFAULT_REGION")
    try:
        env = provision(session, region)
    except NoCredentialsError:
        raise UsageError("no AWS credentials found") from None
    except (ClientError, BotoCoreError) as exc:
        raise UsageError(f"setup failed: {exc}") from None
    stdout.write(describe(env) + "\n")
    return EXIT_OK


def main(argv: Sequence[str] | None = None, stdout: TextIO = sys.stdout, stderr: TextIO = sys.stderr) -> int:
    args = build_parser().parse_args(argv)
    try:
        if args.command == "audit":
            return run_audit_command(args, stdout, stderr)
        if args.command == "setup":
            return run_setup_command(args, stdout)
        from chalicelib.demo import run_demo

        return run_demo(stdout, args.report)
    except UsageError as exc:
        stderr.write(f"vpcwatch: {exc}\n")
        return EXIT_ERROR
    except BrokenPipeError:  # the reader went away (`| head`): not an error worth a traceback
        sys.stderr = open(os.devnull, "w")  # noqa: SIM115 - silence the flush at exit
        return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
