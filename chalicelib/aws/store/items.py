"""Items <-> values: DynamoDB's attribute values through boto3's ``TypeSerializer`` and
``TypeDeserializer``, and a finding's item (pure).

The store writes strings (S), integers (N), bytes (B), lists of strings (L) and string sets
(SS) only; numbers read back as ``int``. A finding's item holds the Finding's fields
(evidence as a JSON string, so nested lists and numbers round-trip exactly), its
``version``, ``order_key``, ``active_scope`` while active and ``announced`` (see
``chalicelib.aws.store.table``)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer

from chalicelib.aws.store.table import KIND_FINDING, TABLE_KEY, Item
from chalicelib.core.lifecycle import ACTIVE_STATUSES
from chalicelib.core.model import Finding

_SERIALIZER = TypeSerializer()
_DESERIALIZER = TypeDeserializer()


def marshal(values: Mapping[str, Any]) -> Item:
    """Python values as DynamoDB attribute values: ``{"a": "x", "n": 1}`` ->
    ``{"a": {"S": "x"}, "n": {"N": "1"}}`` (also ExpressionAttributeValues)."""
    return {name: _SERIALIZER.serialize(value) for name, value in values.items()}


def unmarshal(item: Mapping[str, Any]) -> dict[str, Any]:
    """The inverse of ``marshal``, numbers as ``int`` (the store writes no other)."""
    plain: dict[str, Any] = {}
    for name, value in item.items():
        plain[name] = _DESERIALIZER.deserialize(value)
        if isinstance(plain[name], Decimal):
            plain[name] = int(plain[name])
    return plain


def key(item_id: str) -> Item:
    """The table key of the item ``item_id``."""
    return marshal({TABLE_KEY: item_id})


def order_key(finding: Finding) -> str:
    return f"{int(finding.severity)}#{finding.last_seen}#{finding.id}"


def finding_item(finding: Finding, version: int, announced: str | None = None) -> Item:
    values: dict[str, Any] = {
        TABLE_KEY: finding.id,
        "kind": KIND_FINDING,
        "check": finding.check,
        "severity": finding.severity.name,
        "account_id": finding.account_id,
        "region": finding.region,
        "resource_type": finding.resource_type,
        "resource_id": finding.resource_id,
        "resource_arn": finding.resource_arn,
        "title": finding.title,
        "detail": finding.detail,
        "remediation": finding.remediation,
        "evidence": json.dumps(finding.evidence, separators=(",", ":")),
        "first_seen": finding.first_seen,
        "last_seen": finding.last_seen,
        "status": finding.status,
        "version": version,
        "order_key": order_key(finding),
    }
    # Index keys can be neither null nor empty: absent means "not in that index".
    if finding.vpc_id:
        values["vpc_id"] = finding.vpc_id
    if finding.status in ACTIVE_STATUSES:
        values["active_scope"] = f"{finding.account_id}#{finding.region}"
    if finding.reason is not None:
        values["reason"] = finding.reason
    if finding.resolved_at is not None:
        values["resolved_at"] = finding.resolved_at
    if announced is not None:
        values["announced"] = announced
    return marshal(values)


def is_finding_item(item: Mapping[str, Any]) -> bool:
    return item.get("kind") == {"S": KIND_FINDING}


def item_finding(item: Mapping[str, Any]) -> Finding:
    data = unmarshal(item)
    data["evidence"] = json.loads(data.get("evidence") or "{}")
    return Finding.from_dict(data)


@dataclass(frozen=True)
class Stored:
    """A finding as stored, with the version its next write must be conditioned on and
    the change its subscribers last heard (None: not recorded, an item of an older
    version of vpcwatch)."""

    finding: Finding
    version: int
    announced: str | None = None

    @classmethod
    def of(cls, item: Mapping[str, Any]) -> Stored:
        announced = item.get("announced", {}).get("S")
        return cls(item_finding(item), int(item["version"]["N"]), announced)
