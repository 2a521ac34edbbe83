"""Every problem of a workspace file at once, each with its path and its line.

A file with a wrong limit, an unknown user and a window 25:00 tells all
three in one answer. The models check the shape of the file; what they
refuse is cut out of a copy of it (a bad setting falls back to its default,
a thing that cannot stand without it is left out) until the rest is a
workspace whose references can be checked too. Each problem then carries
the line the YAML parser saw its path on, and names the thing it is about
by its name, as a person wrote it.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import yaml
from pydantic import ValidationError

from leadrouter.errors import Problem
from leadrouter.i18n import _
from leadrouter.workspace import (
    Workspace,
    _is_union_noise,
    _message,
    _path,
    _WorkspaceLoader,
)
from leadrouter.workspace_checks import Directory, check_references

# A file is a few hundred lines; past this many nodes it is not walked further.
_MOST_NODES = 200_000
_ROUNDS = 8
_TOP = re.compile(r"^(\w+)\[(\d+)\]")
_LAST = re.compile(r"(\.[^.\[]+|\[\d+\])$")


def line_map(text: str) -> dict[str, int]:
    """Each path of the file ("groups[0].members[2].user") and its line (from 1)."""
    try:
        root = yaml.compose(text, Loader=_WorkspaceLoader)  # a SafeLoader
    except yaml.YAMLError:
        return {}
    out: dict[str, int] = {}
    stack: list[tuple[yaml.Node, str]] = [(root, "")] if root is not None else []
    while stack and len(out) < _MOST_NODES:
        node, path = stack.pop()
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                name = str(key.value) if isinstance(key, yaml.ScalarNode) else "?"
                at = f"{path}.{name}" if path else name
                if at not in out:
                    out[at] = key.start_mark.line + 1
                    stack.append((value, at))
        elif isinstance(node, yaml.SequenceNode):
            for i, item in enumerate(node.value):
                at = f"{path}[{i}]"
                if at not in out:
                    out[at] = item.start_mark.line + 1
                    stack.append((item, at))
    return out


def line_of(path: str, lines: Mapping[str, int]) -> int | None:
    """The line of `path`, or of the nearest enclosing part the file has."""
    while path:
        if path in lines:
            return lines[path]
        shorter = _LAST.sub("", path)
        if shorter == path:
            return None
        path = shorter
    return None


def located(problems: Iterable[Problem], lines: Mapping[str, int]) -> list[Problem]:
    """The problems with their lines, in the order of the file."""
    out = [
        p if p.line is not None else replace(p, line=line_of(p.path, lines))
        for p in problems
    ]
    return sorted(out, key=lambda p: p.line or 0)


@dataclass
class Reading:
    """A file as far as it can be read: the workspace, or what is left of it."""

    workspace: Workspace | None
    problems: list[Problem] = field(default_factory=list)
    lines: dict[str, int] = field(default_factory=dict)
    data: dict[str, Any] = field(default_factory=dict)
    # For each list cut short: the index in the file of each item left.
    positions: dict[str, list[int]] = field(default_factory=dict)

    @property
    def complete(self) -> bool:
        return self.workspace is not None and not self.problems

    def in_file(self, path: str) -> str:
        """A path of what is left as the file numbers it."""

        def index(m: re.Match[str]) -> str:
            kept = self.positions.get(m[1])
            n = int(m[2])
            return f"{m[1]}[{kept[n] if kept is not None else n}]"

        return _TOP.sub(index, path)


def read_workspace(text: str) -> Reading:
    """Every problem of the file's shape, and the workspace of the rest."""
    lines = line_map(text)
    try:
        data = yaml.load(text, Loader=_WorkspaceLoader)  # a SafeLoader
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        detail = getattr(error, "problem", None) or error
        return Reading(
            None,
            [
                Problem(
                    "",
                    _("not valid YAML ({detail})").format(detail=detail),
                    mark.line + 1 if mark is not None else None,
                )
            ],
            lines,
        )
    if data is None:
        data = {}
    if not isinstance(data, dict):
        return Reading(None, [Problem("", _("the workspace must be a YAML mapping"))])
    work = copy.deepcopy(data)
    dropped: dict[str, set[int]] = {}
    cut: set[str] = set()
    problems: list[Problem] = []
    seen: set[tuple[str, str]] = set()
    for _round in range(_ROUNDS):
        given, positions = _without(work, dropped)
        try:
            ws = Workspace.model_validate(given)
        except ValidationError as error:
            for e in error.errors():
                if _is_union_noise(e):
                    continue
                loc = _original(list(e["loc"]), positions)
                path = _path(loc)
                if e["type"] == "missing" and path in cut:
                    pass  # a bad value this reading cut out, already told
                elif (path, message := _message(e)) not in seen:
                    seen.add((path, message))
                    problems.append(Problem(path, message))
                _cut_out(work, loc, e["type"], dropped, cut)
            continue
        return Reading(ws, problems, lines, data, positions)
    return Reading(None, problems, lines, data)


def _without(
    work: dict[str, Any], dropped: Mapping[str, set[int]]
) -> tuple[dict[str, Any], dict[str, list[int]]]:
    given = dict(work)
    positions: dict[str, list[int]] = {}
    for key, gone in dropped.items():
        items = work.get(key)
        if isinstance(items, list):
            positions[key] = [i for i in range(len(items)) if i not in gone]
            given[key] = [items[i] for i in positions[key]]
    return given, positions


def _original(loc: list[Any], positions: Mapping[str, list[int]]) -> list[Any]:
    if len(loc) >= 2 and isinstance(loc[1], int) and loc[0] in positions:
        loc[1] = positions[loc[0]][loc[1]]
    return loc


def _cut_out(
    work: dict[str, Any],
    loc: list[Any],
    kind: str,
    dropped: dict[str, set[int]],
    cut: set[str],
) -> None:
    """Takes what an error is about out of the file's copy.

    A bad setting goes (its default takes its place); a thing that cannot
    be without it (a required setting, an item of a list inside it) goes
    whole, so the indices of the top-level lists stay the file's.
    """
    top = loc[0] if loc else None
    if top not in work:
        return
    if len(loc) == 1:
        work.pop(top)
        return
    node: Any = work[top]
    item: int | None = None
    rest = loc[1:]
    if isinstance(node, list):
        if not isinstance(rest[0], int) or not 0 <= rest[0] < len(node):
            work.pop(top)
            return
        item, node, rest = rest[0], node[rest[0]], rest[1:]
    parent: Any = None
    key: Any = None
    walked: list[Any] = [top] if item is None else [top, item]
    for part in rest:
        if not _has(node, part):
            break
        parent, key, node = node, part, node[part]
        walked.append(part)
    if kind != "missing" and isinstance(parent, dict):
        parent.pop(key, None)
        cut.add(_path(walked))
    elif item is not None:
        dropped.setdefault(top, set()).add(item)
    else:
        work.pop(top)


def _has(node: Any, part: Any) -> bool:
    if isinstance(node, dict):
        return part in node
    return isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node)


def reference_problems(reading: Reading, directory: Directory) -> list[Problem]:
    """What the rest of the file names that is nowhere, as the file numbers it."""
    if reading.workspace is None:
        return []
    told = {p.path for p in reading.problems}
    out = []
    for p in check_references(reading.workspace, directory):
        path = reading.in_file(p.path)
        if path not in told:
            out.append(Problem(path, p.message))
    return out


def named(
    problems: Iterable[Problem], reading: Reading, directory: Directory
) -> list[Problem]:
    """Each problem says which thing it is about, by the thing's name."""
    return [
        replace(p, message=f"{subject}: {p.message}")
        if (subject := _subject(p.path, reading.data, directory))
        else p
        for p in problems
    ]


def _user(user_id: Any, directory: Directory) -> str:
    known = directory.users.get(str(user_id))
    return known.name if known is not None and known.name else str(user_id)


def _entry(data: Mapping[str, Any], section: str, index: int) -> Mapping[str, Any]:
    items = data.get(section)
    if isinstance(items, list) and 0 <= index < len(items):
        entry = items[index]
        if isinstance(entry, dict):
            return entry
    return {}


def _label(entry: Mapping[str, Any], key: str = "id") -> str:
    name = entry.get("name")
    return str(name) if isinstance(name, str) and name else str(entry.get(key, "?"))


def _subject(path: str, data: Mapping[str, Any], directory: Directory) -> str:
    m = _TOP.match(path)
    if m is None:
        return ""
    section, entry = m[1], _entry(data, m[1], int(m[2]))
    if not entry:
        return ""
    if section == "groups":
        subject = _("group {name}").format(name=_label(entry))
        member = re.match(r"^groups\[\d+\]\.members\[(\d+)\]", path)
        members = entry.get("members")
        if member and isinstance(members, list) and int(member[1]) < len(members):
            row = members[int(member[1])]
            if isinstance(row, dict) and "user" in row:
                subject = _("group {name}, member {user}").format(
                    name=_label(entry), user=_user(row["user"], directory)
                )
        return subject
    if section == "templates":
        return _("template {name}").format(name=_label(entry))
    if section == "schedules" and "user" in entry:
        return _("schedule of {user}").format(user=_user(entry["user"], directory))
    if section == "users":
        return _("user {name}").format(name=_label(entry))
    if section == "pipelines":
        stage = re.match(r"^pipelines\[\d+\]\.stages\[(\d+)\]", path)
        stages = entry.get("stages")
        if stage and isinstance(stages, list) and int(stage[1]) < len(stages):
            row = stages[int(stage[1])]
            if isinstance(row, dict) and "id" in row:
                return _("stage {name}").format(name=f"{entry.get('id')}/{row['id']}")
        return _("pipeline {name}").format(name=_label(entry))
    return ""
