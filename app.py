"""Chalice entry points (SPEC §4). They only wire: every decision lives in chalicelib.
No AWS client and no environment read happen at import: the service is built on first
use, once per Lambda container."""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from chalice.app import Chalice, CloudWatchEvent, IAMAuthorizer, Rate, Request, Response, SNSEvent, SQSEvent

from chalicelib.core.model import Finding
from chalicelib.service.api import (
    MAX_LIMIT,
    ApiError,
    FindingsQuery,
    parse_audit_request,
    parse_findings_query,
    validate_finding_id,
)
from chalicelib.service.fanout import require_enqueued
from chalicelib.service.outcome import Outcome
from chalicelib.service.pipelines import Service

AUDIT_QUEUE = "vpcwatch-audits"  # created by resources.json / `vpcwatch setup`
ALERTS_TOPIC = "vpcwatch-alerts"
# One (account, region) per audit_worker invocation, so that the function's timeout
# (.chalice/config.json) bounds one audit, never a batch of them audited one after
# another: a region's audit takes seconds to a minute or two in the largest landscapes,
# ten of them in a row could not be bounded by any timeout. Parallelism comes from the
# event source's maximum concurrency (vpcwatch_tools/infra.py), and a failed message is
# retried alone.
AUDIT_BATCH_SIZE = 1

app = Chalice(app_name="vpcwatch", configure_logs=False)  # Powertools Logger owns the "vpcwatch" logger
iam = IAMAuthorizer()
logger = Logger(service="vpcwatch")
metrics = Metrics(namespace="vpcwatch", service="vpcwatch")
_tracer: Any = None
_service: Service | None = None


def traced(handler: Callable[..., Any]) -> Callable[..., Any]:
    """Powertools Tracer's capture_method, built on the first call: the X-Ray SDK creates
    a botocore client when imported, which must not happen at import time."""
    wrapped: Callable[..., Any] | None = None

    @functools.wraps(handler)
    def call(*args: Any, **kwargs: Any) -> Any:
        nonlocal wrapped
        global _tracer
        if wrapped is None:
            if _tracer is None:
                from aws_lambda_powertools import Tracer

                _tracer = Tracer(service="vpcwatch")  # X-Ray segments in Lambda; a no-op elsewhere
            wrapped = _tracer.capture_method(handler)
        return wrapped(*args, **kwargs)

    return call


def service() -> Service:
    global _service
    if _service is None:
        from chalicelib.aws.settings import load_settings

        _service = Service(load_settings(read_parameter=_read_parameter), observe=_observe)
    return _service


def _read_parameter(name: str) -> str:
    """``POLICY`` as an SSM parameter name. The function's role may read parameters under
    /vpcwatch/ only (.chalice/policy-<stage>.json): a refusal names that."""
    from aws_lambda_powertools.utilities.parameters import get_parameter
    from aws_lambda_powertools.utilities.parameters.exceptions import GetParameterError

    from chalicelib.aws.settings import SettingsError

    try:
        return str(get_parameter(name, decrypt=True, max_age=300))
    except GetParameterError as exc:
        raise SettingsError(
            f"POLICY: SSM parameter {name} could not be read ({exc}); "
            "the function may read parameters under /vpcwatch/ only (ssm:GetParameter)"
        ) from None


def _request() -> Request:
    request = app.current_request
    assert request is not None  # Chalice sets it for every route call
    return request


def _error(status: int, message: str) -> Response:
    return Response(body={"error": message}, status_code=status, headers={"Content-Type": "application/json"})


# -- events -------------------------------------------------------------------------


# A plain Lambda function, not @app.on_cw_event: Chalice's event wrapper raises on an
# event without its envelope fields, and a malformed event must be logged and skipped.
# The EventBridge rule (EVENT_PATTERN) is attached in resources.json.
@app.lambda_function(name="on_network_change")
@traced
def on_network_change(event: Any, context: Any) -> dict[str, Any]:
    raw: dict[str, Any] = event if isinstance(event, dict) else {}
    detail = raw["detail"] if isinstance(raw.get("detail"), dict) else {}
    logger.set_correlation_id(str(detail.get("eventID") or raw.get("id") or ""))
    try:
        service().bind_invocation(context)
        return service().on_event_once(raw, context)
    finally:
        _flush_metrics()


@app.schedule(Rate(1, unit=Rate.HOURS), name="scheduled_sweep")
@traced
def scheduled_sweep(event: CloudWatchEvent) -> dict[str, Any]:
    logger.set_correlation_id(event.event_id)
    try:
        service().bind_invocation(event.context)
        return require_enqueued(service().sweep())  # a pair SQS refused fails the run: retried
    finally:
        _flush_metrics()


@app.on_sqs_message(queue=AUDIT_QUEUE, batch_size=AUDIT_BATCH_SIZE, name="audit_worker")
@traced
def audit_worker(event: SQSEvent) -> dict[str, Any]:
    """One (account, region) audit per message, one message per invocation
    (``AUDIT_BATCH_SIZE``). A message that fails (malformed, or its account's role cannot
    be assumed) is reported in ``batchItemFailures`` (the event source mapping has
    ``ReportBatchItemFailures``, so a larger batch stays correct): SQS redelivers only that
    one, then dead-letters it; the others are deleted."""
    from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response

    raw = event.to_dict()
    logger.set_correlation_id(",".join(str(r.get("messageId", "")) for r in raw.get("Records", [])))
    processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)
    try:
        service().bind_invocation(event.context)
        return dict(process_partial_response(event=raw, record_handler=_audit_record, processor=processor))
    finally:
        _flush_metrics()


def _audit_record(record: Any) -> dict[str, Any]:
    """The batch utility's record handler (an ``SQSRecord``): raises to fail the record."""
    try:
        message = json.loads(record.body)
    except ValueError as exc:
        logger.error("malformed audit message", extra={"message_id": record.message_id})
        raise ValueError(f"message {record.message_id}: not JSON") from exc
    outcome = service().audit_message(message)
    return {"account_id": outcome.result.account_id, "regions": list(outcome.result.regions)}


@app.on_sns_message(topic=ALERTS_TOPIC, name="slack_forwarder")
@traced
def slack_forwarder(event: SNSEvent) -> dict[str, Any]:
    """Posts each change to Slack. A post that fails raises (``SlackDeliveryError``): SNS
    invokes the function asynchronously, so Lambda retries the event twice, then sends it
    to the failure queue (``EventInvokeConfig`` in resources.json): never dropped."""
    raw = event.to_dict()
    logger.set_correlation_id(",".join(str(r.get("Sns", {}).get("MessageId", "")) for r in raw.get("Records", [])))
    return {"posted": service().forward_to_slack(raw)}


def _observe(outcome: Outcome) -> None:
    """CloudWatch metrics (EMF) of one audit."""
    changes = outcome.changes_by_type()
    metrics.add_metric("FindingsOpened", MetricUnit.Count, len(changes["opened"]))
    metrics.add_metric("FindingsResolved", MetricUnit.Count, len(changes["resolved"]))
    metrics.add_metric("FindingsReopened", MetricUnit.Count, len(changes["reopened"]))
    metrics.add_metric("AuditDuration", MetricUnit.Milliseconds, outcome.result.duration_ms)
    metrics.add_metric("ApiCalls", MetricUnit.Count, outcome.result.api_calls)
    errors = sum(len(s.errors) for s in outcome.result.snapshots)
    metrics.add_metric("CollectionErrors", MetricUnit.Count, errors)
    metrics.add_metric("PublishFailures", MetricUnit.Count, outcome.publish_failures)
    metrics.add_metric("AuditsUnavailable", MetricUnit.Count, len(outcome.failures))
    logger.info(
        "audit recorded",
        extra={
            "account_id": outcome.result.account_id,
            "regions": list(outcome.result.regions),
            "scope": list(outcome.result.scope_vpc_ids),
            "unavailable": [f.to_dict() for f in outcome.failures],
            **changes,
        },
    )


def _flush_metrics() -> None:
    metrics.flush_metrics(raise_on_empty_metrics=False)


# -- HTTP API (IAM authorization on every route) ------------------------------------


@app.route("/audits", methods=["POST"], authorizer=iam)
@traced
def post_audits() -> Any:
    request = _request()
    logger.set_correlation_id(request.context.get("requestId", ""))
    try:
        body = parse_audit_request(request.raw_body)
    except ApiError as exc:
        return _error(400, str(exc))
    try:
        service().bind_invocation(app.lambda_context)
        status, answer = service().request_audits(body.accounts, list(body.regions) or None, body.vpc_ids)
    finally:
        _flush_metrics()
    if status == 200:
        return answer
    return Response(body=answer, status_code=status, headers={"Content-Type": "application/json"})


def _stored_findings(query: FindingsQuery) -> tuple[list[Finding], str | None]:
    """``GET /findings`` and ``GET /report`` share the filters: one query of the store."""
    findings, token = service().store.query(
        status=query.status,
        severity=query.severity,
        check=query.check,
        vpc_id=query.vpc_id,
        region=query.region,
        limit=query.limit,
        next_token=query.next_token,
    )
    return list(findings), token


@app.route("/findings", methods=["GET"], authorizer=iam)
@traced
def get_findings() -> Any:
    try:
        findings, token = _stored_findings(parse_findings_query(_request().query_params))
    except ApiError as exc:
        return _error(400, str(exc))
    except ValueError:
        return _error(400, "next_token: not a token this API issued")
    return {"findings": [f.to_dict() for f in findings], "next_token": token}


@app.route("/findings/{finding_id}", methods=["GET"], authorizer=iam)
@traced
def get_finding(finding_id: str) -> Any:
    try:
        validate_finding_id(finding_id)
    except ApiError as exc:
        return _error(400, str(exc))
    finding = service().store.get(finding_id)
    if finding is None:
        return _error(404, f"no finding {finding_id}")
    return finding.to_dict()


@app.route("/report", methods=["GET"], authorizer=iam)
@traced
def get_report() -> Any:
    from chalicelib.render.html import render_findings

    try:
        query = parse_findings_query(_request().query_params)
        findings, _ = _stored_findings(replace(query, limit=MAX_LIMIT, next_token=None))
    except ApiError as exc:
        return _error(400, str(exc))
    return Response(body=render_findings(findings), status_code=200, headers={"Content-Type": "text/html"})


@app.route("/paths", methods=["GET"], authorizer=iam)
@traced
def get_paths() -> Any:
    """SPEC §7: the path from a subnet (or address) to a destination, in one region."""
    from chalicelib.service.paths_api import answer_path, collect_paths, parse_paths_query

    try:
        query = parse_paths_query(_request().query_params)
    except ApiError as exc:
        return _error(400, str(exc))
    region = query.region or service().settings.region
    snapshot = collect_paths(service().ec2(region), service().account_id, region)
    status, body = answer_path(query, snapshot)
    return Response(body=body, status_code=status, headers={"Content-Type": "application/json"})
