"""Issue 24, point 7: each command and mutation with one mistake in it names
the real mistake, in the person's words, in the language asked.

Each row is one request with one thing wrong (a wrong id, a missing
argument, a bad date, a wrong role) and the exact words a client reads:
the first error's code and message, or, for the mutations that answer
problems as data, each problem as `path: message`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.stack import Stack

DEMO = Path(__file__).resolve().parents[2] / "leadrouter/demo/workspace.yaml"
RU = "ru-RU,ru;q=0.9"
PROBLEMS = "{ ok problems { path message } }"
LIMITS = (
    'mutation { updateMemberLimits(groupId: "%s", userId: "%s", enabled: true, '
    "limits: [%s]) " + PROBLEMS + " }"
)
EVENT = '{id: "e1", type: "stage_changed", at: "%s", lead: "L1", to: "won"}'
SIMULATE = (
    'query { simulate(workspaceYaml: "", from: "%s", to: "2026-11-27T00:00:00Z") '
    "{ ok } }"
)

# (who asks, Accept-Language, the request, the code or "data", the words)
ROWS: list[tuple[str, str, str, str, str]] = [
    # claimLead
    (
        "admin",
        "",
        'mutation { claimLead(groupId: "nope") { __typename } }',
        "NOT_FOUND",
        "there is no distribution group 'nope'",
    ),
    (
        "viewer",
        "",
        'mutation { claimLead(groupId: "main") { __typename } }',
        "FORBIDDEN",
        "the viewer role may not do this (allowed: admin, manager)",
    ),
    (
        "manager",
        RU,
        "mutation { claimLead { __typename } }",
        "BAD_USER_INPUT",
        "Не передан обязательный аргумент «groupId» поля «claimLead» (ID!).",
    ),
    # submitLead
    (
        "partner",
        "",
        'mutation { submitLead(input: {name: "X"}) { id } }',
        "BAD_USER_INPUT",
        "input.channel: say where the lead came from: call, form, email, chat or "
        "your own word",
    ),
    (
        "partner",
        "",
        'mutation { submitLead(input: {name: "X", channel: "form", '
        'pipeline: "nope"}) { id } }',
        "BAD_USER_INPUT",
        "input.pipeline: the account has no pipeline 'nope'",
    ),
    (
        "partner",
        "",
        'mutation { submitLead(input: {name: "X", channel: "form", '
        'responsible: "nobody"}) { id } }',
        "BAD_USER_INPUT",
        "input.responsible: the account has no user 'nobody'",
    ),
    (
        "partner",
        RU,
        'mutation { submitLead(input: {name: "X", chanel: "form"}) { id } }',
        "BAD_USER_INPUT",
        "У типа «LeadInput» нет поля «chanel».",
    ),
    # moveLead
    (
        "admin",
        "",
        'mutation { moveLead(leadId: "nope", stage: "won") { id } }',
        "NOT_FOUND",
        "there is no lead 'nope'",
    ),
    # recordEvents
    (
        "partner",
        "",
        "mutation { recordEvents(events: [%s]) { recorded } }" % (EVENT % "yesterday"),
        "BAD_USER_INPUT",
        "events[0].at: must be a date and time with its UTC offset, like "
        "2026-11-02T09:00:00+07:00",
    ),
    (
        "manager",
        "",
        "mutation { recordEvents(events: []) { recorded } }",
        "FORBIDDEN",
        "the manager role may not do this (allowed: admin, partner)",
    ),
    # applyWorkspace, restoreWorkspace
    (
        "admin",
        "",
        'mutation { applyWorkspace(yaml: "groups: 5") ' + PROBLEMS + " }",
        "data",
        "groups: must be a list",
    ),
    (
        "manager",
        "",
        'mutation { applyWorkspace(yaml: "") { ok } }',
        "FORBIDDEN",
        "the manager role may not do this (allowed: admin)",
    ),
    (
        "admin",
        "",
        "mutation { restoreWorkspace(version: 999) " + PROBLEMS + " }",
        "NOT_FOUND",
        "there is no version 999 of the setup; `leadrouter history` lists the versions",
    ),
    # updateMemberLimits: every answer a code and a person's message
    (
        "admin",
        "",
        LIMITS % ("nope", "marina", ""),
        "NOT_FOUND",
        "there is no distribution group 'nope'",
    ),
    (
        "admin",
        "",
        LIMITS % ("main", "nobody", ""),
        "data",
        "userId: the account has no user 'nobody'",
    ),
    (
        "admin",
        "",
        LIMITS % ("main", "marina", '{limit: "max_active", value: -1}'),
        "data",
        "limits.max_active: must be a whole number from 0 to 100000",
    ),
    (
        "admin",
        RU,
        LIMITS % ("main", "marina", '{limit: "max_active", value: "5"}'),
        "BAD_USER_INPUT",
        'Ожидалось целое число, получено: "5"',
    ),
    (
        "manager",
        "",
        LIMITS % ("main", "marina", ""),
        "FORBIDDEN",
        "the manager role may not do this (allowed: admin)",
    ),
    # simulate: a date that is not one
    (
        "admin",
        "",
        SIMULATE % "yesterday",
        "BAD_USER_INPUT",
        '"yesterday" is not a date and time: write it as ISO 8601, '
        "e.g. 2026-11-20T09:00:00+03:00.",
    ),
    (
        "admin",
        RU,
        SIMULATE % "2026-11-31T00:00:00Z",
        "BAD_USER_INPUT",
        "«2026-11-31T00:00:00Z» — не дата и время: запишите их в ISO 8601, "
        "например 2026-11-20T09:00:00+03:00.",
    ),
    # GraphQL's own refusals, in the language asked (issue 24, point 1)
    (
        "admin",
        RU,
        "{ viewer { role ",
        "BAD_USER_INPUT",
        "Запрос — не корректный GraphQL (строка 1, столбец 17): ожидалось имя, "
        "а найдено конец запроса",
    ),
    (
        "admin",
        "",
        "{ viewer { role ",
        "BAD_USER_INPUT",
        "The request is not valid GraphQL (line 1, column 17): expected a name, "
        "found the end of the request",
    ),
    (
        "admin",
        RU,
        "{ viewer { rol } }",
        "BAD_USER_INPUT",
        "У типа «Viewer» нет поля «rol». Возможно, имелось в виду: 'role'.",
    ),
    (
        "admin",
        "",
        "{ viewer { rol } }",
        "BAD_USER_INPUT",
        "Cannot query field 'rol' on type 'Viewer'. Did you mean 'role'?",
    ),
]


def _said(body: dict[str, Any]) -> tuple[str, str]:
    """The code and the words a client reads first."""
    if body.get("errors"):
        first = body["errors"][0]
        return first["extensions"]["code"], first["message"]
    (result,) = body["data"].values()
    words = "; ".join(f"{p['path']}: {p['message']}" for p in result["problems"])
    return "data", words


@pytest.mark.parametrize(("who", "language", "query", "code", "words"), ROWS)
async def test_one_mistake_is_named_for_what_it_is(
    stack: Stack, who: str, language: str, query: str, code: str, words: str
) -> None:
    await stack.apply(DEMO.read_text(encoding="utf-8"))
    users = {"admin": "head", "manager": "ursula", "viewer": "head", "partner": "site"}
    headers = {"Authorization": f"Bearer {stack.token(users[who], who)}"}
    if language:
        headers["Accept-Language"] = language
    reply = await stack.http.post("/graphql", json={"query": query}, headers=headers)
    assert _said(reply.json()) == (code, words)


async def test_a_refusal_says_its_reason_in_the_language_asked(stack: Stack) -> None:
    """A code for a program, its words for the person (tests/test_reason_codes.py)."""
    await stack.apply(DEMO.read_text(encoding="utf-8"))
    press = (
        'mutation { claimLead(groupId: "main", userId: "nobody") '
        "{ ... on Refused { reasons { code text } } } }"
    )
    headers = {"Authorization": f"Bearer {stack.token('head', 'admin')}"}
    said = {}
    for language in ("en", "ru"):
        reply = await stack.http.post(
            "/graphql",
            json={"query": press},
            headers={**headers, "Accept-Language": language},
        )
        said[language] = reply.json()["data"]["claimLead"]["reasons"]
    assert said == {
        "en": [{"code": "not_a_member", "text": "not a member of the group"}],
        "ru": [{"code": "not_a_member", "text": "не участник группы"}],
    }
