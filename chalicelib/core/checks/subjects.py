"""What each check judges in a snapshot: its subjects, by resource id.

A full audit judges every resource of its region; a scoped (event-driven) audit judges
only some. The subjects of a check in a snapshot are exactly the resources it evaluates
there: the audit reports findings only on them, and the store resolves only findings on
them (plus findings on resources of the scope that no longer exist). So a scoped audit
never resolves what it did not evaluate (SPEC §1, *Full and scoped audits agree*).

Each function is the filter its check iterates over, so the two cannot drift; a property
test checks that no check reports a violation outside its subjects.
"""

from __future__ import annotations

from collections.abc import Callable

from chalicelib.core.model import NetworkSnapshot, Peering
from chalicelib.core.states import is_gone

Subjects = Callable[[NetworkSnapshot], frozenset[str]]


def audited_vpcs(snapshot: NetworkSnapshot) -> frozenset[str]:
    """The account's own VPCs in scope (a shared VPC's owner audits it, not its participants)."""
    return frozenset(v.vpc_id for v in snapshot.vpcs if snapshot.owns(v.owner_id) and snapshot.in_scope(v.vpc_id))


def audited_route_tables(snapshot: NetworkSnapshot) -> frozenset[str]:
    return frozenset(
        t.route_table_id for t in snapshot.route_tables if snapshot.owns(t.owner_id) and snapshot.in_scope(t.vpc_id)
    )


def flow_log_vpc(snapshot: NetworkSnapshot, resource_id: str) -> str | None:
    """The VPC a flow log watches (None for ENI and TGW logs: not placeable from the snapshot)."""
    if resource_id.startswith("vpc-"):
        return resource_id
    subnet = snapshot.subnet_by_id.get(resource_id)
    return subnet.vpc_id if subnet is not None else None


def audited_flow_logs(snapshot: NetworkSnapshot) -> frozenset[str]:
    """Flow logs are the account's own whatever they watch; those of ENIs and TGWs, which no
    scope can place, are judged wherever they were collected."""
    result = set()
    for fl in snapshot.flow_logs:
        vpc_id = flow_log_vpc(snapshot, fl.resource_id)
        if vpc_id is None or snapshot.in_scope(vpc_id):
            result.add(fl.flow_log_id)
    return frozenset(result)


def audited_vpc_endpoints(snapshot: NetworkSnapshot) -> frozenset[str]:
    return frozenset(
        e.endpoint_id for e in snapshot.vpc_endpoints if snapshot.owns(e.owner_id) and snapshot.in_scope(e.vpc_id)
    )


def audited_endpoint_services(snapshot: NetworkSnapshot) -> frozenset[str]:
    """Endpoint services belong to no VPC: only a region-wide audit collects and judges them."""
    if snapshot.scope_vpc_ids:
        return frozenset()
    return frozenset(s.service_id for s in snapshot.endpoint_services if snapshot.owns(s.owner_id))


def _local(snapshot: NetworkSnapshot, region: str) -> bool:
    return region in ("", snapshot.region)


def peering_local_vpc(snapshot: NetworkSnapshot, peering: Peering) -> str | None:
    """Where a peering is judged, once: the VPC of its first side (requester first) that
    this account owns, when that side lies in this region; else None. A cross-region
    peering is described in both regions and judged in its requester's only; a peering of
    two accounts is each account's own finding."""
    for side in (peering.requester, peering.accepter):
        if snapshot.owns(side.owner_id):
            return side.vpc_id if _local(snapshot, side.region) else None
    return None


def audited_peerings(snapshot: NetworkSnapshot) -> frozenset[str]:
    result = set()
    for p in snapshot.peerings:
        if peering_local_vpc(snapshot, p) is None:
            continue
        sides = [s.vpc_id for s in (p.requester, p.accepter) if _local(snapshot, s.region)]
        if any(snapshot.in_scope(v) for v in sides):
            result.add(p.peering_id)
    return frozenset(result)


def scoped_tgw_route_tables(snapshot: NetworkSnapshot) -> frozenset[str] | None:
    """In a scoped audit, the TGW route tables the scoped VPCs' attachments are associated
    with or propagate into (the tables whose routes the scope changes); None when the audit
    covers the whole region."""
    if not snapshot.scope_vpc_ids:
        return None
    attachments = {a.attachment_id for v in snapshot.scope_vpc_ids for a in snapshot.tgw_attachments_by_vpc.get(v, ())}
    tables = {table for a in attachments for table in snapshot.tgw_tables_of_attachment.get(a, ())}
    tables |= {t.route_table_id for t in snapshot.tgw_route_tables if attachments.intersection(t.propagations)}
    return frozenset(tables)


def audited_tgw_route_tables(snapshot: NetworkSnapshot) -> frozenset[str]:
    """The TGW route tables of gateways the account owns (a shared TGW's tables are its
    owner's), not being deleted; in a scoped audit only those the scope reaches."""
    scoped = scoped_tgw_route_tables(snapshot)
    result = set()
    for table in snapshot.tgw_route_tables:
        tgw = snapshot.tgw_by_id.get(table.tgw_id)
        if tgw is not None and not snapshot.owns(tgw.owner_id):
            continue
        if is_gone(table.state) or (scoped is not None and table.route_table_id not in scoped):
            continue
        result.add(table.route_table_id)
    return frozenset(result)


def audited_transit_gateways(snapshot: NetworkSnapshot) -> frozenset[str]:
    """Gateways the account owns (only the owner can change their options); in a scoped
    audit, those the scoped VPCs attach to."""
    scoped = (
        {a.tgw_id for v in snapshot.scope_vpc_ids for a in snapshot.tgw_attachments_by_vpc.get(v, ())}
        if snapshot.scope_vpc_ids
        else None
    )
    return frozenset(
        t.tgw_id
        for t in snapshot.transit_gateways
        if snapshot.owns(t.owner_id) and not is_gone(t.state) and (scoped is None or t.tgw_id in scoped)
    )


def audited_client_vpn_endpoints(snapshot: NetworkSnapshot) -> frozenset[str]:
    # An endpoint without a target network has no VPC; scope can only filter what it can place.
    return frozenset(
        e.endpoint_id
        for e in snapshot.client_vpn_endpoints
        if not is_gone(e.status) and (e.vpc_id is None or snapshot.in_scope(e.vpc_id))
    )
