import pytest

from chalicelib.service.api import ApiError, parse_audit_request, parse_findings_query, validate_finding_id


def test_audit_request_fields() -> None:
    request = parse_audit_request(b'{"regions": ["us-east-1", "us-east-1"], "vpc_ids": ["vpc-0123456789abcdef0"]}')
    assert request.regions == ("us-east-1",) and request.vpc_ids == ("vpc-0123456789abcdef0",)
    assert parse_audit_request(None).regions == () and parse_audit_request(b"").vpc_ids == ()


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (b"{nope", "body"),
        (b"[1]", "body"),
        (b'{"regions": "us-east-1"}', "regions"),
        (b'{"regions": ["mars-1"]}', "regions"),
        (b'{"regions": [1]}', "regions"),
        (b'{"vpc_ids": ["subnet-0123456789abcdef0"]}', "vpc_ids"),
        (b'{"accounts": ["12345"]}', "accounts"),
        (b'{"region": ["us-east-1"]}', "region"),
    ],
)
def test_bad_audit_bodies_name_the_field(body: bytes, field: str) -> None:
    with pytest.raises(ApiError) as info:
        parse_audit_request(body)
    assert info.value.field == field and str(info.value).startswith(field)


def test_findings_query() -> None:
    query = parse_findings_query({"status": "open", "severity": "high", "check": "routes-no-blackhole", "limit": "5"})
    assert (query.status, query.severity, query.check, query.limit) == ("OPEN", "HIGH", "routes-no-blackhole", 5)
    assert parse_findings_query(None).limit == 50


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"status": "CLOSED"}, "status"),
        ({"severity": "URGENT"}, "severity"),
        ({"check": "no-such-check"}, "check"),
        ({"vpc_id": "vpc-xyz"}, "vpc_id"),
        ({"region": "moon"}, "region"),
        ({"limit": "0"}, "limit"),
        ({"limit": "many"}, "limit"),
        ({"sort": "asc"}, "sort"),
    ],
)
def test_bad_queries_name_the_field(params: dict[str, str], field: str) -> None:
    with pytest.raises(ApiError) as info:
        parse_findings_query(params)
    assert info.value.field == field


def test_finding_ids() -> None:
    assert validate_finding_id("vw-0123456789abcdef01234567") == "vw-0123456789abcdef01234567"
    with pytest.raises(ApiError):
        validate_finding_id("../etc")
