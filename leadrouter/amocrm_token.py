"""amoCRM widget tokens: the disposable JWT a widget's `$authorizedAjax` sends.

amoCRM signs it with the integration's client secret (HS256), for the base
address of the integration's redirect URI (`aud`), valid for 30 minutes; it
names the amoCRM account and user the request comes from.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import jwt

from leadrouter.auth import Caller, token_problem
from leadrouter.config import Settings
from leadrouter.errors import Unauthenticated

HEADER = "x-auth-token"
LEEWAY = timedelta(seconds=30)  # clocks of amoCRM and ours may differ a little


@dataclass(frozen=True)
class WidgetUser:
    account_id: int
    user_id: int
    subdomain: str = ""


def audience_of(redirect_uri: str) -> str:
    """scheme://host[:port] of the redirect URI: what amoCRM puts in `aud`."""
    parts = urlsplit(redirect_uri)
    return f"{parts.scheme}://{parts.netloc}"


def verify_widget_token(
    token: str,
    *,
    secret: str,
    audience: str,
    now: datetime,
    account_id: int | None = None,
) -> WidgetUser:
    """The amoCRM user a token names; any flaw is UNAUTHENTICATED with the reason."""
    try:
        claims = jwt.decode(
            token,
            secret,
            algorithms=["HS256"],
            audience=audience,
            options={
                "require": ["aud", "exp", "nbf", "account_id", "user_id"],
                # Time is checked against the injected clock below.
                "verify_exp": False,
                "verify_nbf": False,
                "verify_iat": False,
            },
        )
    except jwt.PyJWTError as error:
        problem = token_problem(error, token, "amoCRM widget token")
        raise Unauthenticated(problem) from error
    if int(claims["nbf"]) > (now + LEEWAY).timestamp():
        raise Unauthenticated("the amoCRM widget token is not valid yet")
    if int(claims["exp"]) <= (now - LEEWAY).timestamp():
        raise Unauthenticated(
            "the amoCRM widget token has expired; reload the amoCRM page"
        )
    try:
        account, user = int(claims["account_id"]), int(claims["user_id"])
    except (TypeError, ValueError) as error:
        problem = "the amoCRM widget token names no account or user"
        raise Unauthenticated(problem) from error
    if account_id is not None and account != account_id:
        raise Unauthenticated("the amoCRM widget token is for another amoCRM account")
    return WidgetUser(account, user, str(claims.get("subdomain") or ""))


def issue_widget_token(
    *,
    secret: str,
    audience: str,
    account_id: int,
    user_id: int,
    subdomain: str,
    now: datetime,
    ttl: timedelta = timedelta(minutes=30),
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
        "subdomain": subdomain,
        "client_uuid": str(uuid.uuid4()),
    }
    return jwt.encode(claims, secret, algorithm="HS256")


def widget_caller(
    settings: Settings, headers: Any, now: datetime
) -> tuple[Caller | None, str] | None:
    """The gateway's hook: None when the request has no X-Auth-Token header,
    else the caller it authenticates (an amoCRM user acts as a manager) or why not."""
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
        )
    except Unauthenticated as error:
        return None, str(error)
    caller = Caller(account=settings.account, user_id=str(user.user_id), role="manager")
    return caller, ""
