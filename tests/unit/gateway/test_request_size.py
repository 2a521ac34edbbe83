"""A ceiling on request bodies: 413 in words before the handler sees any of it."""

from __future__ import annotations

from collections.abc import AsyncIterator

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from gateway.request_size import RequestSizeLimit
from tests.unit.gateway.asgi import call

MIB = 1 << 20


def _app(limit: int) -> tuple[RequestSizeLimit, list[bytes]]:
    reached: list[bytes] = []

    async def echo(request: Request) -> PlainTextResponse:
        body = await request.body()
        reached.append(body)
        return PlainTextResponse(f"{len(body)} bytes")

    app = Starlette(routes=[Route("/", echo, methods=["POST"])])
    return RequestSizeLimit(app, limit=limit), reached


async def _chunks(size: int, chunk: int) -> AsyncIterator[bytes]:
    for start in range(0, size, chunk):
        yield b"x" * min(chunk, size - start)


async def test_a_declared_length_over_the_limit_is_refused_unread() -> None:
    app, reached = _app(limit=2 * MIB)
    reply = await call(app, "POST", "/", content=b"x" * (2 * MIB + 1))
    assert reply.status_code == 413
    assert reply.json() == {
        "errors": [
            {
                "message": "the request body is larger than 2 MiB; send less",
                "extensions": {"code": "BAD_USER_INPUT"},
            }
        ]
    }
    assert reached == []


async def test_a_streamed_body_without_length_is_cut_off_at_the_limit() -> None:
    app, reached = _app(limit=MIB)
    reply = await call(app, "POST", "/", content=_chunks(MIB + 10, 64 * 1024))
    assert reply.status_code == 413
    assert "larger than 1 MiB" in reply.json()["errors"][0]["message"]
    assert reached == []


async def test_a_body_within_the_limit_reaches_the_handler_whole() -> None:
    app, reached = _app(limit=MIB)
    reply = await call(app, "POST", "/", content=_chunks(MIB, 100_000))
    assert reply.status_code == 200
    assert reply.text == f"{MIB} bytes"
    assert reached == [b"x" * MIB]


async def test_exactly_the_limit_is_accepted() -> None:
    app, _reached = _app(limit=1000)
    reply = await call(app, "POST", "/", content=b"y" * 1000)
    assert reply.status_code == 200
