"""The README's shell blocks, read the way a person copies them."""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path
from typing import Any

README = Path(__file__).resolve().parent.parent / "README.md"
FENCE = re.compile(r"^```(\w*)\n(.*?)^```", re.DOTALL | re.MULTILINE)


def shell_blocks(text: str | None = None) -> list[str]:
    """Every ```sh block of the README, in order."""
    source = README.read_text(encoding="utf-8") if text is None else text
    return [m.group(2) for m in FENCE.finditer(source) if m.group(1) == "sh"]


def commands(block: str) -> list[str]:
    """A block's commands: continuation lines joined, comments dropped."""
    joined = block.replace("\\\n", " ")
    out = []
    for line in joined.splitlines():
        words = shlex.split(line, comments=True)
        if words:
            out.append(line.strip())
    return out


def graphql_payload(containing: str) -> dict[str, Any]:
    """The JSON body of the README's one curl command whose body names
    `containing` (a mutation's name, say)."""
    found = []
    for block in shell_blocks():
        for command in commands(block):
            words = shlex.split(command, comments=True)
            if words[0] != "curl" or "-d" not in words:
                continue
            body = words[words.index("-d") + 1]
            if containing in body:
                found.append(json.loads(body))
    assert len(found) == 1, f"README: {len(found)} curl bodies with {containing!r}"
    payload: dict[str, Any] = found[0]
    return payload


def heredoc(containing: str) -> str:
    """The text a README command that names `containing` feeds on its standard
    input (`<<'EOF'` … `EOF`)."""
    found = []
    for block in shell_blocks():
        lines = block.splitlines()
        for number, line in enumerate(lines):
            if containing in line and "<<'EOF'" in line:
                end = lines.index("EOF", number + 1)
                found.append("\n".join(lines[number + 1 : end]) + "\n")
    assert len(found) == 1, f"README: {len(found)} here-documents for {containing!r}"
    return found[0]
