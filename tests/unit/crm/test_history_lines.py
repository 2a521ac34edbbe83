"""One line of a CRM history (contract.md section 4) as an event, or the problems
that keep it from being one, each naming where: the line and the field."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from leadrouter import i18n
from services.crm import history as h
from services.crm.history import parse_line, to_json

CREATED = {
    "type": "lead_created",
    "at": "2026-11-02T10:00:00+07:00",
    "lead": "17",
    "name": "Окна в офис",
    "pipeline": "sales",
    "stage": "new",
    "responsible": "exchange",
    "tags": ["сайт"],
    "budget": 120000,
}


def _problems(line: str) -> list[str]:
    event, problems = parse_line(line, "line 3")
    assert event is None
    return [str(p) for p in problems]


def test_a_lead_created_line_reads_with_its_time_in_utc() -> None:
    event, problems = parse_line(json.dumps(CREATED), "line 1")
    assert problems == []
    assert isinstance(event, h.LeadCreated)
    assert event.at == datetime(2026, 11, 2, 3, 0, tzinfo=UTC)
    assert (event.stage, event.responsible, event.budget) == ("new", "exchange", 120000)


def test_a_line_that_is_not_json_says_so_with_its_line() -> None:
    assert _problems("{lead: 17") == [
        "line 3: not valid JSON (Expecting property name enclosed in double quotes)"
    ]
    assert _problems("[1, 2]") == ["line 3: must be a JSON object"]


def test_an_unknown_or_missing_type_is_named() -> None:
    assert _problems('{"type": "lead_sold", "at": "2026-11-02T10:00:00Z"}') == [
        "line 3: type: unknown event type 'lead_sold'"
    ]
    assert _problems('{"lead": "17"}') == ["line 3: type: missing 'type'"]


def test_each_wrong_field_is_a_problem_of_its_own() -> None:
    line = {**CREATED, "budget": -1, "tags": ["a,b"], "colour": "red"}
    line.pop("responsible")
    problems = _problems(json.dumps(line))
    assert problems == [
        "line 3: responsible: Field required",
        "line 3: tags.0: a tag holds no comma: give each tag as its own item",
        "line 3: budget: must be >= 0",
        "line 3: colour: unknown field",
    ]


def test_a_tag_with_a_comma_is_refused_in_words_not_a_pattern() -> None:
    with i18n.speaking("ru"):
        (problem,) = _problems(json.dumps({**CREATED, "tags": ["VIP, срочно"]}))
    assert problem.startswith("line 3: tags.0: ")
    assert "pattern" not in problem and "^[^,]*$" not in problem
    assert "comma" not in problem


def test_a_time_without_its_offset_is_refused_with_an_example() -> None:
    line = {**CREATED, "at": "2026-11-02T10:00:00"}
    (problem,) = _problems(json.dumps(line))
    assert problem.startswith("line 3: at: ")
    assert "needs a UTC offset, e.g. 2026-11-02T09:00:00+07:00" in problem


def test_the_problems_speak_russian_when_asked() -> None:
    with i18n.speaking("ru"):
        problems = _problems('{"type": "lead_sold", "at": "2026-11-02T10:00:00Z"}')
    assert "unknown event type" not in problems[0]
    assert "'lead_sold'" in problems[0]


def test_an_event_written_back_reads_as_the_same_event() -> None:
    event, _ = parse_line(json.dumps(CREATED), "line 1")
    assert event is not None
    again, problems = parse_line(to_json(event), "line 1")
    assert problems == [] and again == event
