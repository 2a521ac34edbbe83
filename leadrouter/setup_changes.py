"""The one way the setup changes: a workspace file, the limits editor, a restore.

Every change of the setup goes through `change_setup`: it reads the setup
in force, lets the caller say what the setup becomes, lists the changes
between the two, and has each service rehearse its part in a transaction
that is rolled back. A dry run stops there; an apply runs the very same
steps and then writes. So a preview is, by construction, what the apply
then does.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from leadrouter.clients import Clients
from leadrouter.errors import NotFound, Problem
from leadrouter.setup_diff import Change, changes_between
from leadrouter.setup_merge import merged
from leadrouter.setup_services import read_setup, write_setup
from leadrouter.workspace import (
    Directory,
    MemberSpec,
    Workspace,
    check_references,
    parse_workspace,
)

# What the setup becomes, given the setup in force; or why it cannot.
Edit = Callable[[Workspace], tuple[Workspace | None, list[Problem]]]

EMPTY_FILE = (
    "the file sets nothing (it is empty or only comments), so nothing was "
    "changed; `leadrouter export` writes the setup in force to start from"
)


@dataclass
class ChangeReport:
    changes: list[Change] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    applied: bool = False

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def lines(self) -> list[str]:
        return [str(c) for c in self.changes]


def _touches_directory(changes: list[Change]) -> bool:
    return any(
        c.what in ("account", "pipelines")
        or c.what.startswith(("user ", "pipeline ", "stage "))
        for c in changes
    )


async def change_setup(
    clients: Clients, account: str, edit: Edit, *, dry_run: bool
) -> ChangeReport:
    """Changes the setup as `edit` says; with `dry_run` only says what would change."""
    current = await read_setup(clients, account)
    desired, problems = edit(current)
    if desired is None or problems:
        return ChangeReport(problems=problems)
    changes = changes_between(current, desired)
    if not changes:
        return ChangeReport(applied=not dry_run)
    problems = await write_setup(
        clients,
        desired,
        account,
        dry_run=dry_run,
        directory=_touches_directory(changes),
    )
    if problems:
        return ChangeReport(problems=problems)
    return ChangeReport(changes=changes, applied=not dry_run)


def file_edit(text: str, account: str, *, allow_removals: bool) -> Edit:
    """The setup a workspace file asks for (see `setup_merge` for what it keeps)."""

    def edit(current: Workspace) -> tuple[Workspace | None, list[Problem]]:
        ws, problems = parse_workspace(text)
        if ws is None:
            return None, problems
        if not ws.model_fields_set:
            return None, [Problem("", EMPTY_FILE)]
        if ws.account.id is not None and ws.account.id != account:
            return None, [
                Problem(
                    "account.id",
                    f"this file is for account '{ws.account.id}', not '{account}'; "
                    "nothing was changed",
                )
            ]
        # References may name what the file declares and what is in force.
        known = Directory.of(
            [*current.users, *ws.users], [*current.pipelines, *ws.pipelines]
        )
        problems = check_references(ws, known)
        if problems:
            return None, problems
        return merged(current, ws, prune=allow_removals), []

    return edit


def member_edit(group_id: str, member: MemberSpec) -> Edit:
    """One member's row of one group set as given (the limits editor)."""

    def edit(current: Workspace) -> tuple[Workspace | None, list[Problem]]:
        group = next((g for g in current.groups if g.id == group_id), None)
        if group is None:
            raise NotFound(f"no distribution group '{group_id}'")
        if member.user in group.exchange_users:
            return None, [
                Problem(
                    "userId",
                    "this user is the group's exchange user and cannot be a member",
                )
            ]
        members = list(group.members)
        at = next((i for i, m in enumerate(members) if m.user == member.user), None)
        if at is None:
            members.append(member)
        else:
            members[at] = member
        changed = group.model_copy(update={"members": members})
        groups = [changed if g.id == group_id else g for g in current.groups]
        return current.model_copy(update={"groups": groups}), []

    return edit


async def apply_file(
    clients: Clients,
    text: str,
    account: str,
    *,
    dry_run: bool = False,
    allow_removals: bool = False,
) -> ChangeReport:
    """`leadrouter apply` and `applyWorkspace`: a file, previewed or applied."""
    return await change_setup(
        clients,
        account,
        file_edit(text, account, allow_removals=allow_removals),
        dry_run=dry_run,
    )
