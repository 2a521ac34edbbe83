"""Every problem of a workspace file at once (issue 19 point 4).

A file with five mistakes gets five problems in one answer, each with its
path in the file, its line, and the thing it is about by its name; and
nothing of the file is applied, from GraphQL or from the command line.
"""

from __future__ import annotations

from typing import Any

import pytest

from leadrouter import cli_setup
from leadrouter.demo import WORKSPACE as DEMO_FILE
from leadrouter.i18n import speaking
from leadrouter.setup_diff import canonical
from leadrouter.setup_services import read_setup
from leadrouter.workspace import Workspace
from tests.stack import Stack

DEMO = DEMO_FILE.read_text(encoding="utf-8")
APPLY = """mutation($y: String!, $dry: Boolean!) {
  applyWorkspace(yaml: $y, dryRun: $dry) {
    ok applied changes problems { path line message }
  }
}"""

# One file, five mistakes: an unknown user in a group, a limit out of range,
# a group id given twice, a template pointing at a pipeline and a stage that
# do not exist, a window 25:00.
FIVE_MISTAKES = """\
groups:
  - id: main
    name: Sales floor
    source_stages: [sales/new]
    exchange_users: [pool]
    members:
      - user: ghost
      - user: marina
        limits:
          max_active: -1
  - id: main
    name: Second floor
    source_stages: [sales/new]
    exchange_users: [pool]
templates:
  - id: night
    name: Night calls
    match: {pipelines: [rentals]}
    window: "25:00-09:00"
    participants: [{user: marina}]
    target_stage: rentals/new
"""

EXPECTED = [
    (
        7,
        "groups[0].members[0].user",
        "group Sales floor, member ghost: unknown user 'ghost'",
    ),
    (
        10,
        "groups[0].members[1].limits.max_active",
        "group Sales floor, member Marina: must be >= 0",
    ),
    (11, "groups[1].id", "group Second floor: duplicate group 'main'"),
    (
        18,
        "templates[0].match.pipelines[0]",
        "template Night calls: unknown pipeline 'rentals'",
    ),
    (
        19,
        "templates[0].window",
        "template Night calls: window '25:00-09:00': bad time '25:00', expected "
        "00:00..23:59 (or 24:00 as an end)",
    ),
    (
        21,
        "templates[0].target_stage",
        "template Night calls: unknown stage 'rentals/new'",
    ),
]


async def _apply(stack: Stack, text: str, *, dry_run: bool = False) -> dict[str, Any]:
    data = await stack.data(APPLY, {"y": text, "dry": dry_run})
    result: dict[str, Any] = data["applyWorkspace"]
    return result


async def _setup(stack: Stack) -> Workspace:
    return canonical(await read_setup(stack.clients, stack.account))


@pytest.fixture
async def demo(any_stack: Stack) -> Stack:
    loaded = await _apply(any_stack, DEMO)
    assert loaded["ok"] and loaded["applied"], loaded["problems"]
    return any_stack


@pytest.mark.parametrize("dry_run", [True, False], ids=["preview", "apply"])
async def test_every_mistake_is_told_at_once_with_its_line_and_nothing_applied(
    demo: Stack, dry_run: bool
) -> None:
    before = await _setup(demo)
    result = await _apply(demo, FIVE_MISTAKES, dry_run=dry_run)
    assert not result["ok"] and not result["applied"]
    assert result["changes"] == []
    assert [(p["line"], p["path"], p["message"]) for p in result["problems"]] == [
        *EXPECTED
    ]
    assert await _setup(demo) == before


async def test_the_command_line_prints_file_line_path_and_message(
    demo: Stack,
    tmp_path: Any,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setattr(cli_setup.Clients, "from_settings", lambda _s: demo.clients)
    before = await _setup(demo)
    path = tmp_path / "team.yaml"
    path.write_text(FIVE_MISTAKES)
    assert await cli_setup.apply(demo.settings, str(path), "acme", False, True) == 1
    assert capsys.readouterr().out.splitlines() == [
        f"{path}: 6 problems; nothing was changed:",
        *(f"{path}:{line}: {where}: {message}" for line, where, message in EXPECTED),
    ]
    assert await _setup(demo) == before


async def test_a_file_that_is_not_yaml_is_told_by_its_line(stack: Stack) -> None:
    result = await _apply(stack, "groups:\n  - id: x\n    name: [a\n")
    (problem,) = result["problems"]
    assert problem["path"] == "" and problem["line"] == 4
    assert problem["message"].startswith("not valid YAML")


async def test_a_shape_mistake_does_not_hide_the_references_of_the_rest(
    stack: Stack,
) -> None:
    # A template without participants cannot be read at all; the group next
    # to it still is, and its unknown stage is told in the same answer.
    text = """\
users: [{id: pool, name: Lead exchange, technical: true}]
groups:
  - id: main
    source_stages: [sales/nowhere]
    exchange_users: [pool]
templates:
  - id: night
    participants: []
"""
    result = await _apply(stack, text)
    assert [(p["line"], p["path"], p["message"]) for p in result["problems"]] == [
        (4, "groups[0].source_stages[0]", "group main: unknown stage 'sales/nowhere'"),
        (8, "templates[0].participants", "template night: must not be empty"),
    ]


RUSSIAN = {"Accept-Language": "ru-RU,ru;q=0.9,en;q=0.8"}
EDITED = DEMO.replace("max_active: 5, max_overdue_tasks: 1", "max_active: 12").replace(
    '    window: "09:00-16:00"', '    window: "09:00-15:00"'
)
PRUNED = EDITED[: EDITED.index("  - id: calls-saturday")]


async def _apply_in(
    stack: Stack, language: dict[str, str], text: str, *, prune: bool = False
) -> dict[str, Any]:
    reply = await stack.http.post(
        "/graphql",
        json={
            "query": """mutation($y: String!, $p: Boolean!) {
              applyWorkspace(yaml: $y, dryRun: true, allowRemovals: $p) {
                ok changes kept changeList { what from to }
                problems { path line message }
              } }""",
            "variables": {"y": text, "p": prune},
        },
        headers={"Authorization": f"Bearer {stack.token('head', 'admin')}", **language},
    )
    result: dict[str, Any] = reply.json()["data"]["applyWorkspace"]
    return result


async def test_a_russian_request_gets_russian_change_lines_and_problems(
    demo: Stack,
) -> None:
    russian = await _apply_in(demo, RUSSIAN, PRUNED, prune=True)
    assert russian["changes"] == [
        "удалено: шаблон calls-saturday",
        "группа main, участник marina: max_active 5 → 12",
        "группа main, участник marina: max_overdue_tasks 1 → выкл.",
        "шаблон calls-day: window 09:00-16:00 → 09:00-15:00",
    ]
    assert russian["changeList"][2] == {
        "what": "группа main, участник marina",
        "from": "1",
        "to": "выкл.",
    }
    english = await _apply_in(demo, {}, PRUNED, prune=True)
    assert english["changes"] == [
        "template calls-saturday: removed",
        "group main, member marina: max_active 5 → 12",
        "group main, member marina: max_overdue_tasks 1 → off",
        "template calls-day: window 09:00-16:00 → 09:00-15:00",
    ]

    kept = await _apply_in(demo, RUSSIAN, PRUNED)
    assert kept["kept"] == ["шаблон calls-saturday"]
    exported = await demo.http.post(
        "/graphql",
        json={"query": "{ exportWorkspace }"},
        headers={"Authorization": f"Bearer {demo.token('head', 'admin')}", **RUSSIAN},
    )
    heading = exported.json()["data"]["exportWorkspace"].splitlines()[0]
    assert (
        heading
        == "# Настройки аккаунта 'acme' в том виде, как они действуют (версия 1)."
    )

    refused = await _apply_in(demo, RUSSIAN, FIVE_MISTAKES)
    assert [(p["line"], p["path"], p["message"]) for p in refused["problems"]] == [
        (
            7,
            "groups[0].members[0].user",
            "группа Sales floor, участник ghost: неизвестный пользователь «ghost»",
        ),
        (
            10,
            "groups[0].members[1].limits.max_active",
            "группа Sales floor, участник Marina: должно быть не меньше 0",
        ),
        (11, "groups[1].id", "группа Second floor: группа «main» указана дважды"),
        (
            18,
            "templates[0].match.pipelines[0]",
            "шаблон Night calls: неизвестная воронка «rentals»",
        ),
        (
            19,
            "templates[0].window",
            "шаблон Night calls: окно «25:00-09:00»: неверное время «25:00», ожидается "
            "00:00..23:59 (или 24:00 как конец)",
        ),
        (
            21,
            "templates[0].target_stage",
            "шаблон Night calls: неизвестный этап «rentals/new»",
        ),
    ]


async def test_history_is_read_in_the_language_of_whoever_reads_it(
    demo: Stack,
    tmp_path: Any,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setattr(cli_setup.Clients, "from_settings", lambda _s: demo.clients)
    path = tmp_path / "team.yaml"
    path.write_text(PRUNED)
    # Applied in English, read in Russian: the version keeps the changes, not
    # their words.
    assert await cli_setup.apply(demo.settings, str(path), "acme", False, True) == 0
    capsys.readouterr()
    with speaking("ru"):
        assert await cli_setup.history(demo.settings, "acme") == 0
        history = capsys.readouterr().out
        assert await cli_setup.restore(demo.settings, 1, "acme", True, True) == 0
        restore = capsys.readouterr().out
        assert await cli_setup.export(demo.settings, None, "acme") == 0
        exported = capsys.readouterr().out
    assert "версия 2" in history
    assert "  удалено: шаблон calls-saturday\n" in history
    assert "  группа main, участник marina: max_active 5 → 12\n" in history
    assert restore.splitlines()[:3] == [
        "версия 1: изменилось бы (пробный прогон, ничего не записано):",
        "  группа main, участник marina: max_active 12 → 5",
        "  группа main, участник marina: max_overdue_tasks выкл. → 1",
    ]
    assert exported.startswith("# Настройки аккаунта 'acme' в том виде, как они")
    versions = await demo.data("{ workspaceVersions { number changes } }")
    assert (
        "template calls-saturday: removed"
        in versions["workspaceVersions"][0]["changes"]
    )


def test_the_command_line_speaks_the_language_of_lang(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Any
) -> None:
    from leadrouter import cli, i18n

    monkeypatch.setenv("LEADROUTER_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("LEADROUTER_LANGUAGE", "en")
    missing = str(tmp_path / "missing.yaml")
    try:
        with pytest.raises(SystemExit) as said:
            cli.main(["apply", missing, "--lang", "ru"])
        assert str(said.value).startswith(f"не удаётся прочитать {missing}: ")
    finally:
        i18n.set_language("en")
