"""The loss reason a lead keeps, and the refusal of a move without one (seed 002)."""

from __future__ import annotations

import pytest

from leadrouter import i18n
from services.crm.loss_reasons import (
    ReasonRefused,
    StageReasons,
    checked_reason,
    kept_reason,
)

LISTED = StageReasons("lost", ("Дорого", "Пропала потребность"))
REQUIRED = StageReasons("lost", ("Дорого", "Пропала потребность"), required=True)
FREE = StageReasons("lost")


def test_a_listed_reason_is_kept_in_the_lists_spelling() -> None:
    assert kept_reason(LISTED, "  дорого ") == "Дорого"


def test_other_text_on_a_stage_with_a_list_is_counted_as_other() -> None:
    assert kept_reason(LISTED, "ушёл к конкурентам") == "other: ушёл к конкурентам"
    assert kept_reason(LISTED, "Other: сам написал") == "Other: сам написал"


def test_free_text_on_a_stage_without_a_list_is_kept_as_written() -> None:
    assert kept_reason(FREE, "ушёл   к конкурентам") == "ушёл к конкурентам"


def test_only_a_lost_stage_keeps_a_reason() -> None:
    assert kept_reason(StageReasons("won"), "Дорого") == ""
    assert kept_reason(LISTED, None) == ""


def test_a_stage_that_requires_a_reason_refuses_a_move_without_one() -> None:
    with pytest.raises(ReasonRefused) as refused:
        checked_reason("sales/lost", REQUIRED, "")
    assert str(refused.value) == (
        "a lead moved to 'sales/lost' needs one of its loss reasons "
        "('Дорого', 'Пропала потребность'); none was given"
    )


def test_a_stage_that_requires_a_reason_refuses_one_not_listed() -> None:
    with pytest.raises(ReasonRefused, match="'просто так' is not one of them"):
        checked_reason("sales/lost", REQUIRED, "просто так")
    assert checked_reason("sales/lost", REQUIRED, "дорого") == "Дорого"


def test_a_reason_on_an_open_stage_is_the_callers_mistake() -> None:
    with pytest.raises(ReasonRefused) as refused:
        checked_reason("sales/new", StageReasons("open"), "Дорого")
    assert str(refused.value) == (
        "'sales/new' is not a lost stage; only a lost lead has a loss reason"
    )


def test_a_reason_longer_than_200_characters_is_refused_in_russian_when_asked() -> None:
    with i18n.speaking("ru"), pytest.raises(ReasonRefused) as refused:
        checked_reason("sales/lost", FREE, "x" * 201)
    assert "200" in str(refused.value)
    assert "characters" not in str(refused.value)
