"""The emulated account's entities, the HTTP shapes every resource shares, and the
state all resource modules work on.

Quotes in comments are from amoCRM's developer docs (amocrm.ru/developers),
unless they say otherwise; "guess:" marks behaviour no doc line backs.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import httpx
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from leadrouter.clock import Clock

WON, LOST = 142, 143
UNSORTED = 1  # status type of the Unsorted stage
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
        return self.id not in (WON, LOST) and self.type != UNSORTED


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


@dataclass
class Unsorted:
    """A request waiting in Unsorted: "Так как неразобранное является сделка, то
    оно связано со сделкой" (an Unsorted item is tied to its lead)."""

    uid: str
    lead_id: int
    pipeline_id: int
    category: str  # sip | mail | chats | forms
    created_at: int


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
    at: datetime | None = None
    attempt: int = 1
    status: int | None = None
    error: str = ""

    @property
    def valid(self) -> bool:
        # "информация считается принятой, если в заголовке http ответа будет
        # возвращён код от 100 до 299"
        return self.status is not None and 100 <= self.status <= 299


class Invalid(Exception):
    """A request amoCRM would refuse with 400 and validation errors."""

    def __init__(self, errors: list[dict[str, Any]]) -> None:
        super().__init__("validation failed")
        self.errors = errors


class Refused(Exception):
    """A request amoCRM answers with another problem (404, 402, ...)."""

    def __init__(self, status: int, title: str, detail: str) -> None:
        super().__init__(detail)
        self.status, self.title, self.detail = status, title, detail


def hal(body: Any, status: int = 200) -> Response:
    # "Content-Type: application/hal+json" for successful answers
    return JSONResponse(body, status, media_type="application/hal+json")


def problem(
    status: int, title: str, detail: str, errors: list[dict[str, Any]] | None = None
) -> Response:
    # "Content-Type: application/problem+json" for errors
    body: dict[str, Any] = {
        "title": title,
        "type": f"https://httpstatus.es/{status}",
        "status": status,
        "detail": detail,
    }
    if errors:
        body["validation-errors"] = errors
    return JSONResponse(body, status, media_type="application/problem+json")


def error(request_id: str, path: str, code: str, detail: str) -> dict[str, Any]:
    return {
        "request_id": request_id,
        "errors": [{"code": code, "path": path, "detail": detail}],
    }


NOT_A_CHOICE = "The value you selected is not a valid choice."


def values(request: Request, name: str) -> list[str]:
    """Values of `name`, `name[]` and `name[N]`, comma lists split, all as one list."""
    found: list[str] = []
    for key, value in request.query_params.multi_items():
        index = key[len(name) + 1 : -1] if key.startswith(name + "[") else None
        if key == name or index == "" or (index is not None and index.isdigit()):
            found += [v for v in value.split(",") if v]
    return found


def int_or_none(value: Any) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError
    return value


def base_url(request: Request) -> str:
    return str(request.base_url).rstrip("/")


class EmulatorState:
    """Everything the resource modules share: the account and the machinery."""

    clock: Clock
    subdomain: str
    account_id: int
    timezone: str
    client_id: str
    client_secret: str
    redirect_uri: str
    url: str
    integration_user: int
    exchange_user: int

    users: dict[int, User]
    groups: dict[int, str]
    pipelines: dict[int, Pipeline]
    loss_reasons: dict[int, str]
    leads: dict[int, Lead]
    deleted_leads: dict[int, Lead]
    contacts: dict[int, Party]
    companies: dict[int, Party]
    tasks: dict[int, Task]
    deleted_tasks: dict[int, Task]
    unsorted: dict[str, Unsorted]
    events: list[dict[str, Any]]
    log: list[LoggedRequest]
    deliveries: list[Delivery]

    _next_id: dict[str, int]
    _sending: set[asyncio.Task[None]]
    _http: httpx.AsyncClient | None
    _hits: deque[datetime]

    def now(self) -> int:
        return int(self.clock.now().timestamp())

    def new_id(self, kind: str) -> int:
        self._next_id[kind] = self._next_id.get(kind, 0) + 1
        return self._next_id[kind]

    # Implemented by the resource modules; declared here so each can call them.
    def _event(
        self,
        type_: str,
        entity_type: str,
        entity_id: int,
        before: list[Any],
        after: list[Any],
        by: int,
    ) -> None:
        raise NotImplementedError

    def _send(self, hooks: dict[str, list[Any]]) -> None:
        raise NotImplementedError

    async def _notify(
        self, notify: bool, setting: str, items: list[dict[str, Any]]
    ) -> None:
        raise NotImplementedError

    async def settle(self) -> None:
        raise NotImplementedError

    def first_open_status(self, pipeline_id: int) -> int:
        raise NotImplementedError

    def unsorted_of(self, lead_id: int) -> Unsorted | None:
        raise NotImplementedError

    def lead_hook(self, lead: Lead, extra: dict[str, Any]) -> dict[str, Any]:
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

    def assignable(self, user_id: int | None) -> bool:
        user = self.users.get(user_id) if user_id is not None else None
        return user is not None and user.is_active

    def page(
        self,
        request: Request,
        items: list[Any],
        key: str,
        render: Callable[[Any], Any],
        max_limit: int = 250,
    ) -> Response:
        """One page of a list: "limit ... (Максимум – 250)", items under
        `_embedded.<key>`, `_links.next` while more remain, and "2002 | По вашему
        запросу ничего не найдено | ... HTTP код №204 “No Content”" when empty."""
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
        return hal(
            {
                "_page": page,
                "_links": links,
                "_embedded": {key: [render(x) for x in chunk]},
            }
        )
