"""Leads amoCRM holds in Unsorted: accepted into a stage, never moved there.

"POST /api/v4/leads/unsorted/{uid}/accept" with `user_id` and `status_id`
("ID статуса, в котором окажется сделка после принятия") takes a request out
of Unsorted; a PATCH of its status is refused with NotSupportedChoice
(amocrm-api-php issue #156), and "До принятия неразобранной сделки, контакты
и компании недоступны", so a cascade reaches them only after the accept.
"""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy import select
from sqlmodel import col

from leadrouter.db import Database
from services.crm.amocrm.client import AmoClient
from services.crm.amocrm.errors import AmoRefused
from services.crm.amocrm.tables import AmoUnsortedLead

log = logging.getLogger(__name__)

Items = dict[str, list[dict[str, Any]]]


class Unsorted:
    """The accept calls of one account's outbox."""

    def __init__(self, db: Database, account: str) -> None:
        self.db = db
        self.account = account

    async def accept(self, amo: AmoClient, item: dict[str, Any]) -> Items:
        """Accepts one lead; what else must be written once it is accepted."""
        lead = int(item["id"])
        user = int(item["user_id"])
        uid = item.get("uid") or await self._find_uid(amo, str(item["pipeline"]), lead)
        status = item.get("status_id")
        moved: Items = {}
        if status is not None:
            moved["leads"] = [{"id": lead, "status_id": int(status)}]
        if not uid:
            # No longer in Unsorted (someone accepted it in amoCRM meanwhile):
            # an ordinary lead, moved the ordinary way.
            log.info("lead %s left Unsorted before its accept; moved instead", lead)
            await self.db.run(self._forget, lead=str(lead))
            return moved
        body: dict[str, Any] = {"user_id": user}
        if status is not None:
            body["status_id"] = int(status)
        try:
            reply = await amo.request(
                "POST", f"/api/v4/leads/unsorted/{uid}/accept", body=body
            )
        except AmoRefused as error:
            if error.status != 404:  # "404 | Неразобранное с указанным UID не найдено"
                raise
            await self.db.run(self._forget, lead=str(lead))
            return moved
        await self.db.run(self._forget, lead=str(lead))
        if not item.get("cascade"):
            return {}
        # "Метод возвращает модель принятого неразобранного и сущности, которые
        # были созданы": the contacts and companies, reachable now.
        embedded = (reply or {}).get("_embedded") or {}
        return {
            kind: [
                {"id": int(x["id"]), "responsible_user_id": user}
                for x in embedded.get(kind) or []
            ]
            for kind in ("contacts", "companies")
        }

    async def _find_uid(self, amo: AmoClient, pipeline: str, lead: int) -> str:
        """The lead's request uid, from "GET /api/v4/leads/unsorted" with
        "filter[pipeline_id]"; every uid seen is kept for the next write."""
        found: dict[str, str] = {}
        async for page in amo.pages(
            "/api/v4/leads/unsorted",
            "unsorted",
            {"filter[pipeline_id]": pipeline, "limit": 250},
        ):
            for item in page.items:
                leads = (item.get("_embedded") or {}).get("leads") or []
                if leads:
                    found[str(leads[0]["id"])] = str(item["uid"])
            if str(lead) in found:
                break
        await self.db.run(self._remember, uids=found)
        return found.get(str(lead), "")

    def _remember(self, *, uids: dict[str, str]) -> None:
        if not uids:
            return
        with self.db.session() as s:
            for row in s.scalars(
                select(AmoUnsortedLead).where(
                    col(AmoUnsortedLead.account) == self.account,
                    col(AmoUnsortedLead.lead_id).in_(list(uids)),
                )
            ):
                row.uid = uids[row.lead_id]

    def _forget(self, *, lead: str) -> None:
        with self.db.session() as s:
            row = s.get(AmoUnsortedLead, (self.account, lead))
            if row is not None:
                s.delete(row)
