"""Endpoint checks on hand-built snapshots: one row per edge of each rule."""

from __future__ import annotations

from typing import Any

import pytest

from chalicelib.core.checks.endpoints import (
    check_endpoint_service_acceptance_required,
    check_endpoint_service_trusted_principals,
    check_interface_endpoint_private_dns,
    check_private_subnet_gateway_endpoints,
    check_required_interface_endpoints,
    principal_account,
)
from chalicelib.core.model import (
    EndpointService,
    NetworkSnapshot,
    Route,
    RouteTable,
    Subnet,
    Violation,
    Vpc,
    VpcEndpoint,
    service_short_name,
)
from chalicelib.core.policy import Policy

ACCOUNT = "111111111111"
OTHER = "222222222222"
THIRD = "333333333333"
REGION = "us-east-1"

LOCAL = Route("10.0.0.0/16", "local")
IGW_DEFAULT = Route("0.0.0.0/0", "igw-1")


def vpc(vpc_id: str = "vpc-1", owner: str = ACCOUNT) -> Vpc:
    return Vpc(vpc_id, owner, ("10.0.0.0/16",))


def subnet(subnet_id: str, vpc_id: str = "vpc-1") -> Subnet:
    return Subnet(subnet_id, vpc_id, ACCOUNT, "10.0.1.0/24")


def rtb(
    rtb_id: str,
    subnets: tuple[str, ...] = (),
    *extra: Route,
    vpc_id: str = "vpc-1",
    main: bool = False,
    owner: str = ACCOUNT,
    gateways: tuple[str, ...] = (),
) -> RouteTable:
    return RouteTable(rtb_id, vpc_id, owner, main, subnets, (LOCAL, *extra), gateway_ids=gateways)


def vpce(
    endpoint_id: str,
    service: str,
    endpoint_type: str = "Gateway",
    state: str = "available",
    tables: tuple[str, ...] = (),
    vpc_id: str = "vpc-1",
    private_dns: bool = False,
    owner: str = ACCOUNT,
    service_region: str | None = None,
    requester_managed: bool = False,
) -> VpcEndpoint:
    """``service`` is a short name in REGION ('ssm') or a whole service name ('com.amazonaws.iam')."""
    whole = service.startswith(("com.", "cn.com.", "aws.", "api.aws."))
    name = service if whole else f"com.amazonaws.{REGION}.{service}"
    return VpcEndpoint(
        endpoint_id,
        vpc_id,
        name,
        endpoint_type,
        state,
        route_table_ids=tables,
        private_dns_enabled=private_dns,
        owner_id=owner,
        service_region=service_region,
        requester_managed=requester_managed,
    )


def snap(
    subnets: tuple[Subnet, ...] = (subnet("subnet-a"), subnet("subnet-b")),
    tables: tuple[RouteTable, ...] = (),
    endpoints: tuple[VpcEndpoint, ...] = (),
    vpcs: tuple[Vpc, ...] = (vpc(),),
    services: tuple[EndpointService, ...] = (),
    scope: tuple[str, ...] = (),
    region: str = REGION,
) -> NetworkSnapshot:
    return NetworkSnapshot(
        ACCOUNT,
        region,
        vpcs=vpcs,
        subnets=subnets,
        route_tables=tables,
        vpc_endpoints=endpoints,
        endpoint_services=services,
        scope_vpc_ids=scope,
    )


def summary(found: list[Violation]) -> list[tuple[str, str | None, dict[str, Any]]]:
    return [(v.resource_id, v.vpc_id, dict(v.evidence)) for v in found]


# --------------------------------------------------------------------------- private-subnet-gateway-endpoints

S3_ONLY = Policy(gateway_endpoints=("s3",))


def _gw(
    rtb_id: str, service: str, subnets: list[str], endpoints: tuple[str, ...] = ()
) -> tuple[str, str, dict[str, Any]]:
    evidence: dict[str, Any] = {"service": service, "subnet_ids": subnets}
    if endpoints:  # gateway endpoints of the service in the VPC, not on this table: the fix adds it to one
        evidence["gateway_endpoint_ids"] = list(endpoints)
    return (rtb_id, "vpc-1", evidence)


GATEWAY_CASES: list[Any] = [
    pytest.param(
        Policy(),
        snap(tables=(rtb("rtb-1", ("subnet-b", "subnet-a")),)),
        [_gw("rtb-1", "dynamodb", ["subnet-a", "subnet-b"]), _gw("rtb-1", "s3", ["subnet-a", "subnet-b"])],
        id="no-endpoints:one-per-service-sorted",
    ),
    pytest.param(
        Policy(),
        snap(tables=(rtb("rtb-1", ("subnet-a",)),), endpoints=(vpce("vpce-1", "s3", tables=("rtb-1",)),)),
        [_gw("rtb-1", "dynamodb", ["subnet-a"])],
        id="s3-associated:only-dynamodb-missing",
    ),
    pytest.param(
        S3_ONLY,
        snap(tables=(rtb("rtb-1", ("subnet-a",), Route("pl-63a5400a", "vpce-1")),), endpoints=(vpce("vpce-1", "s3"),)),
        [],
        id="route-to-endpoint-without-association-listed",
    ),
    pytest.param(
        S3_ONLY,
        snap(
            tables=(rtb("rtb-1", ("subnet-a",)),), endpoints=(vpce("vpce-1", "s3", "Gateway", "pending", ("rtb-1",)),)
        ),
        [],
        id="pending-endpoint-serves",
    ),
    *(
        pytest.param(
            S3_ONLY,
            snap(
                tables=(rtb("rtb-1", ("subnet-a",), Route("pl-63a5400a", "vpce-1")),),
                endpoints=(vpce("vpce-1", "s3", "Gateway", state, ("rtb-1",)),),
            ),
            [_gw("rtb-1", "s3", ["subnet-a"])],
            id=f"{state}-endpoint-does-not-serve",
        )
        for state in ("deleting", "deleted", "failed", "rejected", "expired")
    ),
    pytest.param(
        S3_ONLY,
        snap(
            tables=(rtb("rtb-1", ("subnet-a",)),),
            endpoints=(vpce("vpce-1", "s3", "Gateway", "pendingAcceptance", ("rtb-1",)),),
        ),
        [],
        id="in-flight-endpoint-serves",
    ),
    pytest.param(
        S3_ONLY,
        snap(
            tables=(rtb("rtb-1", ("subnet-a",)),),
            endpoints=(vpce("vpce-1", "com.amazonaws.us-west-2.s3", tables=("rtb-1",)),),
        ),
        [_gw("rtb-1", "s3", ["subnet-a"])],
        id="another-regions-s3-does-not-serve",
    ),
    *(
        pytest.param(
            S3_ONLY,
            snap(
                tables=(rtb("rtb-1", ("subnet-a",)),),
                endpoints=(vpce("vpce-1", name, tables=("rtb-1",)),),
                region="cn-north-1",
            ),
            [],
            id=f"china:{name}",
        )
        for name in ("com.amazonaws.cn-north-1.s3", "cn.com.amazonaws.cn-north-1.s3")
    ),
    pytest.param(
        S3_ONLY,
        snap(tables=(rtb("rtb-1", ("subnet-a",)),), endpoints=(vpce("vpce-1", "s3", tables=("rtb-9",)),)),
        [_gw("rtb-1", "s3", ["subnet-a"], ("vpce-1",))],
        id="endpoint-on-another-table",
    ),
    pytest.param(
        S3_ONLY,
        snap(
            tables=(rtb("rtb-1", ("subnet-a",)),), endpoints=(vpce("vpce-1", "s3", vpc_id="vpc-2", tables=("rtb-1",)),)
        ),
        [_gw("rtb-1", "s3", ["subnet-a"])],
        id="endpoint-of-another-vpc",
    ),
    pytest.param(
        S3_ONLY,
        snap(tables=(rtb("rtb-1", ("subnet-a",)),), endpoints=(vpce("vpce-1", "s3", "Interface", tables=("rtb-1",)),)),
        [_gw("rtb-1", "s3", ["subnet-a"])],
        id="interface-endpoint-is-not-a-gateway-endpoint",
    ),
    pytest.param(
        S3_ONLY,
        snap(tables=(rtb("rtb-1", ("subnet-a",)),), endpoints=(vpce("vpce-1", "dynamodb", tables=("rtb-1",)),)),
        [_gw("rtb-1", "s3", ["subnet-a"])],
        id="endpoint-of-another-service",
    ),
    pytest.param(S3_ONLY, snap(tables=(rtb("rtb-1", ("subnet-a",), IGW_DEFAULT),)), [], id="public-table-skipped"),
    pytest.param(
        S3_ONLY,
        snap(tables=(rtb("rtb-1", ("subnet-a",), Route("0.0.0.0/0", "igw-1", state="blackhole")),)),
        [_gw("rtb-1", "s3", ["subnet-a"])],
        id="blackhole-igw-default-is-private",
    ),
    pytest.param(
        S3_ONLY,
        snap(tables=(rtb("rtb-1", ("subnet-a",), Route("::/0", "igw-1")),)),
        [_gw("rtb-1", "s3", ["subnet-a"])],
        id="ipv6-only-igw-default-is-private",
    ),
    pytest.param(
        S3_ONLY,
        snap(tables=(rtb("rtb-1", ("subnet-a",), Route("::/0", "eigw-1")),)),
        [_gw("rtb-1", "s3", ["subnet-a"])],
        id="egress-only-igw-is-private",
    ),
    pytest.param(
        S3_ONLY,
        snap(tables=(rtb("rtb-1", ("subnet-a",), Route("0.0.0.0/0", "nat-1")),)),
        [_gw("rtb-1", "s3", ["subnet-a"])],
        id="nat-default-is-private",
    ),
    pytest.param(
        S3_ONLY,
        snap(tables=(rtb("rtb-1", ("subnet-a",), Route("10.0.0.0/8", "igw-1")),)),
        [_gw("rtb-1", "s3", ["subnet-a"])],
        id="non-default-igw-route-is-private",
    ),
    pytest.param(
        S3_ONLY,
        snap(tables=(rtb("rtb-1", ("subnet-a",), IGW_DEFAULT), rtb("rtb-main", main=True))),
        [_gw("rtb-main", "s3", ["subnet-b"])],
        id="main-table-serves-unassociated-subnets",
    ),
    pytest.param(
        S3_ONLY,
        snap(tables=(rtb("rtb-1", ("subnet-a", "subnet-b"), IGW_DEFAULT), rtb("rtb-main", main=True))),
        [],
        id="main-table-serving-nothing-skipped",
    ),
    pytest.param(
        S3_ONLY,
        snap(tables=(rtb("rtb-1", ("subnet-a", "subnet-b"), IGW_DEFAULT), rtb("rtb-edge", gateways=("igw-1",)))),
        [],
        id="edge-association-only-skipped",
    ),
    pytest.param(S3_ONLY, snap(tables=(rtb("rtb-9"),)), [], id="unassociated-table-skipped"),
    pytest.param(
        S3_ONLY,
        snap(vpcs=(vpc(owner=OTHER),), tables=(rtb("rtb-1", ("subnet-a",), owner=OTHER),)),
        [],
        id="other-owners-table-skipped",
    ),
    pytest.param(
        S3_ONLY,
        snap(
            vpcs=(vpc("vpc-1"), vpc("vpc-2")),
            subnets=(subnet("subnet-a"), subnet("subnet-x", "vpc-2")),
            tables=(rtb("rtb-1", ("subnet-a",)), rtb("rtb-2", ("subnet-x",), vpc_id="vpc-2")),
            scope=("vpc-1",),
        ),
        [_gw("rtb-1", "s3", ["subnet-a"])],
        id="out-of-scope-table-skipped",
    ),
    pytest.param(Policy(gateway_endpoints=()), snap(tables=(rtb("rtb-1", ("subnet-a",)),)), [], id="none-required"),
    pytest.param(
        S3_ONLY,
        snap(tables=(rtb("rtb-2", ("subnet-b",)), rtb("rtb-1", ("subnet-a",)))),
        [_gw("rtb-1", "s3", ["subnet-a"]), _gw("rtb-2", "s3", ["subnet-b"])],
        id="sorted-by-table",
    ),
]


@pytest.mark.parametrize(("policy", "snapshot", "expected"), GATEWAY_CASES)
def test_private_subnet_gateway_endpoints(
    policy: Policy, snapshot: NetworkSnapshot, expected: list[tuple[str, str, dict[str, Any]]]
) -> None:
    assert summary(list(check_private_subnet_gateway_endpoints(snapshot, policy))) == expected


def test_gateway_endpoint_detail_names_table_service_and_subnets() -> None:
    (found,) = check_private_subnet_gateway_endpoints(snap(tables=(rtb("rtb-1", ("subnet-a",)),)), S3_ONLY)
    assert "rtb-1" in found.detail and "s3" in found.detail and "subnet-a" in found.detail


# --------------------------------------------------------------------------- required-interface-endpoints

SSM_ECR = Policy(interface_endpoints=("ssm", "ecr.api"))
PRIVATE_A = rtb("rtb-1", ("subnet-a",))
PUBLIC_B = rtb("rtb-2", ("subnet-b",), IGW_DEFAULT)


def _ie(service: str, private: list[str], vpc_id: str = "vpc-1") -> tuple[str, str, dict[str, Any]]:
    return (vpc_id, vpc_id, {"service": service, "private_subnet_ids": private})


INTERFACE_CASES: list[Any] = [
    pytest.param(
        SSM_ECR,
        snap(tables=(PRIVATE_A, PUBLIC_B)),
        [_ie("ecr.api", ["subnet-a"]), _ie("ssm", ["subnet-a"])],
        id="one-per-missing-service-sorted",
    ),
    pytest.param(
        SSM_ECR,
        snap(tables=(PRIVATE_A, PUBLIC_B), endpoints=(vpce("vpce-1", "ssm", "Interface"),)),
        [_ie("ecr.api", ["subnet-a"])],
        id="available-endpoint-satisfies",
    ),
    pytest.param(
        SSM_ECR,
        snap(
            tables=(PRIVATE_A, PUBLIC_B),
            endpoints=(vpce("vpce-1", "ssm", "Interface"), vpce("vpce-2", "ecr.api", "Interface")),
        ),
        [],
        id="all-present",
    ),
    *(
        pytest.param(
            SSM_ECR,
            snap(tables=(PRIVATE_A, PUBLIC_B), endpoints=(vpce("vpce-1", "ssm", "Interface", state),)),
            [_ie("ecr.api", ["subnet-a"])],
            id=f"in-flight-{state}-endpoint-is-not-missing",
        )
        for state in ("pending", "pendingacceptance", "pendingAcceptance")
    ),
    *(
        pytest.param(
            SSM_ECR,
            snap(tables=(PRIVATE_A, PUBLIC_B), endpoints=(vpce("vpce-1", "ssm", "Interface", state),)),
            [_ie("ecr.api", ["subnet-a"]), _ie("ssm", ["subnet-a"])],
            id=f"gone-{state}-endpoint-is-missing",
        )
        for state in ("deleting", "deleted", "failed", "rejected", "expired")
    ),
    pytest.param(
        Policy(interface_endpoints=("s3",)),
        snap(tables=(PRIVATE_A,), endpoints=(vpce("vpce-1", "com.amazonaws.us-west-2.s3", "Interface"),)),
        [_ie("s3", ["subnet-a", "subnet-b"])],
        id="cross-region-by-name-is-not-local",
    ),
    pytest.param(
        Policy(interface_endpoints=("s3",)),
        snap(
            tables=(PRIVATE_A,),
            endpoints=(vpce("vpce-1", "com.amazonaws.us-west-2.s3", "Interface", service_region="us-west-2"),),
        ),
        [_ie("s3", ["subnet-a", "subnet-b"])],
        id="cross-region-as-aws-reports-it",
    ),
    pytest.param(
        Policy(interface_endpoints=("s3",)),
        snap(tables=(PRIVATE_A,), endpoints=(vpce("vpce-1", "s3", "Interface", service_region="us-west-2"),)),
        [_ie("s3", ["subnet-a", "subnet-b"])],
        id="service-region-elsewhere-is-not-local",
    ),
    pytest.param(
        Policy(interface_endpoints=("s3",)),
        snap(tables=(PRIVATE_A,), endpoints=(vpce("vpce-1", "s3", "Interface", service_region=REGION),)),
        [],
        id="service-region-here-satisfies",
    ),
    pytest.param(
        Policy(interface_endpoints=("s3",)),
        snap(
            tables=(PRIVATE_A,),
            endpoints=(
                vpce("vpce-1", "com.amazonaws.us-west-2.s3", "Interface", service_region="us-west-2"),
                vpce("vpce-2", "s3", "Interface"),
            ),
        ),
        [],
        id="local-endpoint-beside-a-cross-region-one",
    ),
    *(
        pytest.param(
            Policy(interface_endpoints=(short,)),
            snap(tables=(PRIVATE_A,), endpoints=(vpce("vpce-1", name, "Interface", service_region=where),)),
            [],
            id=f"global:{name}:{where}",
        )
        for short, name, where in (
            ("iam", "com.amazonaws.iam", None),
            ("iam", "com.amazonaws.iam", "us-east-1"),
            ("route53", "com.amazonaws.route53", None),
            ("s3-global.accesspoint", "com.amazonaws.s3-global.accesspoint", None),
            ("codecatalyst", "aws.api.global.codecatalyst", None),
        )
    ),
    pytest.param(
        Policy(interface_endpoints=("iam",)),
        snap(
            tables=(PRIVATE_A,),
            endpoints=(vpce("vpce-1", "com.amazonaws.iam", "Interface", service_region="us-east-1"),),
            region="eu-west-1",
        ),
        [],
        id="global-service-hosted-in-another-region",
    ),
    *(
        pytest.param(
            Policy(interface_endpoints=(short,)),
            snap(tables=(PRIVATE_A,), endpoints=(vpce("vpce-1", name, "Interface"),), region="cn-north-1"),
            [],
            id=f"china:{name}",
        )
        for short, name in (
            ("ecr.api", "cn.com.amazonaws.cn-north-1.ecr.api"),
            ("transcribe", "cn.com.amazonaws.cn-north-1.transcribe.cn"),
            ("kms", "com.amazonaws.cn-north-1.kms"),
        )
    ),
    pytest.param(
        Policy(interface_endpoints=("ecr.api",)),
        snap(tables=(PRIVATE_A,), endpoints=(vpce("vpce-1", "cn.com.amazonaws.cn-northwest-1.ecr.api", "Interface"),)),
        [_ie("ecr.api", ["subnet-a", "subnet-b"])],
        id="china-name-of-another-region-in-us-east-1",
    ),
    pytest.param(
        Policy(interface_endpoints=("bcm-data-exports", "sagemaker.notebook")),
        snap(
            tables=(PRIVATE_A,),
            endpoints=(
                vpce("vpce-1", f"aws.api.{REGION}.bcm-data-exports", "Interface"),
                vpce("vpce-2", f"aws.sagemaker.{REGION}.notebook", "Interface"),
            ),
        ),
        [],
        id="aws-prefixed-names",
    ),
    pytest.param(
        Policy(interface_endpoints=("ssm",)),
        snap(
            tables=(PRIVATE_A,), endpoints=(vpce("vpce-1", f"com.amazonaws.vpce.{REGION}.vpce-svc-0ssm", "Interface"),)
        ),
        [_ie("ssm", ["subnet-a", "subnet-b"])],
        id="privatelink-service-is-no-aws-service",
    ),
    pytest.param(
        Policy(interface_endpoints=("transfer.server",)),
        snap(tables=(PRIVATE_A,), endpoints=(vpce("vpce-1", "transfer.server", "Interface", requester_managed=True),)),
        [],
        id="requester-managed-endpoint-reaches-the-service",
    ),
    pytest.param(
        SSM_ECR,
        snap(tables=(PRIVATE_A, PUBLIC_B), endpoints=(vpce("vpce-1", "ssm", "Interface", vpc_id="vpc-2"),)),
        [_ie("ecr.api", ["subnet-a"]), _ie("ssm", ["subnet-a"])],
        id="endpoint-in-another-vpc",
    ),
    pytest.param(
        Policy(interface_endpoints=("ssm",)),
        snap(tables=(PRIVATE_A, PUBLIC_B), endpoints=(vpce("vpce-1", "ssm", "Gateway"),)),
        [_ie("ssm", ["subnet-a"])],
        id="wrong-endpoint-type",
    ),
    pytest.param(
        SSM_ECR,
        snap(tables=(rtb("rtb-1", ("subnet-a", "subnet-b"), IGW_DEFAULT),)),
        [],
        id="all-subnets-public",
    ),
    pytest.param(
        Policy(interface_endpoints=("ssm",)),
        snap(tables=()),
        [_ie("ssm", ["subnet-a", "subnet-b"])],
        id="no-route-table-at-all-is-private",
    ),
    pytest.param(
        Policy(interface_endpoints=("ssm",)),
        snap(tables=(PRIVATE_A, rtb("rtb-main", (), IGW_DEFAULT, main=True))),
        [_ie("ssm", ["subnet-a"])],
        id="subnet-on-public-main-table-is-public",
    ),
    pytest.param(
        Policy(interface_endpoints=("ssm",)),
        snap(tables=(rtb("rtb-1", ("subnet-a", "subnet-b"), Route("0.0.0.0/0", "igw-1", state="blackhole")),)),
        [_ie("ssm", ["subnet-a", "subnet-b"])],
        id="blackhole-igw-default-is-private",
    ),
    pytest.param(
        Policy(interface_endpoints=("ssm",)),
        snap(tables=(rtb("rtb-1", ("subnet-a", "subnet-b"), Route("0.0.0.0/0", "nat-1")),)),
        [_ie("ssm", ["subnet-a", "subnet-b"])],
        id="nat-subnets-are-private",
    ),
    pytest.param(SSM_ECR, snap(subnets=()), [], id="vpc-without-subnets"),
    pytest.param(Policy(), snap(tables=(PRIVATE_A,)), [], id="none-required"),
    pytest.param(SSM_ECR, snap(vpcs=(vpc(owner=OTHER),), tables=(PRIVATE_A,)), [], id="other-owners-vpc-skipped"),
    pytest.param(
        Policy(interface_endpoints=("ssm",)),
        snap(
            vpcs=(vpc("vpc-1"), vpc("vpc-2")),
            subnets=(subnet("subnet-a"), subnet("subnet-x", "vpc-2")),
            scope=("vpc-2",),
        ),
        [_ie("ssm", ["subnet-x"], "vpc-2")],
        id="out-of-scope-skipped",
    ),
]


@pytest.mark.parametrize(("policy", "snapshot", "expected"), INTERFACE_CASES)
def test_required_interface_endpoints(
    policy: Policy, snapshot: NetworkSnapshot, expected: list[tuple[str, str, dict[str, Any]]]
) -> None:
    assert summary(list(check_required_interface_endpoints(snapshot, policy))) == expected


def test_required_interface_endpoint_detail_names_the_region() -> None:
    endpoint = vpce("vpce-1", "com.amazonaws.us-west-2.s3", "Interface", service_region="us-west-2")
    snapshot = snap(tables=(PRIVATE_A,), endpoints=(endpoint,))
    (found,) = check_required_interface_endpoints(snapshot, Policy(interface_endpoints=("s3",)))
    assert "s3 in us-east-1" in found.detail and "subnet-a" in found.detail


# --------------------------------------------------------------------------- interface-endpoint-private-dns

SSM_NAME = f"com.amazonaws.{REGION}.ssm"
PRIVATE_DNS_FAIL = [("vpce-1", "vpc-1", {"service": "ssm", "service_name": SSM_NAME})]

PRIVATE_DNS_CASES: list[Any] = [
    pytest.param(vpce("vpce-1", "ssm", "Interface"), (), PRIVATE_DNS_FAIL, id="disabled"),
    pytest.param(vpce("vpce-1", "ssm", "Interface", private_dns=True), (), [], id="enabled"),
    pytest.param(vpce("vpce-1", "s3", "Gateway"), (), [], id="gateway-endpoint"),
    pytest.param(
        vpce("vpce-1", f"com.amazonaws.vpce.{REGION}.vpce-svc-0123", "Interface"), (), [], id="privatelink-service"
    ),
    pytest.param(vpce("vpce-1", "ssm", "Interface", "pending"), (), PRIVATE_DNS_FAIL, id="pending"),
    pytest.param(vpce("vpce-1", "ssm", "Interface", "pendingacceptance"), (), PRIVATE_DNS_FAIL, id="pendingacceptance"),
    *(
        pytest.param(vpce("vpce-1", "ssm", "Interface", state), (), [], id=f"state-{state}")
        for state in ("deleted", "deleting", "failed", "rejected", "expired")
    ),
    pytest.param(vpce("vpce-1", "ssm", "Interface", owner=OTHER), (), [], id="other-owner"),
    pytest.param(vpce("vpce-1", "ssm", "Interface"), ("vpc-2",), [], id="out-of-scope"),
    pytest.param(vpce("vpce-1", "ssm", "Interface"), ("vpc-1",), PRIVATE_DNS_FAIL, id="in-scope"),
    pytest.param(
        vpce("vpce-1", f"aws.sagemaker.{REGION}.notebook", "Interface"),
        (),
        [("vpce-1", "vpc-1", {"service": "sagemaker.notebook", "service_name": f"aws.sagemaker.{REGION}.notebook"})],
        id="aws-prefixed-service",
    ),
    pytest.param(
        vpce("vpce-1", "transfer.server", "Interface", requester_managed=True), (), [], id="requester-managed"
    ),
    pytest.param(
        vpce("vpce-1", "transfer.server", "Interface"),
        (),
        [
            (
                "vpce-1",
                "vpc-1",
                {"service": "transfer.server", "service_name": f"com.amazonaws.{REGION}.transfer.server"},
            )
        ],
        id="not-requester-managed",
    ),
    pytest.param(
        vpce("vpce-1", "com.amazonaws.iam", "Interface"),
        (),
        [("vpce-1", "vpc-1", {"service": "iam", "service_name": "com.amazonaws.iam"})],
        id="global-service",
    ),
    pytest.param(
        vpce("vpce-1", "cn.com.amazonaws.cn-north-1.ecr.api", "Interface"),
        (),
        [("vpce-1", "vpc-1", {"service": "ecr.api", "service_name": "cn.com.amazonaws.cn-north-1.ecr.api"})],
        id="china-name-is-an-aws-service",
    ),
    pytest.param(
        vpce("vpce-1", "cn.com.amazonaws.vpce.cn-north-1.vpce-svc-0123", "Interface"),
        (),
        [],
        id="china-privatelink-service",
    ),
    pytest.param(vpce("vpce-1", "ssm", "Interface", "Deleting"), (), [], id="gone-in-any-case"),
]


@pytest.mark.parametrize(("endpoint", "scope", "expected"), PRIVATE_DNS_CASES)
def test_interface_endpoint_private_dns(
    endpoint: VpcEndpoint, scope: tuple[str, ...], expected: list[tuple[str, str, dict[str, Any]]]
) -> None:
    snapshot = snap(endpoints=(endpoint,), scope=scope)
    assert summary(list(check_interface_endpoint_private_dns(snapshot, Policy()))) == expected


def test_interface_endpoint_private_dns_sorted() -> None:
    endpoints = (vpce("vpce-2", "ssm", "Interface"), vpce("vpce-1", "sts", "Interface"))
    found = list(check_interface_endpoint_private_dns(snap(endpoints=endpoints), Policy()))
    assert [v.resource_id for v in found] == ["vpce-1", "vpce-2"]
    assert "vpce-1" in found[0].detail and f"com.amazonaws.{REGION}.sts" in found[0].detail


# --------------------------------------------------------------------------- service names (model)

SERVICE_NAMES: list[Any] = [
    # name, is an AWS service, the region it names, short name
    ("com.amazonaws.us-east-1.ecr.api", True, "us-east-1", "ecr.api"),
    ("com.amazonaws.us-gov-west-1.s3", True, "us-gov-west-1", "s3"),
    ("com.amazonaws.iam", True, None, "iam"),
    ("com.amazonaws.route53", True, None, "route53"),
    ("com.amazonaws.savingsplans", True, None, "savingsplans"),
    ("com.amazonaws.s3-global.accesspoint", True, None, "s3-global.accesspoint"),
    ("aws.api.global.codecatalyst", True, None, "codecatalyst"),
    ("aws.api.us-east-1.bcm-data-exports", True, "us-east-1", "bcm-data-exports"),
    ("aws.sagemaker.us-east-1.notebook", True, "us-east-1", "sagemaker.notebook"),
    ("api.aws.us-east-1.cassandra-streams", True, "us-east-1", "cassandra-streams"),
    ("cn.com.amazonaws.cn-north-1.s3", True, "cn-north-1", "s3"),
    ("cn.com.amazonaws.cn-northwest-1.transcribe.cn", True, "cn-northwest-1", "transcribe"),
    ("com.amazonaws.cn-north-1.kms", True, "cn-north-1", "kms"),
    ("com.amazonaws.vpce.us-east-1.vpce-svc-0123456789abcdef0", False, None, None),
    ("cn.com.amazonaws.vpce.cn-north-1.vpce-svc-0123456789abcdef0", False, None, None),
    ("com.amazonaws.us-east-1", False, None, None),
    ("aws.api", False, None, None),
    ("example.com.my-service", False, None, None),
    ("", False, None, None),
]


@pytest.mark.parametrize(("name", "is_aws", "region", "short"), SERVICE_NAMES)
def test_service_names(name: str, is_aws: bool, region: str | None, short: str | None) -> None:
    endpoint = VpcEndpoint("vpce-1", "vpc-1", name, "Interface", "available")
    assert (endpoint.is_aws_service, endpoint.service_name_region) == (is_aws, region)
    assert endpoint.service == service_short_name(name) == (short or name)  # not AWS's: the name whole


@pytest.mark.parametrize(
    ("name", "service_region", "region", "serves"),
    [
        ("com.amazonaws.us-east-1.s3", None, "us-east-1", True),
        ("com.amazonaws.us-east-1.s3", "us-east-1", "us-east-1", True),
        ("com.amazonaws.us-west-2.s3", "us-west-2", "us-east-1", False),
        ("com.amazonaws.us-west-2.s3", None, "us-east-1", False),
        ("com.amazonaws.us-east-1.s3", "us-west-2", "us-east-1", False),
        ("com.amazonaws.us-west-2.s3", "us-west-2", "us-west-2", True),
        ("com.amazonaws.iam", "us-east-1", "eu-west-1", True),
        ("aws.api.global.codecatalyst", None, "eu-west-1", True),
        ("cn.com.amazonaws.cn-north-1.s3", None, "cn-north-1", True),
        ("com.amazonaws.vpce.us-east-1.vpce-svc-1", None, "us-east-1", False),
    ],
)
def test_endpoint_serves_the_service_of_the_region(
    name: str, service_region: str | None, region: str, serves: bool
) -> None:
    endpoint = VpcEndpoint("vpce-1", "vpc-1", name, "Interface", "available", service_region=service_region)
    assert endpoint.serves(endpoint.service, region) is serves
    assert not endpoint.serves("no-such-service", region)


# --------------------------------------------------------------------------- endpoint services


def svc(
    service_id: str = "vpce-svc-1",
    acceptance: bool = True,
    principals: tuple[str, ...] = (),
    state: str = "Available",
    owner: str = ACCOUNT,
) -> EndpointService:
    return EndpointService(
        service_id, f"com.amazonaws.vpce.{REGION}.{service_id}", acceptance, principals, state, owner
    )


ACCEPTANCE_CASES: list[Any] = [
    pytest.param(svc(acceptance=False), (), ["vpce-svc-1"], id="no-acceptance"),
    pytest.param(svc(acceptance=True), (), [], id="acceptance-required"),
    pytest.param(svc(acceptance=False, state="Pending"), (), ["vpce-svc-1"], id="pending"),
    *(
        pytest.param(svc(acceptance=False, state=state), (), [], id=f"state-{state}")
        for state in ("Deleted", "Deleting", "Failed")
    ),
    pytest.param(svc(acceptance=False, owner=OTHER), (), [], id="other-owner"),
    # Endpoint services belong to no VPC: a scoped audit neither collects nor judges them.
    pytest.param(svc(acceptance=False), ("vpc-1",), [], id="not-judged-in-scoped-audit"),
]


@pytest.mark.parametrize(("service", "scope", "expected"), ACCEPTANCE_CASES)
def test_endpoint_service_acceptance_required(
    service: EndpointService, scope: tuple[str, ...], expected: list[str]
) -> None:
    found = list(check_endpoint_service_acceptance_required(snap(services=(service,), scope=scope), Policy()))
    assert [v.resource_id for v in found] == expected
    for v in found:
        assert v.vpc_id is None
        assert dict(v.evidence) == {"service_name": service.service_name}
        assert service.service_id in v.detail


def test_endpoint_service_acceptance_sorted() -> None:
    services = (svc("vpce-svc-2", acceptance=False), svc("vpce-svc-1", acceptance=False))
    found = list(check_endpoint_service_acceptance_required(snap(services=services), Policy()))
    assert [v.resource_id for v in found] == ["vpce-svc-1", "vpce-svc-2"]


def _arn(account: str, resource: str = "root") -> str:
    return f"arn:aws:iam::{account}:{resource}"


ORG_OTHER = f"arn:aws:organizations::{OTHER}:organization/o-abc"
ORG_THIRD = f"arn:aws:organizations::{THIRD}:organization/o-xyz"
TRUST_OTHER = (OTHER,)

TRUSTED_CASES: list[Any] = [
    pytest.param((), ("*",), ["*"], id="star-without-trusted-list"),
    pytest.param((), (_arn(THIRD),), [], id="any-account-when-no-trusted-list"),
    pytest.param((), (), [], id="no-principals"),
    pytest.param(TRUST_OTHER, (_arn(OTHER),), [], id="trusted-root"),
    pytest.param(TRUST_OTHER, (_arn(OTHER, "role/app"),), [], id="trusted-role"),
    pytest.param(TRUST_OTHER, (_arn(THIRD, "role/app"),), [_arn(THIRD, "role/app")], id="untrusted-role"),
    pytest.param(TRUST_OTHER, (_arn(ACCOUNT),), [], id="own-account-always-trusted"),
    pytest.param(TRUST_OTHER, (OTHER,), [], id="bare-trusted-id"),
    pytest.param(TRUST_OTHER, (THIRD,), [THIRD], id="bare-untrusted-id"),
    pytest.param(TRUST_OTHER, (ORG_OTHER,), [], id="trusted-organization"),
    pytest.param(TRUST_OTHER, (ORG_THIRD,), [ORG_THIRD], id="untrusted-organization"),
    pytest.param(TRUST_OTHER, ("ec2.amazonaws.com",), ["ec2.amazonaws.com"], id="undeterminable-is-untrusted"),
    pytest.param(TRUST_OTHER, ("arn:aws:iam::*:root",), ["arn:aws:iam::*:root"], id="wildcard-account"),
    pytest.param(TRUST_OTHER, ("*", _arn(OTHER)), ["*"], id="star-with-trusted-list"),
    pytest.param(
        TRUST_OTHER,
        (_arn(THIRD), "*", _arn(OTHER), THIRD),
        ["*", THIRD, _arn(THIRD)],
        id="several-sorted",
    ),
]


@pytest.mark.parametrize(("trusted", "principals", "expected"), TRUSTED_CASES)
def test_endpoint_service_trusted_principals(
    trusted: tuple[str, ...], principals: tuple[str, ...], expected: list[str]
) -> None:
    snapshot = snap(services=(svc(principals=principals),))
    found = list(check_endpoint_service_trusted_principals(snapshot, Policy(trusted_accounts=trusted)))
    assert [(v.resource_id, v.vpc_id, dict(v.evidence)) for v in found] == (
        [("vpce-svc-1", None, {"untrusted_principals": expected})] if expected else []
    )


@pytest.mark.parametrize(
    "service",
    [
        pytest.param(svc(principals=("*",), state="Deleted"), id="deleted"),
        pytest.param(svc(principals=("*",), owner=OTHER), id="other-owner"),
    ],
)
def test_endpoint_service_trusted_principals_skips(service: EndpointService) -> None:
    assert list(check_endpoint_service_trusted_principals(snap(services=(service,)), Policy())) == []


@pytest.mark.parametrize(
    ("principal", "account"),
    [
        (_arn(OTHER), OTHER),
        (_arn(OTHER, "user/alice"), OTHER),
        (ORG_THIRD, THIRD),
        (f"arn:aws-us-gov:iam::{THIRD}:root", THIRD),
        (OTHER, OTHER),
        ("*", None),
        ("12345", None),
        ("arn:aws:iam::*:root", None),
        ("ec2.amazonaws.com", None),
    ],
)
def test_principal_account(principal: str, account: str | None) -> None:
    assert principal_account(principal) == account


def test_interface_endpoint_evidence_names_one_private_subnet_per_zone() -> None:
    """create-vpc-endpoint takes at most one subnet per Availability Zone: the evidence names
    them for the fix when the private subnets share zones."""
    zoned = (
        Subnet("subnet-a", "vpc-1", ACCOUNT, "10.0.1.0/24", availability_zone="us-east-1a"),
        Subnet("subnet-b", "vpc-1", ACCOUNT, "10.0.2.0/24", availability_zone="us-east-1a"),
        Subnet("subnet-c", "vpc-1", ACCOUNT, "10.0.3.0/24", availability_zone="us-east-1b"),
    )
    (found,) = check_required_interface_endpoints(
        snap(subnets=zoned, tables=(rtb("rtb-1", main=True),)), Policy(interface_endpoints=("ssm",))
    )
    assert found.evidence["private_subnet_ids"] == ["subnet-a", "subnet-b", "subnet-c"]
    assert found.evidence["endpoint_subnet_ids"] == ["subnet-a", "subnet-c"]
