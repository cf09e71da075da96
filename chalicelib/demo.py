"""``vpcwatch demo``: the lab story on an embedded AWS emulator (moto, in-process), no
account needed. Builds the lab, audits it, applies the lab's fix, audits again."""

from __future__ import annotations

import os
from typing import TextIO

import boto3

from chalicelib.audit import AuditResult, run_audit
from chalicelib.collect.ec2 import collect_region
from chalicelib.collect.session import account_id, make_client
from chalicelib.model import NetworkSnapshot
from chalicelib.policy import Policy

REGION = "us-east-1"


def _audit(session: boto3.session.Session, account: str) -> AuditResult:
    def collect(region: str) -> NetworkSnapshot:
        return collect_region(make_client(session, "ec2", region), account_id=account, region=region)

    return run_audit(collect, account_id=account, regions=[REGION], policy=Policy())


def run_demo(out: TextIO) -> int:
    from moto import mock_aws  # a development dependency: only the demo needs it

    from chalicelib.lab import apply_fix, build_lab, remove_default_vpc
    from chalicelib.render.table import render

    # The emulator answers in-process: no endpoint override, no real credentials used.
    for name in ("AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_EC2", "AWS_ENDPOINT_URL_STS", "AWS_PROFILE"):
        os.environ.pop(name, None)
    with mock_aws():
        session = boto3.session.Session(region_name=REGION)
        ec2 = make_client(session, "ec2", REGION)
        remove_default_vpc(ec2)
        lab = build_lab(ec2, make_client(session, "s3", REGION), REGION)
        account = account_id(session, REGION)
        out.write(
            f"== 1. The lab, built in the embedded emulator ({REGION}, account {account})\n"
            f"   app {lab.app_vpc} 10.0.0.0/16 (private subnet {lab.app_private_subnet}, table {lab.app_private_rtb})\n"
            f"   hub {lab.hub_vpc} 10.1.0.0/16, legacy {lab.legacy_vpc} 10.0.0.0/16 (overlaps app)\n"
            f"   peerings {lab.pcx_app_hub} (app-hub), {lab.pcx_hub_legacy} (hub-legacy); "
            f"transit gateway {lab.tgw} with app and legacy\n\n"
        )
        before = _audit(session, account)
        out.write("== 2. First audit\n" + render(before) + "\n")

        response = apply_fix(ec2, lab)
        endpoint = response["VpcEndpoint"]["VpcEndpointId"]
        out.write(f"== 3. The fix: S3 gateway endpoint {endpoint} on private route table {lab.app_private_rtb}\n\n")

        after = _audit(session, account)
        resolved = [f for f in before.findings if f.id not in {g.id for g in after.findings}]
        out.write("== 4. Audit after the fix\n" + render(after) + "\n")
        out.write(f"== 5. Resolved by the fix ({len(resolved)}):\n")
        for finding in resolved:
            out.write(f"   RESOLVED {finding.check} on {finding.resource_id}: {finding.detail}\n")
    return 0
