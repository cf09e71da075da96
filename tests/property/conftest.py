"""Property tests: generated EC2 worlds through the real collector (``-m property`` selects
them, ``-m "not property"`` leaves them out)."""

from __future__ import annotations

import pytest


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "property: hypothesis property tests over generated EC2 worlds")
