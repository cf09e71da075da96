"""Request validation for the HTTP API: pure functions that turn a body or query string
into typed arguments, or raise ``ApiError`` naming the field (-> 400)."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from chalicelib.core.checks import CHECK_IDS
from chalicelib.core.ids import ACCOUNT_RE, FINDING_ID_RE, REGION_RE, VPC_ID_RE
from chalicelib.core.model import Severity

STATUSES = ("OPEN", "RESOLVED", "SUPPRESSED")
MAX_LIMIT = 500


class ApiError(ValueError):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field


@dataclass(frozen=True)
class AuditRequest:
    regions: tuple[str, ...]
    vpc_ids: tuple[str, ...]
    accounts: tuple[str, ...] = ()


@dataclass(frozen=True)
class FindingsQuery:
    status: str | None = None
    severity: str | None = None
    check: str | None = None
    vpc_id: str | None = None
    region: str | None = None
    limit: int = 50
    next_token: str | None = None


def _string_list(body: Mapping[str, Any], field: str, pattern: re.Pattern[str], what: str) -> tuple[str, ...]:
    value = body.get(field, [])
    if not isinstance(value, list):
        raise ApiError(field, f"expected a list of {what}")
    for item in value:
        if not isinstance(item, str) or not pattern.match(item):
            raise ApiError(field, f"{item!r} is not a {what}")
    return tuple(dict.fromkeys(value))


def parse_audit_request(raw_body: bytes | str | None) -> AuditRequest:
    """``POST /audits`` body: {"regions": [...], "vpc_ids": [...], "accounts": [...]}, all optional."""
    if raw_body in (None, b"", ""):
        return AuditRequest((), ())
    try:
        body = json.loads(raw_body)
    except (ValueError, TypeError):
        raise ApiError("body", "not valid JSON") from None
    if not isinstance(body, dict):
        raise ApiError("body", "expected a JSON object")
    for key in body:
        if key not in ("regions", "vpc_ids", "accounts"):
            raise ApiError(key, "unknown field (expected regions, vpc_ids, accounts)")
    return AuditRequest(
        regions=_string_list(body, "regions", REGION_RE, "region name"),
        vpc_ids=_string_list(body, "vpc_ids", VPC_ID_RE, "VPC id"),
        accounts=_string_list(body, "accounts", ACCOUNT_RE, "12-digit account id"),
    )


def parse_findings_query(params: Mapping[str, str] | None) -> FindingsQuery:
    """``GET /findings`` query string; every parameter optional, unknown ones refused."""
    params = params or {}
    allowed = ("status", "severity", "check", "vpc_id", "region", "limit", "next_token")
    for key in params:
        if key not in allowed:
            raise ApiError(key, f"unknown query parameter (expected one of: {', '.join(allowed)})")
    status = params.get("status")
    if status is not None and status.upper() not in STATUSES:
        raise ApiError("status", f"{status!r} is not one of {', '.join(STATUSES)}")
    severity = params.get("severity")
    if severity is not None:
        try:
            severity = Severity.parse(severity).name
        except ValueError as exc:
            raise ApiError("severity", str(exc)) from None
    check = params.get("check")
    if check is not None and check not in CHECK_IDS:
        raise ApiError("check", f"unknown check id {check!r}")
    vpc_id = params.get("vpc_id")
    if vpc_id is not None and not VPC_ID_RE.match(vpc_id):
        raise ApiError("vpc_id", f"{vpc_id!r} is not a VPC id")
    region = params.get("region")
    if region is not None and not REGION_RE.match(region):
        raise ApiError("region", f"{region!r} is not a region name")
    limit = 50
    if "limit" in params:
        if not params["limit"].isdigit() or not 1 <= int(params["limit"]) <= MAX_LIMIT:
            raise ApiError("limit", f"expected a whole number from 1 to {MAX_LIMIT}")
        limit = int(params["limit"])
    next_token = params.get("next_token") or None
    return FindingsQuery(
        status=status.upper() if status else None,
        severity=severity,
        check=check,
        vpc_id=vpc_id,
        region=region,
        limit=limit,
        next_token=next_token,
    )


def validate_finding_id(finding_id: str) -> str:
    if not FINDING_ID_RE.match(finding_id):
        raise ApiError("id", f"{finding_id!r} is not a finding id")
    return finding_id
