"""Network ACLs (SPEC §7): stateless, rules in number order, the first that matches decides,
nothing matching is the implicit ``*`` deny. Replies of tcp and udp go to the client's
ephemeral port, 1024-65535: a rule decides a reply only if it covers that whole range."""

from __future__ import annotations

from dataclasses import dataclass

from chalicelib.core.model import NetworkAcl, NetworkAclEntry
from chalicelib.core.netmath import Block, parse
from chalicelib.core.paths.lookup import contains

EPHEMERAL = (1024, 65535)
PROTOCOL_NUMBERS = {"tcp": "6", "udp": "17", "all": "-1"}
_PORTED = ("6", "17")


def protocol_number(protocol: str, version: int) -> str:
    if protocol == "icmp":
        return "58" if version == 6 else "1"
    return PROTOCOL_NUMBERS[protocol]


@dataclass(frozen=True)
class AclVerdict:
    allowed: bool
    rule: NetworkAclEntry | None  # None: the implicit '*' deny
    partial: tuple[NetworkAclEntry, ...] = ()  # rules that cover only part of the traffic (not applied)

    @property
    def rule_text(self) -> str:
        return "rule *" if self.rule is None or self.rule.rule_number >= 32767 else f"rule {self.rule.rule_number}"


def _covers_ports(entry: NetworkAclEntry, ports: tuple[int, int] | None) -> bool | None:
    """True when the rule's ports hold the traffic's, False when disjoint, None when partly."""
    if entry.protocol not in _PORTED or entry.port_from is None or entry.port_to is None or ports is None:
        return True
    low, high = ports
    if entry.port_from <= low and high <= entry.port_to:
        return True
    if entry.port_to < low or high < entry.port_from:
        return False
    return None


def evaluate(
    acl: NetworkAcl, *, egress: bool, protocol: str, ports: tuple[int, int] | None, remote: Block
) -> AclVerdict:
    """Whether ``acl`` lets traffic of ``protocol`` to ``ports`` (None: any, for icmp and
    all) pass in one direction, to (egress) or from ``remote``. A rule for only part of
    ``remote`` or of the ports is not applied, and is reported as ``partial``."""
    number = protocol_number(protocol, remote.version)
    partial: list[NetworkAclEntry] = []
    for entry in sorted(acl.entries, key=lambda e: e.rule_number):
        if entry.egress != egress:
            continue
        if entry.protocol != "-1" and entry.protocol != number:
            continue
        block = parse(entry.cidr)
        if block is None or block.version != remote.version:
            continue
        if not contains(block, remote):
            if block.first <= remote.last and remote.first <= block.last:
                partial.append(entry)
            continue
        covered = _covers_ports(entry, ports)
        if covered is None:
            partial.append(entry)
            continue
        if covered:
            return AclVerdict(entry.allow, entry, tuple(partial))
    return AclVerdict(False, None, tuple(partial))
