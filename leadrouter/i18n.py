"""The language a person reads: one gettext catalogue for every message.

Messages are written in English in the code, inside `_()` (or `ngettext` for
counts), and `leadrouter/locale/<lang>/LC_MESSAGES/leadrouter.po` holds their
translations. The .po files are the catalogue's only form in the repository:
each is compiled in memory the first time its language is asked for, so a
fresh clone needs no build step and no compiled file can go stale.

The language of a request is a context variable: the gateway sets it from
`Accept-Language` (the web UI and the amoCRM widget send the language they
show), every gRPC call carries it to the service it calls, and the
`leadrouter` command takes it from `LEADROUTER_LANGUAGE` or the locale of
the shell. English when none is asked.
"""

from __future__ import annotations

import gettext
import io
import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar, Token
from functools import cache
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

DOMAIN = "leadrouter"
LOCALE_DIR = Path(__file__).resolve().parent / "locale"
SOURCE = "en"  # the language the code's messages are written in
LANGUAGES = (SOURCE, "ru")
# The metadata key a gRPC call carries the caller's language in.
METADATA_KEY = "accept-language"

_language: ContextVar[str] = ContextVar("language", default=SOURCE)


def po_path(language: str, domain: str = DOMAIN) -> Path:
    return LOCALE_DIR / language / "LC_MESSAGES" / f"{domain}.po"


@cache
def translations(language: str, domain: str = DOMAIN) -> gettext.NullTranslations:
    """The catalogue of one language, compiled from its .po file once."""
    path = po_path(language, domain)
    if language == SOURCE or not path.exists():
        return gettext.NullTranslations()
    with path.open("rb") as po:
        catalog = read_po(po, locale=language, domain=domain)
    compiled = io.BytesIO()
    write_mo(compiled, catalog)
    compiled.seek(0)
    return gettext.GNUTranslations(compiled)


def current() -> str:
    return _language.get()


def _(message: str) -> str:
    """The message in the language of the current request."""
    return translations(_language.get()).gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    """The form of a message for the count `n`, in the current language."""
    return translations(_language.get()).ngettext(singular, plural, n)


def supported(tag: str) -> str | None:
    """'ru-RU' -> 'ru'; None for a language there is no catalogue of."""
    primary = tag.strip().lower().replace("_", "-").split("-")[0]
    return primary if primary in LANGUAGES else None


def from_accept_language(header: str | None) -> str:
    """The best supported language of an Accept-Language header (RFC 9110)."""
    best, best_q = SOURCE, 0.0
    for item in (header or "").split(","):
        tag, _sep, params = item.partition(";")
        language = supported(tag)
        if language is None:
            continue
        q = 1.0
        for param in params.split(";"):
            name, _eq, value = param.strip().partition("=")
            if name == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        if q > best_q:  # of equal weights, the one listed first
            best, best_q = language, q
    return best


def from_environment(env: Mapping[str, str] | None = None) -> str:
    """The command line's language: LEADROUTER_LANGUAGE, else the shell's locale."""
    env = os.environ if env is None else env
    for name in ("LEADROUTER_LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG"):
        value = env.get(name, "")
        if value and value not in ("C", "POSIX") and not value.startswith("C."):
            return supported(value.split(".")[0]) or SOURCE
    return SOURCE


def set_language(language: str) -> Token[str]:
    """The language of what follows in this context (a request, a command);
    `restore` with the token returned puts back the one before."""
    return _language.set(supported(language) or SOURCE)


def restore(token: Token[str]) -> None:
    _language.reset(token)


@contextmanager
def speaking(language: str) -> Iterator[None]:
    """The language of a block of work, restored after it."""
    token = set_language(language)
    try:
        yield
    finally:
        restore(token)


def call_metadata() -> tuple[tuple[str, str], ...] | None:
    """The metadata that tells a called service the caller's language."""
    language = _language.get()
    return None if language == SOURCE else ((METADATA_KEY, language),)
