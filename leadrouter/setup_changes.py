"""The one way the setup changes: a workspace file, the limits editor, a restore.

Every change of the setup goes through `change_setup`: it reads the setup
in force, lets the caller say what the setup becomes, lists the changes
between the two, and has each service rehearse its part in a transaction
that is rolled back. A dry run stops there; an apply runs the very same
steps, then writes, then keeps the result as the next numbered version.
So a preview is, by construction, what the apply then does.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from leadrouter import messages, setup_messages
from leadrouter.clients import Clients
from leadrouter.errors import NotFound, Problem, Unavailable
from leadrouter.limits.v1 import limits_pb2
from leadrouter.setup_diff import Change, changes_between
from leadrouter.setup_export import workspace_yaml
from leadrouter.setup_merge import merged
from leadrouter.setup_problems import (
    located,
    named,
    read_workspace,
    reference_problems,
)
from leadrouter.setup_services import read_setup, write_setup
from leadrouter.workspace import GroupSpec, LimitsSpec, MemberSpec, Workspace
from leadrouter.workspace_checks import Directory, limit_conflicts


@dataclass(frozen=True)
class Actor:
    """Who changes the setup and by what: kept with the version."""

    author: str
    source: str


@dataclass
class Plan:
    """What the setup becomes, or why it cannot; and what is left as it is."""

    setup: Workspace | None
    problems: list[Problem] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)
    # Each path of the file the setup comes from and its line, if from a file.
    lines: dict[str, int] = field(default_factory=dict)
    # The words that say which thing a problem of the file is about.
    name: Callable[[list[Problem]], list[Problem]] = list


# What the setup becomes, given the setup in force.
Edit = Callable[[Workspace], Plan]


@dataclass
class ChangeReport:
    changes: list[Change] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)
    applied: bool = False
    version: int | None = None

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def lines(self) -> list[str]:
        return [str(c) for c in self.changes]


def _touches_directory(changes: list[Change]) -> bool:
    return any(
        c.subject[0][0] in ("account", "pipelines", "user", "pipeline", "stage")
        for c in changes
    )


async def change_setup(
    clients: Clients, account: str, edit: Edit, *, dry_run: bool, actor: Actor
) -> ChangeReport:
    """Changes the setup as `edit` says; with `dry_run` only says what would change."""
    current = await read_setup(clients, account)
    plan = edit(current)
    if plan.setup is None or plan.problems:
        return ChangeReport(problems=plan.problems)
    changes = changes_between(current, plan.setup)
    report = ChangeReport(changes=changes, kept=plan.kept)
    if not changes:
        report.applied = not dry_run
        return report
    try:
        report.problems = await write_setup(
            clients,
            plan.setup,
            account,
            dry_run=dry_run,
            directory=_touches_directory(changes),
        )
    except Unavailable as error:
        raise Unavailable(setup_messages.changed_in_part(str(error))) from error
    if report.problems:
        report.problems = located(plan.name(report.problems), plan.lines)
        report.changes = []
        return report
    if not dry_run:
        version = await clients.limits.record_setup_version(
            limits_pb2.RecordSetupVersionRequest(
                account=account,
                author=actor.author,
                source=actor.source,
                changes=[c.stored for c in report.changes],
                workspace_yaml=workspace_yaml(plan.setup),
                previous_yaml=workspace_yaml(current) if _has_setup(current) else "",
            ),
        )
        report.applied, report.version = True, version.number
    return report


def _has_setup(ws: Workspace) -> bool:
    return bool(ws.users or ws.pipelines or ws.groups or ws.schedules or ws.templates)


def file_edit(text: str, account: str, *, allow_removals: bool) -> Edit:
    """The setup a workspace file asks for (see `setup_merge` for what it keeps).

    A file with mistakes is refused with every one of them at once, each
    with its path and line (see `setup_problems`).
    """

    def edit(current: Workspace) -> Plan:
        reading = read_workspace(text)
        ws = reading.workspace
        if ws is not None and not reading.problems and not ws.model_fields_set:
            return Plan(None, [Problem("", setup_messages.file_sets_nothing())])
        if ws is not None and ws.account.id is not None and ws.account.id != account:
            return Plan(
                None,
                located(
                    [
                        Problem(
                            "account.id",
                            setup_messages.file_for_another(ws.account.id, account),
                        )
                    ],
                    reading.lines,
                ),
            )
        # References may name what the file declares and what is in force.
        known = Directory.of(
            [*current.users, *(ws.users if ws else [])],
            [*current.pipelines, *(ws.pipelines if ws else [])],
        )
        problems = reading.problems + reference_problems(reading, known)
        if problems or ws is None:
            return Plan(None, located(named(problems, reading, known), reading.lines))
        lines = reading.lines

        def name(found: list[Problem]) -> list[Problem]:
            return named(found, reading, known)

        if allow_removals:
            return Plan(merged(current, ws, prune=True), lines=lines, name=name)
        whole = changes_between(current, merged(current, ws, prune=True))
        return Plan(
            merged(current, ws, prune=False),
            kept=[c.what for c in whole if c.removal],
            lines=lines,
            name=name,
        )

    return edit


def member_edit(group_id: str, member: MemberSpec | None) -> Edit:
    """One member's row of one group set as given (the limits editor).

    With no member it only checks that the group exists.
    """

    def edit(current: Workspace) -> Plan:
        group = _group(current, group_id)
        if member is None:
            return Plan(current)
        if member.user in group.exchange_users:
            return Plan(
                None,
                [
                    Problem(
                        "userId",
                        setup_messages.group_exchange_user_not_member(),
                    )
                ],
            )
        members = list(group.members)
        at = next((i for i, m in enumerate(members) if m.user == member.user), None)
        if at is None:
            at = len(members)
            members.append(member)
        else:
            members[at] = member
        changed = group.model_copy(update={"members": members})
        mine = f"g.members[{at}].limits."
        problems = [
            Problem(p.path.replace(mine, "limits."), p.message)
            for p in limit_conflicts(changed, "g", group)
            if p.path.startswith(mine)
        ]
        return _with_group(current, changed, problems)

    return edit


def defaults_edit(group_id: str, defaults: LimitsSpec) -> Edit:
    """A group's default limits set as given (the editor's row of defaults)."""

    def edit(current: Workspace) -> Plan:
        group = _group(current, group_id)
        changed = group.model_copy(update={"default_limits": defaults})
        problems = [
            Problem(_row_path(changed, p.path), p.message)
            for p in limit_conflicts(changed, "g", group)
        ]
        return _with_group(current, changed, problems)

    return edit


def _row_path(group: GroupSpec, path: str) -> str:
    """'limits.<name>' for the defaults' own; a member's by the member's id."""
    if path.startswith("g.default_limits."):
        return path.replace("g.default_limits.", "limits.")
    index = int(path.removeprefix("g.members[").split("]")[0])
    rest = path.split("].", 1)[1]
    return f"members.{group.members[index].user}.{rest}"


def _group(current: Workspace, group_id: str) -> GroupSpec:
    group = next((g for g in current.groups if g.id == group_id), None)
    if group is None:
        raise NotFound(messages.not_found("group", group_id))
    return group


def _with_group(
    current: Workspace, changed: GroupSpec, problems: list[Problem]
) -> Plan:
    """The setup with `changed` in its group's place, unless there are problems.

    A problem of the edited row comes back at 'limits.<name>'.
    """
    if problems:
        return Plan(None, problems)
    groups = [changed if g.id == changed.id else g for g in current.groups]
    return Plan(current.model_copy(update={"groups": groups}))


async def apply_file(
    clients: Clients,
    text: str,
    account: str,
    *,
    actor: Actor,
    dry_run: bool = False,
    allow_removals: bool = False,
) -> ChangeReport:
    """`leadrouter apply` and `applyWorkspace`: a file, previewed or applied."""
    return await change_setup(
        clients,
        account,
        file_edit(text, account, allow_removals=allow_removals),
        dry_run=dry_run,
        actor=actor,
    )


async def restore_version(
    clients: Clients,
    account: str,
    number: int,
    *,
    actor: Actor,
    dry_run: bool = False,
    allow_removals: bool = False,
) -> ChangeReport:
    """Back to version `number`: its whole setup applied as a file is.

    Without leave to remove, what was added since stays (the answer lists it
    as kept); with it, the setup becomes exactly that version's.
    """
    version = await clients.limits.get_setup_version(
        limits_pb2.GetSetupVersionRequest(account=account, number=number),
    )
    return await apply_file(
        clients,
        version.workspace_yaml,
        account,
        actor=actor,
        dry_run=dry_run,
        allow_removals=allow_removals,
    )


async def export_setup(clients: Clients, account: str) -> str:
    """The setup in force as a workspace file; applied back, it changes nothing."""
    ws = await read_setup(clients, account)
    versions = await clients.limits.list_setup_versions(
        limits_pb2.ListSetupVersionsRequest(account=account)
    )
    number = versions.versions[0].number if versions.versions else None
    # A comment of the file, for whoever edits it, in the language asked.
    return workspace_yaml(ws, setup_messages.export_header(account, number))
