"""What a change of the setup does, field by field: "group main: cascade true → false".

The one list a preview shows and an apply reports. It is computed from two
whole setups, the one in force and the one that will be, so the same call
gives the same list whether it is then written or not.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import yaml
from pydantic import BaseModel

from leadrouter import setup_words
from leadrouter.setup_words import Subject
from leadrouter.workspace import GroupSpec, Workspace

Kind = Literal["added", "changed", "removed", "reordered"]


@dataclass(frozen=True)
class Change:
    """One change: the thing (a path of (kind, id) steps), and for a change,
    field from → to; for a new order, of what the thing holds (`field`)."""

    kind: Kind
    subject: Subject
    field: str = ""
    before: str = ""
    after: str = ""

    @property
    def what(self) -> str:
        """The thing in words: "group main, member marina"."""
        if self.kind == "reordered":
            return setup_words.thing(self.subject, self.field)
        return setup_words.thing(self.subject)

    @property
    def before_words(self) -> str:
        return setup_words.value(self.before)

    @property
    def after_words(self) -> str:
        return setup_words.value(self.after)

    @property
    def stored(self) -> str:
        """As a kept version holds it, worded again by whoever reads it."""
        return setup_words.encoded(
            self.kind, self.subject, self.field, self.before, self.after
        )

    @property
    def removal(self) -> bool:
        """Something goes: removed, or a user deactivated, a pipeline archived."""
        return self.kind == "removed" or (self.field, self.after) in (
            ("active", "false"),
            ("archived", "true"),
        )

    def __str__(self) -> str:
        """The change in words, in the language of the moment."""
        return setup_words.line(
            self.kind, self.subject, self.field, self.before, self.after
        )


# Settings whose empty value means "off" in the contract's words.
_OFF_WHEN_EMPTY = ("limits", "default_limits")


def shown(value: Any, *, off: bool = False) -> str:
    """A value as a person reads it in a change line (YAML's own spelling)."""
    if value is None:
        return "off" if off else "none"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value if value else "''"
    if isinstance(value, (int, float)):
        return str(value)
    text: str = yaml.safe_dump(
        value, default_flow_style=True, allow_unicode=True, sort_keys=False, width=1000
    )
    return text.strip().removesuffix("...").strip()


def _flat(data: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in data.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict) and value:
            out.update(_flat(value, f"{name}."))
        else:
            out[name] = value
    return out


def _fields(model: BaseModel, skip: Iterable[str] = ()) -> dict[str, Any]:
    data = model.model_dump(mode="json", by_alias=True, exclude=set(skip) | {"id"})
    return _flat(data)


def _field_changes(
    what: Subject, before: BaseModel, after: BaseModel, skip: Iterable[str] = ()
) -> list[Change]:
    old, new = _fields(before, skip), _fields(after, skip)
    out = []
    for name in [*old, *(k for k in new if k not in old)]:
        a, b = old.get(name), new.get(name)
        if a != b:
            off = name.split(".")[0] in _OFF_WHEN_EMPTY
            # A member's limits read as the limit's own name: "max_active 5 → 12".
            label = name.removeprefix("limits.")
            out.append(
                Change("changed", what, label, shown(a, off=off), shown(b, off=off))
            )
    return out


def _collection(
    what: Callable[[str], Subject],
    before: Sequence[Any],
    after: Sequence[Any],
    key: Callable[[Any], str],
    compare: Callable[[Subject, Any, Any], list[Change]],
    *,
    ordered: Subject = (),
    holds: str = "",
) -> list[Change]:
    """Added, removed and changed things of one list, and its new order if any."""
    old = {key(x): x for x in before}
    new = {key(x): x for x in after}
    out: list[Change] = [Change("removed", what(k)) for k in old if k not in new]
    for k, x in new.items():
        if k not in old:
            out.append(Change("added", what(k)))
        else:
            out += compare(what(k), old[k], x)
    if ordered:
        kept_before = [k for k in old if k in new]
        kept_after = [k for k in new if k in old]
        if kept_before != kept_after:
            out.append(
                Change(
                    "reordered",
                    ordered,
                    holds,
                    before=", ".join(kept_before),
                    after=", ".join(kept_after),
                )
            )
    return out


def _with_children(
    children: str,
    key: Callable[[Any], str],
    label: Callable[[Subject, Any, str], Subject],
    skip: tuple[str, ...] = (),
) -> Callable[[Subject, Any, Any], list[Change]]:
    """Compares a thing and, one by one, the things it holds (stages, members)."""

    def compare(what: Subject, before: Any, after: Any) -> list[Change]:
        def child(w: Subject, a: BaseModel, b: BaseModel) -> list[Change]:
            return _field_changes(w, a, b, skip=skip)

        return _field_changes(what, before, after, skip=(children,)) + _collection(
            lambda k: label(what, before, k),
            getattr(before, children),
            getattr(after, children),
            key,
            child,
            ordered=what,
            holds=children,
        )

    return compare


_pipeline = _with_children(
    "stages", lambda s: s.id, lambda _w, p, k: (("stage", f"{p.id}/{k}"),)
)
_group = _with_children(
    "members", lambda m: m.user, lambda w, _g, k: (*w, ("member", k)), skip=("user",)
)


def _plain(what: Subject, before: BaseModel, after: BaseModel) -> list[Change]:
    return _field_changes(what, before, after, skip=("user",))


def changes_between(current: Workspace, desired: Workspace) -> list[Change]:
    """Every change that turns `current` into `desired`, removals first.

    Both sides are read in their canonical form (see `canonical`), so a
    setting written as its default and a setting left out are the same.
    """
    a, b = canonical(current), canonical(desired)
    out: list[Change] = []
    if a.account.timezone != b.account.timezone:
        out.append(
            Change(
                "changed",
                (("account", ""),),
                "timezone",
                a.account.timezone,
                b.account.timezone,
            )
        )
    out += _collection(
        lambda k: (("user", k),), a.users, b.users, lambda u: u.id, _plain
    )
    out += _collection(
        lambda k: (("pipeline", k),),
        a.pipelines,
        b.pipelines,
        lambda p: p.id,
        _pipeline,
        ordered=(("pipelines", ""),),
    )
    out += _collection(
        lambda k: (("group", k),),
        a.groups,
        b.groups,
        lambda g: g.id,
        _group,
        ordered=(("groups", ""),),
    )
    out += _collection(
        lambda k: (("schedule", k),), a.schedules, b.schedules, lambda s: s.user, _plain
    )
    out += _collection(
        lambda k: (("template", k),),
        a.templates,
        b.templates,
        lambda t: t.id,
        _plain,
        ordered=(("templates", ""),),
    )
    out = [_with_defaults(c, a, b) for c in out]
    return [c for c in out if c.removal] + [c for c in out if not c.removal]


def _with_defaults(c: Change, before: Workspace, after: Workspace) -> Change:
    """A member's limit that goes off or comes on says the group's default it
    takes instead: "interval_minutes 2 → group default 5"."""
    if (
        c.kind != "changed"
        or c.subject[-1][0] != "member"
        or "off"
        not in (
            c.before,
            c.after,
        )
    ):
        return c
    group_id = c.subject[0][1]

    def default(ws: Workspace) -> int | None:
        group = next((g for g in ws.groups if g.id == group_id), None)
        return getattr(group.default_limits, c.field, None) if group else None

    def side(text: str, ws: Workspace) -> str:
        value = default(ws) if text == "off" else None
        return text if value is None else f"group default {value}"

    return Change(
        c.kind, c.subject, c.field, side(c.before, before), side(c.after, after)
    )


def canonical(ws: Workspace) -> Workspace:
    """The workspace as the services keep it: defaults spelled one way.

    `sale_stages: []` and no `sale_stages` both mean "every won stage"; an
    empty target or key stage is none; the account's id is not a setting.
    """

    def group(g: GroupSpec) -> GroupSpec:
        return g.model_copy(
            update={
                "sale_stages": g.sale_stages or None,
                "loss_stages": g.loss_stages or None,
                "target_stage": g.target_stage or None,
                "key_stage": g.key_stage or None,
            }
        )

    return ws.model_copy(
        update={
            "account": ws.account.model_copy(update={"id": None}),
            "groups": [group(g) for g in ws.groups],
        }
    )
