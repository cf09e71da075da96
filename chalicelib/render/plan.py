"""The plan result where people read it: a terminal table, the JSON of SPEC §8, a
pull-request comment in Markdown (introduced first, with the Terraform address and the
fix; then resolved; unchanged folded), and SARIF with the address as logical location."""

from __future__ import annotations

import json
import textwrap
from collections import Counter
from collections.abc import Callable, Sequence
from typing import Any

from chalicelib.core.checks import REGISTRY
from chalicelib.core.model import Finding
from chalicelib.core.plan.diff import PlanResult
from chalicelib.render.markdown import cell, code_span
from chalicelib.render.sarif import LEVEL, SCHEMA, _rule

WIDTH = 100
LIMIT = 60_000  # characters; GitHub refuses comments over 65,536


def address(finding: Finding) -> str:
    """The Terraform address of a finding's resource, else its id."""
    return str(finding.evidence.get("terraform_address") or finding.resource_id)


def _counts(findings: Sequence[Finding]) -> str:
    counts = Counter(f.severity for f in findings)
    detail = ", ".join(f"{counts[s]} {s.name}" for s in sorted(counts, reverse=True))
    return f"{len(findings)}" + (f" ({detail})" if detail else "")


def summary_line(result: PlanResult) -> str:
    return (
        f"{_counts(result.introduced)} introduced · {len(result.resolved)} resolved · {len(result.unchanged)} unchanged"
    )


def _source(result: PlanResult) -> str:
    plan = result.plan
    where = "offline: the plan alone" if result.offline else f"live network of account {result.after.account_id}"
    return (
        f"Terraform {plan.terraform_version or '?'} plan (format {plan.format_version}): "
        f"{result.resources_applied} changes applied, {len(plan.ignored)} resources of types no check reads; "
        f"{', '.join(result.after.regions)}; {where}"
    )


# ---------------------------------------------------------------------------------
# Table
# ---------------------------------------------------------------------------------


def _lines(finding: Finding) -> list[str]:
    service = finding.evidence.get("service")
    head = f"  {finding.severity.name:<8} {finding.check:<36} {address(finding)}" + (f" ({service})" if service else "")
    return [head[:WIDTH], *textwrap.wrap(finding.detail, WIDTH, initial_indent="    ", subsequent_indent="    ")]


def render_table(result: PlanResult) -> str:
    out = [f"vpcwatch plan · {_source(result)}", summary_line(result)]
    for title, findings, detailed in (
        ("INTRODUCED", result.introduced, True),
        ("RESOLVED", result.resolved, True),
        ("UNCHANGED", result.unchanged, False),
    ):
        if not findings:
            continue
        out += ["", f"{title} ({len(findings)})"]
        for finding in findings:
            out += (
                _lines(finding)
                if detailed
                else [f"  {finding.severity.name:<8} {finding.check:<36} {address(finding)}"[:WIDTH]]
            )
    if result.unknown:
        out += ["", "NOT EVALUATED (values known only after apply)"]
        for u in result.unknown:
            out.append(f"  {u.address}: {', '.join(u.attributes)} -> {', '.join(u.checks)}"[:WIDTH])
    errors = [e for s in result.before.snapshots for e in s.errors]
    if errors:
        out += ["", f"COLLECTION ERRORS ({len(errors)}): these checks were not evaluated"]
        out += [f"  {e.region:<14} {e.action:<50} {e.code}"[:WIDTH] for e in errors]
    if not (result.introduced or result.resolved or result.unchanged):
        out += ["", "No findings before or after the plan."]
    return "\n".join(out) + "\n"


# ---------------------------------------------------------------------------------
# JSON
# ---------------------------------------------------------------------------------


def render_json(result: PlanResult) -> str:
    return json.dumps(result.to_dict(), indent=2) + "\n"


# ---------------------------------------------------------------------------------
# Markdown (pull-request comment)
# ---------------------------------------------------------------------------------


def _introduced_item(f: Finding) -> str:
    return (
        f"- **{f.severity.name}** {code_span(f.check)} on {code_span(address(f))} ({f.region}): {cell(f.detail)}\n"
        f"  - **Fix:** {cell(f.remediation)}"
    )


def _resolved_item(f: Finding) -> str:
    return f"- ~~{f.severity.name}~~ {code_span(f.check)} on {code_span(address(f))} ({f.region}): {cell(f.detail)}"


def _unchanged_row(f: Finding) -> str:
    return f"| {f.severity.name} | {code_span(f.check)} | {code_span(address(f))} | {f.region} |"


def _fit(items: Sequence[str], budget: int) -> tuple[list[str], int, int]:
    """As many items as fit in ``budget`` characters: (kept, left out, budget left)."""
    kept: list[str] = []
    for n, item in enumerate(items):
        if len(item) + 1 > budget:
            return kept, len(items) - n, budget
        kept.append(item)
        budget -= len(item) + 1
    return kept, 0, budget


def render_markdown(result: PlanResult, limit: int = LIMIT) -> str:
    head = [f"### vpcwatch plan: {summary_line(result)}", "", cell(_source(result)) + ".", ""]
    tail: list[str] = []
    if result.unknown:
        tail += ["", "**Not evaluated** (values known only after apply):", ""]
        tail += [
            f"- {code_span(u.address)}: {', '.join(code_span(a) for a in u.attributes)} "
            f"({len(u.checks)} checks: {', '.join(u.checks)})"
            for u in result.unknown
        ]
    errors = [e for s in result.before.snapshots for e in s.errors]
    if errors:
        tail += ["", "**Collection errors** (their checks were not evaluated):", ""]
        tail += [f"- {e.action} in {e.region}: {e.code}" for e in errors]
    budget = limit - len("\n".join(head + tail)) - 600  # room for headings and truncation notes
    body: list[str] = []
    notes: list[str] = []
    if result.introduced:
        kept, left, budget = _fit([_introduced_item(f) for f in result.introduced], budget)
        body += [f"#### Introduced ({len(result.introduced)})", "", *kept, ""]
        if left:
            notes.append(f"{left} introduced")
    else:
        body += ["No finding introduced.", ""]
    if result.resolved:
        kept, left, budget = _fit([_resolved_item(f) for f in result.resolved], budget)
        body += [f"#### Resolved ({len(result.resolved)})", "", *kept, ""]
        if left:
            notes.append(f"{left} resolved")
    if result.unchanged:
        rows, left, budget = _fit([_unchanged_row(f) for f in result.unchanged], budget)
        body += [
            f"<details><summary>{len(result.unchanged)} unchanged</summary>",
            "",
            "| Severity | Check | Resource | Region |",
            "|---|---|---|---|",
            *rows,
            "",
            "</details>",
        ]
        if left:
            notes.append(f"{left} unchanged")
    if notes:
        body += ["", f"_Not listed to fit a comment: {', '.join(notes)}. The full list: `--format json`._"]
    return "\n".join(head + body + tail) + "\n"


# ---------------------------------------------------------------------------------
# SARIF
# ---------------------------------------------------------------------------------


def _sarif_result(finding: Finding, index: int, baseline: str) -> dict[str, Any]:
    name = address(finding)
    return {
        "ruleId": finding.check,
        "ruleIndex": index,
        "level": LEVEL[finding.severity],
        "message": {"text": finding.detail},
        "baselineState": baseline,
        "locations": [
            {
                "physicalLocation": {"artifactLocation": {"uri": finding.resource_arn}},
                "logicalLocations": [{"name": name, "fullyQualifiedName": name, "kind": "resource"}],
            }
        ],
        "partialFingerprints": {"vpcwatchFindingId/v1": finding.id},
        "properties": {
            "severity": finding.severity.name,
            "region": finding.region,
            "terraform_address": finding.evidence.get("terraform_address"),
            "evidence": dict(finding.evidence),
        },
    }


def to_sarif(result: PlanResult) -> dict[str, Any]:
    """Results are the findings after apply: ``baselineState`` new (introduced) or
    unchanged; resolved findings are gone after apply, so they are counted, not listed."""
    index = {spec.id: n for n, spec in enumerate(REGISTRY)}
    results = [_sarif_result(f, index[f.check], "new") for f in result.introduced]
    results += [_sarif_result(f, index[f.check], "unchanged") for f in result.unchanged]
    return {
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {"driver": {"name": "vpcwatch", "version": "0.1.0", "rules": [_rule(s) for s in REGISTRY]}},
                "invocations": [{"executionSuccessful": result.complete, "startTimeUtc": result.after.started_at}],
                "results": results,
                "properties": {
                    "introduced": len(result.introduced),
                    "resolved": [f.id for f in result.resolved],
                    "unchanged": len(result.unchanged),
                },
            }
        ],
    }


def render_sarif(result: PlanResult) -> str:
    return json.dumps(to_sarif(result), indent=2) + "\n"


PLAN_RENDERERS: dict[str, Callable[[PlanResult], str]] = {
    "table": render_table,
    "json": render_json,
    "markdown": render_markdown,
    "sarif": render_sarif,
}
PLAN_FORMATS = tuple(PLAN_RENDERERS)
