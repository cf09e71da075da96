"""The CLI fails closed, run as a user runs it: a subprocess whose AWS_ENDPOINT_URL is an
HTTP proxy in front of the moto server, which answers some requests itself (a region
not enabled for the account, credentials refused, a proxy's HTML error page) and
forwards the rest. The service and region of a request are read from its SigV4
credential scope, the action from its form body, as AWS reads them."""

from __future__ import annotations

import http.client
import json
import re
import threading
import urllib.parse
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import boto3
import pytest

from chalicelib.aws.session import EMULATOR_ENV
from chalicelib.core.checks import REGISTRY
from tests.e2e.test_cli import expected, keys, run_cli
from vpcwatch_tools.lab import Lab, build_lab, remove_default_vpc

REGION = "us-east-1"
OPT_IN_REGION = "ap-east-1"  # moto's DescribeRegions: an opt-in region, not opted in

Answer = tuple[int, str, str]  # status, content type, body
Rule = Callable[[str, str, str], Answer | None]  # (service, region, action) -> an answer, or forward

SCOPE_RE = re.compile(r"Credential=[^/]+/\d{8}/([^/]+)/([^/]+)/aws4_request")


def ec2_error(status: int, code: str, message: str) -> Answer:
    body = (
        f"<Response><Errors><Error><Code>{code}</Code><Message>{message}</Message></Error></Errors>"
        "<RequestID>00000000-0000-0000-0000-000000000000</RequestID></Response>"
    )
    return status, "text/xml", body


def sts_error(status: int, code: str, message: str) -> Answer:
    body = (
        f"<ErrorResponse><Error><Type>Sender</Type><Code>{code}</Code><Message>{message}</Message></Error>"
        "<RequestId>00000000-0000-0000-0000-000000000000</RequestId></ErrorResponse>"
    )
    return status, "text/xml", body


AUTH_FAILURE = ec2_error(401, "AuthFailure", "AWS was not able to validate the provided access credentials")
INVALID_TOKEN = sts_error(403, "InvalidClientTokenId", "The security token included in the request is invalid.")
HTML_500 = (
    500,
    "text/html; charset=utf-8",
    "<!doctype html>\n<html lang=en>\n<title>500 Internal Server Error</title>\n<h1>Internal Server Error</h1>\n",
)


class FaultyProxy:
    """Forwards every request to ``upstream`` unless ``rule`` answers it."""

    def __init__(self, upstream: str, rule: Rule) -> None:
        target = urllib.parse.urlsplit(upstream)
        host, port = target.hostname or "127.0.0.1", target.port or 80
        self.answered: list[tuple[str, str, str]] = []
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                pass

            def handle_one(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                scope = SCOPE_RE.search(self.headers.get("Authorization") or "")
                region, service = scope.groups() if scope else ("", "")
                action = urllib.parse.parse_qs(body.decode("latin-1")).get("Action", [""])[0]
                answer = rule(service, region, action)
                if answer is not None:
                    proxy.answered.append((service, region, action))
                    status, content_type, text = answer
                    payload = text.encode()
                    self.send_response(status)
                    self.send_header("Content-Type", content_type)
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                    return
                upstream_conn = http.client.HTTPConnection(host, port, timeout=60)
                try:
                    headers = {k: v for k, v in self.headers.items() if k.lower() not in ("connection", "host")}
                    upstream_conn.request(self.command, self.path, body=body, headers=headers)
                    response = upstream_conn.getresponse()
                    payload = response.read()
                    self.send_response(response.status)
                    for key, value in response.getheaders():
                        if key.lower() not in ("connection", "content-length", "transfer-encoding", "server", "date"):
                            self.send_header(key, value)
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                finally:
                    upstream_conn.close()

            do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = handle_one

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> FaultyProxy:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def lab(aws_env: dict[str, str]) -> Lab:
    ec2 = boto3.client("ec2", region_name=REGION)
    remove_default_vpc(ec2)
    return build_lab(ec2, boto3.client("s3", region_name=REGION), REGION)


@pytest.fixture
def through(aws_env: dict[str, str]) -> Iterator[Callable[[Rule], tuple[FaultyProxy, dict[str, str]]]]:
    """``through(rule)``: a started proxy in front of the server, and the CLI's environment."""
    proxies: list[FaultyProxy] = []

    def start(rule: Rule) -> tuple[FaultyProxy, dict[str, str]]:
        proxy = FaultyProxy(aws_env["AWS_ENDPOINT_URL"], rule).__enter__()
        proxies.append(proxy)
        return proxy, {**aws_env, "AWS_ENDPOINT_URL": proxy.url}

    yield start
    for proxy in proxies:
        proxy.__exit__(None, None, None)


def every_check() -> set[str]:
    return {spec.id for spec in REGISTRY}


def test_a_region_not_enabled_is_its_own_error_and_the_others_are_reported(lab: Lab, through: Any) -> None:
    proxy, env = through(
        lambda service, region, action: AUTH_FAILURE if (service, region) == ("ec2", OPT_IN_REGION) else None
    )
    proc = run_cli(env, "audit", "--format", "json", "--region", REGION, "--region", OPT_IN_REGION)
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr
    doc = json.loads(proc.stdout)
    audit = doc["audit"]
    assert audit["regions"] == [REGION, OPT_IN_REGION] and audit["account_id"] == "123456789012"
    # The enabled region's results are all there.
    assert keys(doc) == expected(lab)
    assert {f["region"] for f in doc["findings"]} == {REGION}
    assert not [n for n in audit["not_evaluated"] if n["region"] == REGION]
    # The other region is an error naming the action and the code; none of its checks evaluated.
    errors = audit["errors"]
    assert errors and {(e["region"], e["error"]) for e in errors} == {(OPT_IN_REGION, "AuthFailure")}
    first = errors[0]
    assert first["api"].startswith("ec2:Describe") and ("ec2", OPT_IN_REGION, first["api"][4:]) in proxy.answered
    assert "region not enabled for this account" in first["message"]
    assert {n["check"] for n in audit["not_evaluated"] if n["region"] == OPT_IN_REGION} == every_check()
    assert f"could not audit {OPT_IN_REGION}: {first['api']} failed with AuthFailure" in proc.stderr


def test_a_region_not_enabled_listed_first_does_not_hide_the_others(lab: Lab, through: Any) -> None:
    def rule(service: str, region: str, action: str) -> Answer | None:
        if region != OPT_IN_REGION:
            return None
        return INVALID_TOKEN if service == "sts" else AUTH_FAILURE

    _, env = through(rule)
    proc = run_cli(env, "audit", "--format", "json", "--region", OPT_IN_REGION, "--region", REGION)
    assert proc.returncode == 2, proc.stderr
    doc = json.loads(proc.stdout)
    assert doc["audit"]["regions"] == [OPT_IN_REGION, REGION]
    assert keys(doc) == expected(lab)
    assert {e["region"] for e in doc["audit"]["errors"]} == {OPT_IN_REGION}


def test_credentials_refused_everywhere_are_one_line(lab: Lab, through: Any) -> None:
    _, env = through(lambda service, region, action: INVALID_TOKEN if service == "sts" else None)
    proc = run_cli(env, "audit", "--region", REGION, "--region", "eu-west-1")
    assert proc.returncode == 2
    assert proc.stdout == ""
    assert proc.stderr.strip().splitlines() == [
        f"vpcwatch: cannot identify the account (sts:GetCallerIdentity): {REGION}: InvalidClientTokenId, "
        "eu-west-1: InvalidClientTokenId"
    ]


def test_an_html_page_from_a_proxy_is_an_error_not_no_resources(lab: Lab, through: Any) -> None:
    """As deployed (no emulator opt-in): the proxy's HTML 500, and the emulator's own for
    Client VPN, are data that could not be read."""
    _, env = through(lambda service, region, action: HTML_500 if action == "DescribeTransitGateways" else None)
    env.pop(EMULATOR_ENV)
    proc = run_cli(env, "audit", "--format", "json")
    assert proc.returncode == 2, proc.stderr
    doc = json.loads(proc.stdout)
    audit = doc["audit"]
    assert {(e["api"], e["error"]) for e in audit["errors"]} == {
        ("ec2:DescribeTransitGateways", "ResponseParserError"),
        ("ec2:DescribeClientVpnEndpoints", "ResponseParserError"),
    }
    assert all("not AWS's" in e["message"] for e in audit["errors"])
    failed = {"ec2:DescribeTransitGateways", "ec2:DescribeClientVpnEndpoints"}
    assert {n["check"] for n in audit["not_evaluated"]} == {s.id for s in REGISTRY if failed & set(s.needs)}
    not_evaluated = {n["check"] for n in audit["not_evaluated"]}
    assert keys(doc) == {k for k in expected(lab) if k[0] not in not_evaluated}  # the rest was evaluated
    assert f"could not collect ec2:DescribeTransitGateways in {REGION}: ResponseParserError" in proc.stderr


def test_with_the_emulator_opt_in_the_emulators_missing_api_is_no_client_vpn(lab: Lab, aws_env: dict[str, str]) -> None:
    proc = run_cli(aws_env, "audit", "--format", "json")
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["audit"]["errors"] == []


def test_credentials_refused_in_an_enabled_region_are_its_error_not_a_region_not_enabled(
    lab: Lab, through: Any
) -> None:
    refused = "eu-west-1"  # moto: opt-in not required, so AuthFailure there is refused credentials
    _, env = through(lambda service, region, action: AUTH_FAILURE if (service, region) == ("ec2", refused) else None)
    proc = run_cli(env, "audit", "--format", "json", "--region", REGION, "--region", refused)
    assert proc.returncode == 2, proc.stderr
    doc = json.loads(proc.stdout)
    assert keys(doc) == expected(lab)
    first = doc["audit"]["errors"][0]
    assert (first["region"], first["error"]) == (refused, "AuthFailure")
    assert not first["message"].startswith("region not enabled")
