"""amoCRM JSON as the mirror's events (services/crm/amocrm/mapping.py).

The lead below is the example answer of GET /api/v4/leads/{id} in amoCRM's
API documentation ("Пример ответа", crm_platform/leads-api), trimmed of the
fields the mirror does not read.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from services.crm import history as h
from services.crm.amocrm.directory_mapping import (
    entry_stages,
    pipelines_from_api,
    unsorted_stages,
    users_from_api,
)
from services.crm.amocrm.mapping import (
    LocalLead,
    LocalTask,
    lead_events,
    lead_from_api,
    task_events,
    task_from_api,
)

DOCS_LEAD: dict[str, Any] = {
    "id": 3912171,
    "name": "Example",
    "price": 12,
    "responsible_user_id": 504141,
    "group_id": 0,
    "status_id": 143,
    "pipeline_id": 3104455,
    "loss_reason_id": 4203748,
    "created_by": 504141,
    "updated_by": 504141,
    "created_at": 1585299171,
    "updated_at": 1590683337,
    "closed_at": 1590683337,
    "is_deleted": False,
    "_embedded": {
        "tags": [{"id": 100667, "name": "тест", "color": None}],
        "loss_reason": [{"id": 4203748, "name": "Пропала потребность", "sort": 100000}],
        "companies": [{"id": 10971463}],
        "contacts": [{"id": 10971465, "is_main": True}],
    },
}


def _at(ts: int) -> datetime:
    return datetime.fromtimestamp(ts, UTC)


def test_the_documented_lead_reads_as_a_lost_lead_with_its_reason() -> None:
    lead = lead_from_api(DOCS_LEAD)
    assert lead.id == "3912171"
    assert lead.stage_key == "3104455/143"
    assert lead.responsible == "504141"
    assert lead.loss_reason == "Пропала потребность"
    assert lead.tags == ("тест",)
    assert lead.contacts == ("10971465",)
    assert lead.companies == ("10971463",)
    assert lead.closed_at == _at(1590683337)


def test_a_reason_not_embedded_falls_back_to_its_id() -> None:
    data = {**DOCS_LEAD, "_embedded": {}}
    assert lead_from_api(data).loss_reason == "4203748"


def test_the_main_contact_comes_first_and_commas_leave_tags() -> None:
    data = {
        **DOCS_LEAD,
        "price": -5,
        "_embedded": {
            "tags": [{"name": "vip, hot"}, {"name": "  "}],
            "contacts": [{"id": 1, "is_main": False}, {"id": 2, "is_main": True}],
        },
    }
    lead = lead_from_api(data)
    assert lead.contacts == ("2", "1")
    assert lead.tags == ("vip  hot",)
    assert lead.price == 0


def test_a_lead_first_seen_lost_is_created_open_then_closed_with_its_reason() -> None:
    events = lead_events(lead_from_api(DOCS_LEAD), None, entry_stage="3104456")
    assert [e.type for e in events] == ["lead_created", "stage_changed"]
    created, closed = events
    assert isinstance(created, h.LeadCreated) and isinstance(closed, h.StageChanged)
    assert (created.pipeline, created.stage) == ("3104455", "3104456")
    assert created.budget == 12 and created.tags == ["тест"]
    assert closed.to == "143"
    assert closed.loss_reason == "Пропала потребность"
    assert closed.at == _at(1590683337)


def test_a_new_open_lead_is_only_created() -> None:
    data = {**DOCS_LEAD, "status_id": 3104456, "closed_at": None}
    events = lead_events(lead_from_api(data), None, entry_stage="3104456")
    assert [e.type for e in events] == ["lead_created"]


def test_a_known_lead_given_to_someone_else_in_amocrm_changes_owner() -> None:
    local = LocalLead(responsible="111", pipeline="3104455", stage="143")
    events = lead_events(lead_from_api(DOCS_LEAD), local, entry_stage=None)
    assert len(events) == 1
    change = events[0]
    assert isinstance(change, h.ResponsibleChanged)
    assert change.to == "504141"


def test_a_move_to_another_pipeline_names_the_pipeline() -> None:
    local = LocalLead(responsible="504141", pipeline="900", stage="901")
    moved_at = _at(1590000000)
    (event,) = lead_events(
        lead_from_api(DOCS_LEAD), local, entry_stage=None, moved_at=moved_at
    )
    assert isinstance(event, h.StageChanged)
    assert (event.pipeline, event.to, event.at) == ("3104455", "143", moved_at)


def test_an_assignment_not_yet_written_to_amocrm_is_not_undone() -> None:
    local = LocalLead(responsible="111", pipeline="3104455", stage="200")
    assert (
        lead_events(
            lead_from_api(DOCS_LEAD), local, entry_stage=None, hold_assignment=True
        )
        == []
    )


def test_a_lead_already_in_line_gives_no_event() -> None:
    local = LocalLead(responsible="504141", pipeline="3104455", stage="143")
    assert lead_events(lead_from_api(DOCS_LEAD), local, entry_stage=None) == []


TASK: dict[str, Any] = {
    "id": 4745251,
    "created_at": 1588841241,
    "updated_at": 1588841241,
    "responsible_user_id": 123123,
    "entity_id": 167353,
    "entity_type": "leads",
    "is_completed": True,
    "text": "Пригласить на бесплатную тренировку",
    "complete_till": 1588885140,
}


def test_a_task_done_before_it_was_seen_is_created_and_completed() -> None:
    task = task_from_api(TASK)
    assert task.lead == "167353"
    events = task_events(task, None, lead_known=True)
    assert [e.type for e in events] == ["task_created", "task_completed"]


def test_a_done_task_on_a_lead_the_mirror_lacks_is_moot() -> None:
    assert task_events(task_from_api(TASK), None, lead_known=False) == []


def test_a_done_task_keeps_its_owner_and_an_open_one_follows_amocrm() -> None:
    open_task = task_from_api({**TASK, "is_completed": False})
    (event,) = task_events(
        open_task, LocalTask(responsible="999", completed=False), lead_known=True
    )
    assert isinstance(event, h.TaskResponsibleChanged) and event.to == "123123"
    done_here = LocalTask(responsible="999", completed=True)
    assert task_events(open_task, done_here, lead_known=True) == []


PIPELINES: list[dict[str, Any]] = [
    {
        "id": 3177727,
        "name": "Воронка",
        "sort": 2,
        "is_archive": False,
        "_embedded": {
            "statuses": [
                {"id": 142, "name": "Успешно реализовано", "sort": 10000, "type": 0},
                {"id": 32392156, "name": "Неразобранное", "sort": 10, "type": 1},
                {"id": 32392159, "name": "Первичный контакт", "sort": 20, "type": 0},
                {"id": 143, "name": "Закрыто и не реализовано", "sort": 11000},
                {"id": 32392162, "name": "Переговоры", "sort": 30, "type": 0},
            ]
        },
    },
    {"id": 1, "name": "Архив", "sort": 1, "is_archive": True, "_embedded": {}},
]


def test_pipelines_come_in_amocrm_order_with_won_lost_and_open_stages() -> None:
    archive, sales = pipelines_from_api(PIPELINES)
    assert archive.archived and archive.stages == ()
    assert [(s.name, s.kind) for s in sales.stages] == [
        ("Неразобранное", "open"),
        ("Первичный контакт", "open"),
        ("Переговоры", "open"),
        ("Успешно реализовано", "won"),
        ("Закрыто и не реализовано", "lost"),
    ]


def test_a_lead_begins_in_the_first_stage_after_unsorted() -> None:
    assert entry_stages(PIPELINES) == {"3177727": "32392159"}
    assert unsorted_stages(PIPELINES) == frozenset({"3177727/32392156"})


def test_users_named_by_the_deployment_are_technical_and_inactive_ones_kept() -> None:
    users = users_from_api(
        [
            {"id": 504141, "name": "Ольга", "rights": {"is_active": True}},
            {"id": 7, "name": "", "rights": {"is_active": False}},
        ],
        technical=frozenset({"7"}),
    )
    assert [(u.id, u.name, u.technical, u.active) for u in users] == [
        ("504141", "Ольга", False, True),
        ("7", "7", True, False),
    ]
