"""The outbox is drained within the invocation's remaining time (moto in process): a first
sweep that opens 2,000 findings is announced in one run when time allows, or over
several runs when it does not, every change exactly once and none lost; a page some
channel refused is retried by the next run only.

The 2,000 changes are written to the outbox as reconcile writes them (``outbox_item``),
25 a request: reconciling them one transaction each would take moto minutes."""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import replace
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from chalicelib.aws.settings import Settings
from chalicelib.aws.store.outbox import OUTBOX_PAGE, outbox_item
from chalicelib.core.audit import AuditResult, build_finding, iso
from chalicelib.core.checks import CHECK_BY_ID
from chalicelib.core.model import OPENED, RESOLVED, Change, Finding, NetworkSnapshot, Violation
from chalicelib.core.policy import Policy
from chalicelib.service.outbox import PUBLISH_RESERVE_SECONDS
from chalicelib.service.pipelines import Service
from tests.integration.conftest import ACCOUNT, REGION
from vpcwatch_tools.provision import provision

T0 = dt.datetime(2026, 11, 26, 3, 0, tzinfo=dt.UTC)
CHANGES = 2000


def findings(count: int) -> list[Finding]:
    spec = CHECK_BY_ID["tgw-auto-accept-disabled"]
    snapshot = NetworkSnapshot(ACCOUNT, REGION)
    return [
        build_finding(spec, Violation(f"tgw-{n:05d}", None, "auto-accepts", {}), snapshot, Policy(), iso(T0))
        for n in range(count)
    ]


def audit(found: list[Finding]) -> AuditResult:
    return AuditResult(
        account_id=ACCOUNT,
        regions=(REGION,),
        scope_vpc_ids=(),
        started_at=iso(T0),
        duration_ms=1,
        snapshots=(NetworkSnapshot(ACCOUNT, REGION),),
        findings=tuple(found),
        suppressed=(),
        not_evaluated=(),
    )


@pytest.fixture(autouse=True)
def moto_backs_up_a_table_once_per_transaction(monkeypatch: pytest.MonkeyPatch) -> None:
    """moto backs a table up (to roll a cancelled transaction back) once per item of the
    transaction instead of once per table: the same backup, a hundred times over for a
    page's claim. Once per table, as the rollback needs."""
    import copy
    import types

    import moto.dynamodb.models as models
    from moto.dynamodb.models.table import Table

    original = models.DynamoDBBackend.transact_write_items

    def transact_write_items(self: Any, transact_items: list[dict[str, Any]]) -> None:
        backups: dict[int, Any] = {}

        def deepcopy(value: Any, memo: Any = None) -> Any:
            if isinstance(value, Table):
                if id(value) not in backups:
                    backups[id(value)] = copy.deepcopy(value, memo)
                return backups[id(value)]
            return copy.deepcopy(value, memo)

        monkeypatch.setattr(models, "copy", types.SimpleNamespace(deepcopy=deepcopy))
        try:
            original(self, transact_items)
        finally:
            monkeypatch.setattr(models, "copy", copy)

    monkeypatch.setattr(models.DynamoDBBackend, "transact_write_items", transact_write_items)


def write_outbox(service: Service, changes: list[Change], version: int) -> None:
    """The outbox entries reconcile writes for ``changes`` (each at ``version``)."""
    items = [outbox_item(change, version, iso(T0)) for change in changes]
    dynamodb = service.store._ddb
    for start in range(0, len(items), 25):
        requests = [{"PutRequest": {"Item": item}} for item in items[start : start + 25]]
        assert not dynamodb.batch_write_item(RequestItems={service.store.table_name: requests})["UnprocessedItems"]


class Announced:
    """Every message SNS accepted, by dedupe key (moto's PublishBatch always succeeds
    unless ``refuse`` is set, then it refuses whole requests)."""

    def __init__(self, sns: Any) -> None:
        self.keys: Counter[str] = Counter()
        self.types: Counter[str] = Counter()
        self.requests = 0
        self.refuse = 0
        sns.meta.events.register("before-parameter-build.sns.PublishBatch", self._before)
        sns.meta.events.register("after-call.sns.PublishBatch", self._after)
        self._pending: list[dict[str, Any]] = []

    def _before(self, params: dict[str, Any], **kwargs: Any) -> None:
        self.requests += 1
        if self.refuse:
            self.refuse -= 1
            raise ClientError({"Error": {"Code": "InternalError", "Message": "try later"}}, "PublishBatch")
        self._pending = list(params["PublishBatchRequestEntries"])

    def _after(self, parsed: dict[str, Any], **kwargs: Any) -> None:
        ok = {s["Id"] for s in parsed.get("Successful", [])}
        for entry in self._pending:
            if entry["Id"] in ok:
                self.keys[entry["MessageAttributes"]["dedupe_key"]["StringValue"]] += 1
                self.types[json.loads(json.loads(entry["Message"])["default"])["type"]] += 1


@pytest.fixture
def service(session: boto3.session.Session) -> Iterator[Service]:
    env = provision(session, REGION)
    settings = Settings(
        region=REGION,
        findings_table=env["FINDINGS_TABLE"],
        alerts_topic_arn=env["ALERTS_TOPIC_ARN"],
        audit_regions=(REGION,),
    )
    yield Service(settings, session=session, clock=lambda: T0)


def budget(pages: int) -> Callable[[], float]:
    """A time source with room for ``pages`` pages after the first, then none."""
    answers = iter([PUBLISH_RESERVE_SECONDS + 60.0] * pages)
    return lambda: next(answers, 0.0)


class Context:
    """A Lambda context with ``seconds`` left, all the time."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds

    def get_remaining_time_in_millis(self) -> int:
        return int(self.seconds * 1000)


def test_a_first_sweep_of_2000_changes_is_announced_once_in_one_run_or_over_several(service: Service) -> None:
    found = findings(CHANGES)
    announced = Announced(service.sns)
    write_outbox(service, [Change(OPENED, f) for f in found], 1)

    # Little time: the first page goes at once, then three more while time allows.
    assert service.publish_pending(budget(3)) == (4 * OUTBOX_PAGE, 0)
    # A Lambda context with less than the reserve left: one page, the rest waits.
    service.bind_invocation(Context(PUBLISH_RESERVE_SECONDS / 2))
    assert service.publish_pending() == (OUTBOX_PAGE, 0)
    # The next run, with its time: everything left, in one run.
    service.bind_invocation(Context(900.0))
    assert service.publish_pending() == (CHANGES - 5 * OUTBOX_PAGE, 0)
    assert service.publish_pending() == (0, 0)  # nothing pending, nothing twice
    assert announced.keys == {f"{f.id}#1": 1 for f in found}
    assert announced.requests == CHANGES // 10  # PublishBatch: ten a request

    # Every one resolved: 2,000 changes announced in one run with the time a run has.
    service.bind_invocation(None)  # no Lambda context: the generous default
    write_outbox(service, [Change(RESOLVED, replace(f, status="RESOLVED", resolved_at=iso(T0))) for f in found], 2)
    assert service.publish_pending() == (CHANGES, 0)
    assert service.store.pending() == []
    assert announced.types == {OPENED: CHANGES, RESOLVED: CHANGES}
    assert set(announced.keys.values()) == {1} and len(announced.keys) == 2 * CHANGES
    assert f"{found[0].id}#2" in announced.keys


def test_a_page_sns_refused_waits_for_the_next_run_and_is_not_retried_in_this_one(service: Service) -> None:
    found = findings(150)
    announced = Announced(service.sns)
    service.store.reconcile(audit(found[:3]), T0)  # as reconcile writes them, too
    write_outbox(service, [Change(OPENED, f) for f in found[3:]], 1)
    announced.refuse = 1  # the first request (ten messages) is refused
    assert service.publish_pending() == (140, 10)  # the rest of the outbox still goes out
    assert announced.requests == 15  # the ten refused were not retried in this run
    assert service.publish_pending() == (10, 0)  # released: the next run delivers them
    assert announced.keys == {f"{f.id}#1": 1 for f in found}

    write_outbox(service, [Change(RESOLVED, replace(f, status="RESOLVED", resolved_at=iso(T0))) for f in found], 2)
    announced.refuse = 100  # SNS down: the run stops after the first page, nothing is lost
    assert service.publish_pending() == (0, OUTBOX_PAGE)
    announced.refuse = 0
    assert service.publish_pending() == (150, 0)
    assert sum(announced.keys.values()) == 300 and set(announced.keys.values()) == {1}
