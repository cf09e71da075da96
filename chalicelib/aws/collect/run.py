"""Calls: pagination, filters, failures.

``Run`` makes the paginated ``describe_*`` calls of one collection: chunked server-side
filters, page sizes clamped per operation, and only the calls whose data is wanted. Every
failed call becomes a ``CollectionError`` and collection goes on; an action the endpoint
does not offer goes to ``unsupported``. Only credential errors propagate.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from botocore import xform_name
from botocore.exceptions import ConnectTimeoutError, EndpointConnectionError

from chalicelib.aws.collect.parse import Raw
from chalicelib.aws.session import error_code, error_message, is_credential_error, is_unsupported
from chalicelib.core.checks import required_actions
from chalicelib.core.model import CollectionError

# EC2 accepts at most 200 values per filter.
FILTER_CHUNK = 200


_CHECK_ACTIONS = required_actions()


@dataclass
class Run:
    ec2: Any
    region: str
    page_size: int | None
    errors: dict[tuple[str, str], CollectionError] = field(default_factory=dict)
    unsupported: dict[str, CollectionError] = field(default_factory=dict)
    # Set when the endpoint cannot be reached: the remaining calls are not attempted
    # (each would spend its retries for nothing) and are recorded as failed.
    unreachable: CollectionError | None = None
    failures: int = 0  # failed (or skipped) calls so far
    needs: frozenset[str] | None = None  # the IAM actions whose data is wanted (None: all)

    def query(
        self,
        operation: str,
        key: str,
        id_key: str,
        *,
        filter_name: str | None = None,
        values: Iterable[str] | None = None,
        filter_param: str = "Filters",
        **params: Any,
    ) -> list[Raw]:
        """All items of ``key`` across pages. With ``values`` (not None), one filtered
        query per chunk of 200 values, none when there are no values; results are
        de-duplicated by ``id_key``."""
        if values is None:
            return self.items(operation, key, **params)
        wanted = list(dict.fromkeys(v for v in values if v))
        found: dict[str, Raw] = {}
        for start in range(0, len(wanted), FILTER_CHUNK):
            chunk = wanted[start : start + FILTER_CHUNK]
            call_params: dict[str, Any] = {**params, filter_param: [{"Name": filter_name, "Values": chunk}]}
            for item in self.items(operation, key, **call_params):
                found.setdefault(str(item.get(id_key, id(item))), item)
        return list(found.values())

    def fetch(self, operation: str, key: str, *, label: str = "", **params: Any) -> list[Raw] | None:
        """Like ``items``, but None when the call failed (the error is recorded)."""
        failures = self.failures
        collected = self.items(operation, key, label=label, **params)
        return collected if self.failures == failures else None

    def items(self, operation: str, key: str, *, label: str = "", **params: Any) -> list[Raw]:
        """All items of ``key`` across the pages of one paginated call. On failure the
        error is recorded and the items of the pages already read are returned."""
        collected: list[Raw] = []
        for page in self.pages(operation, label=label, **params):
            collected.extend(page.get(key) or [])
        return collected

    def wants(self, operation: str) -> bool:
        """Whether the data of ``operation`` is wanted (``needs``; None: what the checks read)."""
        return f"ec2:{operation}" in (self.needs if self.needs is not None else _CHECK_ACTIONS)

    def pages(
        self, operation: str, *, label: str = "", sized: bool = True, paginated: bool = True, **params: Any
    ) -> Iterator[Raw]:
        if not self.wants(operation):
            return  # no check that runs reads this data
        if self.unreachable is not None:
            self.failures += 1
            self.record(operation, self.unreachable.code, f"not attempted: {self.unreachable.message}", label)
            return
        config = {}
        size = self._page_size(operation) if sized and paginated else None
        if size is not None:
            config["PageSize"] = size
        try:
            if not paginated:  # one answer holds every item (DescribeVpnGateways)
                yield getattr(self.ec2, xform_name(operation))(**params)
                return
            paginator = self.ec2.get_paginator(xform_name(operation))
            yield from paginator.paginate(**params, PaginationConfig=config)
        except Exception as exc:
            if is_credential_error(exc):
                raise
            self._fail(operation, exc, label)

    def _page_size(self, operation: str) -> int | None:
        shape = self.ec2.meta.service_model.operation_model(operation).input_shape
        member = shape.members.get("MaxResults") if shape is not None else None
        if member is None:
            return None
        low = int(member.metadata.get("min", 5))
        high = int(member.metadata.get("max", 1000))
        return max(low, min(high, self.page_size if self.page_size is not None else high))

    def _fail(self, operation: str, exc: Exception, label: str) -> None:
        self.failures += 1
        code, message = error_code(exc), error_message(exc)
        # Fail closed: only an emulator's missing API, under the opt-in (VPCWATCH_EMULATOR,
        # see collect/session.py), reads as "no such resources"; an unknown API, a response
        # that is not AWS's, throttling past retries or AccessDenied is an error.
        if is_unsupported(exc):
            action = f"ec2:{operation}"
            self.unsupported.setdefault(action, CollectionError(action, self.region, code, message))
            return
        error = self.record(operation, code, message, label)
        if isinstance(exc, EndpointConnectionError | ConnectTimeoutError):
            self.unreachable = error

    def record(self, operation: str, code: str, message: str, label: str = "") -> CollectionError:
        action = f"ec2:{operation}"
        error = CollectionError(action, self.region, code, f"{label}: {message}" if label else message)
        return self.errors.setdefault((action, code), error)
