"""The `leadrouter` command: up, apply, export, history, restore, import, simulate,
token."""

from __future__ import annotations

import argparse
import asyncio
import sys
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from leadrouter import cli_setup, cli_words, i18n
from leadrouter.auth import ROLES, issue_token
from leadrouter.cli_setup import read_file as _read
from leadrouter.clients import Clients
from leadrouter.clock import SystemClock
from leadrouter.config import Settings, load_settings
from leadrouter.crm.v1 import crm_pb2
from leadrouter.errors import LeadrouterError
from leadrouter.i18n import _, ngettext
from leadrouter.scheduler.v1 import scheduler_pb2
from leadrouter.simulate import comparison_csv, render_comparison, simulate


async def import_lines(
    clients: Clients, account: str, lines: list[str], where: str
) -> int:
    reply = await clients.crm.import_history(
        crm_pb2.ImportHistoryRequest(account=account, lines=lines)
    )
    if reply.problems:
        count = len(reply.problems)
        print(
            ngettext(
                "{path}: {count} problem; nothing was imported:",
                "{path}: {count} problems; nothing was imported:",
                count,
            ).format(path=where, count=count)
        )
        for p in reply.problems:
            print(f"  {p.path}: {p.message}" if p.path else f"  {p.message}")
        return 1
    print(
        ngettext(
            "imported {count} event from {path}",
            "imported {count} events from {path}",
            reply.applied,
        ).format(count=reply.applied, path=where)
    )
    return 0


async def _import(settings: Settings, path: str, account: str) -> int:
    clients = Clients.from_settings(settings)
    try:
        return await import_lines(clients, account, _read(path).splitlines(), path)
    finally:
        await clients.close()


async def _simulate(
    settings: Settings,
    path: str,
    account: str,
    start: datetime | date,
    end: datetime | date,
    csv_path: str | None = None,
) -> int:
    clients = Clients.from_settings(settings)
    try:
        if not (isinstance(start, datetime) and isinstance(end, datetime)):
            reply = await clients.scheduler.get_schedules(
                scheduler_pb2.GetSchedulesRequest(account=account)
            )
            zone = ZoneInfo(reply.timezone or "UTC")
            start, end = day_start(start, zone), day_end(end, zone)
        result, problems = await simulate(clients, account, _read(path), start, end)
    finally:
        await clients.close()
    if result is None:
        print(
            ngettext(
                "{path}: {count} problem:", "{path}: {count} problems:", len(problems)
            ).format(path=path, count=len(problems))
        )
        for p in problems:
            print(f"  {p}")
        return 1
    print(render_comparison(result))
    if csv_path:
        cli_setup.write_file(csv_path, comparison_csv(result))
        print(_("comparison written to {path}").format(path=csv_path))
    return 0


def _hours(text: str) -> int:
    """A token's lifetime: whole hours, at least one (a token born expired is
    no token)."""
    try:
        hours = int(text)
    except ValueError:
        hours = 0
    if hours < 1:
        raise argparse.ArgumentTypeError(
            _("'{text}' is not a number of hours: give a whole number from 1").format(
                text=text
            )
        )
    return hours


def _instant(text: str) -> datetime | date:
    """A full timestamp with its offset, or a plain date of the account's calendar."""
    try:
        return date.fromisoformat(text)
    except ValueError:
        pass
    try:
        at = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            _(
                "'{text}' is neither a date (2026-11-20) nor a time with its offset "
                "(2026-11-20T09:00+07:00)"
            ).format(text=text)
        ) from None
    if at.tzinfo is None:
        raise argparse.ArgumentTypeError(
            _("needs a UTC offset, e.g. 2026-11-01T00:00Z")
        )
    return at


def day_start(when: datetime | date, zone: ZoneInfo) -> datetime:
    """`--from 2026-11-20`: that day's first instant in the account's timezone."""
    if isinstance(when, datetime):
        return when
    return datetime.combine(when, time(), zone)


def day_end(when: datetime | date, zone: ZoneInfo) -> datetime:
    """`--to 2026-11-27`: the end of that day, so the day itself is included."""
    if isinstance(when, datetime):
        return when
    return datetime.combine(when + timedelta(days=1), time(), zone)


def main(argv: list[str] | None = None) -> None:
    parser = cli_words.Parser(
        prog="leadrouter", description="Lead distribution for sales CRMs."
    )
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("up", help="start every service and the gateway on this machine")
    p_apply = sub.add_parser("apply", help="validate and apply a workspace file")
    p_apply.add_argument("file")
    p_apply.add_argument(
        "--dry-run", action="store_true", help="show what would change, write nothing"
    )
    p_apply.add_argument(
        "--prune",
        action="store_true",
        help="the file is the whole setup: remove what it leaves out",
    )
    p_export = sub.add_parser(
        "export", help="write the setup in force as a workspace file"
    )
    p_export.add_argument("file", nargs="?", default=None, help="default: stdout")
    p_history = sub.add_parser(
        "history", help="list the kept versions of the setup, newest first"
    )
    p_restore = sub.add_parser("restore", help="go back to a kept version of the setup")
    p_restore.add_argument("version", type=int)
    p_restore.add_argument(
        "--dry-run", action="store_true", help="show what would change, write nothing"
    )
    p_restore.add_argument(
        "--prune",
        action="store_true",
        help="also remove what was added after that version",
    )
    p_import = sub.add_parser("import", help="load CRM history into the built-in CRM")
    p_import.add_argument("file")
    p_sim = sub.add_parser(
        "simulate", help="replay past leads under a proposed workspace file"
    )
    p_sim.add_argument("file")
    p_sim.add_argument(
        "--from",
        dest="start",
        type=_instant,
        required=True,
        help="a date (the account's calendar) or a time with its offset",
    )
    p_sim.add_argument(
        "--to",
        dest="end",
        type=_instant,
        required=True,
        help="a date (included whole) or a time with its offset",
    )
    p_sim.add_argument("--csv", default=None, help="also write the comparison here")
    p_users = sub.add_parser("users", help="list the account's users")
    p_token = sub.add_parser("token", help="print a bearer token for local use")
    p_token.add_argument("--user", required=True)
    p_token.add_argument("--role", required=True, choices=ROLES)
    p_token.add_argument("--hours", type=_hours, default=None, help="lifetime")
    for p in (
        p_apply,
        p_export,
        p_history,
        p_restore,
        p_users,
        p_import,
        p_sim,
        p_token,
    ):
        p.add_argument("--account", default=None, help="default: LEADROUTER_ACCOUNT")
        p.add_argument(
            "--lang",
            choices=i18n.LANGUAGES,
            default=None,
            help="the language of the output (default: LEADROUTER_LANGUAGE or the "
            "shell's locale, else en)",
        )
    # A value the parser refuses (a date, a lifetime) is worded as it is read,
    # before --lang is known: in the shell's language.
    i18n.set_language(i18n.from_environment())
    args = parser.parse_args(argv)
    # What a head of sales reads here, and what the services answer, speaks
    # --lang, else LEADROUTER_LANGUAGE or the shell's locale.
    i18n.set_language(getattr(args, "lang", None) or i18n.from_environment())
    settings = load_settings()
    account = getattr(args, "account", None) or settings.account
    try:
        if args.command == "up":
            from leadrouter.up import up

            sys.exit(up(settings))
        if args.command == "apply":
            sys.exit(
                asyncio.run(
                    cli_setup.apply(
                        settings, args.file, account, args.dry_run, args.prune
                    )
                )
            )
        if args.command == "export":
            sys.exit(asyncio.run(cli_setup.export(settings, args.file, account)))
        if args.command == "history":
            sys.exit(asyncio.run(cli_setup.history(settings, account)))
        if args.command == "restore":
            sys.exit(
                asyncio.run(
                    cli_setup.restore(
                        settings, args.version, account, args.dry_run, args.prune
                    )
                )
            )
        if args.command == "import":
            sys.exit(asyncio.run(_import(settings, args.file, account)))
        if args.command == "simulate":
            sys.exit(
                asyncio.run(
                    _simulate(
                        settings, args.file, account, args.start, args.end, args.csv
                    )
                )
            )
        if args.command == "users":
            sys.exit(asyncio.run(cli_setup.users(settings, account)))
        if args.command == "token":
            if args.role != "partner":
                # A partner system is no user of the CRM: its name is only what
                # the journal shows. Every other token speaks for a person.
                asyncio.run(cli_setup.require_user(settings, account, args.user))
            hours = args.hours or settings.token_ttl_hours
            print(
                issue_token(
                    settings.signing_secret,
                    account=account,
                    user_id=args.user,
                    role=args.role,
                    now=SystemClock().now(),
                    ttl=timedelta(hours=hours),
                )
            )
    except LeadrouterError as error:
        raise SystemExit(f"leadrouter {args.command}: {error}") from error


if __name__ == "__main__":
    main()
