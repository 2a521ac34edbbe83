"""The command line's own refusals (argparse's) in the language of the shell.

argparse words a missing argument or a value it cannot read in English
library text; English keeps it, and each known pattern has a catalogue
entry for the other languages, as GraphQL's own messages do in the gateway.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Callable
from typing import NoReturn

from leadrouter import i18n
from leadrouter.i18n import _

_ARGUMENT = re.compile(r"^argument (?P<argument>\S+): (?P<why>.*)$", re.DOTALL)
_RULES: list[tuple[re.Pattern[str], Callable[[], str]]] = [
    (
        re.compile(r"^invalid choice: (?P<value>.*) \(choose from (?P<choices>.*)\)$"),
        lambda: _("there is no {value}; choose from {choices}"),
    ),
    (
        re.compile(r"^invalid int value: (?P<value>.*)$"),
        lambda: _("{value} is not a whole number"),
    ),
    (re.compile(r"^expected one argument$"), lambda: _("give it a value")),
    (
        re.compile(r"^the following arguments are required: (?P<names>.*)$"),
        lambda: _("these arguments are required: {names}"),
    ),
    (
        re.compile(r"^unrecognized arguments: (?P<names>.*)$"),
        lambda: _("unknown arguments: {names}"),
    ),
]


def _words(message: str) -> str:
    for pattern, template in _RULES:
        match = pattern.match(message)
        if match:
            return template().format(**match.groupdict())
    return message  # the project's own words, already in the language


def spoken(message: str) -> str:
    """argparse's message in the current language (English as argparse says it)."""
    if i18n.current() == i18n.SOURCE:
        return message
    argument = _ARGUMENT.match(message)
    if argument:
        return _("argument {argument}: {why}").format(
            argument=argument["argument"], why=_words(argument["why"])
        )
    return _words(message)


class Parser(argparse.ArgumentParser):
    """An ArgumentParser whose refusals speak the shell's language."""

    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        self.exit(
            2,
            _("{prog}: error: {message}").format(
                prog=self.prog, message=spoken(message)
            )
            + "\n",
        )
