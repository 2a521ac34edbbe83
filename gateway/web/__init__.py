"""The web UI's routes: the static single-page app at `/`, and the door through
which the amoCRM widget trades its disposable token for a UI session."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from leadrouter.auth import Caller, issue_token
from leadrouter.clock import Clock
from leadrouter.config import Settings

STATIC = Path(__file__).resolve().parent / "static"
# amoCRM's disposable tokens live 30 minutes; a UI session opened with one no longer.
WIDGET_SESSION = timedelta(minutes=30)

Authenticate = Callable[[Any], tuple[Caller | None, str]]


def web_routes(
    settings: Settings, clock: Clock, authenticate: Authenticate
) -> list[BaseRoute]:
    """Routes to append after the API's: `/` would otherwise shadow them."""

    async def widget_session(request: Request) -> Response:
        # The widget calls this through amoCRM's $authorizedAjax, which sends the
        # disposable token as X-Auth-Token; the UI then signs in with the reply.
        caller, problem = authenticate(request.headers)
        disposable = (request.headers.get("x-auth-token") or "").strip()
        if caller is None and disposable:
            # Our own session token sent the widget's way; if it is not one
            # either, the widget token's own flaw is what the caller hears.
            retried, _ = authenticate({"authorization": f"Bearer {disposable}"})
            if retried is not None:
                caller, problem = retried, ""
        if caller is None:
            return JSONResponse(
                {
                    "code": "UNAUTHENTICATED",
                    "message": problem or "send the widget's X-Auth-Token",
                },
                status_code=401,
            )
        now = clock.now()
        token = issue_token(
            settings.signing_secret,
            account=caller.account,
            user_id=caller.user_id,
            role=caller.role,
            now=now,
            ttl=WIDGET_SESSION,
        )
        return JSONResponse(
            {
                "token": token,
                "expiresAt": (now + WIDGET_SESSION).isoformat(),
                "role": caller.role,
            },
            headers={"Cache-Control": "no-store"},
        )

    return [
        Route("/widget/session", widget_session, methods=["POST"]),
        Mount("/", app=StaticFiles(directory=STATIC, html=True), name="web"),
    ]
