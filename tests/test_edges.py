"""A decision's codes are spelled in one place.

(That the edges import no module of services is import-linter's contract,
tests/test_layers.py.)
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

from services.assigner.engine.reasons import Reason

ROOT = Path(__file__).resolve().parents[1]
REASONS = ROOT / "services" / "assigner" / "engine" / "reasons.py"


def _sources(*folders: str) -> Iterator[Path]:
    for folder in folders:
        for path in sorted((ROOT / folder).rglob("*.py")):
            if not path.name.endswith(("_pb2.py", "_pb2_grpc.py")):
                yield path


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
