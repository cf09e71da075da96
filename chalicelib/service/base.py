"""The service's construction: its settings, one boto3 session, the clock, and the
clients, built lazily, once per Lambda container, so importing costs nothing and tests
inject their own session. Every pipeline (``outbox``, ``record``, ``events``, ``fanout``,
``queries``) builds on ``ServiceBase``; ``pipelines.Service`` is all of them.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable, Collection, Sequence
from functools import cached_property
from typing import Any

import boto3

from chalicelib.aws.accounts import AssumedSessions
from chalicelib.aws.session import account_id, make_client
from chalicelib.aws.settings import Settings
from chalicelib.core.audit import AuditResult, iso
from chalicelib.service.outcome import Outcome

SWEEP_CONCURRENCY = 4  # (account, region) pairs audited at once in one process

# boto3 sessions are not thread-safe: clients are created from them one at a time (the
# clients themselves are).
_client_lock = threading.Lock()


class ServiceBase:
    """Settings, session, clock and clients; what every pipeline shares."""

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
    def securityhub(self) -> Any:
        return self._client(self.session, "securityhub", self.settings.region)

    @cached_property
    def store(self) -> Any:
        from chalicelib.aws.store.findings import FindingStore

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

    # -- what every pipeline reports ---------------------------------------------

    def _observed(self, outcome: Outcome) -> Outcome:
        if self.observe is not None:
            with self._observe_lock:  # audits of several pairs finish on several threads
                self.observe(outcome)
        return outcome

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
