"""Items <-> values through boto3's TypeSerializer / TypeDeserializer: an item written by
the hand-written marshalling that came before reads back identically, and what is
written now has the same shape, attribute by attribute (strings S, numbers N)."""

from __future__ import annotations

import json
from typing import Any

from chalicelib.aws.store.items import Stored, finding_item, item_finding, marshal, unmarshal
from chalicelib.aws.store.memory import ResourceMemory, pack_topology
from chalicelib.aws.store.outbox import OutboxEntry, outbox_entry, outbox_item
from chalicelib.core.model import OPENED, RESOLVED, Change, Finding, Severity

EVIDENCE = {"routes": [{"cidr": "0.0.0.0/0", "target": "igw-1"}], "count": 3, "ratio": 0.5, "nested": {"ok": True}}

FINDING = Finding(
    id="vw-0123456789abcdef",
    check="private-subnet-no-igw-route",
    severity=Severity.HIGH,
    account_id="111122223333",
    region="eu-west-1",
    resource_type="AWS::EC2::RouteTable",
    resource_id="rtb-0a1b",
    resource_arn="arn:aws:ec2:eu-west-1:111122223333:route-table/rtb-0a1b",
    vpc_id="vpc-9f",
    title="Private subnet routes to the internet",
    detail="rtb-0a1b sends 0.0.0.0/0 to igw-1",
    remediation="",  # an empty string is stored as an empty S
    evidence=EVIDENCE,
    first_seen="2026-11-26T03:00:00Z",
    last_seen="2026-11-27T03:00:00Z",
)


def old_item(**extra: dict[str, str]) -> dict[str, Any]:
    """A finding item as the hand-written ``_s``/``_n`` marshalling wrote it."""
    return {
        "id": {"S": "vw-0123456789abcdef"},
        "kind": {"S": "finding"},
        "check": {"S": "private-subnet-no-igw-route"},
        "severity": {"S": "HIGH"},
        "account_id": {"S": "111122223333"},
        "region": {"S": "eu-west-1"},
        "resource_type": {"S": "AWS::EC2::RouteTable"},
        "resource_id": {"S": "rtb-0a1b"},
        "resource_arn": {"S": "arn:aws:ec2:eu-west-1:111122223333:route-table/rtb-0a1b"},
        "title": {"S": "Private subnet routes to the internet"},
        "detail": {"S": "rtb-0a1b sends 0.0.0.0/0 to igw-1"},
        "remediation": {"S": ""},
        "evidence": {"S": json.dumps(EVIDENCE, separators=(",", ":"))},
        "first_seen": {"S": "2026-11-26T03:00:00Z"},
        "last_seen": {"S": "2026-11-27T03:00:00Z"},
        "status": {"S": "OPEN"},
        "version": {"N": "7"},
        "order_key": {"S": "3#2026-11-27T03:00:00Z#vw-0123456789abcdef"},
        "vpc_id": {"S": "vpc-9f"},
        "active_scope": {"S": "111122223333#eu-west-1"},
        **extra,
    }


def test_an_old_finding_item_reads_back_identically() -> None:
    item = old_item(announced={"S": OPENED})
    assert item_finding(item) == FINDING
    assert Stored.of(item) == Stored(FINDING, 7, OPENED)
    # Written before ``announced`` was kept: unknown.
    assert Stored.of(old_item()) == Stored(FINDING, 7, None)


def test_a_finding_item_is_written_in_the_old_shape() -> None:
    assert finding_item(FINDING, 7, OPENED) == old_item(announced={"S": OPENED})
    assert finding_item(FINDING, 7) == old_item()


def test_a_resolved_finding_round_trips_without_index_keys_it_left() -> None:
    resolved = Finding.from_dict(
        {**FINDING.to_dict(), "status": "RESOLVED", "resolved_at": "2026-11-28T03:00:00Z", "vpc_id": None}
    )
    item = finding_item(resolved, 8, RESOLVED)
    assert "active_scope" not in item and "vpc_id" not in item  # sparse: out of those indexes
    assert item["resolved_at"] == {"S": "2026-11-28T03:00:00Z"}
    assert item["version"] == {"N": "8"}
    assert item_finding(item) == resolved
    suppressed = Finding.from_dict({**FINDING.to_dict(), "status": "SUPPRESSED", "reason": "sandbox"})
    assert finding_item(suppressed, 1)["reason"] == {"S": "sandbox"}
    assert item_finding(finding_item(suppressed, 1)) == suppressed


def test_numbers_read_back_as_int_and_values_marshal_as_before() -> None:
    values = {"s": "x", "n": 12, "zero": 0, "big": 1_790_000_000, "b": b"\x1f\x8b", "l": ["a:1"], "ss": {"sns"}}
    item = marshal(values)
    assert item == {
        "s": {"S": "x"},
        "n": {"N": "12"},
        "zero": {"N": "0"},
        "big": {"N": "1790000000"},
        "b": {"B": b"\x1f\x8b"},
        "l": {"L": [{"S": "a:1"}]},
        "ss": {"SS": ["sns"]},
    }
    plain = unmarshal({k: v for k, v in item.items() if k != "b"})
    assert plain == {k: v for k, v in values.items() if k != "b"}
    assert all(type(plain[k]) is int for k in ("n", "zero", "big"))


def test_an_old_outbox_item_reads_back_and_is_written_in_the_old_shape() -> None:
    change = Change(OPENED, FINDING)
    now = "2026-11-27T03:00:00Z"
    old = {
        "id": {"S": f"outbox#{FINDING.id}#{OPENED}#4"},
        "kind": {"S": "outbox"},
        "outbox": {"S": "PENDING"},
        "due": {"S": now},
        "created_at": {"S": now},
        "finding_id": {"S": FINDING.id},
        "type": {"S": OPENED},
        "version": {"N": "4"},
        "message": {"S": json.dumps(change.to_message(), separators=(",", ":"))},
    }
    assert outbox_item(change, 4, now) == old
    assert outbox_entry(old) == OutboxEntry(old["id"]["S"], change, frozenset(), 4)
    # An entry delivered on one channel, written before ``version`` was kept.
    older = {k: v for k, v in old.items() if k != "version"} | {"delivered": {"SS": ["sns"]}}
    assert outbox_entry(older) == OutboxEntry(old["id"]["S"], change, frozenset({"sns"}), 4)


def test_an_old_memory_head_reads_back() -> None:
    inline = {"subnet-1": "vpc-a", "rtb-1": "vpc-a"}
    head = {
        "id": {"S": "topology#111122223333#eu-west-1"},
        "kind": {"S": "topology"},
        "data": {"B": pack_topology(inline)},
        "digest": {"S": "d1"},
        "resources": {"N": "2"},
        "version": {"N": "5"},
    }
    memory = ResourceMemory("111122223333", "eu-west-1", head)
    assert (memory.version, memory.shards, memory.count, memory.digest) == (5, 0, 2, "d1")
    assert dict(memory) == inline
    sharded = {
        "id": {"S": "topology#111122223333#eu-west-1"},
        "kind": {"S": "topology"},
        "shards": {"N": "2"},
        "parts": {"L": [{"S": "aa:d0"}, {"S": "bb:d1"}]},
        "resources": {"N": "9000"},
        "version": {"N": "6"},
    }
    memory = ResourceMemory("111122223333", "eu-west-1", sharded, lambda keys: {})
    assert (memory.version, memory.shards, memory.count) == (6, 2, 9000)
    assert [(p.token, p.digest) for p in memory.parts] == [("aa", "d0"), ("bb", "d1")]
    assert memory.shard_key(1) == "topology#111122223333#eu-west-1#1#bb"
    assert ResourceMemory("111122223333", "eu-west-1").version is None
