"""The path engine (SPEC §7): reachability from the snapshots, hop by hop.

index = PathIndex(snapshots)             # one per region; indexes built once
result = index.trace("subnet-0abc", "s3", "tcp", 443)
result.verdict, result.blocked_at, result.to_json(), result.resource_ids
"""

from chalicelib.core.paths.engine import HANDLERS, PROTOCOLS, PathIndex, PathQueryError
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
