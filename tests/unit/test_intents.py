"""Reachability intents: the policy's ``reachability`` list (SPEC §2), its selectors, and the
errors that name the bad key or value."""

from __future__ import annotations

from typing import Any

import pytest

from chalicelib.core.checks import CHECK_IDS
from chalicelib.core.intents import Intent, Selector
from chalicelib.core.model import NetworkSnapshot, Route, RouteTable, Subnet, Vpc
from chalicelib.core.policy import PolicyError, parse_policy

ME = "111111111111"


def intent(**overrides: Any) -> dict[str, Any]:
    doc: dict[str, Any] = {"name": "i", "from": {"subnets": "private"}, "to": "s3", "expect": "private"}
    doc.update(overrides)
    return {key: value for key, value in doc.items() if value is not None}


def parsed(*intents: dict[str, Any]) -> tuple[Intent, ...]:
    return parse_policy({"reachability": list(intents)}, CHECK_IDS).intents


@pytest.mark.parametrize(
    ("doc", "expected"),
    [
        (intent(), Intent("i", Selector(subnets="private"), "private", "s3")),
        (
            intent(**{"from": {"subnet_ids": ["subnet-1", "subnet-1"]}, "to": "10.1.2.3", "expect": "reachable"}),
            Intent("i", Selector(subnet_ids=("subnet-1",)), "reachable", "10.1.2.3"),
        ),
        (
            intent(**{"from": {"vpc_ids": ["vpc-1"], "subnets": "public"}, "to": "internet", "expect": "unreachable"}),
            Intent("i", Selector(subnets="public", vpc_ids=("vpc-1",)), "unreachable", "internet"),
        ),
        (
            intent(**{"from": {"tags": {"tier": "web"}}, "to": {"tags": {"tier": "data"}}, "port": 5432}),
            Intent(
                "i", Selector(tags=(("tier", "web"),)), "private", None, Selector(tags=(("tier", "data"),)), port=5432
            ),
        ),
        (
            intent(to="service:ssm", protocol="udp", port=53),
            Intent("i", Selector("private"), "private", "service:ssm", protocol="udp", port=53),
        ),
        (
            intent(to="subnet-9", protocol="icmp"),
            Intent("i", Selector("private"), "private", "subnet-9", protocol="icmp", port=None),
        ),
        (
            intent(to="dynamodb", protocol="all"),
            Intent("i", Selector("private"), "private", "dynamodb", protocol="all", port=None),
        ),
        (intent(to="2600:1f18::1"), Intent("i", Selector("private"), "private", "2600:1f18::1")),
    ],
    ids=["default-tcp-443", "subnet-ids", "vpc-ids-and-kind", "tags-both-sides", "udp", "icmp", "all", "ipv6"],
)
def test_each_selector_and_destination_parses(doc: dict[str, Any], expected: Intent) -> None:
    assert parsed(doc) == (expected,)


def test_no_reachability_means_no_intents() -> None:
    assert parse_policy({}, CHECK_IDS).intents == () and parse_policy({"reachability": None}, CHECK_IDS).intents == ()


@pytest.mark.parametrize(
    ("doc", "message"),
    [
        ({"reachability": {"name": "x"}}, "reachability: expected a list"),
        ({"reachability": ["x"]}, r"reachability\[0\]: expected a mapping"),
        ({"reachability": [intent(colour="red")]}, r"reachability\[0\]: unknown key 'colour'"),
        ({"reachability": [intent(name=None)]}, r"reachability\[0\]\.name: required"),
        ({"reachability": [intent(to=None)]}, r"reachability\[0\]\.to: required"),
        ({"reachability": [intent(name=" ")]}, r"reachability\[0\]\.name: expected a non-empty string"),
        ({"reachability": [intent(expect="maybe")]}, r"reachability\[0\]\.expect: unknown value 'maybe'"),
        ({"reachability": [intent(protocol="sctp")]}, r"reachability\[0\]\.protocol: unknown value 'sctp'"),
        ({"reachability": [intent(port=70000)]}, r"reachability\[0\]\.port: expected a port number"),
        ({"reachability": [intent(port="443")]}, r"reachability\[0\]\.port: expected a port number"),
        ({"reachability": [intent(port=True)]}, r"reachability\[0\]\.port: expected a port number"),
        ({"reachability": [intent(protocol="icmp", port=8)]}, r"reachability\[0\]\.port: protocol icmp has no ports"),
        ({"reachability": [intent(**{"from": {"subnets": "privat"}})]}, r"\.from\.subnets: unknown value 'privat'"),
        ({"reachability": [intent(**{"from": {"subnet": "private"}})]}, r"\.from: unknown key 'subnet'"),
        ({"reachability": [intent(**{"from": {}})]}, r"\.from: empty selector"),
        ({"reachability": [intent(**{"from": "private"})]}, r"\.from: expected a mapping"),
        ({"reachability": [intent(**{"from": {"vpc_ids": []}})]}, r"\.from\.vpc_ids: expected a non-empty list"),
        ({"reachability": [intent(**{"from": {"subnet_ids": ["vpc-1"]}})]}, r"\.from\.subnet_ids: 'vpc-1' is not"),
        ({"reachability": [intent(**{"from": {"tags": {}}})]}, r"\.from\.tags: expected at least one tag"),
        ({"reachability": [intent(to="s4")]}, r"reachability\[0\]\.to: 's4' is not a destination"),
        ({"reachability": [intent(to="service:")]}, r"\.to: 'service:' is not a destination"),
        ({"reachability": [intent(to={"subnets": "none"})]}, r"\.to\.subnets: unknown value 'none'"),
        ({"reachability": [intent(), intent()]}, r"reachability\[1\]\.name: duplicate intent name 'i'"),
    ],
)
def test_a_bad_intent_is_an_error_naming_it(doc: dict[str, Any], message: str) -> None:
    with pytest.raises(PolicyError, match=message):
        parse_policy(doc, CHECK_IDS)


def test_selectors_pick_subnets_by_kind_id_vpc_and_tags() -> None:
    snapshot = NetworkSnapshot(
        account_id=ME,
        region="us-east-1",
        vpcs=(Vpc("vpc-1", ME, ("10.0.0.0/16",)), Vpc("vpc-2", ME, ("10.1.0.0/16",))),
        subnets=(
            Subnet("subnet-pub", "vpc-1", ME, "10.0.0.0/24", tags={"tier": "web"}),
            Subnet("subnet-priv", "vpc-1", ME, "10.0.1.0/24", tags={"tier": "app"}),
            Subnet("subnet-main", "vpc-2", ME, "10.1.0.0/24", tags={"tier": "app", "env": "prod"}),
        ),
        route_tables=(
            RouteTable("rtb-pub", "vpc-1", ME, False, ("subnet-pub",), (Route("0.0.0.0/0", "igw-1"),)),
            # a blackhole default route to the internet gateway does not make a subnet public
            RouteTable("rtb-1", "vpc-1", ME, True, (), (Route("0.0.0.0/0", "igw-1", "blackhole"),)),
            RouteTable("rtb-2", "vpc-2", ME, True, (), (Route("0.0.0.0/0", "nat-1"),)),
        ),
    )

    def pick(**selector: Any) -> list[str]:
        return [s.subnet_id for s in Selector(**selector).select(snapshot)]

    assert pick(subnets="all") == ["subnet-main", "subnet-priv", "subnet-pub"]
    assert pick(subnets="public") == ["subnet-pub"]
    assert pick(subnets="private") == ["subnet-main", "subnet-priv"]
    assert pick(subnet_ids=("subnet-priv", "subnet-gone")) == ["subnet-priv"]
    assert pick(vpc_ids=("vpc-1",), subnets="private") == ["subnet-priv"]
    assert pick(tags=(("tier", "app"),)) == ["subnet-main", "subnet-priv"]
    assert pick(tags=(("tier", "app"), ("env", "prod"))) == ["subnet-main"]


@pytest.mark.parametrize(
    ("expect", "verdict", "private", "holds"),
    [
        ("reachable", "reachable", True, True),
        ("reachable", "reachable", False, True),
        ("reachable", "unreachable", True, False),
        ("reachable", "unknown", True, False),
        ("private", "reachable", True, True),
        ("private", "reachable", False, False),
        ("private", "unreachable", True, False),
        ("unreachable", "unreachable", True, True),
        ("unreachable", "reachable", True, False),
        ("unreachable", "unknown", True, False),  # what cannot be judged is not vouched for
    ],
)
def test_what_each_expectation_accepts(expect: str, verdict: str, private: bool, holds: bool) -> None:
    assert Intent("i", Selector("all"), expect, "s3").holds(verdict, private) is holds
