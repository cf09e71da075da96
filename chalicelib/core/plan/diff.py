"""Before and after findings -> introduced / resolved / unchanged (SPEC §8). Pure.

Finding ids are deterministic over (account, region, check, resource, service), so the
two evaluations are compared by id, once every stand-in id of a planned resource has been
renamed to its Terraform address (the id is recomputed from the address). A finding on a
resource the plan manages carries ``evidence.terraform_address``.

Values known only after apply make the checks that read that resource's data "not
evaluated" for it: their findings on that resource (or in its VPC) are taken out of all
three lists and named in ``not_evaluated``, never counted as introduced or resolved.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from chalicelib.core.audit import AuditResult, NotEvaluated, evaluate, finding_key, iso, resource_arn
from chalicelib.core.checks import CHECK_BY_ID, REGISTRY
from chalicelib.core.fixes import fix_for
from chalicelib.core.model import Finding, NetworkSnapshot, Severity, finding_id
from chalicelib.core.plan.apply import STAND_IN, Applied
from chalicelib.core.plan.reader import Plan, PlannedChange
from chalicelib.core.policy import Policy

# Reachability intents (SPEC §7) need no hook here: they are the registry check
# ``reachability-intent``, so ``evaluate`` runs them on both networks with every other
# check, and the after-snapshot carries all the path engine reads (network ACLs, VPN and
# egress-only gateways, prefix lists; TGW peering attachments as collected).

# Where each applied type lands in the snapshot (the part whose readers an unknown blinds).
TYPE_PARTS: dict[str, str] = {
    "aws_vpc": "vpcs",
    "aws_vpc_ipv4_cidr_block_association": "vpcs",
    "aws_vpc_ipv6_cidr_block_association": "vpcs",
    "aws_subnet": "subnets",
    "aws_route_table": "route_tables",
    "aws_default_route_table": "route_tables",
    "aws_route": "route_tables",
    "aws_route_table_association": "route_tables",
    "aws_main_route_table_association": "route_tables",
    "aws_internet_gateway": "internet_gateways",
    "aws_nat_gateway": "nat_gateways",
    "aws_vpc_peering_connection": "peerings",
    "aws_vpc_peering_connection_accepter": "peerings",
    "aws_ec2_transit_gateway": "transit_gateways",
    "aws_ec2_transit_gateway_vpc_attachment": "tgw_attachments",
    "aws_ec2_transit_gateway_route_table": "tgw_route_tables",
    "aws_ec2_transit_gateway_route": "tgw_route_tables",
    "aws_ec2_transit_gateway_route_table_association": "tgw_attachments",
    "aws_ec2_transit_gateway_route_table_propagation": "tgw_route_tables",
    "aws_vpc_endpoint": "vpc_endpoints",
    "aws_vpc_endpoint_route_table_association": "vpc_endpoints",
    "aws_vpc_endpoint_service": "endpoint_services",
    "aws_flow_log": "flow_logs",
    "aws_ec2_managed_prefix_list": "prefix_lists",
    "aws_ec2_client_vpn_endpoint": "client_vpn_endpoints",
    "aws_ec2_client_vpn_authorization_rule": "client_vpn_endpoints",
    "aws_network_acl": "network_acls",
    "aws_default_network_acl": "network_acls",
    "aws_network_acl_rule": "network_acls",
    "aws_network_acl_association": "network_acls",
    "aws_vpn_gateway": "vpn_gateways",
    "aws_vpn_gateway_attachment": "vpn_gateways",
    "aws_egress_only_internet_gateway": "egress_only_internet_gateways",
}


def checks_reading(rtype: str) -> tuple[str, ...]:
    """The checks whose data includes what a resource type becomes (from the registry)."""
    part = TYPE_PARTS.get(rtype)
    return tuple(spec.id for spec in REGISTRY if part in spec.parts)


@dataclass(frozen=True)
class UnknownResource:
    """Checks not evaluated for one planned resource, and why."""

    address: str
    region: str
    attributes: tuple[str, ...]
    checks: tuple[str, ...]
    subjects: frozenset[str]  # resource ids / addresses whose findings these checks cannot decide

    def to_dicts(self) -> list[dict[str, Any]]:
        return [
            {
                "check": c,
                "region": self.region,
                "missing": [],
                "resource": self.address,
                "unknown": list(self.attributes),
            }
            for c in self.checks
        ]


@dataclass(frozen=True)
class PlanResult:
    plan: Plan
    offline: bool
    before: AuditResult
    after: AuditResult
    introduced: tuple[Finding, ...]
    resolved: tuple[Finding, ...]
    unchanged: tuple[Finding, ...]
    unknown: tuple[UnknownResource, ...]
    resources_applied: int

    @property
    def complete(self) -> bool:
        return self.before.complete and self.after.complete

    def exit_code(self, fail_on: Severity) -> int:
        """SPEC §8: 2 when data could not be collected, 1 when an introduced finding is at
        or above ``fail_on``, else 0."""
        if not self.complete:
            return 2
        return 1 if any(f.severity >= fail_on for f in self.introduced) else 0

    def to_dict(self) -> dict[str, Any]:
        audit = self.after.to_dict()["audit"]
        audit["offline"] = self.offline
        audit["not_evaluated"] = [
            *audit["not_evaluated"],
            *(entry for u in self.unknown for entry in u.to_dicts()),
        ]
        return {
            "plan": {
                "format_version": self.plan.format_version,
                "terraform_version": self.plan.terraform_version,
                "regions": list(self.after.regions),
                "resources_applied": self.resources_applied,
                "resources_ignored": list(self.plan.ignored),
                "unknown": [u.to_dict() for u in self.plan.unknown],
            },
            "audit": audit,
            "introduced": [f.to_dict() for f in self.introduced],
            "resolved": [f.to_dict() for f in self.resolved],
            "unchanged": [f.to_dict() for f in self.unchanged],
        }


# ---------------------------------------------------------------------------------
# Renaming stand-ins to addresses
# ---------------------------------------------------------------------------------


def _rename_text(text: str, names: Mapping[str, str]) -> str:
    return STAND_IN.sub(lambda m: names.get(m.group(0), m.group(0)), text) if names else text


def _rename(finding: Finding, names: Mapping[str, str], managed: Mapping[str, str]) -> Finding:
    resource = names.get(finding.resource_id, finding.resource_id)
    evidence: dict[str, Any] = dict(finding.evidence)
    if names:
        evidence = json.loads(_rename_text(json.dumps(evidence), names))
    address = names.get(finding.resource_id) or managed.get(finding.resource_id)
    if address is not None:
        evidence["terraform_address"] = address
    if resource == finding.resource_id and not names:
        managed_finding = replace(finding, evidence=evidence)  # its fix names the block that manages it
        return replace(managed_finding, remediation=fix_for(managed_finding).remediation)
    spec = CHECK_BY_ID[finding.check]
    service = finding_key(spec, evidence)  # from the renamed evidence: a planned forward table by its address
    vpc_id = names.get(finding.vpc_id, finding.vpc_id) if finding.vpc_id else None
    renamed = replace(
        finding,
        id=finding_id(finding.account_id, finding.region, finding.check, resource, service),
        resource_id=resource,
        resource_arn=resource_arn(spec, finding.region, finding.account_id, resource),
        vpc_id=vpc_id,
        detail=_rename_text(finding.detail, names),
        evidence=evidence,
    )
    # The fix again, from the addresses: a planned resource is changed in its block, by address.
    return replace(renamed, remediation=fix_for(renamed).remediation)


# ---------------------------------------------------------------------------------
# Unknowns
# ---------------------------------------------------------------------------------


def _subjects(change: PlannedChange) -> frozenset[str]:
    """What an unknown in ``change`` may change the verdict on: the resource itself and
    the resources it names (its VPC, its route table, ...), as ids or addresses."""
    found = {change.address}
    for key, value in (change.after or {}).items():
        if (key == "id" or key.endswith("_id")) and isinstance(value, str) and value:
            found.add(value)
    if change.before_id:
        found.add(change.before_id)
    return frozenset(found)


def unknown_resources(plan: Plan, region_of: Callable[[PlannedChange], str]) -> tuple[UnknownResource, ...]:
    return tuple(
        UnknownResource(c.address, region_of(c), c.unknown, checks_reading(c.type), _subjects(c))
        for c in plan.changes
        if c.unknown
    )


def through_acls(
    unknown: Sequence[UnknownResource], after: Sequence[Applied], names: Mapping[str, str]
) -> tuple[UnknownResource, ...]:
    """An unknown in a network ACL (a rule's CIDR, the ACL an association names) may change
    the verdict of every path through that ACL: its subnets and its VPC, by their names in
    the findings, become subjects too."""
    widened = []
    for u in unknown:
        extra: set[str] = set()
        for applied in after:
            if applied.snapshot.region != u.region:
                continue
            for acl in applied.snapshot.network_acls:
                if {acl.network_acl_id, names.get(acl.network_acl_id)} & u.subjects:
                    extra.add(names.get(acl.vpc_id, acl.vpc_id))
                    extra.update(names.get(s, s) for s in acl.subnet_ids)
        widened.append(replace(u, subjects=u.subjects | extra) if extra - u.subjects else u)
    return tuple(widened)


def _undecided(finding: Finding, unknown: Sequence[UnknownResource]) -> bool:
    return any(
        finding.region == u.region
        and finding.check in u.checks
        and (finding.resource_id in u.subjects or (finding.vpc_id is not None and finding.vpc_id in u.subjects))
        for u in unknown
    )


# ---------------------------------------------------------------------------------
# The difference
# ---------------------------------------------------------------------------------


def _audit(
    snapshots: Sequence[NetworkSnapshot],
    names: Mapping[str, str],
    plan: Plan,
    policy: Policy,
    now: dt.datetime,
    account_id: str,
    duration_ms: int,
) -> AuditResult:
    findings: list[Finding] = []
    suppressed: list[Finding] = []
    not_evaluated: list[NotEvaluated] = []
    for snapshot in snapshots:
        result = evaluate(snapshot, policy, now)
        findings += (_rename(f, names, plan.managed) for f in result.findings)
        suppressed += (_rename(f, names, plan.managed) for f in result.suppressed)
        not_evaluated += result.not_evaluated
    order = _order
    return AuditResult(
        account_id=account_id,
        regions=tuple(s.region for s in snapshots),
        scope_vpc_ids=(),
        started_at=iso(now),
        duration_ms=duration_ms,
        snapshots=tuple(snapshots),
        findings=tuple(sorted(findings, key=order)),
        suppressed=tuple(sorted(suppressed, key=order)),
        not_evaluated=tuple(not_evaluated),
    )


def _order(f: Finding) -> tuple[int, str, str, str, str]:
    return (-f.severity, f.check, f.region, f.resource_id, str(f.evidence.get("service", "")))


def compare(
    plan: Plan,
    before: Sequence[NetworkSnapshot],
    after: Sequence[Applied],
    policy: Policy,
    now: dt.datetime,
    *,
    default_region: str,
    offline: bool = False,
    duration_ms: int = 0,
) -> PlanResult:
    """Evaluate every check on the network before and after the plan and classify each
    finding by id. ``before[i]`` and ``after[i]`` are the same region."""
    account_id = before[0].account_id if before else ""
    names: dict[str, str] = {}
    for applied in after:
        names.update(applied.names)
    before_audit = _audit(before, {}, plan, policy, now, account_id, duration_ms)
    after_audit = _audit([a.snapshot for a in after], names, plan, policy, now, account_id, duration_ms)
    unknown = through_acls(unknown_resources(plan, lambda c: c.region or default_region), after, names)
    was = {f.id: f for f in before_audit.findings if not _undecided(f, unknown)}
    now_failing = {f.id: f for f in after_audit.findings if not _undecided(f, unknown)}
    regions = {s.region for s in before}
    count = sum(1 for c in plan.changes if (c.region or default_region) in regions and c.action != "no-op")
    return PlanResult(
        plan=plan,
        offline=offline,
        before=before_audit,
        after=after_audit,
        introduced=tuple(f for i, f in now_failing.items() if i not in was),
        resolved=tuple(f for i, f in was.items() if i not in now_failing),
        unchanged=tuple(f for i, f in now_failing.items() if i in was),
        unknown=unknown,
        resources_applied=count,
    )
