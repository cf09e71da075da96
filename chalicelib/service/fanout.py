"""Many accounts and regions (SPEC §5): the sweep's targets, one audit-queue message per
(account, region), and the worker that audits the queue's messages.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from chalicelib.aws.accounts import (
    AuditFailure,
    AuditUnavailableError,
    member_accounts,
    pairs,
    regions_to_audit,
)
from chalicelib.aws.session import error_code, error_message
from chalicelib.core.settling import QueuedAudit
from chalicelib.service.events import EventPipeline
from chalicelib.service.outcome import Outcome

log = logging.getLogger("vpcwatch.service")

SQS_BATCH = 10  # SendMessageBatch's maximum


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


class Fanout(EventPipeline):
    """The sweep, the audit queue and its worker."""

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
