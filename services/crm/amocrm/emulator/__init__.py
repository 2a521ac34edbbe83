"""A local stand-in for amoCRM API v4: what a real account does, over HTTP.

It keeps one generated account in memory and answers like amoCRM does: HAL
bodies, 204 for empty lists and for deleted entities, `_links.next`
pagination, problem+json errors, 401 for expired tokens, single-use refresh
tokens, 429 above 7 requests a second, timed 403 blocks of the whole account,
402 once the subscription ends, Unsorted leads that are accepted and not
moved, and form-encoded webhooks with amoCRM's retry schedule that switch
themselves off after too many failed answers. Time comes from an injectable
clock, so tests decide when tokens expire, blocks end and retries are due.

Each behaviour carries the line of amoCRM's developer docs it comes from;
"guess:" marks the few no doc line backs. Run it alone with
`python -m services.crm.amocrm.emulator --port 8765`.
"""

from __future__ import annotations

import json
import random
from collections import deque
from collections.abc import Awaitable, Callable

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import Message, Receive, Scope, Send

from leadrouter.clock import Clock, SystemClock
from services.crm.amocrm.emulator.account import AccountApi
from services.crm.amocrm.emulator.base import (
    LOST,
    WON,
    Delivery,
    Invalid,
    Lead,
    LoggedRequest,
    Party,
    Pipeline,
    Refused,
    Status,
    Task,
    Unsorted,
    User,
    problem,
)
from services.crm.amocrm.emulator.control import ControlApi
from services.crm.amocrm.emulator.events import EventsApi
from services.crm.amocrm.emulator.oauth import OAuthApi
from services.crm.amocrm.emulator.parties import PartiesApi
from services.crm.amocrm.emulator.seed import Seeding
from services.crm.amocrm.emulator.tasks import TasksApi
from services.crm.amocrm.emulator.trash import TrashApi
from services.crm.amocrm.emulator.webhooks import HOOK_SETTINGS, WebhooksApi

__all__ = [
    "HOOK_SETTINGS",
    "LOST",
    "WON",
    "AmoEmulator",
    "Delivery",
    "Lead",
    "LoggedRequest",
    "Party",
    "Pipeline",
    "Status",
    "Task",
    "Unsorted",
    "User",
]


class AmoEmulator(
    ControlApi,
    Seeding,
    TrashApi,
    TasksApi,
    PartiesApi,
    EventsApi,
    WebhooksApi,
    AccountApi,
    OAuthApi,
):
    """One amoCRM account in memory, served as an ASGI app."""

    exchange_user = 5007  # the technical user that holds unclaimed leads

    def __init__(
        self,
        *,
        clock: Clock | None = None,
        seed: int = 7,
        leads: int = 300,
        subdomain: str = "emulated",
        account_id: int = 31000001,
        timezone: str = "Asia/Tomsk",
        client_id: str = "leadrouter-emulated-integration",
        client_secret: str = "emulated-client-secret-with-32-bytes!",
        redirect_uri: str = "https://leadrouter.example/amocrm/oauth",
        rate_limit: int = 7,
    ) -> None:
        self.clock = clock or SystemClock()
        self.subdomain = subdomain
        self.account_id = account_id
        self.timezone = timezone
        self.client_id = client_id
        self.client_secret = client_secret
        self.redirect_uri = redirect_uri
        self.url = ""  # where it is served, once whoever serves it knows
        self.api_filters_enabled = False
        self.integration_user = 5001  # whose name API changes are made in

        self.users = {}
        self.groups = {}
        self.pipelines = {}
        self.loss_reasons = {}
        self.leads = {}
        self.deleted_leads = {}
        self.contacts = {}
        self.companies = {}
        self.tasks = {}
        self.deleted_tasks = {}
        self.unsorted = {}
        self.events = []

        self.log = []
        self.deliveries = []
        self._hits = deque()
        self._next_id = {}
        self._sending = set()
        self._http = None
        self._init_faults(rate_limit)
        self._init_oauth()
        self._init_webhooks()
        self.seed(random.Random(seed), leads)
        self.app = Starlette(routes=self._routes())

    def requests(self, path_prefix: str = "/") -> list[LoggedRequest]:
        return [r for r in self.log if r.path.startswith(path_prefix)]

    async def aclose(self) -> None:
        await self.settle()
        if self._http is not None:
            await self._http.aclose()
            self._http = None

    # -- ASGI ------------------------------------------------------------------
    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        # Webhook retries fall due on the account's clock; each request is a
        # chance to send those whose time has come.
        self._start_due()
        status = 500
        body = bytearray()

        async def reading() -> Message:
            message = await receive()
            if message["type"] == "http.request":
                body.extend(message.get("body", b""))
            return message

        async def recording(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, reading, recording)
        finally:
            self.log.append(
                LoggedRequest(
                    at=self.clock.now(),
                    method=scope["method"],
                    path=scope["path"],
                    query=scope.get("query_string", b"").decode(),
                    status=status,
                    items=_list_length(bytes(body)),
                )
            )

    def _routes(self) -> list[Route]:
        api = self._api
        return [
            Route("/oauth2/access_token", self._token, methods=["POST"]),
            Route("/api/v4/account", api(self._account), methods=["GET"]),
            Route("/api/v4/users", api(self._users), methods=["GET"]),
            Route("/api/v4/leads/pipelines", api(self._pipelines), methods=["GET"]),
            Route("/api/v4/leads/unsorted", api(self._unsorted_list), methods=["GET"]),
            Route(
                "/api/v4/leads/unsorted/{uid}/accept",
                api(self._accept),
                methods=["POST"],
            ),
            Route("/api/v4/leads", api(self._leads), methods=["GET", "PATCH"]),
            Route(
                "/api/v4/leads/{id:int}", api(self._one_lead), methods=["GET", "PATCH"]
            ),
            Route(
                "/api/v4/contacts", api(self._contacts_api), methods=["GET", "PATCH"]
            ),
            Route(
                "/api/v4/companies", api(self._companies_api), methods=["GET", "PATCH"]
            ),
            Route("/api/v4/tasks", api(self._tasks_api), methods=["GET", "PATCH"]),
            Route("/api/v4/tasks/{id:int}", api(self._one_task), methods=["GET"]),
            Route("/api/v4/events", api(self._events), methods=["GET"]),
            Route(
                "/api/v4/webhooks",
                api(self._webhooks),
                methods=["GET", "POST", "DELETE"],
            ),
            Route("/_emulator/log", self._show_log, methods=["GET"]),
            Route("/_emulator/code", self._new_code, methods=["POST"]),
            Route("/_emulator/leads", self._control_add, methods=["POST"]),
            Route(
                "/_emulator/leads/{id:int}/move", self._control_move, methods=["POST"]
            ),
            Route(
                "/_emulator/leads/{id:int}/restore",
                self._control_restore,
                methods=["POST"],
            ),
            Route(
                "/_emulator/leads/{id:int}", self._control_delete, methods=["DELETE"]
            ),
        ]

    def _api(
        self, handler: Callable[[Request], Awaitable[Response]]
    ) -> Callable[[Request], Awaitable[Response]]:
        async def guarded(request: Request) -> Response:
            refused = self.refuse(request)
            if refused is not None:
                return refused
            try:
                return await handler(request)
            except Invalid as invalid:
                return problem(
                    400, "Bad Request", "Request validation failed", invalid.errors
                )
            except Refused as refusal:
                return problem(refusal.status, refusal.title, refusal.detail)

        return guarded

    async def _show_log(self, _: Request) -> Response:
        return JSONResponse([str(r) for r in self.log])


def _list_length(body: bytes) -> int:
    try:
        parsed = json.loads(body) if body else None
    except ValueError:
        return 0
    return len(parsed) if isinstance(parsed, list) else 0
