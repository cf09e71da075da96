import subprocess
import sys


def test_app_imports_without_aws_or_environment() -> None:
    """`from app import app` reads no environment and builds no AWS client at import."""
    code = (
        "import os, botocore.session as s\n"
        "s.Session.create_client = lambda *a, **k: (_ for _ in ()).throw(AssertionError('client at import'))\n"
        "for k in [k for k in os.environ if k.startswith(('AWS_', 'FINDINGS', 'ALERTS', 'POLICY'))]:\n"
        "    del os.environ[k]\n"
        "import app\n"
        "assert app.app.app_name == 'vpcwatch'\n"
        "for name in ('on_network_change', 'scheduled_sweep', 'audit_worker', 'slack_forwarder'):\n"
        "    assert callable(getattr(app, name)), name\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
