"""GraphQL over HTTP: the spec's cases, one test each, against the running gateway.

The cases are those of the GraphQL-over-HTTP specification (sections
"Request", "Accept", "GET", "POST", "Status Codes" and their examples), for
both response media types. Every error a request gets is in a person's
words: no decoder, library, SQL or gRPC text, and a bearer token that is
malformed, cut short or signed with another key says just that.
"""

from __future__ import annotations

import json
import re
from datetime import timedelta
from typing import Any

import httpx
import pytest

from leadrouter import messages
from leadrouter import sign_in_messages as signin
from leadrouter.auth import issue_token
from tests.security.operations import leak_problems
from tests.stack import Stack

GR = "application/graphql-response+json"
JSON = "application/json"
MUTATION = 'mutation { setPresence(userId: "head", online: true) { online } }'
# Words of the libraries under the gateway that a person must never be shown.
LIBRARY = re.compile(
    r"segments|padding|Signature verification|Expecting value|char \d|"
    r"Batching|Unsupported content type|Unable to parse|decode|jwt|"
    r"\(Not |Invalid header|JSONDecodeError|No GraphQL query found",
    re.IGNORECASE,
)


async def post(
    stack: Stack,
    body: Any,
    *,
    accept: str | None = GR,
    content_type: str | None = JSON,
    token: str | None = None,
    raw: bool = False,
) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token or stack.token('head', 'admin')}"}
    if accept is not None:
        headers["Accept"] = accept
    if content_type is not None:
        headers["Content-Type"] = content_type
    content = body if raw else json.dumps(body)
    request = stack.http.build_request("POST", "/graphql", content=content)
    request.headers.update(headers)
    if accept is None:
        del request.headers["accept"]
    if content_type is None and "content-type" in request.headers:
        del request.headers["content-type"]
    return await stack.http.send(request)


async def get(stack: Stack, params: dict[str, str], accept: str = GR) -> httpx.Response:
    return await stack.http.get(
        "/graphql",
        params=params,
        headers={
            "Accept": accept,
            "Authorization": f"Bearer {stack.token('head', 'admin')}",
        },
    )


def media(reply: httpx.Response) -> str:
    return reply.headers["content-type"].split(";")[0]


def clean(reply: httpx.Response) -> list[str]:
    """The response's error messages, each checked to be in a person's words."""
    body = reply.json()
    said = [str(e["message"]) for e in body.get("errors") or []]
    for message in said:
        assert not LIBRARY.search(message), message
        assert not leak_problems(200, message), message
    return said


# -- media types ---------------------------------------------------------------


async def test_a_query_asked_for_graphql_response_json_gets_it(stack: Stack) -> None:
    reply = await post(stack, {"query": "{ viewer { role } }"})
    assert reply.status_code == 200
    assert reply.headers["content-type"] == f"{GR}; charset=utf-8"
    assert reply.json() == {"data": {"viewer": {"role": "ADMIN"}}}


async def test_no_accept_header_is_taken_as_graphql_response_json(
    stack: Stack,
) -> None:
    reply = await post(stack, {"query": "{ __typename }"}, accept=None)
    assert (reply.status_code, media(reply)) == (200, GR)


@pytest.mark.parametrize(
    ("accept", "answered"),
    [
        (JSON, JSON),
        ("*/*", JSON),
        ("application/*", JSON),
        (f"{GR}, {JSON}", GR),
        (f"{JSON}, {GR}", JSON),
        (f"{JSON};q=0.9, {GR}", GR),
        (f"{GR};q=0.5, {JSON}", JSON),
        (f"{GR}; charset=utf-8, {JSON}; charset=utf-8", GR),  # the spec's advice
        (f"text/html, {GR};q=0.8", GR),
    ],
)
async def test_the_highest_priority_accepted_media_type_is_used(
    stack: Stack, accept: str, answered: str
) -> None:
    reply = await post(stack, {"query": "{ __typename }"}, accept=accept)
    assert (reply.status_code, media(reply)) == (200, answered)
    assert reply.headers["content-type"].endswith("charset=utf-8")


async def test_an_accept_header_with_no_served_media_type_is_406(
    stack: Stack,
) -> None:
    reply = await post(stack, {"query": "{ __typename }"}, accept="application/xml")
    assert reply.status_code == 406
    assert clean(reply) == [messages.not_acceptable()]


# -- status codes, application/graphql-response+json -------------------------------


@pytest.mark.parametrize(
    ("case", "body"),
    [
        ("document parsing failure", {"query": "{"}),
        ("document validation failure", {"query": "{ noSuchField }"}),
        (
            "operation cannot be determined",
            {"query": "query A { __typename } query B { __typename }"},
        ),
        (
            "unknown operation name",
            {"query": "query A { __typename }", "operationName": "B"},
        ),
        (
            "variable coercion failure",
            {
                "query": 'query($n: Int) { pool(groupId: "main", first: $n) '
                "{ totalCount } }",
                "variables": {"n": "seven"},
            },
        ),
    ],
)
async def test_request_errors_are_400_without_data_in_graphql_response_json(
    stack: Stack, case: str, body: dict[str, Any]
) -> None:
    reply = await post(stack, body)
    assert (reply.status_code, media(reply)) == (400, GR), case
    assert "data" not in reply.json(), case
    assert reply.json()["errors"], case
    # The same request asking for application/json: 200, a GraphQL response.
    legacy = await post(stack, body, accept=JSON)
    assert (legacy.status_code, media(legacy)) == (200, JSON), case
    assert legacy.json()["errors"], case


async def test_field_errors_during_execution_are_200(stack: Stack) -> None:
    reply = await post(stack, {"query": '{ group(id: "no-such-group") { id } }'})
    assert (reply.status_code, media(reply)) == (200, GR)
    body = reply.json()
    assert body["data"] is None
    assert body["errors"][0]["extensions"]["code"] == "NOT_FOUND"
    assert body["errors"][0]["path"] == ["group"]


# -- malformed requests ----------------------------------------------------------


@pytest.mark.parametrize("accept", [GR, JSON])
@pytest.mark.parametrize(
    ("case", "body", "said"),
    [
        ("JSON parsing failure", "NONSENSE", messages.body_not_json()),
        ("truncated JSON", '{"query":', messages.body_not_json()),
        ("not an object", "[1]", messages.body_not_an_object()),
        ("a typo for query", '{"qeury": "{__typename}"}', messages.no_query()),
        ("query not a string", '{"query": 7}', messages.query_not_a_string()),
        (
            "variables of the wrong shape",
            '{"query": "query Q($i: Int!) { __typename }", "variables": [7]}',
            messages.variables_not_an_object(),
        ),
        (
            "operationName not a string",
            '{"query": "{ __typename }", "operationName": 1}',
            messages.operation_name_not_a_string(),
        ),
        (
            "extensions not a map",
            '{"query": "{ __typename }", "extensions": "x"}',
            messages.extensions_not_an_object(),
        ),
    ],
)
async def test_a_request_that_is_not_well_formed_is_400_in_words(
    stack: Stack, accept: str, case: str, body: str, said: str
) -> None:
    reply = await post(stack, body, accept=accept, raw=True)
    assert (reply.status_code, media(reply)) == (400, accept), case
    assert clean(reply) == [said], case


@pytest.mark.parametrize("content_type", [None, "text/plain", "application/xml"])
async def test_a_post_body_that_is_not_json_is_415(
    stack: Stack, content_type: str | None
) -> None:
    reply = await post(
        stack, '{"query": "{ __typename }"}', content_type=content_type, raw=True
    )
    assert reply.status_code == 415
    assert clean(reply) == [messages.unsupported_media_type()]


async def test_json_with_a_charset_is_accepted(stack: Stack) -> None:
    reply = await post(
        stack, {"query": "{ __typename }"}, content_type=f"{JSON}; charset=utf-8"
    )
    assert reply.status_code == 200


# -- GET ---------------------------------------------------------------------------


async def test_a_query_over_get_is_answered(stack: Stack) -> None:
    reply = await get(
        stack,
        {
            "query": "query($g: ID!) { group(id: $g) { id } }",
            "variables": json.dumps({"g": "main"}),
        },
    )
    # No such group in an empty account: executed, a field error, 200.
    assert (reply.status_code, media(reply)) == (200, GR)
    assert reply.json()["errors"][0]["extensions"]["code"] == "NOT_FOUND"


@pytest.mark.parametrize("accept", [GR, JSON])
async def test_a_mutation_over_get_is_405(stack: Stack, accept: str) -> None:
    reply = await get(stack, {"query": MUTATION}, accept=accept)
    assert reply.status_code == 405
    assert reply.headers["allow"] == "POST"
    assert clean(reply) == [messages.mutation_over_get()]
    # The operation named decides: a query beside the mutation may be asked.
    both = f"query Q {{ __typename }} mutation M {MUTATION.removeprefix('mutation')}"
    assert (await get(stack, {"query": both, "operationName": "Q"})).status_code == 200
    named = await get(stack, {"query": both, "operationName": "M"})
    assert named.status_code == 405


async def test_other_methods_are_405(stack: Stack) -> None:
    reply = await stack.http.put("/graphql", json={"query": "{ __typename }"})
    assert reply.status_code == 405
    assert reply.headers["allow"] == "GET, POST"
    assert clean(reply) == [messages.method_not_allowed()]


# -- bearer tokens -----------------------------------------------------------------


async def _viewer(stack: Stack, token: str) -> str:
    reply = await post(stack, {"query": "{ viewer { role } }"}, token=token)
    assert reply.status_code == 200
    body = reply.json()
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    (said,) = clean(reply)
    return said


def _altered(signature: str) -> str:
    """The signature with one character in its middle changed."""
    middle = len(signature) // 2
    swapped = "A" if signature[middle] != "A" else "B"
    return signature[:middle] + swapped + signature[middle + 1 :]


async def test_a_bad_bearer_token_says_what_is_wrong_with_it(stack: Stack) -> None:
    what = "bearer token"
    good = stack.token("head", "admin")
    header, payload, signature = good.split(".")
    cases = {
        "abc": signin.token_malformed(what),
        "a.b.c": signin.token_malformed(what),
        f"{header}.{payload[:10]}": signin.token_truncated(what),
        f"{header}.{payload}": signin.token_truncated(what),
        f"{header}.{payload}.{signature[:20]}": signin.token_truncated(what),
        f"{header}.{payload}.{_altered(signature)}": signin.token_wrongly_signed(what),
        issue_token(
            "another-secret-of-at-least-thirty-two-bytes",
            account=stack.account,
            user_id="head",
            role="admin",
            now=stack.clock.now(),
            ttl=timedelta(hours=1),
        ): signin.token_wrongly_signed(what),
    }
    said = {token: await _viewer(stack, token) for token in cases}
    assert said == cases
