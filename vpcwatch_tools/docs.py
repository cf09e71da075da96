"""Generates the README's check table from the registry, so the two cannot drift.

``python -m vpcwatch_tools.docs`` prints it; ``--write README.md`` replaces the table between
the markers in place. A unit test fails when the README's table differs from this."""

from __future__ import annotations

import argparse
import re
import sys

from chalicelib.core.checks import REGISTRY

START, END = "<!-- checks:start -->", "<!-- checks:end -->"


def check_table() -> str:
    rows = [
        "| id | resource | severity | what it checks | Security Hub | AWS Config | CIS |",
        "|---|---|---|---|---|---|---|",
    ]
    for spec in REGISTRY:
        rows.append(
            f"| `{spec.id}` | {spec.resource_type} | {spec.severity.name} | {spec.title} | "
            f"{', '.join(spec.security_hub) or '—'} | {', '.join(spec.config_rule) or '—'} | "
            f"{', '.join(spec.cis) or '—'} |"
        )
    return "\n".join(rows)


def replace_table(text: str) -> str:
    pattern = re.compile(re.escape(START) + ".*?" + re.escape(END), re.S)
    if not pattern.search(text):
        raise ValueError(f"markers {START} ... {END} not found")
    return pattern.sub(lambda _: f"{START}\n{check_table()}\n{END}", text)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--write", metavar="FILE", help="replace the table between the markers in FILE")
    args = parser.parse_args()
    if not args.write:
        print(check_table())
        return 0
    with open(args.write, encoding="utf-8") as handle:
        text = handle.read()
    with open(args.write, "w", encoding="utf-8") as handle:
        handle.write(replace_table(text))
    return 0


if __name__ == "__main__":
    sys.exit(main())
