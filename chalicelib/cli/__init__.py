"""Command line: ``python -m chalicelib.cli audit|plan|demo|setup`` (also installed as ``vpcwatch``).

Exit codes (SPEC §3): 0 audit complete and nothing at or above --fail-on; 1 findings at
or above --fail-on; 2 usage error, no credentials, or data that could not be collected.

The region: ``--region``, else ``AWS_REGION``, else ``AWS_DEFAULT_REGION``, else the
profile's. A region whose credentials are refused (a region not enabled for the account
answers ``AuthFailure``) is an error of that region (``audit.errors``, its checks not
evaluated, exit 2); the other regions' results are still reported. Credentials refused
in every region (sts:GetCallerIdentity) are one line on stderr, exit 2.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence
from typing import Any, TextIO

from chalicelib.core.ids import REGION_RE, VPC_ID_RE
from chalicelib.core.model import NetworkSnapshot, Severity

Progress = Callable[[int, int, NetworkSnapshot], None]

EXIT_OK, EXIT_FINDINGS, EXIT_ERROR = 0, 1, 2
FORMATS = ("table", "json", "markdown", "sarif", "asff", "html")


class UsageError(Exception):
    """Bad input or environment: one line on stderr, exit 2."""


def write_output(text: str, path: str | None, stdout: TextIO) -> None:
    """A report to ``--output``'s file, or to standard output."""
    if path:
        with open(path, "w", encoding="utf-8") as handle:
            handle.write(text)
    else:
        stdout.write(text)


def _region(value: str) -> str:
    if not REGION_RE.match(value):
        raise argparse.ArgumentTypeError(f"not a region name: {value!r}")
    return value


def _vpc_id(value: str) -> str:
    if not VPC_ID_RE.match(value):
        raise argparse.ArgumentTypeError(f"not a VPC id: {value!r}")
    return value


def _port(value: str) -> int:
    if not value.isdigit() or not 0 <= int(value) <= 65535:
        raise argparse.ArgumentTypeError(f"not a port: {value!r}")
    return int(value)


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
    path = commands.add_parser("path", help="trace a packet's path from a subnet (SPEC §7)")
    path.add_argument("--from", dest="source", required=True, metavar="SOURCE", help="subnet id, or an IP in a subnet")
    path.add_argument(
        "--to",
        dest="destination",
        required=True,
        metavar="DESTINATION",
        help="subnet id, IP, s3, dynamodb, internet or service:NAME",
    )
    path.add_argument("--protocol", choices=("tcp", "udp", "icmp", "all"), default="tcp")
    path.add_argument("--port", type=_port, default=443)
    path.add_argument("--region", action="append", type=_region, default=[], help="region to read (repeatable)")
    path.add_argument("--format", choices=("table", "json"), default="table")
    from chalicelib.cli.plan import add_parser as add_plan_parser

    add_plan_parser(commands, _region)
    setup = commands.add_parser("setup", help="create the service's table, topic and queue at the current endpoint")
    setup.add_argument("--region", type=_region, help="region (default: the session's)")
    return parser


def _progress(stream: TextIO) -> Progress:
    def report(done: int, total: int, snapshot: NetworkSnapshot) -> None:
        if total > 1:
            stream.write(f"[{done}/{total}] {snapshot.region}: collected ({snapshot.api_calls} API calls)\n")
            stream.flush()

    return report


NO_REGION = "no region: pass --region, or set AWS_REGION, AWS_DEFAULT_REGION or the profile's region"


def _identify(session: Any, regions: Sequence[str]) -> tuple[str, str]:
    """(account, region that answered): sts:GetCallerIdentity in each region in turn, so a
    region not enabled for the account (listed first) does not hide the others. Credentials
    refused everywhere, missing, or AWS unreachable: one line (``UsageError``)."""
    from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError, NoRegionError

    from chalicelib.aws.session import CREDENTIAL_EXCEPTIONS, account_id, error_code

    refused: list[str] = []
    for region in regions:
        try:
            return account_id(session, region), region
        except NoCredentialsError:
            raise UsageError(
                "no AWS credentials found (set AWS_PROFILE, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY)"
            ) from None
        except NoRegionError:
            raise UsageError(NO_REGION) from None
        except CREDENTIAL_EXCEPTIONS as exc:
            raise UsageError(f"AWS credentials unusable: {exc}") from None
        except ClientError as exc:
            refused.append(f"{region}: {error_code(exc)}")
        except BotoCoreError as exc:
            raise UsageError(f"cannot reach AWS: {exc}") from None
    raise UsageError(f"cannot identify the account (sts:GetCallerIdentity): {', '.join(refused)}")


def _region_unavailable(account: str, region: str, exc: Exception, home: Any) -> tuple[NetworkSnapshot, str]:
    """A region whose credentials were refused (``AuthFailure``: a region not enabled for
    the account answers so): the failed call as its error, and every other action the
    checks need as not attempted, so none of its checks is evaluated. ``home`` is an EC2
    client in a region that answered, to ask DescribeRegions whether it is enabled."""
    from chalicelib.aws.accounts import REGION_AMBIGUOUS_CODES, region_not_enabled
    from chalicelib.aws.session import error_code, error_message
    from chalicelib.core.checks import required_actions
    from chalicelib.core.model import CollectionError

    code, message = error_code(exc), error_message(exc)
    operation = getattr(exc, "operation_name", None)
    action = f"ec2:{operation}" if operation else "ec2"
    if code in REGION_AMBIGUOUS_CODES and region_not_enabled(home, region):
        message = f"region not enabled for this account (opt-in region, not opted in): {message}"
    first = CollectionError(action, region, code, message)
    rest = (
        CollectionError(other, region, code, f"not attempted: {action} failed with {code}")
        for other in sorted(required_actions())
        if other != action
    )
    line = f"vpcwatch: could not audit {region}: {action} failed with {code}: {message}\n"
    snapshot = NetworkSnapshot(account_id=account, region=region, errors=(first, *rest), api_calls=1)
    return snapshot, line


def run_audit_command(args: argparse.Namespace, stdout: TextIO, stderr: TextIO) -> int:
    from botocore.exceptions import ClientError, NoCredentialsError

    from chalicelib.aws.collect.ec2 import collect_region
    from chalicelib.aws.session import CREDENTIAL_EXCEPTIONS, is_credential_error, make_client, new_session
    from chalicelib.core.audit import run_audit
    from chalicelib.core.checks import CHECK_IDS
    from chalicelib.core.policy import Policy, PolicyError, load_policy_file
    from chalicelib.render import RENDERERS

    try:
        policy = load_policy_file(args.policy, CHECK_IDS) if args.policy else Policy()
    except PolicyError as exc:
        raise UsageError(str(exc)) from None
    session = new_session()  # --region, then AWS_REGION, AWS_DEFAULT_REGION, the profile's
    regions = list(dict.fromkeys(args.region)) or ([session.region_name] if session.region_name else [])
    if not regions:
        raise UsageError(NO_REGION)
    account, home = _identify(session, regions)
    unavailable: dict[str, str] = {}  # region -> the one line that says why

    def collect(region: str) -> NetworkSnapshot:
        client = make_client(session, "ec2", region)
        try:
            return collect_region(client, account_id=account, region=region, vpc_ids=args.vpc_id)
        except ClientError as exc:
            # Credentials refused in one region (a region not enabled for the account
            # answers AuthFailure): that region's error, the others' results still stand.
            if not is_credential_error(exc):
                raise
            snapshot, unavailable[region] = _region_unavailable(account, region, exc, make_client(session, "ec2", home))
            return snapshot

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
    except CREDENTIAL_EXCEPTIONS as exc:
        raise UsageError(f"AWS credentials unusable: {exc}") from None
    if args.format == "html":  # the report judges the policy's intents too (the result does not hold them)
        from chalicelib.render.html import render as render_html

        text = render_html(result, intents=policy.intents)
    else:
        text = RENDERERS[args.format](result)
    write_output(text, args.output, stdout)
    if not result.complete:
        for snapshot in result.snapshots:
            if snapshot.region in unavailable:
                stderr.write(unavailable[snapshot.region])
                continue
            for e in snapshot.errors:
                stderr.write(f"vpcwatch: could not collect {e.action} in {e.region}: {e.code}\n")
        return EXIT_ERROR
    if args.fail_on is not None and any(f.severity >= args.fail_on for f in result.findings):
        return EXIT_FINDINGS
    return EXIT_OK


def run_path_command(args: argparse.Namespace, stdout: TextIO, stderr: TextIO) -> int:
    """SPEC §7: exit 0 reachable, 1 unreachable or unknown, 2 usage or collection error.
    Reads only what paths need (the registry's ``PATH_NEEDS``), region-wide."""
    import json

    from botocore.exceptions import ClientError, NoCredentialsError

    from chalicelib.aws.collect.ec2 import collect_region
    from chalicelib.aws.session import CREDENTIAL_EXCEPTIONS, make_client, new_session
    from chalicelib.core.checks import PATH_NEEDS
    from chalicelib.core.paths import PathIndex, PathQueryError
    from chalicelib.core.paths.text import render_path

    session = new_session()
    regions = list(dict.fromkeys(args.region)) or ([session.region_name] if session.region_name else [])
    if not regions:
        raise UsageError(NO_REGION)
    account, _ = _identify(session, regions)
    snapshots = []
    try:
        for region in regions:
            client = make_client(session, "ec2", region)
            snapshots.append(collect_region(client, account_id=account, region=region, actions=PATH_NEEDS))
    except NoCredentialsError:
        raise UsageError("no AWS credentials found") from None
    except CREDENTIAL_EXCEPTIONS as exc:
        raise UsageError(f"AWS credentials unusable: {exc}") from None
    except ClientError as exc:  # only credential errors escape the collector
        raise UsageError(f"AWS credentials refused: {exc}") from None
    errors = [e for s in snapshots for e in s.errors]
    if errors:
        for e in errors:
            stderr.write(f"vpcwatch: could not collect {e.action} in {e.region}: {e.code}\n")
        return EXIT_ERROR
    try:
        result = PathIndex(snapshots).trace(args.source, args.destination, args.protocol, args.port)
    except PathQueryError as exc:
        raise UsageError(str(exc)) from None
    if args.format == "json":
        stdout.write(json.dumps(result.to_json(), indent=2) + "\n")
    else:
        stdout.write(render_path(result))
    return EXIT_OK if result.reachable else EXIT_FINDINGS


def run_setup_command(args: argparse.Namespace, stdout: TextIO) -> int:
    from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError

    from chalicelib.aws.session import new_session

    try:  # a dev tool: installed with the package, never in the Lambda zip
        from vpcwatch_tools.provision import describe, provision
    except ImportError:
        raise UsageError("vpcwatch setup is a development tool: pip install vpcwatch") from None

    session = new_session()
    region = args.region or session.region_name
    if not region:
        raise UsageError(NO_REGION)
    try:
        env = provision(session, region)
    except NoCredentialsError:
        raise UsageError("no AWS credentials found") from None
    except (ClientError, BotoCoreError) as exc:
        raise UsageError(f"setup failed: {exc}") from None
    stdout.write(describe(env) + "\n")
    return EXIT_OK


def run_demo_command(args: argparse.Namespace, stdout: TextIO) -> int:
    try:  # a dev tool: installed with the package, never in the Lambda zip
        from vpcwatch_tools.demo import MissingExtraError, run_demo
    except ImportError:
        raise UsageError("vpcwatch demo is a development tool: pip install 'vpcwatch[demo]'") from None
    try:
        return run_demo(stdout, args.report)
    except MissingExtraError as exc:
        raise UsageError(str(exc)) from None


def main(argv: Sequence[str] | None = None, stdout: TextIO = sys.stdout, stderr: TextIO = sys.stderr) -> int:
    args = build_parser().parse_args(argv)
    try:
        if args.command == "audit":
            return run_audit_command(args, stdout, stderr)
        if args.command == "setup":
            return run_setup_command(args, stdout)
        if args.command == "path":
            return run_path_command(args, stdout, stderr)
        if args.command == "plan":
            from chalicelib.cli.plan import PlanUsageError, run_plan_command

            try:
                return run_plan_command(args, stdout, stderr)
            except PlanUsageError as exc:
                raise UsageError(str(exc)) from None
        return run_demo_command(args, stdout)
    except UsageError as exc:
        stderr.write(f"vpcwatch: {exc}\n")
        return EXIT_ERROR
    except BrokenPipeError:  # the reader went away (`| head`): not an error worth a traceback
        sys.stderr = open(os.devnull, "w")  # noqa: SIM115 - silence the flush at exit
        return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
