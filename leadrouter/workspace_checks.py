"""The reference checks of a workspace file: what a well-formed file can still
get wrong against the account's directory (users, pipelines and stages that
do not exist, duplicates, members listed twice) and limits that contradict
each other. The specs and the reading of the file are leadrouter/workspace.py."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from leadrouter.errors import Problem
from leadrouter.i18n import _
from leadrouter.limit_rules import row_conflicts
from leadrouter.workspace import (
    FallbackUser,
    GroupSpec,
    PipelineSpec,
    UserSpec,
    Workspace,
)


@dataclass
class Directory:
    """Users and stages that references in the file must name."""

    users: dict[str, UserSpec] = field(default_factory=dict)
    stages: dict[str, str] = field(default_factory=dict)  # "pipeline/stage" -> kind
    pipelines: set[str] = field(default_factory=set)

    @classmethod
    def of(
        cls, users: Iterable[UserSpec], pipelines: Iterable[PipelineSpec]
    ) -> Directory:
        d = cls()
        for u in users:
            d.users[u.id] = u
        for p in pipelines:
            d.pipelines.add(p.id)
            for s in p.stages:
                d.stages[f"{p.id}/{s.id}"] = s.kind
        return d


def check_references(ws: Workspace, directory: Directory) -> list[Problem]:
    """Problems a well-formed file can still have: names that point nowhere."""
    problems: list[Problem] = []

    def called(user_id: str) -> str:
        """A user as a person knows them: by name, when the user has one."""
        known = directory.users.get(user_id)
        return known.name if known is not None and known.name else user_id

    def user(path: str, user_id: str) -> None:
        if user_id not in directory.users:
            problems.append(
                Problem(path, _("unknown user '{user}'").format(user=user_id))
            )

    def stage(path: str, key: str) -> None:
        if "/" not in key:
            problems.append(
                Problem(
                    path,
                    _("'{stage}' must be written pipeline/stage").format(stage=key),
                )
            )
        elif key not in directory.stages:
            problems.append(
                Problem(path, _("unknown stage '{stage}'").format(stage=key))
            )

    def unique(path: str, ids: list[str], what: str) -> None:
        seen: set[str] = set()
        twice = {
            "user": _("duplicate user '{id}'"),
            "pipeline": _("duplicate pipeline '{id}'"),
            "stage": _("duplicate stage '{id}'"),
            "group": _("duplicate group '{id}'"),
            "template": _("duplicate template '{id}'"),
        }[what]
        for i, x in enumerate(ids):
            if x in seen:
                problems.append(Problem(f"{path}[{i}].id", twice.format(id=x)))
            seen.add(x)

    unique("users", [u.id for u in ws.users], "user")
    unique("pipelines", [p.id for p in ws.pipelines], "pipeline")
    for i, p in enumerate(ws.pipelines):
        unique(f"pipelines[{i}].stages", [s.id for s in p.stages], "stage")
    unique("groups", [g.id for g in ws.groups], "group")
    unique("templates", [t.id for t in ws.templates], "template")

    for gi, g in enumerate(ws.groups):
        at = f"groups[{gi}]"
        for i, key in enumerate(g.source_stages):
            stage(f"{at}.source_stages[{i}]", key)
        for name in ("excluded_stages", "sale_stages", "loss_stages"):
            for i, key in enumerate(getattr(g, name) or []):
                stage(f"{at}.{name}[{i}]", key)
        for name in ("target_stage", "key_stage"):
            if getattr(g, name):
                stage(f"{at}.{name}", getattr(g, name))
        for i, u in enumerate(g.exchange_users):
            user(f"{at}.exchange_users[{i}]", u)
        seen: set[str] = set()
        for mi, m in enumerate(g.members):
            mat = f"{at}.members[{mi}]"
            user(f"{mat}.user", m.user)
            if m.user in g.exchange_users:
                problems.append(
                    Problem(f"{mat}.user", _("an exchange user cannot be a member"))
                )
            if m.user in seen:
                problems.append(
                    Problem(
                        f"{mat}.user",
                        _("'{user}' is listed twice").format(user=called(m.user)),
                    )
                )
            seen.add(m.user)
        problems += limit_conflicts(g, at)
    scheduled: set[str] = set()
    for si, s in enumerate(ws.schedules):
        user(f"schedules[{si}].user", s.user)
        if s.user in scheduled:
            problems.append(
                Problem(
                    f"schedules[{si}].user",
                    _(
                        "'{user}' already has a schedule; put all of a user's "
                        "working time in one entry"
                    ).format(user=called(s.user)),
                )
            )
        scheduled.add(s.user)
        for ei, e in enumerate(s.exceptions):
            if e.to < e.from_:
                problems.append(
                    Problem(
                        f"schedules[{si}].exceptions[{ei}].to",
                        _("ends before 'from'"),
                    )
                )
    for ti, t in enumerate(ws.templates):
        at = f"templates[{ti}]"
        taking: set[str] = set()
        for pi, participant in enumerate(t.participants):
            pat = f"{at}.participants[{pi}].user"
            user(pat, participant.user)
            if participant.user in taking:
                problems.append(
                    Problem(
                        pat,
                        _("'{user}' is listed twice").format(
                            user=called(participant.user)
                        ),
                    )
                )
            taking.add(participant.user)
            known = directory.users.get(participant.user)
            if known is not None and known.technical:
                problems.append(
                    Problem(
                        pat,
                        _("'{user}' is a technical user; it takes no leads").format(
                            user=called(participant.user)
                        ),
                    )
                )
        if t.target_stage:
            stage(f"{at}.target_stage", t.target_stage)
        for pi, pipeline in enumerate(t.match.pipelines):
            if pipeline not in directory.pipelines:
                problems.append(
                    Problem(
                        f"{at}.match.pipelines[{pi}]",
                        _("unknown pipeline '{pipeline}'").format(pipeline=pipeline),
                    )
                )
        if isinstance(t.when_nobody, FallbackUser):
            user(f"{at}.when_nobody.user", t.when_nobody.user)
        if t.fallback_algorithm and t.algorithm != "linked":
            problems.append(
                Problem(f"{at}.fallback_algorithm", _("only a linked template has one"))
            )
    return problems


def limit_conflicts(
    g: GroupSpec, at: str, before: GroupSpec | None = None
) -> list[Problem]:
    """A problem for each pair of limits in force that contradict each other
    (`limit_rules.row_conflicts`), in the defaults' row and each member's."""
    defaults = g.default_limits.values()
    old = before.default_limits.values() if before else None
    out = [
        Problem(f"{at}.default_limits.{name}", why)
        for name, why in row_conflicts(defaults, {}, old)
    ]
    olds = {m.user: m.limits.values() for m in before.members} if before else {}
    for mi, m in enumerate(g.members):
        was = olds.get(m.user, {}) if before else None
        for name, why in row_conflicts(m.limits.values(), defaults, was):
            out.append(Problem(f"{at}.members[{mi}].limits.{name}", why))
    return out
