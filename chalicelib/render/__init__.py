"""Pure renderers: an AuditResult in, text out. One module per format."""

from __future__ import annotations

import json
from collections.abc import Callable

from chalicelib.core.audit import AuditResult
from chalicelib.render import asff, html, markdown, sarif, table


def render_json(result: AuditResult) -> str:
    return json.dumps(result.to_dict(), indent=2, sort_keys=False) + "\n"


RENDERERS: dict[str, Callable[[AuditResult], str]] = {
    "table": table.render,
    "json": render_json,
    "markdown": markdown.render,
    "sarif": sarif.render,
    "asff": asff.render,
    "html": html.render,
}
