"""Many accounts and regions (SPEC §5): which regions and accounts a sweep covers, and
boto3 sessions in member accounts through the member role.

- ``regions_to_audit``: ``AUDIT_REGIONS`` when set, else every region enabled for the
  auditor's account (``ec2:DescribeRegions``, ``AllRegions=False``).
- ``member_accounts``: the organization's ACTIVE accounts (``organizations:ListAccounts``).
- ``AssumedSessions``: one session per member account from ``sts:AssumeRole`` on
  ``arn:<partition>:iam::<account>:role/<MEMBER_ROLE_NAME>`` with ``EXTERNAL_ID``, cached
  until shortly before its credentials expire and shared by threads; the auditor's own
  account uses the Lambda's own session.

An (account, region) that cannot be audited at all is an ``AuditFailure``: the role could
not be assumed (``RoleAssumptionError``), its credentials were refused there, or the
region is not enabled for the account. It is reported, never a crash, and nothing of that
account and region is reconciled. Only a region established as not enabled is permanent
(not retried): every call answered ``OptInRequired``, or a call answered ``AuthFailure``
(or ``UnrecognizedClientException``) and ``DescribeRegions``, asked in the home region,
says the region is an opt-in region the account has not opted in to
(``region_not_enabled``). Otherwise those codes are refused credentials: retriable, and
the member account's cached session is dropped so the role is assumed afresh.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import boto3
import botocore.session
from botocore.exceptions import BotoCoreError, ClientError

from chalicelib.aws.session import error_code, error_message, make_client
from chalicelib.aws.settings import Settings
from chalicelib.core.audit import partition

log = logging.getLogger("vpcwatch.accounts")

ROLE_SESSION_NAME = "vpcwatch"
SESSION_SECONDS = 3600  # the role's default maximum session duration
REFRESH_MARGIN_SECONDS = 300  # assume again this long before the credentials expire

ASSUME_ROLE = "sts:AssumeRole"
# Error codes that alone establish that the region is not enabled for the account: it
# can never be audited there, so retrying is pointless (no SQS retry).
REGION_DISABLED_CODES = frozenset({"OptInRequired"})
# Error codes a region that is not enabled answers with, but refused credentials too:
# the region is taken for not enabled only when DescribeRegions says so.
REGION_AMBIGUOUS_CODES = frozenset({"AuthFailure", "UnrecognizedClientException"})
NOT_OPTED_IN = "not-opted-in"


@dataclass(frozen=True)
class AuditFailure:
    """One (account, region) whose audit could not run at all."""

    account_id: str
    region: str
    api: str  # the IAM action of the call that failed, e.g. "sts:AssumeRole"
    code: str  # the AWS error code
    message: str
    retriable: bool = True  # worth another try (an SQS redelivery); False for a disabled region

    def to_dict(self) -> dict[str, Any]:
        """An ``audit.errors`` entry (SPEC §3), naming the account."""
        return {
            "api": self.api,
            "account_id": self.account_id,
            "region": self.region,
            "error": self.code,
            "message": self.message,
        }

    def describe(self) -> str:
        return f"account {self.account_id} region {self.region}: {self.api} failed with {self.code}: {self.message}"


class AuditUnavailableError(Exception):
    """An (account, region) could not be audited; ``failure`` says which and why."""

    def __init__(self, failure: AuditFailure) -> None:
        super().__init__(failure.describe())
        self.failure = failure

    @property
    def account_id(self) -> str:
        return self.failure.account_id

    @property
    def code(self) -> str:
        return self.failure.code

    @staticmethod
    def of(failure: AuditFailure) -> AuditUnavailableError:
        """The error of ``failure``, typed by the call that failed."""
        if failure.api == ASSUME_ROLE:
            return RoleAssumptionError(failure)
        return AuditUnavailableError(failure)


class RoleAssumptionError(AuditUnavailableError):
    """The member role of an account could not be assumed (``failure.api`` is sts:AssumeRole)."""

    @classmethod
    def refused(
        cls, account_id: str, role_arn: str | None, code: str, message: str, region: str
    ) -> RoleAssumptionError:
        what = f"cannot assume {role_arn}" if role_arn else "no member role"
        return cls(AuditFailure(account_id, region, ASSUME_ROLE, code, f"{what}: {message}"))


def regions_to_audit(settings: Settings, ec2: Any) -> list[str]:
    """``AUDIT_REGIONS`` when set explicitly, else every region enabled for this account
    (``ec2`` is a client in the function's region). Should DescribeRegions fail, the
    function's region alone is audited, and the failure logged."""
    if settings.audit_regions_explicit:
        return list(settings.audit_regions)
    try:
        regions = ec2.describe_regions(AllRegions=False)["Regions"]
    except (ClientError, BotoCoreError) as exc:
        log.error("ec2:DescribeRegions failed (%s): auditing %s only", error_code(exc), settings.region)
        return [settings.region]
    enabled = sorted(
        str(r["RegionName"]) for r in regions if r.get("OptInStatus", "opt-in-not-required") != "not-opted-in"
    )
    return enabled or [settings.region]


def region_not_enabled(ec2: Any, region: str) -> bool:
    """True only when ``DescribeRegions`` (``ec2``: a client of the same account in a region
    that answers, e.g. the function's) says ``region`` is an opt-in region the account has
    not opted in to. False when it is enabled, unknown to it, or the call fails (logged):
    not established, so the failure stays retriable."""
    try:
        regions = ec2.describe_regions(AllRegions=True, RegionNames=[region])["Regions"]
    except Exception as exc:  # AccessDenied (the member role may lack it), ...: not established
        log.warning("ec2:DescribeRegions failed (%s): cannot tell whether %s is enabled", error_code(exc), region)
        return False
    return any(r.get("RegionName") == region and r.get("OptInStatus") == NOT_OPTED_IN for r in regions)


def member_accounts(organizations: Any) -> list[str]:
    """The organization's ACTIVE accounts, in ListAccounts order (``State`` where AWS
    answers it, else the older ``Status``)."""
    accounts: list[str] = []
    for page in organizations.get_paginator("list_accounts").paginate():
        for account in page.get("Accounts", []):
            if account.get("State", account.get("Status")) == "ACTIVE":
                accounts.append(str(account["Id"]))
    return list(dict.fromkeys(accounts))


@dataclass
class _Cached:
    session: boto3.session.Session
    expires_at: float  # epoch seconds


class AssumedSessions:
    """Sessions in member accounts, one per account, thread-safe.

    ``session(account)`` returns the base session for the auditor's own account and
    otherwise a session on the member role's credentials, assumed on first use and again
    ``REFRESH_MARGIN_SECONDS`` before they expire. Concurrent callers for one account
    share one AssumeRole call. The sessions share the base session's data loader, so
    service models are parsed once per process, not once per account.
    """

    def __init__(
        self,
        base: boto3.session.Session,
        *,
        own_account: str | Callable[[], str],
        region: str,
        role_name: str | None,
        external_id: str | None = None,
        clock: Callable[[], float] = time.time,
        margin: float = REFRESH_MARGIN_SECONDS,
        prepare: Callable[[str, boto3.session.Session], None] | None = None,
    ) -> None:
        self.base = base
        self.region = region
        self.role_name = role_name
        self.external_id = external_id
        self.clock = clock
        self.margin = margin
        self.prepare = prepare  # given each new (account, session): tests and benchmarks count calls
        self.assumed = 0  # AssumeRole calls made
        self._own = own_account
        self._lock = threading.Lock()
        self._account_locks: dict[str, threading.Lock] = {}
        self._cache: dict[str, _Cached] = {}
        self._sts: Any = None

    @property
    def own_account(self) -> str:
        if callable(self._own):
            self._own = self._own()
        return self._own

    def role_arn(self, account_id: str) -> str:
        return f"arn:{partition(self.region)}:iam::{account_id}:role/{self.role_name}"

    def session(self, account_id: str) -> boto3.session.Session:
        """A session acting in ``account_id``; raises ``RoleAssumptionError``."""
        if account_id == self.own_account:
            return self.base
        if not self.role_name:
            raise RoleAssumptionError.refused(
                account_id, None, "MemberRoleNotConfigured", "MEMBER_ROLE_NAME is not set", self.region
            )
        with self._lock:
            lock = self._account_locks.setdefault(account_id, threading.Lock())
        with lock:
            cached = self._cache.get(account_id)
            if cached is not None and cached.expires_at - self.margin > self.clock():
                return cached.session
            fresh = self._assume(account_id)
            self._cache[account_id] = fresh
            return fresh.session

    def forget(self, account_id: str) -> None:
        """Drop an account's cached session (its credentials were refused)."""
        with self._lock:
            self._cache.pop(account_id, None)

    def expires_at(self, account_id: str) -> float | None:
        cached = self._cache.get(account_id)
        return None if cached is None else cached.expires_at

    def _client(self) -> Any:
        with self._lock:
            if self._sts is None:
                self._sts = make_client(self.base, "sts", self.region)
            return self._sts

    def _assume(self, account_id: str) -> _Cached:
        role_arn = self.role_arn(account_id)
        request: dict[str, Any] = {
            "RoleArn": role_arn,
            "RoleSessionName": ROLE_SESSION_NAME,
            "DurationSeconds": SESSION_SECONDS,
        }
        if self.external_id:
            request["ExternalId"] = self.external_id
        try:
            credentials = self._client().assume_role(**request)["Credentials"]
        except (ClientError, BotoCoreError) as exc:
            raise RoleAssumptionError.refused(
                account_id, role_arn, error_code(exc), error_message(exc), self.region
            ) from exc
        finally:
            with self._lock:
                self.assumed += 1
        session = self._new_session(
            credentials["AccessKeyId"], credentials["SecretAccessKey"], credentials["SessionToken"]
        )
        if self.prepare is not None:
            self.prepare(account_id, session)
        return _Cached(session, credentials["Expiration"].timestamp())

    def _new_session(self, key: str, secret: str, token: str) -> boto3.session.Session:
        core = botocore.session.Session()
        session = boto3.session.Session(
            aws_access_key_id=key,
            aws_secret_access_key=secret,
            aws_session_token=token,
            region_name=self.base.region_name or self.region,
            botocore_session=core,
        )
        # After boto3 set up its own search paths: share the base session's parsed models.
        core.register_component("data_loader", self.base._session.get_component("data_loader"))
        return session


def pairs(accounts: Iterable[str], regions: Iterable[str]) -> list[tuple[str, str]]:
    """Every (account, region), accounts outermost, each once."""
    region_list = list(dict.fromkeys(regions))
    return [(account, region) for account in dict.fromkeys(accounts) for region in region_list]
