"""Runs the full, the scoped (event-driven) and the region-wide lean audit of one scenario
through the real collector on the fake EC2 world, and lists where they disagree."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from typing import Any

from chalicelib.aws.collect.ec2 import collect_region
from chalicelib.core.audit import Evaluation, evaluate
from chalicelib.core.lifecycle import Coverage
from chalicelib.core.model import Finding, NetworkSnapshot
from chalicelib.core.policy import Policy
from tests.fakeec2 import ACCOUNT, REGION, FakeEc2
from tests.property.strategies import Scenario

NOW = dt.datetime(2026, 11, 26, 3, 0, tzinfo=dt.UTC)

# What must be equal between two audits' findings with the same id (first_seen and
# last_seen are the audit's clock, title and remediation the check's metadata).
COMPARED = (
    "id",
    "check",
    "severity",
    "resource_id",
    "vpc_id",
    "detail",
    "evidence",
    "resource_arn",
    "status",
    "reason",
)


def comparable(finding: Finding) -> dict[str, Any]:
    data = {name: getattr(finding, name) for name in COMPARED}
    data["severity"] = finding.severity.name
    data["evidence"] = json.loads(json.dumps(dict(finding.evidence), sort_keys=True, default=str))
    return data


def short(finding: Finding) -> str:
    state = "" if finding.status == "OPEN" else f" [{finding.status}]"
    return f"{finding.check} {finding.resource_id} (vpc {finding.vpc_id}){state}"


@dataclass
class Audit:
    snapshot: NetworkSnapshot
    evaluation: Evaluation

    @property
    def all_findings(self) -> list[Finding]:
        return [*self.evaluation.findings, *self.evaluation.suppressed]


def run_audit(
    ec2: Any,
    policy: Policy,
    *,
    vpc_ids: tuple[str, ...] = (),
    checks: Collection[str] | None = None,
    page_size: int | None = None,
) -> Audit:
    """Collects with the real collector through ``ec2`` (a fake-backed client) and evaluates."""
    snapshot = collect_region(
        ec2, account_id=ACCOUNT, region=REGION, vpc_ids=vpc_ids, checks=checks, page_size=page_size
    )
    return Audit(snapshot, evaluate(snapshot, policy, NOW, checks))


Kind = tuple[str, str]  # (what, check or call): one kind of disagreement


@dataclass
class Differences:
    """Where the scoped and region-wide lean audits part from the full audit."""

    scenario: Scenario
    problems: list[str] = field(default_factory=list)  # the fake refused something, or the full audit failed
    # (audit, IAM action, error code, message): calls of the scoped / lean collections that EC2
    # answered with an error, on a world the full audit reads without one
    errors: list[tuple[str, str, str, str]] = field(default_factory=list)
    uncovered: list[Finding] = field(default_factory=list)  # scoped findings the scoped coverage does not cover
    extra: list[Finding] = field(default_factory=list)  # scoped findings the full audit does not report
    differs: list[tuple[Finding, Finding]] = field(default_factory=list)  # (full, scoped) with the same id
    missing: list[Finding] = field(default_factory=list)  # covered full findings the scoped audit lacks
    lean_extra: list[Finding] = field(default_factory=list)  # region-wide lean findings the full audit lacks
    lean_missing: list[Finding] = field(default_factory=list)  # full findings the region-wide lean audit lacks
    lean_differs: list[tuple[Finding, Finding]] = field(default_factory=list)  # (full, lean) with the same id
    not_evaluated: list[str] = field(default_factory=list)  # checks the scoped audit could not evaluate
    coverage: Coverage | None = None

    def items(self, what: str) -> list[Any]:
        return list(getattr(self, what.replace("-", "_")))

    def kinds(self) -> set[Kind]:
        """(what, check) for each disagreement, (error, call and code) for each failed call."""
        found: set[Kind] = {("problems", p) for p in self.problems}
        found |= {("errors", f"{run}: {action} {code}") for run, action, code, _ in self.errors}
        found |= {("not-evaluated", check) for check in self.not_evaluated}
        for what in ("uncovered", "extra", "missing", "lean-extra", "lean-missing"):
            found |= {(what, f.check) for f in self.items(what)}
        for what in ("differs", "lean-differs"):
            found |= {(what, full.check) for full, _ in self.items(what)}
        return found

    def report(self, title: str, items: Iterable[Any]) -> str:
        """A failure message: the scenario, then each item (findings side by side)."""
        lines = [title, repr(self.scenario)]
        for item in items:
            if isinstance(item, tuple) and isinstance(item[0], Finding):
                full, other = item
                a, b = comparable(full), comparable(other)
                lines.append(f"* {short(full)}: {', '.join(n for n in COMPARED if a[n] != b[n])} differ")
                for name in COMPARED:
                    if a[name] != b[name]:
                        lines.append(f"    {name}: full={a[name]!r}")
                        lines.append(f"    {' ' * len(name)}  other={b[name]!r}")
            elif isinstance(item, Finding):
                lines.append(f"* {short(item)}: {item.detail}")
                lines.append(f"    evidence={json.dumps(dict(item.evidence), sort_keys=True, default=str)}")
            else:
                lines.append(f"* {item}")
        if self.coverage is not None:
            c = self.coverage
            lines.append(
                f"scoped coverage: checks={sorted(c.evaluated_checks)} scope={sorted(c.scope_vpc_ids)} "
                f"collected={sorted(c.collected)}"
            )
        return "\n".join(lines)


def compare(scenario: Scenario, *, scoped: bool = True, lean: bool = True) -> Differences:
    """Runs the full audit and (``scoped``) the scoped audit of ``scenario.scope`` for the
    event's checks and (``lean``) the region-wide audit for the event's checks, through the
    real collector on the fake world, and lists their differences."""
    s = scenario
    diff = Differences(s)
    fake = FakeEc2(s.world, max_page=s.max_page)
    ec2 = fake.client(reuse=True)  # one client for every audit (making one costs 25-60 ms)
    audits = {"full": run_audit(ec2, s.policy, page_size=s.page_size)}
    if scoped:
        audits["scoped"] = run_audit(ec2, s.policy, vpc_ids=s.scope, checks=s.checks, page_size=s.page_size)
    if lean:
        audits["region-wide lean"] = run_audit(ec2, s.policy, checks=s.checks, page_size=s.page_size)
    diff.problems += [f"fake EC2: {p}" for p in fake.problems]
    for name, audit in audits.items():
        diff.problems += [f"{name}: unsupported {e.action}" for e in audit.snapshot.unsupported]
        if name == "full":
            diff.problems += [f"full: {e.action} {e.code}: {e.message}" for e in audit.snapshot.errors]
        else:
            diff.errors += [(name, e.action, e.code, e.message) for e in audit.snapshot.errors]
    full = audits["full"]
    if full.snapshot.errors:
        return diff  # the world itself could not be read: nothing to compare

    if scoped:
        _compare_scoped(diff, full, audits["scoped"])
    if lean:
        _compare_lean(diff, full, audits["region-wide lean"])
    return diff


def _compare_scoped(diff: Differences, full: Audit, scoped: Audit) -> None:
    checks = diff.scenario.checks
    full_by_id = {f.id: f for f in full.all_findings}
    coverage = Coverage.of(scoped.snapshot, scoped.evaluation.not_evaluated, checks)
    diff.coverage = coverage
    diff.not_evaluated = sorted({n.check for n in scoped.evaluation.not_evaluated})
    scoped_ids = set()
    for finding in scoped.all_findings:
        scoped_ids.add(finding.id)
        if not coverage.covers(finding):
            diff.uncovered.append(finding)
        twin = full_by_id.get(finding.id)
        if twin is None:
            diff.extra.append(finding)
        elif comparable(twin) != comparable(finding):
            diff.differs.append((twin, finding))
    diff.missing = [f for f in full.all_findings if coverage.covers(f) and f.id not in scoped_ids]


def _compare_lean(diff: Differences, full: Audit, lean: Audit) -> None:
    checks = diff.scenario.checks
    wanted = {f.id: f for f in full.all_findings if checks is None or f.check in checks}
    found = {f.id: f for f in lean.all_findings}
    diff.lean_extra = [f for i, f in found.items() if i not in wanted]
    diff.lean_missing = [f for i, f in wanted.items() if i not in found]
    diff.lean_differs = [
        (wanted[i], f) for i, f in found.items() if i in wanted and comparable(wanted[i]) != comparable(f)
    ]
