"""The HTTP API's audits (``POST /audits``, SPEC §4): this account audited at once, other
accounts through the audit queue, several outcomes merged into one body.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Sequence
from typing import Any

from chalicelib.aws.accounts import pairs
from chalicelib.service.fanout import Fanout
from chalicelib.service.outcome import Outcome

log = logging.getLogger("vpcwatch.service")


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


class ApiQueries(Fanout):
    """What the HTTP API asks of the service."""

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
