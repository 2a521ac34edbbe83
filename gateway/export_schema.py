"""Writes the GraphQL schema to schema.graphql: `python -m gateway.export_schema`."""

from __future__ import annotations

from pathlib import Path

from strawberry.printer import print_schema

from gateway.schema import schema

SCHEMA_FILE = Path(__file__).resolve().parent.parent / "schema.graphql"


def main() -> None:
    SCHEMA_FILE.write_text(print_schema(schema).strip() + "\n")


if __name__ == "__main__":
    main()
