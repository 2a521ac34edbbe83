"""What a person reads for one field a model refused (a pydantic error), in
the language of the request: a workspace file's, a history line's, a lead's."""

from __future__ import annotations

from typing import Any

from leadrouter.i18n import SOURCE, _, current

WHOLE_NUMBER = ("int_type", "int_parsing", "int_from_float")


def field_message(error: Any) -> str:
    """The words for one error of `ValidationError.errors()`."""
    kind = error["type"]
    ctx = error.get("ctx") or {}
    if kind == "missing":
        return _("Field required")
    if kind == "extra_forbidden":
        return _("unknown field")
    if kind == "greater_than_equal":
        return _("must be >= {limit}").format(limit=ctx["ge"])
    if kind == "less_than_equal":
        return _("must be <= {limit}").format(limit=ctx["le"])
    if kind in WHOLE_NUMBER:
        return _("must be a whole number")
    if kind == "string_type":
        return _("must be text")
    if kind in ("bool_type", "bool_parsing"):
        return _("must be true or false")
    if kind == "list_type":
        return _("must be a list")
    if kind in ("dict_type", "model_type", "model_attributes_type"):
        return _("must be a mapping of fields")
    if kind == "string_too_short":
        return _("must not be empty")
    if kind.startswith("datetime_") or kind == "timezone_aware":
        return _(
            "must be a date and time with its UTC offset, like "
            "2026-11-02T09:00:00+07:00"
        )
    if kind.startswith("date_"):
        return _("must be a date, written YYYY-MM-DD")
    if kind == "too_short":
        if ctx.get("min_length") == 1:
            return _("must not be empty")
        return _("must list at least {limit}").format(limit=ctx["min_length"])
    if kind == "too_long":
        return _("must list at most {limit}").format(limit=ctx["max_length"])
    if kind == "string_too_long":
        return _("must be at most {limit} characters").format(limit=ctx["max_length"])
    if kind == "literal_error":
        expected = str(ctx["expected"]).replace("' or '", "' " + _("or") + " '")
        return _("unknown value {value}: expected {expected}").format(
            value=repr(error["input"]), expected=expected
        )
    text = str(error["msg"]).removeprefix("Value error, ")
    if kind == "value_error" or current() == SOURCE:
        return text  # our own validators word theirs in the request's language
    return _("not a valid value ({detail})").format(detail=text)
