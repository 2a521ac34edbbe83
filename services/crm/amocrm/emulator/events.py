"""GET /api/v4/events: what happened in the account, newest first, and who did it."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from services.crm.amocrm.emulator.base import EmulatorState, values


class EventsApi(EmulatorState):
    async def _events(self, request: Request) -> Response:
        # "filter[type] | string|array | Фильтр по типу событий",
        # "filter[entity] | ... Возможные параметры – lead, contact, company,
        # customer, task", "filter[created_at] ... filter[created_at][from]=… и
        # filter[created_at][to]=…", "filter[created_by] ... до 10-ти ID".
        types = set(values(request, "filter[type]"))
        entities = set(values(request, "filter[entity]"))
        entity_ids = {int(v) for v in values(request, "filter[entity_id]")}
        authors = {int(v) for v in values(request, "filter[created_by]")}
        since = request.query_params.get("filter[created_at][from]")
        until = request.query_params.get("filter[created_at][to]")
        found = [
            e
            for e in self.events
            if (not types or e["type"] in types)
            and (not entities or e["entity_type"] in entities)
            and (not entity_ids or e["entity_id"] in entity_ids)
            and (not authors or e["created_by"] in authors)
            and (since is None or e["created_at"] >= int(since))
            and (until is None or e["created_at"] <= int(until))
        ]
        found.sort(key=lambda e: (e["created_at"], e["id"]), reverse=True)
        # "limit | int | Количество возвращаемых сущностей за один запрос
        # (Максимум – 100)"
        return self.page(request, found, "events", lambda e: e, max_limit=100)

    def _event(
        self,
        type_: str,
        entity_type: str,
        entity_id: int,
        before: list[Any],
        after: list[Any],
        by: int,
    ) -> None:
        """One event: "created_by | int | ID пользователя, создавший событие". For
        "lead_deleted, lead_restored, ... entity_merged, task_added, task_deleted,
        task_completed" both values are "Пустой массив"."""
        number = self.new_id("event")
        self.events.append(
            {
                "id": f"01emu{number:021d}",  # "id | string | ID события"
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
