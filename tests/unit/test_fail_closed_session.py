"""collect/session.py: the emulator opt-in, the session's region (AWS_REGION first), and
how a response that is not AWS's is reported. No AWS call."""

from __future__ import annotations

from pathlib import Path

import boto3
import pytest
from botocore.parsers import ResponseParserError

from chalicelib.aws.session import (
    EMULATOR_ENV,
    UnsupportedDetector,
    emulator_mode,
    error_code,
    error_message,
    new_session,
)


@pytest.mark.parametrize(
    ("value", "on"),
    [(None, False), ("", False), ("0", False), ("false", False), ("1", True), ("true", True), (" YES ", True)],
)
def test_the_emulator_opt_in_is_explicit(value: str | None, on: bool) -> None:
    assert emulator_mode({} if value is None else {EMULATOR_ENV: value}) is on


def test_the_emulator_opt_in_is_read_when_asked_not_at_import(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(EMULATOR_ENV, raising=False)
    assert not emulator_mode()
    monkeypatch.setenv(EMULATOR_ENV, "1")
    assert emulator_mode()


def client() -> object:
    return boto3.client("ec2", region_name="us-east-1", aws_access_key_id="a", aws_secret_access_key="b")


def test_without_the_opt_in_the_detector_registers_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(EMULATOR_ENV, raising=False)
    ec2 = client()
    with UnsupportedDetector(ec2) as detector:
        assert not detector.enabled
    with UnsupportedDetector(ec2, emulator=True) as detector:
        assert detector.enabled
    monkeypatch.setenv(EMULATOR_ENV, "1")
    with UnsupportedDetector(ec2) as detector:
        assert detector.enabled


def test_an_unparseable_response_is_named_and_quoted_briefly() -> None:
    page = "<!doctype html><title>500 Internal Server Error</title>" + "x" * 5000
    exc = ResponseParserError(f"Unable to parse response (syntax error), invalid XML received:\n{page.encode()!r}")
    assert error_code(exc) == "ResponseParserError"
    message = error_message(exc)
    assert message.startswith("the response is not AWS's: Unable to parse response")
    assert len(message) < 260 and "\n" not in message


@pytest.mark.parametrize(
    ("env", "profile", "region"),
    [
        ({"AWS_REGION": "eu-west-1"}, None, "eu-west-1"),
        ({"AWS_DEFAULT_REGION": "eu-west-2"}, None, "eu-west-2"),
        ({}, "eu-west-3", "eu-west-3"),
        ({"AWS_REGION": "eu-west-1", "AWS_DEFAULT_REGION": "eu-west-2"}, "eu-west-3", "eu-west-1"),
        ({"AWS_DEFAULT_REGION": "eu-west-2"}, "eu-west-3", "eu-west-2"),
        ({}, None, None),
    ],
)
def test_new_session_region_precedence(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, env: dict[str, str], profile: str | None, region: str | None
) -> None:
    for name in ("AWS_REGION", "AWS_DEFAULT_REGION", "AWS_PROFILE", "AWS_DEFAULT_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    config = tmp_path / "config"
    config.write_text(f"[default]\nregion = {profile}\n" if profile else "")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(config))
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert new_session().region_name == region
