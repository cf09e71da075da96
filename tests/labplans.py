"""Two Terraform plans over the lab landscape (``vpcwatch_tools.lab``), as if Terraform managed
the lab: every lab resource is in the plan as a no-op with its live values, so the plans
run ``--offline`` as well as against the live lab.

- ``overlap``: a new ``reporting`` VPC (10.1.128.0/17, inside hub's 10.1.0.0/16) peered
  with hub, with a route to hub over the new peering: introduces the overlap (HIGH).
- ``fix``: the lab's fix, an S3 gateway endpoint on the private route table: resolves its
  finding and introduces nothing.

``python -m tests.labplans`` rewrites ``examples/plans/`` from the fixed ids below.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from tests.planbuilder import PlanBuilder
from vpcwatch_tools.lab import Lab

ACCOUNT = "123456789012"
EXAMPLE_LAB = Lab(
    region="us-east-1",
    app_vpc="vpc-0a11a11a11a11a11a",
    hub_vpc="vpc-0b22b22b22b22b22b",
    legacy_vpc="vpc-0c33c33c33c33c33c",
    app_public_subnet="subnet-0a1a1a1a1a1a1a1a1",
    app_private_subnet="subnet-0a2a2a2a2a2a2a2a2",
    app_private_rtb="rtb-0a2a2a2a2a2a2a2a2",
    hub_main_rtb="rtb-0b0b0b0b0b0b0b0b0",
    legacy_main_rtb="rtb-0c0c0c0c0c0c0c0c0",
    pcx_app_hub="pcx-0ab0ab0ab0ab0ab0a",
    pcx_hub_legacy="pcx-0bc0bc0bc0bc0bc0b",
    tgw="tgw-0d0d0d0d0d0d0d0d0",
    tgw_rtb="tgw-rtb-0d1d1d1d1d1d1d1d1",
    app_attachment="tgw-attach-0a0a0a0a0a0a0a0a",
    legacy_attachment="tgw-attach-0c0c0c0c0c0c0c0c",
)
EXAMPLE_EXTRA = {  # lab resources the Lab record does not name
    "app_public_rtb": "rtb-0a1a1a1a1a1a1a1a1",
    "hub_subnet": "subnet-0b1b1b1b1b1b1b1b1",
    "legacy_subnet": "subnet-0c1c1c1c1c1c1c1c1",
    "igw": "igw-0a0a0a0a0a0a0a0a0",
    "flow_log": "fl-0a0a0a0a0a0a0a0a0",
}


def _arn(lab: Lab, kind: str, resource_id: str) -> str:
    return f"arn:aws:ec2:{lab.region}:{ACCOUNT}:{kind}/{resource_id}"


def lab_state(b: PlanBuilder, lab: Lab, extra: dict[str, str]) -> None:
    """The lab as no-op resources (their ``before`` = ``after`` = the live values)."""

    def vpc(name: str, vpc_id: str, cidr: str) -> None:
        b.existing(
            "aws_vpc",
            name,
            {
                "id": vpc_id,
                "arn": _arn(lab, "vpc", vpc_id),
                "cidr_block": cidr,
                "owner_id": ACCOUNT,
                "tags": {"Name": name},
            },
        )

    vpc("app", lab.app_vpc, "10.0.0.0/16")
    vpc("hub", lab.hub_vpc, "10.1.0.0/16")
    vpc("legacy", lab.legacy_vpc, "10.0.0.0/16")
    for name, subnet_id, vpc_id, cidr in (
        ("app_public", lab.app_public_subnet, lab.app_vpc, "10.0.0.0/24"),
        ("app_private", lab.app_private_subnet, lab.app_vpc, "10.0.1.0/24"),
        ("hub_a", extra["hub_subnet"], lab.hub_vpc, "10.1.0.0/24"),
        ("legacy_a", extra["legacy_subnet"], lab.legacy_vpc, "10.0.0.0/24"),
    ):
        b.existing(
            "aws_subnet",
            name,
            {
                "id": subnet_id,
                "vpc_id": vpc_id,
                "cidr_block": cidr,
                "availability_zone": f"{lab.region}a",
                "owner_id": ACCOUNT,
            },
        )
    b.existing("aws_internet_gateway", "app", {"id": extra["igw"], "vpc_id": lab.app_vpc, "owner_id": ACCOUNT})
    b.existing(
        "aws_route_table",
        "app_public",
        {
            "id": extra["app_public_rtb"],
            "vpc_id": lab.app_vpc,
            "owner_id": ACCOUNT,
            "route": [{"cidr_block": "0.0.0.0/0", "gateway_id": extra["igw"]}],
        },
    )
    b.existing(
        "aws_route_table",
        "app_private",
        {
            "id": lab.app_private_rtb,
            "vpc_id": lab.app_vpc,
            "owner_id": ACCOUNT,
            "route": [{"cidr_block": "10.1.0.0/16", "vpc_peering_connection_id": lab.pcx_app_hub}],
        },
    )
    for name, subnet_id, rtb in (
        ("app_public", lab.app_public_subnet, extra["app_public_rtb"]),
        ("app_private", lab.app_private_subnet, lab.app_private_rtb),
    ):
        b.existing(
            "aws_route_table_association",
            name,
            {"id": f"rtbassoc-0{name.replace('_', '')}", "subnet_id": subnet_id, "route_table_id": rtb},
        )
    b.existing(
        "aws_default_route_table",
        "hub",
        {
            "id": lab.hub_main_rtb,
            "default_route_table_id": lab.hub_main_rtb,
            "vpc_id": lab.hub_vpc,
            "owner_id": ACCOUNT,
            "route": [{"cidr_block": "10.0.0.0/8", "vpc_peering_connection_id": lab.pcx_app_hub}],
        },
    )
    b.existing(
        "aws_default_route_table",
        "legacy",
        {
            "id": lab.legacy_main_rtb,
            "vpc_id": lab.legacy_vpc,
            "default_route_table_id": lab.legacy_main_rtb,
            "owner_id": ACCOUNT,
            "route": [],
        },
    )
    for name, pcx, requester, accepter in (
        ("app_hub", lab.pcx_app_hub, lab.app_vpc, lab.hub_vpc),
        ("hub_legacy", lab.pcx_hub_legacy, lab.hub_vpc, lab.legacy_vpc),
    ):
        b.existing(
            "aws_vpc_peering_connection",
            name,
            {
                "id": pcx,
                "vpc_id": requester,
                "peer_vpc_id": accepter,
                "peer_owner_id": ACCOUNT,
                "accept_status": "active",
                "auto_accept": True,
            },
        )
    b.existing(
        "aws_flow_log",
        "app",
        {
            "id": extra["flow_log"],
            "vpc_id": lab.app_vpc,
            "traffic_type": "ALL",
            "log_destination_type": "s3",
            "log_destination": "arn:aws:s3:::vpcwatch-lab-flow-logs",
        },
    )
    b.existing(
        "aws_ec2_transit_gateway",
        "lab",
        {
            "id": lab.tgw,
            "owner_id": ACCOUNT,
            "description": "lab hub",
            "auto_accept_shared_attachments": "disable",
            "default_route_table_association": "enable",
            "default_route_table_propagation": "disable",
            "association_default_route_table_id": lab.tgw_rtb,
            "propagation_default_route_table_id": lab.tgw_rtb,
        },
    )
    for name, attachment, vpc_id, subnet in (
        ("app", lab.app_attachment, lab.app_vpc, lab.app_private_subnet),
        ("legacy", lab.legacy_attachment, lab.legacy_vpc, extra["legacy_subnet"]),
    ):
        b.existing(
            "aws_ec2_transit_gateway_vpc_attachment",
            name,
            {
                "id": attachment,
                "transit_gateway_id": lab.tgw,
                "vpc_id": vpc_id,
                "subnet_ids": [subnet],
                "vpc_owner_id": ACCOUNT,
                "transit_gateway_default_route_table_association": True,
                "transit_gateway_default_route_table_propagation": False,
            },
        )
        b.existing(
            "aws_ec2_transit_gateway_route_table_propagation",
            name,
            {
                "id": f"{lab.tgw_rtb}_{attachment}",
                "transit_gateway_route_table_id": lab.tgw_rtb,
                "transit_gateway_attachment_id": attachment,
            },
        )


def overlap(lab: Lab = EXAMPLE_LAB, extra: dict[str, str] = EXAMPLE_EXTRA) -> dict[str, Any]:
    b = PlanBuilder(region=lab.region)
    lab_state(b, lab, extra)
    b.create("aws_vpc", "reporting", {"cidr_block": "10.1.128.0/17", "tags": {"Name": "reporting"}})
    b.create(
        "aws_vpc_peering_connection",
        "hub_reporting",
        {"vpc_id": lab.hub_vpc, "auto_accept": True},
        refs={"peer_vpc_id": "aws_vpc.reporting"},
    )
    b.create(
        "aws_route",
        "reporting_to_hub",
        {"destination_cidr_block": "10.1.0.0/16"},
        refs={
            "route_table_id": "aws_vpc.reporting.main_route_table_id",
            "vpc_peering_connection_id": "aws_vpc_peering_connection.hub_reporting",
        },
    )
    return b.doc()


def fix(lab: Lab = EXAMPLE_LAB, extra: dict[str, str] = EXAMPLE_EXTRA) -> dict[str, Any]:
    b = PlanBuilder(region=lab.region)
    lab_state(b, lab, extra)
    b.create(
        "aws_vpc_endpoint",
        "s3",
        {
            "vpc_id": lab.app_vpc,
            "service_name": f"com.amazonaws.{lab.region}.s3",
            "vpc_endpoint_type": "Gateway",
            "route_table_ids": [lab.app_private_rtb],
        },
    )
    return b.doc()


def write_examples(directory: Path) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    for name, doc in (("lab-overlap.json", overlap()), ("lab-s3-endpoint-fix.json", fix())):
        (directory / name).write_text(json.dumps(doc, indent=1) + "\n")


if __name__ == "__main__":
    write_examples(Path(sys.argv[1] if len(sys.argv) > 1 else "examples/plans"))
