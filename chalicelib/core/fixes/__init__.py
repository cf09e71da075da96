"""Fixes people can paste: each finding's own remediation, built from what it knows.

``fix_for(finding)`` returns a ``Fix``: the console step, the AWS CLI commands, a Terraform
snippet and a CloudFormation snippet, all with the finding's real ids, region, partition
and service names. A value the finding does not know (a log bucket, an access group) is the
only thing left as a ``<placeholder>``. Nothing here calls AWS and vpcwatch applies
nothing: this is text for people.

Each check id of the registry has one function in ``FIXES`` (a test enforces it). The audit
stores ``Fix.remediation`` in the finding's ``remediation`` ('<step> CLI: <commands>', the
form the notifications split), and the renderers show the snippets.

Terraform plans (SPEC §8): a finding on a planned resource has ``resource_id`` = its address
and ``evidence.terraform_address``; it has no id yet, so there is no CLI to run and the fix
is the change to that block, by address. A live resource the plan manages carries the
address too: the fix is then made in its block, since a CLI change would be reverted by the
next apply. Any other value that is an address (a planned VPC, peering, ...) is referenced
as ``<address>.id`` in Terraform and makes the CLI unavailable.

The package: ``context`` holds ``Fix``, the ``_Ctx`` every fix reads and the shared text
helpers (names, service names, HCL / YAML / CLI flags); each family of checks has its own
module (``flow_logs``, ``endpoints``, ``peering``, ``routing``, ``tgw``, ``client_vpn``,
``paths``), and this module gathers their functions in ``FIXES``.
"""

from __future__ import annotations

from chalicelib.core.checks import CHECK_BY_ID
from chalicelib.core.fixes.client_vpn import _fix_client_vpn_authorize_all, _fix_client_vpn_logging
from chalicelib.core.fixes.context import (
    CLI_SEPARATOR,
    Fix,
    FixFn,
    _Ctx,
    gateway_service_name,
    interface_service_name,
    is_address,
    partition_of,
)
from chalicelib.core.fixes.endpoints import (
    _fix_acceptance_required,
    _fix_gateway_endpoints,
    _fix_interface_endpoints,
    _fix_private_dns,
    _fix_trusted_principals,
)
from chalicelib.core.fixes.flow_logs import (
    _fix_flow_logs_delivering,
    _fix_flow_logs_enabled,
    _fix_flow_logs_traffic_type,
)
from chalicelib.core.fixes.paths import _fix_reachability_intent, _fix_return_path
from chalicelib.core.fixes.peering import _fix_connected_overlap, _fix_peering_least_access, _fix_peering_overlap
from chalicelib.core.fixes.routing import _fix_blackhole, _fix_route_overlap
from chalicelib.core.fixes.tgw import _fix_tgw_auto_accept, _fix_tgw_overlap
from chalicelib.core.model import Finding

__all__ = [
    "CLI_SEPARATOR",
    "FIXES",
    "Fix",
    "FixFn",
    "fix_for",
    "gateway_service_name",
    "generic_fix",
    "interface_service_name",
    "is_address",
    "partition_of",
]

FIXES: dict[str, FixFn] = {
    "vpc-flow-logs-enabled": _fix_flow_logs_enabled,
    "vpc-flow-logs-traffic-type": _fix_flow_logs_traffic_type,
    "vpc-flow-logs-delivering": _fix_flow_logs_delivering,
    "private-subnet-gateway-endpoints": _fix_gateway_endpoints,
    "required-interface-endpoints": _fix_interface_endpoints,
    "interface-endpoint-private-dns": _fix_private_dns,
    "endpoint-service-acceptance-required": _fix_acceptance_required,
    "endpoint-service-trusted-principals": _fix_trusted_principals,
    "peering-cidrs-non-overlapping": _fix_peering_overlap,
    "connected-cidrs-non-overlapping": _fix_connected_overlap,
    "peering-routes-least-access": _fix_peering_least_access,
    "route-destinations-non-overlapping": _fix_route_overlap,
    "routes-no-blackhole": _fix_blackhole,
    "tgw-routes-non-overlapping": _fix_tgw_overlap,
    "tgw-auto-accept-disabled": _fix_tgw_auto_accept,
    "client-vpn-connection-logging": _fix_client_vpn_logging,
    "client-vpn-no-authorize-all": _fix_client_vpn_authorize_all,
    "routes-return-path": _fix_return_path,
    "reachability-intent": _fix_reachability_intent,
}


def generic_fix(check: str) -> Fix:
    """The check's generic remediation (placeholders and all): for a check without a fix."""
    spec = CHECK_BY_ID.get(check)
    if spec is None:
        return Fix(console="See the check's documentation.")
    return Fix(console=spec.remediation, cli=(spec.cli,))


def fix_for(finding: Finding) -> Fix:
    """The finding's own fix; the check's generic one for a check with none (stored findings of
    a check that no longer exists)."""
    fn = FIXES.get(finding.check)
    return generic_fix(finding.check) if fn is None else fn(_Ctx(finding))
