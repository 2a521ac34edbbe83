"""Contacts and companies: lists and batch writes of their responsible users."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from services.crm.amocrm.emulator.base import (
    NOT_A_CHOICE,
    EmulatorState,
    Invalid,
    Party,
    base_url,
    error,
    hal,
)
from services.crm.amocrm.emulator.leads import read_batch


class PartiesApi(EmulatorState):
    async def _contacts_api(self, request: Request) -> Response:
        return await self._parties(request, self.contacts, "contacts", "contact")

    async def _companies_api(self, request: Request) -> Response:
        return await self._parties(request, self.companies, "companies", "company")

    def hidden_parties(self) -> set[int]:
        """ "До принятия неразобранной сделки, контакты и компании недоступны в
        соответствующих разделах": those of leads still in Unsorted."""
        hidden: set[int] = set()
        for item in self.unsorted.values():
            lead = self.leads.get(item.lead_id)
            if lead is not None:
                hidden.update(lead.contacts, lead.companies)
        return hidden

    async def _parties(
        self, request: Request, table: dict[int, Party], key: str, entity: str
    ) -> Response:
        base = base_url(request)
        hidden = self.hidden_parties()
        if request.method == "PATCH":
            items = await read_batch(request)
            errors = []
            for n, item in enumerate(items):
                ident = item.get("id")
                if table.get(ident) is None or ident in hidden:  # type: ignore[arg-type]
                    errors.append(error(str(n), "id", "NotFound", "entity not found"))
                elif "responsible_user_id" in item and not self.assignable(
                    item["responsible_user_id"]
                ):
                    errors.append(
                        error(
                            str(n),
                            "responsible_user_id",
                            "NotSupportedChoice",
                            NOT_A_CHOICE,
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
            return hal(
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

        listed = [p for p in sorted(table.values(), key=lambda p: p.id)]
        return self.page(
            request, [p for p in listed if p.id not in hidden], key, render
        )
