"""What the path engine reads (the registry's PATH_NEEDS), collected from moto: network
ACLs with their rules and subnets, egress-only internet gateways, virtual private gateways,
TGW peering attachments; one call per type, and none of them in an audit's collection."""

from __future__ import annotations

from typing import Any

import boto3

from chalicelib.aws.collect.ec2 import collect_region
from chalicelib.aws.session import CallCounter
from chalicelib.core.checks import PATH_NEEDS
from chalicelib.core.paths import PathIndex
from tests.integration.conftest import ACCOUNT, PEER_REGION, REGION


def test_path_parts_are_collected_in_one_call_each(ec2: Any, session: boto3.session.Session) -> None:
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.1.0/24")["Subnet"]["SubnetId"]
    acl = ec2.create_network_acl(VpcId=vpc)["NetworkAcl"]["NetworkAclId"]
    ec2.create_network_acl_entry(
        NetworkAclId=acl,
        RuleNumber=90,
        Protocol="6",
        RuleAction="deny",
        Egress=True,
        CidrBlock="0.0.0.0/0",
        PortRange={"From": 443, "To": 443},
    )
    ec2.create_network_acl_entry(
        NetworkAclId=acl, RuleNumber=100, Protocol="-1", RuleAction="allow", Egress=True, Ipv6CidrBlock="::/0"
    )
    association = next(
        a["NetworkAclAssociationId"]
        for a in ec2.describe_network_acls(Filters=[{"Name": "association.subnet-id", "Values": [subnet]}])[
            "NetworkAcls"
        ][0]["Associations"]
        if a["SubnetId"] == subnet
    )
    ec2.replace_network_acl_association(AssociationId=association, NetworkAclId=acl)
    eigw = ec2.create_egress_only_internet_gateway(VpcId=vpc)["EgressOnlyInternetGateway"][
        "EgressOnlyInternetGatewayId"
    ]
    vgw = ec2.create_vpn_gateway(Type="ipsec.1")["VpnGateway"]["VpnGatewayId"]
    ec2.attach_vpn_gateway(VpnGatewayId=vgw, VpcId=vpc)
    tgw = ec2.create_transit_gateway()["TransitGateway"]["TransitGatewayId"]
    peer_tgw = session.client("ec2", region_name=PEER_REGION).create_transit_gateway()["TransitGateway"][
        "TransitGatewayId"
    ]
    peering = ec2.create_transit_gateway_peering_attachment(
        TransitGatewayId=tgw, PeerTransitGatewayId=peer_tgw, PeerAccountId=ACCOUNT, PeerRegion=PEER_REGION
    )["TransitGatewayPeeringAttachment"]["TransitGatewayAttachmentId"]

    with CallCounter(ec2) as counter:
        snapshot = collect_region(ec2, account_id=ACCOUNT, region=REGION, actions=PATH_NEEDS)
    assert snapshot.errors == ()
    for operation in (
        "DescribeNetworkAcls",
        "DescribeEgressOnlyInternetGateways",
        "DescribeVpnGateways",
        "DescribeTransitGatewayPeeringAttachments",
    ):
        assert counter.by_operation[operation] == 1, operation
    assert "DescribeFlowLogs" not in counter.by_operation  # paths read no flow logs

    custom = next(a for a in snapshot.network_acls if a.network_acl_id == acl)
    assert custom.vpc_id == vpc and not custom.is_default and custom.subnet_ids == (subnet,)
    rules = {(e.rule_number, e.egress, e.protocol, e.allow, e.cidr, e.port_from, e.port_to) for e in custom.entries}
    assert rules == {(90, True, "6", False, "0.0.0.0/0", 443, 443), (100, True, "-1", True, "::/0", None, None)}
    assert [(g.gateway_id, g.vpc_ids) for g in snapshot.egress_only_internet_gateways] == [(eigw, (vpc,))]
    assert [(g.gateway_id, g.state, g.vpc_ids) for g in snapshot.vpn_gateways] == [(vgw, "available", (vpc,))]
    (attachment,) = snapshot.tgw_peering_attachments
    assert attachment.attachment_id == peering
    assert (attachment.requester_tgw_id, attachment.requester_region) == (tgw, REGION)
    assert (attachment.accepter_tgw_id, attachment.accepter_region) == (peer_tgw, PEER_REGION)

    # The custom ACL denies tcp 443 out (rule 90), and moto lists no '*' rule: the engine
    # applies the implicit deny for everything else.
    result = PathIndex([snapshot]).trace(subnet, "10.0.1.9")
    assert result.verdict == "unreachable" and result.blocked_at is not None
    assert (result.blocked_at.resource_id, result.blocked_at.reason.split(" denies")[0]) == (acl, "outbound rule 90")


def test_a_full_audit_reads_the_path_parts_and_a_scoped_one_does_not(ec2: Any) -> None:
    """reachability-intent and routes-return-path read them, in region-wide audits only."""
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    with CallCounter(ec2) as counter:
        snapshot = collect_region(ec2, account_id=ACCOUNT, region=REGION)
    assert snapshot.network_acls and snapshot.errors == ()
    assert counter.by_operation["DescribeNetworkAcls"] == counter.by_operation["DescribeVpnGateways"] == 1
    with CallCounter(ec2) as counter:
        scoped = collect_region(ec2, account_id=ACCOUNT, region=REGION, vpc_ids=[vpc])
    assert scoped.network_acls == () and scoped.vpn_gateways == () and scoped.errors == ()
    assert not {"DescribeNetworkAcls", "DescribeVpnGateways"} & set(counter.by_operation)
