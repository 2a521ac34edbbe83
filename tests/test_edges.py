"""The edges know no internals, and a decision's codes are spelled in one place.

`gateway/` and `leadrouter/` talk to the services over gRPC only: an import
of a module of `services/` there would let a rule live on both sides of the
wire (architecture.md, "Paths that must stay short"). The one way in is the
serve entry point, which starts a service by its name.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

from services.assigner.engine.reasons import Reason

ROOT = Path(__file__).resolve().parents[1]
ENTRY_POINTS = {ROOT / "leadrouter" / "serve.py"}
REASONS = ROOT / "services" / "assigner" / "engine" / "reasons.py"


def _sources(*folders: str) -> Iterator[Path]:
    for folder in folders:
        for path in sorted((ROOT / folder).rglob("*.py")):
            if not path.name.endswith(("_pb2.py", "_pb2_grpc.py")):
                yield path


def _imports(path: Path) -> Iterator[tuple[int, str]]:
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            yield from ((node.lineno, a.name) for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            yield node.lineno, node.module


def test_gateway_and_leadrouter_import_no_module_of_services() -> None:
    found = [
        f"{path.relative_to(ROOT)}:{line}: {name}"
        for path in _sources("gateway", "leadrouter")
        if path not in ENTRY_POINTS
        for line, name in _imports(path)
        if name == "services" or name.startswith("services.")
    ]
    assert found == []


def test_the_assigner_spells_a_reason_code_only_in_its_enum() -> None:
    """A code written out as text elsewhere could drift from the journal's."""
    codes = {r.value for r in Reason} - {"limit", "disabled"}  # also plain words
    found = [
        f"{path.relative_to(ROOT)}:{node.lineno}: {node.value!r}"
        for path in _sources("services/assigner")
        if path != REASONS
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if isinstance(node, ast.Constant) and node.value in codes
    ]
    assert found == []
