"""Leads: reading and batch writes through the API, and what people do to leads in
amoCRM's interface (add, move, hand over), each recorded and sent as webhooks."""

from __future__ import annotations

import json
import zlib
from collections.abc import Callable, Iterable
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from services.crm.amocrm.emulator.base import (
    LOST,
    NOT_A_CHOICE,
    UNSORTED,
    WON,
    EmulatorState,
    Invalid,
    Lead,
    Party,
    base_url,
    error,
    hal,
    int_or_none,
    values,
)


async def read_batch(request: Request) -> list[dict[str, Any]]:
    """A JSON array of entities. guess: at most 250 in one write, as the docs
    allow on a list page ("Максимум – 250"); no doc line gives a write's limit."""
    try:
        items = json.loads(await request.body() or b"null")
    except json.JSONDecodeError as failure:
        raise Invalid([error("0", "", "InvalidJson", str(failure))]) from failure
    if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
        raise Invalid([error("0", "", "InvalidType", "an array is expected")])
    if not items:
        raise Invalid([error("0", "", "Empty", "the array is empty")])
    if len(items) > 250:
        raise Invalid(
            [error("0", "", "TooMany", "at most 250 entities in one request")]
        )
    return items


class LeadsApi(EmulatorState):
    # -- what people do in amoCRM's interface ----------------------------------
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
        pipeline = self.pipelines[pipeline_id or self.main_pipeline_id()]
        status = status_id or self.first_open_status(pipeline.id)
        owner = responsible_user_id or self.exchange_user
        by = by or self.integration_user
        lead = self.new_lead(
            name, pipeline.id, status, owner, price, list(tags), self.now(), by
        )
        if contact:
            party = self.new_party(self.contacts, f"Contact of {name}", owner)
            lead.contacts.append(party.id)
        self._event("lead_added", "lead", lead.id, [], [], by)
        await self._notify(notify, "add_lead", [self.lead_hook(lead, {})])
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
        hook = self.set_status(
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
        hook = self.set_lead_responsible(
            self.leads[lead_id], user_id, by or self.integration_user
        )
        await self._notify(notify, "responsible_lead", [hook] if hook else [])

    def main_pipeline_id(self) -> int:
        return next(p.id for p in self.pipelines.values() if p.is_main)

    # -- reading ----------------------------------------------------------------
    def render_lead(self, base: str, with_: set[str]) -> Callable[[Lead], Any]:
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
                    for c in self.visible_parties(x, x.companies)
                ],
            }
            if "contacts" in with_:
                # "contacts | Добавляет в ответ информацию о связанных со сделкой
                # контактах"
                embedded["contacts"] = [
                    {
                        "id": c,
                        "is_main": i == 0,
                        "_links": {"self": {"href": f"{base}/api/v4/contacts/{c}"}},
                    }
                    for i, c in enumerate(self.visible_parties(x, x.contacts))
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

    def visible_parties(self, lead: Lead, ids: list[int]) -> list[int]:
        """ "До принятия неразобранной сделки, контакты и компании недоступны в
        соответствующих разделах". guess: nor are they listed on the lead."""
        return [] if self.unsorted_of(lead.id) is not None else list(ids)

    def render_deleted(self, base: str) -> Callable[[Lead], Any]:
        """ "only_deleted | ... вернутся удаленные сделки, которые еще находятся в
        корзине. В ответ вы получите модель сделки, у которой доступны дату
        изменения, ID пользователя сделавшего последнее изменение, её ID и параметр
        is_deleted = true." """

        def render(x: Lead) -> dict[str, Any]:
            return {
                "id": x.id,
                "updated_at": x.updated_at,
                "updated_by": x.updated_by,
                "is_deleted": True,
                "_links": {"self": {"href": f"{base}/api/v4/leads/{x.id}"}},
            }

        return render

    async def _leads(self, request: Request) -> Response:
        base = base_url(request)
        if request.method == "PATCH":
            items = await read_batch(request)
            self._send(self.patch_leads(items))
            return hal(
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
        wanted = set(values(request, "with"))
        if "only_deleted" in wanted:
            gone = sorted(self.deleted_leads.values(), key=lambda x: x.id)
            return self.page(request, gone, "leads", self.render_deleted(base))
        # Filters are a paid add-on ("Функционал API-фильтрации доступен для
        # подключения в разделе «Настройки» → «Счета и оплата»"); on this account
        # they are not enabled, so the list is the whole account whatever filter
        # the caller sends.
        leads = sorted(self.leads.values(), key=lambda x: x.id)
        return self.page(request, leads, "leads", self.render_lead(base, wanted))

    async def _one_lead(self, request: Request) -> Response:
        lead_id = int(request.path_params["id"])
        if request.method == "PATCH":
            item = json.loads(await request.body() or b"null")
            if not isinstance(item, dict):
                raise Invalid([error("0", "", "InvalidType", "an object is expected")])
            item["id"] = lead_id
            self._send(self.patch_leads([item]))
            return hal({"id": lead_id, "updated_at": self.leads[lead_id].updated_at})
        lead = self.leads.get(lead_id)
        if lead is None:
            # "204 | Сделка с указанным ID не существует": a deleted lead too.
            return Response(status_code=204)
        wanted = set(values(request, "with"))
        return hal(self.render_lead(base_url(request), wanted)(lead))

    # -- writing ----------------------------------------------------------------
    def patch_leads(self, items: list[dict[str, Any]]) -> dict[str, list[Any]]:
        errors: list[dict[str, Any]] = []
        for n, item in enumerate(items):
            errors += self.check_lead_patch(str(n), item)
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
                hook = self.set_lead_responsible(lead, item["responsible_user_id"], by)
                if hook:
                    hooks["responsible_lead"].append(hook)
            if "status_id" in item or "pipeline_id" in item:
                pipeline = item.get("pipeline_id") or lead.pipeline_id
                status = item.get("status_id") or self.first_open_status(pipeline)
                hook = self.set_status(
                    lead, pipeline, status, item.get("loss_reason_id"), by
                )
                if hook:
                    hooks["status_lead"].append(hook)
            lead.updated_at, lead.updated_by = self.now(), by
        return hooks

    def check_lead_patch(self, request_id: str, item: dict[str, Any]) -> list[Any]:
        errors = []
        lead_id = item.get("id")
        lead = self.leads.get(lead_id) if isinstance(lead_id, int) else None
        if lead is None:
            # guess: a deleted or unknown lead refuses a write this way.
            return [error(request_id, "id", "NotFound", "entity not found")]
        try:
            user = int_or_none(item.get("responsible_user_id"))
            pipeline_id = int_or_none(item.get("pipeline_id"))
            status_id = int_or_none(item.get("status_id"))
            int_or_none(item.get("loss_reason_id"))
        except ValueError:
            return [error(request_id, "", "InvalidType", "ids must be integers")]
        if "responsible_user_id" in item and not self.assignable(user):
            errors.append(
                error(
                    request_id,
                    "responsible_user_id",
                    "NotSupportedChoice",
                    NOT_A_CHOICE,
                )
            )
        current = self.pipelines[lead.pipeline_id].status(lead.status_id)
        if (
            current is not None
            and current.type == UNSORTED
            and ("status_id" in item or "pipeline_id" in item)
        ):
            # A lead in Unsorted is accepted, not moved: amocrm-api-php issue
            # #156, a PATCH of such a lead answers
            # {"code":"NotSupportedChoice","path":"status_id","detail":"The value
            # you selected is not a valid choice."}.
            errors.append(
                error(request_id, "status_id", "NotSupportedChoice", NOT_A_CHOICE)
            )
            return errors
        pipeline = self.pipelines.get(pipeline_id or lead.pipeline_id)
        if pipeline is None or pipeline.is_archive:
            errors.append(
                error(request_id, "pipeline_id", "NotSupportedChoice", NOT_A_CHOICE)
            )
        elif status_id is not None:
            target = pipeline.status(status_id)
            # guess: moving a lead into Unsorted is refused like an unknown stage.
            if target is None or target.type == UNSORTED:
                errors.append(
                    error(request_id, "status_id", "NotSupportedChoice", NOT_A_CHOICE)
                )
        return errors

    def set_status(
        self,
        lead: Lead,
        pipeline_id: int,
        status_id: int,
        loss_reason_id: int | None,
        by: int,
    ) -> dict[str, Any] | None:
        if (lead.pipeline_id, lead.status_id) == (pipeline_id, status_id):
            return None
        # "lead_status_changed": value_after [{"lead_status":{"id","pipeline_id"}}]
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
        return self.lead_hook(lead, extra)

    def set_lead_responsible(
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
        return self.lead_hook(lead, {"old_responsible_user_id": old})

    def new_lead(
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
        lead = Lead(
            id=21000000 + self.new_id("lead"),
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

    def new_party(self, table: dict[int, Party], name: str, owner: int) -> Party:
        now = self.now()
        base = 41000000 if table is self.contacts else 51000000
        party = Party(base + self.new_id("party"), name, owner, now, now)
        table[party.id] = party
        return party
