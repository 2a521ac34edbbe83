"""Reading a workspace file with mistakes: each problem at the file's own path
and line, whatever of the file had to be left out to check the rest."""

from __future__ import annotations

from leadrouter.setup_problems import line_map, read_workspace, reference_problems
from leadrouter.workspace import PipelineSpec, StageSpec, UserSpec
from leadrouter.workspace_checks import Directory

DIRECTORY = Directory.of(
    [UserSpec(id="pool", technical=True), UserSpec(id="marina", name="Marina")],
    [PipelineSpec(id="sales", stages=[StageSpec(id="new")])],
)


def test_a_group_left_out_keeps_the_numbers_of_the_ones_after_it() -> None:
    text = """\
groups:
  - id: first
    exchange_users: [pool]
  - id: second
    source_stages: [sales/new]
    exchange_users: [pool]
    members: [{user: ghost}]
"""
    reading = read_workspace(text)
    assert [(p.path, p.message) for p in reading.problems] == [
        ("groups[0].source_stages", "Field required")
    ]
    assert [(p.path, p.message) for p in reference_problems(reading, DIRECTORY)] == [
        ("groups[1].members[0].user", "unknown user 'ghost'")
    ]
    assert reading.lines["groups[1].members[0].user"] == 7


def test_a_bad_setting_falls_back_to_its_default_and_is_told_once() -> None:
    text = """\
groups: [{id: g, source_stages: [sales/new], exchange_users: [pool],
          cascade: maybe, members: [{user: marina, enabled: perhaps}]}]
unknown: 1
"""
    reading = read_workspace(text)
    assert sorted(p.path for p in reading.problems) == [
        "groups[0].cascade",
        "groups[0].members[0].enabled",
        "unknown",
    ]
    assert reading.workspace is not None
    assert reading.workspace.groups[0].members[0].user == "marina"


def test_every_path_of_the_file_has_the_line_it_starts_on() -> None:
    lines = line_map("a:\n  b: [1,\n     2]\n  c:\n    - {d: 1}\n")
    assert lines == {
        "a": 1,
        "a.b": 2,
        "a.b[0]": 2,
        "a.b[1]": 3,
        "a.c": 4,
        "a.c[0]": 5,
        "a.c[0].d": 5,
    }
