"""The path as a traceroute (``vpcwatch path --format table``): one hop a line, the
blocking hop marked with its reason and the fix."""

from __future__ import annotations

from chalicelib.core.paths.result import Hop, PathResult


def _lines(hops: tuple[Hop, ...], result: PathResult, start: int) -> list[str]:
    lines = []
    blocked = result.blocked_at
    width = max((len(h.resource_id) for h in hops), default=0)
    for number, hop in enumerate(hops, start):
        lines.append(f"{number:>3}  {hop.resource_id:<{width}}  {hop.type:<28} {hop.detail}")
    if blocked is not None and hops and hops[-1].resource_id == blocked.resource_id:
        mark = "UNKNOWN" if result.verdict == "unknown" else "BLOCKED"
        lines.append(f"     {mark} at {blocked.resource_id} ({blocked.type}): {blocked.reason}")
        if blocked.fix:
            lines.append(f"     fix: {blocked.fix}")
    return lines


def render_path(result: PathResult) -> str:
    source, dest = result.source, result.destination
    flow = result.protocol if result.port is None else f"{result.protocol}/{result.port}"
    target = dest.value if not dest.address or dest.address == dest.value else f"{dest.value} ({dest.address})"
    lines = [f"path {source.subnet_id} ({source.address}, {source.vpc_id}, {source.region}) -> {target}, {flow}"]
    lines += _lines(result.hops, result, 1)
    if result.return_hops:
        lines.append("return:")
        lines += _lines(result.return_hops, result, len(result.hops) + 1)
    blocked = result.blocked_at
    shown = {h.resource_id for h in (*result.hops, *result.return_hops)}
    if blocked is not None and blocked.resource_id not in shown:
        lines.append(f"     BLOCKED at {blocked.resource_id} ({blocked.type}): {blocked.reason}")
    privacy = "private" if result.private else "over the internet"
    verdict = f"{result.verdict} ({privacy})" if result.reachable else result.verdict
    lines.append(f"verdict: {verdict}")
    lines += [f"note: {note}" for note in result.notes]
    return "\n".join(lines) + "\n"
