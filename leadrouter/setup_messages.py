"""What a person reads when the setup changes, or does not (see messages.py)."""

from __future__ import annotations

from leadrouter.i18n import _
from leadrouter.messages import shown


def file_sets_nothing() -> str:
    return _(
        "the file sets nothing (it is empty or only comments), so nothing was "
        "changed; `leadrouter export` writes the setup in force to start from"
    )


def file_for_another(meant: str, account: str) -> str:
    return _(
        "this file is for account '{meant}', not '{account}'; nothing was changed"
    ).format(meant=shown(meant), account=shown(account))


def changed_in_part(cause: str) -> str:
    return _(
        "{cause}; the setup may be changed in part: the same change made again "
        "finishes it (it changes only what is still missing)"
    ).format(cause=cause)


def group_exchange_user_not_member() -> str:
    return _("this user is the group's exchange user and cannot be a member")


def export_header(account: str, version: int | None) -> str:
    """The comment an exported file starts with (lines of at most 80)."""
    seen = "" if version is None else _(" (version {number})").format(number=version)
    return _(
        "The setup of account '{account}' as it stands{seen}.\n"
        "Edit it, preview with `leadrouter apply FILE --dry-run`, apply with\n"
        "`leadrouter apply FILE`. It changes only what it names; with --prune the\n"
        "file is the whole setup and what it leaves out is removed."
    ).format(account=account, seen=seen)


def no_version(number: int) -> str:
    return _(
        "there is no version {number} of the setup; `leadrouter history` lists "
        "the versions"
    ).format(number=number)


def no_user_for_token(account: str, user: str) -> str:
    return _(
        "account '{account}' has no user '{user}', so no token was made; "
        "`leadrouter users` lists the account's users"
    ).format(account=shown(account), user=shown(user))
