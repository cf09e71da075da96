"""Rewrites references to the flat chalicelib modules to the layered paths (issue 10).

Run on a branch made before the layers landed: `python wip/relayer.py FILE...` rewrites
dotted module names (imports, `python -m`, patch targets) and slash paths in docs/comments.
Idempotent: a name already moved is not moved again."""

from __future__ import annotations

import re
import sys
from pathlib import Path

# old dotted module -> new dotted module (longest first where one is a prefix of another)
MOVES: tuple[tuple[str, str], ...] = (
    ("chalicelib.plan.command", "chalicelib.cli.plan"),
    ("chalicelib.plan.render", "chalicelib.render.plan"),
    ("chalicelib.plan", "chalicelib.core.plan"),
    ("chalicelib.paths", "chalicelib.core.paths"),
    ("chalicelib.fixes", "chalicelib.core.fixes"),
    ("chalicelib.intents", "chalicelib.core.intents"),
    ("chalicelib.paths_api", "chalicelib.service.paths_api"),
    ("chalicelib.collect.session", "chalicelib.aws.session"),
    ("chalicelib.collect", "chalicelib.aws.collect"),
    ("chalicelib.model", "chalicelib.core.model"),
    ("chalicelib.netmath", "chalicelib.core.netmath"),
    ("chalicelib.states", "chalicelib.core.states"),
    ("chalicelib.actions", "chalicelib.core.actions"),
    ("chalicelib.policy", "chalicelib.core.policy"),
    ("chalicelib.audit", "chalicelib.core.audit"),
    ("chalicelib.settling", "chalicelib.core.settling"),
    ("chalicelib.checks", "chalicelib.core.checks"),
    ("chalicelib.events", "chalicelib.core.events"),
    ("chalicelib.accounts", "chalicelib.aws.accounts"),
    ("chalicelib.store", "chalicelib.aws.store"),
    ("chalicelib.notify", "chalicelib.aws.publish.notify"),
    ("chalicelib.securityhub", "chalicelib.aws.publish.securityhub"),
    ("chalicelib.settings", "chalicelib.aws.settings"),
    ("chalicelib.service", "chalicelib.service.pipelines"),
    ("chalicelib.api", "chalicelib.service.api"),
    ("chalicelib.demo", "vpcwatch_tools.demo"),
    ("chalicelib.lab", "vpcwatch_tools.lab"),
    ("chalicelib.devserver", "vpcwatch_tools.devserver"),
    ("chalicelib.provision", "vpcwatch_tools.provision"),
    ("chalicelib.infra", "vpcwatch_tools.infra"),
    ("chalicelib.docs", "vpcwatch_tools.docs"),
)
# `from chalicelib import X` -> `from <package> import X`
FROM_IMPORTS = {
    "actions": "chalicelib.core",
    "audit": "chalicelib.core",
    "netmath": "chalicelib.core",
    "model": "chalicelib.core",
    "policy": "chalicelib.core",
    "states": "chalicelib.core",
    "events": "chalicelib.core",
    "settling": "chalicelib.core",
    "checks": "chalicelib.core",
    "fixes": "chalicelib.core",
    "notify": "chalicelib.aws.publish",
    "securityhub": "chalicelib.aws.publish",
    "store": "chalicelib.aws",
    "accounts": "chalicelib.aws",
    "settings": "chalicelib.aws",
    "api": "chalicelib.service",
    "lab": "vpcwatch_tools",
    "demo": "vpcwatch_tools",
    "infra": "vpcwatch_tools",
    "provision": "vpcwatch_tools",
}


def rewrite(text: str) -> str:
    for old, new in MOVES:
        # not already moved (chalicelib.service.pipelines must not become ...pipelines.pipelines)
        text = re.sub(rf"(?<![\w.]){re.escape(old)}(?![\w])(?!\.(?:pipelines|api)\b)", new, text)
        old_path, new_path = old.replace(".", "/"), new.replace(".", "/")
        text = re.sub(rf"(?<![\w/]){re.escape(old_path)}(\.py|/)", rf"{new_path}\1", text)
    text = re.sub(r"(?<![\w/])chalicelib/aws/collect/session\.py", "chalicelib/aws/session.py", text)

    def from_import(match: re.Match[str]) -> str:
        name = match.group(1)
        return f"from {FROM_IMPORTS[name]} import {name}" if name in FROM_IMPORTS else match.group(0)

    return re.sub(r"from chalicelib import (\w+)", from_import, text)


if __name__ == "__main__":
    for name in sys.argv[1:]:
        path = Path(name)
        before = path.read_text()
        after = rewrite(before)
        if after != before:
            path.write_text(after)
            print("rewrote", name)
