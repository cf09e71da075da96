"""Which writes an audit makes (pure): each stored finding's transition, but a finding
merely seen again only when its ``last_seen`` is due for a refresh or a transaction has
room for it anyway; and how the writes are grouped into transactions."""

from __future__ import annotations

import datetime as dt
import json
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass

from chalicelib.aws.store.items import Stored
from chalicelib.aws.store.transact import TRANSACTION_BYTES, TRANSACTION_ITEMS
from chalicelib.core.lifecycle import Transition, refresh_only, transition
from chalicelib.core.model import Finding

LAST_SEEN_REFRESH = dt.timedelta(days=1)  # an unchanged finding's last_seen is rewritten at most this often

Task = tuple[str, Stored | None, Finding | None]  # (finding id, as stored, as observed or None: covered, not found)


@dataclass(frozen=True)
class Write:
    """One transition to write, conditioned on the version read (None: absent)."""

    finding_id: str
    step: Transition
    expected: int | None
    observed: Finding | None
    last_seen_before: str = ""

    @property
    def items(self) -> int:
        return 2 if self.step.change else 1  # the finding, and the outbox entry of a change

    @property
    def size(self) -> int:
        """An upper bound of the bytes the write puts (the outbox entry holds the finding)."""
        return self.items * (len(json.dumps(self.step.finding.to_dict(), separators=(",", ":"))) + 1024)


def transaction_chunks(writes: Sequence[Write]) -> Iterator[list[Write]]:
    """``writes`` in groups that fit one TransactWriteItems (100 items, 4 MB)."""
    chunk: list[Write] = []
    items = size = 0
    for write in writes:
        if chunk and (items + write.items > TRANSACTION_ITEMS or size + write.size > TRANSACTION_BYTES):
            yield chunk
            chunk, items, size = [], 0, 0
        chunk.append(write)
        items += write.items
        size += write.size
    if chunk:
        yield chunk


def plan_writes(tasks: Iterable[Task], stamp: str, now: dt.datetime) -> list[Write]:
    """The writes of an audit: every transition but a mere refresh of ``last_seen``,
    and those refreshes where due (a finding of the (account, region) is at least
    ``LAST_SEEN_REFRESH`` old: all of its refreshes, so they stay in step) or free
    (room left in the transactions the other writes need, oldest first)."""
    writes: list[Write] = []
    refreshes: dict[tuple[str, str], list[Write]] = defaultdict(list)
    for finding_id, stored, observed in tasks:
        current = stored.finding if stored is not None else None
        step = transition(current, observed, stamp, stored.announced if stored is not None else None)
        if step is None:
            continue
        version = stored.version if stored is not None else None
        write = Write(finding_id, step, version, observed, current.last_seen if current else "")
        if current is not None and refresh_only(current, step):
            refreshes[(current.account_id, current.region)].append(write)
        else:
            writes.append(write)
    optional: list[tuple[str, Write]] = []
    for scope_writes in refreshes.values():
        ages = [now - dt.datetime.fromisoformat(w.last_seen_before) for w in scope_writes]
        if max(ages) >= LAST_SEEN_REFRESH:
            writes.extend(scope_writes)
        else:
            optional.extend((w.last_seen_before, w) for w in scope_writes)
    items = sum(w.items for w in writes)
    room = -items % TRANSACTION_ITEMS if items else 0
    writes.extend(w for _, w in sorted(optional, key=lambda pair: pair[0])[:room])
    return writes
