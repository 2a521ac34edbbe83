"""The write that makes amoCRM's lead match an assignment made here: PATCHed where
it stands, accepted out of Unsorted (amoCRM refuses to PATCH a lead there)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import cast

from sqlmodel import Session

from services.crm.amocrm.outbox import lead_write
from services.crm.amocrm.tables import AmoUnsortedLead
from services.crm.tables import Lead

AT = datetime(2026, 11, 2, 3, tzinfo=UTC)
# Without the cascade nothing is read: no session is needed.
NO_SESSION = cast(Session, None)


def _lead(pipeline: str = "3104455", stage: str = "32392159") -> Lead:
    return Lead(
        account="acme",
        id="3912171",
        pipeline=pipeline,
        stage=stage,
        stage_key=f"{pipeline}/{stage}",
        responsible="504141",
        created_at=AT,
        stage_changed_at=AT,
    )


def _unsorted(pipeline: str = "3104455") -> AmoUnsortedLead:
    return AmoUnsortedLead(
        account="acme", lead_id="3912171", pipeline=pipeline, stage="32392156", uid="u1"
    )


def test_a_lead_in_a_stage_is_patched_to_its_owner_and_stage() -> None:
    write = lead_write(NO_SESSION, "acme", _lead(), cascade=False)
    assert write == {
        "leads": [
            {
                "id": 3912171,
                "responsible_user_id": 504141,
                "pipeline_id": 3104455,
                "status_id": 32392159,
            }
        ]
    }


def test_an_unsorted_lead_is_accepted_into_the_target_stage_not_patched() -> None:
    write = lead_write(NO_SESSION, "acme", _lead(), cascade=False, unsorted=_unsorted())
    assert write["accept"] == [
        {
            "id": 3912171,
            "uid": "u1",
            "pipeline": "3104455",
            "user_id": 504141,
            "status_id": 32392159,
            "cascade": False,
        }
    ]
    assert write["leads"] == [{"id": 3912171, "responsible_user_id": 504141}]


def test_an_unsorted_lead_taken_where_it_stands_is_accepted_without_a_stage() -> None:
    lead = _lead(stage="32392156")
    write = lead_write(NO_SESSION, "acme", lead, cascade=False, unsorted=_unsorted())
    assert write["accept"][0]["status_id"] is None


def test_a_lead_for_another_pipeline_is_accepted_in_its_own_then_moved() -> None:
    lead = _lead(pipeline="900", stage="901")
    write = lead_write(NO_SESSION, "acme", lead, cascade=False, unsorted=_unsorted())
    assert write["accept"][0]["pipeline"] == "3104455"
    assert write["accept"][0]["status_id"] is None
    assert write["leads"] == [
        {
            "id": 3912171,
            "responsible_user_id": 504141,
            "pipeline_id": 900,
            "status_id": 901,
        }
    ]
