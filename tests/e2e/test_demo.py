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
    # every lab mistake announced once: 13, the hub's replies lost on app's public table
    # (routes-return-path) and the demo policy's intent on app's private subnet
    assert len(opened) == 15
    assert re.search(r"SNS finding\.opened +MEDIUM +routes-return-path", out)
    assert re.search(r"SNS finding\.opened +HIGH +reachability-intent", out)
    assert "SNS finding.resolved  MEDIUM  private-subnet-gateway-endpoints" in out
    # the path before the fix (blocked at the private route table) and after (through the endpoint)
    before, after = out.split("== 3b.")[1].split("== 4.")[0], out.split("== 4b.")[1].split("== 5.")[0]
    assert re.search(r"BLOCKED at rtb-\w+ \(route-table\): no route to s3", before)
    assert "verdict: unreachable" in before
    assert re.search(r"vpce-\w+ +gateway-endpoint", after) and "verdict: reachable (private)" in after
    fix = out.split("== 4.")[1].split("== 4b.")[0]
    assert "SNS finding.resolved  HIGH    reachability-intent" in fix  # within the fix's one event
    assert "the next sweep (a full audit) announces 0 change(s)" in out
    assert re.search(r"the same event delivered again: 0 notifications \(idempotent: True\)", out)
    assert "connected-cidrs-non-overlapping" in out and "tgw-routes-non-overlapping" in out
    assert report.read_text().startswith("<!doctype html>")
