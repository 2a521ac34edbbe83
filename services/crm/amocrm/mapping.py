"""amoCRM entities as plain snapshots, and the canonical events that bring the mirror
in line with them. Pure functions: no I/O, no clock."""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl

from services.crm import history as h
from services.crm.directory_store import PipelineSpec, StageSpec, UserSpec

WON, LOST = 142, 143
UNSORTED = 1  # status type of the Unsorted stage


def instant(ts: int | str | None) -> datetime | None:
    if ts is None or ts in ("", 0, "0"):
        return None
    return datetime.fromtimestamp(int(ts), UTC)


def stage_kind(status_id: int) -> str:
    return {WON: "won", LOST: "lost"}.get(status_id, "open")


def _tag(name: str) -> str:
    return name.replace(",", " ").strip()  # the mirror keeps tags comma-separated


@dataclass(frozen=True)
class RemoteLead:
    id: str
    name: str
    price: int
    pipeline: str
    status: str
    responsible: str
    created_at: datetime
    updated_at: datetime
    closed_at: datetime | None = None
    loss_reason: str = ""
    tags: tuple[str, ...] = ()
    contacts: tuple[str, ...] = ()
    companies: tuple[str, ...] = ()

    @property
    def stage_key(self) -> str:
        return f"{self.pipeline}/{self.status}"


@dataclass(frozen=True)
class RemoteTask:
    id: str
    responsible: str
    lead: str | None  # only tasks on leads are tied to one
    deadline: datetime
    completed: bool
    text: str
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class RemoteParty:
    kind: str  # contact | company
    id: str
    responsible: str
    created_at: datetime
    updated_at: datetime


def lead_from_api(data: dict[str, Any]) -> RemoteLead:
    embedded = data.get("_embedded") or {}
    reasons = embedded.get("loss_reason") or []
    loss_reason = ""
    if reasons:
        loss_reason = str(reasons[0].get("name") or reasons[0].get("id") or "")
    elif data.get("loss_reason_id"):
        loss_reason = str(data["loss_reason_id"])
    created = instant(data.get("created_at")) or datetime.fromtimestamp(0, UTC)
    return RemoteLead(
        id=str(data["id"]),
        name=str(data.get("name") or ""),
        price=max(int(data.get("price") or 0), 0),
        pipeline=str(data["pipeline_id"]),
        status=str(data["status_id"]),
        responsible=str(data["responsible_user_id"]),
        created_at=created,
        updated_at=instant(data.get("updated_at")) or created,
        closed_at=instant(data.get("closed_at")),
        loss_reason=loss_reason,
        tags=tuple(
            t
            for t in (_tag(str(x.get("name", ""))) for x in embedded.get("tags") or [])
            if t
        ),
        contacts=tuple(
            str(c["id"])
            for c in sorted(
                embedded.get("contacts") or [], key=lambda c: not c.get("is_main")
            )
        ),
        companies=tuple(str(c["id"]) for c in embedded.get("companies") or []),
    )


def task_from_api(data: dict[str, Any]) -> RemoteTask:
    created = instant(data.get("created_at")) or datetime.fromtimestamp(0, UTC)
    on_lead = data.get("entity_type") == "leads" and data.get("entity_id")
    return RemoteTask(
        id=str(data["id"]),
        responsible=str(data["responsible_user_id"]),
        lead=str(data["entity_id"]) if on_lead else None,
        deadline=instant(data.get("complete_till")) or created,
        completed=bool(data.get("is_completed")),
        text=str(data.get("text") or ""),
        created_at=created,
        updated_at=instant(data.get("updated_at")) or created,
    )


def party_from_api(kind: str, data: dict[str, Any]) -> RemoteParty:
    created = instant(data.get("created_at")) or datetime.fromtimestamp(0, UTC)
    return RemoteParty(
        kind,
        str(data["id"]),
        str(data["responsible_user_id"]),
        created,
        instant(data.get("updated_at")) or created,
    )


def users_from_api(
    users: list[dict[str, Any]], technical: frozenset[str] = frozenset()
) -> tuple[UserSpec, ...]:
    """amoCRM has no technical users; the deployment names them (lead exchanges)."""
    return tuple(
        UserSpec(
            id=str(u["id"]),
            name=str(u.get("name") or u["id"]),
            technical=str(u["id"]) in technical,
            active=bool((u.get("rights") or {}).get("is_active", True)),
        )
        for u in users
    )


def pipelines_from_api(pipelines: list[dict[str, Any]]) -> tuple[PipelineSpec, ...]:
    """Pipelines with stages: 142 won, 143 lost, every other (Unsorted too) open."""
    specs = []
    for p in sorted(pipelines, key=lambda p: (p.get("sort", 0), p["id"])):
        statuses = sorted(
            (p.get("_embedded") or {}).get("statuses") or [],
            key=lambda s: (s.get("sort", 0), s["id"]),
        )
        specs.append(
            PipelineSpec(
                id=str(p["id"]),
                name=str(p.get("name") or ""),
                archived=bool(p.get("is_archive")),
                stages=tuple(
                    StageSpec(
                        str(s["id"]), str(s.get("name") or ""), stage_kind(s["id"])
                    )
                    for s in statuses
                ),
            )
        )
    return tuple(specs)


def unsorted_stages(pipelines: list[dict[str, Any]]) -> frozenset[str]:
    """ "pipeline/status" of each Unsorted stage: "Тип статуса (1 – неразобранное,
    0 – обычный статус)"."""
    return frozenset(
        f"{p['id']}/{s['id']}"
        for p in pipelines
        for s in (p.get("_embedded") or {}).get("statuses") or []
        if s.get("type") == UNSORTED
    )


def entry_stages(pipelines: list[dict[str, Any]]) -> dict[str, str]:
    """Per pipeline, the first open stage after Unsorted: where a lead begins."""
    entry: dict[str, str] = {}
    for p in pipelines:
        statuses = sorted(
            (p.get("_embedded") or {}).get("statuses") or [],
            key=lambda s: (s.get("sort", 0), s["id"]),
        )
        open_ = [s for s in statuses if stage_kind(s["id"]) == "open"]
        proper = [s for s in open_ if s.get("type") != UNSORTED]
        if open_:
            entry[str(p["id"])] = str((proper or open_)[0]["id"])
    return entry


@dataclass(frozen=True)
class LocalLead:
    """What the mirror holds of a lead."""

    responsible: str
    pipeline: str
    stage: str


def lead_events(
    remote: RemoteLead,
    local: LocalLead | None,
    *,
    entry_stage: str | None,
    moved_at: datetime | None = None,
    hold_assignment: bool = False,
) -> list[h.CanonicalEvent]:
    """The canonical events that take the mirror's lead to the remote one.

    `moved_at` is when amoCRM's events say the lead entered its current stage;
    `hold_assignment` keeps an owner and stage decided here and not yet
    written to amoCRM from being undone by an older snapshot.
    """
    closed = stage_kind(int(remote.status)) != "open"
    move_at = moved_at or (remote.closed_at if closed else None) or remote.updated_at
    loss = remote.loss_reason if stage_kind(int(remote.status)) == "lost" else None
    if local is None:
        start = remote.status
        if closed and entry_stage is not None:
            start = entry_stage  # created open, closed later: the close is an event
        events: list[h.CanonicalEvent] = [
            h.LeadCreated(
                type="lead_created",
                at=remote.created_at,
                lead=remote.id,
                name=remote.name,
                pipeline=remote.pipeline,
                stage=start,
                responsible=remote.responsible,
                contacts=list(remote.contacts),
                companies=list(remote.companies),
                tags=list(remote.tags),
                budget=remote.price,
            )
        ]
        if start != remote.status:
            events.append(
                h.StageChanged(
                    type="stage_changed",
                    at=max(move_at, remote.created_at),
                    lead=remote.id,
                    to=remote.status,
                    loss_reason=loss,
                )
            )
        return events
    if hold_assignment:
        return []
    events = []
    if local.responsible != remote.responsible:
        events.append(
            h.ResponsibleChanged(
                type="responsible_changed",
                at=remote.updated_at,
                lead=remote.id,
                to=remote.responsible,
            )
        )
    if (local.pipeline, local.stage) != (remote.pipeline, remote.status):
        events.append(
            h.StageChanged(
                type="stage_changed",
                at=move_at,
                lead=remote.id,
                to=remote.status,
                pipeline=remote.pipeline if remote.pipeline != local.pipeline else None,
                loss_reason=loss,
            )
        )
    return events


@dataclass(frozen=True)
class LocalTask:
    responsible: str
    completed: bool


def task_events(
    remote: RemoteTask,
    local: LocalTask | None,
    *,
    lead_known: bool,
    hold_assignment: bool = False,
) -> list[h.CanonicalEvent]:
    if local is None:
        created: list[h.CanonicalEvent] = [
            h.TaskCreated(
                type="task_created",
                at=remote.created_at,
                task=remote.id,
                lead=remote.lead if lead_known else None,
                responsible=remote.responsible,
                deadline=remote.deadline,
                text=remote.text,
            )
        ]
        if remote.completed:
            if not lead_known:
                return []  # done, and on nothing the mirror has: moot
            # Done already: push asks whether a lead's tasks were done since.
            created.append(
                h.TaskCompleted(
                    type="task_completed", at=remote.updated_at, task=remote.id
                )
            )
        return created
    events: list[h.CanonicalEvent] = []
    if (
        not hold_assignment
        and not local.completed
        and local.responsible != remote.responsible
    ):
        events.append(
            h.TaskResponsibleChanged(
                type="task_responsible_changed",
                at=remote.updated_at,
                task=remote.id,
                to=remote.responsible,
            )
        )
    if remote.completed and not local.completed:
        events.append(
            h.TaskCompleted(type="task_completed", at=remote.updated_at, task=remote.id)
        )
    return events


def party_events(
    remote: RemoteParty, local_responsible: str | None
) -> list[h.CanonicalEvent]:
    at = remote.updated_at
    if local_responsible is None:
        at = remote.created_at
        if remote.kind == "contact":
            return [
                h.ContactCreated(
                    type="contact_created",
                    at=at,
                    contact=remote.id,
                    responsible=remote.responsible,
                )
            ]
        return [
            h.CompanyCreated(
                type="company_created",
                at=at,
                company=remote.id,
                responsible=remote.responsible,
            )
        ]
    if local_responsible == remote.responsible:
        return []
    if remote.kind == "contact":
        return [
            h.ContactResponsibleChanged(
                type="contact_responsible_changed",
                at=at,
                contact=remote.id,
                to=remote.responsible,
            )
        ]
    return [
        h.CompanyResponsibleChanged(
            type="company_responsible_changed",
            at=at,
            company=remote.id,
            to=remote.responsible,
        )
    ]


# -- webhooks and events ------------------------------------------------------

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
