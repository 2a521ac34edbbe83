"""The committed contracts match the code: schema.graphql and the generated protos."""

from __future__ import annotations

import filecmp
from pathlib import Path

from strawberry.printer import print_schema

from gateway.schema import schema
from leadrouter.protogen import ROOT, generate, proto_files


def test_committed_schema_graphql_matches_the_code() -> None:
    committed = (ROOT / "schema.graphql").read_text()
    assert print_schema(schema).strip() == committed.strip(), (
        "schema.graphql is stale: run `make schema` and commit it"
    )


def test_generated_protos_are_current(tmp_path: Path) -> None:
    generate(tmp_path)
    stale = []
    for proto in proto_files():
        rel = proto.relative_to(ROOT / "proto").with_suffix("")
        for suffix in ("_pb2.py", "_pb2.pyi", "_pb2_grpc.py", "_pb2_grpc.pyi"):
            fresh = tmp_path / f"{rel}{suffix}"
            committed = ROOT / f"{rel}{suffix}"
            if not committed.exists() or not filecmp.cmp(
                fresh, committed, shallow=False
            ):
                stale.append(str(committed.relative_to(ROOT)))
    assert not stale, f"regenerate with `make protos`: {stale}"
