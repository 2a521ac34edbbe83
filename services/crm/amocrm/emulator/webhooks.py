"""Webhooks: registration through the API, form-encoded deliveries, the retry
schedule, and hooks that amoCRM switches off after too many failed answers."""

from __future__ import annotations

import asyncio
import json
from collections import deque
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlencode

import httpx
from starlette.requests import Request
from starlette.responses import Response

from services.crm.amocrm.emulator.base import (
    NOT_A_CHOICE,
    Delivery,
    EmulatorState,
    Invalid,
    Refused,
    error,
    hal,
)

# Setting -> the keys of its deliveries ("leads[status][0][id]"). "Возможные
# события": responsible_lead, restore_lead, add_lead, add_task, update_lead,
# update_task, delete_lead, delete_task, status_lead, ...
HOOK_SETTINGS = {
    "add_lead": ("leads", "add"),
    "update_lead": ("leads", "update"),
    "status_lead": ("leads", "status"),
    "responsible_lead": ("leads", "responsible"),
    "delete_lead": ("leads", "delete"),
    "restore_lead": ("leads", "restore"),
    "add_task": ("task", "add"),
    "update_task": ("task", "update"),
    # guess: the key of a deleted task; task deliveries are "task[...]".
    "delete_task": ("task", "delete"),
}
# "Наш сервис ожидает ответ от хука не более 2 секунд."
ANSWER_WITHIN = 2.0
# "Номер попытки | Время | Коды ответа предыдущей попытки": 2 after 5 minutes and
# 3 after 15 for "0-99, а также 300 и больше"; 4 after 15 minutes and 5 after an
# hour only for "499 или от 500 до 599".
RETRIES = {
    2: (timedelta(minutes=5), False),
    3: (timedelta(minutes=15), False),
    4: (timedelta(minutes=15), True),
    5: (timedelta(hours=1), True),
}
# "За последние 2 часа было получено более 100 невалидных откликов и последний
# хук на момент проверки так же является невалидным"
DISABLE_AFTER = 100
DISABLE_WINDOW = timedelta(hours=2)


@dataclass
class Retry:
    due: datetime
    hook_id: int
    body: str
    attempt: int


class WebhooksApi(EmulatorState):
    webhooks: list[dict[str, Any]]
    # "Работать с WebHooks через API возможно с расширеннего или
    # профессионального тарифного плана": False = a plan below those.
    plan_allows_webhooks: bool
    _retries: list[Retry]
    _failures: dict[int, deque[datetime]]

    def _init_webhooks(self) -> None:
        self.webhooks = []
        self.plan_allows_webhooks = True
        self._retries = []
        self._failures = {}

    # -- control ----------------------------------------------------------------
    def disable_hook(self, destination: str) -> None:
        """As amoCRM does after too many failures (or an admin in the settings)."""
        for hook in self.webhooks:
            if hook["destination"] == destination:
                hook["disabled"] = True

    def hook(self, destination_prefix: str = "") -> dict[str, Any] | None:
        return next(
            (
                h
                for h in self.webhooks
                if str(h["destination"]).startswith(destination_prefix)
            ),
            None,
        )

    async def settle(self) -> None:
        """Waits until every webhook already triggered has been delivered."""
        while self._sending:
            await asyncio.gather(*list(self._sending), return_exceptions=True)

    async def deliver_due(self) -> None:
        """Sends the retries whose time has come, and waits for their answers."""
        self._start_due()
        await self.settle()

    def _start_due(self) -> None:
        now = self.clock.now()
        due = [r for r in self._retries if r.due <= now]
        if not due:
            return
        self._retries = [r for r in self._retries if r.due > now]
        for retry in due:
            hook = next((h for h in self.webhooks if h["id"] == retry.hook_id), None)
            # guess: a hook switched off or removed gets no more retries.
            if hook is not None and not hook["disabled"]:
                self._spawn(hook, retry.body, retry.attempt)

    # -- /api/v4/webhooks -------------------------------------------------------
    async def _webhooks(self, request: Request) -> Response:
        if not self.plan_allows_webhooks:
            # guess: the status; the docs give only the plan rule above and, for
            # paid functions elsewhere, "402 | Необходимо оплатить функционал".
            raise Refused(
                402,
                "Payment Required",
                "Webhooks through the API need the Extended or Professional plan",
            )
        if request.method == "GET":
            # "filter[destination] | string | Фильтр по точному адресу вебхука"
            wanted = request.query_params.get("filter[destination]")
            hooks = [h for h in self.webhooks if wanted in (None, h["destination"])]
            return self.page(request, hooks, "webhooks", lambda h: h)
        body = json.loads(await request.body() or b"{}")
        destination = body.get("destination") if isinstance(body, dict) else None
        if not isinstance(destination, str) or not destination.startswith("http"):
            raise Invalid([error("0", "destination", "InvalidUrl", "a URL is needed")])
        existing = next(
            (h for h in self.webhooks if h["destination"] == destination), None
        )
        if request.method == "DELETE":
            if existing is None:
                # "404 | Вебхук не найден"
                raise Refused(404, "Not Found", "no webhook with this destination")
            self.webhooks.remove(existing)
            return Response(status_code=204)  # "204 | Вебхук был успешно удален"
        settings = body.get("settings") or []
        unknown = [s for s in settings if s not in HOOK_SETTINGS]
        if unknown or not settings:
            raise Invalid([error("0", "settings", "NotSupportedChoice", NOT_A_CHOICE)])
        if existing is not None:
            # "Если в аккаунте уже есть вебхук с переданным адресом, то он будет
            # обновлен с переданными настройками." guess: saving it switches a
            # disabled hook on again, as "Включить" and save do in the settings.
            existing.update(
                settings=list(settings), disabled=False, updated_at=self.now()
            )
            self._failures.pop(existing["id"], None)
            return hal(existing)
        hook = {
            "id": self.new_id("hook"),
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
        return hal(hook, 201)  # "201 | Задачи были успешно созданы"

    # -- deliveries -------------------------------------------------------------
    def _account_pairs(self) -> list[tuple[str, str]]:
        return [
            ("account[subdomain]", self.subdomain),
            ("account[id]", str(self.account_id)),
            ("account[_links][self]", f"https://{self.subdomain}.amocrm.ru"),
        ]

    async def _notify(
        self, notify: bool, setting: str, items: list[dict[str, Any]]
    ) -> None:
        if notify:
            self._send({setting: items})
            await self.settle()

    def _send(self, hooks: dict[str, list[Any]]) -> None:
        """POSTs one form-encoded webhook per setting to each subscribed destination:
        "WebHook отправляется в формате x-www-form-urlencoded"."""
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
                    self._spawn(hook, body, 1)

    def _spawn(self, hook: dict[str, Any], body: str, attempt: int) -> None:
        task = asyncio.get_running_loop().create_task(
            self._deliver(hook, body, attempt)
        )
        self._sending.add(task)
        task.add_done_callback(self._sending.discard)

    async def _deliver(self, hook: dict[str, Any], body: str, attempt: int) -> None:
        if self._http is None:
            self._http = httpx.AsyncClient(timeout=ANSWER_WITHIN)
        delivery = Delivery(hook["destination"], body, self.clock.now(), attempt)
        self.deliveries.append(delivery)
        try:
            reply = await self._http.post(
                hook["destination"],
                content=body,
                headers={
                    "Content-Type": "application/x-www-form-urlencoded",
                    "User-Agent": "amoCRM-WebHook-client/1.0",
                },
            )
            delivery.status = reply.status_code
        except httpx.HTTPError as failure:
            delivery.error = f"{type(failure).__name__}: {failure}"
        if not delivery.valid:
            self._failed(hook, delivery)

    def _failed(self, hook: dict[str, Any], delivery: Delivery) -> None:
        now = self.clock.now()
        failures = self._failures.setdefault(hook["id"], deque())
        failures.append(now)
        while failures and now - failures[0] > DISABLE_WINDOW:
            failures.popleft()
        if len(failures) > DISABLE_AFTER:
            # "В случае блокировки хук будет отключен в целях безопасности."
            hook["disabled"] = True
            return
        retry = RETRIES.get(delivery.attempt + 1)
        if retry is None:
            return
        wait, server_errors_only = retry
        status = delivery.status or 0
        if server_errors_only and not (status == 499 or 500 <= status <= 599):
            return
        self._retries.append(
            Retry(now + wait, hook["id"], delivery.body, delivery.attempt + 1)
        )
