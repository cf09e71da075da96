"""One definition of live / in flight / gone for every EC2 state vocabulary."""

from __future__ import annotations

import pytest

from chalicelib.core.states import Lifecycle, is_gone, is_in_flight, is_live, is_present, lifecycle


@pytest.mark.parametrize(
    ("state", "expected"),
    [
        ("available", Lifecycle.LIVE),
        ("active", Lifecycle.LIVE),
        ("Available", Lifecycle.LIVE),
        ("associated", Lifecycle.LIVE),
        ("modifying", Lifecycle.LIVE),
        ("partial", Lifecycle.LIVE),
        (None, Lifecycle.LIVE),
        ("", Lifecycle.LIVE),
        ("pending", Lifecycle.IN_FLIGHT),
        ("pending-acceptance", Lifecycle.IN_FLIGHT),
        ("pendingAcceptance", Lifecycle.IN_FLIGHT),
        ("PendingAcceptance", Lifecycle.IN_FLIGHT),
        ("initiating-request", Lifecycle.IN_FLIGHT),
        ("initiatingRequest", Lifecycle.IN_FLIGHT),
        ("provisioning", Lifecycle.IN_FLIGHT),
        ("associating", Lifecycle.IN_FLIGHT),
        ("deleting", Lifecycle.GONE),
        ("deleted", Lifecycle.GONE),
        ("Deleted", Lifecycle.GONE),
        ("failed", Lifecycle.GONE),
        ("rejected", Lifecycle.GONE),
        ("expired", Lifecycle.GONE),
        ("rollingBack", Lifecycle.GONE),
        ("disassociating", Lifecycle.GONE),
        ("disassociated", Lifecycle.GONE),
        ("create-in-progress", Lifecycle.IN_FLIGHT),
        ("delete-in-progress", Lifecycle.GONE),
        ("create-complete", Lifecycle.LIVE),
        ("pending-associate", Lifecycle.IN_FLIGHT),
        ("revoking", Lifecycle.GONE),
    ],
)
def test_lifecycle(state: str | None, expected: Lifecycle) -> None:
    assert lifecycle(state) is expected
    assert is_live(state) is (expected is Lifecycle.LIVE)
    assert is_in_flight(state) is (expected is Lifecycle.IN_FLIGHT)
    assert is_gone(state) is (expected is Lifecycle.GONE)
    assert is_present(state) is (expected is not Lifecycle.GONE)
