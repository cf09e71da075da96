"""Lists every kind of disagreement between scoped and full audits that generated worlds
show, with a minimal (shrunk) world for each: what the property test finds, sorted.

    PYTHONPATH=. python -m tests.property.explore [--examples 600] [--kind missing]

A kind is (what, check): ``extra`` (a scoped finding the full audit lacks), ``missing``
(a full finding the scoped coverage covers but the scoped audit lacks), ``differs`` (same
id, other fields: the report names them), ``uncovered`` (a scoped finding outside its own
coverage), ``lean-*`` (the region-wide audit restricted to the event's checks against the
full one), ``errors`` / ``not-evaluated`` (the scoped collection failed where the full one
did not), ``problems`` (the fake refused a request). Shrinking takes minutes per kind.
"""

from __future__ import annotations

import argparse
import collections
import time

from hypothesis import HealthCheck, Phase, find, given, settings
from hypothesis.errors import NoSuchExample

from tests.property.harness import Differences, Kind, compare
from tests.property.strategies import Scenario, scenarios


def _compare(scenario: Scenario, kind: Kind | None = None) -> Differences:
    lean = kind is None or kind[0].startswith("lean") or kind[0] in ("errors", "problems")
    return compare(scenario, scoped=kind is None or not kind[0].startswith("lean"), lean=lean)


def survey(examples: int) -> dict[Kind, int]:
    counts: collections.Counter[Kind] = collections.Counter()

    @settings(
        max_examples=examples,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
        phases=[Phase.generate],
    )
    @given(scenarios())
    def run(scenario: Scenario) -> None:
        counts.update(_compare(scenario).kinds())

    run()
    return dict(counts)


def minimal(kind: Kind, examples: int) -> Differences | None:
    """The smallest scenario hypothesis finds (within its shrinking budget) showing ``kind``."""
    try:
        scenario = find(
            scenarios(),
            lambda s: kind in _compare(s, kind).kinds(),
            settings=settings(
                max_examples=examples, deadline=None, database=None, suppress_health_check=list(HealthCheck)
            ),
        )
    except NoSuchExample:
        return None
    return _compare(scenario, kind)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=600, help="worlds to survey (and 4x that to find each kind)")
    parser.add_argument("--kind", help="shrink only the kinds whose text contains this")
    args = parser.parse_args()
    t0 = time.perf_counter()
    counts = survey(args.examples)
    print(f"{args.examples} worlds in {time.perf_counter() - t0:.0f} s")
    for kind, count in sorted(counts.items()):
        print(f"{count:5d}  {kind}")
    for kind in sorted(counts):
        if args.kind and args.kind not in " ".join(kind):
            continue
        t0 = time.perf_counter()
        diff = minimal(kind, args.examples * 4)
        print(f"\n===== {kind} ({time.perf_counter() - t0:.0f} s) =====")
        if diff is None:
            print("(not found again)")
            continue
        items = diff.items(kind[0])
        if kind[0] not in ("problems", "errors", "not-evaluated"):
            items = [i for i in items if (i[0] if isinstance(i, tuple) else i).check == kind[1]]
        print(diff.report(" ".join(kind), items))


if __name__ == "__main__":
    main()
