"""GraphQL's own messages in the person's words and language.

A request the schema refuses (a syntax error, an unknown field, a missing
or mistyped argument, a bad date) is answered by graphql-core or strawberry
in English library text. Each known pattern of that text is a catalogue
entry here, so a Russian request reads Russian; the English reads as the
library's, except where the library lets Python's own words through (a bad
date says "month must be in 1..12"), which is reworded to say what to write.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from leadrouter import i18n
from leadrouter.i18n import _

Template = Callable[[], str]

_NAME = r"'(?P<{}>[^']+)'"
_HINT = re.compile(r"^(?P<base>.*?\.) Did you mean (?P<names>.+)\?$")
_QUOTED = re.compile(r"'([^']*)'")
_CYRILLIC = re.compile("[а-яё]", re.IGNORECASE)


def _pattern(text: str) -> re.Pattern[str]:
    """A library message with its '{name}' parts made into named groups."""
    out = re.escape(text)
    for name in re.findall(r"\\\{(\w+)\\\}", out):
        out = out.replace(f"'\\{{{name}\\}}'", _NAME.format(name), 1)
        out = out.replace(f"\\{{{name}\\}}", f"(?P<{name}>.*?)", 1)
    return re.compile(f"^{out}$", re.DOTALL)


# (the library's message as a pattern, the person's message). The person's
# message may use fewer of the pattern's parts; the English of most keeps
# the library's own wording.
_RULES: list[tuple[re.Pattern[str], Template]] = [
    (
        _pattern(
            "Syntax Error: Document contains more than {limit} tokens. Parsing aborted."
        ),
        lambda: _("The request is too long: more than {limit} tokens."),
    ),
    (
        _pattern("Cannot query field '{field}' on type '{type}'."),
        lambda: _("Cannot query field '{field}' on type '{type}'."),
    ),
    (
        _pattern(
            "Argument '{parent}.{field}({argument}:)' of type '{type}' is "
            "required, but it was not provided."
        ),
        lambda: _(
            "The argument '{argument}' of '{field}' ({type}) is required, "
            "but it was not provided."
        ),
    ),
    (
        _pattern("Unknown argument '{argument}' on field '{parent}.{field}'."),
        lambda: _("Unknown argument '{argument}' on field '{field}'."),
    ),
    (
        _pattern(
            "Field '{field}' of type '{type}' must have a selection of "
            "subfields. Did you mean '{hint}'?"
        ),
        lambda: _(
            "Field '{field}' of type '{type}' must have a selection of "
            "subfields: '{field} {{ ... }}'."
        ),
    ),
    (
        _pattern(
            "Field '{field}' must not have a selection since type '{type}' "
            "has no subfields."
        ),
        lambda: _(
            "Field '{field}' must not have a selection since type '{type}' "
            "has no subfields."
        ),
    ),
    (
        _pattern("Field '{field}' is not defined by type '{type}'."),
        lambda: _("Field '{field}' is not defined by type '{type}'."),
    ),
    (
        _pattern(
            "Field '{parent}.{field}' of required type '{type}' was not provided."
        ),
        lambda: _(
            "The field '{field}' of '{parent}' ({type}) is required, but it "
            "was not provided."
        ),
    ),
    (
        _pattern(
            "Expected value of type '{type}' not to include unknown field "
            "'{field}'{rest}"
        ),
        lambda: _("Field '{field}' is not defined by type '{type}'."),
    ),
    (
        _pattern(
            "Expected value of type '{type}' to include required field "
            "'{field}', found: {rest}"
        ),
        lambda: _(
            "The field '{field}' of '{type}' is required, but it was not provided."
        ),
    ),
    (
        _pattern("Expected value of type '{type}' to be an object, found: {rest}"),
        lambda: _("'{type}' is an object: write its fields in braces."),
    ),
    (
        _pattern("Variable '${name}' is never used in operation '{operation}'."),
        lambda: _("Variable '${name}' is never used."),
    ),
    (
        _pattern("Variable '${name}' is never used."),
        lambda: _("Variable '${name}' is never used."),
    ),
    (
        _pattern("Variable '${name}' is not defined by operation '{operation}'."),
        lambda: _("Variable '${name}' is not defined."),
    ),
    (
        _pattern("Variable '${name}' is not defined."),
        lambda: _("Variable '${name}' is not defined."),
    ),
    (
        _pattern(
            "Variable '${name}' has invalid value: Expected a value of "
            "non-null type '{type}' to be provided."
        ),
        lambda: _("Variable '${name}' ({type}) is required, but it was not provided."),
    ),
    (
        _pattern(
            "Variable '${name}' has invalid value: Expected value of "
            "non-null type '{type}' not to be None."
        ),
        lambda: _("Variable '${name}' ({type}) must not be null."),
    ),
    (
        _pattern("Variable '${name}' of required type '{type}' was not provided."),
        lambda: _("Variable '${name}' ({type}) is required, but it was not provided."),
    ),
    (
        _pattern("Variable '${name}' of non-null type '{type}' must not be null."),
        lambda: _("Variable '${name}' ({type}) must not be null."),
    ),
    (
        _pattern('Value cannot represent a DateTime: "{value}".{detail}'),
        lambda: _(
            '"{value}" is not a date and time: write it as ISO 8601, '
            "e.g. 2026-11-20T09:00:00+03:00."
        ),
    ),
    (
        _pattern('Value cannot represent a Date: "{value}".{detail}'),
        lambda: _('"{value}" is not a date: write it as ISO 8601, e.g. 2026-11-20.'),
    ),
    (
        _pattern("Int cannot represent non-integer value: {value}"),
        lambda: _("Int cannot represent non-integer value: {value}"),
    ),
    (
        _pattern("ID cannot represent a non-string and non-integer value: {value}"),
        lambda: _("ID cannot represent a non-string and non-integer value: {value}"),
    ),
    (
        _pattern("String cannot represent a non string value: {value}"),
        lambda: _("String cannot represent a non string value: {value}"),
    ),
    (
        _pattern("Boolean cannot represent a non boolean value: {value}"),
        lambda: _("Boolean cannot represent a non boolean value: {value}"),
    ),
    (
        _pattern("Unknown type '{type}'."),
        lambda: _("Unknown type '{type}'."),
    ),
    (
        _pattern("Unknown operation named '{operation}'."),
        lambda: _("Unknown operation named '{operation}'."),
    ),
    (
        _pattern("Must provide operation name if query contains multiple operations."),
        lambda: _("Must provide operation name if query contains multiple operations."),
    ),
    (
        _pattern("This anonymous operation must be the only defined operation."),
        lambda: _("This anonymous operation must be the only defined operation."),
    ),
    (
        _pattern("'{operation}' exceeds maximum operation depth of {limit}"),
        lambda: _("'{operation}' exceeds maximum operation depth of {limit}"),
    ),
    (
        _pattern("{count} aliases found. Allowed: {limit}"),
        lambda: _("{count} aliases found. Allowed: {limit}"),
    ),
]

# A syntax error: where it is, then what the parser expected, in words.
_SYNTAX = re.compile(r"^Syntax Error: (?P<detail>.*)$", re.DOTALL)
_SYNTAX_DETAILS: list[tuple[re.Pattern[str], Template]] = [
    (
        _pattern("Expected {expected}, found {found}."),
        lambda: _("expected {expected}, found {found}"),
    ),
    (_pattern("Unexpected character: {found}."), lambda: _("unexpected {found}")),
    (_pattern("Unexpected {found}."), lambda: _("unexpected {found}")),
    (_pattern("Unterminated string."), lambda: _("a string is not closed")),
]


def _token(text: str) -> str:
    words = {"<EOF>": _("the end of the request"), "Name": _("a name")}
    return words.get(text, text)


def _syntax(detail: str, line: int, column: int) -> str:
    for pattern, template in _SYNTAX_DETAILS:
        match = pattern.match(detail)
        if match:
            parts = {k: _token(v) for k, v in match.groupdict().items()}
            detail = template().format(**parts)
            break
    return _(
        "The request is not valid GraphQL (line {line}, column {column}): {detail}"
    ).format(line=line, column=column, detail=detail)


# A variable's value that does not coerce: the library names the variable,
# then says why; the why is put in the person's words in turn.
_VARIABLE = re.compile(
    r"^Variable '\$(?P<name>[^']+)' (?:has|got) invalid value(?P<at>[^:]*): "
    r"(?P<why>.+)$",
    re.DOTALL,
)
_AT = re.compile(r"^ at '(?P<path>[^']+)'$")


def _render(template: Template, parts: dict[str, str], line: int, column: int) -> str:
    return template().format(line=line, column=column, **parts)


def _rule(message: str, line: int, column: int) -> str | None:
    for pattern, template in _RULES:
        match = pattern.match(message)
        if match:
            return _render(template, match.groupdict(), line, column)
    return None


def _hinted(message: str, line: int, column: int) -> str | None:
    """The message without its 'Did you mean ...?', then the hint in the language."""
    match = _HINT.match(message)
    if not match:
        return None
    base = _rule(match["base"], line, column)
    if base is None:
        return None
    names = ", ".join(f"'{n}'" for n in _QUOTED.findall(match["names"]))
    return base + " " + _("Did you mean {names}?").format(names=names)


def person_message(message: str, line: int = 0, column: int = 0) -> str | None:
    """The library's message in the request's language; None when it is not
    one of the library's known messages (a message of this project's own)."""
    if _CYRILLIC.search(message):
        return None
    syntax = _SYNTAX.match(message)
    if syntax:
        return _syntax(syntax["detail"], line, column)
    said = _rule(message, line, column) or _hinted(message, line, column)
    if said is not None:
        return said
    variable = _VARIABLE.match(message)
    if variable:
        why = person_message(variable["why"]) or variable["why"]
        at = _AT.match(variable["at"])
        if at:
            return _("Variable '${name}' at '{path}': {why}").format(
                name=variable["name"], path=at["path"], why=why
            )
        return _("Variable '${name}': {why}").format(name=variable["name"], why=why)
    return None


def schema_message(message: str, line: int = 0, column: int = 0) -> str:
    """A refusal of the request by the schema, always in the request's language:
    a message of the library no rule knows is kept, after a sentence that is."""
    said = person_message(message, line, column)
    if said is not None:
        return said
    if i18n.current() == i18n.SOURCE or _CYRILLIC.search(message):
        return message
    return _("The request does not fit the API: {detail}").format(detail=message)
