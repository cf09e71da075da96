"""The policy file (SPEC §2): schema, validation with errors that name the bad key,
and exemptions (by file, with reason and expiry, and by the ``vpcwatch:exempt`` tag)."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from typing import Any

from chalicelib.core.intents import Intent, IntentError, parse_reachability
from chalicelib.core.model import EXEMPT_TAG, Severity, Tags

TRAFFIC_TYPES = ("ALL", "REJECT", "ACCEPT")
TOP_LEVEL_KEYS = ("flow_logs", "endpoints", "trusted_accounts", "severity", "exemptions", "reachability")


class PolicyError(ValueError):
    """A policy document that does not validate; the message names the key or value."""


@dataclass(frozen=True)
class Exemption:
    check: str
    resource_id: str
    reason: str
    expires: dt.date | None = None

    def active(self, today: dt.date) -> bool:
        return self.expires is None or today <= self.expires


@dataclass(frozen=True)
class Policy:
    traffic_type: str = "ALL"
    gateway_endpoints: tuple[str, ...] = ("s3", "dynamodb")
    interface_endpoints: tuple[str, ...] = ()
    trusted_accounts: tuple[str, ...] = ()
    severity: Mapping[str, Severity] = field(default_factory=dict)
    exemptions: tuple[Exemption, ...] = ()
    intents: tuple[Intent, ...] = ()  # ``reachability`` (SPEC §2, §7)

    def exemption_reason(self, check: str, resource_id: str, tags: Tags, today: dt.date) -> str | None:
        """Why (check, resource) is exempt, or None. File exemptions first, then the tag."""
        for ex in self.exemptions:
            if ex.check == check and ex.resource_id == resource_id and ex.active(today):
                until = f" (until {ex.expires.isoformat()})" if ex.expires else ""
                return f"policy exemption: {ex.reason}{until}"
        tag = tags.get(EXEMPT_TAG)
        if tag is not None:
            listed = {part.strip() for part in tag.split(",")}
            if "all" in listed or check in listed:
                return f"tag {EXEMPT_TAG}={tag}"
        return None


def _str_list(value: Any, where: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise PolicyError(f"{where}: expected a list of non-empty strings, got {value!r}")
    return tuple(value)


def _keys(doc: Mapping[str, Any], allowed: Collection[str], where: str) -> None:
    for key in doc:
        if key not in allowed:
            raise PolicyError(f"{where}: unknown key {key!r} (expected one of: {', '.join(allowed)})")


def _mapping(value: Any, where: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise PolicyError(f"{where}: expected a mapping, got {type(value).__name__}")
    return value


def _date(value: Any, where: str) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            pass
    raise PolicyError(f"{where}: expected a date YYYY-MM-DD, got {value!r}")


def parse_policy(doc: Any, known_checks: Collection[str]) -> Policy:
    """Validate a parsed policy document (None or {} gives the defaults). ``known_checks``:
    the registry's check ids (``chalicelib.core.checks.CHECK_IDS``), which exemptions and
    severities may name; an argument, since the checks import this module's Policy."""
    checks = known_checks
    if doc is None:
        return Policy()
    doc = _mapping(doc, "policy")
    _keys(doc, TOP_LEVEL_KEYS, "policy")
    kwargs: dict[str, Any] = {}

    flow = _mapping(doc.get("flow_logs") or {}, "flow_logs")
    _keys(flow, ("traffic_type",), "flow_logs")
    if "traffic_type" in flow:
        traffic = flow["traffic_type"]
        if not isinstance(traffic, str) or traffic.upper() not in TRAFFIC_TYPES:
            raise PolicyError(
                f"flow_logs.traffic_type: unknown value {traffic!r} (expected one of: ALL, REJECT, ACCEPT)"
            )
        kwargs["traffic_type"] = traffic.upper()

    endpoints = _mapping(doc.get("endpoints") or {}, "endpoints")
    _keys(endpoints, ("gateway", "interface"), "endpoints")
    if "gateway" in endpoints:
        gateway = _str_list(endpoints["gateway"], "endpoints.gateway")
        for service in gateway:
            if service not in ("s3", "dynamodb"):
                raise PolicyError(f"endpoints.gateway: {service!r} has no gateway endpoint (only s3, dynamodb)")
        kwargs["gateway_endpoints"] = gateway
    if "interface" in endpoints:
        kwargs["interface_endpoints"] = _str_list(endpoints["interface"], "endpoints.interface")

    if "trusted_accounts" in doc:
        accounts = _str_list([str(a) for a in doc["trusted_accounts"] or []], "trusted_accounts")
        for account in accounts:
            if not (len(account) == 12 and account.isdigit()):
                raise PolicyError(f"trusted_accounts: {account!r} is not a 12-digit account id")
        kwargs["trusted_accounts"] = accounts

    severities: dict[str, Severity] = {}
    for check, value in _mapping(doc.get("severity") or {}, "severity").items():
        if check not in checks:
            raise PolicyError(f"severity: unknown check id {check!r}")
        try:
            severities[check] = Severity.parse(str(value))
        except ValueError as exc:
            raise PolicyError(f"severity.{check}: {exc}") from None
    kwargs["severity"] = severities

    exemptions = doc.get("exemptions") or []
    if not isinstance(exemptions, list):
        raise PolicyError("exemptions: expected a list")
    parsed: list[Exemption] = []
    for n, raw in enumerate(exemptions):
        where = f"exemptions[{n}]"
        entry = _mapping(raw, where)
        _keys(entry, ("check", "resource_id", "reason", "expires"), where)
        for required in ("check", "resource_id", "reason"):
            if not isinstance(entry.get(required), str) or not entry[required]:
                raise PolicyError(f"{where}.{required}: required (a non-empty string)")
        if entry["check"] not in checks:
            raise PolicyError(f"{where}.check: unknown check id {entry['check']!r}")
        expires = _date(entry["expires"], f"{where}.expires") if entry.get("expires") is not None else None
        parsed.append(Exemption(entry["check"], entry["resource_id"], entry["reason"], expires))
    kwargs["exemptions"] = tuple(parsed)
    try:
        kwargs["intents"] = parse_reachability(doc.get("reachability"))
    except IntentError as exc:
        raise PolicyError(str(exc)) from None
    return Policy(**kwargs)


def loads_policy(text: str, known_checks: Collection[str]) -> Policy:
    """Parse a YAML or JSON policy document (JSON is YAML, but try JSON first for its errors)."""
    import yaml  # only when a policy is read: a cold start without POLICY does not pay for it

    stripped = text.lstrip()
    try:
        doc = json.loads(text) if stripped.startswith("{") else yaml.safe_load(text)
    except (json.JSONDecodeError, yaml.YAMLError) as exc:
        raise PolicyError(f"policy: not valid YAML or JSON: {exc}") from None
    return parse_policy(doc, known_checks)


def load_policy_file(path: str, known_checks: Collection[str]) -> Policy:
    try:
        with open(path, encoding="utf-8") as handle:
            text = handle.read()
    except OSError as exc:
        raise PolicyError(f"policy file {path}: {exc.strerror}") from None
    return loads_policy(text, known_checks)
