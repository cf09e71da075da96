"""A moto server on a free loopback port for the whole session; tests talk to it over
HTTP through AWS_ENDPOINT_URL, as a user would, with the emulator opt-in
(VPCWATCH_EMULATOR=1: moto's missing Client VPN API reads as no Client VPN)."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from chalicelib.aws.session import EMULATOR_ENV
from vpcwatch_tools.devserver import moto_server, reset

FAKE_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_REGION": "us-east-1",
}


@pytest.fixture(scope="session")
def moto_server_url() -> Iterator[str]:
    with moto_server() as url:
        yield url


@pytest.fixture
def server(moto_server_url: str) -> str:
    """The server, emptied: each test builds its own landscape."""
    reset(moto_server_url)
    return moto_server_url


@pytest.fixture
def aws_env(server: str, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(FAKE_ENV, AWS_ENDPOINT_URL=server)
    env[EMULATOR_ENV] = "1"
    for key in [k for k in os.environ if k.startswith("AWS_")]:
        monkeypatch.delenv(key)
    for key, value in env.items():
        if key.startswith("AWS_") or key == EMULATOR_ENV:
            monkeypatch.setenv(key, value)
    return env
