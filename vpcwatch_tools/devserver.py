"""A moto server on a free loopback port, for the end-to-end tests, the benchmarks and
local runs (moto is a development dependency; nothing in the Lambdas imports this).

A client of the emulator sets the emulator opt-in (``VPCWATCH_EMULATOR=1``, see
``collect/session.py``) so that moto's missing Client VPN API reads as no Client VPN;
without it, that answer is an error, as it would be from AWS (fail closed)."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def moto_server(port: int | None = None, startup_seconds: float = 30) -> Iterator[str]:
    """Start a moto server (``serve``) on 127.0.0.1, yield its URL, stop it on exit."""
    port = port or free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "vpcwatch_tools.devserver", "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + startup_seconds
        while True:
            try:
                urllib.request.urlopen(url + "/moto-api/data.json", timeout=1).read()
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"moto server did not start on {url}") from None
                time.sleep(0.1)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()


def reset(url: str) -> None:
    """Empty the server (every account and region)."""
    request = urllib.request.Request(url + "/moto-api/reset", method="POST")
    urllib.request.urlopen(request, timeout=10).read()


def serve(port: int, host: str = "127.0.0.1") -> None:
    """moto's server, answering one request at a time. ``moto.server`` answers each in a
    thread of its own, and moto's DynamoDB is not thread-safe: two conditional writes
    racing could both succeed, which DynamoDB never allows. Serving requests one by one
    makes each request atomic, as on AWS, while clients still race between requests."""
    import os

    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
    from werkzeug.serving import run_simple

    os.environ.setdefault("MOTO_PORT", str(port))
    run_simple(host, port, DomainDispatcherApplication(create_backend_app), threaded=False, use_reloader=False)


def serve_local(api_port: int = 8000) -> int:
    """``make serve``: a moto server holding the lab landscape and the service's resources,
    and ``chalice local`` on ``api_port`` pointed at it, until interrupted. Sets the emulator
    opt-in (``VPCWATCH_EMULATOR=1``, see ``collect/session.py``) for ``chalice local``."""
    import os

    import boto3

    from chalicelib.aws.session import EMULATOR_ENV, make_client
    from vpcwatch_tools.lab import build_lab, remove_default_vpc
    from vpcwatch_tools.provision import provision

    region = "us-east-1"
    fake = {"AWS_ACCESS_KEY_ID": "local", "AWS_SECRET_ACCESS_KEY": "local", "AWS_DEFAULT_REGION": region}
    fake[EMULATOR_ENV] = "1"  # moto server's missing Client VPN API is no Client VPN
    with moto_server() as url:
        os.environ.update(fake, AWS_ENDPOINT_URL=url, AWS_REGION=region)
        session = boto3.session.Session(region_name=region)
        ec2 = make_client(session, "ec2", region)
        remove_default_vpc(ec2)
        lab = build_lab(ec2, make_client(session, "s3", region), region)
        env = provision(session, region)
        print(f"moto server {url} holds the lab (app {lab.app_vpc}, hub {lab.hub_vpc}, legacy {lab.legacy_vpc})")
        print(f"try: curl -s -X POST localhost:{api_port}/audits -d '{{}}' | head -c 600")
        chalice = [str(Path(sys.executable).with_name("chalice")), "local", "--port", str(api_port), "--no-autoreload"]
        try:
            return subprocess.call(chalice, env={**os.environ, **env})
        except KeyboardInterrupt:
            return 0


if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser(description="A moto server on the loopback, one request at a time.")
    parser.add_argument("--port", type=int, default=5000)
    parser.add_argument("--serve-api", type=int, metavar="PORT", help="run `make serve`: the lab + chalice local")
    args = parser.parse_args()
    if args.serve_api:
        sys.exit(serve_local(args.serve_api))
    serve(args.port)
