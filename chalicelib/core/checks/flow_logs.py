"""Flow log checks: is every VPC covered, for the traffic the policy asks for, and do the logs arrive."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence

from chalicelib.core.checks._base import listing
from chalicelib.core.model import FlowLog, NetworkSnapshot, Violation, Vpc
from chalicelib.core.policy import Policy

# What each flow log filter records; policy values use the same names.
_CAPTURES: dict[str, frozenset[str]] = {
    "ALL": frozenset({"ACCEPT", "REJECT"}),
    "ACCEPT": frozenset({"ACCEPT"}),
    "REJECT": frozenset({"REJECT"}),
}


def _captures(traffic_type: str | None) -> frozenset[str]:
    return _CAPTURES.get((traffic_type or "").upper(), frozenset())


def _union(logs: Iterable[FlowLog]) -> frozenset[str]:
    return frozenset().union(*(_captures(fl.traffic_type) for fl in logs))


def _active_logs(snapshot: NetworkSnapshot) -> dict[str, list[FlowLog]]:
    """resource id -> its ACTIVE flow logs (only an active log records anything)."""
    by_resource: dict[str, list[FlowLog]] = defaultdict(list)
    for fl in snapshot.flow_logs:
        if fl.status.upper() == "ACTIVE":
            by_resource[fl.resource_id].append(fl)
    return by_resource


def _audited_vpcs(snapshot: NetworkSnapshot) -> list[Vpc]:
    # A shared-VPC participant can neither see nor create the owner's VPC-level logs.
    return sorted(
        (v for v in snapshot.vpcs if snapshot.owns(v.owner_id) and snapshot.in_scope(v.vpc_id)),
        key=lambda v: v.vpc_id,
    )


def _subnet_ids(snapshot: NetworkSnapshot, vpc_id: str) -> list[str]:
    return sorted(s.subnet_id for s in snapshot.subnets_by_vpc.get(vpc_id, ()))


def _is_covered(active: dict[str, list[FlowLog]], vpc_id: str, subnet_ids: Sequence[str]) -> bool:
    """Rule 1: a VPC-level log, or subnet-level logs on every subnet (ENI logs never count).
    A VPC without subnets can only be covered at VPC level."""
    if active.get(vpc_id):
        return True
    return bool(subnet_ids) and all(active.get(s) for s in subnet_ids)


def check_flow_logs_enabled(snapshot: NetworkSnapshot, policy: Policy) -> Iterator[Violation]:
    active = _active_logs(snapshot)
    for vpc in _audited_vpcs(snapshot):
        subnet_ids = _subnet_ids(snapshot, vpc.vpc_id)
        if _is_covered(active, vpc.vpc_id, subnet_ids):
            continue
        missing = [s for s in subnet_ids if not active.get(s)]
        if subnet_ids:
            share = f"{len(missing)} of its {len(subnet_ids)} subnets"
            where = f"and subnet-level logs are missing on {share} ({listing(missing)})"
        else:
            where = "and it has no subnets to cover at subnet level"
        yield Violation(
            resource_id=vpc.vpc_id,
            vpc_id=vpc.vpc_id,
            detail=f"VPC {vpc.vpc_id} has no active VPC-level flow log {where}.",
            evidence={"subnet_ids_without_logs": missing},
        )


def check_flow_logs_traffic_type(snapshot: NetworkSnapshot, policy: Policy) -> Iterator[Violation]:
    need = _captures(policy.traffic_type)
    active = _active_logs(snapshot)
    for vpc in _audited_vpcs(snapshot):
        subnet_ids = _subnet_ids(snapshot, vpc.vpc_id)
        if not _is_covered(active, vpc.vpc_id, subnet_ids):
            continue  # vpc-flow-logs-enabled reports it; one finding per cause
        vpc_logs = active.get(vpc.vpc_id, [])
        vpc_level = _union(vpc_logs)
        if vpc_level >= need:
            continue
        # Separate VPC-level logs add up (ACCEPT + REJECT = ALL), and add to each subnet's own logs.
        uncovered = [s for s in subnet_ids if not (vpc_level | _union(active.get(s, []))) >= need]
        if subnet_ids and not uncovered:
            continue
        covering = vpc_logs + [fl for s in subnet_ids for fl in active.get(s, [])]
        captured = sorted({fl.traffic_type.upper() for fl in covering if fl.traffic_type})
        at_vpc = "/".join(sorted(vpc_level)) + " traffic only" if vpc_level else "no traffic"
        gaps = f", and no subnet-level log makes up the rest for {listing(uncovered)}" if uncovered else ""
        yield Violation(
            resource_id=vpc.vpc_id,
            vpc_id=vpc.vpc_id,
            detail=(
                f"The flow logs of VPC {vpc.vpc_id} do not capture the {policy.traffic_type} traffic the policy "
                f"requires: VPC-level logs capture {at_vpc}{gaps}."
            ),
            evidence={
                "required": policy.traffic_type,
                "captured": captured,
                "flow_log_ids": sorted(fl.flow_log_id for fl in covering),
            },
        )


def _flow_log_vpc(snapshot: NetworkSnapshot, resource_id: str) -> str | None:
    if resource_id.startswith("vpc-"):
        return resource_id
    subnet = snapshot.subnet_by_id.get(resource_id)
    return subnet.vpc_id if subnet is not None else None


def check_flow_logs_delivering(snapshot: NetworkSnapshot, policy: Policy) -> Iterator[Violation]:
    # The flow log is the audited account's own resource whatever it watches, so no owner filter.
    for fl in sorted(snapshot.flow_logs, key=lambda f: f.flow_log_id):
        # DeliverLogsErrorMessage is the delivery error (Rate limited, Access error, Unknown error).
        # Older answers carry it without a DeliverLogsStatus, so it fails the log whatever the status says.
        if (fl.deliver_status or "").upper() != "FAILED" and not fl.deliver_error:
            continue
        vpc_id = _flow_log_vpc(snapshot, fl.resource_id)
        # ENI and TGW logs cannot be placed in a VPC from the snapshot; report them in any scope.
        if vpc_id is not None and not snapshot.in_scope(vpc_id):
            continue
        error = fl.deliver_error or ""
        reason = f": {error}" if error else ""
        yield Violation(
            resource_id=fl.flow_log_id,
            vpc_id=vpc_id,
            detail=f"Flow log {fl.flow_log_id} of {fl.resource_id} fails to deliver to its destination{reason}.",
            evidence={"error": error, "resource_id": fl.resource_id},
        )
