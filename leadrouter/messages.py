"""Person-facing messages of the read paths, in English, in one place.

Each function words one situation a caller can act on. They are kept here,
not inline where they are raised, so that a catalogue of languages can
replace this module's wording without touching the code that raises them.
"""

from __future__ import annotations

from datetime import datetime

# -- who sees what -----------------------------------------------------------


def only_own(what: str) -> str:
    return f"a manager sees only their own {what}"


def not_a_member(group: str) -> str:
    return f"you are not a member of group '{group}', so its pool is not yours to see"


def not_found(kind: str, value: str) -> str:
    return f"there is no {kind} '{shown(value)}'"


# -- ids and cursors -----------------------------------------------------------


def id_too_long(name: str, limit: int) -> str:
    return f"'{name}' is longer than any id here ({limit} characters at most)"


def has_nul(name: str) -> str:
    return f"'{name}' contains a NUL character, which no text here may hold"


def not_a_number_id(kind: str, value: str) -> str:
    return f"'{shown(value)}' is not a {kind} id: {kind} ids are whole numbers"


def value_out_of_range() -> str:
    return "a value in the request is out of the range this service stores"


def bad_cursor(name: str) -> str:
    return f"'{name}' is not a cursor this list gave out; start again from the top"


def page_size(name: str, limit: int) -> str:
    return f"'{name}' must be a whole number from 0 to {limit}"


# -- the bearer token ----------------------------------------------------------


def token_malformed(what: str) -> str:
    return f"the {what} is malformed: it is not a token this service gives out"


def token_truncated(what: str) -> str:
    return f"the {what} is cut short: copy the whole token again"


def token_wrongly_signed(what: str) -> str:
    return f"the {what} is not signed with this service's key"


def token_wrong_algorithm(what: str) -> str:
    return f"the {what} is signed in a way this service does not accept"


def token_not_ours(what: str) -> str:
    return f"the {what} was not issued for this service"


def token_incomplete(what: str) -> str:
    return f"the {what} does not say whom it is for or until when it is valid"


def token_invalid(what: str) -> str:
    return f"the {what} is not valid; ask for a new one"


# -- the amoCRM widget token ------------------------------------------------


def widget_claim_missing(claim: str) -> str:
    return f"the amoCRM widget token has no valid '{claim}': it is not amoCRM's"


def widget_foreign_issuer(subdomain: str) -> str:
    if not subdomain:
        return (
            "amoCRM widget tokens need LEADROUTER_AMOCRM_SUBDOMAIN: the account's "
            "address is what a token must name"
        )
    return f"the amoCRM widget token is not issued by the account {subdomain}"


def widget_account_unknown() -> str:
    return (
        "amoCRM widget tokens need LEADROUTER_AMOCRM_ACCOUNT_ID, the connected "
        "account's id (leadrouter prints it once it has read the account)"
    )


def widget_too_long() -> str:
    return "the amoCRM widget token lives longer than amoCRM's 30 minutes"


def widget_token_spent() -> str:
    return (
        "the amoCRM widget token was used already: each opens one session; "
        "reload the amoCRM page"
    )


# -- amoCRM, as the health answer says it -----------------------------------

HOOK_WORDS = {
    "working": "webhooks work",
    "missing": "the webhook is missing; events are read every minute",
    "disabled": "amoCRM switched the webhook off; events are read every minute",
    "not_allowed": (
        "the account's plan allows no API webhooks; events are read every minute"
    ),
    "no_public_url": (
        "no public URL for webhooks (LEADROUTER_AMOCRM_PUBLIC_URL); events are "
        "read every minute"
    ),
    "unknown": "webhooks not checked yet",
}


def _changes(count: int) -> str:
    return f"{count} change waits" if count == 1 else f"{count} changes wait"


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
    when = f"{next_attempt:%H:%M} UTC" if next_attempt is not None else "later"
    if block == "blocked":
        return f"amoCRM has blocked this account until {when}; {_changes(waiting)}"
    if block == "not_paid":
        return (
            "amoCRM takes no changes: the account's subscription has ended; next "
            f"try at {when}; {_changes(waiting)}"
        )
    if not synced:
        return progress
    hooks = HOOK_WORDS.get(webhook, webhook)
    return f"amoCRM connected; {hooks}; {_changes(waiting)}"


# -- GraphQL over HTTP -----------------------------------------------------------


def mutation_over_get() -> str:
    return "a mutation changes data, so it must be sent with POST, not GET"


def unsupported_media_type() -> str:
    return "send the request as JSON, with 'Content-Type: application/json'"


def not_acceptable() -> str:
    return (
        "this endpoint answers in application/graphql-response+json or "
        "application/json; ask for one of them in the Accept header"
    )


def body_not_json() -> str:
    return "the request body is not valid JSON"


def body_not_text() -> str:
    return "the request holds characters that are no text (a lone surrogate)"


def body_not_an_object() -> str:
    return "the request must be a JSON object with a 'query' string"


def no_query() -> str:
    return "the request has no 'query': send the GraphQL document as a string"


def query_not_a_string() -> str:
    return "'query' must be a string holding the GraphQL document"


def variables_not_an_object() -> str:
    return "'variables' must be a JSON object mapping names to values"


def operation_name_not_a_string() -> str:
    return "'operationName' must be a string"


def extensions_not_an_object() -> str:
    return "'extensions' must be a JSON object"


def no_such_operation(name: str) -> str:
    return f"the document has no operation named '{shown(name)}'"


def operation_not_chosen() -> str:
    return (
        "the document holds several operations (or none): name the one to run "
        "in 'operationName'"
    )


def method_not_allowed() -> str:
    return "GraphQL is asked with GET (queries only) or POST"


# -- a lead handed in ------------------------------------------------------------


def lead_needs_a_name() -> str:
    return "give the lead a name, or a contact in 'contacts'"


def lead_needs_a_channel() -> str:
    return "say where the lead came from: call, form, email, chat or your own word"


def negative_budget() -> str:
    return "a budget is zero or more"


def tag_with_comma() -> str:
    return "a tag holds no comma: give each tag as its own item"


def no_intake(missing: list[str]) -> str:
    return (
        "the account has no distribution group with a source stage and an "
        f"exchange user to take new leads, so say {listed(missing)}"
    )


def stage_of_other_pipeline(pipeline: str, intake: str) -> str:
    return (
        f"new leads start in pipeline '{shown(intake)}'; for pipeline "
        f"'{shown(pipeline)}' say which of its stages"
    )


def no_such_pipeline(pipeline: str) -> str:
    return f"the account has no pipeline '{shown(pipeline)}'"


def no_such_stage(pipeline: str, stage: str) -> str:
    return f"pipeline '{shown(pipeline)}' has no stage '{shown(stage)}'"


def no_such_user(user: str) -> str:
    return f"the account has no user '{shown(user)}'"


# -- events another CRM feeds ---------------------------------------------------


def account_is_empty(account: str) -> str:
    return f"account '{shown(account)}' has no users yet: apply a workspace first"


def event_needs_an_id(limit: int) -> str:
    return (
        f"each event needs an 'id' of your own (text, 1 to {limit} characters), "
        "so that sending it again records it once"
    )


def event_id_reused(event_id: str) -> str:
    return (
        f"an event with id '{shown(event_id)}' was recorded before and said "
        "something else; give a new event a new id"
    )


def events_not_utf8() -> str:
    return "send the events as UTF-8 text, one JSON object a line"


def too_many_events(limit: int) -> str:
    return f"send at most {limit} events at a time"


def no_events() -> str:
    return "send at least one event"


# -- helpers -------------------------------------------------------------------

SHOWN = 40  # characters of a caller's value quoted back in a message


def listed(words: list[str]) -> str:
    """["a", "b", "c"] as "a, b and c"."""
    return " and ".join([", ".join(words[:-1]), words[-1]] if len(words) > 1 else words)


def shown(value: str) -> str:
    """A caller's value as a message quotes it: short enough to read."""
    return value if len(value) <= SHOWN else value[: SHOWN - 1] + "…"
