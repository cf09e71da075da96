"""Security Hub export against moto's Security Hub (BatchImportFindings, GetFindings), and
its failure paths (per-finding refusals, a refused batch) through botocore's Stubber."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from chalicelib.aws.publish.securityhub import BATCH_SIZE, export
from chalicelib.core.audit import build_finding
from chalicelib.core.checks import CHECK_BY_ID
from chalicelib.core.model import OPENED, RESOLVED, Change, Finding, NetworkSnapshot, Violation
from chalicelib.core.policy import Policy
from chalicelib.render.asff import to_asff
from tests.integration.conftest import ACCOUNT, REGION

SNAP = NetworkSnapshot(account_id=ACCOUNT, region=REGION)


def findings(count: int, now: str = "2026-11-26T03:00:00Z") -> list[Finding]:
    spec = CHECK_BY_ID["private-subnet-gateway-endpoints"]
    return [
        build_finding(
            spec,
            Violation(f"rtb-{n:05d}", f"vpc-{n:05d}", f"rtb-{n:05d} lacks s3", {"service": "s3"}),
            SNAP,
            Policy(),
            now,
        )
        for n in range(count)
    ]


@pytest.fixture
def securityhub(aws: None) -> Any:
    client = boto3.client("securityhub", region_name=REGION)
    client.enable_security_hub()
    return client


def stored(client: Any) -> dict[str, dict[str, Any]]:
    pages = client.get_paginator("get_findings").paginate()
    return {f["Id"]: f for page in pages for f in page["Findings"]}


def count_calls(client: Any) -> list[int]:
    sizes: list[int] = []
    client.meta.events.register(
        "before-parameter-build.securityhub.BatchImportFindings",
        lambda params, **_: sizes.append(len(params["Findings"])),
    )
    return sizes


def test_findings_are_imported_in_batches_of_100(securityhub: Any) -> None:
    sizes = count_calls(securityhub)
    items = findings(250)
    imported, failed = export(securityhub, items)
    assert (imported, failed) == (250, [])
    assert sizes == [100, 100, 50]
    hub = stored(securityhub)
    assert set(hub) == {f.id for f in items}
    first = hub[items[0].id]
    assert first["ProductArn"] == f"arn:aws:securityhub:{REGION}:{ACCOUNT}:product/{ACCOUNT}/default"
    assert first["GeneratorId"] == "private-subnet-gateway-endpoints"
    assert first["Compliance"]["Status"] == "FAILED" and first["RecordState"] == "ACTIVE"
    assert first["Resources"][0]["Type"] == "AwsEc2RouteTable"


def test_a_resolution_archives_the_finding_with_a_later_updated_at(securityhub: Any) -> None:
    opened = findings(3)
    export(securityhub, [Change(OPENED, f) for f in opened])
    before = stored(securityhub)[opened[1].id]["UpdatedAt"]
    resolved = replace(opened[1], status="RESOLVED", resolved_at="2026-11-26T04:00:00Z")
    imported, failed = export(securityhub, [Change(RESOLVED, resolved)])
    assert (imported, failed) == (1, [])
    hub = stored(securityhub)
    assert len(hub) == 3  # updated in place: the same Id
    after = hub[opened[1].id]
    assert after["RecordState"] == "ARCHIVED" and after["Compliance"]["Status"] == "PASSED"
    assert after["UpdatedAt"] > before and after["CreatedAt"] == hub[opened[0].id]["CreatedAt"]
    assert hub[opened[0].id]["RecordState"] == "ACTIVE"


def test_several_changes_of_one_finding_are_sent_once_as_the_latest(securityhub: Any) -> None:
    sizes = count_calls(securityhub)
    [finding] = findings(1)
    resolved = replace(finding, status="RESOLVED", resolved_at="2026-11-26T04:00:00Z")
    imported, failed = export(securityhub, [Change(RESOLVED, resolved), Change(OPENED, finding)])
    assert (imported, failed, sizes) == (2, [], [1])
    assert stored(securityhub)[finding.id]["RecordState"] == "ARCHIVED"


def test_refused_findings_are_returned_for_a_retry() -> None:
    client = boto3.client("securityhub", region_name=REGION, aws_access_key_id="x", aws_secret_access_key="x")
    items = findings(5)
    changes = [Change(OPENED, f) for f in items]
    with Stubber(client) as stub:
        stub.add_response(
            "batch_import_findings",
            {
                "FailedCount": 1,
                "SuccessCount": 1,
                "FailedFindings": [{"Id": items[1].id, "ErrorCode": "InvalidInput", "ErrorMessage": "bad"}],
            },
            {"Findings": [to_asff(f) for f in items[:2]]},
        )
        stub.add_client_error(
            "batch_import_findings", service_error_code="ThrottlingException", service_message="slow down"
        )
        stub.add_response("batch_import_findings", {"FailedCount": 0, "SuccessCount": 1, "FailedFindings": []})
        imported, failed = export(client, changes, batch_size=2)
        stub.assert_no_pending_responses()
    assert imported == 2  # items 0 and 4
    assert [(x.finding_id, x.code) for x in failed] == [
        (items[1].id, "InvalidInput"),
        (items[2].id, "ThrottlingException"),
        (items[3].id, "ThrottlingException"),
    ]
    assert [x.item for x in failed] == changes[1:4]  # the caller's own objects, to keep in its outbox
    assert failed[0].message == "bad"


def test_batch_size_is_bounded_by_the_api() -> None:
    client = boto3.client("securityhub", region_name=REGION, aws_access_key_id="x", aws_secret_access_key="x")
    with pytest.raises(ValueError):
        export(client, findings(1), batch_size=BATCH_SIZE + 1)
    assert export(client, []) == (0, [])
