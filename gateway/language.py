"""The language of each request: Accept-Language chooses it (English when none
is asked), and every message the request produces, here or in a service it
calls, speaks it. The web UI and the amoCRM widget send the language they
show, so their errors read in the language of the screen around them."""

from __future__ import annotations

from starlette.types import ASGIApp, Receive, Scope, Send

from leadrouter import i18n


class RequestLanguage:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        header = dict(scope["headers"]).get(b"accept-language", b"")
        token = i18n.set_language(i18n.from_accept_language(header.decode("latin-1")))
        try:
            await self.app(scope, receive, send)
        finally:
            i18n.restore(token)
