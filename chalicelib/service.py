"""The service behind every entry point: audit -> reconcile in the store -> publish the
outbox. Clients are built lazily, once per Lambda container, from one boto3 session, so
importing this module costs nothing and tests inject their own session.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import time
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import boto3
from botocore.exceptions import BotoCoreError, ClientError

from chalicelib.audit import AuditResult, run_audit
from chalicelib.collect.ec2 import collect_region
from chalicelib.collect.session import account_id, make_client
from chalicelib.model import OPENED, REOPENED, RESOLVED, Change, NetworkSnapshot
from chalicelib.settings import Settings

log = logging.getLogger("vpcwatch.service")


@dataclass(frozen=True)
class Outcome:
    """What one run did: the audit, the state changes it recorded, what it announced."""

    result: AuditResult
    changes: tuple[Change, ...]
    published: int  # outbox entries published by this run (older pending ones included)
    publish_failures: int  # entries left in the outbox for the next run
    seconds: float  # wall time from the start of the audit to the last publish

    def changes_by_type(self) -> dict[str, list[dict[str, Any]]]:
        grouped: dict[str, list[dict[str, Any]]] = {"opened": [], "resolved": [], "reopened": []}
        names = {OPENED: "opened", RESOLVED: "resolved", REOPENED: "reopened"}
        for change in self.changes:
            grouped[names[change.type]].append(change.finding.to_dict())
        return grouped

    def to_dict(self) -> dict[str, Any]:
        """The body of ``POST /audits`` (SPEC §4)."""
        return {**self.result.to_dict(), "changes": self.changes_by_type()}


class Service:
    def __init__(
        self,
        settings: Settings,
        session: boto3.session.Session | None = None,
        clock: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC),
        observe: Callable[[Outcome], None] | None = None,
    ) -> None:
        self.settings = settings
        self.session = session or boto3.session.Session(region_name=settings.region)
        self.clock = clock
        self.observe = observe  # told of every outcome (the Lambdas emit metrics from it)

    # -- clients, built on first use --------------------------------------------
    @cached_property
    def account_id(self) -> str:
        return account_id(self.session, self.settings.region)

    @cached_property
    def sns(self) -> Any:
        return make_client(self.session, "sns", self.settings.region)

    @cached_property
    def ssm(self) -> Any:
        return make_client(self.session, "ssm", self.settings.region)

    @cached_property
    def store(self) -> Any:
        from chalicelib.store import FindingStore

        return FindingStore(self.settings.findings_table, make_client(self.session, "dynamodb", self.settings.region))

    def ec2(self, region: str) -> Any:
        return make_client(self.session, "ec2", region)

    # -- the pipeline ----------------------------------------------------------
    def audit(
        self,
        regions: Sequence[str] | None = None,
        vpc_ids: Sequence[str] = (),
        checks: Collection[str] | None = None,
    ) -> AuditResult:
        account = self.account_id

        def collect(region: str) -> NetworkSnapshot:
            return collect_region(self.ec2(region), account_id=account, region=region, vpc_ids=vpc_ids, checks=checks)

        return run_audit(
            collect,
            account_id=account,
            regions=list(regions or self.settings.audit_regions),
            vpc_ids=vpc_ids,
            policy=self.settings.policy,
            checks=checks,
            clock=self.clock,
        )

    def audit_and_notify(
        self,
        regions: Sequence[str] | None = None,
        vpc_ids: Sequence[str] = (),
        checks: Collection[str] | None = None,
    ) -> Outcome:
        t0 = time.perf_counter()
        result = self.audit(regions, vpc_ids, checks)
        return self.record(result, t0)

    def record(self, result: AuditResult, t0: float | None = None) -> Outcome:
        """Reconcile the audit with the store, remember where resources live, publish."""
        from chalicelib.store import resource_vpc_map

        start = time.perf_counter() if t0 is None else t0
        changes = tuple(self.store.reconcile(result, self.clock()))
        for snapshot in result.snapshots:
            self.store.remember_resources(
                snapshot.account_id, snapshot.region, resource_vpc_map(snapshot), replace=not snapshot.scope_vpc_ids
            )
        published, failed = self.publish_pending()
        outcome = Outcome(result, changes, published, failed, time.perf_counter() - start)
        if self.observe is not None:
            self.observe(outcome)
        return outcome

    def publish_pending(self) -> tuple[int, int]:
        """Publish every pending outbox entry (this run's and any a failed run left)."""
        from chalicelib.notify import publish

        published = failed = 0
        for entry in self.store.pending():
            try:
                publish(self.sns, self.settings.alerts_topic_arn, entry.change)
            except (ClientError, BotoCoreError) as exc:
                failed += 1
                self.store.release(entry)  # due again at once: the next run retries it
                log.warning("publish failed, kept for the next run: %s %s: %s", entry.change.type, entry.key, exc)
                continue
            self.store.mark_sent(entry)
            published += 1
        return published, failed

    # -- entry points ------------------------------------------------------------
    def on_event(self, event: Mapping[str, Any]) -> dict[str, Any]:
        """One CloudTrail event: re-audit what it touched. Failed calls, foreign and
        malformed events are logged (by ``parse_event``) and skipped."""
        from chalicelib.events import parse_event, resolve_scope

        touched = parse_event(event)
        if touched is None:
            return {"skipped": True}
        if touched.account_id and touched.account_id != self.account_id:
            log.warning("event %s from account %s is not this account's: skipped", touched.event_id, touched.account_id)
            return {"skipped": True, "reason": "foreign account"}
        memory = self.store.resource_vpcs(self.account_id, touched.region)
        scope = resolve_scope(touched, self.ec2(touched.region), memory)
        vpc_ids = () if scope.region_wide else scope.vpc_ids
        if not scope.region_wide and not vpc_ids:
            log.info("event %s %s touches nothing vpcwatch audits", touched.event_id, touched.event_name)
            return {"skipped": True, "reason": scope.reason}
        outcome = self.audit_and_notify([scope.region], vpc_ids, scope.checks)
        return {
            "event_id": touched.event_id,
            "scope": {"region": scope.region, "vpc_ids": list(vpc_ids), "region_wide": scope.region_wide},
            "reason": scope.reason,
            "changes": {k: [f["id"] for f in v] for k, v in outcome.changes_by_type().items()},
            "published": outcome.published,
        }

    def on_event_once(self, event: Mapping[str, Any], lambda_context: Any = None) -> dict[str, Any]:
        """``on_event``, at most once per CloudTrail event id (see ``_idempotent``)."""
        handle, config = self._idempotent
        if lambda_context is not None:
            config.register_lambda_context(lambda_context)
        return handle(event=dict(event))

    @cached_property
    def _idempotent(self) -> tuple[Callable[..., dict[str, Any]], Any]:
        """``on_event``, made idempotent by the CloudTrail event id with Powertools
        Idempotency (records in the findings table, which is keyed by "id"): a replayed
        event returns the first run's answer and re-audits nothing."""
        from aws_lambda_powertools.utilities.idempotency import (
            DynamoDBPersistenceLayer,
            IdempotencyConfig,
            idempotent_function,
        )

        persistence = DynamoDBPersistenceLayer(
            table_name=self.settings.findings_table,
            key_attr="id",
            boto3_client=make_client(self.session, "dynamodb", self.settings.region),
        )
        config = IdempotencyConfig(
            event_key_jmespath="detail.eventID || id", raise_on_no_idempotency_key=False, expires_after_seconds=86400
        )

        @idempotent_function(  # type: ignore[untyped-decorator]  # Powertools' decorator is untyped
            data_keyword_argument="event", persistence_store=persistence, config=config
        )
        def handle(event: dict[str, Any]) -> dict[str, Any]:
            return self.on_event(event)

        return handle, config

    def sweep(self) -> dict[str, Any]:
        """The scheduled safety net: every configured region, fanned out on SQS when a
        queue is configured, else audited here."""
        regions = list(self.settings.audit_regions)
        if self.settings.audit_queue_url:
            sqs = make_client(self.session, "sqs", self.settings.region)
            messages = [{"account_id": self.account_id, "region": region} for region in regions]
            for start in range(0, len(messages), 10):
                batch = messages[start : start + 10]
                sqs.send_message_batch(
                    QueueUrl=self.settings.audit_queue_url,
                    Entries=[{"Id": str(n), "MessageBody": json.dumps(m)} for n, m in enumerate(batch)],
                )
            return {"enqueued": len(messages)}
        outcome = self.audit_and_notify(regions)
        return {"regions": regions, "changes": len(outcome.changes), "published": outcome.published}

    def work(self, messages: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
        """One audit per (account, region) message from the sweep."""
        audited = []
        for message in messages:
            region = str(message.get("region") or self.settings.region)
            self.audit_and_notify([region])
            audited.append(region)
        return {"audited": audited}

    def forward_to_slack(self, sns_event: Mapping[str, Any]) -> int:
        from chalicelib.notify import forward_to_slack, webhook_url

        if not self.settings.slack_webhook_param:
            log.warning("SLACK_WEBHOOK_PARAM is not set: nothing forwarded")
            return 0
        return forward_to_slack(sns_event, webhook_url(self.settings.slack_webhook_param, self.ssm))
