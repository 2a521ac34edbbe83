"""A change of the setup in the reader's words: "group main: max_active 5 → 12",
"группа main: max_active 5 → 12".

A change names its thing as a path of (kind, id) steps, ("group", "main"),
("member", "marina"), and is worded only when it is read, in the language
of that moment. A kept version stores its changes in that form (JSON), so
`leadrouter history` reads them in the language of whoever asks. Settings
(max_active, cascade, window) are the file's own keys and stay as written.
"""

from __future__ import annotations

import json
import re

from leadrouter.i18n import _

Subject = tuple[tuple[str, str], ...]

_DEFAULT = re.compile(r"^group default (.+)$")


def thing(subject: Subject, children: str = "") -> str:
    """The thing a change is about: "group main", "group main, member marina"."""
    kind, name = subject[-1] if subject else ("", "")
    if kind == "member" and len(subject) > 1:
        words = _("group {name}, member {user}").format(name=subject[0][1], user=name)
    elif kind == "user":
        words = _("user {name}").format(name=name)
    elif kind == "pipeline":
        words = _("pipeline {name}").format(name=name)
    elif kind == "stage":
        words = _("stage {name}").format(name=name)
    elif kind == "group":
        words = _("group {name}").format(name=name)
    elif kind == "schedule":
        words = _("schedule of {user}").format(user=name)
    elif kind == "template":
        words = _("template {name}").format(name=name)
    elif kind == "account":
        words = _("account")
    else:
        words = kind  # a list of the file by its key: "groups", "templates"
    return f"{words}: {children}" if children else words


def value(text: str) -> str:
    """A value of a change line: YAML's spelling, but for the words of 'off'."""
    if text == "off":
        return _("off")
    if text == "none":
        return _("none")
    default = _DEFAULT.match(text)
    if default:
        return _("group default {value}").format(value=default[1])
    return text


def line(kind: str, subject: Subject, field: str, before: str, after: str) -> str:
    """One change in words, in the language of the moment."""
    if kind == "changed":  # the setting is the file's key: no words to choose
        return f"{thing(subject)}: {field} {value(before)} → {value(after)}"
    if kind == "reordered":
        return _("{thing}: order {before} → {after}").format(
            thing=thing(subject, field), before=before, after=after
        )
    if kind == "added":
        return _("{thing}: added").format(thing=thing(subject))
    return _("{thing}: removed").format(thing=thing(subject))


def encoded(kind: str, subject: Subject, field: str, before: str, after: str) -> str:
    """A change as a kept version stores it, to be worded when it is read."""
    return json.dumps(
        {
            "kind": kind,
            "subject": [list(s) for s in subject],
            "field": field,
            "from": before,
            "to": after,
        },
        ensure_ascii=False,
    )


def stored_line(text: str) -> str:
    """A kept change in the reader's words; a version kept as words stays so."""
    try:
        data = json.loads(text)
        subject = tuple((str(k), str(n)) for k, n in data["subject"])
        return line(
            str(data["kind"]),
            subject,
            str(data["field"]),
            str(data["from"]),
            str(data["to"]),
        )
    except (ValueError, KeyError, TypeError):
        return text
