"""The setup in force written as a workspace file that applies back with no change."""

from __future__ import annotations

from typing import Any

import yaml

from leadrouter.workspace import Workspace


class _Dumper(yaml.SafeDumper):
    """Block style for the file's outline, flow style for small leaf mappings."""

    def increase_indent(self, flow: bool = False, indentless: bool = False) -> Any:
        return super().increase_indent(flow, False)  # lists indented under their key


def workspace_yaml(ws: Workspace, header: str = "") -> str:
    """`ws` as workspace YAML; every setting that is not at its default is written.

    Ids and required settings are always written. A reader that applies
    this file to the account it came from changes nothing.
    """
    data = ws.model_dump(mode="json", by_alias=True, exclude_defaults=True)
    # The account block is written whole: its id keeps the file to its account.
    data["account"] = {"id": ws.account.id, "timezone": ws.account.timezone}
    if ws.account.id is None:
        del data["account"]["id"]
    order = ("account", "users", "pipelines", "groups", "schedules", "templates")
    body = yaml.dump(
        {k: data[k] for k in order if k in data},
        Dumper=_Dumper,
        default_flow_style=None,
        allow_unicode=True,
        sort_keys=False,
        width=88,
    )
    lines = [f"# {line}".rstrip() for line in header.splitlines()]
    return "\n".join(lines) + ("\n" if lines else "") + body
