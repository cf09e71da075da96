"""``GET /paths`` and reachability intents through the Chalice app, on the moto server with
the lab (the fixtures of ``test_service``)."""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest
from chalice.test import Client

import app as app_module
from tests.e2e.test_service import ACCOUNT, REGION, Deployed, client, deployed, post_audit
from vpcwatch_tools.lab import apply_fix, cloudtrail_event, fix_event

__all__ = ["client", "deployed"]  # fixtures, used by name

INTENT = "private-subnets-reach-s3-privately"


def get_path(client: Client, query: str) -> tuple[int, dict[str, Any]]:
    response = client.http.get(f"/paths?{query}")
    return response.status_code, json.loads(response.body)


def test_the_labs_path_to_s3_before_and_after_the_fix(deployed: Deployed, client: Client) -> None:
    lab = deployed.lab
    status, body = get_path(client, f"from={lab.app_private_subnet}&to=s3&port=443")
    assert status == 200
    assert (body["verdict"], body["source"]["subnet_id"], body["destination"]["kind"]) == (
        "unreachable",
        lab.app_private_subnet,
        "service",
    )
    assert body["blocked_at"] == {"resource_id": lab.app_private_rtb, "type": "route-table", "reason": "no route to s3"}
    endpoint = apply_fix(boto3.client("ec2", region_name=REGION), lab)["VpcEndpoint"]["VpcEndpointId"]
    status, body = get_path(client, f"from={lab.app_private_subnet}&to=s3&region={REGION}")
    assert status == 200 and (body["verdict"], body["private"], body["blocked_at"]) == ("reachable", True, None)
    assert [h["resource_id"] for h in body["hops"] if h["type"] != "network-acl"] == [lab.app_private_rtb, endpoint]
    assert body["protocol"] == "tcp" and body["port"] == 443


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("to=s3", "from"),
        ("from=vpc-1&to=s3", "from"),
        ("from=subnet-0123456789abcdef0", "to"),
        ("from=10.0.1.5&to=s4", "to"),
        ("from=10.0.1.5&to=s3&protocol=sctp", "protocol"),
        ("from=10.0.1.5&to=s3&port=http", "port"),
        ("from=10.0.1.5&to=s3&port=70000", "port"),
        ("from=10.0.1.5&to=s3&protocol=icmp&port=8", "port"),
        ("from=10.0.1.5&to=s3&region=mars", "region"),
        ("from=10.0.1.5&to=s3&colour=red", "colour"),
    ],
)
def test_bad_input_is_a_400_naming_the_field(deployed: Deployed, client: Client, query: str, field: str) -> None:
    status, body = get_path(client, query)
    assert status == 400 and body["error"].startswith(f"{field}:"), body


def test_names_that_match_nothing_are_404(deployed: Deployed, client: Client) -> None:
    lab = deployed.lab
    for query in (
        "from=subnet-0123456789abcdef0&to=s3",  # no such subnet
        f"from={lab.app_private_subnet}&to=subnet-0123456789abcdef0",
        "from=192.168.7.7&to=internet",  # in no subnet of the region
        f"from={lab.app_private_subnet}&to=s3&region=eu-west-1",  # the lab is in us-east-1
    ):
        status, body = get_path(client, query)
        assert status == 404 and body["error"], (query, body)


def test_an_intent_finding_opens_and_resolves_through_the_app(
    deployed: Deployed, client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    lab = deployed.lab
    intent = {"name": INTENT, "from": {"subnets": "private", "vpc_ids": [lab.app_vpc]}, "to": "s3", "expect": "private"}
    monkeypatch.setenv("POLICY", json.dumps({"reachability": [intent]}))
    monkeypatch.setattr(app_module, "_service", None)  # re-read the policy
    opened = [f for f in post_audit(client)["changes"]["opened"] if f["check"] == "reachability-intent"]
    assert [f["resource_id"] for f in opened] == [lab.app_private_subnet]
    evidence = opened[0]["evidence"]
    assert (evidence["intent"], evidence["expect"], evidence["verdict"]) == (INTENT, "private", "unreachable")
    assert evidence["blocked_at"]["resource_id"] == lab.app_private_rtb
    assert ("finding.opened", "reachability-intent", lab.app_private_subnet) in deployed.messages()

    response = apply_fix(boto3.client("ec2", region_name=REGION), lab)
    # The fix's event re-audits app's VPC, and (the policy has intents, the event moves
    # routing) re-judges the region's intents region-wide: resolved within one event.
    answer = client.lambda_.invoke("on_network_change", fix_event(lab, response, ACCOUNT, "fix-intent-1")).payload
    assert answer["paths"]["checks"] == ["routes-return-path", "reachability-intent"]
    assert opened[0]["id"] in answer["changes"]["resolved"]
    assert ("finding.resolved", "reachability-intent", lab.app_private_subnet) in deployed.messages()
    stored = json.loads(client.http.get(f"/findings/{opened[0]['id']}").body)
    assert stored["status"] == "RESOLVED"

    # A full audit agrees: nothing left to change.
    again = post_audit(client)["changes"]
    assert ("reachability-intent", lab.app_private_subnet) not in {
        (f["check"], f["resource_id"]) for kind in again.values() for f in kind
    }

    # Deleting the endpoint breaks the path again: its event reopens the intent at once.
    endpoint = response["VpcEndpoint"]["VpcEndpointId"]
    boto3.client("ec2", region_name=REGION).delete_vpc_endpoints(VpcEndpointIds=[endpoint])
    delete = cloudtrail_event(
        "DeleteVpcEndpoints",
        {"DeleteVpcEndpointsRequest": {"VpcEndpointId": {"tag": 1, "content": endpoint}}},
        {"DeleteVpcEndpointsResponse": {"unsuccessful": ""}},
        account_id=ACCOUNT,
        region=REGION,
        event_id="break-intent-1",
    )
    answer = client.lambda_.invoke("on_network_change", delete).payload
    assert opened[0]["id"] in answer["changes"]["reopened"], answer
    assert ("finding.reopened", "reachability-intent", lab.app_private_subnet) in deployed.messages()
