"""Unsorted (Неразобранное): requests waiting to be accepted, and accepting them."""

from __future__ import annotations

import json
import secrets
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from services.crm.amocrm.emulator.base import (
    NOT_A_CHOICE,
    UNSORTED,
    Invalid,
    Lead,
    Refused,
    Unsorted,
    base_url,
    error,
    hal,
    int_or_none,
    values,
)
from services.crm.amocrm.emulator.leads import LeadsApi


class UnsortedApi(LeadsApi):
    # -- what arrives, and what people do ---------------------------------------
    async def add_unsorted_lead(
        self,
        name: str,
        *,
        pipeline_id: int | None = None,
        category: str = "forms",
        responsible_user_id: int | None = None,
        tags: list[str] | None = None,
        notify: bool = True,
    ) -> Lead:
        """A request from a form lands in the pipeline's Unsorted stage with a
        contact: "При создании неразобранной сделки, можно передать данные о
        контакте, компании и метаданные"."""
        pipeline = pipeline_id or self.main_pipeline_id()
        status = self.unsorted_status(pipeline)
        assert status is not None, f"pipeline {pipeline} has no Unsorted stage"
        owner = responsible_user_id or self.exchange_user
        lead = self.new_lead(
            name,
            pipeline,
            status,
            owner,
            0,
            list(tags or []),
            self.now(),
            self.integration_user,
        )
        party = self.new_party(self.contacts, f"Contact of {name}", owner)
        lead.contacts.append(party.id)
        self.file_unsorted(lead, category)
        # guess: an Unsorted request is a lead, so it is added as one ("Так как
        # неразобранное является сделка, то оно связано со сделкой").
        self._event("lead_added", "lead", lead.id, [], [], self.integration_user)
        await self._notify(notify, "add_lead", [self.lead_hook(lead, {})])
        return lead

    def file_unsorted(self, lead: Lead, category: str = "forms") -> Unsorted:
        item = Unsorted(
            uid=secrets.token_hex(20),
            lead_id=lead.id,
            pipeline_id=lead.pipeline_id,
            category=category,
            created_at=lead.created_at,
        )
        self.unsorted[item.uid] = item
        return item

    def unsorted_of(self, lead_id: int) -> Unsorted | None:
        if lead_id not in self.leads:
            return None  # deleted: its request waits in the trash with it
        return next((u for u in self.unsorted.values() if u.lead_id == lead_id), None)

    def unsorted_status(self, pipeline_id: int) -> int | None:
        """ "В каждой воронке есть 3 системных статуса: Неразобранное, Успешно
        реализовано (ID = 142), Закрыто и не реализовано (ID = 143)"; its type is
        "1 – неразобранное"."""
        pipeline = self.pipelines[pipeline_id]
        return next((s.id for s in pipeline.statuses if s.type == UNSORTED), None)

    async def accept(
        self, lead_id: int, *, user_id: int, status_id: int | None = None
    ) -> None:
        """A manager accepts the request in amoCRM's interface."""
        item = self.unsorted_of(lead_id)
        assert item is not None, f"lead {lead_id} is not in Unsorted"
        hook = self.accept_unsorted(item, user_id, status_id)
        await self._notify(True, "status_lead", [hook] if hook else [])

    def accept_unsorted(
        self, item: Unsorted, user_id: int, status_id: int | None
    ) -> dict[str, Any] | None:
        lead = self.leads[item.lead_id]
        pipeline = self.pipelines[item.pipeline_id]
        target = status_id or self.first_open_status(pipeline.id)
        del self.unsorted[item.uid]
        # guess: accepting moves the lead like a stage change by that user, and
        # leaves its responsible as it was ("user_id | ID пользователя, от имени
        # которого будут созданы сущности" names the author, not the owner).
        return self.set_status(lead, pipeline.id, target, None, user_id)

    # -- GET /api/v4/leads/unsorted ---------------------------------------------
    def _render_unsorted(self, base: str) -> Any:
        def render(u: Unsorted) -> dict[str, Any]:
            lead = self.leads[u.lead_id]
            return {
                "uid": u.uid,
                "source_uid": None,
                "source_name": "Site form",
                "category": u.category,
                "pipeline_id": u.pipeline_id,
                "created_at": u.created_at,
                "metadata": {},
                "account_id": self.account_id,
                "_links": {"self": {"href": f"{base}/api/v4/leads/unsorted/{u.uid}"}},
                "_embedded": {
                    "contacts": [{"id": c} for c in lead.contacts[:1]],
                    "companies": [{"id": c} for c in lead.companies[:1]],
                    # "_embedded[leads] | array | Данные сделки. ... В массиве
                    # всегда 1 объект"
                    "leads": [{"id": lead.id}],
                },
            }

        return render

    async def _unsorted_list(self, request: Request) -> Response:
        # "filter[uid]", "filter[category] | array | ... (sip, mail, forms,
        # chats)", "filter[pipeline_id] | int | Фильтр по ID воронки"
        uids = set(values(request, "filter[uid]"))
        categories = set(values(request, "filter[category]"))
        pipeline = request.query_params.get("filter[pipeline_id]")
        found = [
            u
            for u in sorted(self.unsorted.values(), key=lambda u: (u.created_at, u.uid))
            if u.lead_id in self.leads
            and (not uids or u.uid in uids)
            and (not categories or u.category in categories)
            and (pipeline is None or str(u.pipeline_id) == pipeline)
        ]
        return self.page(
            request, found, "unsorted", self._render_unsorted(base_url(request))
        )

    # -- POST /api/v4/leads/unsorted/{uid}/accept ------------------------------
    async def _accept(self, request: Request) -> Response:
        item = self.unsorted.get(str(request.path_params["uid"]))
        if item is None or item.lead_id not in self.leads:
            # "404 | Неразобранное с указанным UID не найдено"
            raise Refused(404, "Not Found", "no Unsorted item with this uid")
        body = json.loads(await request.body() or b"{}")
        if not isinstance(body, dict):
            raise Invalid([error("0", "", "InvalidType", "an object is expected")])
        # "Для принятия неразобранного нет обязательных параметров": user_id and
        # status_id ("ID статуса, в котором окажется сделка после принятия") are
        # optional.
        try:
            user = int_or_none(body.get("user_id"))
            status = int_or_none(body.get("status_id"))
        except ValueError:
            raise Invalid(
                [error("0", "", "InvalidType", "ids must be integers")]
            ) from None
        if user is not None and not self.assignable(user):
            raise Invalid([error("0", "user_id", "NotSupportedChoice", NOT_A_CHOICE)])
        if status is not None:
            # guess: the stage must be an ordinary one of the same pipeline.
            target = self.pipelines[item.pipeline_id].status(status)
            if target is None or target.type == UNSORTED:
                raise Invalid(
                    [error("0", "status_id", "NotSupportedChoice", NOT_A_CHOICE)]
                )
        lead = self.leads[item.lead_id]
        hook = self.accept_unsorted(item, user or self.integration_user, status)
        self._send({"status_lead": [hook] if hook else []})
        base = base_url(request)
        # "Метод возвращает модель принятого неразобранного и сущности, которые
        # были созданы."
        return hal(
            {
                "uid": item.uid,
                "pipeline_id": item.pipeline_id,
                "category": item.category,
                "created_at": item.created_at,
                "_embedded": {
                    "leads": [
                        {
                            "id": lead.id,
                            "_links": {
                                "self": {"href": f"{base}/api/v4/leads/{lead.id}"}
                            },
                        }
                    ],
                    "contacts": [{"id": c} for c in lead.contacts[:1]],
                    "companies": [],
                },
            }
        )
