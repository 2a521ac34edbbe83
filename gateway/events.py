"""`POST /crm/events`: any CRM feeds its changes as JSON Lines (contract.md
section 4), each event with an "id" of its own.

    curl -X POST localhost:8000/crm/events -H "Authorization: Bearer $TOKEN" \\
      --data-binary @events.jsonl

200 with {"recorded": N, "alreadyRecorded": M}; a bad line is refused with
its line number, and then nothing of the body is applied (400, each problem
with its line). The same as the GraphQL mutation `recordEvents`.
"""

from __future__ import annotations

import re
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from gateway.errors import code_of
from gateway.exports import HTTP_STATUS, Authenticate, request_context
from gateway.schema.intake import record_events
from leadrouter import messages
from leadrouter.clients import Clients
from leadrouter.clock import Clock
from leadrouter.config import Settings
from leadrouter.errors import BadInput, LeadrouterError

LINE = re.compile(r"^line (\d+)")


def _problem(path: str, message: str) -> dict[str, Any]:
    found = LINE.match(path)
    line = int(found.group(1)) if found else None
    return {"line": line, "path": path, "message": message}


def event_routes(
    settings: Settings, clients: Clients, clock: Clock, authenticate: Authenticate
) -> list[Route]:
    async def events(request: Request) -> Response:
        ctx = request_context(settings, clients, clock, authenticate, request)
        try:
            body = await request.body()
            try:
                text = body.decode("utf-8")
            except UnicodeDecodeError as error:
                raise BadInput(messages.events_not_utf8()) from error
            done = await record_events(ctx, text.splitlines())
        except LeadrouterError as error:
            code = code_of(error)
            answer: dict[str, Any] = {"error": str(error), "code": code}
            if isinstance(error, BadInput) and error.problems:
                answer["problems"] = [
                    _problem(p.path, p.message) for p in error.problems
                ]
            return JSONResponse(answer, status_code=HTTP_STATUS.get(code, 400))
        return JSONResponse(
            {"recorded": done.recorded, "alreadyRecorded": done.already_recorded}
        )

    return [Route("/crm/events", events, methods=["POST"])]
