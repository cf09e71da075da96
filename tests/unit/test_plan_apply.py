"""Applying planned changes to a snapshot: one row per resource type and action, and the
real plans of tests/fixtures/terraform-plans."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest

from chalicelib.core.model import (
    ClientVpnEndpoint,
    FlowLog,
    NetworkSnapshot,
    PeeringSide,
    Route,
    RouteTable,
    Subnet,
    TgwAttachment,
    TgwRouteTable,
    TransitGateway,
    Vpc,
    VpcEndpoint,
)
from chalicelib.core.plan.apply import Applied, apply_plan, prior_snapshot
from chalicelib.core.plan.reader import load_plan, read_plan
from tests.planbuilder import PlanBuilder

ACCOUNT, REGION = "111122223333", "us-east-1"
PLANS = Path(__file__).resolve().parents[1] / "fixtures" / "terraform-plans"


def live() -> NetworkSnapshot:
    """One live VPC with a private subnet on its own table, a TGW with one attachment."""
    return NetworkSnapshot(
        account_id=ACCOUNT,
        region=REGION,
        vpcs=(Vpc("vpc-0live", ACCOUNT, ("10.0.0.0/16",)),),
        subnets=(Subnet("subnet-0live", "vpc-0live", ACCOUNT, "10.0.1.0/24"),),
        route_tables=(
            RouteTable("rtb-0main", "vpc-0live", ACCOUNT, True, (), (Route("10.0.0.0/16", "local"),)),
            RouteTable(
                "rtb-0private",
                "vpc-0live",
                ACCOUNT,
                False,
                ("subnet-0live",),
                (Route("10.0.0.0/16", "local"), Route("10.9.0.0/16", "pcx-0old")),
            ),
        ),
        transit_gateways=(TransitGateway("tgw-0live", ACCOUNT, "available"),),
        tgw_attachments=(TgwAttachment("tgw-attach-0live", "tgw-0live", "vpc", "vpc-0live", ACCOUNT, "available"),),
        tgw_route_tables=(TgwRouteTable("tgw-rtb-0live", "tgw-0live"),),
        vpc_endpoints=(
            VpcEndpoint(
                "vpce-0live", "vpc-0live", f"com.amazonaws.{REGION}.s3", "Gateway", "available", ("rtb-0private",)
            ),
        ),
        client_vpn_endpoints=(ClientVpnEndpoint("cvpn-endpoint-0live", "vpc-0live", True),),
    )


def apply(b: PlanBuilder, base: NetworkSnapshot | None = None) -> Applied:
    return apply_plan(base or live(), read_plan(b.doc()), REGION)


def named(applied: Applied, address: str) -> str:
    """The stand-in id the snapshot uses for a planned address."""
    return next(i for i, a in applied.names.items() if a == address)


def table(applied: Applied, table_id: str) -> RouteTable:
    return applied.snapshot.route_table_by_id[table_id]


# ---------------------------------------------------------------------------------
# Creations, one per type
# ---------------------------------------------------------------------------------

Build = Callable[[PlanBuilder], None]
Check = Callable[[Applied], None]


def _vpc(b: PlanBuilder) -> None:
    b.create("aws_vpc", "new", {"cidr_block": "10.5.0.0/16"})


def _vpc_ok(a: Applied) -> None:
    vpc = named(a, "aws_vpc.new")
    assert a.snapshot.vpc_by_id[vpc].cidrs == ("10.5.0.0/16",)
    main = a.snapshot.main_route_table_by_vpc[vpc]  # AWS creates the main table with it
    assert a.names[main.route_table_id] == "aws_vpc.new.default_route_table_id"
    assert main.routes == (Route("10.5.0.0/16", "local", origin="CreateRouteTable"),)


def _cidr(b: PlanBuilder) -> None:
    b.create("aws_vpc_ipv4_cidr_block_association", "extra", {"vpc_id": "vpc-0live", "cidr_block": "100.64.0.0/16"})
    b.create("aws_vpc_ipv6_cidr_block_association", "v6", {"vpc_id": "vpc-0live", "ipv6_cidr_block": "2600:1f18::/56"})


def _cidr_ok(a: Applied) -> None:
    assert a.snapshot.vpc_by_id["vpc-0live"].cidrs == ("10.0.0.0/16", "100.64.0.0/16", "2600:1f18::/56")


def _subnet(b: PlanBuilder) -> None:
    b.create(
        "aws_subnet", "new", {"cidr_block": "10.0.2.0/24", "vpc_id": "vpc-0live", "availability_zone": "us-east-1b"}
    )


def _subnet_ok(a: Applied) -> None:
    subnet = a.snapshot.subnet_by_id[named(a, "aws_subnet.new")]
    assert (subnet.vpc_id, subnet.cidr, subnet.availability_zone) == ("vpc-0live", "10.0.2.0/24", "us-east-1b")
    assert a.snapshot.effective_route_table[subnet.subnet_id].route_table_id == "rtb-0main"


def _route_table(b: PlanBuilder) -> None:
    b.create("aws_internet_gateway", "igw", {"vpc_id": "vpc-0live"})
    b.create(
        "aws_route_table",
        "public",
        {"vpc_id": "vpc-0live", "route": [{"cidr_block": "0.0.0.0/0", "gateway_id": ""}]},
        unknown={"route": [{"gateway_id": True}]},
    )
    b.references("aws_route_table", "public", "route", ["aws_internet_gateway.igw.id", "aws_internet_gateway.igw"])


def _route_table_ok(a: Applied) -> None:
    igw = named(a, "aws_internet_gateway.igw")
    assert igw.startswith("igw-") and a.snapshot.internet_gateways[0].vpc_ids == ("vpc-0live",)
    routes = table(a, named(a, "aws_route_table.public")).routes
    assert routes == (Route("10.0.0.0/16", "local", origin="CreateRouteTable"), Route("0.0.0.0/0", igw))


def _route(b: PlanBuilder) -> None:
    b.create(
        "aws_route",
        "r",
        {"route_table_id": "rtb-0private", "destination_cidr_block": "0.0.0.0/0"},
        refs={"nat_gateway_id": "aws_nat_gateway.nat"},
    )
    b.create("aws_nat_gateway", "nat", {"subnet_id": "subnet-0live", "connectivity_type": "private"})


def _route_ok(a: Applied) -> None:
    nat = named(a, "aws_nat_gateway.nat")
    assert nat.startswith("nat-")
    assert table(a, "rtb-0private").routes[-1] == Route("0.0.0.0/0", nat)
    assert a.snapshot.nat_gateway_by_id[nat].vpc_id == "vpc-0live"  # from its subnet
    assert a.snapshot.nat_gateway_by_id[nat].connectivity == "private"


def _association(b: PlanBuilder) -> None:
    b.create("aws_route_table", "other", {"vpc_id": "vpc-0live"})
    b.create(
        "aws_route_table_association",
        "a",
        {"subnet_id": "subnet-0live"},
        refs={"route_table_id": "aws_route_table.other"},
    )


def _association_ok(a: Applied) -> None:
    other = named(a, "aws_route_table.other")
    assert a.snapshot.effective_route_table["subnet-0live"].route_table_id == other
    assert table(a, "rtb-0private").subnet_ids == ()  # a subnet has one explicit association


def _main_association(b: PlanBuilder) -> None:
    b.create("aws_main_route_table_association", "m", {"vpc_id": "vpc-0live", "route_table_id": "rtb-0private"})


def _main_association_ok(a: Applied) -> None:
    assert a.snapshot.main_route_table_by_vpc["vpc-0live"].route_table_id == "rtb-0private"
    assert not table(a, "rtb-0main").main


def _default_route_table(b: PlanBuilder) -> None:
    b.create(
        "aws_default_route_table",
        "d",
        {
            "default_route_table_id": "rtb-0main",
            "route": [{"cidr_block": "0.0.0.0/0", "transit_gateway_id": "tgw-0live"}],
        },
    )


def _default_route_table_ok(a: Applied) -> None:
    assert table(a, "rtb-0main").routes == (Route("10.0.0.0/16", "local"), Route("0.0.0.0/0", "tgw-0live"))


def _peering(b: PlanBuilder) -> None:
    b.create("aws_vpc", "peer", {"cidr_block": "10.0.128.0/17"})
    b.create("aws_vpc_peering_connection", "p", {"vpc_id": "vpc-0live"}, refs={"peer_vpc_id": "aws_vpc.peer"})
    b.create(
        "aws_vpc_peering_connection_accepter",
        "acc",
        {"auto_accept": True},
        refs={"vpc_peering_connection_id": "aws_vpc_peering_connection.p"},
    )


def _peering_ok(a: Applied) -> None:
    (peering,) = a.snapshot.peerings
    assert peering.status == "active"  # pending until the accepter of the same plan accepts it
    assert peering.requester == PeeringSide("vpc-0live", "", REGION, ("10.0.0.0/16",))
    assert peering.accepter.cidrs == ("10.0.128.0/17",)


def _tgw(b: PlanBuilder) -> None:
    b.create("aws_ec2_transit_gateway", "hub", {"auto_accept_shared_attachments": "enable"})
    b.create(
        "aws_ec2_transit_gateway_vpc_attachment",
        "app",
        {"vpc_id": "vpc-0live"},
        refs={"transit_gateway_id": "aws_ec2_transit_gateway.hub"},
    )


def _tgw_ok(a: Applied) -> None:
    tgw = named(a, "aws_ec2_transit_gateway.hub")
    assert a.snapshot.tgw_by_id[tgw].auto_accept_shared_attachments == "enable"
    default = named(a, "aws_ec2_transit_gateway.hub.association_default_route_table_id")
    attachment = a.snapshot.tgw_attachment_by_id[named(a, "aws_ec2_transit_gateway_vpc_attachment.app")]
    assert attachment.associated_table == default  # the default association AWS makes
    assert attachment.attachment_id in a.snapshot.tgw_route_tables[-1].propagations


def _tgw_tables(b: PlanBuilder) -> None:
    b.create("aws_ec2_transit_gateway_route_table", "spokes", {"transit_gateway_id": "tgw-0live"})
    refs = {"transit_gateway_route_table_id": "aws_ec2_transit_gateway_route_table.spokes"}
    b.create(
        "aws_ec2_transit_gateway_route_table_association",
        "a",
        {"transit_gateway_attachment_id": "tgw-attach-0live"},
        refs=refs,
    )
    b.create(
        "aws_ec2_transit_gateway_route_table_propagation",
        "p",
        {"transit_gateway_attachment_id": "tgw-attach-0live"},
        refs=refs,
    )
    b.create(
        "aws_ec2_transit_gateway_route",
        "r",
        {"destination_cidr_block": "0.0.0.0/0", "transit_gateway_attachment_id": "tgw-attach-0live"},
        refs=refs,
    )
    b.create(
        "aws_ec2_transit_gateway_route",
        "hole",
        {"destination_cidr_block": "10.66.0.0/16", "blackhole": True},
        refs=refs,
    )


def _tgw_tables_ok(a: Applied) -> None:
    spokes = named(a, "aws_ec2_transit_gateway_route_table.spokes")
    assert a.snapshot.tgw_attachment_by_id["tgw-attach-0live"].associated_table == spokes
    tgw_table = next(t for t in a.snapshot.tgw_route_tables if t.route_table_id == spokes)
    assert tgw_table.propagations == ("tgw-attach-0live",)
    assert [(r.destination, r.state, r.attachment_ids) for r in tgw_table.routes] == [
        ("0.0.0.0/0", "active", ("tgw-attach-0live",)),
        ("10.66.0.0/16", "blackhole", ()),
    ]


def _endpoints(b: PlanBuilder) -> None:
    b.create("aws_vpc_endpoint", "ddb", {"vpc_id": "vpc-0live", "service_name": f"com.amazonaws.{REGION}.dynamodb"})
    b.create(
        "aws_vpc_endpoint_route_table_association",
        "ddb",
        {"route_table_id": "rtb-0private"},
        refs={"vpc_endpoint_id": "aws_vpc_endpoint.ddb"},
    )
    b.create(
        "aws_vpc_endpoint",
        "ssm",
        {
            "vpc_id": "vpc-0live",
            "service_name": f"com.amazonaws.{REGION}.ssm",
            "vpc_endpoint_type": "Interface",
            "private_dns_enabled": False,
            "subnet_ids": ["subnet-0live"],
        },
    )
    b.create("aws_vpc_endpoint_service", "svc", {"acceptance_required": False, "allowed_principals": ["*"]})


def _endpoints_ok(a: Applied) -> None:
    ddb = a.snapshot.vpc_endpoint_by_id[named(a, "aws_vpc_endpoint.ddb")]
    assert (ddb.endpoint_type, ddb.route_table_ids) == ("Gateway", ("rtb-0private",))
    ssm = a.snapshot.vpc_endpoint_by_id[named(a, "aws_vpc_endpoint.ssm")]
    assert (ssm.endpoint_type, ssm.private_dns_enabled, ssm.subnet_ids) == ("Interface", False, ("subnet-0live",))
    (service,) = a.snapshot.endpoint_services
    assert service.service_id.startswith("vpce-svc-") and not service.acceptance_required
    assert service.allowed_principals == ("*",)


def _flow_log(b: PlanBuilder) -> None:
    b.create(
        "aws_flow_log", "fl", {"traffic_type": "REJECT", "log_destination_type": "s3"}, refs={"vpc_id": "aws_vpc.x"}
    )
    b.create("aws_vpc", "x", {"cidr_block": "10.7.0.0/16"})


def _flow_log_ok(a: Applied) -> None:
    (log,) = a.snapshot.flow_logs
    assert log == FlowLog(log.flow_log_id, named(a, "aws_vpc.x"), "REJECT", "ACTIVE", destination_type="s3")


def _prefix_list(b: PlanBuilder) -> None:
    b.create("aws_ec2_managed_prefix_list", "corp", {"name": "corp", "entry": [{"cidr": "192.168.0.0/16"}]})
    b.create(
        "aws_route",
        "corp",
        {"route_table_id": "rtb-0private", "transit_gateway_id": "tgw-0live"},
        refs={"destination_prefix_list_id": "aws_ec2_managed_prefix_list.corp"},
    )


def _prefix_list_ok(a: Applied) -> None:
    pl = named(a, "aws_ec2_managed_prefix_list.corp")
    assert a.snapshot.prefix_list_by_id[pl].cidrs == ("192.168.0.0/16",)
    assert table(a, "rtb-0private").routes[-1] == Route(pl, "tgw-0live")


def _client_vpn(b: PlanBuilder) -> None:
    b.create(
        "aws_ec2_client_vpn_endpoint", "vpn", {"vpc_id": "vpc-0live", "connection_log_options": [{"enabled": False}]}
    )
    b.create(
        "aws_ec2_client_vpn_authorization_rule",
        "all",
        {"target_network_cidr": "10.0.0.0/16", "authorize_all_groups": True},
        refs={"client_vpn_endpoint_id": "aws_ec2_client_vpn_endpoint.vpn"},
    )


def _client_vpn_ok(a: Applied) -> None:
    endpoint = next(e for e in a.snapshot.client_vpn_endpoints if e.endpoint_id != "cvpn-endpoint-0live")
    assert not endpoint.connection_logging
    assert [(r.destination_cidr, r.access_all) for r in endpoint.authorization_rules] == [("10.0.0.0/16", True)]


CREATIONS: list[tuple[str, Build, Check]] = [
    ("aws_vpc", _vpc, _vpc_ok),
    ("cidr associations", _cidr, _cidr_ok),
    ("aws_subnet", _subnet, _subnet_ok),
    ("aws_route_table inline + igw", _route_table, _route_table_ok),
    ("aws_route + nat", _route, _route_ok),
    ("aws_route_table_association", _association, _association_ok),
    ("aws_main_route_table_association", _main_association, _main_association_ok),
    ("aws_default_route_table", _default_route_table, _default_route_table_ok),
    ("peering + accepter", _peering, _peering_ok),
    ("tgw + attachment defaults", _tgw, _tgw_ok),
    ("tgw route table, association, propagation, routes", _tgw_tables, _tgw_tables_ok),
    ("endpoints + service", _endpoints, _endpoints_ok),
    ("aws_flow_log", _flow_log, _flow_log_ok),
    ("prefix list", _prefix_list, _prefix_list_ok),
    ("client vpn", _client_vpn, _client_vpn_ok),
]


@pytest.mark.parametrize(("name", "build", "check"), CREATIONS, ids=[c[0] for c in CREATIONS])
def test_create(name: str, build: Build, check: Check) -> None:
    b = PlanBuilder()
    build(b)
    check(apply(b))


# ---------------------------------------------------------------------------------
# Updates, deletions, replacements
# ---------------------------------------------------------------------------------


def test_delete_removes_and_cleans_what_aws_removes_with_it() -> None:
    b = PlanBuilder()
    b.existing("aws_vpc_endpoint", "s3", {"id": "vpce-0live", "vpc_id": "vpc-0live"}, action="delete")
    b.existing(
        "aws_route",
        "old",
        {
            "route_table_id": "rtb-0private",
            "destination_cidr_block": "10.9.0.0/16",
            "vpc_peering_connection_id": "pcx-0old",
        },
        action="delete",
    )
    b.existing(
        "aws_route_table_association",
        "a",
        {"id": "rtbassoc-1", "subnet_id": "subnet-0live", "route_table_id": "rtb-0private"},
        action="delete",
    )
    base = live()
    rtb = base.route_table_by_id["rtb-0private"]
    # AWS's prefix-list route to the gateway endpoint, as the collector reads it
    with_route = replace(rtb, routes=(*rtb.routes, Route("pl-63a5400a", "vpce-0live")))
    base = replace(base, route_tables=(base.route_tables[0], with_route))
    after = apply(b, base).snapshot
    assert after.vpc_endpoints == ()
    assert after.route_table_by_id["rtb-0private"].routes == (Route("10.0.0.0/16", "local"),)
    assert after.effective_route_table["subnet-0live"].route_table_id == "rtb-0main"


def test_update_keeps_what_the_plan_does_not_describe() -> None:
    b = PlanBuilder()
    b.existing(
        "aws_route_table",
        "private",
        {
            "id": "rtb-0private",
            "vpc_id": "vpc-0live",
            "route": [{"cidr_block": "10.9.0.0/16", "vpc_peering_connection_id": "pcx-0old"}],
        },
        action="update",
        after={"route": [{"cidr_block": "0.0.0.0/0", "transit_gateway_id": "tgw-0live"}]},
    )
    private = table(apply(b), "rtb-0private")
    assert private.subnet_ids == ("subnet-0live",)  # associations are other resources
    assert private.routes == (Route("10.0.0.0/16", "local"), Route("0.0.0.0/0", "tgw-0live"))


def test_replace_removes_the_old_id_and_names_the_new_by_address() -> None:
    b = PlanBuilder()
    b.existing(
        "aws_subnet",
        "s",
        {"id": "subnet-0live", "vpc_id": "vpc-0live", "cidr_block": "10.0.1.0/24"},
        action="replace",
        after={"cidr_block": "10.0.3.0/24"},
    )
    applied = apply(b)
    assert "subnet-0live" not in applied.snapshot.subnet_by_id
    new = applied.snapshot.subnet_by_id[named(applied, "aws_subnet.s")]
    assert new.cidr == "10.0.3.0/24"


def test_deleting_a_vpc_takes_its_main_table() -> None:
    b = PlanBuilder()
    b.existing("aws_vpc", "app", {"id": "vpc-0live", "cidr_block": "10.0.0.0/16"}, action="delete")
    after = apply(b).snapshot
    assert "vpc-0live" not in after.vpc_by_id and "rtb-0main" not in after.route_table_by_id


def test_no_op_changes_nothing_and_unknown_links_are_left_out() -> None:
    b = PlanBuilder()
    b.existing("aws_vpc", "app", {"id": "vpc-0live", "cidr_block": "10.200.0.0/16"})  # no-op: live wins
    b.create("aws_subnet", "s", {"cidr_block": "10.0.9.0/24"}, refs={"vpc_id": "data.aws_vpc.x"})
    assert apply(b).snapshot == live()


def test_changes_of_other_regions_are_not_applied_here() -> None:
    b = PlanBuilder(region="eu-west-1")
    b.create("aws_vpc", "eu", {"cidr_block": "10.5.0.0/16"})
    assert apply(b).snapshot == live()


def test_unknown_inline_route_target_is_left_out() -> None:
    b = PlanBuilder()
    b.create(
        "aws_route_table",
        "t",
        {"vpc_id": "vpc-0live", "route": [{"cidr_block": "0.0.0.0/0", "gateway_id": ""}]},
        unknown={"route": [{"gateway_id": True}]},
    )
    applied = apply(b)
    assert table(applied, named(applied, "aws_route_table.t")).routes == (
        Route("10.0.0.0/16", "local", origin="CreateRouteTable"),
    )


# ---------------------------------------------------------------------------------
# Real plans
# ---------------------------------------------------------------------------------


def test_new_vpc_nat_private_table_offline() -> None:
    plan = load_plan((PLANS / "new-vpc-nat-private-table.tf1.14.3.json").read_text())
    base = prior_snapshot(plan, ACCOUNT, "eu-central-1", "eu-central-1")
    assert base.vpcs == () and base.route_tables == ()  # nothing exists yet
    applied = apply_plan(base, plan, "eu-central-1")
    snap = applied.snapshot
    vpc = named(applied, "aws_vpc.main")
    assert {applied.names[s.subnet_id] for s in snap.subnets_by_vpc[vpc]} == {
        "aws_subnet.private_a",
        "aws_subnet.private_b",
        "aws_subnet.public_a",
        "aws_subnet.public_b",
    }
    private = table(applied, named(applied, "aws_route_table.private"))
    nat = named(applied, "aws_nat_gateway.nat")
    assert private.routes[-1] == Route("0.0.0.0/0", nat)
    assert {applied.names[s] for s in private.subnet_ids} == {"aws_subnet.private_a", "aws_subnet.private_b"}
    assert snap.nat_gateway_by_id[nat].subnet_id == named(applied, "aws_subnet.public_a")
    public = table(applied, named(applied, "aws_route_table.public"))
    assert public.routes[-1].target == named(applied, "aws_internet_gateway.igw")


def test_modules_foreach_offline_before_is_the_plans_own_state() -> None:
    plan = load_plan((PLANS / "modules-foreach-interface-endpoints.tf1.13.2.json").read_text())
    base = prior_snapshot(plan, "622515864012", REGION, REGION)
    assert base.vpc_by_id["vpc-029a8ca1f47edfd4e"].cidrs == ("10.0.0.0/16",)
    assert len(base.subnets) == 4 and len(base.nat_gateways) == 2 and len(base.vpc_endpoints) == 2
    assert base.effective_route_table["subnet-059b19069be7d800f"].route_table_id == "rtb-082f358a11e97744e"
    assert apply_plan(base, plan, REGION).snapshot == base  # all no-op


def test_tgw_two_vpcs_joins_routes_to_attachments() -> None:
    plan = load_plan((PLANS / "tgw-two-vpcs.tf0.12.20.json").read_text(), strict_version=False)
    applied = apply_plan(NetworkSnapshot(ACCOUNT, REGION), plan, REGION)
    tgw_table = applied.snapshot.tgw_route_tables[0]
    att, att2 = (named(applied, f"aws_ec2_transit_gateway_vpc_attachment.{n}") for n in ("tgw-att", "tgw-att2"))
    assert {(r.destination, r.attachment_ids) for r in tgw_table.routes} == {
        ("0.0.0.0/0", (att,)),
        ("10.0.0.0/24", (att2,)),
        ("15.0.0.0/24", (att,)),
    }
    assert applied.snapshot.tgw_attachment_by_id[att2].associated_table == tgw_table.route_table_id
    # default association and propagation disabled: no default table
    assert len(applied.snapshot.tgw_route_tables) == 1
