"""A VPC-scoped collection for a few checks reads only what those checks need, and what
the scoped route tables reference; its findings for those checks equal a full audit's."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from typing import Any

import boto3

from chalicelib.aws.collect.ec2 import collect_region
from chalicelib.aws.session import CallCounter
from chalicelib.core.audit import evaluate
from chalicelib.core.checks import CHECK_BY_ID
from chalicelib.core.events import FLOW_LOG_CHECKS, ROUTE_CHECKS, TGW_CHECKS
from chalicelib.core.policy import Policy
from tests.integration.conftest import ACCOUNT, REGION
from vpcwatch_tools.lab import build_lab, remove_default_vpc

NOW = dt.datetime(2026, 11, 26, tzinfo=dt.UTC)


def keys(snapshot: Any, checks: tuple[str, ...], vpc: str) -> set[tuple[str, str, Any]]:
    """The findings on ``vpc`` of the checks a scoped audit judges (the path checks judge
    region-wide only: their subjects are empty in a scoped snapshot)."""
    scoped = [c for c in checks if CHECK_BY_ID[c].subjects(replace(snapshot, scope_vpc_ids=(vpc,)))]
    result = evaluate(snapshot, Policy(), NOW, scoped)
    return {(f.check, f.resource_id, f.evidence.get("service")) for f in result.findings if f.vpc_id == vpc}


def test_route_checks_of_one_vpc_cost_a_handful_of_calls(ec2: Any, session: boto3.session.Session) -> None:
    remove_default_vpc(ec2)
    lab = build_lab(ec2, session.client("s3", region_name=REGION), REGION)
    full = collect_region(ec2, account_id=ACCOUNT, region=REGION)
    with CallCounter(ec2) as counter:
        lean = collect_region(ec2, account_id=ACCOUNT, region=REGION, vpc_ids=[lab.app_vpc], checks=ROUTE_CHECKS)
    # app's tables route to an internet gateway and a peering: nothing else is described but
    # the peer VPC (hub, in this region), as the full audit sees it (all its CIDRs), in the
    # same call as app
    assert dict(counter.by_operation) == {
        "DescribeVpcs": 1,
        "DescribeSubnets": 1,
        "DescribeRouteTables": 1,
        "DescribeInternetGateways": 1,
        "DescribeVpcEndpoints": 1,
        "DescribeVpcPeeringConnections": 1,
    }
    assert lean.errors == () and lean.api_calls == 6
    assert [p.peering_id for p in lean.peerings] == [lab.pcx_app_hub]
    assert keys(lean, ROUTE_CHECKS, lab.app_vpc) == keys(full, ROUTE_CHECKS, lab.app_vpc)
    assert keys(lean, ROUTE_CHECKS, lab.app_vpc)  # the private table's missing endpoints


def test_other_families_collect_their_own_data(ec2: Any, session: boto3.session.Session) -> None:
    remove_default_vpc(ec2)
    lab = build_lab(ec2, session.client("s3", region_name=REGION), REGION)
    full = collect_region(ec2, account_id=ACCOUNT, region=REGION)
    for checks in (FLOW_LOG_CHECKS, TGW_CHECKS):
        for vpc in (lab.app_vpc, lab.legacy_vpc, lab.hub_vpc):
            lean = collect_region(ec2, account_id=ACCOUNT, region=REGION, vpc_ids=[vpc], checks=checks)
            assert lean.errors == ()
            assert keys(lean, checks, vpc) == keys(full, checks, vpc), (checks, vpc)
    with CallCounter(ec2) as counter:
        collect_region(ec2, account_id=ACCOUNT, region=REGION, vpc_ids=[lab.hub_vpc], checks=FLOW_LOG_CHECKS)
    assert set(counter.by_operation) == {"DescribeVpcs", "DescribeSubnets", "DescribeFlowLogs"}
