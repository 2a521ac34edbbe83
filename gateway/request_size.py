"""A ceiling on request bodies, so one caller cannot make the gateway hold megabytes.

The largest honest request is a workspace YAML in `applyWorkspace` or
`simulate`; a few hundred kilobytes covers accounts of thousands of users.
Past the ceiling the answer is 413 with a GraphQL-shaped error a person can
read, before any of the body reaches a handler.
"""

from __future__ import annotations

import json

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from leadrouter import messages

MAX_REQUEST_BYTES = 2 << 20


def _too_large(limit: int) -> bytes:
    message = messages.body_too_large(limit // (1 << 20))
    return json.dumps(
        {"errors": [{"message": message, "extensions": {"code": "BAD_USER_INPUT"}}]}
    ).encode()


class RequestSizeLimit:
    def __init__(self, app: ASGIApp, limit: int = MAX_REQUEST_BYTES) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length", b"")
        if declared.isdigit() and int(declared) > self.limit:
            await self._refuse(send)
            return
        # Without a trustworthy length the body is read here, up to the limit.
        messages: list[Message] = []
        size = 0
        while True:
            message = await receive()
            messages.append(message)
            if message["type"] != "http.request":
                break
            size += len(message.get("body", b""))
            if size > self.limit:
                await self._refuse(send)
                return
            if not message.get("more_body", False):
                break

        async def replay() -> Message:
            return messages.pop(0) if messages else await receive()

        await self.app(scope, replay, send)

    async def _refuse(self, send: Send) -> None:
        body = _too_large(self.limit)
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})
