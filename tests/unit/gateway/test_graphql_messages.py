"""Issue 24, point 1: GraphQL's own refusals of a request, in the person's words.

The schema's answer to a request it cannot run (a syntax error, an unknown
field, a missing or mistyped argument, a date that is not one) is library
text; each known message reads in the language of the request, and no
Python wording of a bad date gets through.
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from gateway.graphql_messages import person_message, schema_message
from gateway.schema import schema
from leadrouter import i18n

CYRILLIC = re.compile("[а-яё]", re.IGNORECASE)
SCHEDULE = (
    '{{ schedule(userId: "u", from: {start}, to: "2026-11-30") {{ __typename }} }}'
)

# (the request, its variables, the English answer, the Russian answer)
CASES: list[tuple[str, dict[str, Any] | None, str, str]] = [
    (
        "{ viewer { ",
        None,
        "The request is not valid GraphQL (line 1, column 12): expected a name, "
        "found the end of the request",
        "Запрос — не корректный GraphQL (строка 1, столбец 12): ожидалось имя, "
        "а найдено конец запроса",
    ),
    (
        "{ nosuch }",
        None,
        "Cannot query field 'nosuch' on type 'Query'.",
        "У типа «Query» нет поля «nosuch».",
    ),
    (
        "{ lead(id: 1) { id nme } }",
        None,
        "Cannot query field 'nme' on type 'Lead'. Did you mean 'name'?",
        "У типа «Lead» нет поля «nme». Возможно, имелось в виду: 'name'.",
    ),
    (
        "{ lead { id } }",
        None,
        "The argument 'id' of 'lead' (ID!) is required, but it was not provided.",
        "Не передан обязательный аргумент «id» поля «lead» (ID!).",
    ),
    (
        SCHEDULE.format(start='"yesterday"'),
        None,
        '"yesterday" is not a date and time: write it as ISO 8601, '
        "e.g. 2026-11-20T09:00:00+03:00.",
        "«yesterday» — не дата и время: запишите их в ISO 8601, "
        "например 2026-11-20T09:00:00+03:00.",
    ),
    (
        "query($f: DateTime!) " + SCHEDULE.format(start="$f"),
        {"f": "2026-13-01T00:00:00Z"},
        "Variable '$f': \"2026-13-01T00:00:00Z\" is not a date and time: write it "
        "as ISO 8601, e.g. 2026-11-20T09:00:00+03:00.",
        "Переменная «$f»: «2026-13-01T00:00:00Z» — не дата и время: запишите их "
        "в ISO 8601, например 2026-11-20T09:00:00+03:00.",
    ),
    (
        'mutation { submitLead(input: {nme: "X"}) { id } }',
        None,
        "Field 'nme' is not defined by type 'LeadInput'.",
        "У типа «LeadInput» нет поля «nme».",
    ),
    (
        "mutation { claimLead(groupId: [1]) { __typename } }",
        None,
        "ID cannot represent a non-string and non-integer value: [1]",
        "Идентификатор должен быть строкой или целым числом, получено: [1]",
    ),
]


async def _messages(query: str, variables: dict[str, Any] | None) -> list[str]:
    result = await schema.execute(query, variable_values=variables)
    return [e.message for e in result.errors or []]


@pytest.mark.parametrize(("query", "variables", "english", "russian"), CASES)
async def test_a_refusal_of_the_schema_reads_in_the_language_asked(
    query: str, variables: dict[str, Any] | None, english: str, russian: str
) -> None:
    with i18n.speaking("en"):
        assert await _messages(query, variables) == [english]
    with i18n.speaking("ru"):
        assert await _messages(query, variables) == [russian]


def test_a_message_of_the_projects_own_is_left_as_it_is() -> None:
    with i18n.speaking("ru"):
        assert person_message("нет такой группы") is None
        assert person_message("there is no lead 'x'") is None


def test_an_unknown_library_message_still_opens_in_russian() -> None:
    with i18n.speaking("ru"):
        said = schema_message("Something graphql-core says one day.")
    assert CYRILLIC.search(said)
    assert said.endswith("Something graphql-core says one day.")
    with i18n.speaking("en"):
        assert schema_message("Something new.") == "Something new."
