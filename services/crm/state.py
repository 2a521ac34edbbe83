"""Applies canonical events to the built-in CRM's tables, checking each against them."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import DateTime, select
from sqlmodel import Session, col

from leadrouter.i18n import _
from leadrouter.timestamps import utc
from services.crm import history as h
from services.crm import pool
from services.crm.directory_check import Directory, stage_key
from services.crm.event_log import pending_log
from services.crm.loss_reasons import kept_reason
from services.crm.reopening import reopening_stage
from services.crm.tables import (
    DeletedLead,
    Event,
    Lead,
    LeadParty,
    Party,
    Stage,
    Task,
)


class EventRejected(Exception):
    """The event does not fit the CRM's current state (unknown lead, stage, user…)."""


class UnknownLead(EventRejected):
    """The event names a lead the account does not have."""


class UnknownUser(EventRejected):
    """The event names a user the account does not have (yet)."""


class UnknownStage(EventRejected):
    """The event names a stage the account does not have (yet)."""


@dataclass
class Moved:
    contacts: int = 0
    companies: int = 0
    tasks: int = 0


class Ledger:
    """Applies events for one account inside one transaction and logs each."""

    def __init__(self, session: Session, account: str) -> None:
        self.session = session
        self.account = account
        self.directory = Directory.load(session, account)
        self._pending = pending_log(session)
        self._postgres = pool.postgres(session)

    # -- lookups -----------------------------------------------------------
    def lead(self, lead_id: str, *, for_update: bool = False) -> Lead:
        if for_update:
            stmt = select(Lead).where(
                Lead.account == self.account,  # type: ignore[arg-type]
                Lead.id == lead_id,  # type: ignore[arg-type]
            )
            found = self.session.scalars(stmt.with_for_update()).first()
        else:
            # A lead this change already loaded (the claimed one, say) is
            # taken from the session without another round trip.
            found = self.session.get(Lead, (self.account, lead_id))
        if found is None:
            raise UnknownLead(_("unknown lead '{lead}'").format(lead=lead_id))
        return found

    def _user(self, user_id: str) -> str:
        if not self.directory.has_user(user_id):
            raise UnknownUser(_("unknown user '{user}'").format(user=user_id))
        return user_id

    def _stage(self, pipeline: str, stage: str) -> str:
        key = stage_key(pipeline, stage)
        if key not in self.directory.stages:
            raise UnknownStage(_("unknown stage '{stage}'").format(stage=key))
        return key

    def _entered(self, lead: Lead) -> None:
        """The lead's stage or owner changed: a pool's floor may come down."""
        if self._postgres:
            pool.entered(
                self.session,
                self.account,
                lead,
                self.directory.is_technical(lead.responsible),
            )

    def _task(self, task_id: str) -> Task:
        task = self.session.get(Task, (self.account, task_id))
        if task is None:
            raise EventRejected(_("unknown task '{task}'").format(task=task_id))
        return task

    # -- the log -----------------------------------------------------------
    def _log(
        self,
        event: h.CanonicalEvent,
        *,
        lead_id: str = "",
        stage_to: str = "",
        user_to: str = "",
        actor: str = "",
    ) -> None:
        # Written at the commit (see `pending_log`), not here.
        self._pending.append(
            Event(
                account=self.account,
                type=event.type,
                at=event.at,
                lead_id=lead_id,
                stage_to=stage_to,
                user_to=user_to,
                actor=actor,
                payload=h.to_json(event),
            )
        )

    # -- applying ----------------------------------------------------------
    def apply(self, event: h.CanonicalEvent, *, flush: bool = True) -> None:
        """`flush=False`: the caller flushes, after more of one change."""
        handler = getattr(self, f"_on_{event.type}")
        logged = len(self._pending)
        try:
            handler(event)
            if flush:
                self.session.flush()
        except BaseException:
            # The caller rolls this event back (a savepoint, or the whole
            # transaction), so its log row must not be written either.
            del self._pending[logged:]
            raise

    def _on_lead_created(self, e: h.LeadCreated) -> None:
        if self.session.get(Lead, (self.account, e.lead)) is not None:
            raise EventRejected(_("lead '{lead}' already exists").format(lead=e.lead))
        if self.session.get(DeletedLead, (self.account, e.lead)) is not None:
            raise EventRejected(
                _("lead '{lead}' was deleted; restore it instead").format(lead=e.lead)
            )
        key = self._stage(e.pipeline, e.stage)
        self._user(e.responsible)
        kind = self.directory.stages[key]
        lead = Lead(
            account=self.account,
            id=e.lead,
            name=e.name,
            budget=e.budget,
            pipeline=e.pipeline,
            stage=e.stage,
            stage_key=key,
            responsible=e.responsible,
            channel=e.channel,
            tags=",".join(e.tags),
            created_at=e.at,
            closed_at=None if kind == "open" else e.at,
            stage_changed_at=e.at,
            # Created in a stage is not moved there: a lead imported as already
            # lost is nobody's loss, as one created won is nobody's sale.
            stage_changed_by="",
            last_open_stage=key if kind == "open" else "",
        )
        self.session.add(lead)
        self._entered(lead)
        for kind_, ids in (("contact", e.contacts), ("company", e.companies)):
            for sort, party_id in enumerate(ids):
                if self.session.get(Party, (self.account, kind_, party_id)) is None:
                    self.session.add(
                        Party(
                            account=self.account,
                            kind=kind_,
                            id=party_id,
                            responsible=e.responsible,
                        )
                    )
                self.session.add(
                    LeadParty(
                        account=self.account,
                        lead_id=e.lead,
                        kind=kind_,
                        party_id=party_id,
                        sort=sort,
                    )
                )
        self._log(
            e, lead_id=e.lead, stage_to=key, user_to=e.responsible, actor=e.responsible
        )

    def _move(self, lead: Lead, key: str, at: datetime, loss_reason: str) -> None:
        kind = self.directory.stages[key]
        lead.pipeline, lead.stage = key.split("/", 1)
        lead.stage_key = key
        lead.stage_changed_at = at
        lead.stage_changed_by = lead.responsible
        if kind == "open":
            lead.last_open_stage = key
            lead.closed_at = None
            lead.loss_reason = ""
        else:
            lead.closed_at = at
            lead.loss_reason = loss_reason if kind == "lost" else ""
        self._entered(lead)

    def _on_stage_changed(self, e: h.StageChanged) -> None:
        lead = self.lead(e.lead)
        key = self._stage(e.pipeline or lead.pipeline, e.to)
        # Kept as reports count it: a listed reason in the list's spelling,
        # other text as "other: <text>" (whoever sent the event).
        reason = kept_reason(self.directory.stage_reasons(key), e.loss_reason)
        if reason != (e.loss_reason or ""):
            e = e.model_copy(update={"loss_reason": reason or None})
        self._move(lead, key, e.at, reason)
        self._log(e, lead_id=lead.id, stage_to=key, actor=lead.responsible)

    def _on_lead_reopened(self, e: h.LeadReopened) -> None:
        lead = self.lead(e.lead)
        if self.directory.stages.get(lead.stage_key) == "open":
            raise EventRejected(_("lead '{lead}' is not closed").format(lead=e.lead))
        key = self.reopening_stage(lead)
        self._move(lead, key, e.at, "")
        # Reopening is nobody's move into the stage (domain.md section 9).
        lead.stage_changed_by = ""
        self._log(e, lead_id=lead.id, stage_to=key, actor=lead.responsible)

    def reopening_stage(self, lead: Lead) -> str:
        """Where reopening returns the closed lead (see `reopening_stage`)."""
        stages = self.session.execute(
            select(col(Stage.id), col(Stage.kind))
            .where(
                col(Stage.account) == self.account,
                col(Stage.pipeline) == lead.pipeline,
            )
            .order_by(col(Stage.sort), col(Stage.id))
        ).all()
        key = reopening_stage(
            pipeline=lead.pipeline,
            stage=lead.stage,
            kind=self.directory.stages.get(lead.stage_key, ""),
            last_open_stage=lead.last_open_stage,
            stages=[(stage, kind) for stage, kind in stages],
        )
        if key is None:
            raise EventRejected(
                _(
                    "lead '{lead}' cannot be reopened: pipeline '{pipeline}' has "
                    "no open stage"
                ).format(lead=lead.id, pipeline=lead.pipeline)
            )
        return key

    def _on_responsible_changed(self, e: h.ResponsibleChanged) -> None:
        lead = self.lead(e.lead)
        self._user(e.to)
        lead.responsible = e.to
        self._entered(lead)
        self._log(e, lead_id=lead.id, user_to=e.to, actor=e.to)

    def _on_task_created(self, e: h.TaskCreated) -> None:
        if self.session.get(Task, (self.account, e.task)) is not None:
            raise EventRejected(_("task '{task}' already exists").format(task=e.task))
        if e.lead is not None:
            self.lead(e.lead)
        self._user(e.responsible)
        self.session.add(
            Task(
                account=self.account,
                id=e.task,
                lead_id=e.lead,
                responsible=e.responsible,
                deadline=e.deadline,
                text=e.text,
            )
        )
        self._log(e, lead_id=e.lead or "", actor=e.responsible)

    def _on_task_completed(self, e: h.TaskCompleted) -> None:
        task = self._task(e.task)
        if task.completed_at is not None:
            raise EventRejected(
                _("task '{task}' is already completed").format(task=e.task)
            )
        task.completed_at = e.at
        self._log(e, lead_id=task.lead_id or "", actor=task.responsible)

    def _on_task_responsible_changed(self, e: h.TaskResponsibleChanged) -> None:
        task = self._task(e.task)
        task.responsible = self._user(e.to)
        self._log(e, lead_id=task.lead_id or "", user_to=e.to, actor=e.to)

    def _party_created(self, kind: str, party_id: str, responsible: str) -> None:
        if self.session.get(Party, (self.account, kind, party_id)) is not None:
            exists = {
                "contact": _("contact '{id}' already exists"),
                "company": _("company '{id}' already exists"),
            }
            raise EventRejected(exists[kind].format(id=party_id))
        self.session.add(
            Party(
                account=self.account,
                kind=kind,
                id=party_id,
                responsible=self._user(responsible),
            )
        )

    def _on_contact_created(self, e: h.ContactCreated) -> None:
        self._party_created("contact", e.contact, e.responsible)
        self._log(e, user_to=e.responsible)

    def _on_company_created(self, e: h.CompanyCreated) -> None:
        self._party_created("company", e.company, e.responsible)
        self._log(e, user_to=e.responsible)

    def _party_moved(self, kind: str, party_id: str, to: str) -> None:
        party = self.session.get(Party, (self.account, kind, party_id))
        if party is None:
            unknown = {
                "contact": _("unknown contact '{id}'"),
                "company": _("unknown company '{id}'"),
            }
            raise EventRejected(unknown[kind].format(id=party_id))
        party.responsible = self._user(to)

    def _on_contact_responsible_changed(self, e: h.ContactResponsibleChanged) -> None:
        self._party_moved("contact", e.contact, e.to)
        self._log(e, user_to=e.to)

    def _on_company_responsible_changed(self, e: h.CompanyResponsibleChanged) -> None:
        self._party_moved("company", e.company, e.to)
        self._log(e, user_to=e.to)

    # -- deletions ---------------------------------------------------------
    def _on_lead_deleted(self, e: h.LeadDeleted) -> None:
        lead = self.lead(e.lead)
        self.session.add(
            DeletedLead(
                account=self.account,
                id=lead.id,
                deleted_at=e.at,
                merged_into=e.merged_into or "",
                row=_lead_json(lead),
            )
        )
        self._log(e, lead_id=lead.id, actor=lead.responsible)
        self.session.delete(lead)

    def _on_lead_restored(self, e: h.LeadRestored) -> None:
        gone = self.session.get(DeletedLead, (self.account, e.lead))
        if gone is None:
            raise EventRejected(_("lead '{lead}' is not deleted").format(lead=e.lead))
        if self.session.get(Lead, (self.account, e.lead)) is not None:
            raise EventRejected(_("lead '{lead}' already exists").format(lead=e.lead))
        lead = _lead_from_json(gone.row)
        self.session.delete(gone)
        self.session.flush()  # the tombstone goes before the lead comes back
        self.session.add(lead)
        self._entered(lead)
        self._log(e, lead_id=lead.id, stage_to=lead.stage_key, actor=lead.responsible)

    def _on_task_deleted(self, e: h.TaskDeleted) -> None:
        task = self._task(e.task)
        self._log(e, lead_id=task.lead_id or "", actor=task.responsible)
        self.session.delete(task)

    # -- composite changes -------------------------------------------------
    def assign(
        self, lead: Lead, user: str, target_stage: str, cascade: bool, at: datetime
    ) -> Moved:
        """Gives a lead to a user: responsible first, so the stage move is theirs.

        The lead's new owner and stage are written in one UPDATE.
        """
        moved = Moved()
        if lead.responsible != user:
            self.apply(
                h.ResponsibleChanged(
                    type="responsible_changed", at=at, lead=lead.id, to=user
                ),
                flush=False,
            )
        if target_stage and target_stage != lead.stage_key:
            pipeline, stage = target_stage.split("/", 1)
            self.apply(
                h.StageChanged(
                    type="stage_changed",
                    at=at,
                    lead=lead.id,
                    to=stage,
                    pipeline=pipeline if pipeline != lead.pipeline else None,
                ),
                flush=False,
            )
        self.session.flush()
        if cascade:
            moved = self._cascade(lead.id, user, at)
        return moved

    def _cascade(self, lead_id: str, user: str, at: datetime) -> Moved:
        moved = Moved()
        parties = self.session.execute(
            select(col(Party.kind), col(Party.id))
            .join(
                LeadParty,
                (col(LeadParty.account) == col(Party.account))
                & (col(LeadParty.kind) == col(Party.kind))
                & (col(LeadParty.party_id) == col(Party.id)),
            )
            .where(
                col(LeadParty.account) == self.account,
                col(LeadParty.lead_id) == lead_id,
                col(Party.responsible) != user,
            )
            .order_by(col(LeadParty.kind), col(LeadParty.sort))
        ).all()
        for kind, party_id in parties:
            if kind == "contact":
                self.apply(
                    h.ContactResponsibleChanged(
                        type="contact_responsible_changed",
                        at=at,
                        contact=party_id,
                        to=user,
                    )
                )
                moved.contacts += 1
            else:
                self.apply(
                    h.CompanyResponsibleChanged(
                        type="company_responsible_changed",
                        at=at,
                        company=party_id,
                        to=user,
                    )
                )
                moved.companies += 1
        tasks = self.session.scalars(
            select(col(Task.id)).where(
                col(Task.account) == self.account,
                col(Task.lead_id) == lead_id,
                col(Task.completed_at).is_(None),
                col(Task.responsible) != user,
            )
        ).all()
        for task_id in tasks:
            self.apply(
                h.TaskResponsibleChanged(
                    type="task_responsible_changed", at=at, task=task_id, to=user
                )
            )
            moved.tasks += 1
        return moved


def _lead_json(lead: Lead) -> str:
    row: dict[str, Any] = {}
    for column in Lead.__table__.columns:  # type: ignore[attr-defined]
        value = getattr(lead, column.name)
        row[column.name] = value.isoformat() if isinstance(value, datetime) else value
    return json.dumps(row)


def _lead_from_json(text_: str) -> Lead:
    row = json.loads(text_)
    for column in Lead.__table__.columns:  # type: ignore[attr-defined]
        value = row.get(column.name)
        if isinstance(column.type, DateTime) and isinstance(value, str):
            row[column.name] = utc(datetime.fromisoformat(value))
    return Lead(**row)


def lead_is_open(ledger: Ledger, lead: Lead) -> bool:
    return ledger.directory.stages.get(lead.stage_key) == "open"


__all__ = ["Directory", "EventRejected", "Ledger", "Moved", "stage_key", "utc"]
