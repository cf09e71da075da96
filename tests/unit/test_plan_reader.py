"""The plan reader on real ``terraform show -json`` plans (tests/fixtures/terraform-plans,
provenance in its README) and on hand-built ones: versions, actions, addresses, references
and unknown values."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from chalicelib.core.plan.reader import APPLIED_TYPES, AWAITING_MODEL, PlanError, load_plan, read_plan, split_reference
from tests.planbuilder import PlanBuilder

PLANS = Path(__file__).resolve().parents[1] / "fixtures" / "terraform-plans"


def real(name: str, strict: bool = True) -> Any:
    return load_plan((PLANS / name).read_text(), strict_version=strict)


def by_address(plan: Any) -> dict[str, Any]:
    return {c.address: c for c in plan.changes}


# ---------------------------------------------------------------------------------
# Real plans
# ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    ["tgw-two-vpcs.tf0.12.20.json", "terraform-aws-modules-vpc.tf0.12.8.json", "flow-log-two-vpcs.tf0.13.5.json"],
)
def test_format_0_1_is_refused_with_the_reason(name: str) -> None:
    with pytest.raises(PlanError, match=r"unsupported plan format_version 0\.1 \(Terraform 0\.1\d\.\d+\).*1\.x"):
        real(name)


def test_new_vpc_nat_private_table_joins_every_planned_link() -> None:
    plan = real("new-vpc-nat-private-table.tf1.14.3.json")
    changes = by_address(plan)
    assert plan.format_version == "1.2" and plan.terraform_version == "1.14.3"
    assert plan.regions(["us-east-1"]) == ("eu-central-1",)  # var.aws_region's value
    assert plan.unknown == ()
    assert changes["aws_subnet.private_a"].after["vpc_id"] == "aws_vpc.main"
    assert changes["aws_nat_gateway.nat"].after["subnet_id"] == "aws_subnet.public_a"
    private = changes["aws_route_table.private"].after["route"]
    assert [(r["cidr_block"], r["nat_gateway_id"]) for r in private] == [("0.0.0.0/0", "aws_nat_gateway.nat")]
    public = changes["aws_route_table.public"].after["route"]
    assert [(r["cidr_block"], r["gateway_id"]) for r in public] == [("0.0.0.0/0", "aws_internet_gateway.igw")]
    association = changes["aws_route_table_association.private_b"].after
    assert (association["subnet_id"], association["route_table_id"]) == (
        "aws_subnet.private_b",
        "aws_route_table.private",
    )
    assert all(c.action == "create" for c in plan.changes)
    # EKS, IAM and the EIP are read by no check; data sources are not resources at all
    assert "aws_eks_cluster.eks" in plan.ignored and "aws_eip.nat" in plan.ignored
    assert not any(a.startswith("data.") for a in plan.ignored)


def test_subnet_into_existing_vpc_keeps_live_ids_and_names_the_planned_subnet() -> None:
    plan = real("subnet-into-existing-vpc.tf1.10.3.json")
    changes = by_address(plan)
    subnet = changes["aws_subnet.subnet"]
    assert subnet.action == "create" and subnet.after["vpc_id"] == "vpc-00c64b1940c321e76"
    association = changes["aws_route_table_association.route_table_association"].after
    assert association["route_table_id"] == "rtb-011efea6acb26ada2"
    assert association["subnet_id"] == "aws_subnet.subnet"
    # no provider region: the no-op resources' ARNs say eu-central-1, the new ones fall to --region
    assert changes["aws_route_table.route_table"].region == "eu-central-1"
    assert subnet.region is None
    assert plan.regions(["eu-central-1"]) == ("eu-central-1",)
    assert plan.managed["rtb-011efea6acb26ada2"] == "aws_route_table.route_table"
    assert plan.managed["igw-03bf39cae175986e7"] == "aws_internet_gateway.igw"
    assert plan.account_id == "337909773697"


def test_modules_and_for_each_keep_their_addresses_and_live_ids() -> None:
    plan = real("modules-foreach-interface-endpoints.tf1.13.2.json")
    changes = by_address(plan)
    assert all(c.action == "no-op" for c in plan.changes)
    endpoint = changes['aws_vpc_endpoint.vpc_endpoints["ssm"]']
    assert endpoint.after["id"] == "vpce-0bce91598847da15b" and endpoint.after["vpc_endpoint_type"] == "Interface"
    assert changes["module.networking.aws_route_table.private[1]"].after["id"] == "rtb-0ecb1ec929552c65b"
    assert plan.managed["vpc-029a8ca1f47edfd4e"] == "module.networking.aws_vpc.vpc"
    assert plan.regions([]) == ("us-east-1",)  # AWS provider 6's per-resource region


def test_tgw_plan_of_terraform_0_12_resolves_object_only_references() -> None:
    plan = real("tgw-two-vpcs.tf0.12.20.json", strict=False)
    changes = by_address(plan)
    attachment = changes["aws_ec2_transit_gateway_vpc_attachment.tgw-att2"].after
    assert attachment["vpc_id"] == "aws_vpc.tgw-vpc2"
    assert attachment["transit_gateway_id"] == "aws_ec2_transit_gateway.tgw"
    assert attachment["subnet_ids"] == ["aws_subnet.vpc2-private_subnets[0]", "aws_subnet.vpc2-private_subnets[1]"]
    route = changes["aws_ec2_transit_gateway_route.tgw-rte2"].after
    assert route["transit_gateway_attachment_id"] == "aws_ec2_transit_gateway_vpc_attachment.tgw-att2"
    assert route["transit_gateway_route_table_id"] == "aws_ec2_transit_gateway_route_table.tgw-rtable"
    # Terraform 0.12 does not export inline route blocks: the targets stay unknown, named
    assert {(u.address, u.attribute) for u in plan.unknown} == {
        ("aws_route_table.vpc2_private_rt", "route[0].gateway_id"),
        ("aws_route_table.vpc_private_rt", "route[0].gateway_id"),
        ("aws_route_table.vpc_public_rt", "route[0].gateway_id"),
        ("aws_route_table.vpc_public_rt", "route[1].gateway_id"),
    }


def test_count_instances_pair_by_index_inside_a_module() -> None:
    plan = real("terraform-aws-modules-vpc.tf0.12.8.json", strict=False)
    changes = by_address(plan)
    for n in range(3):
        route = changes[f"module.vpc.aws_route.private_nat_gateway[{n}]"].after
        assert route["route_table_id"] == f"module.vpc.aws_route_table.private[{n}]"
        assert route["nat_gateway_id"] == f"module.vpc.aws_nat_gateway.this[{n}]"
        assert (
            changes[f"module.vpc.aws_nat_gateway.this[{n}]"].after["subnet_id"] == f"module.vpc.aws_subnet.public[{n}]"
        )
    # a fixed index wins over the instance's own: every public subnet uses public[0]
    assert changes["module.vpc.aws_route_table_association.public[2]"].after["route_table_id"] == (
        "module.vpc.aws_route_table.public[0]"
    )
    # local.vpc_id (locals are not in the JSON) -> the module's only planned VPC
    assert changes["module.vpc.aws_subnet.private[1]"].after["vpc_id"] == "module.vpc.aws_vpc.this[0]"
    # optional targets the configuration does not set are not unknowns
    assert plan.unknown == ()


# ---------------------------------------------------------------------------------
# Refusals
# ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("not json", "not JSON"),
        ("[]", "no format_version"),
        (json.dumps({"format_version": "1.0", "values": {}}), "a state, not a plan"),
        (json.dumps({"format_version": "1.2"}), "not a plan"),
        (json.dumps({"format_version": "2.0", "resource_changes": []}), "unsupported plan format_version 2.0"),
        (json.dumps({"format_version": "1.2", "resource_changes": [], "errored": True}), "errored"),
    ],
)
def test_unsupported_input_is_a_clear_error(text: str, message: str) -> None:
    with pytest.raises(PlanError, match=message):
        load_plan(text)


def test_new_top_level_keys_and_minor_versions_are_read() -> None:
    doc = PlanBuilder(format_version="1.9").doc()
    doc.update(resource_drift=[], relevant_attributes=[], checks=[], some_future_key={"x": 1})
    assert read_plan(doc).format_version == "1.9"


# ---------------------------------------------------------------------------------
# Actions
# ---------------------------------------------------------------------------------

VPC_BEFORE = {"id": "vpc-0aaa", "arn": "arn:aws:ec2:eu-west-1:111122223333:vpc/vpc-0aaa", "cidr_block": "10.0.0.0/16"}


@pytest.mark.parametrize(
    ("action", "expected", "after_id"),
    [
        ("no-op", "no-op", "vpc-0aaa"),
        ("update", "update", "vpc-0aaa"),
        ("delete", "delete", None),
        ("replace", "replace", "aws_vpc.app"),
    ],
)
def test_actions(action: str, expected: str, after_id: str | None) -> None:
    b = PlanBuilder()
    b.existing("aws_vpc", "app", VPC_BEFORE, action=action, after={"tags": {"x": "y"}} if action == "update" else None)
    (change,) = read_plan(b.doc()).changes
    assert change.action == expected
    assert change.before_id == "vpc-0aaa"
    assert (change.after is None) == (after_id is None)
    if after_id is not None:
        assert change.after_id == after_id
    assert change.region == "eu-west-1"  # from the ARN, before the provider's


def test_create_then_delete_order_is_a_replace_too() -> None:
    b = PlanBuilder()
    b.existing("aws_vpc", "app", VPC_BEFORE, action="replace")
    doc = b.doc()
    doc["resource_changes"][0]["change"]["actions"] = ["create", "delete"]
    assert read_plan(doc).changes[0].action == "replace"


def test_read_and_unknown_actions_are_skipped() -> None:
    b = PlanBuilder()
    b.create("aws_vpc", "app", {"cidr_block": "10.0.0.0/16"})
    doc = b.doc()
    doc["resource_changes"].append(
        {"address": "data.aws_vpc.x", "mode": "data", "type": "aws_vpc", "name": "x", "change": {"actions": ["read"]}}
    )
    assert [c.address for c in read_plan(doc).changes] == ["aws_vpc.app"]


# ---------------------------------------------------------------------------------
# Types, references, unknowns
# ---------------------------------------------------------------------------------


def test_every_type_spec_8_lists_is_applied_or_awaits_the_model() -> None:
    spec_types = {
        "aws_vpc",
        "aws_vpc_ipv4_cidr_block_association",
        "aws_vpc_ipv6_cidr_block_association",
        "aws_subnet",
        "aws_route_table",
        "aws_route",
        "aws_route_table_association",
        "aws_main_route_table_association",
        "aws_default_route_table",
        "aws_internet_gateway",
        "aws_nat_gateway",
        "aws_vpc_peering_connection",
        "aws_vpc_peering_connection_accepter",
        "aws_ec2_transit_gateway",
        "aws_ec2_transit_gateway_vpc_attachment",
        "aws_ec2_transit_gateway_route_table",
        "aws_ec2_transit_gateway_route",
        "aws_ec2_transit_gateway_route_table_association",
        "aws_ec2_transit_gateway_route_table_propagation",
        "aws_vpc_endpoint",
        "aws_vpc_endpoint_route_table_association",
        "aws_vpc_endpoint_service",
        "aws_flow_log",
        "aws_ec2_managed_prefix_list",
        "aws_network_acl",
        "aws_network_acl_rule",
        "aws_ec2_client_vpn_endpoint",
        "aws_ec2_client_vpn_authorization_rule",
    }
    assert spec_types <= APPLIED_TYPES | AWAITING_MODEL
    assert not (APPLIED_TYPES & AWAITING_MODEL)


def test_network_acls_are_listed_as_ignored_until_the_model_has_them() -> None:
    b = PlanBuilder()
    b.create("aws_network_acl", "private", refs={"vpc_id": "aws_vpc.app"})
    b.create("aws_vpc", "app", {"cidr_block": "10.0.0.0/16"})
    plan = read_plan(b.doc())
    assert plan.ignored == ("aws_network_acl.private",)
    assert [c.address for c in plan.changes] == ["aws_vpc.app"]


def test_a_planned_route_to_a_planned_peering_joins_the_right_peering() -> None:
    b = PlanBuilder()
    b.create("aws_vpc_peering_connection", "a", refs={"vpc_id": "aws_vpc.x", "peer_vpc_id": "aws_vpc.y"})
    b.create("aws_vpc_peering_connection", "b", refs={"vpc_id": "aws_vpc.x", "peer_vpc_id": "aws_vpc.z"})
    b.create(
        "aws_route",
        "to_b",
        {"destination_cidr_block": "10.9.0.0/16"},
        refs={"route_table_id": "aws_route_table.x", "vpc_peering_connection_id": "aws_vpc_peering_connection.b"},
    )
    for name in ("x", "y", "z"):
        b.create("aws_vpc", name, {"cidr_block": "10.0.0.0/16"})
    b.create("aws_route_table", "x", refs={"vpc_id": "aws_vpc.x"})
    changes = by_address(read_plan(b.doc()))
    route = changes["aws_route.to_b"].after
    assert route["vpc_peering_connection_id"] == "aws_vpc_peering_connection.b"
    assert route["route_table_id"] == "aws_route_table.x"
    assert changes["aws_vpc_peering_connection.b"].after["peer_vpc_id"] == "aws_vpc.z"


def test_inline_route_blocks_pick_the_target_of_their_type() -> None:
    b = PlanBuilder()
    b.create("aws_nat_gateway", "nat", refs={"subnet_id": "aws_subnet.public"})
    b.create("aws_vpc_peering_connection", "hub", {"peer_vpc_id": "vpc-0peer"}, refs={"vpc_id": "aws_vpc.app"})
    b.create(
        "aws_route_table",
        "private",
        {
            "route": [
                {"cidr_block": "0.0.0.0/0", "nat_gateway_id": "", "vpc_peering_connection_id": ""},
                {"cidr_block": "10.1.0.0/16", "nat_gateway_id": "", "vpc_peering_connection_id": ""},
            ]
        },
        refs={"vpc_id": "aws_vpc.app"},
        unknown={"route": [{"nat_gateway_id": True}, {"vpc_peering_connection_id": True}]},
    )
    doc = b.doc()
    config = doc["configuration"]["root_module"]["resources"]
    table = next(r for r in config if r["address"] == "aws_route_table.private")
    table["expressions"]["route"] = {
        "references": ["aws_nat_gateway.nat.id", "aws_nat_gateway.nat", "aws_vpc_peering_connection.hub.id"]
    }
    routes = by_address(read_plan(doc))["aws_route_table.private"].after["route"]
    assert routes[0]["nat_gateway_id"] == "aws_nat_gateway.nat"
    assert routes[1]["vpc_peering_connection_id"] == "aws_vpc_peering_connection.hub"


def test_an_ipam_cidr_is_unknown_and_named() -> None:
    b = PlanBuilder()
    b.create(
        "aws_vpc",
        "ipam",
        {"ipv4_ipam_pool_id": "ipam-pool-0abc", "ipv4_netmask_length": 20},
        unknown={"cidr_block": True},
    )
    plan = read_plan(b.doc())
    assert [u.to_dict() for u in plan.unknown] == [{"address": "aws_vpc.ipam", "attribute": "cidr_block"}]
    assert "cidr_block" not in plan.changes[0].after


def test_an_amazon_ipv6_block_counts_only_when_asked_for() -> None:
    b = PlanBuilder()
    b.create("aws_vpc", "v4", {"cidr_block": "10.0.0.0/16"}, unknown={"ipv6_cidr_block": True})
    b.create(
        "aws_vpc",
        "v6",
        {"cidr_block": "10.1.0.0/16", "assign_generated_ipv6_cidr_block": True},
        unknown={"ipv6_cidr_block": True},
    )
    assert [(u.address, u.attribute) for u in read_plan(b.doc()).unknown] == [("aws_vpc.v6", "ipv6_cidr_block")]


def test_a_reference_to_a_data_source_stays_unknown() -> None:
    b = PlanBuilder()
    b.create("aws_subnet", "s", {"cidr_block": "10.0.1.0/24"}, refs={"vpc_id": "data.aws_vpc.shared"})
    assert [u.attribute for u in read_plan(b.doc()).unknown] == ["vpc_id"]


def test_two_candidates_for_one_value_are_unknown_not_a_guess() -> None:
    b = PlanBuilder()
    b.create("aws_vpc", "a", {"cidr_block": "10.0.0.0/16"})
    b.create("aws_vpc", "b", {"cidr_block": "10.1.0.0/16"})
    b.create("aws_subnet", "s", {"cidr_block": "10.0.1.0/24"}, refs={"vpc_id": ["aws_vpc.a", "aws_vpc.b"]})
    assert [(u.address, u.attribute) for u in read_plan(b.doc()).unknown] == [("aws_subnet.s", "vpc_id")]


def test_the_main_route_table_of_a_planned_vpc_is_named_through_its_attribute() -> None:
    b = PlanBuilder()
    b.create("aws_vpc", "app", {"cidr_block": "10.0.0.0/16"})
    b.create(
        "aws_default_route_table",
        "main",
        {"route": []},
        refs={"default_route_table_id": "aws_vpc.app.default_route_table_id"},
    )
    b.create(
        "aws_route",
        "r",
        {"destination_cidr_block": "0.0.0.0/0", "gateway_id": "igw-0live"},
        refs={"route_table_id": "aws_vpc.app.main_route_table_id"},
    )
    changes = by_address(read_plan(b.doc()))
    assert (
        changes["aws_default_route_table.main"].after["default_route_table_id"] == "aws_vpc.app.default_route_table_id"
    )
    assert changes["aws_route.r"].after["route_table_id"] == "aws_vpc.app.default_route_table_id"


def test_count_index_pairs_instances_and_a_splat_takes_them_all() -> None:
    b = PlanBuilder()
    for n in range(2):
        b.create("aws_subnet", "private", {"cidr_block": f"10.0.{n}.0/24"}, refs={"vpc_id": "aws_vpc.app"}, index=n)
        b.create(
            "aws_route_table_association",
            "private",
            refs={"subnet_id": "aws_subnet.private", "route_table_id": "aws_route_table.private"},
            index=n,
            paired=True,
        )
        b.create("aws_route_table", "private", refs={"vpc_id": "aws_vpc.app"}, index=n)
    b.create("aws_vpc", "app", {"cidr_block": "10.0.0.0/16"})
    b.create(
        "aws_vpc_endpoint",
        "s3",
        {"service_name": "com.amazonaws.us-east-1.s3"},
        refs={"vpc_id": "aws_vpc.app", "route_table_ids": "aws_route_table.private"},
    )
    changes = by_address(read_plan(b.doc()))
    assert changes["aws_route_table_association.private[1]"].after["subnet_id"] == "aws_subnet.private[1]"
    assert changes["aws_route_table_association.private[1]"].after["route_table_id"] == "aws_route_table.private[1]"
    assert changes["aws_vpc_endpoint.s3"].after["route_table_ids"] == [
        "aws_route_table.private[0]",
        "aws_route_table.private[1]",
    ]


def test_for_each_keys_and_nested_modules() -> None:
    b = PlanBuilder()
    module = 'module.net["eu"].module.core'
    b.create("aws_vpc", "this", {"cidr_block": "10.0.0.0/16"}, module=module)
    b.create(
        "aws_subnet",
        "private",
        {"cidr_block": "10.0.1.0/24"},
        refs={"vpc_id": "aws_vpc.this"},
        index="a",
        module=module,
    )
    plan = read_plan(b.doc())
    subnet = by_address(plan)['module.net["eu"].module.core.aws_subnet.private["a"]']
    assert subnet.after["vpc_id"] == 'module.net["eu"].module.core.aws_vpc.this'


def test_a_module_output_resolves_in_the_module() -> None:
    b = PlanBuilder()
    b.create("aws_vpc", "vpc", {"cidr_block": "10.0.0.0/16"}, module="module.networking")
    b.create("aws_subnet", "s", {"cidr_block": "10.0.1.0/24"}, refs={"vpc_id": "module.networking.vpc_resource"})
    doc = b.doc()
    calls = doc["configuration"]["root_module"]["module_calls"]
    calls["networking"]["module"]["outputs"] = {
        "vpc_resource": {"expression": {"references": ["aws_vpc.vpc.id", "aws_vpc.vpc"]}}
    }
    doc["configuration"]["root_module"]["resources"][0]["expressions"]["vpc_id"] = {
        "references": ["module.networking.vpc_resource.vpc_id", "module.networking.vpc_resource", "module.networking"]
    }
    assert by_address(read_plan(doc))["aws_subnet.s"].after["vpc_id"] == "module.networking.aws_vpc.vpc"


def test_a_known_id_wins_over_the_address() -> None:
    b = PlanBuilder()
    b.existing("aws_vpc", "app", {**VPC_BEFORE, "id": "vpc-0live"})
    b.create("aws_subnet", "s", {"cidr_block": "10.0.1.0/24"}, refs={"vpc_id": "aws_vpc.app"})
    assert by_address(read_plan(b.doc()))["aws_subnet.s"].after["vpc_id"] == "vpc-0live"


@pytest.mark.parametrize(
    ("ref", "parts"),
    [
        ("aws_vpc.main.id", [("aws_vpc", None), ("main", None), ("id", None)]),
        ('module.net["a.b"].aws_subnet.x[3]', [("module", None), ("net", '"a.b"'), ("aws_subnet", None), ("x", "3")]),
        ("count.index", [("count", None), ("index", None)]),
    ],
)
def test_split_reference(ref: str, parts: list[tuple[str, str | None]]) -> None:
    assert split_reference(ref) == parts


def test_a_vpn_gateway_is_ignored_as_a_record_but_joins_as_a_route_target() -> None:
    b = PlanBuilder()
    b.create("aws_vpn_gateway", "vgw", refs={"vpc_id": "aws_vpc.app"})
    b.create("aws_vpc", "app", {"cidr_block": "10.0.0.0/16"})
    b.create(
        "aws_route",
        "onprem",
        {"destination_cidr_block": "192.168.0.0/16", "route_table_id": "rtb-0live"},
        refs={"gateway_id": "aws_vpn_gateway.vgw"},
    )
    plan = read_plan(b.doc())
    assert plan.ignored == ("aws_vpn_gateway.vgw",)
    assert by_address(plan)["aws_route.onprem"].after["gateway_id"] == "aws_vpn_gateway.vgw"
