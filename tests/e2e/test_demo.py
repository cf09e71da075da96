"""`vpcwatch demo` tells the lab story end to end (run as a user runs it)."""

import re
import subprocess
import sys
from pathlib import Path


def test_demo_tells_the_story(tmp_path: Path) -> None:
    report = tmp_path / "report.html"
    proc = subprocess.run(
        [sys.executable, "-m", "chalicelib.cli", "demo", "--report", str(report)],
        cwd=tmp_path,  # the demo finds app.py by itself
        capture_output=True,
        text=True,
        timeout=300,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(Path(__file__).resolve().parents[2])},
    )
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    opened = re.findall(r"SNS finding\.opened", out)
    assert len(opened) == 13  # every lab mistake announced once
    assert "SNS finding.resolved  MEDIUM  private-subnet-gateway-endpoints" in out
    assert re.search(r"the same event delivered again: 0 notifications \(idempotent: True\)", out)
    assert "connected-cidrs-non-overlapping" in out and "tgw-routes-non-overlapping" in out
    assert report.read_text().startswith("<!doctype html>")
