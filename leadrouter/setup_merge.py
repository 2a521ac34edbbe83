"""The setup a file asks for: what it names over what is in force.

Without leave to remove, a file changes only what it names: a group,
member, schedule, template, user or pipeline it leaves out stays as it is.
A thing it names is taken as written (absent settings read as the
contract's defaults), and the members and default limits of a named group
it leaves out stay.
With leave (`allowRemovals`, `--prune`) the file is the whole setup: what
it leaves out goes. Users and stages are never deleted, since leads keep
pointing at them: a user left out is deactivated, a pipeline left out is
archived, and a stage left out of a named pipeline stays after the others.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TypeVar

from leadrouter.workspace import GroupSpec, PipelineSpec, UserSpec, Workspace

T = TypeVar("T")


def _merge(
    current: Sequence[T],
    named: Sequence[T],
    key: Callable[[T], str],
    combine: Callable[[T | None, T], T],
) -> list[T]:
    """`current` with each named thing replaced, new things placed as the file has them.

    The named things that exist already take their slots in the file's
    order, so a file can reorder them; a new thing goes right after the one
    the file lists before it (or before the one it lists after it, or last).
    """
    old = {key(x): x for x in current}
    wanted = {key(x): x for x in named}
    refill = iter([key(x) for x in named if key(x) in old])
    result: list[T] = []
    for x in current:
        if key(x) in wanted:
            k = next(refill)
            result.append(combine(old[k], wanted[k]))
        else:
            result.append(x)
    for i, x in enumerate(named):
        if key(x) in old:
            continue
        placed = [key(r) for r in result]
        before = next(
            (placed.index(key(p)) + 1 for p in reversed(named[:i]) if key(p) in placed),
            None,
        )
        after = next(
            (placed.index(key(n)) for n in named[i + 1 :] if key(n) in placed), None
        )
        at = (
            before
            if before is not None
            else after
            if after is not None
            else len(result)
        )
        result.insert(at, combine(None, x))
    return result


def _pipeline(old: PipelineSpec | None, new: PipelineSpec) -> PipelineSpec:
    if old is None:
        return new
    named = {s.id for s in new.stages}
    kept = [s for s in old.stages if s.id not in named]
    return new.model_copy(update={"stages": [*new.stages, *kept]})


def merged(current: Workspace, file: Workspace, *, prune: bool) -> Workspace:
    """The whole setup after `file` is applied to `current`."""
    timezone = current.account.timezone
    if "account" in file.model_fields_set and (
        "timezone" in file.account.model_fields_set
    ):
        timezone = file.account.timezone

    def group(old: GroupSpec | None, new: GroupSpec) -> GroupSpec:
        if old is None or prune:
            return new
        members = _merge(old.members, new.members, lambda m: m.user, _as_written)
        update: dict[str, object] = {"members": members}
        if "default_limits" not in new.model_fields_set:
            # Defaults a file does not mention stay: a file written before
            # groups had them does not wipe them.
            update["default_limits"] = old.default_limits
        return new.model_copy(update=update)

    users = _merge(current.users, file.users, lambda u: u.id, _as_written)
    pipelines = _merge(current.pipelines, file.pipelines, lambda p: p.id, _pipeline)
    if not prune:
        groups = _merge(current.groups, file.groups, lambda g: g.id, group)
        schedules = _merge(
            current.schedules, file.schedules, lambda s: s.user, _as_written
        )
        templates = _merge(
            current.templates, file.templates, lambda t: t.id, _as_written
        )
    else:
        groups, schedules, templates = (
            list(file.groups),
            list(file.schedules),
            list(file.templates),
        )
        if file.users:  # a file that lists users lists all of them
            listed = {u.id for u in file.users}
            users = [u if u.id in listed else _deactivated(u) for u in users]
        if file.pipelines:
            listed = {p.id for p in file.pipelines}
            pipelines = [
                p if p.id in listed else p.model_copy(update={"archived": True})
                for p in pipelines
            ]
    return current.model_copy(
        update={
            "account": current.account.model_copy(update={"timezone": timezone}),
            "users": users,
            "pipelines": pipelines,
            "groups": groups,
            "schedules": schedules,
            "templates": templates,
        }
    )


def _as_written(old: T | None, new: T) -> T:
    return new


def _deactivated(user: UserSpec) -> UserSpec:
    return user.model_copy(update={"active": False})
