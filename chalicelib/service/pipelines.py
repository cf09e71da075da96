"""The service behind every entry point: audit -> reconcile in the store -> publish the
outbox. Clients are built lazily, once per Lambda container, from one boto3 session, so
importing this module costs nothing and tests inject their own session.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import threading
import time
from collections import Counter
from collections.abc import Callable, Collection, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from functools import cached_property
from typing import TYPE_CHECKING, Any

import boto3
from botocore.exceptions import BotoCoreError, ClientError

from chalicelib.aws.accounts import (
    REGION_AMBIGUOUS_CODES,
    REGION_DISABLED_CODES,
    AssumedSessions,
    AuditFailure,
    AuditUnavailableError,
    RoleAssumptionError,
    member_accounts,
    pairs,
    region_not_enabled,
    regions_to_audit,
)
from chalicelib.aws.collect.ec2 import collect_region
from chalicelib.aws.session import account_id, error_code, error_message, is_credential_error, make_client
from chalicelib.aws.settings import Settings
from chalicelib.core.audit import AuditResult, iso, run_audit
from chalicelib.core.checks import required_actions
from chalicelib.core.model import OPENED, REOPENED, RESOLVED, Change, CollectionError, NetworkSnapshot
from chalicelib.core.settling import MAX_RECHECKS, RECHECK_DELAY_SECONDS, QueuedAudit, in_flight

if TYPE_CHECKING:
    from chalicelib.aws.store import OutboxEntry, ResourceMemory
    from chalicelib.core.scope import Scope

log = logging.getLogger("vpcwatch.service")

SWEEP_CONCURRENCY = 4  # (account, region) pairs audited at once in one process
# The outbox is drained while the invocation has time left: after the first page, a page
# is claimed only while more than this reserve (for releasing what failed and answering)
# plus the longest page so far remains; without a Lambda context, a run may drain for
# DEFAULT_PUBLISH_SECONDS.
PUBLISH_RESERVE_SECONDS = 10.0
DEFAULT_PUBLISH_SECONDS = 600.0
SQS_BATCH = 10  # SendMessageBatch's maximum
IN_FLIGHT_SHOWN = 50  # resources in flight an event's answer names (it is kept as the idempotency record)
UNAVAILABLE = "Unavailable"  # the error code of a placeholder snapshot's data

# boto3 sessions are not thread-safe: clients are created from them one at a time (the
# clients themselves are).
_client_lock = threading.Lock()


@dataclass(frozen=True)
class Outcome:
    """What one run did: the audit, the state changes it recorded, what it announced."""

    result: AuditResult
    changes: tuple[Change, ...]
    published: int  # outbox entries published by this run (older pending ones included)
    publish_failures: int  # entries left in the outbox for the next run
    seconds: float  # wall time from the start of the audit to the last publish
    failures: tuple[AuditFailure, ...] = ()  # (account, region) pairs that could not be audited at all

    def changes_by_type(self) -> dict[str, list[dict[str, Any]]]:
        grouped: dict[str, list[dict[str, Any]]] = {"opened": [], "resolved": [], "reopened": []}
        names = {OPENED: "opened", RESOLVED: "resolved", REOPENED: "reopened"}
        for change in self.changes:
            grouped[names[change.type]].append(change.finding.to_dict())
        return grouped

    @property
    def retriable_failures(self) -> tuple[AuditFailure, ...]:
        return tuple(f for f in self.failures if f.retriable)

    def to_dict(self) -> dict[str, Any]:
        """The body of ``POST /audits`` (SPEC §4); every error names its account."""
        body = {**self.result.to_dict(), "changes": self.changes_by_type()}
        audit = body["audit"]
        audit["errors"] = [
            *({**error, "account_id": self.result.account_id} for error in audit["errors"]),
            *(failure.to_dict() for failure in self.failures),
        ]
        return body


def merge_outcomes(outcomes: Sequence[Outcome], duration_ms: int | None = None) -> dict[str, Any]:
    """One ``POST /audits`` body for audits of several accounts: ``audit.accounts`` lists
    them (``audit.account_id`` is set when there is one), counts are summed, lists joined."""
    bodies = [outcome.to_dict() for outcome in outcomes]
    audits = [body["audit"] for body in bodies]
    accounts = [str(a["account_id"]) for a in audits]
    resources: Counter[str] = Counter()
    for audit in audits:
        resources.update(audit["resources"])
    merged: dict[str, Any] = {
        "account_id": accounts[0] if len(accounts) == 1 else None,
        "accounts": accounts,
        "regions": list(dict.fromkeys(r for a in audits for r in a["regions"])),
        "scope": audits[0]["scope"],
        "started_at": min(a["started_at"] for a in audits),
        "duration_ms": duration_ms if duration_ms is not None else max(a["duration_ms"] for a in audits),
        "api_calls": sum(a["api_calls"] for a in audits),
        "resources": {key: resources[key] for key in audits[0]["resources"]},
        "errors": [e for a in audits for e in a["errors"]],
        "not_evaluated": [{**n, "account_id": a["account_id"]} for a in audits for n in a["not_evaluated"]],
    }
    return {
        "audit": merged,
        "findings": [f for body in bodies for f in body["findings"]],
        "suppressed": [f for body in bodies for f in body["suppressed"]],
        "changes": {
            kind: [f for body in bodies for f in body["changes"][kind]] for kind in ("opened", "resolved", "reopened")
        },
    }


class SweepIncompleteError(RuntimeError):
    """Some (account, region) pairs of a sweep could not be enqueued: the scheduled
    invocation fails, so Lambda retries it and, past its retries, hands the event to the
    failure queue, rather than a pair silently missing its audit."""


def require_enqueued(summary: dict[str, Any]) -> dict[str, Any]:
    """``summary`` of a sweep, or ``SweepIncompleteError`` naming the pairs SQS refused
    (re-running a sweep is harmless: audits are idempotent)."""
    refused = [e for e in summary.get("errors", ()) if e.get("api") == "sqs:SendMessage"]
    if refused:
        pairs_text = ", ".join(f"{e['account_id']}/{e['region']} ({e['error']})" for e in refused[:10])
        more = f" and {len(refused) - 10} more" if len(refused) > 10 else ""
        raise SweepIncompleteError(f"{len(refused)} audit(s) not enqueued: {pairs_text}{more}")
    return summary


class Service:
    def __init__(
        self,
        settings: Settings,
        session: boto3.session.Session | None = None,
        clock: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC),
        observe: Callable[[Outcome], None] | None = None,
        session_hook: Callable[[str, boto3.session.Session], None] | None = None,
        concurrency: int = SWEEP_CONCURRENCY,
    ) -> None:
        self.settings = settings
        self.session = session or boto3.session.Session(region_name=settings.region)
        self.clock = clock
        self.observe = observe  # told of every outcome (the Lambdas emit metrics from it)
        self.session_hook = session_hook  # given each member account's new session (benchmarks count calls)
        self.concurrency = max(1, concurrency)  # pairs audited at once by sweep() and audit_accounts()
        self._observe_lock = threading.Lock()
        self._time_left: Callable[[], float] | None = None  # the bound invocation's (bind_invocation)

    # -- clients, built on first use --------------------------------------------
    @cached_property
    def account_id(self) -> str:
        return account_id(self.session, self.settings.region)

    @cached_property
    def sns(self) -> Any:
        return self._client(self.session, "sns", self.settings.region)

    @cached_property
    def ssm(self) -> Any:
        return self._client(self.session, "ssm", self.settings.region)

    @cached_property
    def store(self) -> Any:
        from chalicelib.aws.store import FindingStore

        return FindingStore(self.settings.findings_table, self._client(self.session, "dynamodb", self.settings.region))

    @cached_property
    def sessions(self) -> AssumedSessions:
        """Sessions in member accounts through ``MEMBER_ROLE_NAME`` (cached per account)."""
        return AssumedSessions(
            self.session,
            own_account=lambda: self.account_id,
            region=self.settings.region,
            role_name=self.settings.member_role_name,
            external_id=self.settings.external_id,
            prepare=self.session_hook,
        )

    def ec2(self, region: str, account: str | None = None) -> Any:
        """An EC2 client in ``region`` of ``account`` (None: our own); raises ``RoleAssumptionError``."""
        session = self.session if account is None else self.sessions.session(account)
        return self._client(session, "ec2", region)

    @staticmethod
    def _client(session: boto3.session.Session, service: str, region: str) -> Any:
        with _client_lock:
            return make_client(session, service, region)

    # -- the pipeline ----------------------------------------------------------
    def audit(
        self,
        regions: Sequence[str] | None = None,
        vpc_ids: Sequence[str] = (),
        checks: Collection[str] | None = None,
        account_id: str | None = None,
    ) -> AuditResult:
        """Audit ``regions`` of ``account_id`` (None: our own account; others through the
        member role). Raises ``AuditUnavailableError`` (``RoleAssumptionError`` for the
        role) when a region could not be audited at all; ``audit_and_notify`` instead
        records what could be audited and reports the rest."""
        result, failures = self._audit(regions, vpc_ids, checks, account_id)
        if failures:
            raise AuditUnavailableError.of(failures[0])
        return result

    def _audit(
        self,
        regions: Sequence[str] | None,
        vpc_ids: Sequence[str],
        checks: Collection[str] | None,
        account_id: str | None,
    ) -> tuple[AuditResult, tuple[AuditFailure, ...]]:
        """The audit of every region that could be audited, and a failure for each that
        could not (its snapshot, findings and not-evaluated entries left out, so nothing
        of it is reconciled). Raises ``RoleAssumptionError``."""
        account = account_id or self.account_id
        session = self.session if account == self.account_id else self.sessions.session(account)
        failures: dict[str, AuditFailure] = {}

        def collect(region: str) -> NetworkSnapshot:
            ec2 = self._client(session, "ec2", region)
            try:
                snapshot = collect_region(ec2, account_id=account, region=region, vpc_ids=vpc_ids, checks=checks)
            except Exception as exc:
                if not is_credential_error(exc):
                    raise
                failures[region] = self._region_failure(account, session, region, exc)
                return _placeholder(account, region)
            failure = _disabled_region(snapshot)
            if failure is None:
                return snapshot
            failures[region] = failure
            return _placeholder(account, region)

        region_list = list(dict.fromkeys(regions or self.settings.audit_regions))
        result = run_audit(
            collect,
            account_id=account,
            regions=region_list,
            vpc_ids=vpc_ids,
            policy=self.settings.policy,
            checks=checks,
            clock=self.clock,
        )
        if not failures:
            return result, ()
        return _without_regions(result, failures), tuple(failures[r] for r in region_list if r in failures)

    def _region_failure(
        self, account: str, session: boto3.session.Session, region: str, exc: Exception
    ) -> AuditFailure:
        """The failure of a region whose credentials were refused. Permanent (not retried)
        only when the region is established as not enabled for the account; otherwise the
        credentials were refused: retriable, and a member account's cached session is
        dropped so that the next try assumes the role afresh."""
        code = error_code(exc)
        operation = getattr(exc, "operation_name", None)
        disabled = code in REGION_DISABLED_CODES or (
            code in REGION_AMBIGUOUS_CODES
            and region_not_enabled(self._client(session, "ec2", self.settings.region), region)
        )
        if not disabled and account != self.account_id:
            self.sessions.forget(account)  # refused credentials: assume the role afresh next time
        return AuditFailure(
            account_id=account,
            region=region,
            api=f"ec2:{operation}" if operation else "ec2",
            code=code,
            message=("region not enabled for this account: " if disabled else "") + error_message(exc),
            retriable=not disabled,
        )

    def audit_and_notify(
        self,
        regions: Sequence[str] | None = None,
        vpc_ids: Sequence[str] = (),
        checks: Collection[str] | None = None,
        account_id: str | None = None,
        memory: ResourceMemory | None = None,
    ) -> Outcome:
        """Audit, record, announce. A region (or an account whose role cannot be assumed)
        that could not be audited is logged and reported in ``Outcome.failures``; nothing
        of it is reconciled, so none of its findings is resolved. ``memory``: the store's
        resource memory of the audited region as the caller read it (an event's scope
        lookup), which spares ``record`` reading it again."""
        t0 = time.perf_counter()
        try:
            result, failures = self._audit(regions, vpc_ids, checks, account_id)
        except RoleAssumptionError as exc:
            region_list = tuple(dict.fromkeys(regions or self.settings.audit_regions))
            result = self._empty_result(exc.account_id, region_list, vpc_ids, checks)
            failures = tuple(replace(exc.failure, region=region) for region in region_list)  # one per pair
        for failure in failures:
            log.error(
                "audit unavailable: %s",
                failure.describe(),
                extra={"account_id": failure.account_id, "region": failure.region, "error": failure.code},
            )
        if failures and not result.snapshots:  # nothing could be audited: nothing to record
            return self._observed(Outcome(result, (), 0, 0, time.perf_counter() - t0, failures))
        return self.record(result, t0, failures, memory)

    def _empty_result(
        self, account: str, regions: Sequence[str], vpc_ids: Sequence[str], checks: Collection[str] | None
    ) -> AuditResult:
        return AuditResult(
            account_id=account,
            regions=tuple(regions),
            scope_vpc_ids=tuple(vpc_ids),
            started_at=iso(self.clock()),
            duration_ms=0,
            snapshots=(),
            findings=(),
            suppressed=(),
            not_evaluated=(),
            checks=None if checks is None else tuple(checks),
        )

    def record(
        self,
        result: AuditResult,
        t0: float | None = None,
        failures: Sequence[AuditFailure] = (),
        memory: ResourceMemory | None = None,
    ) -> Outcome:
        """Reconcile the audit with the store, publish, remember where resources live.

        The changes are written in as few requests as they fit (``FindingStore.apply``),
        with their outbox entries claimed for this run, which publishes them at once
        (PublishBatch, then one transaction marks them sent) after any entry an earlier
        run left. Remembering resources comes last and never fails the run: memory is a
        hint for later events, announcements are not."""
        from chalicelib.aws.store import DEFAULT_LEASE

        start = time.perf_counter() if t0 is None else t0
        # Judged as of when the data was read, not when it is recorded: a sweep that read
        # the network before an event audit, but records after it, must not undo it.
        # Security Hub export rides the outbox entries: publish_pending delivers them all.
        claim = None if self.settings.security_hub_export else DEFAULT_LEASE
        recorded = self.store.apply(result, dt.datetime.fromisoformat(result.started_at), claim=claim)
        published, failed = self.publish_pending()  # what earlier runs left, oldest first
        sent, unsent = self._announce(recorded.claimed)
        self._remember(result, memory)
        outcome = Outcome(
            result,
            tuple(recorded.changes),
            published + sent,
            failed + unsent,
            time.perf_counter() - start,
            tuple(failures),
        )
        return self._observed(outcome)

    def _announce(self, entries: Sequence[OutboxEntry]) -> tuple[int, int]:
        """Publish this run's own (claimed) outbox entries: PublishBatch, ten a request;
        those published leave the outbox in one transaction, the others are released
        for the next run. Returns (published, left for the next run)."""
        if not entries:
            return 0, 0
        from chalicelib.aws.publish.notify import publish_batch

        results = publish_batch(self.sns, self.settings.alerts_topic_arn, [(e.change, e.dedupe_key) for e in entries])
        sent = [e for e, result in zip(entries, results, strict=True) if result.ok]
        unsent = [e for e, result in zip(entries, results, strict=True) if not result.ok]
        for entry, result in zip(entries, results, strict=True):
            if not result.ok:
                log.warning(
                    "publish failed, kept for the next run: %s %s: %s", entry.change.type, entry.key, result.error
                )
        try:
            self.store.mark_sent_many(sent)
        except (ClientError, BotoCoreError) as exc:  # published: at worst announced again when the lease ends
            log.error("published changes not marked sent (%s): they may be announced again", error_code(exc))
        for entry in unsent:
            self.store.release(entry)  # due again at once: the next run retries it
        return len(sent), len(unsent)

    def _remember(self, result: AuditResult, memory: ResourceMemory | None) -> None:
        """Remember resource id -> VPC id of each audited region (a full audit replaces,
        a scoped one merges). A failure is logged and never fails the run."""
        from chalicelib.aws.store import resource_vpc_map

        for snapshot in result.snapshots:
            mine = memory is not None and (memory.account_id, memory.region) == (snapshot.account_id, snapshot.region)
            known = memory if mine else None
            try:
                self.store.remember_resources(
                    snapshot.account_id,
                    snapshot.region,
                    resource_vpc_map(snapshot),
                    replace=not snapshot.scope_vpc_ids,
                    known=known,
                )
            except Exception:  # a hint for later events: never worth an announcement
                log.exception(
                    "resource memory of %s/%s not updated",
                    snapshot.account_id,
                    snapshot.region,
                    extra={"account_id": snapshot.account_id, "region": snapshot.region},
                )

    def _observed(self, outcome: Outcome) -> Outcome:
        if self.observe is not None:
            with self._observe_lock:  # audits of several pairs finish on several threads
                self.observe(outcome)
        return outcome

    @cached_property
    def securityhub(self) -> Any:
        return self._client(self.session, "securityhub", self.settings.region)

    def bind_invocation(self, lambda_context: Any) -> None:
        """The Lambda context of the invocation that runs now (a container runs one at a
        time): ``publish_pending`` drains the outbox while its remaining time allows.
        None, or a context without ``get_remaining_time_in_millis``: a generous default."""
        remaining = getattr(lambda_context, "get_remaining_time_in_millis", None)
        self._time_left = (lambda: float(remaining()) / 1000.0) if callable(remaining) else None

    def publish_pending(self, time_left: Callable[[], float] | None = None) -> tuple[int, int]:
        """Drain the outbox: claim a page of pending entries (this run's and any a failed
        run left), deliver each to every channel that does not have it yet (SNS, with
        PublishBatch; Security Hub too when SECURITY_HUB_EXPORT is on, 100 at a time), and
        claim the next page, until the outbox is empty or ``time_left()`` (seconds; by
        default the bound invocation's remaining time, else ``DEFAULT_PUBLISH_SECONDS``)
        no longer leaves ``PUBLISH_RESERVE_SECONDS`` plus the longest page so far. The
        first page is always taken: a run announces its own changes at once (should the
        function time out in it, its claims lapse after the lease and the next run
        delivers them; a message published twice so carries the same ``dedupe_key``).
        What is left stays pending for the next run. An entry leaves the outbox once every
        channel has it; one a channel refused stays claimed until the end of the run (so
        this run does not retry it), then is released, due again at once: the next run
        retries only the channels still missing, so nothing is announced twice and nothing
        is lost. Returns (messages published on SNS, entries kept for the next run)."""
        if time_left is None:
            time_left = self._time_left or _countdown(DEFAULT_PUBLISH_SECONDS)
        published = pages = 0
        kept: list[Any] = []
        slowest = 0.0
        while True:
            if pages and time_left() <= PUBLISH_RESERVE_SECONDS + slowest:
                log.info("outbox: %.1f s left, what is still pending waits for the next run", time_left())
                break
            started = time.perf_counter()
            entries = self.store.pending()
            if not entries:
                break
            pages += 1
            sent, failed = self._deliver(entries)
            published += sent
            kept += failed
            slowest = max(slowest, time.perf_counter() - started)
            if len(failed) == len(entries):
                log.warning("no outbox entry of this page could be delivered: the rest waits for the next run")
                break
        for entry in kept:
            self.store.release(entry)  # due again at once: the next run retries what is missing
        return published, len(kept)

    def _deliver(self, entries: Sequence[Any]) -> tuple[int, list[Any]]:
        """One page of the outbox to every channel: entries every channel has are marked
        sent; the others get the channels that took them recorded and are returned.
        Returns (published on SNS, entries some channel still lacks)."""
        from chalicelib.aws.publish.notify import publish_batch

        channels = {"sns"} | ({"securityhub"} if self.settings.security_hub_export else set())
        done: dict[str, set[str]] = {e.key: set(e.delivered) for e in entries}
        to_sns = [e for e in entries if "sns" not in e.delivered]
        results = publish_batch(self.sns, self.settings.alerts_topic_arn, [(e.change, e.dedupe_key) for e in to_sns])
        for entry, result in zip(to_sns, results, strict=True):
            if result.ok:
                done[entry.key].add("sns")
            else:
                log.warning(
                    "publish failed, kept for the next run: %s %s: %s", entry.change.type, entry.key, result.error
                )
        if "securityhub" in channels:
            for entry in self._export_to_security_hub([e for e in entries if "securityhub" not in e.delivered]):
                done[entry.key].add("securityhub")
        failed = [e for e in entries if not channels <= done[e.key]]
        self.store.mark_sent_many([e for e in entries if channels <= done[e.key]])
        for entry in failed:
            for channel in sorted(done[entry.key] - entry.delivered):
                self.store.mark_delivered(entry, channel)  # a retry skips the channels that have it
        return sum(1 for r in results if r.ok), failed

    def _export_to_security_hub(self, entries: Sequence[Any]) -> list[Any]:
        """The entries Security Hub imported."""
        from chalicelib.aws.publish.securityhub import export

        if not entries:
            return []
        try:
            result = export(self.securityhub, [e.change for e in entries])
        except (ClientError, BotoCoreError) as exc:  # export reports batch errors; this is the client itself
            log.warning("Security Hub export failed, kept for the next run: %s", exc)
            return []
        failed = {id(f.item) for f in result.failed}
        for entry in entries:
            if id(entry.change) in failed:
                log.warning("Security Hub refused %s, kept for the next run", entry.change.finding.id)
        return [e for e in entries if id(e.change) not in failed]

    # -- entry points ------------------------------------------------------------
    def on_event(self, event: Mapping[str, Any]) -> dict[str, Any]:
        """One CloudTrail event: re-audit what it touched, in the event's own account and
        region (a member account's through the member role, when ``MEMBER_ROLE_NAME`` is
        set). Failed calls, foreign and malformed events are logged (by ``parse_event``)
        and skipped. When the re-audit saw something in flight in its scope, or the call
        always leaves something in flight (``SETTLING_EVENTS``), one delayed re-audit of
        the same scope goes on the audit queue (``_recheck``)."""
        from chalicelib.aws.resolve import resolve_scope
        from chalicelib.core.events import SETTLING_EVENTS
        from chalicelib.core.scope import parse_event

        touched = parse_event(event)
        if touched is None:
            return {"skipped": True}
        account = touched.account_id or self.account_id
        if account != self.account_id and not self.settings.member_role_name:
            log.warning("event %s from account %s is not this account's: skipped", touched.event_id, account)
            return {"skipped": True, "reason": "foreign account"}
        try:
            ec2 = self.ec2(touched.region, account)
        except RoleAssumptionError as exc:
            log.error("event %s: %s", touched.event_id, exc, extra={"account_id": account, "error": exc.code})
            region = (touched.region,)
            self._observed(Outcome(self._empty_result(account, region, (), None), (), 0, 0, 0.0, (exc.failure,)))
            return {"event_id": touched.event_id, "account_id": account, "errors": [exc.failure.to_dict()]}
        memory = self.store.resource_vpcs(account, touched.region, (*touched.named, *touched.resource_ids))
        scope = resolve_scope(touched, ec2, memory)
        vpc_ids = () if scope.region_wide else scope.vpc_ids
        if not scope.region_wide and not vpc_ids and not scope.elsewhere:
            log.info("event %s %s touches nothing vpcwatch audits", touched.event_id, touched.event_name)
            return {"skipped": True, "reason": scope.reason}
        answer: dict[str, Any] = {
            "event_id": touched.event_id,
            "account_id": account,
            "scope": {"region": scope.region, "vpc_ids": list(vpc_ids), "region_wide": scope.region_wide},
            "reason": scope.reason,
            "changes": {"opened": [], "resolved": [], "reopened": []},
            "published": 0,
        }
        errors: list[dict[str, Any]] = []
        # The event's region, then the other side of cross-region peerings in this account
        # (a peering's finding lives in its requester's region).
        audits: list[tuple[str, tuple[str, ...]]] = [(scope.region, vpc_ids)] if scope.region_wide or vpc_ids else []
        audits += scope.elsewhere
        if scope.elsewhere:
            answer["elsewhere"] = [{"region": where, "vpc_ids": list(vpcs)} for where, vpcs in scope.elsewhere]
        for n, (where, vpcs) in enumerate(audits):
            outcome = self.audit_and_notify([where], vpcs, scope.checks, account_id=account, memory=memory)
            for kind, findings in outcome.changes_by_type().items():
                answer["changes"][kind] += [f["id"] for f in findings]
            answer["published"] += outcome.published
            errors += [f.to_dict() for f in outcome.failures]
            recheck = QueuedAudit(account, where, vpcs, scope.checks, attempt=1)
            settled = self._recheck(recheck, outcome, settling=touched.event_name in SETTLING_EVENTS)
            if n == 0:
                answer.update(settled)
        errors += self._rejudge_paths(touched.event_name, scope, account, answer)
        if errors:
            answer["errors"] = errors
        return answer

    def _rejudge_paths(
        self, event_name: str, scope: Scope, account: str, answer: dict[str, Any]
    ) -> list[dict[str, Any]]:
        """After an event's scoped re-audit: the path checks it moves (``reachability-intent``
        when the policy has intents, ``routes-return-path``), re-judged by one region-wide
        audit of the event's region restricted to them, since a scoped audit judges nothing
        of theirs (SPEC §7: a route change that breaks an intent is announced within one
        event). Adds its changes to ``answer`` (and ``answer["paths"]``); returns its errors.
        Nothing when the event's own audit was region-wide (it judged them already)."""
        from chalicelib.core.events import PATH_CHECKS, SETTLING_EVENTS

        if scope.region_wide:
            return []
        moved = PATH_CHECKS if scope.checks is None else tuple(c for c in PATH_CHECKS if c in scope.checks)
        if not self.settings.policy.intents:
            moved = tuple(c for c in moved if c != "reachability-intent")
        if not moved:
            return []
        outcome = self.audit_and_notify([scope.region], (), moved, account_id=account)
        for kind, findings in outcome.changes_by_type().items():
            answer["changes"][kind] += [f["id"] for f in findings]
        answer["published"] += outcome.published
        paths: dict[str, Any] = {"region": scope.region, "checks": list(moved)}
        # A settling change (a pending endpoint, attachment...) is judged once more, settled.
        recheck = QueuedAudit(account, scope.region, (), moved, attempt=1)
        paths.update(self._recheck(recheck, outcome, settling=event_name in SETTLING_EVENTS))
        answer["paths"] = paths
        return [f.to_dict() for f in outcome.failures]

    def _recheck(self, request: QueuedAudit, outcome: Outcome, *, settling: bool = False) -> dict[str, Any]:
        """Send ``request`` (the next delayed re-audit of a scope) to the audit queue with
        ``DelaySeconds`` when ``outcome``'s audit of that scope saw something in flight, or
        when ``settling`` (the event always leaves something in flight), so the settled
        state is judged within minutes rather than by the next sweep. Past ``MAX_RECHECKS``
        re-audits, without a queue, or when SQS refuses, it is logged: the sweep judges the
        settled state. An audit that could not run sends nothing. Returns the answer's
        ``in_flight`` and ``recheck`` entries (nothing when there is nothing to settle)."""
        if outcome.failures or not outcome.result.snapshots:
            return {}
        pending = in_flight(outcome.result.snapshots)
        if not pending and not settling:
            return {}
        scope = ", ".join(request.vpc_ids[:3]) + (" ..." if len(request.vpc_ids) > 3 else "") or "the region"
        what = f"{request.account_id}/{request.region} ({scope})"
        still = f"{len(pending)} resource(s) in flight ({', '.join(pending[:3])})" if pending else "a settling change"
        answer: dict[str, Any] = {"in_flight": list(pending[:IN_FLIGHT_SHOWN])}
        reason = ""
        if request.attempt > MAX_RECHECKS:
            reason = f"still in flight after {MAX_RECHECKS} delayed re-audits"
        elif not self.settings.audit_queue_url:
            reason = "no audit queue (AUDIT_QUEUE_URL)"
        if reason:
            log.info("%s: %s, %s: the settled state waits for the sweep", what, still, reason)
            answer["recheck"] = {"queued": False, "reason": f"{reason}: the settled state waits for the sweep"}
            return answer
        message = request.to_message()
        try:
            sqs = self._client(self.session, "sqs", self.settings.region)
            sqs.send_message(
                QueueUrl=self.settings.audit_queue_url,
                MessageBody=json.dumps(message),
                DelaySeconds=RECHECK_DELAY_SECONDS,
            )
        except (ClientError, BotoCoreError) as exc:
            code = error_code(exc)
            log.error("%s: %s, delayed re-audit not enqueued (%s): the sweep judges it", what, still, code)
            answer["recheck"] = {
                "queued": False,
                "reason": f"sqs:SendMessage {code}: the settled state waits for the sweep",
            }
            return answer
        log.info("%s: %s, re-audit %d in %d s", what, still, request.attempt, RECHECK_DELAY_SECONDS)
        answer["recheck"] = {"queued": True, "delay_seconds": RECHECK_DELAY_SECONDS, "message": message}
        return answer

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
            boto3_client=self._client(self.session, "dynamodb", self.settings.region),
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

    # -- many accounts and regions (SPEC §5) --------------------------------------
    def sweep_targets(self) -> tuple[list[str], list[str], list[dict[str, Any]]]:
        """(accounts, regions, errors) of a sweep: the organization's ACTIVE accounts when
        ``MEMBER_ROLE_NAME`` is set (else ours), × ``AUDIT_REGIONS`` or every enabled region.
        Should ListAccounts fail, our own account is swept and the error reported."""
        errors: list[dict[str, Any]] = []
        if self.settings.audit_regions_explicit:
            regions = list(self.settings.audit_regions)
        else:
            regions = regions_to_audit(self.settings, self.ec2(self.settings.region))
        accounts = [self.account_id]
        if self.settings.member_role_name:
            try:
                accounts = member_accounts(self._client(self.session, "organizations", self.settings.region))
            except (ClientError, BotoCoreError) as exc:
                code, message = error_code(exc), error_message(exc)
                log.error("organizations:ListAccounts failed (%s): sweeping this account only", code)
                errors.append(
                    {
                        "api": "organizations:ListAccounts",
                        "account_id": self.account_id,
                        "region": self.settings.region,
                        "error": code,
                        "message": message,
                    }
                )
        return accounts, regions, errors

    def sweep(self) -> dict[str, Any]:
        """The scheduled safety net: every (account, region), one SQS message each when a
        queue is configured (``audit_worker`` audits them), else audited here, at most
        ``concurrency`` pairs at once. A pair that cannot be audited is reported in
        ``errors``; it never ends the sweep."""
        accounts, regions, errors = self.sweep_targets()
        todo = pairs(accounts, regions)
        summary: dict[str, Any] = {"accounts": len(accounts), "regions": regions, "pairs": len(todo)}
        if self.settings.audit_queue_url:
            enqueued, failed = self.enqueue(todo)
            return {**summary, "enqueued": enqueued, "errors": errors + failed}
        outcomes = self._each([(account, (region,)) for account, region in todo])
        return {
            **summary,
            "audited": sum(1 for o in outcomes if not o.failures),
            "changes": sum(len(o.changes) for o in outcomes),
            "published": sum(o.published for o in outcomes),
            "errors": errors + [f.to_dict() for o in outcomes for f in o.failures],
        }

    def enqueue(self, todo: Sequence[tuple[str, str]], vpc_ids: Sequence[str] = ()) -> tuple[int, list[dict[str, Any]]]:
        """One message {"account_id", "region"} per pair (with ``vpc_ids``, that scope:
        ``QueuedAudit``'s form), ``SQS_BATCH`` per SendMessageBatch; entries SQS refuses
        are sent once more, then reported. Returns (sent, errors)."""
        assert self.settings.audit_queue_url
        sqs = self._client(self.session, "sqs", self.settings.region)
        sent = 0
        errors: list[dict[str, Any]] = []
        for start in range(0, len(todo), SQS_BATCH):
            batch = todo[start : start + SQS_BATCH]
            entries = [
                {"Id": str(n), "MessageBody": json.dumps(QueuedAudit(account, region, tuple(vpc_ids)).to_message())}
                for n, (account, region) in enumerate(batch)
            ]
            failed = self._send_batch(sqs, entries)
            if failed:
                retry = {f["Id"] for f in failed}
                failed = self._send_batch(sqs, [e for e in entries if e["Id"] in retry])
            for failure in failed:
                account, region = batch[int(failure["Id"])]
                log.error("audit of %s/%s not enqueued: %s", account, region, failure.get("Code"))
                errors.append(
                    {
                        "api": "sqs:SendMessage",
                        "account_id": account,
                        "region": region,
                        "error": str(failure.get("Code") or "Failed"),
                        "message": str(failure.get("Message") or ""),
                    }
                )
            sent += len(batch) - len(failed)
        return sent, errors

    def _send_batch(self, sqs: Any, entries: list[dict[str, str]]) -> list[dict[str, Any]]:
        """The entries SendMessageBatch did not accept (all of them when the call fails)."""
        try:
            response = sqs.send_message_batch(QueueUrl=self.settings.audit_queue_url, Entries=entries)
        except (ClientError, BotoCoreError) as exc:
            code, message = error_code(exc), error_message(exc)
            return [{"Id": e["Id"], "Code": code, "Message": message, "SenderFault": False} for e in entries]
        return list(response.get("Failed") or [])

    def _each(self, todo: Sequence[tuple[str, tuple[str, ...]]], vpc_ids: Sequence[str] = ()) -> list[Outcome]:
        """``audit_and_notify`` of every (account, regions), ``concurrency`` at once; an
        unexpected error ends only its own audit, reported as a failure of its regions."""
        _ = self.account_id, self.store, self.sessions  # built once, before the threads

        def one(item: tuple[str, tuple[str, ...]]) -> Outcome:
            account, regions = item
            try:
                return self.audit_and_notify(list(regions), vpc_ids, account_id=account)
            except Exception as exc:  # one audit must never end the others
                log.exception("audit of account %s in %s failed", account, ",".join(regions))
                operation = getattr(exc, "operation_name", None)
                failures = tuple(
                    AuditFailure(account, region, operation or "vpcwatch", error_code(exc), error_message(exc))
                    for region in regions
                )
                outcome = Outcome(self._empty_result(account, regions, vpc_ids, None), (), 0, 0, 0.0, failures)
                return self._observed(outcome)

        if self.concurrency == 1 or len(todo) <= 1:
            return [one(item) for item in todo]
        with ThreadPoolExecutor(max_workers=min(self.concurrency, len(todo))) as pool:
            return list(pool.map(one, todo))

    def audit_message(self, message: Mapping[str, Any]) -> Outcome:
        """One audit queue message: a sweep's {"account_id", "region"} (that pair, every
        check) or an event's delayed re-audit {"account_id", "region", "vpc_ids", "checks",
        "attempt"} (that scope; sent again, delayed, while something in it is still in
        flight, ``attempt`` at most ``MAX_RECHECKS``). Raises ``ValueError`` for a
        malformed message and ``AuditUnavailableError`` when the pair could not be audited
        for a reason worth a retry (the role could not be assumed); a region not enabled
        for the account is reported, not retried."""
        return self._audit_queued(message)[0]

    def _audit_queued(self, message: Mapping[str, Any]) -> tuple[Outcome, QueuedAudit, dict[str, Any]]:
        """``audit_message``, with the parsed message and what ``_recheck`` did."""
        request = QueuedAudit.parse(message, account_id=self.account_id, region=self.settings.region)
        outcome = self.audit_and_notify(
            [request.region], request.vpc_ids, request.checks, account_id=request.account_id
        )
        if outcome.retriable_failures:
            raise AuditUnavailableError.of(outcome.retriable_failures[0])
        settled = self._recheck(request.next(), outcome) if request.is_recheck else {}
        return outcome, request, settled

    def work(self, messages: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
        """Every queue message in turn (as one ``audit_worker`` invocation would, minus
        the partial batch response): the audits done, an error per failed one, and the
        delayed re-audits sent again because something was still in flight."""
        audited: list[dict[str, Any]] = []
        errors: list[dict[str, Any]] = []
        rechecks: list[dict[str, Any]] = []
        changes = 0
        for message in messages:
            try:
                outcome, request, settled = self._audit_queued(message)
            except AuditUnavailableError as exc:
                errors.append(exc.failure.to_dict())
                continue
            except ValueError as exc:
                log.error("malformed audit message skipped: %s", exc)
                errors.append({"api": "sqs:Message", "error": "MalformedMessage", "message": str(exc)})
                continue
            errors.extend(f.to_dict() for f in outcome.failures)
            changes += len(outcome.changes)
            if settled.get("recheck", {}).get("queued"):
                rechecks.append(settled["recheck"]["message"])
            if not outcome.failures:
                done: dict[str, Any] = {"account_id": outcome.result.account_id, "region": outcome.result.regions[0]}
                if request.is_recheck:
                    done.update(vpc_ids=list(request.vpc_ids), attempt=request.attempt)
                audited.append(done)
        return {"audited": audited, "errors": errors, "changes": changes, "rechecks": rechecks}

    def audit_accounts(
        self, accounts: Sequence[str], regions: Sequence[str] | None = None, vpc_ids: Sequence[str] = ()
    ) -> dict[str, Any]:
        """Audit each account (ours when none) here and now, through the member role,
        ``concurrency`` at once; one body, whose ``audit.errors`` names each account that
        could not be audited (``sts:AssumeRole``). ``POST /audits`` does so for our own
        account only (``request_audits``)."""
        t0 = time.perf_counter()
        targets = list(dict.fromkeys(accounts)) or [self.account_id]
        region_list = tuple(dict.fromkeys(regions or self.settings.audit_regions))
        if len(targets) == 1:  # errors propagate as they always have for a single audit
            outcomes = [self.audit_and_notify(region_list, vpc_ids, account_id=targets[0])]
        else:
            outcomes = self._each([(account, region_list) for account in targets], vpc_ids)
        return merge_outcomes(outcomes, int((time.perf_counter() - t0) * 1000))

    def request_audits(
        self, accounts: Sequence[str], regions: Sequence[str] | None = None, vpc_ids: Sequence[str] = ()
    ) -> tuple[int, dict[str, Any]]:
        """``POST /audits`` (SPEC §4): (HTTP status, body). No account named, or only ours:
        200 and the audit itself, its regions collected in parallel. Any other account
        named: every named account's audit would outlast API Gateway's 29 s, so one message
        per (account, region) goes on the audit queue (``audit_worker`` audits them, the
        findings reach the store and SNS as they finish) and the answer is 202
        ``{"queued": [{"account_id", "region"}, ...]}``, with ``errors`` naming each pair
        SQS refused; 503 when it refused them all. Without a queue (``AUDIT_QUEUE_URL``
        unset) other accounts are refused, 503, rather than audited past the timeout.
        ``vpc_ids`` scope every queued audit as they scope the inline one."""
        targets = list(dict.fromkeys(accounts))
        if not [a for a in targets if a != self.account_id]:
            return 200, self.audit_accounts(targets, regions, vpc_ids)
        if not self.settings.audit_queue_url:
            return 503, {
                "error": "accounts: auditing other accounts goes through the audit queue, "
                "and AUDIT_QUEUE_URL is not set (audit this account alone, or configure the queue)"
            }
        region_list = list(dict.fromkeys(regions or self.settings.audit_regions))
        todo = pairs(targets, region_list)
        _, errors = self.enqueue(todo, vpc_ids)
        refused = {(e["account_id"], e["region"]) for e in errors}
        queued = [{"account_id": a, "region": r} for a, r in todo if (a, r) not in refused]
        log.info("POST /audits: %d audits queued, %d refused by SQS", len(queued), len(refused))
        if not queued:
            return 503, {"error": "accounts: the audit queue refused every audit (sqs:SendMessage)", "errors": errors}
        body: dict[str, Any] = {"queued": queued}
        if vpc_ids:
            body["vpc_ids"] = list(vpc_ids)
        if errors:
            body["errors"] = errors
        return 202, body

    def forward_to_slack(self, sns_event: Mapping[str, Any]) -> int:
        from chalicelib.aws.publish.notify import forward_to_slack, webhook_url

        if not self.settings.slack_webhook_param:
            log.warning("SLACK_WEBHOOK_PARAM is not set: nothing forwarded")
            return 0
        return forward_to_slack(sns_event, webhook_url(self.settings.slack_webhook_param, self.ssm))


# -- helpers ----------------------------------------------------------------------


def _countdown(seconds: float) -> Callable[[], float]:
    """Seconds left of a budget of ``seconds`` that starts now."""
    deadline = time.monotonic() + seconds
    return lambda: deadline - time.monotonic()


def _placeholder(account: str, region: str) -> NetworkSnapshot:
    """Stands in for a region that could not be audited until ``_without_regions`` drops
    it: every action failed, so no check is evaluated on it."""
    errors = tuple(CollectionError(action, region, UNAVAILABLE) for action in sorted(required_actions()))
    return NetworkSnapshot(account_id=account, region=region, errors=errors)


def _disabled_region(snapshot: NetworkSnapshot) -> AuditFailure | None:
    """A region every call of which was refused as not enabled (``OptInRequired``)."""
    if not snapshot.errors or any(e.code not in REGION_DISABLED_CODES for e in snapshot.errors):
        return None
    first = snapshot.errors[0]
    return AuditFailure(
        account_id=snapshot.account_id,
        region=snapshot.region,
        api=first.action,
        code=first.code,
        message=f"region not enabled for this account: {first.message}",
        retriable=False,
    )


def _without_regions(result: AuditResult, failed: Collection[str]) -> AuditResult:
    """The audit minus every trace of the regions that could not be audited."""
    return replace(
        result,
        snapshots=tuple(s for s in result.snapshots if s.region not in failed),
        findings=tuple(f for f in result.findings if f.region not in failed),
        suppressed=tuple(f for f in result.suppressed if f.region not in failed),
        not_evaluated=tuple(n for n in result.not_evaluated if n.region not in failed),
    )
