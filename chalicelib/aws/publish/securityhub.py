"""Security Hub export: findings (or their state changes) imported as ASFF with
``BatchImportFindings``, in batches of 100 (the API's limit), through an injected boto3
client.

``export`` never raises for what AWS refuses: it returns how many items were imported
and which failed (with the error), so the caller keeps the failed ones in its outbox and
retries them on the next run. Several items about one finding (opened, then resolved, in
one run) are sent once, as the latest state: the earlier ones count as imported with it,
or failed with it.

The product ARN is the importing account's private integration in the client's region;
Security Hub accepts findings there only for the account that calls it, so in a
multi-account setup each member account imports its own findings.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

from botocore.exceptions import BotoCoreError, ClientError

from chalicelib.core.model import Change, Finding
from chalicelib.render.asff import to_asff, updated_at

BATCH_SIZE = 100  # BatchImportFindings takes 1 to 100 findings
log = logging.getLogger(__name__)

Exportable = Finding | Change


@dataclass(frozen=True)
class ExportFailure:
    item: Exportable  # what the caller passed in
    finding_id: str
    code: str  # Security Hub's ErrorCode, or the API error of the whole batch
    message: str


class ExportResult(NamedTuple):
    imported: int  # items whose state Security Hub now has
    failed: list[ExportFailure]  # items to retry


def _finding(item: Exportable) -> Finding:
    return item.finding if isinstance(item, Change) else item


def _batches(values: Sequence[Any], size: int) -> Iterable[Sequence[Any]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


def export(
    securityhub: Any,
    items: Iterable[Exportable],
    *,
    account_id: str | None = None,
    batch_size: int = BATCH_SIZE,
) -> ExportResult:
    """Import ``items`` (findings or changes) into the Security Hub of ``securityhub``'s
    region. ``account_id`` is the importing account (default: each finding's account)."""
    if not 1 <= batch_size <= BATCH_SIZE:
        raise ValueError(f"batch_size must be between 1 and {BATCH_SIZE}")
    region = str(securityhub.meta.region_name)
    by_id: dict[str, list[Exportable]] = {}
    latest: dict[str, Finding] = {}
    for item in items:
        finding = _finding(item)
        by_id.setdefault(finding.id, []).append(item)
        current = latest.get(finding.id)
        if current is None or updated_at(finding) >= updated_at(current):
            latest[finding.id] = finding
    documents = [to_asff(f, region=region, account_id=account_id) for f in latest.values()]
    imported = 0
    failed: list[ExportFailure] = []
    for batch in _batches(documents, batch_size):
        errors: dict[str, tuple[str, str]] = {}
        try:
            response = securityhub.batch_import_findings(Findings=list(batch))
        except ClientError as exc:
            error = exc.response.get("Error", {})
            code, message = str(error.get("Code", "ClientError")), str(error.get("Message", exc))
            errors = {doc["Id"]: (code, message) for doc in batch}
        except BotoCoreError as exc:
            errors = {doc["Id"]: (type(exc).__name__, str(exc)) for doc in batch}
        else:
            for failure in response.get("FailedFindings", []):
                errors[str(failure.get("Id", ""))] = (
                    str(failure.get("ErrorCode", "Failed")),
                    str(failure.get("ErrorMessage", "")),
                )
        for doc in batch:
            sent = by_id[doc["Id"]]
            if doc["Id"] in errors:
                code, message = errors[doc["Id"]]
                failed += [ExportFailure(item, doc["Id"], code, message) for item in sent]
            else:
                imported += len(sent)
    if failed:
        log.warning("Security Hub refused %d of %d findings", len(failed), imported + len(failed))
    return ExportResult(imported, failed)
