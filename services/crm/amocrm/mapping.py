"""amoCRM entities as plain snapshots, and the canonical events that bring the mirror
in line with them. Pure functions: no I/O, no clock."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from services.crm import history as h

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
