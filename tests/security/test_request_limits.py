"""Oversized and outsized requests, and ids that name nothing: clean refusals.

A body past the gateway's ceiling is refused with 413 before it is read
whole; a query too deep, too long or with too many aliases is refused before
any resolver runs; an unknown id is NOT_FOUND, an id of the wrong form
BAD_USER_INPUT. The web UI's own queries stay inside every bound.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from graphql import FieldNode, OperationDefinitionNode, SelectionSetNode, parse

from gateway.query_cache import CACHED_TEXT, parse_cache_info
from gateway.request_size import MAX_REQUEST_BYTES
from gateway.schema import MAX_ALIASES, MAX_DEPTH, MAX_TOKENS
from tests.security.operations import error_codes, leak_problems
from tests.security.seed import seed
from tests.stack import Stack

ROOT = Path(__file__).parents[2]
UI_FILES = [
    *sorted((ROOT / "gateway/web/static/app").rglob("*.js")),
    ROOT / "widget/script.js",
]


def admin(stack: Stack) -> dict[str, str]:
    return {"Authorization": f"Bearer {stack.token('head', 'admin')}"}


async def test_a_body_past_the_ceiling_is_refused_with_413(stack: Stack) -> None:
    huge = "x" * (MAX_REQUEST_BYTES + 1)
    declared = await stack.http.post(
        "/graphql",
        json={
            "query": "mutation($y: String!) { applyWorkspace(yaml: $y) { ok } }",
            "variables": {"y": huge},
        },
        headers=admin(stack),
    )

    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(MAX_REQUEST_BYTES // 65536 + 2):
            yield b" " * 65536

    streamed = await stack.http.post(
        "/graphql",
        content=chunks(),
        headers={**admin(stack), "Content-Type": "application/json"},
    )
    for reply in (declared, streamed):
        assert reply.status_code == 413
        assert error_codes(reply.json()) == ["BAD_USER_INPUT"]
        assert "larger than 2 MiB" in reply.json()["errors"][0]["message"]
    groups = await stack.data("{ groups { id } }")
    assert groups["groups"] == []  # nothing of the refused workspace was applied


async def test_a_body_just_under_the_ceiling_is_read(stack: Stack) -> None:
    padding = " " * (MAX_REQUEST_BYTES - 200)
    reply = await stack.http.post(
        "/graphql",
        content=('{"query": "{ viewer { role } }"' + padding + "}").encode(),
        headers={**admin(stack), "Content-Type": "application/json"},
    )
    assert reply.status_code == 200
    assert reply.json()["data"] == {"viewer": {"role": "ADMIN"}}


@pytest.mark.parametrize(
    ("name", "body", "status"),
    [
        (
            "JSON nested past the decoder",
            '{"query": "{ viewer { role } }", '
            '"variables": {"x": ' + "[" * 100_000 + "]" * 100_000 + "}}",
            400,
        ),
        ("not JSON at all", "{query: viewer", 400),
        ("a batch of operations", '[{"query": "{ viewer { role } }"}]', 400),
    ],
)
async def test_a_body_that_is_no_request_is_a_400(
    stack: Stack, name: str, body: str, status: int
) -> None:
    reply = await stack.http.post(
        "/graphql",
        content=body.encode(),
        headers={**admin(stack), "Content-Type": "application/json"},
    )
    assert reply.status_code == status, (name, reply.text[:200])
    assert not leak_problems(reply.status_code, reply.text), reply.text[:200]


def _nested(levels: int) -> str:
    return "{" + "a {" * levels + "b" + "}" * levels + "}"


@pytest.mark.parametrize(
    ("name", "query", "message"),
    [
        ("too deep", _nested(MAX_DEPTH + 5), f"maximum operation depth of {MAX_DEPTH}"),
        ("deeper than the parser goes", _nested(MAX_TOKENS // 2), "nested too deeply"),
        (
            "too many tokens",
            "{" + " viewer { role }" * (MAX_TOKENS // 4 + 1) + "}",
            f"more than {MAX_TOKENS} tokens",
        ),
        (
            "too many aliases",
            "{"
            + " ".join(f"a{i}: viewer {{ role }}" for i in range(MAX_ALIASES + 1))
            + "}",
            f"Allowed: {MAX_ALIASES}",
        ),
    ],
)
async def test_outsized_queries_are_refused_before_they_run(
    stack: Stack, name: str, query: str, message: str
) -> None:
    reply = await stack.http.post(
        "/graphql", json={"query": query}, headers=admin(stack)
    )
    body = reply.json()
    assert reply.status_code == 200 and body.get("data") is None, name
    assert set(error_codes(body)) == {"BAD_USER_INPUT"}, body["errors"][:2]
    assert any(message in e["message"] for e in body["errors"]), body["errors"][:2]
    assert not leak_problems(reply.status_code, reply.text, [query])


async def test_as_many_aliases_as_allowed_still_run(stack: Stack) -> None:
    query = "{" + " ".join(f"a{i}: viewer {{ role }}" for i in range(MAX_ALIASES)) + "}"
    data = await stack.data(query)
    assert len(data) == MAX_ALIASES


async def test_a_query_sent_again_is_judged_as_the_first_time(stack: Stack) -> None:
    """Query texts are parsed and validated once, then answered from cache."""
    deep = _nested(MAX_DEPTH + 2)
    broken = "{ viewer { role }"
    for _ in range(3):
        for query, message in [
            (deep, "maximum operation depth"),
            (broken, "not valid GraphQL"),
        ]:
            reply = await stack.http.post(
                "/graphql", json={"query": query}, headers=admin(stack)
            )
            body = reply.json()
            assert body.get("data") is None
            assert set(error_codes(body)) == {"BAD_USER_INPUT"}, body["errors"]
            assert message in body["errors"][0]["message"]
        assert (await stack.data("{ viewer { role } }"))["viewer"]["role"] == "ADMIN"


async def test_long_query_texts_are_answered_but_never_kept(stack: Stack) -> None:
    """A caller sending many distinct large texts cannot fill the gateway."""
    short = "{ viewer { role } }"
    for i in range(3):
        long_text = short + " " * CACHED_TEXT + f"# {i}"
        before = parse_cache_info()
        assert (await stack.data(long_text))["viewer"]["role"] == "ADMIN"
        assert parse_cache_info() == before
    await stack.data(short)
    hits, misses = parse_cache_info()
    assert (await stack.data(short))["viewer"]["role"] == "ADMIN"
    assert parse_cache_info() == (hits + 1, misses)


UNKNOWN: list[tuple[str, str]] = [
    ('{ group(id: "nope") { id } }', "NOT_FOUND"),
    ('{ pool(groupId: "nope") { totalCount } }', "NOT_FOUND"),
    ('{ eligibility(groupId: "nope") { userId } }', "NOT_FOUND"),
    ('{ decision(id: "999999") { id } }', "NOT_FOUND"),
    ('{ decision(id: "abc") { id } }', "BAD_USER_INPUT"),
    (
        '{ schedule(userId: "nope", from: "2026-11-01T00:00:00Z", '
        'to: "2026-11-02T00:00:00Z") { start } }',
        "NOT_FOUND",
    ),
    ('mutation { claimLead(groupId: "nope") { __typename } }', "NOT_FOUND"),
    ('mutation { reopenLead(leadId: "nope") { id } }', "NOT_FOUND"),
    ('mutation { reopenLead(leadId: "") { id } }', "NOT_FOUND"),
    ('mutation { distributeLead(leadId: "nope") { id } }', "NOT_FOUND"),
    (
        'mutation { assignLeads(leadIds: ["nope"], userIds: ["ursula"]) { dryRun } }',
        "NOT_FOUND",
    ),
    (
        'mutation { assignLeads(leadIds: ["L04"], userIds: ["nope"]) { dryRun } }',
        "NOT_FOUND",
    ),
    (
        'mutation { transferLeads(fromUserId: "nope", toUserId: "ursula") { dryRun } }',
        "NOT_FOUND",
    ),
    ('mutation { setPresence(userId: "nope", online: true) { userId } }', "NOT_FOUND"),
    (
        'mutation { updateMemberLimits(groupId: "nope", userId: "ursula", '
        "enabled: true, limits: []) { ok } }",
        "NOT_FOUND",
    ),
    (
        'mutation { submitLead(input: {pipeline: "sales", stage: "", '
        'responsible: "pool"}) { id } }',
        "BAD_USER_INPUT",
    ),
]


async def test_unknown_ids_are_not_found_and_malformed_ones_bad_input(
    stack: Stack,
) -> None:
    await seed(stack)
    for query, code in UNKNOWN:
        reply = await stack.http.post(
            "/graphql", json={"query": query}, headers=admin(stack)
        )
        body = reply.json()
        assert error_codes(body) == [code], (query, body)
        assert body["data"] is None, query
        assert not leak_problems(reply.status_code, reply.text, [query]), body


def _depth(selection: SelectionSetNode | None) -> int:
    if selection is None:
        return 0
    return 1 + max(
        (_depth(getattr(s, "selection_set", None)) for s in selection.selections),
        default=0,
    )


def ui_queries() -> list[tuple[str, str]]:
    """Every GraphQL document the web UI and the widget send, `${…}` filled in."""
    literal = re.compile(r"`(\s*(?:query|mutation|subscription|\{)[^`]*)`", re.S)
    found = []
    for path in UI_FILES:
        for match in literal.finditer(path.read_text()):
            text = re.sub(r"\$\{[^{}]*\}", "__typename", match.group(1))
            if "${" in text:
                continue  # built in a loop, an alias a row: see the batch sizes
            if re.search(r"\b(query|mutation|subscription)\b|\{\s*\w+\s*[{(]", text):
                found.append((path.name, text))
    return found


def test_the_uis_queries_fit_inside_every_bound() -> None:
    queries = ui_queries()
    assert len(queries) >= 20, queries  # the screens' queries were all found
    for name, text in queries:
        document = parse(text, max_tokens=MAX_TOKENS)
        for op in document.definitions:
            assert isinstance(op, OperationDefinitionNode), name
            assert _depth(op.selection_set) <= MAX_DEPTH - 3, (name, text)
            aliases = [
                s
                for s in op.selection_set.selections
                if isinstance(s, FieldNode) and s.alias
            ]
            assert len(aliases) <= MAX_ALIASES, (name, text)
    for view in BATCHED:
        assert batch_size(view) <= MAX_ALIASES, view


# Screens that send an alias per row (hour, person) in batches.
BATCHED = ("templates.js", "schedules.js")


def batch_size(view: str) -> int:
    source = (ROOT / "gateway/web/static/app/views" / view).read_text()
    found = re.search(r"const PER_REQUEST = (\d+);", source)
    assert found is not None, view
    return int(found.group(1))


async def test_a_full_batch_of_the_calendars_runs(stack: Stack) -> None:
    await seed(stack)
    people = [
        f'u{i}: schedule(userId: "ursula", from: "2026-11-02T00:00:00Z", '
        f'to: "2026-11-09T00:00:00Z") {{ start end }}'
        for i in range(batch_size("schedules.js"))
    ]
    hours = [
        f'h{i}: onDuty(channel: "form", at: "2026-11-02T{i % 24:02d}:00:00Z") '
        "{ template { id algorithm hold fallbackUser participants { userId weight } } }"
        for i in range(batch_size("templates.js"))
    ]
    for rows in (people, hours):
        data = await stack.data("{" + "\n".join(rows) + "}")
        assert len(data) == len(rows)
