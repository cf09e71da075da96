"""What one audit-and-notify run did (``Outcome``): the audit, the state changes it
recorded and what it announced; its ``to_dict`` is the body of ``POST /audits``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from chalicelib.aws.accounts import AuditFailure
from chalicelib.core.audit import AuditResult
from chalicelib.core.model import OPENED, REOPENED, RESOLVED, Change


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
