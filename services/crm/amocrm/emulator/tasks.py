"""Tasks: the list with its filters, batch writes, and what people do to tasks."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from starlette.requests import Request
from starlette.responses import Response

from services.crm.amocrm.emulator.base import (
    ELEMENT_TYPES,
    NOT_A_CHOICE,
    EmulatorState,
    Invalid,
    Task,
    base_url,
    error,
    hal,
    values,
)
from services.crm.amocrm.emulator.leads import read_batch


class TasksApi(EmulatorState):
    # -- what people do in amoCRM's interface ----------------------------------
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
        now = self.now()
        task = Task(
            id=self.new_id("task"),
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
        await self._notify(notify, "add_task", [self.task_hook(task, False)])
        return task

    async def complete_task(
        self, task_id: int, *, notify: bool = True, by: int | None = None
    ) -> None:
        hook = self.update_task(
            self.tasks[task_id], {"is_completed": True}, by or self.integration_user
        )
        await self._notify(notify, "update_task", [hook] if hook else [])

    async def delete_task(
        self, task_id: int, *, notify: bool = True, by: int | None = None
    ) -> None:
        """ "task_deleted | Задача удалена"; the delete_task webhook ("delete_task |
        Удалена задача") carries the id, as deletions do: "вида
        {“entity”:{“action”:”id”}} в случае удаления сущности"."""
        task = self.tasks.pop(task_id)
        self.deleted_tasks[task_id] = task
        self._event(
            "task_deleted", "task", task_id, [], [], by or self.integration_user
        )
        hook: dict[str, Any] = {
            "id": task_id,
            "element_id": task.entity_id or 0,
            "element_type": ELEMENT_TYPES.get(task.entity_type or "", "0"),
        }
        await self._notify(notify, "delete_task", [hook])

    # -- webhooks of tasks -------------------------------------------------------
    def task_hook(self, task: Task, closed: bool) -> dict[str, Any]:
        """Task webhooks carry dates as local "YYYY-MM-DD HH:MM:SS" strings."""
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

    # -- reading ----------------------------------------------------------------
    def render_task(self, base: str) -> Callable[[Task], Any]:
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

    def listed_tasks(self, request: Request) -> list[Task]:
        """The task filters, which are not part of the paid API filtering:
        "filter[is_completed] | bool | Фильтр по статусу задачи. 1 – завершенные,
        0 – к выполнению", "filter[updated_at] ... filter[updated_at][from]=… и
        filter[updated_at][to]=…", "filter[responsible_user_id]",
        "filter[entity_type]", "filter[entity_id]", "filter[id]"."""
        q = request.query_params
        done = values(request, "filter[is_completed]")
        owners = {int(v) for v in values(request, "filter[responsible_user_id]")}
        ids = {int(v) for v in values(request, "filter[id]")}
        entity_type = q.get("filter[entity_type]")
        entity_ids = {int(v) for v in values(request, "filter[entity_id]")}
        since, until = (
            q.get("filter[updated_at][from]"),
            q.get("filter[updated_at][to]"),
        )
        wanted_done = {v in ("1", "true") for v in done}
        found = []
        for t in sorted(self.tasks.values(), key=lambda t: t.id):
            if t.entity_type == "leads" and t.entity_id not in self.leads:
                continue  # guess: a deleted lead's tasks go to the trash with it
            if (
                (not done or t.is_completed in wanted_done)
                and (not owners or t.responsible_user_id in owners)
                and (not ids or t.id in ids)
                and (entity_type is None or t.entity_type == entity_type)
                and (not entity_ids or t.entity_id in entity_ids)
                and (since is None or t.updated_at >= int(since))
                and (until is None or t.updated_at <= int(until))
            ):
                found.append(t)
        return found

    async def _tasks_api(self, request: Request) -> Response:
        base = base_url(request)
        if request.method == "PATCH":
            return await self._patch_tasks(request, base)
        tasks = self.listed_tasks(request)
        return self.page(request, tasks, "tasks", self.render_task(base))

    async def _one_task(self, request: Request) -> Response:
        task = self.tasks.get(int(request.path_params["id"]))
        if task is None or (
            task.entity_type == "leads" and task.entity_id not in self.leads
        ):
            # guess: like a lead, a deleted task answers "204 No Content".
            return Response(status_code=204)
        return hal(self.render_task(base_url(request))(task))

    # -- writing ----------------------------------------------------------------
    async def _patch_tasks(self, request: Request, base: str) -> Response:
        items = await read_batch(request)
        errors = []
        for n, item in enumerate(items):
            if self.tasks.get(item.get("id")) is None:  # type: ignore[arg-type]
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
        hooks = [
            self.update_task(self.tasks[i["id"]], i, self.integration_user)
            for i in items
        ]
        self._send({"update_task": [h for h in hooks if h]})
        return hal(
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

    def update_task(
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
        return self.task_hook(task, closed)
