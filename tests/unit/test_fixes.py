"""Each finding's own fix: real ids, region, partition and service names, no placeholder for
a value the finding knows; one fix per registered check; planned Terraform resources."""

from __future__ import annotations

import re
from typing import Any

import pytest

from chalicelib.core.audit import build_finding
from chalicelib.core.checks import CHECK_BY_ID, REGISTRY
from chalicelib.core.fixes import FIXES, fix_for, interface_service_name, is_address
from chalicelib.core.model import Change, Finding, NetworkSnapshot, Violation
from chalicelib.core.policy import Policy
from chalicelib.render.messages import chatbot_notification, email_text
from chalicelib.render.slack import slack_blocks

ACCOUNT = "111122223333"
PLACEHOLDER = re.compile(r"<[a-z][a-z0-9-]*>")


def finding(check: str, resource: str, vpc: str | None, region: str = "us-east-1", **evidence: Any) -> Finding:
    snapshot = NetworkSnapshot(account_id=ACCOUNT, region=region)
    return build_finding(CHECK_BY_ID[check], Violation(resource, vpc, "detail", evidence), snapshot, Policy(), "t")


# (check, resource, vpc, evidence, what the CLI must say, placeholders it may keep: values no finding knows)
CASES: list[tuple[str, str, str | None, dict[str, Any], list[str], set[str]]] = [
    (
        "vpc-flow-logs-enabled",
        "vpc-0a1",
        "vpc-0a1",
        {"subnet_ids_without_logs": ["subnet-1"]},
        [
            "aws ec2 create-flow-logs --region {region} --resource-type VPC --resource-ids vpc-0a1 --traffic-type ALL",
            "arn:{partition}:s3:::",
        ],
        {"<flow-logs-bucket>"},
    ),
    (
        "vpc-flow-logs-traffic-type",
        "vpc-0a1",
        "vpc-0a1",
        {"required": "REJECT", "captured": ["ACCEPT"], "flow_log_ids": ["fl-1"]},
        ["--resource-ids vpc-0a1 --traffic-type REJECT"],
        {"<flow-logs-bucket>"},
    ),
    (
        "vpc-flow-logs-delivering",
        "fl-0abc",
        "vpc-0a1",
        {"error": "Access error", "resource_id": "vpc-0a1"},
        ["aws ec2 describe-flow-logs --region {region} --flow-log-ids fl-0abc"],
        set(),
    ),
    (
        "private-subnet-gateway-endpoints",
        "rtb-0p1",
        "vpc-0a1",
        {"service": "s3", "subnet_ids": ["subnet-1"]},
        [
            "aws ec2 create-vpc-endpoint --region {region} --vpc-id vpc-0a1 --vpc-endpoint-type Gateway "
            "--service-name com.amazonaws.{region}.s3 --route-table-ids rtb-0p1"
        ],
        set(),
    ),
    (
        "private-subnet-gateway-endpoints",
        "rtb-0p1",
        "vpc-0a1",
        {"service": "dynamodb", "subnet_ids": ["subnet-1"], "gateway_endpoint_ids": ["vpce-0g1"]},
        ["aws ec2 modify-vpc-endpoint --region {region} --vpc-endpoint-id vpce-0g1 --add-route-table-ids rtb-0p1"],
        set(),
    ),
    (
        "required-interface-endpoints",
        "vpc-0a1",
        "vpc-0a1",
        {
            "service": "ssm",
            "private_subnet_ids": ["subnet-1", "subnet-2", "subnet-3"],
            "endpoint_subnet_ids": ["subnet-1", "subnet-3"],
        },
        [
            "aws ec2 create-vpc-endpoint --region {region} --vpc-id vpc-0a1 --vpc-endpoint-type Interface "
            "--service-name com.amazonaws.{region}.ssm --subnet-ids subnet-1 subnet-3 --private-dns-enabled"
        ],
        set(),
    ),
    (
        "interface-endpoint-private-dns",
        "vpce-0e1",
        "vpc-0a1",
        {"service": "ssm", "service_name": "com.amazonaws.us-east-1.ssm"},
        ["aws ec2 modify-vpc-endpoint --region {region} --vpc-endpoint-id vpce-0e1 --private-dns-enabled"],
        set(),
    ),
    (
        "endpoint-service-acceptance-required",
        "vpce-svc-0s1",
        None,
        {"service_name": "com.amazonaws.vpce.us-east-1.vpce-svc-0s1"},
        [
            "aws ec2 modify-vpc-endpoint-service-configuration --region {region} --service-id vpce-svc-0s1 "
            "--acceptance-required"
        ],
        set(),
    ),
    (
        "endpoint-service-trusted-principals",
        "vpce-svc-0s1",
        None,
        {"untrusted_principals": ["*", "arn:aws:iam::444455556666:root"]},
        ["--service-id vpce-svc-0s1 --remove-allowed-principals '*' arn:aws:iam::444455556666:root"],
        set(),
    ),
    (
        "peering-cidrs-non-overlapping",
        "pcx-0p1",
        "vpc-0b1",
        {
            "pairs": [{"requester_cidr": "10.0.0.0/16", "accepter_cidr": "10.0.128.0/17"}],
            "requester_vpc_id": "vpc-0a1",
            "accepter_vpc_id": "vpc-0b1",
        },
        [
            "aws ec2 disassociate-vpc-cidr-block --region {region} --association-id",
            "--vpc-ids vpc-0b1 --query \"Vpcs[0].CidrBlockAssociationSet[?CidrBlock=='10.0.128.0/17'].AssociationId",
        ],
        set(),
    ),
    (
        "connected-cidrs-non-overlapping",
        "vpc-0a1",
        "vpc-0a1",
        {
            "pairs": [
                {
                    "a": {"cidr": "10.0.0.0/16", "via": "self", "vpc_id": "vpc-0a1"},
                    "b": {"cidr": "10.0.0.0/16", "via": "tgw-rtb-0r1/tgw-attach-0c1", "vpc_id": "vpc-0c1"},
                }
            ],
            "pair_count": 1,
        },
        [
            "aws ec2 disable-transit-gateway-route-table-propagation --region {region} "
            "--transit-gateway-route-table-id tgw-rtb-0r1 --transit-gateway-attachment-id tgw-attach-0c1"
        ],
        set(),
    ),
    (
        "peering-routes-least-access",
        "rtb-0p1",
        "vpc-0a1",
        {
            "routes": [
                {
                    "destination": "0.0.0.0/0",
                    "target": "pcx-0p1",
                    "peer_vpc_id": "vpc-0b1",
                    "peer_cidrs": ["10.1.0.0/16"],
                }
            ]
        },
        [
            "aws ec2 create-route --region {region} --route-table-id rtb-0p1 --destination-cidr-block 10.1.0.0/16 "
            "--vpc-peering-connection-id pcx-0p1 && aws ec2 delete-route --region {region} --route-table-id rtb-0p1 "
            "--destination-cidr-block 0.0.0.0/0"
        ],
        set(),
    ),
    (
        "route-destinations-non-overlapping",
        "rtb-0p1",
        "vpc-0a1",
        {
            "pairs": [
                {
                    "a": {"destination": "10.1.0.0/24", "target": "tgw-0t1"},
                    "b": {"cidr": "10.1.0.0/16", "vpc_id": "vpc-0b1", "via": "pcx-0p1"},
                }
            ],
            "pair_count": 1,
        },
        ["aws ec2 delete-route --region {region} --route-table-id rtb-0p1 --destination-cidr-block 10.1.0.0/24"],
        set(),
    ),
    (
        "routes-no-blackhole",
        "rtb-0p1",
        "vpc-0a1",
        {
            "routes": [
                {"destination": "2600:1f18::/56", "target": "pcx-0dead", "reason": "peering pcx-0dead not found"},
                {"destination": "pl-0123", "target": "nat-0n1", "reason": "NAT gateway nat-0n1 is deleted"},
            ]
        },
        [
            "--route-table-id rtb-0p1 --destination-ipv6-cidr-block 2600:1f18::/56",
            "--route-table-id rtb-0p1 --destination-prefix-list-id pl-0123",
        ],
        set(),
    ),
    (
        "tgw-routes-non-overlapping",
        "tgw-rtb-0t1",
        None,
        {
            "pairs": [
                {
                    "a": {
                        "destination": "10.0.0.0/16",
                        "attachment_id": "tgw-attach-01",
                        "type": "propagated",
                        "vpc_id": "vpc-0a1",
                    },
                    "b": {
                        "destination": "10.0.1.0/24",
                        "attachment_id": "tgw-attach-0v",
                        "type": "static",
                        "vpc_id": None,
                    },
                }
            ],
            "pair_count": 1,
        },
        [
            "aws ec2 delete-transit-gateway-route --region {region} --transit-gateway-route-table-id tgw-rtb-0t1 "
            "--destination-cidr-block 10.0.1.0/24"
        ],
        set(),
    ),
    (
        "tgw-auto-accept-disabled",
        "tgw-0t1",
        None,
        {"auto_accept_shared_attachments": "enable"},
        [
            "aws ec2 modify-transit-gateway --region {region} --transit-gateway-id tgw-0t1 "
            "--options AutoAcceptSharedAttachments=disable"
        ],
        set(),
    ),
    (
        "client-vpn-connection-logging",
        "cvpn-endpoint-0c1",
        "vpc-0a1",
        {"connection_logging": False},
        [
            "aws ec2 modify-client-vpn-endpoint --region {region} --client-vpn-endpoint-id cvpn-endpoint-0c1 "
            "--connection-log-options Enabled=true,CloudwatchLogGroup=/aws/client-vpn/cvpn-endpoint-0c1"
        ],
        set(),
    ),
    (
        "client-vpn-no-authorize-all",
        "cvpn-endpoint-0c1",
        "vpc-0a1",
        {"rules": [{"destination_cidr": "10.0.0.0/8", "group_id": ""}]},
        [
            "aws ec2 revoke-client-vpn-ingress --region {region} --client-vpn-endpoint-id cvpn-endpoint-0c1 "
            "--target-network-cidr 10.0.0.0/8 --revoke-all-groups"
        ],
        {"<access-group-id>"},
    ),
    (
        "routes-return-path",
        "rtb-0b1",
        "vpc-0b1",
        {
            "forward_table": "rtb-0a1",
            "forward_vpc_id": "vpc-0a1",
            "route": "10.1.0.0/16 -> pcx-0p1",
            "routes": ["10.1.0.0/16 -> pcx-0p1"],
            "source_cidr": "10.0.1.0/24",
            "source_cidrs": ["10.0.1.0/24"],
            "destination_subnet_ids": ["subnet-0b1"],
            "return_blocked_at": {"resource_id": "rtb-0b1", "type": "route-table", "reason": "no route"},
        },
        [
            "aws ec2 create-route --region {region} --route-table-id rtb-0b1 --destination-cidr-block 10.0.1.0/24 "
            "--vpc-peering-connection-id pcx-0p1"
        ],
        set(),
    ),
    (
        "reachability-intent",
        "subnet-0s1",
        "vpc-0a1",
        {
            "intent": "private-subnets-reach-s3-privately",
            "expect": "private",
            "destination": "s3",
            "protocol": "tcp",
            "port": 443,
            "verdict": "unreachable",
            "private": None,
            "blocked_at": {"resource_id": "rtb-0p1", "type": "route-table", "reason": "no route to pl-63a5400a"},
            "hops": ["rtb-0p1"],
        },
        [
            "aws ec2 create-vpc-endpoint --region {region} --vpc-id vpc-0a1 --vpc-endpoint-type Gateway "
            "--service-name com.amazonaws.{region}.s3 --route-table-ids rtb-0p1",
        ],
        set(),
    ),
]
PARTITIONS = [("us-east-1", "aws"), ("cn-northwest-1", "aws-cn"), ("us-gov-west-1", "aws-us-gov")]


def test_every_registered_check_has_its_own_fix() -> None:
    assert {spec.id for spec in REGISTRY} <= set(FIXES)
    assert {case[0] for case in CASES} == {spec.id for spec in REGISTRY}


@pytest.mark.parametrize(("region", "partition"), PARTITIONS)
@pytest.mark.parametrize(
    ("check", "resource", "vpc", "evidence", "expected", "allowed"),
    CASES,
    ids=[f"{c[0]}-{n}" for n, c in enumerate(CASES)],
)
def test_the_fix_names_the_real_ids_region_and_partition(
    check: str,
    resource: str,
    vpc: str | None,
    evidence: dict[str, Any],
    expected: list[str],
    allowed: set[str],
    region: str,
    partition: str,
) -> None:
    f = finding(check, resource, vpc, region, **evidence)
    fix = fix_for(f)
    assert fix.cli, "a live resource always gets a command"
    assert all(command.startswith("aws ") and f"--region {region}" in command for command in fix.cli)
    for text in expected:
        assert text.format(region=region, partition=partition) in fix.cli_text
    assert set(PLACEHOLDER.findall(fix.cli_text)) <= allowed
    assert resource in fix.console
    # An overlap is undone on what takes part in it (a VPC's CIDR, a TGW propagation), not on the finding's resource.
    assert resource in fix.cli_text or check in {"peering-cidrs-non-overlapping", "connected-cidrs-non-overlapping"}
    assert fix.terraform and fix.cloudformation
    assert "arn:aws:" not in fix.remediation.replace("arn:aws:iam::444455556666", "") or partition == "aws"
    # The stored string is '<step> CLI: <commands>', as the notifications split it.
    assert f.remediation == f"{fix.remediation}"
    step, _, cli = f.remediation.partition(" CLI: ")
    assert cli == fix.cli_text and step.startswith(fix.console)


@pytest.mark.parametrize(
    ("service", "region", "expected"),
    [
        ("ssm", "us-east-1", "com.amazonaws.us-east-1.ssm"),
        ("ssm", "us-gov-west-1", "com.amazonaws.us-gov-west-1.ssm"),
        ("ssm", "cn-north-1", "com.amazonaws.cn-north-1.ssm"),
        ("logs", "cn-northwest-1", "com.amazonaws.cn-northwest-1.logs"),
        ("ecr.api", "cn-north-1", "cn.com.amazonaws.cn-north-1.ecr.api"),
        ("sts", "cn-northwest-1", "cn.com.amazonaws.cn-northwest-1.sts"),
        ("workspaces", "cn-northwest-1", "cn.com.amazonaws.cn-northwest-1.workspaces"),
        ("workspaces", "cn-north-1", "com.amazonaws.cn-north-1.workspaces"),
        ("transcribe", "cn-north-1", "cn.com.amazonaws.cn-north-1.transcribe.cn"),
    ],
)
def test_interface_service_names_per_partition(service: str, region: str, expected: str) -> None:
    assert interface_service_name(service, region) == expected
    f = finding("required-interface-endpoints", "vpc-1", "vpc-1", region, service=service, private_subnet_ids=["s-1"])
    assert f"--service-name {expected} " in fix_for(f).cli_text


@pytest.mark.parametrize("region", ["cn-north-1", "us-gov-east-1"])
def test_gateway_endpoints_keep_com_amazonaws_in_every_partition(region: str) -> None:
    f = finding("private-subnet-gateway-endpoints", "rtb-1", "vpc-1", region, service="s3", subnet_ids=["s-1"])
    assert f"--service-name com.amazonaws.{region}.s3 " in fix_for(f).cli_text


def test_arns_carry_the_partition() -> None:
    china = fix_for(finding("vpc-flow-logs-enabled", "vpc-1", "vpc-1", "cn-north-1"))
    assert "--log-destination arn:aws-cn:s3:::" in china.cli_text and "arn:aws-cn:s3:::" in china.terraform
    gov = fix_for(finding("endpoint-service-trusted-principals", "vpce-svc-1", None, "us-gov-west-1"))
    assert "arn:aws-us-gov:iam::" in gov.remediation


def test_a_planned_resource_is_fixed_in_its_block_by_address() -> None:
    address = 'module.net.aws_route_table.private["a"]'
    f = finding(
        "private-subnet-gateway-endpoints",
        address,
        "aws_vpc.app",
        service="s3",
        subnet_ids=["aws_subnet.private"],
        terraform_address=address,
    )
    fix = fix_for(f)
    assert fix.cli == ()  # nothing exists yet to run a command on
    assert f"Planned resource {address}" in fix.console
    assert f"route_table_ids   = [{address}.id]" in fix.terraform
    assert "vpc_id            = aws_vpc.app.id" in fix.terraform
    assert f.remediation.endswith("CLI: (none before the plan is applied: change the Terraform configuration)")


def test_a_managed_live_resource_names_its_block_and_keeps_the_command() -> None:
    f = finding("tgw-auto-accept-disabled", "tgw-0t1", None, terraform_address="aws_ec2_transit_gateway.hub")
    fix = fix_for(f)
    assert "Managed by Terraform as aws_ec2_transit_gateway.hub" in fix.console
    assert "# Change the block aws_ec2_transit_gateway.hub (managed by this configuration):" in fix.terraform
    assert 'auto_accept_shared_attachments = "disable"' in fix.terraform
    assert "--transit-gateway-id tgw-0t1" in fix.cli_text


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("aws_vpc.app", True),
        ('module.net.aws_subnet.private["a"]', True),
        ("module.a.module.b.aws_route_table.x[0]", True),
        ("vpc-0abc", False),
        ("tgw-rtb-1", False),
        ("com.amazonaws.us-east-1.s3", False),
        ("10.0.0.0/16", False),
    ],
)
def test_addresses_are_told_from_ids(value: str, expected: bool) -> None:
    assert is_address(value) is expected


def test_a_check_without_a_fix_falls_back_to_the_generic_text() -> None:
    f = finding("tgw-auto-accept-disabled", "tgw-1", None)
    other = Finding.from_dict({**f.to_dict(), "check": "future-check"})
    assert fix_for(other).console == "See the check's documentation."


def test_long_evidence_is_capped() -> None:
    routes = [{"destination": f"10.{n}.0.0/16", "target": "pcx-dead", "reason": "x"} for n in range(40)]
    fix = fix_for(finding("routes-no-blackhole", "rtb-1", "vpc-1", routes=routes))
    assert len(fix.cli) == 5 and "35 more not shown" in fix.console


def test_every_notification_channel_shows_the_real_command() -> None:
    f = finding("private-subnet-gateway-endpoints", "rtb-0p1", "vpc-0a1", service="s3", subnet_ids=["subnet-1"])
    command = fix_for(f).cli_text
    change = Change("finding.opened", f)
    assert f"  CLI: {command}" in email_text(change)
    assert f"CLI: `{command}`" in chatbot_notification(change)["content"]["nextSteps"]
    blocks = str(slack_blocks(change.to_message()))
    assert command in blocks and "&lt;" not in blocks
