"""Cold start: the median wall time of a fresh interpreter importing the Lambda module
(`import app`) against one importing only boto3, which every handler needs anyway.

    .venv/bin/python -m bench.bench_coldstart   (or: make bench)

Goal: `import app` within 1.3x of `import boto3`. The third row adds building the
service (settings, store, clients; no network) to show what a first invocation pays."""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RUNS = 21
CASES = {
    "python -c 'import boto3'": "import boto3",
    "python -c 'import app'": "import app",
    "import app + build the service": ("import app; s = app.service(); s.store; s.sns; s.ec2('us-east-1')"),
}
ENV = {
    "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
    "AWS_ACCESS_KEY_ID": "x",
    "AWS_SECRET_ACCESS_KEY": "x",
    "AWS_REGION": "us-east-1",
    "FINDINGS_TABLE": "vpcwatch-findings",
    "ALERTS_TOPIC_ARN": "arn:aws:sns:us-east-1:123456789012:vpcwatch-alerts",
}


def median_seconds(code: str) -> float:
    times = []
    for _ in range(RUNS):
        t0 = time.perf_counter()
        subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=ENV, check=True)
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main() -> None:
    results = {label: median_seconds(code) for label, code in CASES.items()}
    base = results["python -c 'import boto3'"]
    print(f"{'what (median of ' + str(RUNS) + ' fresh interpreters)':<44} {'ms':>7} {'x boto3':>8}")
    print("-" * 61)
    for label, seconds in results.items():
        print(f"{label:<44} {seconds * 1000:>7.0f} {seconds / base:>8.2f}")


if __name__ == "__main__":
    main()
