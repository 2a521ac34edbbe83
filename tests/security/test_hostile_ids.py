"""Bad ids are bad input: every id argument of the API × a set of hostile ids.

The id positions are read from the schema: every argument of type ID (alone
or in a list) of every query and mutation, every ID field of their input
objects, and the cursors `after`/`before` (ids of a place in a list). An id
added to the API is covered without a change here. Each hostile id (too
long, not a number where the journal stores numbers, past 64 bits, control
characters, a lone surrogate, an unknown id of every script) goes into one
position at a time, the other arguments holding ordinary values; the answer
must be data, or only BAD_USER_INPUT / NOT_FOUND errors, never UNAVAILABLE
or an internal error, on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from graphql import (
    GraphQLEnumType,
    GraphQLInputObjectType,
    GraphQLInputType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLScalarType,
    get_named_type,
)
from hypothesis import strategies as st

from tests.security.operations import OPERATIONS, Operation, collect, leak_problems
from tests.security.seed import seed
from tests.stack import Stack

ALLOWED = {"BAD_USER_INPUT", "NOT_FOUND"}
HOSTILE = [
    "99999999999999999999999",  # a decision number past 64 bits
    "9223372036854775808",  # 2**63, one past the journal's counter
    "18446744073709551616",
    "-1",
    "0",
    "1.5",
    "1e9",
    "0x10",
    " 1",
    "١٢٣",  # digits, but not ASCII ones
    "abc",
    "",
    " ",
    "a" * 201,  # one past the longest id
    "x" * 100_000,
    "\x00",
    "L00\x00",
    "main\n",
    "\udc80",  # a lone surrogate: no UTF-8 text at all
    "😀",
    "\u202emain",
    "' OR 1=1 --",
    "%00",
    "../../etc/passwd",
    "ZDoxMA==",  # a cursor of the journal, given as an id
]
# More of the same kinds, drawn by hypothesis (the same ones on every run).
DRAWN = collect(
    st.one_of(
        st.integers(min_value=2**63, max_value=10**40).map(str),
        st.integers(max_value=-1).map(str),
        st.text(min_size=201, max_size=400),
        st.text(alphabet=st.characters(max_codepoint=31), min_size=1, max_size=8),
        st.text(max_size=30),
    ),
    25,
)


@dataclass(frozen=True)
class Position:
    """Where an id goes: an argument, or a field of an input-object argument."""

    op: Operation
    arg: str
    field: str = ""
    is_list: bool = False

    def __str__(self) -> str:
        return f"{self.op.key}({self.arg}{'.' + self.field if self.field else ''})"


def _is_id(kind: GraphQLInputType) -> tuple[bool, bool]:
    """(is an ID, is a list of them)."""
    inner = kind.of_type if isinstance(kind, GraphQLNonNull) else kind
    if isinstance(inner, GraphQLList):
        return get_named_type(inner).name == "ID", True
    return get_named_type(inner).name == "ID", False


def positions() -> list[Position]:
    found = []
    for op in OPERATIONS:
        if op.kind == "subscription":
            continue
        for name, arg in op.args.items():
            is_id, is_list = _is_id(arg.type)
            if is_id or name in ("after", "before"):
                found.append(Position(op, name, is_list=is_list))
            named = get_named_type(arg.type)
            if isinstance(named, GraphQLInputObjectType):
                for field_name, f in named.fields.items():
                    is_id, is_list = _is_id(f.type)
                    if is_id:
                        found.append(Position(op, name, field_name, is_list))
    return found


def ordinary(kind: GraphQLInputType, name: str) -> Any:
    """A value of the type a caller would send."""
    if isinstance(kind, GraphQLNonNull):
        kind = kind.of_type
    if isinstance(kind, GraphQLList):
        return [ordinary(kind.of_type, name)]
    if isinstance(kind, GraphQLEnumType):
        return next(iter(kind.values))
    if isinstance(kind, GraphQLInputObjectType):
        return {
            n: ordinary(f.type, n)
            for n, f in kind.fields.items()
            if isinstance(f.type, GraphQLNonNull)
        }
    assert isinstance(kind, GraphQLScalarType)
    return {
        "ID": "main",
        "String": "x",
        "Int": 1,
        "Float": 1.0,
        "Boolean": name == "dryRun",
        "DateTime": "2026-11-02T00:00:00Z",
        "Date": "2026-11-02",
        "JSON": {},
    }[kind.name]


def variables(position: Position, hostile: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, arg in position.op.args.items():
        if isinstance(arg.type, GraphQLNonNull) or name in ("dryRun", position.arg):
            out[name] = ordinary(arg.type, name)
    value: Any = [hostile] if position.is_list else hostile
    if position.field:
        target = dict(out.get(position.arg) or {})
        target[position.field] = value
        out[position.arg] = target
    else:
        out[position.arg] = value
    return out


def test_the_schema_has_the_id_positions_this_test_claims() -> None:
    found = {str(p) for p in positions()}
    # A sample of what the schema must yield, so a broken reading fails here.
    assert {
        "query.decision(id)",
        "query.pool(groupId)",
        "query.pool(after)",
        "query.leads(filter.leadIds)",
        "mutation.submitLead(input.responsible)",
        "mutation.assignLeads(leadIds)",
    } <= found, sorted(found)
    assert len(found) >= 30


async def test_every_id_argument_answers_a_hostile_id_as_bad_input(
    any_stack: Stack,
) -> None:
    stack = any_stack
    await seed(stack)
    token = stack.token("head", "admin")
    wrong: list[str] = []
    sent = 0
    for position in positions():
        query = position.op.document(list(variables(position, "x")))
        for hostile in [*HOSTILE, *DRAWN]:
            sent += 1
            given = variables(position, hostile)
            if position.op.name == "claimLead":
                # Presses are rate limited per person: let a second pass.
                stack.clock.advance(timedelta(seconds=1))
                token = stack.token("head", "admin")
            reply = await stack.http.post(
                "/graphql",
                # ASCII JSON: a lone surrogate travels as its \\u escape.
                content=json.dumps({"query": query, "variables": given}),
                headers={
                    "Authorization": f"Bearer {token}",
                    "Content-Type": "application/json",
                },
            )
            # 400: a body that is no text at all (a lone surrogate) is refused
            # before it is read as GraphQL.
            body = reply.json() if reply.status_code not in (400, 500) else {}
            codes = {
                str((e.get("extensions") or {}).get("code"))
                for e in body.get("errors") or []
            }
            echoed = [hostile, json.dumps(hostile)[1:-1]]
            leaks = leak_problems(reply.status_code, reply.text, echoed)
            if reply.status_code >= 500 or not codes <= ALLOWED or leaks:
                wrong.append(
                    f"{position} = {hostile[:40]!r}: HTTP {reply.status_code} "
                    f"{codes or ''} {leaks or ''} {reply.text[:200]}"
                )
    print(f"\nhostile ids: {sent} requests over {len(positions())} id positions")
    assert not wrong, f"{len(wrong)} of {sent}:\n" + "\n".join(wrong[:40])
