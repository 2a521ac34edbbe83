"""GraphQL over HTTP in front of the executor: media types and status codes."""

from __future__ import annotations

import json
from collections.abc import Mapping

import httpx
from starlette.applications import Starlette
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from gateway.http import GRAPHQL_RESPONSE, JSON, graphql_over_http, negotiate
from tests.unit.gateway.asgi import call

QUERY = "query Me { me { id } }"


def test_no_accept_header_answers_the_graphql_response_type() -> None:
    assert negotiate(None) == GRAPHQL_RESPONSE
    assert negotiate("  ") == GRAPHQL_RESPONSE


def test_a_browser_wildcard_answers_plain_json() -> None:
    assert negotiate("text/html,application/xhtml+xml,*/*;q=0.8") == JSON
    assert negotiate("application/*") == JSON


def test_the_higher_quality_wins_and_ties_go_to_the_first_listed() -> None:
    accept = "application/json;q=0.5, application/graphql-response+json"
    assert negotiate(accept) == GRAPHQL_RESPONSE
    assert negotiate(f"{JSON}, {GRAPHQL_RESPONSE}") == JSON
    assert negotiate(f"{GRAPHQL_RESPONSE}, {JSON}") == GRAPHQL_RESPONSE


async def test_nothing_served_or_quality_zero_is_not_acceptable() -> None:
    assert negotiate("text/csv") is None
    assert negotiate("application/json;q=0") is None
    assert negotiate("application/json;q=oops") is None


def _executor_answering(result: Mapping[str, object]) -> object:
    """An executor that answers `result` and remembers the body it was given."""
    seen: list[bytes] = []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        message = await receive()
        seen.append(message.get("body", b""))
        body = json.dumps(result).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [(b"content-type", b"application/json")],
            }
        )
        await send({"type": "http.response.body", "body": body})

    app.seen = seen  # type: ignore[attr-defined]
    return app


def _client(result: Mapping[str, object] | None = None) -> tuple[Client, list[bytes]]:
    executor = _executor_answering(result or {"data": {"me": {"id": "ursula"}}})
    endpoint = graphql_over_http(executor)  # type: ignore[arg-type]
    app = Starlette(
        routes=[
            Route(
                "/graphql",
                endpoint,
                methods=["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"],
            )
        ]
    )
    return Client(app), executor.seen  # type: ignore[attr-defined]


class Client:
    def __init__(self, app: Starlette) -> None:
        self.app = app

    async def get(self, path: str, **kwargs: object) -> httpx.Response:
        return await call(self.app, "GET", path, **kwargs)

    async def post(self, path: str, **kwargs: object) -> httpx.Response:
        return await call(self.app, "POST", path, **kwargs)

    async def put(self, path: str, **kwargs: object) -> httpx.Response:
        return await call(self.app, "PUT", path, **kwargs)


def _message(response: httpx.Response) -> str:
    return str(response.json()["errors"][0]["message"])


async def test_a_well_formed_post_reaches_the_executor_in_the_asked_media_type() -> (
    None
):
    client, seen = _client()
    reply = await client.post(
        "/graphql", json={"query": QUERY}, headers={"Accept": JSON}
    )
    assert reply.status_code == 200
    assert reply.headers["content-type"] == "application/json; charset=utf-8"
    assert reply.json() == {"data": {"me": {"id": "ursula"}}}
    assert json.loads(seen[0]) == {"query": QUERY}


async def test_put_is_refused_with_405_and_the_allowed_methods() -> None:
    client, seen = _client()
    reply = await client.put("/graphql", json={"query": QUERY})
    assert reply.status_code == 405
    assert reply.headers["allow"] == "GET, POST"
    assert "GET (queries only) or POST" in _message(reply)
    assert seen == []


async def test_a_mutation_over_get_is_refused_and_points_to_post() -> None:
    client, seen = _client()
    reply = await client.get(
        "/graphql", params={"query": "mutation { claimLead { id } }"}
    )
    assert reply.status_code == 405
    assert reply.headers["allow"] == "POST"
    assert "must be sent with POST" in _message(reply)
    assert seen == []


async def test_a_query_over_get_is_run() -> None:
    client, seen = _client()
    reply = await client.get(
        "/graphql", params={"query": QUERY}, headers={"Accept": JSON}
    )
    assert reply.status_code == 200
    assert reply.json()["data"] == {"me": {"id": "ursula"}}
    assert seen == [b""]  # the query travels in the URL, not a body


async def test_an_accept_header_with_nothing_served_answers_406() -> None:
    client, _seen = _client()
    reply = await client.post(
        "/graphql", json={"query": QUERY}, headers={"Accept": "text/csv"}
    )
    assert reply.status_code == 406
    assert "ask for one of them in the Accept header" in _message(reply)


async def test_a_body_that_is_not_json_media_answers_415() -> None:
    client, _seen = _client()
    reply = await client.post(
        "/graphql", content=QUERY, headers={"Content-Type": "text/plain"}
    )
    assert reply.status_code == 415
    assert "Content-Type: application/json" in _message(reply)


async def test_broken_json_and_a_missing_query_answer_400_in_words() -> None:
    client, seen = _client()
    broken = await client.post(
        "/graphql", content=b"{nope", headers={"Content-Type": "application/json"}
    )
    assert broken.status_code == 400
    assert _message(broken) == "the request body is not valid JSON"
    missing = await client.post("/graphql", json={"variables": {}})
    assert missing.status_code == 400
    assert "has no 'query'" in _message(missing)
    not_object = await client.post("/graphql", json=[QUERY])
    assert not_object.status_code == 400
    assert "a JSON object with a 'query' string" in _message(not_object)
    assert seen == []


async def test_two_operations_without_a_name_are_a_request_error_by_media_type() -> (
    None
):
    document = "query A { me { id } } query B { me { id } }"
    client, seen = _client()
    strict = await client.post(
        "/graphql", json={"query": document}, headers={"Accept": GRAPHQL_RESPONSE}
    )
    assert strict.status_code == 400
    assert "data" not in strict.json()
    assert "name the one to run in 'operationName'" in _message(strict)
    legacy = await client.post(
        "/graphql", json={"query": document}, headers={"Accept": JSON}
    )
    assert legacy.status_code == 200
    assert seen == []


async def test_a_request_error_of_the_executor_answers_400_without_data() -> None:
    client, _seen = _client({"data": None, "errors": [{"message": "no field 'x'"}]})
    reply = await client.post(
        "/graphql", json={"query": "{ x }"}, headers={"Accept": GRAPHQL_RESPONSE}
    )
    assert reply.status_code == 400
    assert reply.json() == {"errors": [{"message": "no field 'x'"}]}
    assert reply.headers["content-type"].startswith(GRAPHQL_RESPONSE)


async def test_a_field_error_after_execution_stays_200_with_its_data() -> None:
    result = {"data": {"me": None}, "errors": [{"message": "gone", "path": ["me"]}]}
    client, _seen = _client(result)
    reply = await client.post(
        "/graphql", json={"query": QUERY}, headers={"Accept": GRAPHQL_RESPONSE}
    )
    assert reply.status_code == 200
    assert reply.json() == result
