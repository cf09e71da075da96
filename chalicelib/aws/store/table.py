"""The table: its schema, its indexes, and how it is created.

One table, shared with Powertools Idempotency (whose records have only ``id``,
``expiration``, ``status``, ``data``...): partition key ``id`` (string), no sort key, TTL
on ``expiration``. Item kinds, told apart by ``kind`` and by the id:

- finding   ``id`` = finding id (``vw-...``): the Finding's fields (evidence as a JSON
            string, so nested lists and numbers round-trip exactly), ``version`` (bumped
            by every write: the optimistic lock), ``order_key`` = ``<severity rank>#
            <last_seen>#<id>`` (so every index lists the most severe, most recently seen
            first, and a severity filter is a ``begins_with`` key condition), and
            ``active_scope`` = ``<account>#<region>`` while OPEN or SUPPRESSED only,
            ``announced`` = the change subscribers last heard of it (``finding.opened``,
            ``...resolved``, ``...reopened``, or ``none`` while nothing was announced;
            absent on items written before it was kept: then unknown).
- outbox    ``id`` = ``outbox#<finding id>#<type>#<version>``: one announced change,
            written in the same transaction as the state change it announces, with
            ``version`` (of the finding's state it announces: the message's dedupe key).
            ``outbox`` = ``PENDING`` and ``due`` while it waits; once sent they are removed and the
            item expires through the TTL. The run that records a change writes its entry
            already claimed (``due`` = the end of its lease) and publishes it itself.
- topology  ``id`` = ``topology#<account>#<region>``: the head of the resource memory
            (resource id -> VPC id): the gzipped JSON itself up to a few thousand
            resources, else the list of its shards, ``topology#<account>#<region>#
            <shard>#<token>`` (kind ``topology-shard``), split by a hash of the resource
            id, each with a digest so that an unchanged memory is never rewritten.

Global secondary indexes, all sparse (an item without an index's key attributes is not in
it, so foreign items never are), all projecting every attribute:

==================  ===============  ===========  =================================================
index               partition        sort         serves
==================  ===============  ===========  =================================================
findings-by-vpc     ``vpc_id``       order_key    query(vpc_id=...)  (most selective, checked first)
findings-by-check   ``check``        order_key    query(check=...)
findings-by-region  ``region``       order_key    query(region=...)
findings-by-status  ``status``       order_key    query(status=...)
findings-all        ``kind``         order_key    query() with no filter but severity
findings-active     ``active_scope`` -            reconcile: one Query per (account, region)
outbox-pending      ``outbox``       ``due``      pending(): entries due now, oldest first
==================  ===============  ===========  =================================================

Filters beyond the chosen index's partition become a FilterExpression (plus
``kind = finding``, so a foreign item could never be returned); severity is always a key
condition. No operation scans the table.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from chalicelib.aws.session import error_code

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
else:
    DynamoDBClient = Any

TABLE_KEY = "id"
TTL_ATTRIBUTE = "expiration"  # Powertools Idempotency's default expiry attribute

KIND_FINDING, KIND_OUTBOX, KIND_TOPOLOGY = "finding", "outbox", "topology"
KIND_TOPOLOGY_SHARD = "topology-shard"

INDEX_ALL = "findings-all"
INDEX_STATUS = "findings-by-status"
INDEX_CHECK = "findings-by-check"
INDEX_VPC = "findings-by-vpc"
INDEX_REGION = "findings-by-region"
INDEX_ACTIVE = "findings-active"
INDEX_OUTBOX = "outbox-pending"

# index -> (partition attribute, sort attribute or None)
INDEXES: dict[str, tuple[str, str | None]] = {
    INDEX_ALL: ("kind", "order_key"),
    INDEX_STATUS: ("status", "order_key"),
    INDEX_CHECK: ("check", "order_key"),
    INDEX_VPC: ("vpc_id", "order_key"),
    INDEX_REGION: ("region", "order_key"),
    INDEX_ACTIVE: ("active_scope", None),
    INDEX_OUTBOX: ("outbox", "due"),
}

MAX_ITEM_BYTES = 400 * 1024

Item = dict[str, Any]  # a low-level DynamoDB item: attribute -> {"S": ...} / {"N": ...} / {"B": ...}


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class TableStore:
    """What every part of the store works with: the table's name, the injected boto3
    DynamoDB *client*, and the clock that stamps leases and expiries."""

    def __init__(self, table_name: str, dynamodb: DynamoDBClient, *, clock: Callable[[], dt.datetime] = utcnow) -> None:
        self.table_name = table_name
        self._ddb = dynamodb
        self._clock = clock


def table_definition(table_name: str) -> dict[str, Any]:
    """The CreateTable request (also the shape a CloudFormation template must match)."""
    attributes = sorted({TABLE_KEY} | {a for keys in INDEXES.values() for a in keys if a})
    indexes = []
    for name, (partition, sort) in INDEXES.items():
        schema = [{"AttributeName": partition, "KeyType": "HASH"}]
        if sort:
            schema.append({"AttributeName": sort, "KeyType": "RANGE"})
        indexes.append({"IndexName": name, "KeySchema": schema, "Projection": {"ProjectionType": "ALL"}})
    return {
        "TableName": table_name,
        "AttributeDefinitions": [{"AttributeName": a, "AttributeType": "S"} for a in attributes],
        "KeySchema": [{"AttributeName": TABLE_KEY, "KeyType": "HASH"}],
        "GlobalSecondaryIndexes": indexes,
        "BillingMode": "PAY_PER_REQUEST",
    }


def create_table(dynamodb: DynamoDBClient, table_name: str) -> bool:
    """Create the table where missing, wait until it is active, enable the TTL. Idempotent;
    returns True when this call created it. An existing table with another key or missing
    indexes is an error naming them (the store could not work on it)."""
    created = False
    try:
        description = dynamodb.describe_table(TableName=table_name)["Table"]
    except ClientError as error:
        if error_code(error) != "ResourceNotFoundException":
            raise
        try:
            dynamodb.create_table(**table_definition(table_name))
            created = True
        except ClientError as race:
            if error_code(race) != "ResourceInUseException":  # created concurrently: fine
                raise
        dynamodb.get_waiter("table_exists").wait(TableName=table_name, WaiterConfig={"Delay": 2, "MaxAttempts": 60})
        description = dynamodb.describe_table(TableName=table_name)["Table"]
    key = [(k["AttributeName"], k["KeyType"]) for k in description.get("KeySchema", [])]
    if key != [(TABLE_KEY, "HASH")]:
        raise ValueError(f"table {table_name} has key {key}, expected a string partition key {TABLE_KEY!r} only")
    present = {i["IndexName"] for i in description.get("GlobalSecondaryIndexes", [])}
    missing = sorted(set(INDEXES) - present)
    if missing:
        raise ValueError(f"table {table_name} lacks the indexes {', '.join(missing)}")
    ttl = dynamodb.describe_time_to_live(TableName=table_name)["TimeToLiveDescription"]
    if ttl.get("TimeToLiveStatus") not in ("ENABLED", "ENABLING"):
        dynamodb.update_time_to_live(
            TableName=table_name, TimeToLiveSpecification={"Enabled": True, "AttributeName": TTL_ATTRIBUTE}
        )
    return created
