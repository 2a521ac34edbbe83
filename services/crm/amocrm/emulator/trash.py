"""Deleting, restoring and merging leads, as people do in amoCRM's interface."""

from __future__ import annotations

from typing import Any

from services.crm.amocrm.emulator.base import Lead
from services.crm.amocrm.emulator.leads import LeadsApi


class TrashApi(LeadsApi):
    async def delete_lead(
        self, lead_id: int, *, notify: bool = True, by: int | None = None
    ) -> Lead:
        """The lead goes to the trash: "only_deleted | ... вернутся удаленные
        сделки, которые еще находятся в корзине", its re-read answers "204 |
        Сделка с указанным ID не существует", an event "lead_deleted | Сделка
        удалена" is recorded and "delete_lead | Удалена сделка" hooks are sent
        with the id ("вида {“entity”:{“action”:”id”}} в случае удаления")."""
        by = by or self.integration_user
        lead = self._trash(lead_id, by)
        # guess: status and pipeline ride along with the id, as in other hooks.
        hook = {
            "id": lead.id,
            "status_id": lead.status_id,
            "pipeline_id": lead.pipeline_id,
        }
        await self._notify(notify, "delete_lead", [hook])
        return lead

    async def restore_lead(
        self, lead_id: int, *, notify: bool = True, by: int | None = None
    ) -> Lead:
        """Back from the trash as it was: "lead_restored | Сделка восстановлена",
        and "restore_lead | Сделка восстановлена из удаленных" hooks with the
        lead's fields (captured amoCRM hooks of a restore carry
        "contacts[restore][0][id]", "[name]", "[responsible_user_id]", ...)."""
        by = by or self.integration_user
        lead = self.deleted_leads.pop(lead_id)
        lead.updated_at, lead.updated_by = self.now(), by
        self.leads[lead.id] = lead
        self._event("lead_restored", "lead", lead.id, [], [], by)
        await self._notify(notify, "restore_lead", [self.lead_hook(lead, {})])
        return lead

    async def merge_leads(
        self,
        keep_id: int,
        absorbed_id: int,
        *,
        responsible_user_id: int | None = None,
        status_id: int | None = None,
        by: int | None = None,
    ) -> Lead:
        """Two leads become one: "entity_merged | Выполнено объединение" on the one
        kept. guess: the other is deleted (lead_deleted, a delete_lead hook), its
        contacts, companies and tasks move to the one kept, whose owner and stage
        are those chosen in the merge dialog (their own events and hooks), and an
        update_lead hook says the kept lead changed."""
        by = by or self.integration_user
        kept, absorbed = self.leads[keep_id], self.leads[absorbed_id]
        for mine, theirs in (
            (kept.contacts, absorbed.contacts),
            (kept.companies, absorbed.companies),
        ):
            mine.extend(x for x in theirs if x not in mine)
        for task in self.tasks.values():
            if task.entity_type == "leads" and task.entity_id == absorbed_id:
                task.entity_id = keep_id
        self._trash(absorbed_id, by)
        self._event("entity_merged", "lead", keep_id, [], [], by)
        hooks: dict[str, list[Any]] = {
            "delete_lead": [
                {
                    "id": absorbed.id,
                    "status_id": absorbed.status_id,
                    "pipeline_id": absorbed.pipeline_id,
                }
            ]
        }
        if responsible_user_id is not None:
            hook = self.set_lead_responsible(kept, responsible_user_id, by)
            hooks["responsible_lead"] = [hook] if hook else []
        if status_id is not None:
            hook = self.set_status(kept, kept.pipeline_id, status_id, None, by)
            hooks["status_lead"] = [hook] if hook else []
        kept.updated_at, kept.updated_by = self.now(), by
        hooks["update_lead"] = [self.lead_hook(kept, {})]
        self._send(hooks)
        await self.settle()
        return kept

    def _trash(self, lead_id: int, by: int) -> Lead:
        lead = self.leads.pop(lead_id)
        lead.updated_at, lead.updated_by = self.now(), by
        self.deleted_leads[lead.id] = lead
        self._event("lead_deleted", "lead", lead.id, [], [], by)
        return lead
