"""What changed in amoCRM, as a webhook or the events feed tells it: the leads
and tasks touched, to be read again. Pure functions: no I/O, no clock."""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import parse_qsl

from services.crm.amocrm.mapping import instant

_KEY = re.compile(r"^(leads|task|tasks)\[(\w+)\]\[(\d+)\]\[(\w+)\]$")


@dataclass
class Touched:
    """Which leads and tasks a webhook or a stretch of events says have changed."""

    leads: set[str] = field(default_factory=set)
    tasks: set[str] = field(default_factory=set)
    # Leads whose tasks are listed again: a restored lead's, and the lead a
    # merge kept, which took over the other's tasks without a task event.
    task_leads: set[str] = field(default_factory=set)
    subdomain: str = ""
    # lead -> (stage key, when): the latest stage move amoCRM reported
    moves: dict[str, tuple[str, datetime]] = field(default_factory=dict)
    # "lead 1" / "task 2" -> who deleted or restored it, when the events say
    actors: dict[str, str] = field(default_factory=dict)

    def __bool__(self) -> bool:
        return bool(self.leads or self.tasks or self.task_leads)

    def add(self, other: Touched) -> None:
        self.leads |= other.leads
        self.tasks |= other.tasks
        self.task_leads |= other.task_leads
        self.actors.update(other.actors)
        for lead, move in other.moves.items():
            if lead not in self.moves or self.moves[lead][1] <= move[1]:
                self.moves[lead] = move


def parse_webhook(body: str) -> Touched:
    """A form-encoded amoCRM webhook (`leads[status][0][id]=…`) as the ids it names.

    Only ids are taken (and when a status change happened): the entity is re-read
    from the API before the mirror changes, since webhooks carry no signature and
    may arrive late or twice.
    """
    items: dict[tuple[str, str, str], dict[str, str]] = defaultdict(dict)
    touched = Touched()
    for key, value in parse_qsl(body, keep_blank_values=True):
        if key == "account[subdomain]":
            touched.subdomain = value
            continue
        match = _KEY.match(key)
        if match:
            entity, action, index, name = match.groups()
            items[(entity, action, index)][name] = value
    for (entity, action, _), item in items.items():
        ident = item.get("id", "")
        if not ident.isdigit():
            continue
        if entity == "leads":
            # A deletion is read too: the lead's re-read answering 204 is what
            # deletes it here, so a forged "delete" costs one read and no lead.
            touched.leads.add(ident)
            if action == "restore":
                touched.task_leads.add(ident)
            at = instant(item.get("last_modified")) if action == "status" else None
            stage = f"{item.get('pipeline_id')}/{item.get('status_id')}"
            if at is not None and stage.replace("/", "").isdigit():
                seen = touched.moves.get(ident)
                if seen is None or seen[1] <= at:
                    touched.moves[ident] = (stage, at)
        else:
            touched.tasks.add(ident)
            lead = item.get("element_id", "")
            if item.get("element_type") == "2" and lead.isdigit() and lead != "0":
                touched.leads.add(lead)
    return touched


RECONCILED_TYPES = (
    "lead_added",
    "lead_status_changed",
    "entity_responsible_changed",
    "task_added",
    "task_completed",
    "task_deadline_changed",
    # "lead_deleted | Сделка удалена", "lead_restored | Сделка восстановлена",
    # "task_deleted | Задача удалена", "entity_merged | Выполнено объединение"
    "lead_deleted",
    "lead_restored",
    "task_deleted",
    "entity_merged",
)


def touched_by_events(events: list[dict[str, Any]]) -> Touched:
    """What a stretch of `/api/v4/events` says changed, oldest event first."""
    touched = Touched()
    ordered = sorted(
        events, key=lambda e: (int(e.get("created_at") or 0), str(e["id"]))
    )
    for e in ordered:
        if e.get("type") not in RECONCILED_TYPES:
            continue
        entity = str(e.get("entity_id") or "")
        if not entity.isdigit():
            continue
        kind = e.get("entity_type")
        by = str(e.get("created_by") or "")
        if e["type"] in ("lead_deleted", "lead_restored", "task_deleted") and by:
            # "created_by | int | ID пользователя, создавший событие"
            touched.actors[f"{kind} {entity}"] = by
        if kind == "lead":
            touched.leads.add(entity)
            if e["type"] in ("lead_restored", "entity_merged"):
                touched.task_leads.add(entity)
            if e["type"] == "lead_status_changed":
                after = (e.get("value_after") or [{}])[0].get("lead_status") or {}
                at = instant(e.get("created_at"))
                if after.get("id") and after.get("pipeline_id") and at:
                    key = f"{after['pipeline_id']}/{after['id']}"
                    touched.moves[entity] = (key, at)
        elif kind == "task":
            touched.tasks.add(entity)
    return touched
