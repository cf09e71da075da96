"""One audit: collect each region, evaluate every registered check, collate the result.

``evaluate`` is pure (snapshot + policy + clock -> findings); ``run_audit`` is the only
place that drives the collector, so the CLI, the Lambdas and the benchmarks share it.
"""

from __future__ import annotations

import datetime as dt
import re
import time
from collections.abc import Callable, Collection, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from typing import Any

from chalicelib.core.checks import REGISTRY, CheckSpec
from chalicelib.core.fixes import fix_for
from chalicelib.core.model import Finding, NetworkSnapshot, Violation, finding_id
from chalicelib.core.policy import Policy


@dataclass(frozen=True)
class NotEvaluated:
    check: str
    region: str
    missing: tuple[str, ...]  # the IAM actions whose data could not be collected

    def to_dict(self) -> dict[str, Any]:
        return {"check": self.check, "region": self.region, "missing": list(self.missing)}


@dataclass(frozen=True)
class Evaluation:
    findings: tuple[Finding, ...]
    suppressed: tuple[Finding, ...]
    not_evaluated: tuple[NotEvaluated, ...]


def iso(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


# Each partition's regions, as botocore's partitions.json describes them (regionRegex); the
# commercial partition is the default, as for a region not known yet.
_PARTITIONS = (
    ("aws-cn", re.compile(r"^cn-\w+-\d+$")),
    ("aws-us-gov", re.compile(r"^us-gov-\w+-\d+$")),
    ("aws-iso", re.compile(r"^us-iso-\w+-\d+$")),
    ("aws-iso-b", re.compile(r"^us-isob-\w+-\d+$")),
    ("aws-iso-e", re.compile(r"^eu-isoe-\w+-\d+$")),
    ("aws-iso-f", re.compile(r"^us-isof-\w+-\d+$")),
    ("aws-eusc", re.compile(r"^eusc-de-\w+-\d+$")),
)


def partition(region: str) -> str:
    """The partition of a region (so of the account audited there): aws, aws-cn, aws-us-gov, ..."""
    return next((name for name, pattern in _PARTITIONS if pattern.match(region)), "aws")


def resource_arn(spec: CheckSpec, region: str, account_id: str, resource_id: str) -> str:
    return f"arn:{partition(region)}:ec2:{region}:{account_id}:{spec.arn_kind}/{resource_id}"


def finding_key(spec: CheckSpec, evidence: Mapping[str, Any]) -> str | None:
    """What tells this finding apart from the check's others on the same resource (the
    spec's ``id_fields`` of the evidence), part of its id; None when there is none."""
    values = [evidence.get(name) for name in spec.id_fields]
    if all(value is None for value in values):
        return None
    return "|".join("" if value is None else str(value) for value in values)


def build_finding(
    spec: CheckSpec, violation: Violation, snapshot: NetworkSnapshot, policy: Policy, now: str
) -> Finding:
    service = finding_key(spec, violation.evidence)
    finding = Finding(
        id=finding_id(snapshot.account_id, snapshot.region, spec.id, violation.resource_id, service),
        check=spec.id,
        severity=policy.severity.get(spec.id, spec.severity),
        account_id=snapshot.account_id,
        region=snapshot.region,
        resource_type=spec.resource_type,
        resource_id=violation.resource_id,
        resource_arn=resource_arn(spec, snapshot.region, snapshot.account_id, violation.resource_id),
        vpc_id=violation.vpc_id,
        title=spec.title,
        detail=violation.detail,
        remediation="",
        evidence=dict(violation.evidence),
        first_seen=now,
        last_seen=now,
    )
    # The finding's own fix, with its real ids: '<console step> CLI: <commands>' (SPEC §3 keeps it a string).
    return replace(finding, remediation=fix_for(finding).remediation)


def evaluate(
    snapshot: NetworkSnapshot, policy: Policy, now: dt.datetime, checks: Collection[str] | None = None
) -> Evaluation:
    """Run every check (or those named in ``checks``) on one snapshot. A check whose data
    failed to collect is reported as not evaluated, never as passing; exempt findings
    are kept, as suppressed."""
    stamp = iso(now)
    findings: list[Finding] = []
    suppressed: list[Finding] = []
    not_evaluated: list[NotEvaluated] = []
    for spec in REGISTRY:
        if checks is not None and spec.id not in checks:
            continue
        missing = tuple(action for action in spec.needs if action in snapshot.failed_actions)
        if missing:
            not_evaluated.append(NotEvaluated(spec.id, snapshot.region, missing))
            continue
        subjects = spec.subjects(snapshot)
        for violation in spec.fn(snapshot, policy):
            if violation.resource_id not in subjects:
                continue  # neighbours are collected as context, not audited
            finding = build_finding(spec, violation, snapshot, policy, stamp)
            tags = snapshot.tags_by_resource.get(violation.resource_id, {})
            reason = policy.exemption_reason(spec.id, violation.resource_id, tags, now.date())
            if reason is None:
                findings.append(finding)
            else:
                suppressed.append(_suppress(finding, reason))
    return Evaluation(tuple(findings), tuple(suppressed), tuple(not_evaluated))


def _suppress(finding: Finding, reason: str) -> Finding:
    return replace(finding, status="SUPPRESSED", reason=reason)


# ---------------------------------------------------------------------------------
# The audit over regions
# ---------------------------------------------------------------------------------

RESOURCE_COUNTS = (
    ("vpcs", "vpcs"),
    ("subnets", "subnets"),
    ("route_tables", "route_tables"),
    ("flow_logs", "flow_logs"),
    ("vpc_endpoints", "vpc_endpoints"),
    ("endpoint_services", "endpoint_services"),
    ("peerings", "peerings"),
    ("transit_gateways", "transit_gateways"),
    ("tgw_route_tables", "tgw_route_tables"),
    ("client_vpn_endpoints", "client_vpn_endpoints"),
)


@dataclass(frozen=True)
class AuditResult:
    account_id: str
    regions: tuple[str, ...]
    scope_vpc_ids: tuple[str, ...]
    started_at: str
    duration_ms: int
    snapshots: tuple[NetworkSnapshot, ...]
    findings: tuple[Finding, ...]
    suppressed: tuple[Finding, ...]
    not_evaluated: tuple[NotEvaluated, ...]
    checks: tuple[str, ...] | None = None  # the checks run (None: all)

    @property
    def api_calls(self) -> int:
        return sum(s.api_calls for s in self.snapshots)

    @property
    def complete(self) -> bool:
        return not any(s.errors for s in self.snapshots)

    def resources(self) -> dict[str, int]:
        return {key: sum(len(getattr(s, attr)) for s in self.snapshots) for key, attr in RESOURCE_COUNTS}

    def to_dict(self) -> dict[str, Any]:
        """The JSON document of SPEC §3."""
        return {
            "audit": {
                "account_id": self.account_id,
                "regions": list(self.regions),
                "scope": {"vpc_ids": list(self.scope_vpc_ids)},
                "started_at": self.started_at,
                "duration_ms": self.duration_ms,
                "api_calls": self.api_calls,
                "resources": self.resources(),
                "errors": [
                    {"api": e.action, "region": e.region, "error": e.code, "message": e.message}
                    for s in self.snapshots
                    for e in s.errors
                ],
                "not_evaluated": [n.to_dict() for n in self.not_evaluated],
            },
            "findings": [f.to_dict() for f in self.findings],
            "suppressed": [f.to_dict() for f in self.suppressed],
        }


Collector = Callable[[str], NetworkSnapshot]  # region -> snapshot
Progress = Callable[[int, int, NetworkSnapshot], None]  # done, total, snapshot


def run_audit(
    collect: Collector,
    *,
    account_id: str,
    regions: Sequence[str],
    vpc_ids: Sequence[str] = (),
    policy: Policy,
    progress: Progress | None = None,
    checks: Collection[str] | None = None,
    clock: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC),
) -> AuditResult:
    """Collect the regions (in parallel: each is I/O-bound) and evaluate each snapshot."""
    started = clock()
    t0 = time.perf_counter()
    snapshots: list[NetworkSnapshot] = []
    with ThreadPoolExecutor(max_workers=min(8, max(1, len(regions)))) as pool:
        for done, snapshot in enumerate(pool.map(collect, regions), start=1):
            snapshots.append(snapshot)
            if progress is not None:
                progress(done, len(regions), snapshot)
    findings: list[Finding] = []
    suppressed: list[Finding] = []
    not_evaluated: list[NotEvaluated] = []
    for snapshot in snapshots:
        result = evaluate(snapshot, policy, started, checks)
        findings.extend(result.findings)
        suppressed.extend(result.suppressed)
        not_evaluated.extend(result.not_evaluated)
    order = _finding_order
    return AuditResult(
        account_id=account_id,
        regions=tuple(regions),
        scope_vpc_ids=tuple(vpc_ids),
        started_at=iso(started),
        duration_ms=int((time.perf_counter() - t0) * 1000),
        snapshots=tuple(snapshots),
        findings=tuple(sorted(findings, key=order)),
        suppressed=tuple(sorted(suppressed, key=order)),
        not_evaluated=tuple(not_evaluated),
        checks=None if checks is None else tuple(checks),
    )


def _finding_order(f: Finding) -> tuple[int, str, str, str, str, str]:
    return (-f.severity, f.check, f.region, f.resource_id, str(f.evidence.get("service", "")), f.id)
