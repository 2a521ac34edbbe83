"""Person-facing messages, in the language of the request, in one place.

Each function words one situation a caller can act on, in English inside
`_()`; the catalogue (`leadrouter/locale/`, see `leadrouter.i18n`) holds the
other languages. A message names the caller's values with `{name}`
placeholders, so that a translation can place them where its grammar wants.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from leadrouter.i18n import _, ngettext

# -- who sees what -----------------------------------------------------------


def only_own(what: str) -> str:
    sentences = {
        "leads": _("a manager sees only their own leads"),
        "decisions": _("a manager sees only their own decisions"),
        "eligibility": _("a manager sees only their own limits"),
        "presence": _("a manager sees only their own presence"),
        "schedule": _("a manager sees only their own schedule"),
        "figures": _("a manager sees only their own figures"),
    }
    return sentences.get(what) or _("a manager sees only their own data")


def not_a_member(group: str) -> str:
    return _(
        "you are not a member of group '{group}', so its pool is not yours to see"
    ).format(group=shown(group))


def not_found(kind: str, value: str) -> str:
    sentences = {
        "lead": _("there is no lead '{value}'"),
        "decision": _("there is no decision '{value}'"),
        "group": _("there is no distribution group '{value}'"),
        "user": _("there is no user '{value}' in this account"),
    }
    return sentences.get(kind, _("there is no '{value}'")).format(value=shown(value))


# -- ids and cursors -----------------------------------------------------------


def id_too_long(name: str, limit: int) -> str:
    return _("'{name}' is longer than any id here ({limit} characters at most)").format(
        name=name, limit=limit
    )


def has_nul(name: str) -> str:
    return _("'{name}' contains a NUL character, which no text here may hold").format(
        name=name
    )


def not_a_number_id(kind: str, value: str) -> str:
    # Decisions are the one kind numbered by the service.
    return _("'{value}' is not a decision id: decision ids are whole numbers").format(
        value=shown(value)
    )


def value_out_of_range() -> str:
    return _("a value in the request is out of the range this service stores")


def bad_cursor(name: str) -> str:
    return _(
        "'{name}' is not a cursor this list gave out; start again from the top"
    ).format(name=name)


def page_size(name: str, limit: int) -> str:
    return _("'{name}' must be a whole number from 0 to {limit}").format(
        name=name, limit=limit
    )


# -- amoCRM, as the health answer says it -----------------------------------


def _hook_words(webhook: str) -> str:
    words = {
        "working": _("webhooks work"),
        "missing": _("the webhook is missing; events are read every minute"),
        "disabled": _("amoCRM switched the webhook off; events are read every minute"),
        "not_allowed": _(
            "the account's plan allows no API webhooks; events are read every minute"
        ),
        "no_public_url": _(
            "no public URL for webhooks (LEADROUTER_AMOCRM_PUBLIC_URL); events are "
            "read every minute"
        ),
        "unknown": _("webhooks not checked yet"),
    }
    return words.get(webhook, webhook)


def _changes(count: int) -> str:
    return ngettext("{count} change waits", "{count} changes wait", count).format(
        count=count
    )


def amocrm_health(
    *,
    block: str,
    next_attempt: datetime | None,
    waiting: int,
    synced: bool,
    progress: str,
    webhook: str,
) -> str:
    """One line: "amoCRM has blocked this account until 07:05 UTC; 3 changes wait"."""
    when = f"{next_attempt:%H:%M} UTC" if next_attempt is not None else _("later")
    if block == "blocked":
        return _("amoCRM has blocked this account until {when}; {changes}").format(
            when=when, changes=_changes(waiting)
        )
    if block == "not_paid":
        return _(
            "amoCRM takes no changes: the account's subscription has ended; next "
            "try at {when}; {changes}"
        ).format(when=when, changes=_changes(waiting))
    if not synced:
        return progress
    return _("amoCRM connected; {hooks}; {changes}").format(
        hooks=_hook_words(webhook), changes=_changes(waiting)
    )


# -- GraphQL over HTTP -----------------------------------------------------------


def mutation_over_get() -> str:
    return _("a mutation changes data, so it must be sent with POST, not GET")


def unsupported_media_type() -> str:
    return _("send the request as JSON, with 'Content-Type: application/json'")


def not_acceptable() -> str:
    return _(
        "this endpoint answers in application/graphql-response+json or "
        "application/json; ask for one of them in the Accept header"
    )


def body_not_json() -> str:
    return _("the request body is not valid JSON")


def body_not_text() -> str:
    return _("the request holds characters that are no text (a lone surrogate)")


def body_not_an_object() -> str:
    return _("the request must be a JSON object with a 'query' string")


def no_query() -> str:
    return _("the request has no 'query': send the GraphQL document as a string")


def query_not_a_string() -> str:
    return _("'query' must be a string holding the GraphQL document")


def variables_not_an_object() -> str:
    return _("'variables' must be a JSON object mapping names to values")


def operation_name_not_a_string() -> str:
    return _("'operationName' must be a string")


def extensions_not_an_object() -> str:
    return _("'extensions' must be a JSON object")


def no_such_operation(name: str) -> str:
    return _("the document has no operation named '{name}'").format(name=shown(name))


def operation_not_chosen() -> str:
    return _(
        "the document holds several operations (or none): name the one to run "
        "in 'operationName'"
    )


def method_not_allowed() -> str:
    return _("GraphQL is asked with GET (queries only) or POST")


def database_read_only(service: str) -> str:
    return _(
        "the {service} database is read-only; nothing was changed, try again "
        "once it accepts writes"
    ).format(service=service)


def database_full(service: str) -> str:
    return _(
        "the {service} database is out of disk space; nothing was changed, try "
        "again once space is freed"
    ).format(service=service)


def database_unreachable(service: str) -> str:
    return _(
        "the {service} database is not reachable; nothing was changed, try "
        "again in a moment"
    ).format(service=service)


def service_unreachable(service: str) -> str:
    return _("the {service} service is not reachable; try again in a moment").format(
        service=service
    )


def service_too_slow(service: str) -> str:
    return _(
        "the {service} service did not answer in time; try again in a moment"
    ).format(service=service)


def service_failed(service: str, code: str) -> str:
    return _("the {service} service failed to answer ({code})").format(
        service=service, code=code
    )


def body_too_large(mebibytes: int) -> str:
    return _("the request body is larger than {size} MiB; send less").format(
        size=mebibytes
    )


def pool_changes_unavailable() -> str:
    return _("pool changes cannot be followed right now; try again in a moment")


def event_stream_ended() -> str:
    return _("the crm's event stream ended; subscribe again")


def unexpected_error() -> str:
    return _("Unexpected error; it has been logged.")


# -- arguments -----------------------------------------------------------------


def needs_offset(name: str) -> str:
    return _("'{name}' needs a UTC offset, like 2026-11-01T00:00:00Z").format(name=name)


def needs_offset_like(name: str, local: str) -> str:
    return _("'{name}' needs a UTC offset, e.g. {local}+07:00 or {local}Z").format(
        name=name, local=local
    )


def key_length(name: str, limit: int) -> str:
    return _("'{name}' must be 1 to {limit} characters").format(name=name, limit=limit)


def whole_number_from(name: str, low: int, high: int) -> str:
    return _("'{name}' must be a whole number from {low} to {high}").format(
        name=name, low=low, high=high
    )


def date_required(name: str) -> str:
    return _("'{name}' is required, as a date like 2026-11-01").format(name=name)


def not_a_date(name: str) -> str:
    return _("'{name}' must be a date like 2026-11-01").format(name=name)


def not_an_instant(name: str) -> str:
    return _("'{name}' must be an instant like 2026-11-01T00:00:00Z").format(name=name)


def one_of(name: str, choices: list[str], given: str) -> str:
    return _("'{name}' must be one of {choices}, not '{given}'").format(
        name=name, choices=", ".join(choices), given=shown(given)
    )


def workspace_too_large() -> str:
    return _("the workspace file is larger than 1 MB")


def workspace_has_problems(problems: str) -> str:
    return _("the workspace has problems: {problems}").format(problems=problems)


# -- limits of a member ---------------------------------------------------------


def no_such_limit(limit: str, names: Sequence[str]) -> str:
    return _("there is no limit '{limit}'; the limits are {names}").format(
        limit=shown(limit), names=", ".join(names)
    )


def limit_twice() -> str:
    return _("this limit is given twice")


def exchange_user_not_member() -> str:
    return _("an exchange user owns the pool and cannot be a member")


# -- a lead handed in ------------------------------------------------------------


def lead_needs_a_name() -> str:
    return _("give the lead a name, or a contact in 'contacts'")


def lead_needs_a_channel() -> str:
    return _("say where the lead came from: call, form, email, chat or your own word")


def negative_budget() -> str:
    return _("a budget is zero or more")


def tag_with_comma() -> str:
    return _("a tag holds no comma: give each tag as its own item")


def no_intake(missing: list[str]) -> str:
    return _(
        "the account has no distribution group with a source stage and an "
        "exchange user to take new leads, so say {fields}"
    ).format(fields=listed(missing))


def stage_of_other_pipeline(pipeline: str, intake: str) -> str:
    return _(
        "new leads start in pipeline '{intake}'; for pipeline '{pipeline}' say "
        "which of its stages"
    ).format(intake=shown(intake), pipeline=shown(pipeline))


def no_such_pipeline(pipeline: str) -> str:
    return _("the account has no pipeline '{pipeline}'").format(
        pipeline=shown(pipeline)
    )


def no_such_stage(pipeline: str, stage: str) -> str:
    return _("pipeline '{pipeline}' has no stage '{stage}'").format(
        pipeline=shown(pipeline), stage=shown(stage)
    )


def no_such_user(user: str) -> str:
    return _("the account has no user '{user}'").format(user=shown(user))


# -- events another CRM feeds ---------------------------------------------------


def account_is_empty(account: str) -> str:
    return _("account '{account}' has no users yet: apply a workspace first").format(
        account=shown(account)
    )


def event_needs_an_id(limit: int) -> str:
    return _(
        "each event needs an 'id' of your own (text, 1 to {limit} characters), "
        "so that sending it again records it once"
    ).format(limit=limit)


def event_id_reused(event_id: str) -> str:
    return _(
        "an event with id '{id}' was recorded before and said something else; "
        "give a new event a new id"
    ).format(id=shown(event_id))


def events_not_utf8() -> str:
    return _("send the events as UTF-8 text, one JSON object a line")


def too_many_events(limit: int) -> str:
    return _("send at most {limit} events at a time").format(limit=limit)


def no_events() -> str:
    return _("send at least one event")


# -- helpers -------------------------------------------------------------------

SHOWN = 40  # characters of a caller's value quoted back in a message


def listed(words: list[str]) -> str:
    """["a", "b", "c"] as "a, b and c" (in the request's language)."""
    if len(words) < 2:
        return "".join(words)
    return _("{first} and {last}").format(first=", ".join(words[:-1]), last=words[-1])


def shown(value: str) -> str:
    """A caller's value as a message quotes it: short enough to read."""
    return value if len(value) <= SHOWN else value[: SHOWN - 1] + "…"


def too_many(what: str, rate: str, burst: int, wait: int) -> str:
    """A caller over a rate limit: of presses of "Get lead", or of webhooks."""
    if what == "webhooks":
        text = _(
            "too many webhooks: at most {rate} a second (bursts of {burst}); "
            "try again in {wait} s"
        )
    else:
        text = _(
            "too many presses: at most {rate} a second (bursts of {burst}); "
            "try again in {wait} s"
        )
    return text.format(rate=rate, burst=burst, wait=wait)
