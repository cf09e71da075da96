"""The parts only the path engine reads (collected when asked for)."""

from __future__ import annotations

from typing import Any

from chalicelib.aws.collect import parse
from chalicelib.aws.collect.run import Run


def path_parts(run: Run, scope: tuple[str, ...]) -> dict[str, Any]:
    """What only the path engine reads: network ACLs, egress-only internet gateways, virtual
    private gateways, TGW peering attachments (one call each; collected when asked for)."""
    in_scope = scope or None
    wanted = set(scope)
    acls = [
        parse.network_acl(r)
        for r in run.query("DescribeNetworkAcls", "NetworkAcls", "NetworkAclId", filter_name="vpc-id", values=in_scope)
    ]
    # No VPC filter exists for egress-only internet gateways: list them, keep the scoped ones.
    eigws = [
        parse.egress_only_gateway(r)
        for r in run.items("DescribeEgressOnlyInternetGateways", "EgressOnlyInternetGateways")
    ]
    if scope:
        eigws = [g for g in eigws if wanted.intersection(g.vpc_ids)]
    vgw_params: dict[str, Any] = {"Filters": [{"Name": "attachment.vpc-id", "Values": list(scope)}]} if scope else {}
    vgws = [
        parse.vpn_gateway(r)
        for page in run.pages("DescribeVpnGateways", paginated=False, **vgw_params)
        for r in page.get("VpnGateways") or []
    ]
    peerings = [
        parse.tgw_peering_attachment(r)
        for r in run.items("DescribeTransitGatewayPeeringAttachments", "TransitGatewayPeeringAttachments")
    ]
    return {
        "network_acls": tuple(acls),
        "egress_only_internet_gateways": tuple(eigws),
        "vpn_gateways": tuple(vgws),
        "tgw_peering_attachments": tuple(peerings),
    }
