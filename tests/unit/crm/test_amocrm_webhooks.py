"""What an amoCRM webhook or a stretch of its events says has changed.

The bodies are the examples of amoCRM's webhook documentation ("Пример
массива", "Пример массива для задач", crm_platform/webhooks-format), sent
form-encoded as amoCRM sends them.
"""

from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import urlencode

from services.crm.amocrm.changes import Touched, parse_webhook, touched_by_events

STATUS_HOOK = urlencode(
    {
        "leads[status][0][id]": "25399013",
        "leads[status][0][name]": "Lead title",
        "leads[status][0][old_status_id]": "7039101",
        "leads[status][0][status_id]": "142",
        "leads[status][0][price]": "0",
        "leads[status][0][responsible_user_id]": "123123",
        "leads[status][0][last_modified]": "1413554372",
        "leads[status][0][modified_user_id]": "123123",
        "leads[status][0][created_user_id]": "123123",
        "leads[status][0][date_create]": "1413554349",
        "leads[status][0][account_id]": "7039099",
        "leads[status][0][custom_fields][0][id]": "427183",
        "leads[status][0][custom_fields][0][values][0]": "1",
    }
)
TASK_HOOK = urlencode(
    {
        "task[update][0][id]": "11122233",
        "task[update][0][element_id]": "33322211",
        "task[update][0][element_type]": "2",
        "task[update][0][task_type]": "1",
        "task[update][0][text]": "Follow-up",
        "task[update][0][status]": "1",
        "task[update][0][responsible_user_id]": "123123",
        "account[subdomain]": "test",
    }
)


def test_a_status_webhook_names_the_lead_to_read_again() -> None:
    touched = parse_webhook(STATUS_HOOK)
    assert touched.leads == {"25399013"}
    assert touched.tasks == set()
    # The documented example names no pipeline: no move is guessed from it.
    assert touched.moves == {}


def test_a_status_webhook_with_its_pipeline_records_when_the_lead_moved() -> None:
    touched = parse_webhook(STATUS_HOOK + "&leads[status][0][pipeline_id]=3104455")
    assert touched.moves == {
        "25399013": ("3104455/142", datetime.fromtimestamp(1413554372, UTC))
    }


def test_a_task_webhook_names_the_task_its_lead_and_the_account() -> None:
    touched = parse_webhook(TASK_HOOK)
    assert touched.tasks == {"11122233"}
    assert touched.leads == {"33322211"}
    assert touched.subdomain == "test"


def test_a_restored_lead_has_its_tasks_listed_again() -> None:
    touched = parse_webhook("leads[restore][0][id]=17")
    assert touched.leads == {"17"} and touched.task_leads == {"17"}


def test_forged_or_empty_ids_name_nothing() -> None:
    touched = parse_webhook(
        "leads[add][0][id]=1%3B+DROP+TABLE&task[add][0][id]=&unrelated=1"
    )
    assert not touched
    assert parse_webhook("") == Touched()


def test_merging_two_stretches_keeps_the_later_move_of_a_lead() -> None:
    early = datetime(2026, 11, 2, 9, tzinfo=UTC)
    late = datetime(2026, 11, 2, 10, tzinfo=UTC)
    seen = Touched(leads={"1"}, moves={"1": ("10/20", late)})
    seen.add(
        Touched(leads={"2"}, moves={"1": ("10/30", early)}, actors={"lead 2": "7"})
    )
    assert seen.leads == {"1", "2"}
    assert seen.moves == {"1": ("10/20", late)}
    assert seen.actors == {"lead 2": "7"}


def _event(
    n: int, kind: str, entity: int, at: int, **more: object
) -> dict[str, object]:
    return {
        "id": f"e{n}",
        "type": kind,
        "entity_id": entity,
        "entity_type": "task" if kind.startswith("task") else "lead",
        "created_at": at,
        **more,
    }


def test_events_are_read_oldest_first_so_the_last_move_wins() -> None:
    def moved(n: int, at: int, status: int) -> dict[str, object]:
        after = [{"lead_status": {"id": status, "pipeline_id": 3104455}}]
        return _event(n, "lead_status_changed", 5, at, value_after=after)

    touched = touched_by_events([moved(2, 1700000100, 143), moved(1, 1700000000, 142)])
    assert touched.moves == {
        "5": ("3104455/143", datetime.fromtimestamp(1700000100, UTC))
    }


def test_who_deleted_a_lead_is_kept_and_unread_event_types_are_skipped() -> None:
    touched = touched_by_events(
        [
            _event(1, "lead_deleted", 8, 1700000000, created_by=504141),
            _event(2, "common_note_added", 9, 1700000001),
            _event(3, "task_completed", 44, 1700000002),
        ]
    )
    assert touched.leads == {"8"}
    assert touched.tasks == {"44"}
    assert touched.actors == {"lead 8": "504141"}
