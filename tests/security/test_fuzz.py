"""Bad input: generated queries and variables never crash the API or leak its insides.

Two generators, both derandomized: schemathesis in GraphQL mode writes
whole queries from schema.graphql (arguments inline, nested selections),
and hypothesis writes hostile variable values for every query and
mutation: ids that exist and ids that do not, strings of any script,
integers past 32 bits, dates without zones, wrong types, nulls. Every
response must be under HTTP 500, carry only the contract's error codes,
and name no stack frame, file, gRPC or SQL detail.

Hypothesis also mixes in string constants it finds in the project's loaded
modules (a database URL, a table name), the likeliest words to provoke a
leak; so the requests vary a little with what a test worker has imported,
and a failure prints the request it sent.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import schemathesis
from graphql import (
    GraphQLEnumType,
    GraphQLError,
    GraphQLInputObjectType,
    GraphQLInputType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLScalarType,
    IntValueNode,
    NameNode,
    ObjectFieldNode,
    ObjectValueNode,
    StringValueNode,
    Visitor,
    parse,
    visit,
)
from hypothesis import strategies as st
from schemathesis.core.result import Ok

from tests.security.operations import (
    CODES,
    OPERATIONS,
    SCHEMA,
    SCHEMA_PATH,
    Operation,
    collect,
    error_codes,
    leak_problems,
)
from tests.security.seed import seed
from tests.stack import Stack

SCHEMATHESIS_EXAMPLES = 12  # per operation
HYPOTHESIS_EXAMPLES = 20  # per operation
FUZZED = [o for o in OPERATIONS if o.kind != "subscription"]
# Real ids of the seeded account, so some requests reach deep into the services.
KNOWN = ["main", "L00", "L01", "L03", "ursula", "head", "pool", "1", "2", "sales/new"]


def _text() -> st.SearchStrategy[str]:
    return st.one_of(
        st.sampled_from(KNOWN),
        st.text(max_size=40),
        st.text(alphabet="{}[]:'\"\\%$;-/ \n\t0", max_size=20),
        st.sampled_from(["", " ", "0", "-1", "null", "a" * 5000, "\x00", "ř" * 64]),
    )


def _scalar(name: str) -> st.SearchStrategy[Any]:
    if name in ("ID", "String"):
        return _text()
    if name == "Int":
        return st.one_of(
            st.integers(-(2**31), 2**31 - 1),
            st.sampled_from([0, -1, 501, 2**31 - 1, 2**31, -(2**63), 10**30]),
        )
    if name == "Float":
        return st.floats(allow_nan=False, allow_infinity=False)
    if name == "Boolean":
        return st.booleans()
    if name == "DateTime":
        return st.one_of(
            st.datetimes(timezones=st.just(UTC)).map(datetime.isoformat),
            st.datetimes().map(datetime.isoformat),  # no offset
            _text(),
        )
    if name == "Date":
        return st.one_of(st.dates().map(lambda d: d.isoformat()), _text())
    return st.recursive(
        st.none() | st.booleans() | st.integers() | _text(),
        lambda inner: (
            st.lists(inner, max_size=3)
            | st.dictionaries(st.text(max_size=5), inner, max_size=3)
        ),
        max_leaves=6,
    )


def value_for(kind: GraphQLInputType, depth: int = 0) -> st.SearchStrategy[Any]:
    """A value of the type, or now and then one of the wrong type."""
    if isinstance(kind, GraphQLNonNull):
        inner = value_for(kind.of_type, depth)
        return st.one_of(inner, st.none()) if depth == 0 else inner
    if isinstance(kind, GraphQLList):
        return st.none() | st.lists(value_for(kind.of_type, depth + 1), max_size=4)
    if isinstance(kind, GraphQLEnumType):
        return st.none() | st.sampled_from([*kind.values, "NOPE", 3])
    if isinstance(kind, GraphQLInputObjectType):
        fields = {
            n: value_for(f.type, depth + 1) for n, f in kind.fields.items() if depth < 2
        }
        return st.none() | st.fixed_dictionaries({}, optional=fields)
    assert isinstance(kind, GraphQLScalarType)
    wrong = st.sampled_from([[], {}, True, 12.5, "x"])
    return st.one_of(_scalar(kind.name), wrong) if depth == 0 else _scalar(kind.name)


def _strings(value: Any) -> list[str]:
    """Every string in a value: the API may quote them back in an error."""
    if isinstance(value, str):
        return [value, json.dumps(value)[1:-1]]
    if isinstance(value, dict):
        return [s for k, v in value.items() for s in [*_strings(k), *_strings(v)]]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return [str(value)]


def _literals(query: str) -> list[str]:
    """The strings written inline in a query: the API may quote them back too."""
    found: list[str] = []

    class Strings(Visitor):
        def enter_string_value(self, node: StringValueNode, *_: Any) -> None:
            found.extend(_strings(node.value))

    try:
        visit(parse(query), Strings())
    except GraphQLError:
        return []  # not a query at all: nothing in it can be quoted back
    return found


def hypothesis_cases(op: Operation) -> list[tuple[str, dict[str, Any]]]:
    variables = st.fixed_dictionaries(
        {n: value_for(a.type) for n, a in op.args.items()}
    )
    return [(op.document(), v) for v in collect(variables, HYPOTHESIS_EXAMPLES)]


def _json_literal(value: dict[str, str | int]) -> ObjectValueNode:
    """A JSON scalar (recordEvents' events) as a GraphQL object literal."""
    return ObjectValueNode(
        fields=tuple(
            ObjectFieldNode(
                name=NameNode(value=key),
                value=IntValueNode(value=str(item))
                if isinstance(item, int)
                else StringValueNode(value=item),
            )
            for key, item in value.items()
        )
    )


# schemathesis writes literals of the schema's scalars; JSON is the one it
# does not know. An event-like object: a type, an id, text and numbers.
schemathesis.graphql.scalar(
    "JSON",
    st.dictionaries(
        st.sampled_from(["id", "type", "at", "lead", "to", "task", "x"]),
        st.one_of(_text(), st.integers(-(2**31), 2**31 - 1)),
        max_size=5,
    ).map(_json_literal),
)


def schemathesis_cases() -> list[tuple[str, str, dict[str, Any]]]:
    loaded = schemathesis.graphql.from_path(str(SCHEMA_PATH))
    cases = []
    for result in loaded.get_all_operations():
        assert isinstance(result, Ok), result
        operation = result.ok()
        for case in collect(operation.as_strategy(), SCHEMATHESIS_EXAMPLES):
            body = case.body if isinstance(case.body, dict) else {"query": case.body}
            cases.append((operation.label, body["query"], body.get("variables") or {}))
    return cases


async def _send(
    stack: Stack, query: str, variables: dict[str, Any]
) -> tuple[list[str], list[str]]:
    reply = await stack.http.post(
        "/graphql",
        json={"query": query, "variables": variables},
        headers={"Authorization": f"Bearer {stack.token('head', 'admin')}"},
    )
    problems = leak_problems(
        reply.status_code, reply.text, [query, *_literals(query), *_strings(variables)]
    )
    codes: list[str] = []
    if reply.status_code < 500:
        codes = error_codes(reply.json())
        problems += [f"code {c}" for c in codes if c not in CODES]
        # Every service is up: UNAVAILABLE here is a service that crashed.
        problems += [f"code {c}" for c in codes if c == "UNAVAILABLE"]
    return problems, codes


def test_every_query_and_mutation_is_fuzzed() -> None:
    assert SCHEMA.mutation_type is not None
    names = {o.name for o in FUZZED}
    assert "claimLead" in names and "applyWorkspace" in names and "pool" in names
    assert len(FUZZED) == len(SCHEMA.query_type.fields) + len(  # type: ignore[union-attr]
        SCHEMA.mutation_type.fields
    )


async def test_generated_requests_get_clean_answers(stack: Stack) -> None:
    await seed(stack)
    failures: list[str] = []
    codes: dict[str, int] = {}
    generated = schemathesis_cases()
    labelled = [(label, q, v) for label, q, v in generated]
    labelled += [(op.key, q, v) for op in FUZZED for q, v in hypothesis_cases(op)]
    for label, query, variables in labelled:
        problems, seen = await _send(stack, query, variables)
        for c in seen:
            codes[c] = codes.get(c, 0) + 1
        if problems:
            failures.append(f"{label}: {problems}\n  {query}\n  {variables!r:.300}")
    by_schemathesis = len(generated)
    print(
        f"\nfuzz: {len(labelled)} requests over {len(FUZZED)} operations "
        f"({by_schemathesis} schemathesis, {len(labelled) - by_schemathesis} "
        f"hypothesis); error codes seen: {codes}"
    )
    assert not failures, "\n".join(failures[:20])
    # The fuzzing reached past validation into the resolvers and services.
    assert codes.get("BAD_USER_INPUT", 0) > 0 and codes.get("NOT_FOUND", 0) > 0


async def test_a_string_written_inline_and_quoted_back_is_not_a_leak(
    stack: Stack,
) -> None:
    # A request the fuzzer once sent: the id is a constant from the project's
    # own code, and the answer quotes it back as no decision id.
    query = '{ decision(id: "postgresql+psycopg") { id } }'
    problems, codes = await _send(stack, query, {})
    assert codes == ["BAD_USER_INPUT"] and not problems
    # The same answer is a leak when the caller did not write those words.
    reply = await stack.http.post(
        "/graphql",
        json={"query": query},
        headers={"Authorization": f"Bearer {stack.token('head', 'admin')}"},
    )
    assert "postgresql+psycopg" in reply.text
    assert leak_problems(reply.status_code, reply.text, [query]) == [
        "internal detail 'postgres'"
    ]
