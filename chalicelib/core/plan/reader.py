"""``terraform show -json PLANFILE`` (format_version 1.x) -> typed planned changes. Pure.

What a change says about the network is in ``resource_changes[].change``: ``before``
(null for a create), ``after`` (null for a delete) and ``after_unknown`` (the attributes
known only after apply). A resource the plan creates has no id yet, and every attribute
that points at another planned resource (a subnet's ``vpc_id``, a route's
``nat_gateway_id``) is unknown the same way; the plan's ``configuration`` says what each
such attribute refers to (expression ``references``), so the reader puts the referenced
resource's Terraform address in its place: a planned route to a planned peering names
``aws_vpc_peering_connection.hub``. What stays unknown (an IPAM-allocated CIDR, a value
from a data source) is listed, never guessed.

References are relative to the module that holds the resource. With ``count`` or
``for_each`` an expression that also references ``count.index`` / ``each.key`` means the
instance with the same index; a reference without index to a multi-instance resource
means all of them (a splat). Terraform 1.x lists both the attribute and the object
(``aws_vpc.main.id``, ``aws_vpc.main``), 0.12/0.13 the object only; both are read.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

SUPPORTED_MAJOR = "1"

# Every resource type SPEC §8 applies, with the prefix of the EC2 id it will get (None:
# the type is a link between resources and has no id of its own in the snapshot).
ID_PREFIX: dict[str, str | None] = {
    "aws_vpc": "vpc",
    "aws_vpc_ipv4_cidr_block_association": None,
    "aws_vpc_ipv6_cidr_block_association": None,
    "aws_subnet": "subnet",
    "aws_route_table": "rtb",
    "aws_default_route_table": "rtb",
    "aws_route": None,
    "aws_route_table_association": None,
    "aws_main_route_table_association": None,
    "aws_internet_gateway": "igw",
    "aws_vpn_gateway": "vgw",
    "aws_egress_only_internet_gateway": "eigw",
    "aws_nat_gateway": "nat",
    "aws_vpc_peering_connection": "pcx",
    "aws_vpc_peering_connection_accepter": "pcx",
    "aws_ec2_transit_gateway": "tgw",
    "aws_ec2_transit_gateway_vpc_attachment": "tgw-attach",
    "aws_ec2_transit_gateway_route_table": "tgw-rtb",
    "aws_ec2_transit_gateway_route": None,
    "aws_ec2_transit_gateway_route_table_association": None,
    "aws_ec2_transit_gateway_route_table_propagation": None,
    "aws_vpc_endpoint": "vpce",
    "aws_vpc_endpoint_route_table_association": None,
    "aws_vpc_endpoint_service": "vpce-svc",
    "aws_flow_log": "fl",
    "aws_ec2_managed_prefix_list": "pl",
    "aws_ec2_client_vpn_endpoint": "cvpn-endpoint",
    "aws_ec2_client_vpn_authorization_rule": None,
}
# Types SPEC §8 names that the snapshot cannot hold yet (network ACLs are being added to
# the model by another change): listed in ``resources_ignored`` until then. The seam:
# add the model type, then a handler in ``apply``, then remove the type from here.
AWAITING_MODEL = frozenset({"aws_network_acl", "aws_network_acl_rule", "aws_network_acl_association"})
# Referenced but never applied: gateways the path follows whose own records no check reads
# (a route to them is still applied, naming them).
LINK_ONLY = frozenset({"aws_vpn_gateway", "aws_egress_only_internet_gateway"})
APPLIED_TYPES = frozenset(ID_PREFIX) - LINK_ONLY

# Which resource types an attribute may point at (picks the right one out of an expression
# that references several, such as an inline ``route`` block naming a NAT and a peering).
ATTR_TARGETS: dict[str, tuple[str, ...]] = {
    "vpc_id": ("aws_vpc",),
    "peer_vpc_id": ("aws_vpc",),
    "subnet_id": ("aws_subnet",),
    "subnet_ids": ("aws_subnet",),
    "route_table_id": ("aws_route_table", "aws_default_route_table", "aws_vpc"),
    "route_table_ids": ("aws_route_table", "aws_default_route_table", "aws_vpc"),
    "default_route_table_id": ("aws_vpc",),
    "gateway_id": ("aws_internet_gateway", "aws_vpn_gateway"),
    "nat_gateway_id": ("aws_nat_gateway",),
    "vpc_peering_connection_id": ("aws_vpc_peering_connection", "aws_vpc_peering_connection_accepter"),
    "transit_gateway_id": ("aws_ec2_transit_gateway",),
    "transit_gateway_attachment_id": ("aws_ec2_transit_gateway_vpc_attachment",),
    "transit_gateway_route_table_id": ("aws_ec2_transit_gateway_route_table", "aws_ec2_transit_gateway"),
    "vpc_endpoint_id": ("aws_vpc_endpoint",),
    "egress_only_gateway_id": ("aws_egress_only_internet_gateway",),
    "destination_prefix_list_id": ("aws_ec2_managed_prefix_list",),
    "client_vpn_endpoint_id": ("aws_ec2_client_vpn_endpoint",),
    "resource_id": ("aws_vpc", "aws_subnet", "aws_ec2_transit_gateway", "aws_ec2_transit_gateway_vpc_attachment"),
    "cidr_block": ("aws_vpc",),
    "ipv6_cidr_block": ("aws_vpc",),
}
LIST_ATTRS = frozenset({"subnet_ids", "route_table_ids"})
# Attributes of other resources that stand for a resource AWS creates along with them: a
# VPC's main route table, a TGW's default route table. ``main_route_table_id`` and
# ``default_route_table_id`` are the same table, as are the TGW's two defaults.
IMPLICIT_ATTRS: dict[str, str] = {
    "default_route_table_id": "default_route_table_id",
    "main_route_table_id": "default_route_table_id",
    "association_default_route_table_id": "association_default_route_table_id",
    "propagation_default_route_table_id": "association_default_route_table_id",
}
ROUTE_TARGETS = (
    "gateway_id",
    "nat_gateway_id",
    "vpc_peering_connection_id",
    "transit_gateway_id",
    "network_interface_id",
    "instance_id",
    "egress_only_gateway_id",
    "vpc_endpoint_id",
    "local_gateway_id",
    "carrier_gateway_id",
    "core_network_arn",
)
ROUTE_DESTINATIONS = ("cidr_block", "ipv6_cidr_block", "destination_prefix_list_id")
ROUTE_RESOURCE_DESTINATIONS = ("destination_cidr_block", "destination_ipv6_cidr_block", "destination_prefix_list_id")

# The attributes vpcwatch reads from each type: only an unknown among these matters.
READ_ATTRS: dict[str, tuple[str, ...]] = {
    "aws_vpc": ("cidr_block", "ipv6_cidr_block"),
    "aws_vpc_ipv4_cidr_block_association": ("vpc_id", "cidr_block"),
    "aws_vpc_ipv6_cidr_block_association": ("vpc_id", "ipv6_cidr_block"),
    "aws_subnet": ("vpc_id", "cidr_block"),
    "aws_route_table": ("vpc_id",),
    "aws_default_route_table": ("default_route_table_id",),
    "aws_route": ("route_table_id", *ROUTE_RESOURCE_DESTINATIONS, *ROUTE_TARGETS),
    "aws_route_table_association": ("route_table_id", "subnet_id", "gateway_id"),
    "aws_main_route_table_association": ("vpc_id", "route_table_id"),
    "aws_internet_gateway": ("vpc_id",),
    "aws_nat_gateway": ("subnet_id",),
    "aws_vpc_peering_connection": ("vpc_id", "peer_vpc_id"),
    "aws_vpc_peering_connection_accepter": ("vpc_peering_connection_id",),
    "aws_ec2_transit_gateway": (),
    "aws_ec2_transit_gateway_vpc_attachment": ("vpc_id", "transit_gateway_id"),
    "aws_ec2_transit_gateway_route_table": ("transit_gateway_id",),
    "aws_ec2_transit_gateway_route": (
        "transit_gateway_route_table_id",
        "destination_cidr_block",
        "transit_gateway_attachment_id",
    ),
    "aws_ec2_transit_gateway_route_table_association": (
        "transit_gateway_route_table_id",
        "transit_gateway_attachment_id",
    ),
    "aws_ec2_transit_gateway_route_table_propagation": (
        "transit_gateway_route_table_id",
        "transit_gateway_attachment_id",
    ),
    "aws_vpc_endpoint": ("vpc_id", "service_name", "route_table_ids"),
    "aws_vpc_endpoint_route_table_association": ("vpc_endpoint_id", "route_table_id"),
    "aws_vpc_endpoint_service": ("acceptance_required", "allowed_principals"),
    "aws_flow_log": ("vpc_id", "subnet_id", "transit_gateway_id", "transit_gateway_attachment_id"),
    "aws_ec2_managed_prefix_list": ("entry",),
    "aws_ec2_client_vpn_endpoint": ("vpc_id",),
    "aws_ec2_client_vpn_authorization_rule": ("client_vpn_endpoint_id", "target_network_cidr"),
}
# Attributes whose unknown says nothing by itself: AWS computes them even when unused
# (a new VPC's ``ipv6_cidr_block`` is unknown with no IPv6 asked for). They count only
# when the configuration asks for them, which ``_asked`` decides.
_CONDITIONAL = {("aws_vpc", "ipv6_cidr_block"): ("assign_generated_ipv6_cidr_block", "ipv6_ipam_pool_id")}

ACTIONS = {
    ("create",): "create",
    ("update",): "update",
    ("delete",): "delete",
    ("no-op",): "no-op",
    ("forget",): "no-op",  # removed from state, left in place: the network does not change
    ("delete", "create"): "replace",
    ("create", "delete"): "replace",
}


class PlanError(ValueError):
    """Input that is not a plan vpcwatch can read; the message says why."""


@dataclass(frozen=True)
class Unknown:
    """An attribute vpcwatch needs that is known only after apply."""

    address: str
    attribute: str

    def to_dict(self) -> dict[str, str]:
        return {"address": self.address, "attribute": self.attribute}


@dataclass(frozen=True)
class PlannedChange:
    address: str
    type: str
    action: str  # create | update | delete | replace | no-op
    before: Mapping[str, Any] | None
    # ``after`` with each unknown attribute that references planned resources replaced by
    # their addresses (``aws_vpc.app``, or ``aws_vpc.app.default_route_table_id`` for a
    # resource AWS creates with it); attributes still unknown are absent.
    after: Mapping[str, Any] | None
    unknown: tuple[str, ...] = ()  # read attributes still unknown (``route[0].nat_gateway_id``)
    region: str | None = None

    @property
    def before_id(self) -> str | None:
        value = (self.before or {}).get("id")
        return value if isinstance(value, str) and value else None

    @property
    def after_id(self) -> str:
        """The id after apply: known (an update keeps its id), else the address."""
        value = (self.after or {}).get("id")
        if isinstance(value, str) and value:
            return value
        if self.action == "update" and self.before_id:
            return self.before_id
        return self.address


@dataclass(frozen=True)
class Plan:
    format_version: str
    terraform_version: str
    changes: tuple[PlannedChange, ...]  # of the applied types, in plan order
    ignored: tuple[str, ...]  # addresses of managed resources of types no check reads
    managed: Mapping[str, str] = field(default_factory=dict)  # live id -> address
    unknown: tuple[Unknown, ...] = ()

    @property
    def account_id(self) -> str | None:
        """The account the plan's existing resources belong to (``owner_id`` or their ARN),
        for an offline run; None when nothing in the plan says."""
        for change in self.changes:
            for values in (change.before, change.after):
                if not values:
                    continue
                owner = values.get("owner_id")
                if isinstance(owner, str) and re.fullmatch(r"\d{12}", owner):
                    return owner
                match = _ARN_ACCOUNT.match(str(values.get("arn") or ""))
                if match:
                    return match.group(1)
        return None

    def regions(self, default: Sequence[str]) -> tuple[str, ...]:
        """The regions the plan's resources live in; those with no region of their own
        fall to ``default`` (``--region``, else the session's)."""
        found = {c.region for c in self.changes if c.region}
        if any(c.region is None for c in self.changes) or not found:
            found.update(default)
        return tuple(sorted(found))


# ---------------------------------------------------------------------------------
# Reading
# ---------------------------------------------------------------------------------


def load_plan(text: str, *, strict_version: bool = True) -> Plan:
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise PlanError(f"not JSON: {exc}") from None
    return read_plan(doc, strict_version=strict_version)


def read_plan(doc: Any, *, strict_version: bool = True) -> Plan:
    """The plan of ``terraform show -json``. ``strict_version=False`` also reads the 0.x
    formats (same shape; tests use it on real 0.12 plans), which the CLI refuses."""
    if not isinstance(doc, dict) or "format_version" not in doc:
        raise PlanError("not a Terraform JSON document (no format_version): expected `terraform show -json PLANFILE`")
    if "resource_changes" not in doc and "planned_values" not in doc:
        what = "a state, not a plan" if "values" in doc else "not a plan (no resource_changes, no planned_values)"
        raise PlanError(f"{what}: expected `terraform show -json PLANFILE` of a saved plan")
    version = str(doc["format_version"])
    if strict_version and version.split(".")[0] != SUPPORTED_MAJOR:
        raise PlanError(
            f"unsupported plan format_version {version} (Terraform {doc.get('terraform_version', '?')}): "
            f"vpcwatch reads format_version 1.x, written by Terraform 1.1 and later"
        )
    if doc.get("errored") is True:
        raise PlanError("the plan errored (`errored: true`): fix the plan first")
    config = _Config(doc)
    raw = [rc for rc in doc.get("resource_changes") or [] if isinstance(rc, dict) and rc.get("mode") == "managed"]
    instances = _Instances(raw)
    changes: list[PlannedChange] = []
    ignored: list[str] = []
    managed: dict[str, str] = dict(_prior_state_ids(doc.get("prior_state")))
    for rc in raw:
        address, rtype = str(rc["address"]), str(rc["type"])
        change = rc.get("change") or {}
        actions = tuple(change.get("actions") or ())
        action = ACTIONS.get(actions)
        if action is None:
            continue  # read (data sources), or an action a future Terraform adds
        before = change.get("before")
        if isinstance(before, dict) and isinstance(before.get("id"), str):
            managed[before["id"]] = address
        if rtype not in APPLIED_TYPES:
            ignored.append(address)  # no check reads it (a VPN gateway is still a route's target)
            continue
        after, unknown = _resolve_after(rc, config, instances) if action != "delete" else (None, ())
        if isinstance(after, dict) and isinstance(after.get("id"), str):
            managed[after["id"]] = address
        changes.append(
            PlannedChange(
                address=address,
                type=rtype,
                action=action,
                before=before if isinstance(before, dict) else None,
                after=after,
                unknown=unknown,
                region=_region(rc, before, after, config),
            )
        )
    return Plan(
        format_version=version,
        terraform_version=str(doc.get("terraform_version", "")),
        changes=tuple(changes),
        ignored=tuple(ignored),
        managed=managed,
        unknown=tuple(Unknown(c.address, a) for c in changes for a in c.unknown),
    )


def _prior_state_ids(prior: Any) -> Iterator[tuple[str, str]]:
    """(id, address) of every managed resource in ``prior_state`` (modules included)."""
    if not isinstance(prior, dict):
        return
    stack = [(prior.get("values") or {}).get("root_module") or {}]
    while stack:
        module = stack.pop()
        for resource in module.get("resources") or []:
            values = resource.get("values") or {}
            if resource.get("mode") == "managed" and isinstance(values.get("id"), str):
                yield values["id"], str(resource["address"])
        stack.extend(module.get("child_modules") or [])


# ---------------------------------------------------------------------------------
# Addresses and configuration
# ---------------------------------------------------------------------------------

_SEGMENT = re.compile(r'\.?([A-Za-z_][\w-]*)(\[(?:"(?:[^"\\]|\\.)*"|\d+|\*)\])?')


def split_reference(ref: str) -> list[tuple[str, str | None]]:
    """'module.net["a"].aws_vpc.main[0].id' -> [('module', None), ('net', '"a"'), ('aws_vpc', None),
    ('main', '0'), ('id', None)]: names with their index key as written (no brackets)."""
    parts = []
    pos = 0
    while pos < len(ref):
        match = _SEGMENT.match(ref, pos)
        if match is None or match.end() == pos:
            break
        index = match.group(2)
        parts.append((match.group(1), index[1:-1] if index else None))
        pos = match.end()
    return parts


def _index_key(value: Any) -> str | None:
    """A change's ``index`` as written in its address: 0 -> '0', 'ssm' -> '"ssm"'."""
    if value is None:
        return None
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, int):
        return str(value)
    return json.dumps(str(value))


class _Instances:
    """Planned instances by (module instance address, 'type.name')."""

    def __init__(self, raw: Iterable[Mapping[str, Any]]) -> None:
        self.by_base: dict[tuple[str, str], list[tuple[str | None, str]]] = {}
        self.change_by_address: dict[str, Mapping[str, Any]] = {}
        for rc in raw:
            module = str(rc.get("module_address") or "")
            base = f"{rc['type']}.{rc['name']}"
            self.by_base.setdefault((module, base), []).append((_index_key(rc.get("index")), str(rc["address"])))
            self.change_by_address[str(rc["address"])] = rc

    def pick(self, module: str, base: str, index: str | None, same_index: str | None, paired: bool) -> list[str]:
        found = self.by_base.get((module, base), [])
        if index is not None:
            return [a for i, a in found if i == index]
        if paired and same_index is not None:
            matched = [a for i, a in found if i == same_index]
            if matched:
                return matched
        return [a for _, a in found]


class _Config:
    def __init__(self, doc: Mapping[str, Any]) -> None:
        self.doc = doc
        configuration = doc.get("configuration") or {}
        self.root = configuration.get("root_module") or {}
        self.providers = configuration.get("provider_config") or {}
        self.variables = doc.get("variables") or {}

    def module_config(self, module_address: str) -> Mapping[str, Any] | None:
        """The configuration block of a module instance address ('' for the root)."""
        module: Mapping[str, Any] = self.root
        parts = split_reference(module_address)
        for (keyword, _), (call, _) in zip(parts[::2], parts[1::2], strict=False):
            if keyword != "module":
                return None
            module = ((module.get("module_calls") or {}).get(call) or {}).get("module") or {}
        return module

    def resource_config(self, module_address: str, base: str) -> Mapping[str, Any] | None:
        module = self.module_config(module_address)
        if module is None:
            return None
        return next((r for r in module.get("resources") or [] if r.get("address") == base), None)

    def region_of_provider(self, key: str) -> str | None:
        provider = self.providers.get(key) or self.providers.get(key.split(":")[-1]) or self.providers.get("aws")
        expression = ((provider or {}).get("expressions") or {}).get("region") or {}
        if isinstance(expression.get("constant_value"), str):
            return str(expression["constant_value"])
        for ref in expression.get("references") or []:
            parts = split_reference(ref)
            if len(parts) >= 2 and parts[0][0] == "var":
                value = (self.variables.get(parts[1][0]) or {}).get("value")
                if isinstance(value, str):
                    return value
        return None


def _parent(module_address: str) -> tuple[str, str] | None:
    """'module.a.module.b["x"]' -> ('module.a', 'b'); None at the root."""
    parts = split_reference(module_address)
    if len(parts) < 2:
        return None
    head = parts[:-2]
    parent = "".join(
        (f".{name}" if n else name) + (f"[{index}]" if index is not None else "")
        for n, (name, index) in enumerate(head)
    )
    return parent, parts[-1][0]


def _references(expression: Any) -> list[str]:
    """Every reference in an expression, nested blocks included."""
    found: list[str] = []
    if isinstance(expression, dict):
        found.extend(str(r) for r in expression.get("references") or [])
        for key, value in expression.items():
            if key not in ("references", "constant_value"):
                found.extend(_references(value))
    elif isinstance(expression, list):
        for item in expression:
            found.extend(_references(item))
    return found


_PAIRING = ("count.index", "each.key", "each.value")


@dataclass(frozen=True)
class _Target:
    address: str
    attribute: str | None  # the attribute referenced, when not the id


def _resolve_refs(
    refs: Sequence[str], module: str, same_index: str | None, config: _Config, instances: _Instances, depth: int = 0
) -> list[_Target]:
    """The planned resources a list of references names, in the module instance ``module``."""
    if depth > 8:  # a cycle of module outputs (not valid Terraform, but never loop)
        return []
    paired = any(r in _PAIRING or r.startswith(("each.", "count.")) for r in refs)
    found: dict[str, _Target] = {}
    for ref in refs:
        parts = split_reference(ref)
        if len(parts) < 2:
            continue
        head = parts[0][0]
        targets: list[_Target] = []
        if head == "var":
            parent = _parent(module)
            if parent is not None:  # a module input: resolve its expression in the caller
                caller, call = parent
                call_config = ((config.module_config(caller) or {}).get("module_calls") or {}).get(call) or {}
                expression = (call_config.get("expressions") or {}).get(parts[1][0])
                targets = _resolve_refs(_references(expression), caller, None, config, instances, depth + 1)
        elif head == "module":
            call, key = parts[1]
            inner = f"{module + '.' if module else ''}module.{call}"
            candidates = [m for (m, _) in instances.by_base if m == inner or m.startswith(inner + "[")]
            if key is not None:
                inner = f"{inner}[{key}]"
            elif len(set(candidates)) == 1:
                inner = candidates[0]
            if len(parts) >= 3:
                outputs = (config.module_config(inner) or {}).get("outputs") or {}
                expression = (outputs.get(parts[2][0]) or {}).get("expression")
                targets = _resolve_refs(_references(expression), inner, None, config, instances, depth + 1)
        elif head in ("data", "local", "path", "count", "each", "self", "terraform"):
            continue  # known at plan time, or not a resource
        else:
            (rtype, _), (name, index) = parts[0], parts[1]
            attribute = parts[2][0] if len(parts) > 2 else None
            for address in instances.pick(module, f"{rtype}.{name}", index, same_index, paired):
                targets.append(_Target(address, attribute))
        for target in targets:
            known = found.get(target.address)
            if known is None or (known.attribute is None and target.attribute is not None):
                found[target.address] = target  # the attribute-specific form wins (1.x lists both)
    return list(found.values())


def _target_type(address: str, instances: _Instances) -> str:
    return str(instances.change_by_address[address]["type"])


# Attributes that name a table, which a VPC or a TGW stands for only through the attribute
# of the table AWS creates with it (``aws_vpc.main.default_route_table_id``).
_TABLE_ATTRS = frozenset(
    {"route_table_id", "route_table_ids", "default_route_table_id", "transit_gateway_route_table_id"}
)
_TABLE_OWNERS = frozenset({"aws_vpc", "aws_ec2_transit_gateway"})


def _value_for(target: _Target, instances: _Instances, table: bool) -> str | None:
    """What a reference resolves to: the target's id when it is known, else its address;
    for a table attribute, the implicit table of a VPC or TGW (its id when known, else
    ``<address>.<attribute>``). None when the target cannot stand for the attribute."""
    after = (instances.change_by_address[target.address].get("change") or {}).get("after") or {}
    implicit = IMPLICIT_ATTRS.get(target.attribute or "")
    if _target_type(target.address, instances) in _TABLE_OWNERS and table:
        if implicit is None:
            return None
        known = after.get(target.attribute or "")
        return known if isinstance(known, str) and known else f"{target.address}.{implicit}"
    known_id = after.get("id")
    return known_id if isinstance(known_id, str) and known_id else target.address


def _candidates(
    attr: str, expression: Any, module: str, same_index: str | None, config: _Config, instances: _Instances
) -> list[str]:
    targets = _resolve_refs(_references(expression), module, same_index, config, instances)
    wanted = ATTR_TARGETS.get(attr)
    if wanted is not None:
        targets = [t for t in targets if _target_type(t.address, instances) in wanted]
    values = (_value_for(t, instances, attr in _TABLE_ATTRS) for t in targets)
    return list(dict.fromkeys(v for v in values if v is not None))


# Attributes AWS allocates when the configuration leaves them out (an IPAM pool's CIDR).
_ALLOCATED = frozenset({"cidr_block", "ipv6_cidr_block"})


def _sole_in_module(attr: str, expression: Any, module: str, instances: _Instances) -> list[str]:
    """A value that reaches the attribute through ``local.*`` only: locals are not in the
    plan's JSON, so the reference chain breaks there. The attribute is unknown, so it comes
    from a resource planned in this run; when the module instance plans exactly one
    resource of the type the attribute points at (terraform-aws-modules/vpc's
    ``local.vpc_id`` and its one ``aws_vpc.this``), that is the one. Anything else stays
    unknown."""
    refs = _references(expression)
    wanted = ATTR_TARGETS.get(attr)
    if not refs or wanted is None or not all(r.startswith("local.") for r in refs if not r.startswith("count.")):
        return []
    found = [
        address
        for (m, _), entries in instances.by_base.items()
        if m == module
        for _, address in entries
        if _target_type(address, instances) in wanted
    ]
    if len(found) != 1:
        return []
    target = instances.change_by_address[found[0]]
    known = ((target.get("change") or {}).get("after") or {}).get("id")
    return [known if isinstance(known, str) and known else found[0]]


def _asked(rtype: str, attr: str, after: Mapping[str, Any]) -> bool:
    triggers = _CONDITIONAL.get((rtype, attr))
    return triggers is None or any(after.get(t) not in (None, False, "") for t in triggers)


def _resolve_after(
    rc: Mapping[str, Any], config: _Config, instances: _Instances
) -> tuple[dict[str, Any], tuple[str, ...]]:
    rtype = str(rc["type"])
    change = rc.get("change") or {}
    after: dict[str, Any] = dict(change.get("after") or {})
    unknown_map = change.get("after_unknown") or {}
    if not isinstance(unknown_map, dict):
        unknown_map = {}
    module = str(rc.get("module_address") or "")
    same_index = _index_key(rc.get("index"))
    resource_config = config.resource_config(module, f"{rtype}.{rc['name']}") or {}
    expressions = resource_config.get("expressions") or {}
    unknown: list[str] = []

    for attr in READ_ATTRS.get(rtype, ()):
        if unknown_map.get(attr) is not True:
            continue
        if not _asked(rtype, attr, after):
            continue
        expression = expressions.get(attr)
        if expression is None and resource_config and attr not in _ALLOCATED:
            after.pop(attr, None)  # an optional attribute the configuration does not set
            continue
        values = _candidates(attr, expression, module, same_index, config, instances)
        if not values:
            values = _sole_in_module(attr, expression, module, instances)
        if attr in LIST_ATTRS and values:
            after[attr] = values
        elif len(values) == 1 and attr not in ("cidr_block", "ipv6_cidr_block"):
            after[attr] = values[0]
        else:
            after.pop(attr, None)
            unknown.append(attr)
    if rtype in ("aws_route_table", "aws_default_route_table"):
        unknown += _resolve_inline_routes(after, unknown_map, expressions, module, same_index, config, instances)
    if rtype == "aws_ec2_transit_gateway_vpc_attachment" and unknown_map.get("subnet_ids") is True:
        after["subnet_ids"] = _candidates(
            "subnet_ids", expressions.get("subnet_ids"), module, same_index, config, instances
        )
    return after, tuple(unknown)


def _resolve_inline_routes(
    after: dict[str, Any],
    unknown_map: Mapping[str, Any],
    expressions: Mapping[str, Any],
    module: str,
    same_index: str | None,
    config: _Config,
    instances: _Instances,
) -> list[str]:
    """Inline ``route`` blocks: each element's unknown target comes from the references of
    that element's expression (static blocks) or of the whole ``route`` expression (a
    dynamic block or a list), filtered by the target's type."""
    routes_unknown = unknown_map.get("route")
    expression = expressions.get("route")
    if routes_unknown is True:
        after.pop("route", None)  # computed: the routes are separate aws_route resources
        return ["route"] if expression is not None else []
    if not isinstance(routes_unknown, list):
        return []
    routes = [dict(r) for r in after.get("route") or []]
    unknown: list[str] = []
    for n, element_unknown in enumerate(routes_unknown):
        if n >= len(routes) or not isinstance(element_unknown, dict):
            continue
        for attr, flag in element_unknown.items():
            if flag is not True or attr not in (*ROUTE_TARGETS, *ROUTE_DESTINATIONS):
                continue
            element_expression: Any = expression
            if isinstance(expression, list) and n < len(expression) and isinstance(expression[n], dict):
                element_expression = expression[n].get(attr)
            values = _candidates(attr, element_expression, module, same_index, config, instances)
            if len(values) == 1 and attr in ROUTE_TARGETS:
                routes[n][attr] = values[0]
            else:
                routes[n][attr] = ""
                unknown.append(f"route[{n}].{attr}")
    after["route"] = routes
    return unknown


_ARN_ACCOUNT = re.compile(r"^arn:[\w-]+:[\w-]+:[\w-]*:(\d{12}):")
_ARN_REGION = re.compile(r"^arn:[\w-]+:[\w-]+:([a-z]{2,4}(?:-[a-z]+)+-\d+):")


def _region(rc: Mapping[str, Any], before: Any, after: Mapping[str, Any] | None, config: _Config) -> str | None:
    """The region a resource lives in: its own ``region`` (AWS provider 6), its ARN, then
    its provider's configured region; None when the plan does not say."""
    for values in (after, before):
        if isinstance(values, dict):
            if isinstance(values.get("region"), str) and values["region"]:
                return str(values["region"])
            match = _ARN_REGION.match(str(values.get("arn") or ""))
            if match:
                return match.group(1)
    resource_config = config.resource_config(str(rc.get("module_address") or ""), f"{rc['type']}.{rc['name']}")
    key = str((resource_config or {}).get("provider_config_key") or "aws")
    return config.region_of_provider(key)
