"""One definition of the account, region and resource id patterns (API input, queue
messages, CloudTrail records, service names all check against these)."""

from __future__ import annotations

import re

ACCOUNT_RE = re.compile(r"^\d{12}$")
# us-east-1, us-gov-west-1, cn-north-1, eusc-de-east-1
REGION_RE = re.compile(r"^[a-z]{2,4}(?:-[a-z]+)+-\d{1,2}$")
# As AWS mints them: a prefix and 8 or 17 hex digits (vpc-0abc1234, vpc-0123456789abcdef0).
MINTED_SUFFIX = r"(?:[0-9a-f]{17}|[0-9a-f]{8})"
# Any single token: test and documentation ids (rtb-1, vpc-EXAMPLE1, tgw-0262a0e521EXAMPLE),
# which a resolved scope may carry through from the event that named them.
TOKEN_SUFFIX = r"[0-9A-Za-z]{1,40}"
VPC_ID_RE = re.compile(rf"^vpc-{MINTED_SUFFIX}$")
FINDING_ID_RE = re.compile(r"^vw-[0-9a-f]{24}$")
