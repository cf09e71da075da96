"""Audit and notify: collect and evaluate an (account, regions), reconcile the findings
with the store, announce the changes (``outbox``), remember where resources live. A
region that could not be audited is reported, and nothing of it is reconciled.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Collection, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING

import boto3

from chalicelib.aws.accounts import (
    REGION_AMBIGUOUS_CODES,
    REGION_DISABLED_CODES,
    AuditFailure,
    AuditUnavailableError,
    RoleAssumptionError,
    region_not_enabled,
)
from chalicelib.aws.collect.ec2 import collect_region
from chalicelib.aws.session import error_code, error_message, is_credential_error
from chalicelib.core.audit import AuditResult, run_audit
from chalicelib.core.checks import required_actions
from chalicelib.core.model import CollectionError, NetworkSnapshot
from chalicelib.service.outbox import OutboxDrain
from chalicelib.service.outcome import Outcome

if TYPE_CHECKING:
    from chalicelib.aws.store.memory import ResourceMemory

log = logging.getLogger("vpcwatch.service")

UNAVAILABLE = "Unavailable"  # the error code of a placeholder snapshot's data


class AuditAndNotify(OutboxDrain):
    """audit -> reconcile in the store -> publish the outbox."""

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
        from chalicelib.aws.store.outbox import DEFAULT_LEASE

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

    def _remember(self, result: AuditResult, memory: ResourceMemory | None) -> None:
        """Remember resource id -> VPC id of each audited region (a full audit replaces,
        a scoped one merges). A failure is logged and never fails the run."""
        from chalicelib.core.lifecycle import resource_vpc_map

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
