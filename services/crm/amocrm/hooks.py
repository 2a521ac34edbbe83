"""Whether amoCRM's webhooks reach us, looked at on a schedule, and mended.

amoCRM switches a hook off by itself: "За последние 2 часа было получено более
100 невалидных откликов ... хук будет отключен в целях безопасности", and an
admin may remove it. Neither is told to us. So GET /api/v4/webhooks is asked
every few minutes; a hook found missing or switched off is registered again
(POST with the same destination updates it: "Если в аккаунте уже есть вебхук
с переданным адресом, то он будет обновлен"). "Работать с WebHooks через API
возможно с расширенного или профессионального тарифного плана": on a lower plan
the hook cannot be set at all, and the health line says so. While no hook
works, the events API is read every minute instead of every few.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from leadrouter import metrics
from leadrouter.config import Settings
from leadrouter.db import Database
from leadrouter.timestamps import utc
from services.crm.amocrm.client import AmoClient
from services.crm.amocrm.connection import (
    HOOK_DISABLED,
    HOOK_MISSING,
    HOOK_NO_PUBLIC_URL,
    HOOK_NOT_ALLOWED,
    HOOK_STATES,
    HOOK_UNKNOWN,
    HOOK_WORKING,
)
from services.crm.amocrm.errors import AmoBlocked
from services.crm.amocrm.tables import AmoSync

log = logging.getLogger(__name__)

# "Возможные события": what reaches the mirror at once. update_lead tells of a
# merge's kept lead; delete_lead, restore_lead and delete_task of the trash.
HOOK_SETTINGS = [
    "add_lead",
    "update_lead",
    "status_lead",
    "responsible_lead",
    "delete_lead",
    "restore_lead",
    "add_task",
    "update_task",
    "delete_task",
]
# While no hook works, what webhooks would have said is read from the events.
RECONCILE_WITHOUT_HOOKS = timedelta(minutes=1)


def webhook_destination(settings: Settings) -> str:
    base = settings.amocrm_public_url.rstrip("/")
    return f"{base}/webhooks/amocrm/{settings.amocrm_hook_secret}"


class WebhookWatch:
    """The account's webhook: checked every `every`, registered when it is not."""

    def __init__(self, settings: Settings, db: Database, account: str) -> None:
        self.settings = settings
        self.db = db
        self.account = account
        self.every = timedelta(seconds=settings.amocrm_hook_check_seconds)

    def reconcile_every(self, state: str) -> timedelta:
        usual = timedelta(seconds=self.settings.amocrm_reconcile_seconds)
        return usual if state == HOOK_WORKING else min(usual, RECONCILE_WITHOUT_HOOKS)

    async def state(self) -> tuple[str, datetime | None]:
        return await self.db.run(self._load)

    async def check(self, amo: AmoClient, now: datetime) -> str:
        """Looks at the hook if it is due; the state it is in afterwards."""
        state, checked = await self.state()
        if checked is not None and checked + self.every > now:
            return state
        if not self.settings.amocrm_public_url:
            return await self._save(HOOK_NO_PUBLIC_URL, now)
        destination = webhook_destination(self.settings)
        try:
            found = await amo.all(
                "/api/v4/webhooks",
                "webhooks",
                {"filter[destination]": destination},
            )
        except AmoBlocked as error:
            if error.status != 402 or not await self._served(amo):
                raise
            if state != HOOK_NOT_ALLOWED:
                log.warning(
                    "amoCRM: this account's plan does not allow webhooks through "
                    "the API (it takes the Расширенный or Профессиональный plan); "
                    "changes are read from amoCRM's events every minute instead"
                )
            return await self._save(HOOK_NOT_ALLOWED, now)
        hook = next((h for h in found if h.get("destination") == destination), None)
        if hook is not None and not hook.get("disabled"):
            return await self._save(HOOK_WORKING, now)
        gone = HOOK_MISSING if hook is None else HOOK_DISABLED
        await self._save(gone, now)  # shown as it was found, should the POST fail
        await amo.request(
            "POST",
            "/api/v4/webhooks",
            body={"destination": destination, "settings": HOOK_SETTINGS},
        )
        await self.db.run(self._remember, destination=destination)
        if state != HOOK_UNKNOWN or gone == HOOK_DISABLED:
            log.warning("amoCRM webhook was %s; registered again", gone)
        log.info("amoCRM webhooks go to %s", destination.rsplit("/", 1)[0] + "/…")
        return await self._save(HOOK_WORKING, now)

    async def _served(self, amo: AmoClient) -> bool:
        """Whether a 402 of the webhooks was the plan's, not the whole account's:
        the account itself answers (or raises the account's block)."""
        await amo.request("GET", "/api/v4/account")
        return True

    async def _save(self, state: str, now: datetime) -> str:
        await self.db.run(self._store, state=state, now=now)
        self.show(state)
        return state

    def show(self, state: str) -> None:
        for known in HOOK_STATES:
            value = 1 if known == state else 0
            metrics.AMOCRM_WEBHOOK.labels(self.account, known).set(value)

    # -- rows ------------------------------------------------------------------
    def _row(self, s: Any) -> AmoSync:
        row = s.get(AmoSync, self.account)
        if row is None:
            row = AmoSync(account=self.account, step="directory")
            s.add(row)
        return row

    def _load(self) -> tuple[str, datetime | None]:
        with self.db.session() as s:
            row = s.get(AmoSync, self.account)
            if row is None:
                return HOOK_UNKNOWN, None
            checked = utc(row.hook_checked_at) if row.hook_checked_at else None
            return row.hook_state or HOOK_UNKNOWN, checked

    def _store(self, *, state: str, now: datetime) -> None:
        with self.db.session() as s:
            row = self._row(s)
            row.hook_state, row.hook_checked_at = state, now

    def _remember(self, *, destination: str) -> None:
        with self.db.session() as s:
            self._row(s).webhook = destination
