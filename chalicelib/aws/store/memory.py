"""The resource memory: which VPC each resource of an (account, region) belongs to, as the
last audits saw them, so that an event about a deleted resource still finds its VPC.

The memory of one (account, region) is a head item, ``topology#<account>#<region>``:
small memories live in it (gzipped, as ``pack_topology`` writes them); larger ones are
split by a hash of the resource id into ``shards`` items, ``topology#<account>#<region>#
<shard>#<token>``, which the head lists (token and digest of each). A lookup reads the
head, and only the shards of the ids it asks about; a write rewrites only the shards
whose content changed (new tokens), switching the head to them in the same
transaction, so a reader never sees a head naming shards that were not written."""

from __future__ import annotations

import gzip
import hashlib
import json
import logging
import secrets
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import ClientError

from chalicelib.aws.session import error_code
from chalicelib.aws.store.items import key, marshal, unmarshal
from chalicelib.aws.store.table import KIND_TOPOLOGY, KIND_TOPOLOGY_SHARD, TABLE_KEY, Item, TableStore
from chalicelib.aws.store.transact import (
    MAX_ATTEMPTS,
    TRANSACTION_BYTES,
    TRANSACTION_ITEMS,
    Conflict,
    StoreConflictError,
    backoff,
    batch_get,
    cancelled_items,
    chunks,
)
from chalicelib.core.audit import iso

log = logging.getLogger("vpcwatch.store")

MEMORY_INLINE_MAX = 4096  # resources kept in the head itself (about 50 KB gzipped)...
MEMORY_INLINE_KEEP = 8192  # ...and kept there while at most this many
MEMORY_SHARD_TARGET = 4096  # resources per shard when (re)sharding
MEMORY_SHARD_MAX = 16384  # a layout is kept while its shards average at most this many...
MEMORY_SHARD_MIN = 1024  # ...and at least this many
MEMORY_BLOB_MAX = 300 * 1024  # gzipped bytes of one item's document, well under the 400 KB item limit


def pack_topology(mapping: Mapping[str, str]) -> bytes:
    """gzip of {vpc: [sorted resource ids]}: grouped and sorted ids compress well, so 10k
    resources take well under 400 KB."""
    grouped: dict[str, list[str]] = defaultdict(list)
    for resource_id, vpc_id in mapping.items():
        grouped[vpc_id].append(resource_id)
    document = {vpc: sorted(ids) for vpc, ids in sorted(grouped.items())}
    return gzip.compress(json.dumps(document, separators=(",", ":")).encode(), mtime=0)


def unpack_topology(blob: bytes) -> dict[str, str]:
    document: dict[str, list[str]] = json.loads(gzip.decompress(blob))
    return {resource_id: vpc_id for vpc_id, ids in document.items() for resource_id in ids}


def shard_of(resource_id: str, shards: int) -> int:
    """The shard (0 .. shards-1) that holds ``resource_id``."""
    return int.from_bytes(hashlib.sha256(resource_id.encode()).digest()[:8], "big") % shards


def topology_digest(mapping: Mapping[str, str]) -> str:
    """A short digest of a mapping's content, to tell an unchanged memory without reading it."""
    document = json.dumps(sorted(mapping.items()), separators=(",", ":")).encode()
    return hashlib.sha256(document).hexdigest()[:24]


def memory_shards(count: int, current: int) -> int:
    """The shard count for ``count`` resources (0: in the head), keeping ``current`` while
    it still fits, so that an unchanged memory keeps its layout and digests."""
    if current == 0 and count <= MEMORY_INLINE_KEEP:
        return 0
    if current > 0 and current * MEMORY_SHARD_MIN <= count <= current * MEMORY_SHARD_MAX:
        return current
    if count <= MEMORY_INLINE_MAX:
        return 0
    shards = 2
    while shards * MEMORY_SHARD_TARGET < count:
        shards *= 2
    return shards


def split_topology(mapping: Mapping[str, str], shards: int) -> list[dict[str, str]]:
    groups: list[dict[str, str]] = [{} for _ in range(shards)]
    for resource_id, vpc_id in mapping.items():
        groups[shard_of(resource_id, shards)][resource_id] = vpc_id
    return groups


@dataclass(frozen=True)
class _Part:
    token: str
    digest: str


class ResourceMemory(Mapping[str, str]):
    """Resource id -> VPC id of one account and region, as the store last saw them,
    read lazily: the head when made, then a shard the first time an id of it is asked
    about (``load`` fetches the shards of many ids at once). A shard gone meanwhile
    (rewritten by another writer) reads as empty: memory is a hint, never a verdict."""

    def __init__(
        self,
        account_id: str,
        region: str,
        head: Mapping[str, Any] | None = None,
        fetch: Callable[[Sequence[str]], Mapping[str, Mapping[str, Any]]] | None = None,
    ) -> None:
        self.account_id, self.region = account_id, region
        data = unmarshal(head) if head is not None else {}
        self.version: int | None = data.get("version")
        self.exists = head is not None
        self.shards: int = data.get("shards", 0)
        self.parts = tuple(_Part(*str(p).split(":", 1)) for p in data.get("parts", [])) if self.shards else ()
        self.digest: str | None = data.get("digest")
        self.count: int = data.get("resources", 0)
        self._fetch = fetch
        self._inline: dict[str, str] | None = None
        if not self.shards:
            self._inline = unpack_topology(bytes(data["data"])) if "data" in data else {}
        self._loaded: dict[int, dict[str, str]] = {}

    @property
    def key(self) -> str:
        return f"topology#{self.account_id}#{self.region}"

    def shard_key(self, index: int, token: str | None = None) -> str:
        return f"{self.key}#{index}#{token if token is not None else self.parts[index].token}"

    def load(self, resource_ids: Iterable[str]) -> None:
        """Read, in one request, every shard holding one of ``resource_ids`` not read yet."""
        if not self.shards:
            return
        wanted = sorted({shard_of(i, self.shards) for i in resource_ids} - set(self._loaded))
        self._load(wanted)

    def shard(self, index: int) -> dict[str, str]:
        if index not in self._loaded:
            self._load([index])
        return self._loaded[index]

    def _load(self, indexes: Sequence[int]) -> None:
        if not indexes:
            return
        if self._fetch is None:
            raise RuntimeError("this memory cannot read its shards")
        items = self._fetch([self.shard_key(i) for i in indexes])
        for index in indexes:
            item = items.get(self.shard_key(index))
            self._loaded[index] = unpack_topology(bytes(item["data"]["B"])) if item else {}

    def everything(self) -> dict[str, str]:
        if self._inline is not None:
            return self._inline
        self._load([i for i in range(self.shards) if i not in self._loaded])
        return {k: v for i in range(self.shards) for k, v in self._loaded[i].items()}

    def __getitem__(self, resource_id: str) -> str:
        if self._inline is not None:
            return self._inline[resource_id]
        return self.shard(shard_of(resource_id, self.shards))[resource_id]

    def __iter__(self) -> Iterator[str]:
        return iter(self.everything())

    def __len__(self) -> int:
        return len(self.everything())


@dataclass(frozen=True)
class _MemoryWrite:
    """A new state of one memory: in the head (``inline``), or ``shards`` whose ``parts``
    the head lists, of which ``puts`` (index -> content) are new items and ``deletes``
    the keys of items they replace."""

    count: int
    inline: dict[str, str] | None = None
    shards: int = 0
    parts: tuple[_Part, ...] = ()
    puts: Mapping[int, dict[str, str]] = field(default_factory=dict)
    deletes: tuple[str, ...] = ()


def _token() -> str:
    """A new shard item's name: never that of the item it replaces in the same transaction."""
    return secrets.token_hex(6)


def _memory_write(memory: ResourceMemory, mapping: Mapping[str, str], replace: bool) -> _MemoryWrite | None:
    """What remembering ``mapping`` changes in ``memory`` (None: nothing). ``replace``: the
    mapping is the whole region (a full audit), else merged into what is known."""
    if replace:
        if not memory.exists and not mapping:
            return None
        return _layout(memory, dict(mapping))
    memory.load(mapping)
    new = {k: v for k, v in mapping.items() if memory.get(k) != v}
    if not new:
        return None
    if memory.shards:
        merged = _merge_shards(memory, new)
        if merged is not None:
            return merged
    return _layout(memory, {**memory.everything(), **new})


def _merge_shards(memory: ResourceMemory, new: Mapping[str, str]) -> _MemoryWrite | None:
    """``new`` merged into the shards it falls in (read by ``load``), the layout kept;
    None when it no longer fits (the caller lays the whole memory out again)."""
    touched: dict[int, dict[str, str]] = {}
    added = 0
    for resource_id, vpc_id in new.items():
        index = shard_of(resource_id, memory.shards)
        content = touched.setdefault(index, dict(memory.shard(index)))
        added += resource_id not in content
        content[resource_id] = vpc_id
    total = memory.count + added
    if memory_shards(total, memory.shards) != memory.shards:
        return None
    if any(len(pack_topology(content)) > MEMORY_BLOB_MAX for content in touched.values()):
        return None
    parts = tuple(
        _Part(_token(), topology_digest(touched[i])) if i in touched else memory.parts[i] for i in range(memory.shards)
    )
    return _MemoryWrite(total, None, memory.shards, parts, touched, tuple(memory.shard_key(i) for i in touched))


def _layout(memory: ResourceMemory, target: dict[str, str]) -> _MemoryWrite | None:
    """``target`` as the whole memory: in the head or in shards (the current layout while
    it fits, so unchanged shards are neither compared by content nor rewritten)."""
    shards = memory_shards(len(target), memory.shards)
    while True:
        if shards == 0:
            if memory.exists and not memory.shards:
                if memory.digest is not None and memory.digest == topology_digest(target):
                    return None
                if memory.digest is None and memory.everything() == target:
                    return None  # written before digests were kept: left as it is
            if len(pack_topology(target)) <= MEMORY_BLOB_MAX:
                old = tuple(memory.shard_key(i) for i in range(memory.shards))
                return _MemoryWrite(count=len(target), inline=target, deletes=old)
            shards = 2
            continue
        groups = split_topology(target, shards)
        if any(len(pack_topology(g)) > MEMORY_BLOB_MAX for g in groups):
            shards *= 2  # ids far longer than AWS's: smaller shards
            continue
        digests = [topology_digest(g) for g in groups]
        if shards == memory.shards:
            changed = [i for i in range(shards) if digests[i] != memory.parts[i].digest]
            if not changed:
                return None
            deletes = tuple(memory.shard_key(i) for i in changed)
        else:
            changed = list(range(shards))
            deletes = tuple(memory.shard_key(i) for i in range(memory.shards))
        parts = tuple(_Part(_token(), digests[i]) if i in changed else memory.parts[i] for i in range(shards))
        return _MemoryWrite(len(target), None, shards, parts, {i: groups[i] for i in changed}, deletes)


class ResourceMemoryStore(TableStore):
    """The resource memory's reads and writes."""

    def remember_resources(
        self,
        account_id: str,
        region: str,
        mapping: Mapping[str, str],
        replace: bool,
        known: ResourceMemory | None = None,
    ) -> bool:
        """Store resource id -> VPC id for one account and region: ``replace`` for a full
        audit (what it did not see is gone), merged otherwise (a scoped audit saw only part).
        ``known``: the memory as this caller read it already (``resource_vpcs``), which
        spares reading it again. Writes nothing when nothing changes (one GetItem of the
        head for a full audit; nothing more for a merge of what ``known`` holds), else
        only the shards that changed and the head, in one transaction conditioned on the
        head's version: a concurrent writer makes this one re-read and merge again.
        Returns whether it wrote."""
        for attempt in range(MAX_ATTEMPTS):
            memory = known if known is not None and attempt == 0 else self.resource_vpcs(account_id, region, ())
            change = _memory_write(memory, mapping, replace)
            if change is None:
                return False
            try:
                self._write_memory(memory, change)
                return True
            except Conflict:
                backoff(attempt)
        raise StoreConflictError(f"topology of {account_id}/{region}: {MAX_ATTEMPTS} conflicting writes in a row")

    def resource_vpcs(self, account_id: str, region: str, ids: Iterable[str] | None = None) -> ResourceMemory:
        """What the store remembers of one account and region: one GetItem of the head,
        then (for a memory large enough to be sharded) one more request for the shards
        of ``ids``; any other shard is read when first asked about. ``ids`` None: read
        it all."""
        head = key(f"topology#{account_id}#{region}")
        response = self._ddb.get_item(TableName=self.table_name, Key=head, ConsistentRead=True)
        memory = ResourceMemory(account_id, region, response.get("Item"), self._fetch)
        if ids is None:
            memory.everything()
        else:
            memory.load(ids)
        return memory

    def _fetch(self, keys: Sequence[str]) -> dict[str, Item]:
        """Items by key: a GetItem for one, BatchGetItem (100 a request) for more."""
        if len(keys) == 1:
            got = self._ddb.get_item(TableName=self.table_name, Key=key(keys[0]), ConsistentRead=True)
            item = got.get("Item")
            return {keys[0]: item} if item else {}
        return {item[TABLE_KEY]["S"]: item for item in batch_get(self._ddb, self.table_name, keys)}

    def _write_memory(self, memory: ResourceMemory, change: _MemoryWrite) -> None:
        """Write the new shards and switch the head to them in one transaction (several
        when the shards exceed one: the earlier ones put shards nobody lists yet, which
        the last, holding the head, makes visible); raises ``Conflict`` when the head
        moved since ``memory`` was read."""
        head: dict[str, Any] = {
            TABLE_KEY: memory.key,
            "kind": KIND_TOPOLOGY,
            "resources": change.count,
            "updated_at": iso(self._clock()),
            "version": (memory.version or 0) + 1,
        }
        if change.inline is not None:
            head["data"] = pack_topology(change.inline)
            head["digest"] = topology_digest(change.inline)
        else:
            head["shards"] = change.shards
            head["parts"] = [f"{p.token}:{p.digest}" for p in change.parts]
        put: dict[str, Any] = {"TableName": self.table_name, "Item": marshal(head)}
        if memory.version is None:
            put["ConditionExpression"] = "attribute_not_exists(#id)"
            put["ExpressionAttributeNames"] = {"#id": TABLE_KEY}
        else:
            put["ConditionExpression"] = "#v = :v"
            put["ExpressionAttributeNames"] = {"#v": "version"}
            put["ExpressionAttributeValues"] = marshal({":v": memory.version})
        shards: list[dict[str, Any]] = []
        for index, content in change.puts.items():
            item = marshal(
                {
                    TABLE_KEY: memory.shard_key(index, change.parts[index].token),
                    "kind": KIND_TOPOLOGY_SHARD,
                    "data": pack_topology(content),
                    "resources": len(content),
                }
            )
            shards.append({"Put": {"TableName": self.table_name, "Item": item}})
        deletes = [{"Delete": {"TableName": self.table_name, "Key": key(k)}} for k in change.deletes]
        if not shards and not deletes:
            try:
                self._ddb.put_item(**put)
            except ClientError as error:
                if error_code(error) == "ConditionalCheckFailedException":
                    raise Conflict from error
                raise
            return
        # The head last, with as many shards and deletes as fit beside it.
        batches: list[list[dict[str, Any]]] = [[]]
        size = 0
        for action in shards:
            blob = len(action["Put"]["Item"]["data"]["B"]) + 512
            if len(batches[-1]) + 1 >= TRANSACTION_ITEMS or size + blob > TRANSACTION_BYTES - MEMORY_BLOB_MAX:
                batches.append([])
                size = 0
            batches[-1].append(action)
            size += blob
        room = TRANSACTION_ITEMS - 1 - len(batches[-1])
        final = [*batches[-1], *deletes[:room], {"Put": put}]
        earlier = batches[:-1]
        try:
            for batch in earlier:
                self._ddb.transact_write_items(TransactItems=batch)  # type: ignore[arg-type]
            self._ddb.transact_write_items(TransactItems=final)  # type: ignore[arg-type]
        except ClientError as error:
            if cancelled_items(error, len(final)) is None:
                raise
            self._delete_quietly([a["Put"]["Item"][TABLE_KEY]["S"] for batch in earlier for a in batch])
            raise Conflict from error
        self._delete_quietly(change.deletes[room:])

    def _delete_quietly(self, keys: Sequence[str]) -> None:
        """Remove shard items nobody lists (any more): best effort, logged on failure."""
        for chunk in chunks(keys, TRANSACTION_ITEMS):
            actions = [{"Delete": {"TableName": self.table_name, "Key": key(k)}} for k in chunk]
            try:
                self._ddb.transact_write_items(TransactItems=actions)  # type: ignore[arg-type]
            except ClientError as error:
                log.warning("topology shards left behind (%s): %s", error_code(error), ", ".join(chunk[:3]))
