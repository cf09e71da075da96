"""The event pipeline: a CloudTrail event re-audits what it touched, at most once per
event id, and a scope left in flight is audited again, delayed, until it settles.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Mapping, Sequence
from functools import cached_property
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from chalicelib.aws.accounts import RoleAssumptionError
from chalicelib.aws.session import error_code
from chalicelib.core.events import PATH_CHECKS, SETTLING_EVENTS
from chalicelib.core.settling import MAX_RECHECKS, RECHECK_DELAY_SECONDS, QueuedAudit, in_flight
from chalicelib.service.outcome import Outcome
from chalicelib.service.record import AuditAndNotify

log = logging.getLogger("vpcwatch.service")

IN_FLIGHT_SHOWN = 50  # resources in flight an event's answer names (it is kept as the idempotency record)


class EventPipeline(AuditAndNotify):
    """One CloudTrail event -> the audit of its scope (and the delayed re-audits)."""

    def on_event(self, event: Mapping[str, Any]) -> dict[str, Any]:
        """One CloudTrail event: re-audit what it touched, in the event's own account and
        region (a member account's through the member role, when ``MEMBER_ROLE_NAME`` is
        set). Failed calls, foreign and malformed events are logged (by ``parse_event``)
        and skipped. When the re-audit saw something in flight in its scope, or the call
        always leaves something in flight (``SETTLING_EVENTS``), one delayed re-audit of
        the same scope goes on the audit queue (``_recheck``)."""
        from chalicelib.aws.resolve import resolve_scope
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
        if vpc_ids:  # a region-wide audit judged the path checks already
            errors += self._rejudge_paths(touched.event_name, scope.region, account, scope.checks, answer)
        if errors:
            answer["errors"] = errors
        return answer

    def _rejudge_paths(
        self, event_name: str, region: str, account: str, checks: Sequence[str] | None, answer: dict[str, Any]
    ) -> list[dict[str, Any]]:
        """Return paths and intents are judged by region-wide audits only (a path may cross
        any VPC of the region, which a scoped collection does not hold). So that a change
        on a path is announced within one event (SPEC §7), an event whose checks include
        them re-judges them here, region-wide and for them alone (``reachability-intent``
        only when the policy has intents): the full audit's verdict, at the cost of one
        lean collection. A settling change (a pending endpoint, attachment...) is judged
        once more, settled. Adds to ``answer`` (its changes, ``answer["paths"]``); returns
        its errors."""
        wanted = tuple(
            c
            for c in PATH_CHECKS
            if (checks is None or c in checks) and (c != "reachability-intent" or self.settings.policy.intents)
        )
        if not wanted:
            return []
        outcome = self.audit_and_notify([region], (), wanted, account_id=account)
        for kind, findings in outcome.changes_by_type().items():
            answer["changes"][kind] += [f["id"] for f in findings]
        answer["published"] += outcome.published
        recheck = QueuedAudit(account, region, (), wanted, attempt=1)
        answer["paths"] = {
            "region": region,
            "checks": list(wanted),
            **self._recheck(recheck, outcome, settling=event_name in SETTLING_EVENTS),
        }
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
