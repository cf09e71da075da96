"""VPC endpoint checks: private subnets reach AWS services privately, interface endpoints resolve
privately, and the PrivateLink services the account provides admit only whom they should."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator, Sequence
from typing import Any

from chalicelib.core.checks._base import listing
from chalicelib.core.checks.subjects import audited_endpoint_services
from chalicelib.core.model import EndpointService, NetworkSnapshot, RouteTable, Violation, VpcEndpoint
from chalicelib.core.policy import Policy
from chalicelib.core.states import is_gone, is_present


def _is_public(table: RouteTable | None) -> bool:
    """An active IPv4 default route to an internet gateway. An IPv6-only default route (igw or
    eigw) or a default route to a NAT gateway leaves IPv4 AWS-service traffic without a
    free path, so such tables still count as private."""
    if table is None:
        return False  # no table at all: nothing routes out
    return any(
        r.destination == "0.0.0.0/0" and r.target.startswith("igw-") and r.state == "active" for r in table.routes
    )


def _present_endpoints_by_vpc(snapshot: NetworkSnapshot, endpoint_type: str) -> dict[str, list[VpcEndpoint]]:
    """VPC id -> its endpoints of that type that are live or in flight (one pass, not one per
    table). An endpoint being created (pending, pendingAcceptance) is not a missing one: it is
    judged once it settles; one being deleted, or that failed, is missing."""
    grouped: dict[str, list[VpcEndpoint]] = defaultdict(list)
    for e in snapshot.vpc_endpoints:
        if e.endpoint_type == endpoint_type and is_present(e.state):
            grouped[e.vpc_id].append(e)
    return grouped


def _routes_to_gateway_endpoint(table: RouteTable, endpoint: VpcEndpoint) -> bool:
    # The association list and the prefix-list route are two views of the same link; either suffices
    # (a partial description of the endpoint must not produce a false finding).
    return table.route_table_id in endpoint.route_table_ids or any(
        r.target == endpoint.endpoint_id for r in table.routes
    )


def check_private_subnet_gateway_endpoints(snapshot: NetworkSnapshot, policy: Policy) -> Iterator[Violation]:
    gateways_by_vpc = _present_endpoints_by_vpc(snapshot, "Gateway")
    for table in sorted(snapshot.route_tables, key=lambda t: t.route_table_id):
        if not (snapshot.owns(table.owner_id) and snapshot.in_scope(table.vpc_id)):
            continue
        subnet_ids = sorted(snapshot.subnets_served.get(table.route_table_id, ()))
        if not subnet_ids or _is_public(table):
            continue  # routes no subnet (edge / gateway tables, unused tables), or public
        gateways = gateways_by_vpc.get(table.vpc_id, [])
        for service in sorted(set(policy.gateway_endpoints)):
            if any(e.serves(service, snapshot.region) and _routes_to_gateway_endpoint(table, e) for e in gateways):
                continue
            evidence: dict[str, Any] = {"service": service, "subnet_ids": subnet_ids}
            # An endpoint of the service already in the VPC: the fix adds this table to it (fixes/endpoints.py).
            existing = sorted(e.endpoint_id for e in gateways if e.serves(service, snapshot.region))
            if existing:
                evidence["gateway_endpoint_ids"] = existing
            yield Violation(
                resource_id=table.route_table_id,
                vpc_id=table.vpc_id,
                detail=(
                    f"Route table {table.route_table_id} serves private subnets {listing(subnet_ids)} but has no "
                    f"route to a {service} gateway endpoint, so their {service} traffic pays for NAT or cannot "
                    f"reach {service}."
                ),
                evidence=evidence,
            )


def _one_per_zone(snapshot: NetworkSnapshot, subnet_ids: Sequence[str]) -> list[str]:
    """The first subnet (by id) of each Availability Zone; a subnet whose zone is unknown counts alone."""
    chosen: dict[str, str] = {}
    for subnet_id in subnet_ids:
        subnet = snapshot.subnet_by_id.get(subnet_id)
        zone = subnet.availability_zone if subnet is not None and subnet.availability_zone else subnet_id
        chosen.setdefault(zone, subnet_id)
    return sorted(chosen.values())


def check_required_interface_endpoints(snapshot: NetworkSnapshot, policy: Policy) -> Iterator[Violation]:
    if not policy.interface_endpoints:
        return
    interfaces_by_vpc = _present_endpoints_by_vpc(snapshot, "Interface")
    for vpc in sorted(snapshot.vpcs, key=lambda v: v.vpc_id):
        if not (snapshot.owns(vpc.owner_id) and snapshot.in_scope(vpc.vpc_id)):
            continue
        private = sorted(
            s.subnet_id
            for s in snapshot.subnets_by_vpc.get(vpc.vpc_id, ())
            if not _is_public(snapshot.effective_route_table.get(s.subnet_id))
        )
        if not private:
            continue
        interfaces = interfaces_by_vpc.get(vpc.vpc_id, [])
        # An interface endpoint takes one subnet per Availability Zone (the fix names them).
        per_zone = _one_per_zone(snapshot, private)
        for service in sorted(set(policy.interface_endpoints)):
            # The service of this region (or a global one): a cross-region endpoint reaches another region's.
            if any(e.serves(service, snapshot.region) for e in interfaces):
                continue
            yield Violation(
                resource_id=vpc.vpc_id,
                vpc_id=vpc.vpc_id,
                detail=(
                    f"VPC {vpc.vpc_id} has private subnets {listing(private)} but no interface endpoint "
                    f"that reaches {service} in {snapshot.region}."
                ),
                evidence={"service": service, "private_subnet_ids": private}
                | ({"endpoint_subnet_ids": per_zone} if per_zone != private else {}),
            )


def check_interface_endpoint_private_dns(snapshot: NetworkSnapshot, policy: Policy) -> Iterator[Violation]:
    for endpoint in sorted(snapshot.vpc_endpoints, key=lambda e: e.endpoint_id):
        if not (snapshot.owns(endpoint.owner_id) and snapshot.in_scope(endpoint.vpc_id)):
            continue
        if endpoint.endpoint_type != "Interface" or not endpoint.is_aws_service:
            continue  # PrivateLink services of other accounts often have no private DNS name to enable
        if endpoint.requester_managed:
            continue  # created and managed by an AWS service (Transfer Family, ...): its owner cannot change it
        if is_gone(endpoint.state) or endpoint.private_dns_enabled:
            continue
        yield Violation(
            resource_id=endpoint.endpoint_id,
            vpc_id=endpoint.vpc_id,
            detail=(
                f"Interface endpoint {endpoint.endpoint_id} to {endpoint.service_name} has private DNS disabled, "
                f"so clients in {endpoint.vpc_id} resolve the public {endpoint.service} name and bypass it."
            ),
            evidence={"service": endpoint.service, "service_name": endpoint.service_name},
        )


def _live_services(snapshot: NetworkSnapshot) -> list[EndpointService]:
    # Endpoint services belong to no VPC (they front load balancers): only a region-wide audit judges them.
    audited = audited_endpoint_services(snapshot)
    return sorted(
        (s for s in snapshot.endpoint_services if s.service_id in audited and not is_gone(s.state)),
        key=lambda s: s.service_id,
    )


def check_endpoint_service_acceptance_required(snapshot: NetworkSnapshot, policy: Policy) -> Iterator[Violation]:
    for service in _live_services(snapshot):
        if service.acceptance_required:
            continue
        yield Violation(
            resource_id=service.service_id,
            vpc_id=None,
            detail=(
                f"Endpoint service {service.service_id} ({service.service_name}) accepts endpoint connections "
                f"from allowed principals without manual approval."
            ),
            evidence={"service_name": service.service_name},
        )


def _is_account_id(value: str) -> bool:
    return len(value) == 12 and value.isdigit()


def principal_account(principal: str) -> str | None:
    """The account of an allowed principal: a bare account id, or the 5th field of an ARN
    (arn:aws:iam::123456789012:root, ...:role/x, arn:aws:organizations::111122223333:organization/o-x).
    None when it cannot be told ('*', a service principal, a malformed value)."""
    if _is_account_id(principal):
        return principal
    parts = principal.split(":")
    if len(parts) >= 6 and parts[0] == "arn" and _is_account_id(parts[4]):
        return parts[4]
    return None


def check_endpoint_service_trusted_principals(snapshot: NetworkSnapshot, policy: Policy) -> Iterator[Violation]:
    trusted = {*policy.trusted_accounts, snapshot.account_id}
    for service in _live_services(snapshot):
        if policy.trusted_accounts:
            # An account we cannot determine cannot be shown to be trusted.
            untrusted = sorted({p for p in service.allowed_principals if principal_account(p) not in trusted})
        else:
            untrusted = ["*"] if "*" in service.allowed_principals else []
        if not untrusted:
            continue
        who = "every AWS principal" if "*" in untrusted else "principals outside the trusted accounts"
        yield Violation(
            resource_id=service.service_id,
            vpc_id=None,
            detail=(
                f"Endpoint service {service.service_id} ({service.service_name}) allows {who}: {listing(untrusted)}."
            ),
            evidence={"untrusted_principals": untrusted},
        )
