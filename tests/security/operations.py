"""Every root field of the published schema, and how to tell a clean answer from a leak.

The operation list is read from schema.graphql itself, so a field added to the
API without an entry in the security tests makes them fail.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from graphql import (
    GraphQLArgument,
    GraphQLInputType,
    GraphQLNamedType,
    GraphQLObjectType,
    build_schema,
    get_named_type,
    is_leaf_type,
)
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

SCHEMA_PATH = Path(__file__).parents[2] / "schema.graphql"
SCHEMA = build_schema(SCHEMA_PATH.read_text())


@dataclass(frozen=True)
class Operation:
    kind: str  # query | mutation | subscription
    name: str
    args: dict[str, GraphQLArgument]
    returns: GraphQLNamedType

    @property
    def key(self) -> str:
        return f"{self.kind}.{self.name}"

    def document(self, args: list[str] | None = None) -> str:
        """The field called with a variable for each argument named (default all)."""
        names = list(self.args) if args is None else args
        defs = ", ".join(f"${n}: {self.args[n].type}" for n in names)
        call = ", ".join(f"{n}: ${n}" for n in names)
        head = f"{self.kind}({defs})" if defs else self.kind
        field = f"{self.name}({call})" if call else self.name
        selection = "" if is_leaf_type(self.returns) else " { __typename }"
        return f"{head} {{ {field}{selection} }}"


def _root(kind: str, root: GraphQLObjectType | None) -> list[Operation]:
    if root is None:
        return []
    return [
        Operation(kind, name, dict(field.args), get_named_type(field.type))
        for name, field in root.fields.items()
    ]


OPERATIONS: list[Operation] = [
    *_root("query", SCHEMA.query_type),
    *_root("mutation", SCHEMA.mutation_type),
    *_root("subscription", SCHEMA.subscription_type),
]


def input_type(op: Operation, arg: str) -> GraphQLInputType:
    return op.args[arg].type


# What must never reach a client: stack traces, file paths, transport and
# database internals, or a masked crash.
LEAKS = re.compile(
    r"Traceback|File \"|\.py\b|/work/|/usr/|site-packages|grpc|StatusCode|"
    r"_pb2|protobuf|pydantic|sqlalchemy|sqlite|psycopg|postgres|INTERNAL_SERVER_ERROR|"
    r"Unexpected error|(?-i:\bSELECT\b.+\bFROM\b|\bINSERT INTO\b|\bUPDATE\b.+\bSET\b)",
    re.IGNORECASE,
)
CODES = {
    "BAD_USER_INPUT",
    "UNAUTHENTICATED",
    "FORBIDDEN",
    "NOT_FOUND",
    "UNAVAILABLE",
    "CONFLICT",
    "RATE_LIMITED",
    "GRAPHQL_VALIDATION_FAILED",
    "GRAPHQL_PARSE_FAILED",
}


def leak_problems(status: int, text: str, sent: Iterable[str] = ()) -> list[str]:
    """Why a response is not clean; text the caller sent may be echoed back."""
    problems = []
    if status >= 500:
        problems.append(f"HTTP {status}")
    scanned = text
    for echoed in sorted({s for s in sent if len(s) > 2}, key=len, reverse=True):
        scanned = scanned.replace(echoed, "")
    found = LEAKS.search(scanned)
    if found:
        problems.append(f"internal detail {found.group(0)!r}")
    return problems


def error_codes(body: dict[str, Any]) -> list[str]:
    return [
        str((e.get("extensions") or {}).get("code")) for e in body.get("errors") or []
    ]


def collect(strategy: st.SearchStrategy[Any], count: int) -> list[Any]:
    """`count` examples of a strategy, the same ones on every run."""
    drawn: list[Any] = []

    @settings(
        max_examples=count,
        derandomize=True,
        database=None,
        deadline=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(strategy)
    def draw(example: Any) -> None:
        drawn.append(example)

    draw()
    return drawn
