"""What a refused sign-in says: a bearer token, the amoCRM widget's token, a role.

Beside leadrouter.messages (which holds every other person-facing message)
because the two tokens' checks (leadrouter.auth, leadrouter.amocrm_token)
and the gateway's role checks are its only readers.
"""

from __future__ import annotations

from leadrouter.i18n import _

# -- the bearer token ----------------------------------------------------------

TOKENS = {
    "bearer token": lambda: _("the bearer token"),
    "amoCRM widget token": lambda: _("the amoCRM widget token"),
}


def _token(what: str) -> str:
    named = TOKENS.get(what)
    return named() if named else what


def token_malformed(what: str) -> str:
    return _("{token} is malformed: it is not a token this service gives out").format(
        token=_token(what)
    )


def token_truncated(what: str) -> str:
    return _("{token} is cut short: copy the whole token again").format(
        token=_token(what)
    )


def token_wrongly_signed(what: str) -> str:
    return _("{token} is not signed with this service's key").format(token=_token(what))


def token_wrong_algorithm(what: str) -> str:
    return _("{token} is signed in a way this service does not accept").format(
        token=_token(what)
    )


def token_not_ours(what: str) -> str:
    return _("{token} was not issued for this service").format(token=_token(what))


def token_incomplete(what: str) -> str:
    return _("{token} does not say whom it is for or until when it is valid").format(
        token=_token(what)
    )


def token_invalid(what: str) -> str:
    return _("{token} is not valid; ask for a new one").format(token=_token(what))


def token_expired() -> str:
    return _("the bearer token has expired; ask for a new one")


def token_without_role() -> str:
    return _("the bearer token names no known role or account")


def sign_in() -> str:
    return _("sign in: send 'Authorization: Bearer <token>'")


def role_may_not(role: str, allowed: list[str]) -> str:
    return _("the {role} role may not do this (allowed: {allowed})").format(
        role=role, allowed=", ".join(allowed)
    )


def only_for_themselves(role: str) -> str:
    return _("a {role} may act only for themselves").format(role=role)


def claim_only_for_themselves() -> str:
    return _("a manager can claim only for themselves")


# -- the amoCRM widget token ------------------------------------------------


def widget_claim_missing(claim: str) -> str:
    return _(
        "the amoCRM widget token has no valid '{claim}': it is not amoCRM's"
    ).format(claim=claim)


def widget_foreign_issuer(subdomain: str) -> str:
    if not subdomain:
        return _(
            "amoCRM widget tokens need LEADROUTER_AMOCRM_SUBDOMAIN: the account's "
            "address is what a token must name"
        )
    return _("the amoCRM widget token is not issued by the account {account}").format(
        account=subdomain
    )


def widget_account_unknown() -> str:
    return _(
        "amoCRM widget tokens need LEADROUTER_AMOCRM_ACCOUNT_ID, the connected "
        "account's id (leadrouter prints it once it has read the account)"
    )


def widget_too_long() -> str:
    return _("the amoCRM widget token lives longer than amoCRM's 30 minutes")


def widget_token_spent() -> str:
    return _(
        "the amoCRM widget token was used already: each opens one session; "
        "reload the amoCRM page"
    )


def widget_other_account() -> str:
    return _("the amoCRM widget token is for another amoCRM account")


def widget_from_the_future() -> str:
    return _("the amoCRM widget token is issued in the future")


def widget_not_yet_valid() -> str:
    return _("the amoCRM widget token is not valid yet")


def widget_expired() -> str:
    return _("the amoCRM widget token has expired; reload the amoCRM page")
