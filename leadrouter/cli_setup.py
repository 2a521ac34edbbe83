"""`leadrouter apply`, `export`, `history`, `restore` and `users`: the setup from a
shell, and the check that a token is for someone the account has."""

from __future__ import annotations

import getpass
import textwrap
from pathlib import Path

from leadrouter import messages, setup_messages
from leadrouter.clients import Clients
from leadrouter.config import Settings
from leadrouter.crm.v1 import crm_pb2
from leadrouter.errors import NotFound, Problem
from leadrouter.i18n import _, ngettext
from leadrouter.limits.v1 import limits_pb2
from leadrouter.setup_changes import (
    Actor,
    ChangeReport,
    apply_file,
    export_setup,
    restore_version,
)
from leadrouter.setup_words import stored_line
from leadrouter.timestamps import from_ts


def read_file(path: str) -> str:
    try:
        return Path(path).read_text(encoding="utf-8")
    except OSError as error:
        raise SystemExit(
            _("cannot read {path}: {reason}").format(path=path, reason=error.strerror)
        ) from error


def write_file(path: str, text: str) -> None:
    try:
        Path(path).write_text(text, encoding="utf-8")
    except OSError as error:
        raise SystemExit(
            _("cannot write {path}: {reason}").format(path=path, reason=error.strerror)
        ) from error


def _login() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no login name in a bare container
        return "command line"


def problem_line(where: str, problem: Problem, *, in_file: bool = True) -> str:
    """`FILE:LINE: path: message`, as compilers print it (an editor jumps there)."""
    at = f"{where}:{problem.line}" if in_file and problem.line else where
    return f"{at}: {problem}"


def print_report(
    where: str, report: ChangeReport, *, dry_run: bool, in_file: bool = True
) -> int:
    """The change list (removals first) or every problem; the exit code.

    `in_file`: `where` is the file the problems' lines are in.
    """
    if report.problems:
        count = len(report.problems)
        print(
            ngettext(
                "{path}: {count} problem; nothing was changed:",
                "{path}: {count} problems; nothing was changed:",
                count,
            ).format(path=where, count=count)
        )
        for p in report.problems:
            print(problem_line(where, p, in_file=in_file))
        return 1
    if not report.changes:
        print(_("{path}: no changes").format(path=where))
    else:
        print(
            _("{path}: would change (dry run, nothing written):").format(path=where)
            if dry_run
            else _("{path}: changed (version {version}):").format(
                path=where, version=report.version
            )
        )
        for change in report.changes:
            print(f"  {change}")
    if report.kept:
        # Often many (a one-group file leaves out the rest): one paragraph.
        count = len(report.kept)
        print(
            ngettext(
                "not in the file, {count} left as it is (--prune would remove it):",
                "not in the file, {count} left as they are (--prune would remove "
                "them):",
                count,
            ).format(count=count)
        )
        print(
            textwrap.fill(
                "; ".join(report.kept),
                88,
                initial_indent="  ",
                subsequent_indent="  ",
                break_on_hyphens=False,
            )
        )
    return 0


async def apply(
    settings: Settings, path: str, account: str, dry_run: bool, prune: bool
) -> int:
    clients = Clients.from_settings(settings)
    try:
        report = await apply_file(
            clients,
            read_file(path),
            account,
            actor=Actor(_login(), f"leadrouter apply {Path(path).name}"),
            dry_run=dry_run,
            allow_removals=prune,
        )
    finally:
        await clients.close()
    return print_report(path, report, dry_run=dry_run)


async def export(settings: Settings, path: str | None, account: str) -> int:
    clients = Clients.from_settings(settings)
    try:
        text = await export_setup(clients, account)
    finally:
        await clients.close()
    if path is None:
        print(text, end="")
    else:
        write_file(path, text)
        print(
            _("the setup of account '{account}' is written to {path}").format(
                account=account, path=path
            )
        )
    return 0


async def history(settings: Settings, account: str) -> int:
    clients = Clients.from_settings(settings)
    try:
        reply = await clients.limits.list_setup_versions(
            limits_pb2.ListSetupVersionsRequest(account=account)
        )
    finally:
        await clients.close()
    if not reply.versions:
        print(
            _("account '{account}' has no kept versions of its setup yet").format(
                account=account
            )
        )
        return 0
    for v in reply.versions:
        at = from_ts(v.at).strftime("%Y-%m-%d %H:%M UTC")
        by = _(" by {author}").format(author=v.author) if v.author else ""
        print(
            _("version {number}  {at}{by}  {source}").format(
                number=v.number, at=at, by=by, source=v.source
            )
        )
        for change in v.changes:
            print(f"  {stored_line(change)}")
    return 0


async def restore(
    settings: Settings, number: int, account: str, dry_run: bool, prune: bool
) -> int:
    clients = Clients.from_settings(settings)
    try:
        report = await restore_version(
            clients,
            account,
            number,
            actor=Actor(_login(), f"leadrouter restore {number}"),
            dry_run=dry_run,
            allow_removals=prune,
        )
    finally:
        await clients.close()
    where = _("version {number}").format(number=number)
    return print_report(where, report, dry_run=dry_run, in_file=False)


async def _directory(settings: Settings, account: str) -> crm_pb2.Directory | None:
    clients = Clients.from_settings(settings)
    try:
        reply: crm_pb2.Directory = await clients.crm.get_directory(
            crm_pb2.GetDirectoryRequest(account=account)
        )
        return reply
    except NotFound:
        return None
    finally:
        await clients.close()


async def users(settings: Settings, account: str) -> int:
    d = await _directory(settings, account)
    if d is None or not d.users:
        print(messages.account_is_empty(account))
        return 1
    for u in d.users:
        marks = [_("exchange user")] if u.technical else []
        marks += [] if u.active else [_("inactive")]
        extra = f"  ({', '.join(marks)})" if marks else ""
        print(f"{u.id}  {u.name or u.id}{extra}")
    return 0


async def require_user(settings: Settings, account: str, user: str) -> None:
    """Refuses to go on for a user the account does not have (a token's)."""
    d = await _directory(settings, account)
    if d is None or not any(u.id == user for u in d.users):
        raise SystemExit(setup_messages.no_user_for_token(account, user))
