"""A local stand-in for amoCRM API v4: the behaviour the connector relies on, over HTTP.

It keeps one generated account in memory and answers like amoCRM does: HAL
bodies, 204 for empty lists, `_links.next` pagination, problem+json errors,
401 for expired tokens, single-use refresh tokens, 429 above 7 requests a
second, and form-encoded webhooks to registered destinations. Time comes from
an injectable clock so tests decide when tokens expire and when a second has
passed. Run it alone with `python -m services.crm.amocrm.emulator --port 8765`.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import secrets
import zlib
from collections import deque
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import parse_qsl, urlencode
from zoneinfo import ZoneInfo

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import Message, Receive, Scope, Send

from leadrouter.clock import Clock, SystemClock

WON, LOST = 142, 143
ACCESS_TTL = timedelta(days=1)
CODE_TTL = timedelta(minutes=20)
HOOK_SETTINGS = {
    "add_lead": ("leads", "add"),
    "status_lead": ("leads", "status"),
    "responsible_lead": ("leads", "responsible"),
    "add_task": ("task", "add"),
    "update_task": ("task", "update"),
}
ELEMENT_TYPES = {"contacts": "1", "leads": "2", "companies": "3"}


@dataclass
class User:
    id: int
    name: str
    email: str
    group_id: int = 0
    is_admin: bool = False
    is_active: bool = True


@dataclass
class Status:
    id: int
    name: str
    sort: int
    pipeline_id: int
    type: int = 0  # 1 = the Unsorted stage

    @property
    def is_editable(self) -> bool:
        return self.id not in (WON, LOST) and self.type != 1


@dataclass
class Pipeline:
    id: int
    name: str
    sort: int
    statuses: list[Status]
    is_main: bool = False
    is_archive: bool = False

    def status(self, status_id: int) -> Status | None:
        return next((s for s in self.statuses if s.id == status_id), None)


@dataclass
class Lead:
    id: int
    name: str
    price: int
    responsible_user_id: int
    group_id: int
    pipeline_id: int
    status_id: int
    created_at: int
    updated_at: int
    created_by: int = 0
    updated_by: int = 0
    closed_at: int | None = None
    loss_reason_id: int | None = None
    tags: list[str] = field(default_factory=list)
    contacts: list[int] = field(default_factory=list)
    companies: list[int] = field(default_factory=list)


@dataclass
class Party:
    """A contact or a company."""

    id: int
    name: str
    responsible_user_id: int
    created_at: int
    updated_at: int


@dataclass
class Task:
    id: int
    responsible_user_id: int
    entity_id: int | None
    entity_type: str | None  # leads | contacts | companies
    complete_till: int
    text: str
    created_at: int
    updated_at: int
    created_by: int = 0
    is_completed: bool = False
    task_type_id: int = 1
    result_text: str | None = None


@dataclass(frozen=True)
class LoggedRequest:
    at: datetime
    method: str
    path: str
    query: str
    status: int
    # Entities in a JSON list body: how many leads a batch write carried.
    items: int = 0

    def __str__(self) -> str:
        target = f"{self.path}?{self.query}" if self.query else self.path
        return f"{self.method} {target} -> {self.status}"


@dataclass
class Delivery:
    """One webhook POST to a destination and how it was answered."""

    url: str
    body: str
    status: int | None = None
    error: str = ""


class Invalid(Exception):
    """A request amoCRM would refuse with 400 and validation errors."""

    def __init__(self, errors: list[dict[str, Any]]) -> None:
        super().__init__("validation failed")
        self.errors = errors


def _hal(body: Any, status: int = 200) -> Response:
    return JSONResponse(body, status, media_type="application/hal+json")


def problem(
    status: int, title: str, detail: str, errors: list[dict[str, Any]] | None = None
) -> Response:
    body: dict[str, Any] = {
        "title": title,
        "type": f"https://httpstatus.es/{status}",
        "status": status,
        "detail": detail,
    }
    if errors:
        body["validation-errors"] = errors
    return JSONResponse(body, status, media_type="application/problem+json")


def _values(request: Request, name: str) -> list[str]:
    """Values of `name`, `name[]` and `name[N]`, comma lists split, all as one list."""
    found: list[str] = []
    for key, value in request.query_params.multi_items():
        index = key[len(name) + 1 : -1] if key.startswith(name + "[") else None
        if key == name or index == "" or (index is not None and index.isdigit()):
            found += [v for v in value.split(",") if v]
    return found


def _int_or_none(value: Any) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError
    return value


class AmoEmulator:
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
        self.rate_limit = rate_limit
        self.url = ""  # where it is served, once whoever serves it knows
        self.api_filters_enabled = False
        self.integration_user = 5001  # whose name API changes are made in

        self.users: dict[int, User] = {}
        self.groups: dict[int, str] = {}
        self.pipelines: dict[int, Pipeline] = {}
        self.loss_reasons: dict[int, str] = {}
        self.leads: dict[int, Lead] = {}
        self.contacts: dict[int, Party] = {}
        self.companies: dict[int, Party] = {}
        self.tasks: dict[int, Task] = {}
        self.events: list[dict[str, Any]] = []
        self.webhooks: list[dict[str, Any]] = []

        self.log: list[LoggedRequest] = []
        self.deliveries: list[Delivery] = []
        self.outage_until: datetime | None = None
        self._hits: deque[datetime] = deque()
        self._codes: dict[str, datetime] = {}
        self._access: dict[str, datetime | None] = {}  # None = long-lived
        self._refresh: set[str] = set()
        self._next_id = {"lead": 0, "party": 0, "task": 0, "event": 0}
        self._sending: set[asyncio.Task[None]] = set()
        self._http: httpx.AsyncClient | None = None
        self._seed(random.Random(seed), leads)
        self.app = Starlette(routes=self._routes())

    # -- control, for tests and the standalone runner ------------------------
    def now(self) -> int:
        return int(self.clock.now().timestamp())

    def outage(self, seconds: float) -> None:
        """Every request answers 503 until the clock has moved on by `seconds`."""
        self.outage_until = self.clock.now() + timedelta(seconds=seconds)

    def issue_code(self) -> str:
        """An authorization code, as the consent screen hands to the redirect URI."""
        code = "def" + secrets.token_hex(24)
        self._codes[code] = self.clock.now() + CODE_TTL
        return code

    def issue_long_lived_token(self) -> str:
        token = "llt." + secrets.token_hex(32)
        self._access[token] = None
        return token

    def revoke_access_tokens(self) -> None:
        """Every access token stops working (as after an admin resets access)."""
        self._access = {t: exp for t, exp in self._access.items() if exp is None}

    def requests(self, path_prefix: str = "/") -> list[LoggedRequest]:
        return [r for r in self.log if r.path.startswith(path_prefix)]

    async def settle(self) -> None:
        """Waits until every webhook already triggered has been delivered."""
        while self._sending:
            await asyncio.gather(*list(self._sending), return_exceptions=True)

    async def aclose(self) -> None:
        await self.settle()
        if self._http is not None:
            await self._http.aclose()
            self._http = None

    # -- what people do in amoCRM's interface (recorded, webhooks sent) -------
    async def add_lead(
        self,
        name: str,
        *,
        pipeline_id: int | None = None,
        status_id: int | None = None,
        responsible_user_id: int | None = None,
        price: int = 0,
        tags: Iterable[str] = (),
        contact: bool = True,
        notify: bool = True,
        by: int | None = None,
    ) -> Lead:
        pipeline = self.pipelines[pipeline_id or self.main_pipeline().id]
        status = status_id or self.first_open_status(pipeline.id)
        owner = responsible_user_id or self.exchange_user
        by = by or self.integration_user
        lead = self._new_lead(
            name, pipeline.id, status, owner, price, list(tags), self.now(), by
        )
        if contact:
            party = self._new_party(self.contacts, f"Contact of {name}", owner)
            lead.contacts.append(party.id)
        self._event("lead_added", "lead", lead.id, [], [], by)
        await self._notify(notify, "add_lead", [self._lead_hook(lead, {})])
        return lead

    async def move_lead(
        self,
        lead_id: int,
        status_id: int,
        *,
        pipeline_id: int | None = None,
        loss_reason_id: int | None = None,
        notify: bool = True,
        by: int | None = None,
    ) -> None:
        lead = self.leads[lead_id]
        hook = self._set_status(
            lead,
            pipeline_id or lead.pipeline_id,
            status_id,
            loss_reason_id,
            by or self.integration_user,
        )
        await self._notify(notify, "status_lead", [hook] if hook else [])

    async def give_lead(
        self, lead_id: int, user_id: int, *, notify: bool = True, by: int | None = None
    ) -> None:
        hook = self._set_lead_responsible(
            self.leads[lead_id], user_id, by or self.integration_user
        )
        await self._notify(notify, "responsible_lead", [hook] if hook else [])

    async def add_task(
        self,
        lead_id: int,
        *,
        responsible_user_id: int,
        complete_till: int,
        text: str = "Call back",
        notify: bool = True,
        by: int | None = None,
    ) -> Task:
        self._next_id["task"] += 1
        now = self.now()
        task = Task(
            id=self._next_id["task"],
            responsible_user_id=responsible_user_id,
            entity_id=lead_id,
            entity_type="leads",
            complete_till=complete_till,
            text=text,
            created_at=now,
            updated_at=now,
            created_by=by or self.integration_user,
        )
        self.tasks[task.id] = task
        self._event("task_added", "task", task.id, [], [], task.created_by)
        await self._notify(notify, "add_task", [self._task_hook(task, False)])
        return task

    async def complete_task(
        self, task_id: int, *, notify: bool = True, by: int | None = None
    ) -> None:
        hook = self._update_task(
            self.tasks[task_id], {"is_completed": True}, by or self.integration_user
        )
        await self._notify(notify, "update_task", [hook] if hook else [])

    # -- reading the seeded account ------------------------------------------
    def main_pipeline(self) -> Pipeline:
        return next(p for p in self.pipelines.values() if p.is_main)

    def first_open_status(self, pipeline_id: int) -> int:
        """The first open stage after Unsorted: where new leads land."""
        statuses = sorted(self.pipelines[pipeline_id].statuses, key=lambda s: s.sort)
        return next(s.id for s in statuses if s.type == 0 and s.id not in (WON, LOST))

    def pool(self) -> list[Lead]:
        """Leads the exchange user holds in the main pipeline's first open stage."""
        main = self.main_pipeline()
        stage = self.first_open_status(main.id)
        return sorted(
            (
                x
                for x in self.leads.values()
                if x.pipeline_id == main.id
                and x.status_id == stage
                and x.responsible_user_id == self.exchange_user
            ),
            key=lambda x: (x.created_at, x.id),
        )

    # -- ASGI ------------------------------------------------------------------
    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
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
        ]

    def _api(
        self, handler: Callable[[Request], Awaitable[Response]]
    ) -> Callable[[Request], Awaitable[Response]]:
        async def guarded(request: Request) -> Response:
            refused = self._refuse(request)
            if refused is not None:
                return refused
            try:
                return await handler(request)
            except Invalid as error:
                return problem(
                    400,
                    "Bad Request",
                    "Request validation failed",
                    error.errors,
                )

        return guarded

    def _down(self) -> Response | None:
        if self.outage_until is not None and self.clock.now() < self.outage_until:
            return Response("Service Temporarily Unavailable", 503)
        return None

    def _refuse(self, request: Request) -> Response | None:
        down = self._down()
        if down is not None:
            return down
        now = self.clock.now()
        while self._hits and now - self._hits[0] >= timedelta(seconds=1):
            self._hits.popleft()
        if len(self._hits) >= self.rate_limit:
            return problem(429, "Too Many Requests", "Too many requests")
        self._hits.append(now)
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or token not in self._access:
            return problem(401, "Unauthorized", "Authorization failed")
        expires = self._access[token]
        if expires is not None and expires <= now:
            return problem(401, "Unauthorized", "Access token has expired")
        return None

    # -- OAuth -------------------------------------------------------------------
    async def _token(self, request: Request) -> Response:
        down = self._down()
        if down is not None:
            return down
        raw = await request.body()
        if request.headers.get("content-type", "").startswith("application/json"):
            form = json.loads(raw or b"{}")
        else:
            form = dict(parse_qsl(raw.decode()))
        if (
            form.get("client_id") != self.client_id
            or form.get("client_secret") != self.client_secret
        ):
            return problem(401, "Unauthorized", "Client authentication failed")
        if form.get("redirect_uri") != self.redirect_uri:
            return problem(400, "Bad Request", "redirect_uri does not match")
        grant = form.get("grant_type")
        now = self.clock.now()
        if grant == "authorization_code":
            expires = self._codes.pop(str(form.get("code")), None)
            if expires is None or expires <= now:
                return problem(
                    400, "Bad Request", "Authorization code has expired or was used"
                )
        elif grant == "refresh_token":
            token = str(form.get("refresh_token"))
            if token not in self._refresh:
                return problem(400, "Bad Request", "Token has been revoked")
            self._refresh.discard(token)  # single use: the pair is replaced
        else:
            return problem(400, "Bad Request", f"unsupported grant_type {grant!r}")
        access, refresh = secrets.token_hex(32), "def" + secrets.token_hex(40)
        self._access[access] = now + ACCESS_TTL
        self._refresh.add(refresh)
        return JSONResponse(
            {
                "token_type": "Bearer",
                "expires_in": int(ACCESS_TTL.total_seconds()),
                "access_token": access,
                "refresh_token": refresh,
            }
        )

    async def _new_code(self, _: Request) -> Response:
        return JSONResponse({"code": self.issue_code()})

    async def _show_log(self, _: Request) -> Response:
        return JSONResponse([str(r) for r in self.log])

    # -- account, users, pipelines ---------------------------------------------
    async def _account(self, request: Request) -> Response:
        wanted = set(_values(request, "with"))
        base = str(request.base_url).rstrip("/")
        body: dict[str, Any] = {
            "id": self.account_id,
            "name": "Emulated account",
            "subdomain": self.subdomain,
            "current_user_id": self.integration_user,
            "country": "RU",
            "customers_mode": "disabled",
            "is_unsorted_on": True,
            "is_loss_reason_enabled": True,
            "is_helpbot_enabled": False,
            "is_technical_account": False,
            "contact_name_display_order": 1,
            "_links": {"self": {"href": f"{base}/api/v4/account"}},
        }
        embedded: dict[str, Any] = {}
        if "users_groups" in wanted:
            embedded["users_groups"] = [
                {"id": gid, "name": name, "uuid": None}
                for gid, name in sorted(self.groups.items())
            ]
        if "datetime_settings" in wanted:
            offset = datetime.now(ZoneInfo(self.timezone)).strftime("%z")
            embedded["datetime_settings"] = {
                "date_pattern": "d.m.Y H:i",
                "short_date_pattern": "d.m.Y",
                "short_time_pattern": "H:i",
                "date_format": "d.m.Y",
                "time_format": "H:i:s",
                "timezone": self.timezone,
                "timezone_offset": f"{offset[:3]}:{offset[3:]}",
            }
        if "is_api_filter_enabled" in wanted:
            body["is_api_filter_enabled"] = self.api_filters_enabled
        if embedded:
            body["_embedded"] = embedded
        return _hal(body)

    async def _users(self, request: Request) -> Response:
        base = str(request.base_url).rstrip("/")

        def render(u: User) -> dict[str, Any]:
            return {
                "id": u.id,
                "name": u.name,
                "email": u.email,
                "lang": "ru",
                "rights": {
                    "leads": {"view": "A", "edit": "A", "add": "A", "delete": "A"},
                    "mail_access": True,
                    "catalog_access": True,
                    "is_admin": u.is_admin,
                    "is_free": False,
                    "is_active": u.is_active,
                    "group_id": u.group_id,
                    "role_id": None,
                },
                "_links": {"self": {"href": f"{base}/api/v4/users/{u.id}"}},
            }

        return self._page(
            request, sorted(self.users.values(), key=lambda u: u.id), "users", render
        )

    async def _pipelines(self, request: Request) -> Response:
        base = str(request.base_url).rstrip("/")
        items = []
        for p in sorted(self.pipelines.values(), key=lambda p: p.sort):
            items.append(
                {
                    "id": p.id,
                    "name": p.name,
                    "sort": p.sort,
                    "is_main": p.is_main,
                    "is_unsorted_on": True,
                    "is_archive": p.is_archive,
                    "account_id": self.account_id,
                    "_links": {
                        "self": {"href": f"{base}/api/v4/leads/pipelines/{p.id}"}
                    },
                    "_embedded": {
                        "statuses": [
                            {
                                "id": s.id,
                                "name": s.name,
                                "sort": s.sort,
                                "is_editable": s.is_editable,
                                "pipeline_id": p.id,
                                "color": "#fffeb2",
                                "type": s.type,
                                "account_id": self.account_id,
                            }
                            for s in sorted(p.statuses, key=lambda s: s.sort)
                        ]
                    },
                }
            )
        return _hal(
            {
                "_total_items": len(items),
                "_links": {"self": {"href": f"{base}/api/v4/leads/pipelines"}},
                "_embedded": {"pipelines": items},
            }
        )

    # -- leads -------------------------------------------------------------------
    def _render_lead(self, base: str, with_: set[str]) -> Callable[[Lead], Any]:
        def render(x: Lead) -> dict[str, Any]:
            open_tasks = [
                t.complete_till
                for t in self.tasks.values()
                if t.entity_type == "leads"
                and t.entity_id == x.id
                and not t.is_completed
            ]
            embedded: dict[str, Any] = {
                "tags": [
                    {"id": zlib.crc32(t.encode()) % 100000, "name": t} for t in x.tags
                ],
                "companies": [
                    {
                        "id": c,
                        "_links": {"self": {"href": f"{base}/api/v4/companies/{c}"}},
                    }
                    for c in x.companies
                ],
            }
            if "contacts" in with_:
                embedded["contacts"] = [
                    {
                        "id": c,
                        "is_main": i == 0,
                        "_links": {"self": {"href": f"{base}/api/v4/contacts/{c}"}},
                    }
                    for i, c in enumerate(x.contacts)
                ]
            if "loss_reason" in with_ and x.loss_reason_id:
                embedded["loss_reason"] = [
                    {
                        "id": x.loss_reason_id,
                        "name": self.loss_reasons[x.loss_reason_id],
                    }
                ]
            return {
                "id": x.id,
                "name": x.name,
                "price": x.price,
                "responsible_user_id": x.responsible_user_id,
                "group_id": x.group_id,
                "status_id": x.status_id,
                "pipeline_id": x.pipeline_id,
                "loss_reason_id": x.loss_reason_id,
                "created_by": x.created_by,
                "updated_by": x.updated_by,
                "created_at": x.created_at,
                "updated_at": x.updated_at,
                "closed_at": x.closed_at,
                "closest_task_at": min(open_tasks) if open_tasks else None,
                "is_deleted": False,
                "custom_fields_values": None,
                "score": None,
                "account_id": self.account_id,
                "labor_cost": None,
                "_links": {"self": {"href": f"{base}/api/v4/leads/{x.id}"}},
                "_embedded": embedded,
            }

        return render

    async def _leads(self, request: Request) -> Response:
        base = str(request.base_url).rstrip("/")
        if request.method == "PATCH":
            items = await self._batch(request)
            hooks = self._patch_leads(items)
            self._send(hooks)
            return _hal(
                {
                    "_links": {"self": {"href": f"{base}/api/v4/leads"}},
                    "_embedded": {
                        "leads": [
                            {
                                "id": item["id"],
                                "updated_at": self.leads[item["id"]].updated_at,
                                "request_id": str(n),
                                "_links": {
                                    "self": {
                                        "href": f"{base}/api/v4/leads/{item['id']}"
                                    }
                                },
                            }
                            for n, item in enumerate(items)
                        ]
                    },
                }
            )
        # Filters are a paid add-on; on this account they are not enabled, so the
        # list is the whole account whatever filter the caller sends.
        leads = sorted(self.leads.values(), key=lambda x: x.id)
        render = self._render_lead(base, set(_values(request, "with")))
        return self._page(request, leads, "leads", render)

    async def _one_lead(self, request: Request) -> Response:
        base = str(request.base_url).rstrip("/")
        lead_id = int(request.path_params["id"])
        if request.method == "PATCH":
            item = json.loads(await request.body() or b"null")
            if not isinstance(item, dict):
                raise Invalid([_error("0", "", "InvalidType", "an object is expected")])
            item["id"] = lead_id
            self._send(self._patch_leads([item]))
            return _hal({"id": lead_id, "updated_at": self.leads[lead_id].updated_at})
        lead = self.leads.get(lead_id)
        if lead is None:
            return Response(status_code=204)
        return _hal(self._render_lead(base, set(_values(request, "with")))(lead))

    async def _batch(self, request: Request) -> list[dict[str, Any]]:
        try:
            items = json.loads(await request.body() or b"null")
        except json.JSONDecodeError as error:
            raise Invalid([_error("0", "", "InvalidJson", str(error))]) from error
        if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
            raise Invalid([_error("0", "", "InvalidType", "an array is expected")])
        if not items:
            raise Invalid([_error("0", "", "Empty", "the array is empty")])
        if len(items) > 250:
            raise Invalid(
                [_error("0", "", "TooMany", "at most 250 entities in one request")]
            )
        return items

    def _patch_leads(self, items: list[dict[str, Any]]) -> dict[str, list[Any]]:
        errors: list[dict[str, Any]] = []
        for n, item in enumerate(items):
            errors += self._check_lead_patch(str(n), item)
        if errors:
            raise Invalid(errors)
        hooks: dict[str, list[Any]] = {"status_lead": [], "responsible_lead": []}
        by = self.integration_user
        for item in items:
            lead = self.leads[item["id"]]
            if "name" in item:
                lead.name = str(item["name"])
            if "price" in item:
                lead.price = int(item["price"])
            if "responsible_user_id" in item:
                hook = self._set_lead_responsible(lead, item["responsible_user_id"], by)
                if hook:
                    hooks["responsible_lead"].append(hook)
            if "status_id" in item or "pipeline_id" in item:
                pipeline = item.get("pipeline_id") or lead.pipeline_id
                status = item.get("status_id") or self.first_open_status(pipeline)
                hook = self._set_status(
                    lead, pipeline, status, item.get("loss_reason_id"), by
                )
                if hook:
                    hooks["status_lead"].append(hook)
            lead.updated_at, lead.updated_by = self.now(), by
        return hooks

    def _check_lead_patch(self, request_id: str, item: dict[str, Any]) -> list[Any]:
        errors = []
        lead_id = item.get("id")
        lead = self.leads.get(lead_id) if isinstance(lead_id, int) else None
        if lead is None:
            return [_error(request_id, "id", "NotFound", "entity not found")]
        try:
            user = _int_or_none(item.get("responsible_user_id"))
            pipeline_id = _int_or_none(item.get("pipeline_id"))
            status_id = _int_or_none(item.get("status_id"))
            _int_or_none(item.get("loss_reason_id"))
        except ValueError:
            return [_error(request_id, "", "InvalidType", "ids must be integers")]
        if "responsible_user_id" in item and not self._assignable(user):
            errors.append(
                _error(
                    request_id,
                    "responsible_user_id",
                    "NotSupportedChoice",
                    "The value you selected is not a valid choice.",
                )
            )
        pipeline = self.pipelines.get(pipeline_id or lead.pipeline_id)
        if pipeline is None or pipeline.is_archive:
            errors.append(
                _error(
                    request_id, "pipeline_id", "NotSupportedChoice", "no such pipeline"
                )
            )
        elif status_id is not None and pipeline.status(status_id) is None:
            errors.append(
                _error(
                    request_id,
                    "status_id",
                    "NotSupportedChoice",
                    "The value you selected is not a valid choice.",
                )
            )
        return errors

    def _assignable(self, user_id: int | None) -> bool:
        user = self.users.get(user_id) if user_id is not None else None
        return user is not None and user.is_active

    def _set_status(
        self,
        lead: Lead,
        pipeline_id: int,
        status_id: int,
        loss_reason_id: int | None,
        by: int,
    ) -> dict[str, Any] | None:
        if (lead.pipeline_id, lead.status_id) == (pipeline_id, status_id):
            return None
        before = {
            "lead_status": {"id": lead.status_id, "pipeline_id": lead.pipeline_id}
        }
        after = {"lead_status": {"id": status_id, "pipeline_id": pipeline_id}}
        extra = {"old_status_id": lead.status_id}
        if pipeline_id != lead.pipeline_id:
            extra["old_pipeline_id"] = lead.pipeline_id
        now = self.now()
        lead.pipeline_id, lead.status_id = pipeline_id, status_id
        lead.closed_at = now if status_id in (WON, LOST) else None
        lead.loss_reason_id = loss_reason_id if status_id == LOST else None
        lead.updated_at, lead.updated_by = now, by
        self._event("lead_status_changed", "lead", lead.id, [before], [after], by)
        return self._lead_hook(lead, extra)

    def _set_lead_responsible(
        self, lead: Lead, user_id: int, by: int
    ) -> dict[str, Any] | None:
        if lead.responsible_user_id == user_id:
            return None
        old = lead.responsible_user_id
        lead.responsible_user_id = user_id
        lead.group_id = self.users[user_id].group_id
        lead.updated_at, lead.updated_by = self.now(), by
        self._event(
            "entity_responsible_changed",
            "lead",
            lead.id,
            [{"responsible_user": {"id": old}}],
            [{"responsible_user": {"id": user_id}}],
            by,
        )
        return self._lead_hook(lead, {"old_responsible_user_id": old})

    # -- contacts and companies --------------------------------------------------
    async def _contacts_api(self, request: Request) -> Response:
        return await self._parties(request, self.contacts, "contacts", "contact")

    async def _companies_api(self, request: Request) -> Response:
        return await self._parties(request, self.companies, "companies", "company")

    async def _parties(
        self, request: Request, table: dict[int, Party], key: str, entity: str
    ) -> Response:
        base = str(request.base_url).rstrip("/")
        if request.method == "PATCH":
            items = await self._batch(request)
            errors = []
            for n, item in enumerate(items):
                if table.get(item.get("id")) is None:  # type: ignore[arg-type]
                    errors.append(_error(str(n), "id", "NotFound", "entity not found"))
                elif "responsible_user_id" in item and not self._assignable(
                    item["responsible_user_id"]
                ):
                    errors.append(
                        _error(
                            str(n),
                            "responsible_user_id",
                            "NotSupportedChoice",
                            "The value you selected is not a valid choice.",
                        )
                    )
            if errors:
                raise Invalid(errors)
            for item in items:
                party = table[item["id"]]
                user = item.get("responsible_user_id", party.responsible_user_id)
                if user != party.responsible_user_id:
                    self._event(
                        "entity_responsible_changed",
                        entity,
                        party.id,
                        [{"responsible_user": {"id": party.responsible_user_id}}],
                        [{"responsible_user": {"id": user}}],
                        self.integration_user,
                    )
                    party.responsible_user_id = user
                if "name" in item:
                    party.name = str(item["name"])
                party.updated_at = self.now()
            return _hal(
                {
                    "_links": {"self": {"href": f"{base}/api/v4/{key}"}},
                    "_embedded": {
                        key: [
                            {
                                "id": i["id"],
                                "updated_at": table[i["id"]].updated_at,
                                "request_id": str(n),
                            }
                            for n, i in enumerate(items)
                        ]
                    },
                }
            )

        def render(p: Party) -> dict[str, Any]:
            return {
                "id": p.id,
                "name": p.name,
                "responsible_user_id": p.responsible_user_id,
                "group_id": self.users[p.responsible_user_id].group_id,
                "created_by": self.integration_user,
                "updated_by": self.integration_user,
                "created_at": p.created_at,
                "updated_at": p.updated_at,
                "closest_task_at": None,
                "is_deleted": False,
                "custom_fields_values": None,
                "account_id": self.account_id,
                "_links": {"self": {"href": f"{base}/api/v4/{key}/{p.id}"}},
                "_embedded": {"tags": []},
            }

        return self._page(
            request, sorted(table.values(), key=lambda p: p.id), key, render
        )

    # -- tasks -------------------------------------------------------------------
    def _render_task(self, base: str) -> Callable[[Task], Any]:
        def render(t: Task) -> dict[str, Any]:
            return {
                "id": t.id,
                "created_by": t.created_by,
                "updated_by": t.created_by,
                "created_at": t.created_at,
                "updated_at": t.updated_at,
                "responsible_user_id": t.responsible_user_id,
                "group_id": self.users[t.responsible_user_id].group_id,
                "entity_id": t.entity_id,
                "entity_type": t.entity_type,
                "duration": 0,
                "is_completed": t.is_completed,
                "task_type_id": t.task_type_id,
                "text": t.text,
                "result": {"text": t.result_text} if t.result_text else [],
                "complete_till": t.complete_till,
                "account_id": self.account_id,
                "_links": {"self": {"href": f"{base}/api/v4/tasks/{t.id}"}},
            }

        return render

    async def _tasks_api(self, request: Request) -> Response:
        base = str(request.base_url).rstrip("/")
        if request.method == "PATCH":
            items = await self._batch(request)
            errors = []
            for n, item in enumerate(items):
                if self.tasks.get(item.get("id")) is None:  # type: ignore[arg-type]
                    errors.append(_error(str(n), "id", "NotFound", "entity not found"))
                elif "responsible_user_id" in item and not self._assignable(
                    item["responsible_user_id"]
                ):
                    errors.append(
                        _error(
                            str(n),
                            "responsible_user_id",
                            "NotSupportedChoice",
                            "The value you selected is not a valid choice.",
                        )
                    )
            if errors:
                raise Invalid(errors)
            hooks = [
                self._update_task(self.tasks[i["id"]], i, self.integration_user)
                for i in items
            ]
            self._send({"update_task": [h for h in hooks if h]})
            return _hal(
                {
                    "_links": {"self": {"href": f"{base}/api/v4/tasks"}},
                    "_embedded": {
                        "tasks": [
                            {
                                "id": i["id"],
                                "updated_at": self.tasks[i["id"]].updated_at,
                                "request_id": str(n),
                            }
                            for n, i in enumerate(items)
                        ]
                    },
                }
            )
        tasks = sorted(self.tasks.values(), key=lambda t: t.id)
        return self._page(request, tasks, "tasks", self._render_task(base))

    async def _one_task(self, request: Request) -> Response:
        task = self.tasks.get(int(request.path_params["id"]))
        if task is None:
            return Response(status_code=204)
        return _hal(self._render_task(str(request.base_url).rstrip("/"))(task))

    def _update_task(
        self, task: Task, item: dict[str, Any], by: int
    ) -> dict[str, Any] | None:
        changed = closed = False
        if "responsible_user_id" in item and (
            item["responsible_user_id"] != task.responsible_user_id
        ):
            self._event(
                "entity_responsible_changed",
                "task",
                task.id,
                [{"responsible_user": {"id": task.responsible_user_id}}],
                [{"responsible_user": {"id": item["responsible_user_id"]}}],
                by,
            )
            task.responsible_user_id = item["responsible_user_id"]
            changed = True
        if "complete_till" in item and item["complete_till"] != task.complete_till:
            self._event(
                "task_deadline_changed",
                "task",
                task.id,
                [{"task_deadline": {"timestamp": task.complete_till}}],
                [{"task_deadline": {"timestamp": item["complete_till"]}}],
                by,
            )
            task.complete_till = int(item["complete_till"])
            changed = True
        if item.get("is_completed") and not task.is_completed:
            task.is_completed = closed = changed = True
            self._event("task_completed", "task", task.id, [], [], by)
        if "text" in item:
            task.text = str(item["text"])
        if not changed:
            return None
        task.updated_at = self.now()
        return self._task_hook(task, closed)

    # -- events ------------------------------------------------------------------
    async def _events(self, request: Request) -> Response:
        types = set(_values(request, "filter[type]"))
        entities = set(_values(request, "filter[entity]"))
        entity_ids = {int(v) for v in _values(request, "filter[entity_id]")}
        since = request.query_params.get("filter[created_at][from]")
        until = request.query_params.get("filter[created_at][to]")
        found = [
            e
            for e in self.events
            if (not types or e["type"] in types)
            and (not entities or e["entity_type"] in entities)
            and (not entity_ids or e["entity_id"] in entity_ids)
            and (since is None or e["created_at"] >= int(since))
            and (until is None or e["created_at"] <= int(until))
        ]
        found.sort(key=lambda e: (e["created_at"], e["id"]), reverse=True)
        return self._page(request, found, "events", lambda e: e, max_limit=100)

    def _event(
        self,
        type_: str,
        entity_type: str,
        entity_id: int,
        before: list[Any],
        after: list[Any],
        by: int,
    ) -> None:
        self._next_id["event"] += 1
        self.events.append(
            {
                "id": f"01emu{self._next_id['event']:021d}",
                "type": type_,
                "entity_id": entity_id,
                "entity_type": entity_type,
                "created_by": by,
                "created_at": self.now(),
                "value_after": after,
                "value_before": before,
                "account_id": self.account_id,
            }
        )

    # -- webhooks ----------------------------------------------------------------
    async def _webhooks(self, request: Request) -> Response:
        if request.method == "GET":
            return self._page(request, list(self.webhooks), "webhooks", lambda h: h)
        body = json.loads(await request.body() or b"{}")
        destination = body.get("destination") if isinstance(body, dict) else None
        if not isinstance(destination, str) or not destination.startswith("http"):
            raise Invalid([_error("0", "destination", "InvalidUrl", "a URL is needed")])
        self.webhooks = [h for h in self.webhooks if h["destination"] != destination]
        if request.method == "DELETE":
            return Response(status_code=204)
        settings = body.get("settings") or []
        unknown = [s for s in settings if s not in HOOK_SETTINGS]
        if unknown or not settings:
            raise Invalid(
                [_error("0", "settings", "NotSupportedChoice", f"unknown {unknown}")]
            )
        hook = {
            "id": len(self.webhooks) + 1,
            "destination": destination,
            "created_at": self.now(),
            "updated_at": self.now(),
            "account_id": self.account_id,
            "created_by": self.integration_user,
            "sort": 1,
            "disabled": False,
            "settings": list(settings),
        }
        self.webhooks.append(hook)
        return _hal(hook)

    def _account_pairs(self) -> list[tuple[str, str]]:
        return [
            ("account[subdomain]", self.subdomain),
            ("account[id]", str(self.account_id)),
            ("account[_links][self]", f"https://{self.subdomain}.amocrm.ru"),
        ]

    def _lead_hook(self, lead: Lead, extra: dict[str, Any]) -> dict[str, Any]:
        return {
            "id": lead.id,
            "name": lead.name,
            "status_id": lead.status_id,
            "price": lead.price,
            "responsible_user_id": lead.responsible_user_id,
            "last_modified": lead.updated_at,
            "modified_user_id": lead.updated_by,
            "created_user_id": lead.created_by,
            "date_create": lead.created_at,
            "pipeline_id": lead.pipeline_id,
            "account_id": self.account_id,
            **extra,
        }

    def _task_hook(self, task: Task, closed: bool) -> dict[str, Any]:
        zone = ZoneInfo(self.timezone)

        def local(ts: int) -> str:
            return datetime.fromtimestamp(ts, zone).strftime("%Y-%m-%d %H:%M:%S")

        return {
            "id": task.id,
            "element_id": task.entity_id or 0,
            "element_type": ELEMENT_TYPES.get(task.entity_type or "", "0"),
            "task_type": task.task_type_id,
            "date_create": local(task.created_at),
            "text": task.text,
            "status": "1" if task.is_completed else "0",
            "account_id": self.account_id,
            "created_user_id": task.created_by,
            "last_modified": local(task.updated_at),
            "responsible_user_id": task.responsible_user_id,
            "complete_till": local(task.complete_till),
            "action_close": "1" if closed else "0",
        }

    async def _notify(
        self, notify: bool, setting: str, items: list[dict[str, Any]]
    ) -> None:
        if notify:
            self._send({setting: items})
            await self.settle()

    def _send(self, hooks: dict[str, list[Any]]) -> None:
        """POSTs one form-encoded webhook per setting to each subscribed destination."""
        for setting, items in hooks.items():
            if not items:
                continue
            entity, action = HOOK_SETTINGS[setting]
            pairs: list[tuple[str, str]] = []
            for n, item in enumerate(items):
                for key, value in item.items():
                    pairs.append((f"{entity}[{action}][{n}][{key}]", str(value)))
            body = urlencode(pairs + self._account_pairs())
            for hook in self.webhooks:
                if setting in hook["settings"] and not hook["disabled"]:
                    task = asyncio.get_running_loop().create_task(
                        self._deliver(hook["destination"], body)
                    )
                    self._sending.add(task)
                    task.add_done_callback(self._sending.discard)

    async def _deliver(self, url: str, body: str) -> None:
        if self._http is None:
            self._http = httpx.AsyncClient(timeout=2.0)  # amoCRM waits 2 s
        delivery = Delivery(url, body)
        self.deliveries.append(delivery)
        try:
            reply = await self._http.post(
                url,
                content=body,
                headers={
                    "Content-Type": "application/x-www-form-urlencoded",
                    "User-Agent": "amoCRM-WebHook-client/1.0",
                },
            )
            delivery.status = reply.status_code
        except httpx.HTTPError as error:
            delivery.error = f"{type(error).__name__}: {error}"

    # -- lists ---------------------------------------------------------------------
    def _page(
        self,
        request: Request,
        items: list[Any],
        key: str,
        render: Callable[[Any], Any],
        max_limit: int = 250,
    ) -> Response:
        try:
            page = int(request.query_params.get("page", "1"))
            limit = int(request.query_params.get("limit", "50"))
        except ValueError:
            return problem(400, "Bad Request", "page and limit must be integers")
        if page < 1 or not 1 <= limit <= max_limit:
            return problem(
                400, "Bad Request", f"limit must be between 1 and {max_limit}"
            )
        chunk = items[(page - 1) * limit : page * limit]
        if not chunk:
            return Response(status_code=204)
        links = {"self": {"href": str(request.url.include_query_params(page=page))}}
        if page * limit < len(items):
            links["next"] = {
                "href": str(
                    request.url.include_query_params(page=page + 1, limit=limit)
                )
            }
        if page > 1:
            links["prev"] = {
                "href": str(
                    request.url.include_query_params(page=page - 1, limit=limit)
                )
            }
        return _hal(
            {
                "_page": page,
                "_links": links,
                "_embedded": {key: [render(x) for x in chunk]},
            }
        )

    # -- the generated account -----------------------------------------------------
    def _new_lead(
        self,
        name: str,
        pipeline_id: int,
        status_id: int,
        owner: int,
        price: int,
        tags: list[str],
        at: int,
        by: int,
    ) -> Lead:
        self._next_id["lead"] += 1
        lead = Lead(
            id=21000000 + self._next_id["lead"],
            name=name,
            price=price,
            responsible_user_id=owner,
            group_id=self.users[owner].group_id,
            pipeline_id=pipeline_id,
            status_id=status_id,
            created_at=at,
            updated_at=at,
            created_by=by,
            updated_by=by,
            closed_at=at if status_id in (WON, LOST) else None,
            tags=tags,
        )
        self.leads[lead.id] = lead
        return lead

    def _new_party(self, table: dict[int, Party], name: str, owner: int) -> Party:
        self._next_id["party"] += 1
        now = self.now()
        base = 41000000 if table is self.contacts else 51000000
        party = Party(base + self._next_id["party"], name, owner, now, now)
        table[party.id] = party
        return party

    def _seed(self, rng: random.Random, count: int) -> None:
        self.groups = {0: "Sales department", 1: "Second line"}
        for user in (
            User(5001, "Head", "head@example.com", 0, is_admin=True),
            User(5002, "Ursula", "ursula@example.com"),
            User(5003, "Nadezhda", "nadezhda@example.com"),
            User(5004, "Marina", "marina@example.com"),
            User(5005, "Pavel", "pavel@example.com"),
            User(5006, "Olga", "olga@example.com", 1),
            User(self.exchange_user, "Lead exchange", "exchange@example.com"),
            User(5008, "Former employee", "former@example.com", is_active=False),
        ):
            self.users[user.id] = user
        self.pipelines = {
            7001: Pipeline(
                7001,
                "Sales",
                1,
                [
                    Status(70010, "Incoming", 10, 7001, type=1),
                    Status(70011, "New", 20, 7001),
                    Status(70012, "Taken", 30, 7001),
                    Status(70013, "Meeting", 40, 7001),
                    Status(WON, "Won", 10000, 7001),
                    Status(LOST, "Lost", 11000, 7001),
                ],
                is_main=True,
            ),
            7002: Pipeline(
                7002,
                "Partners",
                2,
                [
                    Status(70020, "Incoming", 10, 7002, type=1),
                    Status(70021, "New", 20, 7002),
                    Status(70022, "In work", 30, 7002),
                    Status(WON, "Won", 10000, 7002),
                    Status(LOST, "Lost", 11000, 7002),
                ],
            ),
            7003: Pipeline(
                7003,
                "Old campaign",
                3,
                [
                    Status(70031, "New", 20, 7003),
                    Status(WON, "Won", 10000, 7003),
                    Status(LOST, "Lost", 11000, 7003),
                ],
                is_archive=True,
            ),
        }
        self.loss_reasons = {9001: "Too expensive", 9002: "Chose a competitor"}
        managers = [5002, 5003, 5004, 5005, 5006]
        now = self.now()
        # (pipeline, status, owned by the exchange?) with their shares of leads
        shapes = [
            ((7001, 70011, True), 40),
            ((7001, 70010, True), 8),
            ((7001, 70012, False), 17),
            ((7001, 70013, False), 10),
            ((7001, WON, False), 10),
            ((7001, LOST, False), 7),
            ((7002, 70021, False), 5),
            ((7002, 70022, False), 3),
        ]
        choices = [shape for shape, weight in shapes for _ in range(weight)]
        stamps = sorted(now - rng.randint(3600, 60 * 86400) for _ in range(count))
        for n, created in enumerate(stamps, start=1):
            pipeline, status, pooled = rng.choice(choices)
            owner = self.exchange_user if pooled else rng.choice(managers)
            tags = rng.sample(["site", "call", "partner", "repeat"], rng.randint(0, 2))
            lead = self._new_lead(
                f"Lead #{n}",
                pipeline,
                status,
                owner,
                rng.choice([0, 5000, 12000, 30000, 75000]),
                tags,
                created,
                self.integration_user,
            )
            if status in (WON, LOST):
                lead.closed_at = min(now, created + rng.randint(3600, 20 * 86400))
                lead.updated_at = lead.closed_at
                if status == LOST:
                    lead.loss_reason_id = rng.choice(list(self.loss_reasons))
            contact = self._new_party(self.contacts, f"Client {n}", owner)
            contact.created_at = contact.updated_at = created
            lead.contacts.append(contact.id)
            if rng.random() < 0.2:
                company = self._new_party(self.companies, f"Company {n}", owner)
                company.created_at = company.updated_at = created
                lead.companies.append(company.id)
            if not pooled and rng.random() < 0.6:
                self._next_id["task"] += 1
                task = Task(
                    id=self._next_id["task"],
                    responsible_user_id=owner,
                    entity_id=lead.id,
                    entity_type="leads",
                    complete_till=now + rng.randint(-5 * 86400, 5 * 86400),
                    text=rng.choice(["Call back", "Send the offer", "Meeting"]),
                    created_at=created,
                    updated_at=created,
                    created_by=self.integration_user,
                    is_completed=status in (WON, LOST) or rng.random() < 0.3,
                )
                self.tasks[task.id] = task


def _error(request_id: str, path: str, code: str, detail: str) -> dict[str, Any]:
    return {
        "request_id": request_id,
        "errors": [{"code": code, "path": path, "detail": detail}],
    }


def _list_length(body: bytes) -> int:
    try:
        parsed = json.loads(body) if body else None
    except ValueError:
        return 0
    return len(parsed) if isinstance(parsed, list) else 0


def main() -> None:
    import uvicorn

    parser = argparse.ArgumentParser(description="A local amoCRM API v4 for leadrouter")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--leads", type=int, default=300)
    args = parser.parse_args()
    emulator = AmoEmulator(seed=args.seed, leads=args.leads)
    base = f"http://{args.host}:{args.port}"
    print(f"amoCRM emulator at {base} (account '{emulator.subdomain}')")
    print("Run leadrouter against it with (the gateway on port 8000):")
    print("  LEADROUTER_CRM=amocrm")
    print(f"  LEADROUTER_AMOCRM_SUBDOMAIN={emulator.subdomain}")
    print(f"  LEADROUTER_AMOCRM_ACCOUNT_ID={emulator.account_id}")
    print(f"  LEADROUTER_AMOCRM_TECHNICAL_USERS={emulator.exchange_user}")
    print("  LEADROUTER_AMOCRM_PUBLIC_URL=http://127.0.0.1:8000")
    print(f"  LEADROUTER_AMOCRM_BASE_URL={base}")
    print(f"  LEADROUTER_AMOCRM_CLIENT_ID={emulator.client_id}")
    print(f"  LEADROUTER_AMOCRM_CLIENT_SECRET={emulator.client_secret}")
    print(f"  LEADROUTER_AMOCRM_REDIRECT_URI={emulator.redirect_uri}")
    print(f"  LEADROUTER_AMOCRM_AUTH_CODE={emulator.issue_code()}")
    print("or, instead of the code (valid 20 minutes), a long-lived token:")
    print(f"  LEADROUTER_AMOCRM_LONG_LIVED_TOKEN={emulator.issue_long_lived_token()}")
    print(f"  request log: {base}/_emulator/log; new code: POST {base}/_emulator/code")
    uvicorn.run(emulator, host=args.host, port=args.port, log_level="warning")


if __name__ == "__main__":
    main()
