"""GraphQL over HTTP: the media types and status codes of the GraphQL-over-HTTP spec.

In front of the GraphQL executor, this endpoint answers what makes a request
not a well-formed GraphQL-over-HTTP request, in words a person can act on:
a method other than GET and POST (405), a mutation over GET (405, "GET
requests MUST NOT be used for executing mutation operations"), a body that
is not JSON or not a JSON object with a string `query` (400), a body of
another media type (415), an Accept header with no media type served here
(406, "Respond with a 406 Not Acceptable status code ... (RECOMMENDED)").

Responses are `application/graphql-response+json` when the Accept header
prefers it, or when there is no Accept header ("From 1st January 2025 ... as
if it had Accept: application/graphql-response+json"); then a request error
(the document does not parse or validate, no operation can be chosen, the
variables do not coerce) answers 400 without a `data` entry, as that media
type requires. With `application/json` (and `*/*`, what browsers and most
tools send) every well-formed request answers 200, as before.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Awaitable, Callable
from typing import Any

from graphql import GraphQLError, OperationDefinitionNode, OperationType, parse
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.types import ASGIApp, Message, Scope

from leadrouter import messages

GRAPHQL_RESPONSE = "application/graphql-response+json"
JSON = "application/json"
SERVED = (GRAPHQL_RESPONSE, JSON)
METHODS = "GET, POST"
ALL_METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]


def negotiate(accept: str | None) -> str | None:
    """The media type to answer in, or None when the Accept header allows none.

    The highest quality wins; among equals, the one listed first, and for a
    wildcard (`*/*`, `application/*`) application/json, which every client
    that does not name the newer type understands.
    """
    if accept is None or not accept.strip():
        return GRAPHQL_RESPONSE
    best: tuple[float, int, str] | None = None
    for order, part in enumerate(accept.split(",")):
        kind, *params = (p.strip() for p in part.split(";"))
        quality = 1.0
        for param in params:
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        kind = kind.lower()
        if kind in SERVED:
            chosen = kind
        elif kind in ("*/*", "application/*"):
            chosen = JSON
        else:
            continue
        if quality <= 0:
            continue
        candidate = (-quality, order, chosen)
        if best is None or candidate < best:
            best = candidate
    return best[2] if best else None


def _error(status: int, media: str, message: str, **headers: str) -> Response:
    body = {"errors": [{"message": message, "extensions": {"code": "BAD_USER_INPUT"}}]}
    return Response(
        json.dumps(body),
        status_code=status,
        media_type=f"{media}; charset=utf-8",
        headers=headers,
    )


def _is_text(raw: bytes, decoded: object) -> bool:
    """Whether JSON holds only text: "\\udc80" is valid JSON but no text, and
    no service could store it."""
    if b"\\ud" not in raw.lower():
        return True
    try:
        json.dumps(decoded, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _problem_with(params: dict[str, Any]) -> str | None:
    """Why the parameters are not a well-formed GraphQL-over-HTTP request."""
    query = params.get("query")
    if query is None:
        return messages.no_query()
    if not isinstance(query, str):
        return messages.query_not_a_string()
    if params.get("variables") is not None and not isinstance(
        params["variables"], dict
    ):
        return messages.variables_not_an_object()
    name = params.get("operationName")
    if name is not None and not isinstance(name, str):
        return messages.operation_name_not_a_string()
    if params.get("extensions") is not None and not isinstance(
        params["extensions"], dict
    ):
        return messages.extensions_not_an_object()
    return None


# Query texts up to this size are remembered with their operations: the same
# few texts (a screen's queries, the Get lead mutation) come again and again.
CACHED_TEXT = 20_000


@functools.lru_cache(maxsize=64)
def _cached_operations(query: str) -> dict[str | None, OperationType] | None:
    return _operations_of(query)


def _operations_of(query: str) -> dict[str | None, OperationType] | None:
    """The document's operations by name, or None when it does not parse (the
    executor then answers the syntax error)."""
    try:
        document = parse(query)
    except GraphQLError:
        return None
    return {
        (d.name.value if d.name else None): d.operation
        for d in document.definitions
        if isinstance(d, OperationDefinitionNode)
    }


def _operation(query: str, name: str | None) -> OperationType | str | None:
    """The type of the operation to run, or why none can be chosen (GraphQL's
    GetOperation); None when the document does not parse."""
    found = (
        _cached_operations(query)
        if len(query) <= CACHED_TEXT
        else _operations_of(query)
    )
    if found is None:
        return None
    if name:
        return found.get(name) or messages.no_such_operation(name)
    if len(found) != 1:
        return messages.operation_not_chosen()
    return next(iter(found.values()))


def _get_params(request: Request) -> dict[str, Any] | str:
    params: dict[str, Any] = dict(request.query_params)
    for name in ("variables", "extensions"):
        if params.get(name):
            try:
                params[name] = json.loads(params[name])
            except (ValueError, RecursionError):
                return messages.variables_not_an_object()
            if not _is_text(request.query_params[name].encode(), params[name]):
                return messages.body_not_text()
    if params.get("operationName") == "":
        params["operationName"] = None
    return params


def graphql_over_http(executor: ASGIApp) -> Callable[[Request], Awaitable[Response]]:
    """The /graphql endpoint for HTTP: checks the request, runs `executor`, and
    gives its answer the negotiated media type and status."""

    async def endpoint(request: Request) -> Response:
        media = negotiate(request.headers.get("accept"))
        wants_ide = request.method == "GET" and "text/html" in (
            request.headers.get("accept") or ""
        )
        if request.method not in ("GET", "POST"):
            return _error(
                405, media or JSON, messages.method_not_allowed(), Allow=METHODS
            )
        if media is None and not wants_ide:
            return _error(406, JSON, messages.not_acceptable())
        media = media or JSON
        body = b""
        if request.method == "GET":
            params = _get_params(request)
            if isinstance(params, str):
                return _error(400, media, params)
            if "query" not in params and wants_ide:
                return await _forward(executor, request, body, media)
        else:
            kind = (request.headers.get("content-type") or "").split(";")[0]
            if kind.strip().lower() != JSON:
                return _error(415, media, messages.unsupported_media_type())
            body = await request.body()
            try:
                params = json.loads(body)
            except (ValueError, RecursionError):
                return _error(400, media, messages.body_not_json())
            if not _is_text(body, params):
                return _error(400, media, messages.body_not_text())
            if not isinstance(params, dict):
                return _error(400, media, messages.body_not_an_object())
        problem = _problem_with(params)
        if problem:
            return _error(400, media, problem)
        operation = _operation(params["query"], params.get("operationName"))
        if isinstance(operation, str):
            # A request error of GraphQL itself: a well-formed request.
            status = 400 if media == GRAPHQL_RESPONSE else 200
            return _error(status, media, operation)
        if request.method == "GET" and operation is OperationType.MUTATION:
            return _error(405, media, messages.mutation_over_get(), Allow="POST")
        return await _forward(executor, request, body, media)

    return endpoint


async def _forward(
    executor: ASGIApp, request: Request, body: bytes, media: str
) -> Response:
    """The executor's answer to the request, in the negotiated media type."""
    sent = False

    async def receive() -> Message:
        nonlocal sent
        if sent:
            return {"type": "http.disconnect"}
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    start: Message = {}
    chunks: list[bytes] = []

    async def send(message: Message) -> None:
        nonlocal start
        if message["type"] == "http.response.start":
            start = message
        elif message["type"] == "http.response.body":
            chunks.append(message.get("body", b""))

    scope: Scope = dict(request.scope)
    await executor(scope, receive, send)
    status = int(start.get("status", 500))
    headers = {
        k.decode("latin-1"): v.decode("latin-1")
        for k, v in start.get("headers", [])
        if k.lower() not in (b"content-length", b"content-type")
    }
    content = b"".join(chunks)
    kind = dict(start.get("headers", [])).get(b"content-type", b"").decode("latin-1")
    if kind.startswith("text/html"):
        return HTMLResponse(content, status_code=status, headers=headers)
    if status == 200 and media == GRAPHQL_RESPONSE:
        content, status = _as_graphql_response(content)
    return Response(
        content,
        status_code=status,
        media_type=f"{media}; charset=utf-8",
        headers=headers,
    )


def _as_graphql_response(content: bytes) -> tuple[bytes, int]:
    """A request error (errors with no path, no data) answers 400 with no data
    entry; anything that was executed answers 200."""
    result = json.loads(content)
    errors = result.get("errors") or []
    if result.get("data") is None and errors and all("path" not in e for e in errors):
        result.pop("data", None)
        return json.dumps(result).encode(), 400
    return content, 200
