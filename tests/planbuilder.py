"""Hand-built ``terraform show -json`` plans, shaped as Terraform 1.x writes them.

``create`` marks every attribute given in ``refs`` unknown (as Terraform does for a value
that points at a planned resource) and writes the 1.x reference pair (``aws_vpc.app.id``,
``aws_vpc.app``) into the configuration; ``existing`` is a resource already in state
(no-op, update, delete or replace) with its ``before`` values.
"""

from __future__ import annotations

import copy
import json
from typing import Any

from chalicelib.core.plan.reader import split_reference

PROVIDER = "registry.terraform.io/hashicorp/aws"
IMPLICIT = ("default_route_table_id", "main_route_table_id", "association_default_route_table_id")


def address_of(rtype: str, name: str, index: int | str | None = None, module: str = "") -> str:
    key = "" if index is None else f"[{index}]" if isinstance(index, int) else f"[{json.dumps(index)}]"
    return f"{module + '.' if module else ''}{rtype}.{name}{key}"


class PlanBuilder:
    def __init__(
        self,
        region: str | None = "us-east-1",
        terraform_version: str = "1.9.8",
        format_version: str = "1.2",
    ) -> None:
        self.region = region
        self.terraform_version = terraform_version
        self.format_version = format_version
        self.changes: list[dict[str, Any]] = []
        self.config: dict[str, dict[str, dict[str, Any]]] = {}  # module -> base address -> config
        self.prior: list[dict[str, Any]] = []

    def _config(self, rtype: str, name: str, module: str) -> dict[str, Any]:
        resources = self.config.setdefault(module, {})
        return resources.setdefault(
            f"{rtype}.{name}",
            {
                "address": f"{rtype}.{name}",
                "mode": "managed",
                "type": rtype,
                "name": name,
                "provider_config_key": "aws",
                "expressions": {},
                "schema_version": 0,
            },
        )

    def _change(
        self,
        rtype: str,
        name: str,
        actions: list[str],
        before: dict[str, Any] | None,
        after: dict[str, Any] | None,
        unknown: dict[str, Any],
        index: int | str | None,
        module: str,
    ) -> str:
        address = address_of(rtype, name, index, module)
        change: dict[str, Any] = {
            "address": address,
            "mode": "managed",
            "type": rtype,
            "name": name,
            "provider_name": PROVIDER,
            "change": {"actions": actions, "before": before, "after": after, "after_unknown": unknown},
        }
        if module:
            change["module_address"] = module
        if index is not None:
            change["index"] = index
        self.changes.append(change)
        return address

    def create(
        self,
        rtype: str,
        name: str,
        after: dict[str, Any] | None = None,
        *,
        refs: dict[str, str | list[str]] | None = None,
        unknown: dict[str, Any] | None = None,
        index: int | str | None = None,
        module: str = "",
        paired: bool = False,
    ) -> str:
        """A planned resource. ``refs`` maps an attribute to the address(es) it references
        (unknown until apply); ``paired`` adds ``count.index`` to every reference list."""
        values = dict(after or {})
        after_unknown: dict[str, Any] = {"id": True, "arn": True, **(unknown or {})}
        config = self._config(rtype, name, module)
        for attr, targets in (refs or {}).items():
            refs_list: list[str] = []
            for target in [targets] if isinstance(targets, str) else targets:
                base, _, attribute = target.rpartition(".")
                if attribute in IMPLICIT:  # aws_vpc.app.default_route_table_id
                    refs_list += [target, base]
                else:
                    refs_list += [f"{target}.id", target]
            if paired:
                refs_list.append("count.index")
            config["expressions"][attr] = {"references": list(dict.fromkeys(refs_list))}
            after_unknown[attr] = True
            values.pop(attr, None)
        for attr, value in values.items():
            config["expressions"].setdefault(attr, {"constant_value": value})
        return self._change(rtype, name, ["create"], None, values, after_unknown, index, module)

    def existing(
        self,
        rtype: str,
        name: str,
        before: dict[str, Any],
        *,
        action: str = "no-op",
        after: dict[str, Any] | None = None,
        index: int | str | None = None,
        module: str = "",
        in_prior_state: bool = True,
    ) -> str:
        """A resource already in state: no-op (after = before), update (after given),
        delete (after null) or replace (``delete,create``; the new one's id unknown)."""
        actions = {"no-op": ["no-op"], "update": ["update"], "delete": ["delete"], "replace": ["delete", "create"]}
        unknown: dict[str, Any] = {}
        new: dict[str, Any] | None
        if action == "delete":
            new = None
        elif action == "replace":
            new = {k: v for k, v in {**before, **(after or {})}.items() if k not in ("id", "arn")}
            unknown = {"id": True, "arn": True}
        else:
            new = copy.deepcopy(before) if after is None else {**before, **after}
        self._config(rtype, name, module)
        address = self._change(rtype, name, actions[action], before, new, unknown, index, module)
        if in_prior_state:
            self.prior.append({"address": address, "mode": "managed", "type": rtype, "name": name, "values": before})
        return address

    def references(self, rtype: str, name: str, attr: str, refs: list[str], module: str = "") -> None:
        """Set an expression's references as written (an inline block naming several targets)."""
        self._config(rtype, name, module)["expressions"][attr] = {"references": refs}

    def ignored(self, rtype: str, name: str) -> str:
        return self.create(rtype, name, {"description": "not read by any check"})

    def doc(self) -> dict[str, Any]:
        provider: dict[str, Any] = {"name": "aws", "full_name": PROVIDER}
        if self.region is not None:
            provider["expressions"] = {"region": {"constant_value": self.region}}

        root: dict[str, Any] = {"resources": []}
        for path, resources in self.config.items():
            block = root
            parts = split_reference(path)
            for (_, _), (call, _) in zip(parts[::2], parts[1::2], strict=False):
                calls = block.setdefault("module_calls", {})
                block = calls.setdefault(call, {"source": f"./modules/{call}", "module": {"resources": []}})["module"]
            block["resources"] = list(resources.values())

        doc: dict[str, Any] = {
            "format_version": self.format_version,
            "terraform_version": self.terraform_version,
            "planned_values": {"root_module": {}},
            "resource_changes": self.changes,
            "configuration": {"provider_config": {"aws": provider}, "root_module": root},
            "timestamp": "2026-11-26T03:00:00Z",
            "applyable": True,
            "complete": True,
            "errored": False,
        }
        if self.prior:
            doc["prior_state"] = {
                "format_version": "1.0",
                "terraform_version": self.terraform_version,
                "values": {"root_module": {"resources": self.prior}},
            }
        return doc

    def json(self) -> str:
        return json.dumps(self.doc())
