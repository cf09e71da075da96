"""The path engine (SPEC §7): reachability from the snapshots, hop by hop.

index = PathIndex(snapshots)             # one per region; indexes built once
result = index.trace("subnet-0abc", "s3", "tcp", 443)
result.verdict, result.blocked_at, result.to_json(), result.resource_ids

index.py   the snapshots' indexes, built once: route tables as LPM tables, subnets by address
walk.py    one walk: the target, the hops of one direction, a hop's outcome
hops.py    one handler per route target kind (HANDLERS), the NACL check, the TGW walk
trace.py   PathIndex.trace: names resolved, the walk there and the reply back, the verdict
lookup.py nacl.py result.py text.py   LPM, NACL rules, the result, its text
"""

from chalicelib.core.paths.hops import HANDLERS
from chalicelib.core.paths.result import (
    REACHABLE,
    SG_NOTE,
    UNKNOWN,
    UNREACHABLE,
    Blocked,
    Destination,
    Hop,
    PathResult,
    Source,
)
from chalicelib.core.paths.trace import PROTOCOLS, PathIndex, PathQueryError

__all__ = [
    "HANDLERS",
    "PROTOCOLS",
    "REACHABLE",
    "SG_NOTE",
    "UNKNOWN",
    "UNREACHABLE",
    "Blocked",
    "Destination",
    "Hop",
    "PathIndex",
    "PathQueryError",
    "PathResult",
    "Source",
]
