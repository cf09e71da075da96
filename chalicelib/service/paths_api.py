"""``GET /paths?from=&to=&protocol=&port=&region=`` (SPEC §7 on the HTTP API): validation
(400 naming the field) and the answer, from a region-wide collection of the path parts."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from chalicelib.core.ids import MINTED_SUFFIX, REGION_RE
from chalicelib.core.model import NetworkSnapshot
from chalicelib.core.netmath import is_ip_address
from chalicelib.core.paths import PROTOCOLS, PathIndex, PathQueryError
from chalicelib.service.api import ApiError

SUBNET_RE = re.compile(rf"^subnet-{MINTED_SUFFIX}$")
SERVICE_RE = re.compile(r"^service:[a-z0-9][a-z0-9.-]*$")
PATH_PARAMS = ("from", "to", "protocol", "port", "region")


@dataclass(frozen=True)
class PathQuery:
    source: str
    destination: str
    protocol: str = "tcp"
    port: int | None = 443
    region: str | None = None


def parse_paths_query(params: Mapping[str, str] | None) -> PathQuery:
    params = params or {}
    for key in params:
        if key not in PATH_PARAMS:
            raise ApiError(key, f"unknown query parameter (expected one of: {', '.join(PATH_PARAMS)})")
    source = params.get("from")
    if not source:
        raise ApiError("from", "required: a subnet id or an IP address inside a subnet")
    if not (SUBNET_RE.match(source) or is_ip_address(source)):
        raise ApiError("from", f"{source!r} is neither a subnet id nor an IP address")
    destination = params.get("to")
    if not destination:
        raise ApiError("to", "required: a subnet id, an IP address, s3, dynamodb, internet or service:NAME")
    if not (
        SUBNET_RE.match(destination)
        or is_ip_address(destination)
        or destination in ("s3", "dynamodb", "internet")
        or SERVICE_RE.match(destination)
    ):
        raise ApiError(
            "to", f"{destination!r} is not a subnet id, an IP address, s3, dynamodb, internet or service:NAME"
        )
    protocol = params.get("protocol", "tcp")
    if protocol not in PROTOCOLS:
        raise ApiError("protocol", f"{protocol!r} is not one of {', '.join(PROTOCOLS)}")
    port: int | None = 443
    if "port" in params:
        text = params["port"]
        if not text.isdigit() or not 0 <= int(text) <= 65535:
            raise ApiError("port", f"{text!r} is not a port number from 0 to 65535")
        if protocol not in ("tcp", "udp"):
            raise ApiError("port", f"protocol {protocol} has no ports")
        port = int(text)
    if protocol not in ("tcp", "udp"):
        port = None
    region = params.get("region")
    if region is not None and not REGION_RE.match(region):
        raise ApiError("region", f"{region!r} is not a region name")
    return PathQuery(source, destination, protocol, port, region)


def answer_path(query: PathQuery, snapshot: NetworkSnapshot) -> tuple[int, dict[str, Any]]:
    """(status, body): 200 and the §7 JSON; 404 when a name matches nothing in the region;
    503 when the path parts could not all be collected (a partial answer would mislead)."""
    if snapshot.errors:
        errors = [{"api": e.action, "region": e.region, "error": e.code} for e in snapshot.errors]
        return 503, {"error": "could not collect what paths need", "errors": errors}
    try:
        result = PathIndex([snapshot]).trace(query.source, query.destination, query.protocol, query.port)
    except PathQueryError as exc:
        return 404, {"error": str(exc)}
    return 200, result.to_json()


def collect_paths(ec2: Any, account_id: str, region: str) -> NetworkSnapshot:
    """What paths read (the registry's ``PATH_NEEDS``), region-wide, as ``vpcwatch path``."""
    from chalicelib.aws.collect.ec2 import collect_region
    from chalicelib.core.checks import PATH_NEEDS

    return collect_region(ec2, account_id=account_id, region=region, actions=PATH_NEEDS)
