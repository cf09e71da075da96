"""Scoped equals full (SPEC §1 *Full and scoped audits agree*, DESIGN *Scoped equals full*).

For generated worlds served by the fake EC2 endpoint and read by the real collector:

- a scoped (event-driven, lean) audit reports only findings its coverage covers, each
  exactly as the full audit reports it, and reports every full-audit finding its coverage
  covers;
- a region-wide audit restricted to an event's checks (lean collection, no scope) reports
  exactly the full audit's findings for those checks;
- a scoped collection reads without error a world the full collection reads without error
  (otherwise its checks go "not evaluated" for the whole scope).

In CI the examples are the same on every run and a failure is reported as generated (not
shrunk: shrinking these worlds takes minutes). ``VPCWATCH_PROPERTY_SHRINK=1`` shrinks it to
a minimal world; ``VPCWATCH_PROPERTY_EXAMPLES=2000 VPCWATCH_PROPERTY_RANDOM=1`` explores new
worlds (and shrinks); ``python -m tests.property.explore`` lists every kind of
disagreement with a minimal world each.
"""

from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, Phase, given, settings

from tests.property.harness import compare
from tests.property.strategies import Scenario, scenarios

EXAMPLES = int(os.environ.get("VPCWATCH_PROPERTY_EXAMPLES", "150"))
RANDOM = os.environ.get("VPCWATCH_PROPERTY_RANDOM") == "1"
SHRINK = RANDOM or os.environ.get("VPCWATCH_PROPERTY_SHRINK") == "1"

# CI: the same examples on every run (derandomize), no example database to keep, no
# shrinking; VPCWATCH_PROPERTY_RANDOM=1 explores new worlds and replays saved failures.
PROPERTY = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=not RANDOM,
    database=settings().database if RANDOM else None,
    phases=[p for p in Phase if SHRINK or p not in (Phase.shrink, Phase.explain)],
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    print_blob=RANDOM,
)


@pytest.mark.property
@PROPERTY
@given(scenarios())
def test_a_scoped_audit_reaches_the_full_audits_verdict_on_everything_it_covers(scenario: Scenario) -> None:
    diff = compare(scenario, lean=False)
    if diff.problems:
        raise AssertionError(diff.report("the fake EC2 world could not serve the audits:", diff.problems))
    if diff.uncovered:
        raise AssertionError(diff.report("scoped findings its own coverage does not cover:", diff.uncovered))
    if diff.extra:
        raise AssertionError(diff.report("scoped findings the full audit does not report:", diff.extra))
    if diff.differs:
        raise AssertionError(diff.report("scoped findings unlike the full audit's of the same id:", diff.differs))
    if diff.missing:
        raise AssertionError(diff.report("full-audit findings the scoped audit covers but lacks:", diff.missing))


@pytest.mark.property
@PROPERTY
@given(scenarios())
def test_a_region_wide_audit_of_an_events_checks_equals_the_full_audit(scenario: Scenario) -> None:
    diff = compare(scenario, scoped=False)
    if diff.problems:
        raise AssertionError(diff.report("the fake EC2 world could not serve the audits:", diff.problems))
    if diff.lean_extra:
        raise AssertionError(diff.report("lean findings the full audit does not report:", diff.lean_extra))
    if diff.lean_differs:
        raise AssertionError(diff.report("lean findings unlike the full audit's:", diff.lean_differs))
    if diff.lean_missing:
        raise AssertionError(diff.report("full-audit findings the lean audit lacks:", diff.lean_missing))
    if diff.errors:
        raise AssertionError(diff.report("calls of the lean collection that failed:", diff.errors))


@pytest.mark.property
@PROPERTY
@given(scenarios())
def test_a_scoped_collection_reads_what_the_full_collection_reads(scenario: Scenario) -> None:
    diff = compare(scenario, lean=False)
    if diff.problems:
        raise AssertionError(diff.report("the fake EC2 world could not serve the audits:", diff.problems))
    if diff.errors:
        title = f"calls of the scoped collection that failed (checks not evaluated: {diff.not_evaluated}):"
        raise AssertionError(diff.report(title, diff.errors))
