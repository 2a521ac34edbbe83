"""amoCRM widget tokens: the disposable JWT a widget's `$authorizedAjax` sends.

amoCRM signs it with the integration's client secret (HS256), for the base
address of the integration's redirect URI (`aud`), valid for 30 minutes; it
names the amoCRM account and user the request comes from, and whether that
user is an account admin. Docs: amocrm.ru/developers/content/oauth/disposable-tokens
and the official client's parseDisposableToken / DisposableTokenModel.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import jwt

from leadrouter import sign_in_messages
from leadrouter.auth import Caller, token_problem
from leadrouter.config import Settings
from leadrouter.errors import Unauthenticated

HEADER = "x-auth-token"
LEEWAY = timedelta(seconds=30)  # clocks of amoCRM and ours may differ a little
# "lifetime 30 min" (spec/amocrm.md); a token meant to live longer is not amoCRM's.
LIFETIME = timedelta(minutes=30)
# Where amoCRM serves an account: iss is "https://subdomain.amocrm.ru".
ACCOUNT_HOSTS = ("amocrm.ru", "amocrm.com", "kommo.com")


@dataclass(frozen=True)
class WidgetUser:
    account_id: int
    user_id: int
    subdomain: str = ""
    is_admin: bool = False


def audience_of(redirect_uri: str) -> str:
    """scheme://host of the redirect URI, without the port: what amoCRM puts in
    `aud` ("Базовый адрес, который сформирован исходя из значения
    redirect_uri"), as the official client checks it:
    sprintf('%s://%s', $uri->getScheme(), $uri->getHost())."""
    parts = urlsplit(redirect_uri)
    return f"{parts.scheme}://{parts.hostname or ''}"


def issuer_hosts(subdomain: str) -> frozenset[str]:
    """ "iss | string | Адрес аккаунта в amoCRM": the account's own domain."""
    return frozenset(f"{subdomain}.{domain}" for domain in ACCOUNT_HOSTS)


class SpentTokens:
    """The `jti` of every widget token already used, kept until it expires: a
    disposable token opens one session, and a copy of it opens none."""

    def __init__(self, limit: int = 100_000) -> None:
        self.limit = limit
        self._until: dict[str, float] = {}

    def spend(self, jti: str, expires: float, now: datetime) -> bool:
        """False if `jti` was spent already; else remembers it until `expires`."""
        moment = now.timestamp()
        if len(self._until) >= self.limit:
            self._until = {k: v for k, v in self._until.items() if v > moment}
        if self._until.get(jti, 0.0) > moment:
            return False
        if len(self._until) >= self.limit:
            # Every kept token is still alive: refuse rather than forget one.
            return False
        self._until[jti] = expires
        return True


def _claim_int(claims: dict[str, Any], name: str) -> int:
    value = claims.get(name)
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise Unauthenticated(sign_in_messages.widget_claim_missing(name))
    try:
        return int(value)
    except ValueError as error:
        raise Unauthenticated(sign_in_messages.widget_claim_missing(name)) from error


def verify_widget_token(
    token: str,
    *,
    secret: str,
    audience: str,
    now: datetime,
    account_id: int | None,
    subdomain: str,
    spent: SpentTokens | None = None,
) -> WidgetUser:
    """The amoCRM user a token names; any flaw is UNAUTHENTICATED with the reason.

    Each claim is checked on its own, the signature first: a token forged with
    one claim changed fails on that claim and says which."""
    try:
        claims = jwt.decode(
            token,
            secret,
            algorithms=["HS256"],
            audience=audience,
            options={
                "require": ["aud", "iss", "jti", "iat", "exp", "nbf", "user_id"],
                # Time is checked against the injected clock below.
                "verify_exp": False,
                "verify_nbf": False,
                "verify_iat": False,
            },
        )
    except jwt.PyJWTError as error:
        problem = token_problem(error, token, "amoCRM widget token")
        raise Unauthenticated(problem) from error
    issuer = urlsplit(str(claims["iss"]))
    if issuer.scheme != "https" or issuer.hostname not in issuer_hosts(subdomain):
        raise Unauthenticated(sign_in_messages.widget_foreign_issuer(subdomain))
    if account_id is None:
        raise Unauthenticated(sign_in_messages.widget_account_unknown())
    if "account_id" not in claims:
        raise Unauthenticated(sign_in_messages.widget_claim_missing("account_id"))
    if _claim_int(claims, "account_id") != account_id:
        raise Unauthenticated(sign_in_messages.widget_other_account())
    user = _claim_int(claims, "user_id")
    issued, starts, expires = (_claim_int(claims, n) for n in ("iat", "nbf", "exp"))
    moment = now.timestamp()
    if issued > moment + LEEWAY.total_seconds():
        raise Unauthenticated(sign_in_messages.widget_from_the_future())
    if starts > moment + LEEWAY.total_seconds():
        raise Unauthenticated(sign_in_messages.widget_not_yet_valid())
    if expires <= moment - LEEWAY.total_seconds():
        raise Unauthenticated(sign_in_messages.widget_expired())
    if expires - issued > (LIFETIME + LEEWAY).total_seconds():
        raise Unauthenticated(sign_in_messages.widget_too_long())
    keep_until = expires + LEEWAY.total_seconds()
    if spent is not None and not spent.spend(str(claims["jti"]), keep_until, now):
        raise Unauthenticated(sign_in_messages.widget_token_spent())
    return WidgetUser(
        account_id,
        user,
        str(claims.get("subdomain") or ""),
        # DisposableTokenModel: ->setIsAdmin((bool)$claims->get('is_admin')).
        # Only JSON true makes an admin: a string "false" is not one.
        is_admin=claims.get("is_admin") is True,
    )


def issue_widget_token(
    *,
    secret: str,
    audience: str,
    account_id: int,
    user_id: int,
    subdomain: str,
    now: datetime,
    ttl: timedelta = LIFETIME,
    is_admin: bool = False,
) -> str:
    """A token as amoCRM issues it (for the emulator and tests)."""
    claims: dict[str, Any] = {
        "iss": f"https://{subdomain}.amocrm.ru",
        "aud": audience,
        "jti": str(uuid.uuid4()),
        "iat": int(now.timestamp()),
        "nbf": int(now.timestamp()),
        "exp": int((now + ttl).timestamp()),
        "account_id": account_id,
        "user_id": user_id,
        "is_admin": is_admin,
        "subdomain": subdomain,
        "client_uuid": str(uuid.uuid4()),
    }
    return jwt.encode(claims, secret, algorithm="HS256")


def widget_caller(
    settings: Settings, headers: Any, now: datetime, spent: SpentTokens | None = None
) -> tuple[Caller | None, str] | None:
    """The gateway's hook: None when the request has no X-Auth-Token header,
    else the caller it authenticates or why not. An amoCRM account admin acts
    as an admin, every other amoCRM user as a manager."""
    token = headers.get(HEADER)
    if not token:
        return None
    if settings.crm != "amocrm" or not settings.amocrm_client_secret:
        return None, "amoCRM widget tokens are accepted only with LEADROUTER_CRM=amocrm"
    try:
        user = verify_widget_token(
            token,
            secret=settings.amocrm_client_secret,
            audience=audience_of(settings.amocrm_redirect_uri),
            now=now,
            account_id=settings.amocrm_account_id,
            subdomain=settings.amocrm_subdomain,
            spent=spent,
        )
    except Unauthenticated as error:
        return None, str(error)
    role = "admin" if user.is_admin else "manager"
    caller = Caller(account=settings.account, user_id=str(user.user_id), role=role)
    return caller, ""
