"""Issue 24, point 1: a Russian request gets its problems in Russian.

`Accept-Language` chooses the language of every message a request gets
back, the gateway's own and those the services word (the language travels
with each gRPC call); English when none is asked.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from tests.stack import Stack

DEMO = Path(__file__).resolve().parents[2] / "leadrouter/demo/workspace.yaml"
CYRILLIC = re.compile("[а-яё]", re.IGNORECASE)
RUSSIAN = {"Accept-Language": "ru-RU,ru;q=0.9,en;q=0.8"}
SUBMIT = "mutation($i: LeadInput!) { submitLead(input: $i) { id } }"

RECORD = "mutation($e: [JSON!]!) { recordEvents(events: $e) { recorded } }"
BAD_STAGE = {
    "id": "e1",
    "type": "stage_changed",
    "at": "2026-11-02T09:00:00+07:00",
    "lead": "nobody",
    "to": "x",
}

# A request with one mistake each: (who asks, the body, the code expected).
MISTAKES: list[tuple[str, dict[str, Any], str]] = [
    # Worded by the assigner, the crm and the reports in the language passed on.
    ("admin", {"query": '{ decision(id: "999999") { id } }'}, "NOT_FOUND"),
    ("partner", {"query": RECORD, "variables": {"e": [BAD_STAGE]}}, "BAD_USER_INPUT"),
    (
        "admin",
        {"query": 'mutation { moveLead(leadId: "nope", stage: "won") { id } }'},
        "NOT_FOUND",
    ),
    (
        "admin",
        {
            "query": 'mutation { assignLeads(leadIds: [], userIds: ["ursula"]) '
            "{ dryRun } }"
        },
        "BAD_USER_INPUT",
    ),
    (
        "admin",
        {
            "query": '{ distributionReport(from: "2026-11-01", to: "2026-10-01") '
            "{ rows { total } } }"
        },
        "BAD_USER_INPUT",
    ),
    ("nobody", {"query": "{ viewer { role } }"}, "UNAUTHENTICATED"),
    ("garbage", {"query": "{ viewer { role } }"}, "UNAUTHENTICATED"),
    ("manager", {"query": 'mutation { applyWorkspace(yaml: "") { ok } }'}, "FORBIDDEN"),
    ("admin", {"query": '{ decision(id: "x") { id } }'}, "BAD_USER_INPUT"),
    ("admin", {"query": '{ group(id: "nope") { id } }'}, "NOT_FOUND"),
    (
        "manager",
        {"query": '{ eligibility(groupId: "main", userIds: ["marina"]) { eligible } }'},
        "FORBIDDEN",
    ),
    (
        "partner",
        {"query": SUBMIT, "variables": {"i": {"name": "", "channel": ""}}},
        "BAD_USER_INPUT",
    ),
    # Worded by the crm service, in the language the gateway passed on.
    (
        "partner",
        {
            "query": SUBMIT,
            "variables": {"i": {"name": "X", "channel": "form", "stage": "nowhere"}},
        },
        "BAD_USER_INPUT",
    ),
]


def _headers(stack: Stack, who: str) -> dict[str, str]:
    tokens = {
        "nobody": None,
        "garbage": "not-a-token",
        "manager": stack.token("ursula", "manager"),
        "admin": stack.token("head", "admin"),
        "partner": stack.token("site", "partner"),
    }
    token = tokens[who]
    return {"Authorization": f"Bearer {token}"} if token else {}


async def _errors(
    stack: Stack, who: str, body: dict[str, Any], language: dict[str, str]
) -> list[dict[str, Any]]:
    reply = await stack.http.post(
        "/graphql", json=body, headers={**_headers(stack, who), **language}
    )
    errors: list[dict[str, Any]] = reply.json()["errors"]
    return errors


@pytest.mark.parametrize(("who", "body", "code"), MISTAKES)
async def test_a_russian_request_gets_its_problems_in_russian(
    stack: Stack, who: str, body: dict[str, Any], code: str
) -> None:
    await stack.apply(DEMO.read_text(encoding="utf-8"))
    (english,) = await _errors(stack, who, body, {})
    (russian,) = await _errors(stack, who, body, RUSSIAN)
    assert english["extensions"]["code"] == russian["extensions"]["code"] == code
    assert not CYRILLIC.search(english["message"]), english
    assert CYRILLIC.search(russian["message"]), russian
    for problem in russian["extensions"].get("problems", []):
        assert CYRILLIC.search(problem["message"]), problem


async def test_the_crm_words_a_field_problem_in_the_language_asked(
    stack: Stack,
) -> None:
    await stack.apply(DEMO.read_text(encoding="utf-8"))
    body = {
        "query": SUBMIT,
        "variables": {"i": {"name": "X", "channel": "form", "stage": "nowhere"}},
    }
    (error,) = await _errors(stack, "partner", body, RUSSIAN)
    assert error["message"] == "input.stage: в воронке «sales» нет этапа «nowhere»"
    (error,) = await _errors(stack, "partner", body, {"Accept-Language": "de, en"})
    assert error["message"] == "input.stage: pipeline 'sales' has no stage 'nowhere'"


async def test_events_over_http_are_refused_in_the_language_asked(
    stack: Stack,
) -> None:
    await stack.apply(DEMO.read_text(encoding="utf-8"))
    reply = await stack.http.post(
        "/crm/events", content=b"", headers={**_headers(stack, "partner"), **RUSSIAN}
    )
    assert reply.status_code == 400
    assert reply.json()["error"] == "отправьте хотя бы одно событие"


async def test_workspace_problems_come_in_the_language_asked(stack: Stack) -> None:
    await stack.apply(DEMO.read_text(encoding="utf-8"))
    body = {
        "query": "mutation($y: String!) { applyWorkspace(yaml: $y, dryRun: true) "
        "{ ok problems { path message } } }",
        "variables": {
            "y": "account: {timezone: Mars/Olympus}\n"
            "users: [{id: ursula, nick: U}]\n"
            "groups: [{id: g, source_stages: [nowhere], members: [{user: olga}]}]\n"
        },
    }
    reply = await stack.http.post(
        "/graphql", json=body, headers={**_headers(stack, "admin"), **RUSSIAN}
    )
    result = reply.json()["data"]["applyWorkspace"]
    assert not result["ok"]
    assert result["problems"]
    for problem in result["problems"]:
        assert CYRILLIC.search(problem["message"]), problem


def test_the_command_line_speaks_the_language_of_the_shell(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from leadrouter import cli

    monkeypatch.setenv("LEADROUTER_DATA_DIR", str(tmp_path))
    missing = str(tmp_path / "missing.yaml")
    monkeypatch.setenv("LANG", "ru_RU.UTF-8")
    monkeypatch.delenv("LC_ALL", raising=False)
    monkeypatch.delenv("LC_MESSAGES", raising=False)
    monkeypatch.delenv("LEADROUTER_LANGUAGE", raising=False)
    with pytest.raises(SystemExit) as said:
        cli.main(["apply", missing])
    assert str(said.value).startswith(f"не удаётся прочитать {missing}: ")
    monkeypatch.setenv("LEADROUTER_LANGUAGE", "en")
    with pytest.raises(SystemExit) as said:
        cli.main(["apply", missing])
    assert str(said.value).startswith(f"cannot read {missing}: ")
