"""``vpcwatch plan PLAN_JSON``: read the plan, collect the live network of the regions it
touches (or start from the plan alone with ``--offline``), apply, compare, render.

Exit codes (SPEC §8): 0 nothing introduced at or above ``--fail-on`` (default HIGH);
1 an introduced finding at or above it; 2 an unreadable plan, an unsupported
format_version, a usage error or data that could not be collected.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import time
from concurrent.futures import ThreadPoolExecutor
from typing import TextIO

from chalicelib.core.model import NetworkSnapshot, Severity
from chalicelib.core.plan.reader import Plan

DEFAULT_FAIL_ON = Severity.HIGH


class PlanUsageError(Exception):
    """A plan that cannot be read, bad input or environment: one line on stderr, exit 2.
    (Its own class: ``python -m chalicelib.cli`` runs the CLI module as ``__main__``, so
    the CLI's ``UsageError`` imported from here would be another class.)"""


OFFLINE_ACCOUNT = "000000000000"  # when the plan names no account of its own


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser], region_type: type | object) -> None:
    from chalicelib.render.plan import PLAN_FORMATS

    plan = commands.add_parser("plan", help="audit a Terraform plan against the live network (SPEC §8)")
    plan.add_argument("plan_json", metavar="PLAN_JSON", help="output of `terraform show -json PLANFILE`")
    plan.add_argument(
        "--region",
        action="append",
        type=region_type,  # type: ignore[arg-type]
        default=[],
        help="region of resources whose provider names none (repeatable; default: the session's)",
    )
    plan.add_argument("--policy", metavar="FILE", help="policy file (YAML or JSON)")
    plan.add_argument("--offline", action="store_true", help="start from the plan alone, not the live network")
    plan.add_argument("--format", choices=PLAN_FORMATS, default="table")
    plan.add_argument("--output", metavar="FILE", help="write the report here instead of stdout")
    plan.add_argument("--fail-on", metavar="SEVERITY", help="exit 1 on introduced findings at or above it (HIGH)")


def run_plan_command(args: argparse.Namespace, stdout: TextIO, stderr: TextIO) -> int:
    from chalicelib.cli import UsageError

    try:
        return _run(args, stdout, stderr)
    except UsageError as exc:  # raised by the collection helpers shared with ``audit``
        raise PlanUsageError(str(exc)) from None


def _run(args: argparse.Namespace, stdout: TextIO, stderr: TextIO) -> int:
    from chalicelib.cli import NO_REGION
    from chalicelib.core.checks import CHECK_IDS
    from chalicelib.core.plan.apply import apply_plan, prior_snapshot
    from chalicelib.core.plan.diff import compare
    from chalicelib.core.plan.reader import PlanError, load_plan
    from chalicelib.core.policy import Policy, PolicyError, load_policy_file
    from chalicelib.render.plan import PLAN_RENDERERS

    try:
        fail_on = Severity.parse(args.fail_on) if args.fail_on else DEFAULT_FAIL_ON
    except ValueError as exc:
        raise PlanUsageError(str(exc)) from None
    try:
        with open(args.plan_json, encoding="utf-8") as handle:
            text = handle.read()
    except OSError as exc:
        raise PlanUsageError(f"cannot read {args.plan_json}: {exc.strerror or exc}") from None
    try:
        plan = load_plan(text)
    except PlanError as exc:
        raise PlanUsageError(f"{args.plan_json}: {exc}") from None
    try:
        policy = load_policy_file(args.policy, CHECK_IDS) if args.policy else Policy()
    except PolicyError as exc:
        raise PlanUsageError(str(exc)) from None

    started = time.perf_counter()
    now = dt.datetime.now(dt.UTC)
    defaults = list(dict.fromkeys(args.region))
    if args.offline:
        if not defaults:
            env_region = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION")
            defaults = [env_region] if env_region else []
        if not defaults and any(c.region is None for c in plan.changes):
            raise PlanUsageError(f"the plan does not say where some resources live: {NO_REGION}")
        regions = plan.regions(defaults)
        default = defaults[0] if defaults else regions[0]
        account = plan.account_id or OFFLINE_ACCOUNT
        before = [prior_snapshot(plan, account, region, default) for region in regions]
    else:
        before, default = _collect_live(plan, defaults, stderr)
    after = [apply_plan(snapshot, plan, default) for snapshot in before]
    result = compare(
        plan,
        before,
        after,
        policy,
        now,
        default_region=default,
        offline=args.offline,
        duration_ms=int((time.perf_counter() - started) * 1000),
    )
    text = PLAN_RENDERERS[args.format](result)
    from chalicelib.cli import write_output

    write_output(text, args.output, stdout)
    for snapshot in before:
        for e in snapshot.errors:
            stderr.write(f"vpcwatch: could not collect {e.action} in {e.region}: {e.code}\n")
    return result.exit_code(fail_on)


def _collect_live(plan: Plan, defaults: list[str], stderr: TextIO) -> tuple[list[NetworkSnapshot], str]:
    """The live snapshot of every region the plan touches, as ``audit`` collects it."""
    from botocore.exceptions import NoCredentialsError

    from chalicelib.aws.collect.ec2 import collect_region
    from chalicelib.aws.session import CREDENTIAL_EXCEPTIONS, make_client, new_session
    from chalicelib.cli import NO_REGION, _identify

    session = new_session()
    if not defaults and session.region_name:
        defaults = [session.region_name]
    if not defaults and any(c.region is None for c in plan.changes):
        raise PlanUsageError(NO_REGION)
    regions = list(plan.regions(defaults))
    if not regions:
        raise PlanUsageError(NO_REGION)
    account, _ = _identify(session, regions)

    def collect(region: str) -> NetworkSnapshot:
        return collect_region(make_client(session, "ec2", region), account_id=account, region=region)

    try:
        with ThreadPoolExecutor(max_workers=min(8, len(regions))) as pool:
            snapshots = list(pool.map(collect, regions))
    except NoCredentialsError:
        raise PlanUsageError("no AWS credentials found") from None
    except CREDENTIAL_EXCEPTIONS as exc:
        raise PlanUsageError(f"AWS credentials unusable: {exc}") from None
    return snapshots, defaults[0] if defaults else regions[0]
