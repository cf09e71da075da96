"""boto3 plumbing for the collector: clients with adaptive retries, API call counting,
the audited account, the session's region, and the classification of failures
(credentials, an emulator's missing API).

Clients come from a ``boto3.session.Session`` so the standard credential chain and every
standard AWS environment variable apply (``AWS_ENDPOINT_URL`` included: boto3 resolves it
itself, so no ``endpoint_url`` is ever passed here). boto3 reads the region from
``AWS_DEFAULT_REGION`` and the profile only; ``new_session`` honours ``AWS_REGION`` first.

Fail closed. Data that could not be read is an error that makes its checks "not
evaluated", never "no such resources": AccessDenied, throttling past retries, a response
that is not AWS's (a proxy's HTML page: botocore retries the 5xx pages it recognises,
and a body it cannot parse fails the call), an unknown API (``InvalidAction``,
``UnsupportedOperation``, ``NotImplemented``). Only credential errors propagate.

The emulator opt-in. moto has no Client VPN: moto in-process raises
``NotImplementedError``, moto server answers a bare Werkzeug HTML 500. Only when
``VPCWATCH_EMULATOR=1`` (``EMULATOR_ENV``) is set are those two answers read as "the
endpoint does not offer this API" (``is_unsupported``; the snapshot's ``unsupported``,
whose checks evaluate on no such resources). The demo, ``make serve`` and the test
fixtures set it; nothing in the deployed service does, so in AWS the same answers are
errors. The variable is read when a collection starts, never at import time.
"""

from __future__ import annotations

import itertools
import os
from collections import Counter
from collections.abc import Mapping
from types import TracebackType
from typing import Any

import boto3
from botocore.config import Config
from botocore.configprovider import EnvironmentProvider, ScopedConfigProvider
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    CredentialRetrievalError,
    NoAuthTokenError,
    NoCredentialsError,
    PartialCredentialsError,
    ProfileNotFound,
    SSOError,
    TokenRetrievalError,
    UnknownCredentialError,
)
from botocore.model import OperationModel
from botocore.parsers import ResponseParserError

RETRY_MODE = "adaptive"
MAX_ATTEMPTS = 8

# Error codes that mean "the caller's credentials are unusable", not "this action is
# denied": they concern every call alike, so they propagate (the CLI says so) instead of
# being recorded as one missing piece of data.
CREDENTIAL_ERROR_CODES = frozenset(
    {
        "AuthFailure",
        "ExpiredToken",
        "ExpiredTokenException",
        "InvalidClientTokenId",
        "InvalidToken",
        "MissingAuthenticationToken",
        "SignatureDoesNotMatch",
        "UnrecognizedClientException",
    }
)
CREDENTIAL_EXCEPTIONS: tuple[type[Exception], ...] = (
    NoCredentialsError,
    PartialCredentialsError,
    CredentialRetrievalError,
    UnknownCredentialError,
    NoAuthTokenError,
    TokenRetrievalError,
    SSOError,
    ProfileNotFound,
)

# The opt-in that lets an emulator's "not implemented" answers read as an API the
# endpoint does not offer (see the module docstring). Set only by the demo, the dev
# server and the test fixtures.
EMULATOR_ENV = "VPCWATCH_EMULATOR"
_TRUE = frozenset({"1", "true", "yes", "on"})
# How much of a response that is not AWS's an error message quotes.
_QUOTE_CHARS = 200


def emulator_mode(environ: Mapping[str, str] | None = None) -> bool:
    """True when ``VPCWATCH_EMULATOR`` opts in to the emulator's answers (1/true/yes/on)."""
    env = os.environ if environ is None else environ
    return env.get(EMULATOR_ENV, "").strip().lower() in _TRUE


def new_session(environ: Mapping[str, str] | None = None) -> boto3.session.Session:
    """A session on the standard credential chain whose region is ``AWS_REGION``, else
    ``AWS_DEFAULT_REGION``, else the profile's (boto3 itself ignores ``AWS_REGION``)."""
    env = os.environ if environ is None else environ
    return boto3.session.Session(region_name=env.get("AWS_REGION", "").strip() or None)


def make_client(session: boto3.session.Session, service: str, region: str) -> Any:
    """A client with adaptive retries (8 retries: 9 attempts) unless the environment or the profile
    sets ``AWS_RETRY_MODE`` / ``AWS_MAX_ATTEMPTS`` (``retry_mode`` / ``max_attempts``),
    which win: every standard AWS setting is honoured."""
    return session.client(service, region_name=region, config=retry_config(session))  # type: ignore[call-overload]


def retry_config(session: boto3.session.Session) -> Config:
    """Our retry defaults, for the settings the environment and the profile leave unset
    (an explicit client ``Config`` would otherwise override them)."""
    retries: dict[str, Any] = {}
    if not _explicitly_set(session, "retry_mode", "AWS_RETRY_MODE"):
        retries["mode"] = RETRY_MODE
    if not _explicitly_set(session, "max_attempts", "AWS_MAX_ATTEMPTS"):
        retries["max_attempts"] = MAX_ATTEMPTS
    return Config(retries=retries) if retries else Config()  # type: ignore[arg-type]


def _explicitly_set(session: boto3.session.Session, name: str, env_var: str) -> bool:
    # The lookups botocore itself makes, minus its built-in default.
    core = session._session
    from_env = EnvironmentProvider(env_var, os.environ).provide()
    from_profile = ScopedConfigProvider(name, core).provide()
    return from_env is not None or from_profile is not None


def account_id(session: boto3.session.Session, region: str) -> str:
    """The account the session's credentials belong to (sts:GetCallerIdentity)."""
    identity = make_client(session, "sts", region).get_caller_identity()
    return str(identity["Account"])


_counter_ids = itertools.count()


class CallCounter:
    """Counts the API calls made through a client: one per operation invocation (so one
    per page of a paginated call); botocore's retries of an invocation are not counted.

    Registered first on ``before-call.*.*``, so it sees calls that other ``before-call``
    handlers (botocore's Stubber, a test's fault injection) answer themselves. Use as a
    context manager, or call ``close()`` to unregister.
    """

    _EVENT = "before-call.*.*"

    def __init__(self, client: Any) -> None:
        self.by_operation: Counter[str] = Counter()
        self._events = client.meta.events
        self._unique_id = f"vpcwatch-call-counter-{next(_counter_ids)}"
        self._events.register_first(self._EVENT, self._count, unique_id=self._unique_id)

    def _count(self, model: OperationModel, **kwargs: Any) -> None:
        self.by_operation[model.name] += 1

    @property
    def total(self) -> int:
        return sum(self.by_operation.values())

    def close(self) -> None:
        self._events.unregister(self._EVENT, unique_id=self._unique_id)

    def __enter__(self) -> CallCounter:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


class OperationNotSupportedError(BotoCoreError):
    """The endpoint does not implement the operation (raised by ``UnsupportedDetector``)."""

    fmt = "{endpoint} does not implement {operation_name}: {reason}"


class UnsupportedDetector:
    """Under the emulator opt-in (``emulator_mode()``, or ``emulator=True``), turns an
    emulator's "not implemented" answer into ``OperationNotSupportedError`` before
    botocore parses it, so the answer is neither retried nor mistaken for data. Without
    the opt-in it registers nothing: the answer fails the call like any response that is
    not AWS's (fail closed).

    moto server answers an action it does not implement with a bare Werkzeug page:
    HTTP 500, ``text/html``, ``<!doctype html>...<title>500 Internal Server Error</title>``.
    AWS never answers an EC2 query with an HTML error page (its 5xx carry an XML error
    document), but a proxy in front of it may: in production that is an error.
    """

    _EVENT = "before-parse.*.*"

    def __init__(self, client: Any, emulator: bool | None = None) -> None:
        self.enabled = emulator_mode() if emulator is None else emulator
        self._events = client.meta.events
        self._endpoint = str(client.meta.endpoint_url)
        self._unique_id = f"vpcwatch-unsupported-{next(_counter_ids)}"
        if self.enabled:
            self._events.register_first(self._EVENT, self._check, unique_id=self._unique_id)

    def _check(self, operation_model: OperationModel, response_dict: dict[str, Any], **kwargs: Any) -> None:
        if response_dict.get("status_code") != 500:
            return
        body = response_dict.get("body") or b""
        if isinstance(body, str):
            body = body.encode()
        head = bytes(body[:512]).lstrip().lower()
        if head.startswith(b"<!doctype html") and b"500 internal server error" in head:
            raise OperationNotSupportedError(
                endpoint=self._endpoint,
                operation_name=operation_model.name,
                reason="HTTP 500 with an HTML error page (an emulator without this action)",
            )

    def close(self) -> None:
        if self.enabled:
            self._events.unregister(self._EVENT, unique_id=self._unique_id)

    def __enter__(self) -> UnsupportedDetector:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


def error_code(exc: BaseException) -> str:
    """The AWS error code of a failed call (the exception's class name when it has none)."""
    if isinstance(exc, ClientError):
        return str(exc.response.get("Error", {}).get("Code") or "ClientError")
    if isinstance(exc, OperationNotSupportedError | NotImplementedError):
        return "NotImplemented"
    return type(exc).__name__


def error_message(exc: BaseException) -> str:
    if isinstance(exc, ClientError):
        return str(exc.response.get("Error", {}).get("Message") or exc)
    if isinstance(exc, ResponseParserError):  # its text quotes the whole body
        text = " ".join(str(exc).split())
        quoted = text if len(text) <= _QUOTE_CHARS else text[:_QUOTE_CHARS] + "..."
        return f"the response is not AWS's: {quoted}"
    return str(exc)


def is_credential_error(exc: BaseException) -> bool:
    """True when the credentials themselves fail (missing, expired, invalid)."""
    if isinstance(exc, CREDENTIAL_EXCEPTIONS):
        return True
    return isinstance(exc, ClientError) and error_code(exc) in CREDENTIAL_ERROR_CODES


def is_unsupported(exc: BaseException, emulator: bool | None = None) -> bool:
    """True when an emulator, under the opt-in (``emulator_mode()`` when ``emulator`` is
    None), says it does not offer the operation: moto in-process raises
    ``NotImplementedError`` from its request hook; moto server's HTML 500 is turned into
    ``OperationNotSupportedError`` by ``UnsupportedDetector`` (only ever under the opt-in).

    Never true without the opt-in, and never for an answer of AWS: ``InvalidAction``,
    ``UnsupportedOperation`` or ``NotImplemented`` is an unknown API, whose data could
    not be read, so an error (fail closed).
    """
    if isinstance(exc, OperationNotSupportedError):
        return True
    if isinstance(exc, NotImplementedError):
        return emulator_mode() if emulator is None else emulator
    return False
