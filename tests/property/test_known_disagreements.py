"""The minimal worlds of ``known_cases`` (each a disagreement the property tests found),
run on every test run: full, scoped and region-wide lean audits through the real collector
must agree on each: the regressions of the cases the property tests found."""

from __future__ import annotations

import pytest

from tests.property.harness import compare
from tests.property.known_cases import KNOWN_CASES


@pytest.mark.property
@pytest.mark.parametrize("name", [pytest.param(name, id=name) for name in KNOWN_CASES])
def test_known_disagreement(name: str) -> None:
    diff = compare(KNOWN_CASES[name]())
    if diff.problems:
        raise AssertionError(diff.report("the fake EC2 world could not serve the audits:", diff.problems))
    kinds = sorted(diff.kinds())
    items = [
        *diff.errors,
        *diff.uncovered,
        *diff.extra,
        *diff.differs,
        *diff.missing,
        *diff.lean_extra,
        *diff.lean_differs,
        *diff.lean_missing,
    ]
    if kinds:
        raise AssertionError(diff.report(f"{name}: {kinds}", items))
