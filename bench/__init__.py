"""Benchmarks. They run on moto (in-process or server), which has no Client VPN API: the
emulator opt-in makes that read as "no Client VPN" instead of a collection error, as in
the demo (``chalicelib/aws/session.py``)."""

import os

os.environ.setdefault("VPCWATCH_EMULATOR", "1")
