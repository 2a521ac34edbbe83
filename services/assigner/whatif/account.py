"""The account as the replay rebuilds it from the history: leads, owners, tasks.

The same canonical events the crm applies, kept in memory with the indexes
the limits' figures and push's questions need (who owns what, who moved what
where and when, which tasks are open), so a question costs a few lookups,
not a pass over the history.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from services.assigner.engine.lifecycle import Work
from services.assigner.engine.situation import LeadFacts
from services.crm import history as h
from services.crm.reopening import reopening_stage


@dataclass(slots=True)
class Lead:
    id: str
    stage: str  # pipeline/stage
    responsible: str
    channel: str
    pipeline: str
    tags: tuple[str, ...]
    created_at: datetime
    last_open: str
    moved_by: str  # who owned it when it entered its current stage
    moved_at: datetime
    deleted: bool = False
    done_tasks: list[datetime] = field(default_factory=list)  # completion times
    known: LeadFacts | None = None  # facts() as of the last change

    def facts(self) -> LeadFacts:
        if self.known is None:
            self.known = LeadFacts(
                id=self.id,
                channel=self.channel,
                pipeline=self.stage.split("/", 1)[0],
                stage=self.stage,
                tags=self.tags,
                responsible=self.responsible,
            )
        return self.known


@dataclass(slots=True)
class Task:
    responsible: str
    deadline: datetime
    lead: str | None
    done: bool = False
    deleted: bool = False


@dataclass
class Moves:
    """One user's moves of leads into stages, in time order."""

    at: list[datetime] = field(default_factory=list)
    lead: list[str] = field(default_factory=list)
    stage: list[str] = field(default_factory=list)

    def add(self, at: datetime, lead: str, stage: str) -> None:
        self.at.append(at)
        self.lead.append(lead)
        self.stage.append(stage)

    def since(self, start: datetime) -> range:
        """Indexes of the moves at or after `start`."""
        return range(bisect.bisect_left(self.at, start), len(self.at))


class Account:
    """The replayed CRM: applies events, answers push's and the limits' questions."""

    def __init__(
        self,
        kinds: Mapping[str, str],
        technical: Iterable[str],
        order: Mapping[str, Sequence[tuple[str, str]]],
    ) -> None:
        self.kinds = kinds  # live stage -> open | won | lost
        self.order = order  # pipeline -> its stages (id, kind) in order
        self.technical = frozenset(technical)
        self.leads: dict[str, Lead] = {}
        self.tasks: dict[str, Task] = {}
        self.owned: dict[str, set[str]] = {}
        # user -> stage -> the leads they own there (deleted ones left out)
        self.holding: dict[str, dict[str, set[str]]] = {}
        # (user, stage) -> how often the leads they hold there changed
        self.held_version: dict[tuple[str, str], int] = {}
        self.tasks_of: dict[str, set[str]] = {}  # open tasks by owner
        self.became: dict[str, tuple[list[datetime], list[str]]] = {}
        self.moves: dict[str, dict[str, Moves]] = {}  # user -> stage -> moves
        self.changed: set[str] = set()  # users whose figures may have changed

    # -- answers ---------------------------------------------------------------
    def is_open(self, lead: Lead) -> bool:
        return not lead.deleted and self.kinds.get(lead.stage) == "open"

    def work(self, lead_id: str, since: datetime) -> Work:
        """Where a lead stands, and how many of its tasks were done since `since`."""
        lead = self.leads.get(lead_id)
        if lead is None or lead.deleted:
            return Work(found=False)
        done = len(lead.done_tasks) - bisect.bisect_left(lead.done_tasks, since)
        return Work(
            found=True,
            open=self.kinds.get(lead.stage) == "open",
            responsible=lead.responsible,
            stage=lead.stage,
            tasks_completed=done,
        )

    def open_leads(self, users: Iterable[str]) -> dict[str, int]:
        """Open leads each user is responsible for (push's least_loaded)."""
        out: dict[str, int] = {}
        kinds = self.kinds
        for user in users:
            held = self.holding.get(user, {})
            n = sum(len(v) for k, v in held.items() if kinds.get(k) == "open")
            if n:
                out[user] = n
        return out

    def became_since(self, user: str, start: datetime, now: datetime) -> list[str]:
        """Leads `user` became responsible for in [start, now]."""
        times, leads = self.became.get(user, ([], []))
        lo = bisect.bisect_left(times, start)
        hi = bisect.bisect_right(times, now)
        return leads[lo:hi]

    # -- changes -----------------------------------------------------------------
    def _hold(self, lead: Lead) -> None:
        key = (lead.responsible, lead.stage)
        self.held_version[key] = self.held_version.get(key, 0) + 1
        if not lead.deleted:
            by_stage = self.holding.setdefault(lead.responsible, {})
            by_stage.setdefault(lead.stage, set()).add(lead.id)

    def _release(self, lead: Lead) -> None:
        key = (lead.responsible, lead.stage)
        self.held_version[key] = self.held_version.get(key, 0) + 1
        self.holding.get(lead.responsible, {}).get(lead.stage, set()).discard(lead.id)

    def held_in(self, user: str, stages: Iterable[str]) -> Iterable[str]:
        """The leads `user` owns in any of `stages`."""
        by_stage = self.holding.get(user, {})
        for stage in stages:
            yield from by_stage.get(stage, ())

    def give(self, lead: Lead, user: str, at: datetime) -> None:
        """`user` becomes responsible for the lead."""
        if lead.responsible == user:
            return
        self.owned.get(lead.responsible, set()).discard(lead.id)
        self._release(lead)
        self.changed.add(lead.responsible)
        lead.responsible = user
        lead.known = None
        self._hold(lead)
        self.owned.setdefault(user, set()).add(lead.id)
        times, leads = self.became.setdefault(user, ([], []))
        times.append(at)
        leads.append(lead.id)
        self.changed.add(user)

    def move(self, lead: Lead, key: str, at: datetime) -> None:
        """The lead enters stage `key`; the move is its owner's."""
        self._release(lead)
        lead.stage = key
        self._hold(lead)
        lead.known = None
        lead.moved_by, lead.moved_at = lead.responsible, at
        if self.kinds.get(key) == "open":
            lead.last_open = key
        into = self.moves.setdefault(lead.responsible, {})
        into.setdefault(key, Moves()).add(at, lead.id, key)
        self.changed.add(lead.responsible)

    def reopen(self, lead: Lead, at: datetime) -> None:
        """As the crm reopens a closed lead: back to an open stage, which is
        no move into a stage for any limit."""
        pipeline, stage = lead.stage.split("/", 1)
        key = reopening_stage(
            pipeline=pipeline,
            stage=stage,
            kind=self.kinds.get(lead.stage, ""),
            last_open_stage=lead.last_open,
            stages=self.order.get(pipeline, []),
        )
        self._release(lead)
        lead.stage = key or lead.last_open
        lead.known = None
        self._hold(lead)
        lead.moved_by, lead.moved_at = "", at
        lead.last_open = lead.stage
        self.changed.add(lead.responsible)

    def apply(self, e: h.CanonicalEvent) -> Lead | None:
        """One history event; returns the lead it concerns, if any."""
        if isinstance(e, h.LeadCreated):
            key = f"{e.pipeline}/{e.stage}"
            lead = Lead(
                id=e.lead,
                stage=key,
                responsible=e.responsible,
                channel=e.channel,
                pipeline=e.pipeline,
                tags=tuple(e.tags),
                created_at=e.at,
                last_open=key,
                moved_by=e.responsible,
                moved_at=e.at,
            )
            self.leads[e.lead] = lead
            self._hold(lead)
            self.owned.setdefault(e.responsible, set()).add(e.lead)
            times, leads = self.became.setdefault(e.responsible, ([], []))
            times.append(e.at)
            leads.append(e.lead)
            self.changed.add(e.responsible)
            return lead
        if isinstance(e, h.StageChanged):
            lead = self.leads[e.lead]
            pipeline = e.pipeline or lead.stage.split("/", 1)[0]
            self.move(lead, f"{pipeline}/{e.to}", e.at)
            return lead
        if isinstance(e, h.LeadReopened):
            lead = self.leads[e.lead]
            self.reopen(lead, e.at)
            return lead
        if isinstance(e, h.ResponsibleChanged):
            lead = self.leads[e.lead]
            self.give(lead, e.to, e.at)
            return lead
        if isinstance(e, h.LeadDeleted | h.LeadRestored):
            lead = self.leads[e.lead]
            self._release(lead)
            lead.deleted = isinstance(e, h.LeadDeleted)
            self._hold(lead)
            self.changed.add(lead.responsible)
            for task in self.tasks.values():
                if task.lead == lead.id:
                    self.changed.add(task.responsible)
            return lead
        self._task_event(e)
        return None

    def _task_event(self, e: h.CanonicalEvent) -> None:
        if isinstance(e, h.TaskCreated):
            self.tasks[e.task] = Task(e.responsible, e.deadline, e.lead)
            self.tasks_of.setdefault(e.responsible, set()).add(e.task)
            self.changed.add(e.responsible)
        elif isinstance(e, h.TaskCompleted) and e.task in self.tasks:
            task = self.tasks[e.task]
            task.done = True
            self.tasks_of.get(task.responsible, set()).discard(e.task)
            self.changed.add(task.responsible)
            if task.lead is not None and task.lead in self.leads:
                bisect.insort(self.leads[task.lead].done_tasks, e.at)
        elif isinstance(e, h.TaskDeleted) and e.task in self.tasks:
            task = self.tasks[e.task]
            task.deleted = True
            self.tasks_of.get(task.responsible, set()).discard(e.task)
            self.changed.add(task.responsible)
        elif isinstance(e, h.TaskResponsibleChanged) and e.task in self.tasks:
            task = self.tasks[e.task]
            self.tasks_of.get(task.responsible, set()).discard(e.task)
            self.changed.add(task.responsible)
            task.responsible = e.to
            if not task.done and not task.deleted:
                self.tasks_of.setdefault(e.to, set()).add(e.task)
            self.changed.add(e.to)

    def task_lead(self, e: h.CanonicalEvent) -> str | None:
        """The lead a task event concerns (a completed task takes a lead into work)."""
        task_id = getattr(e, "task", None)
        task = self.tasks.get(task_id) if isinstance(task_id, str) else None
        return task.lead if task is not None else None
