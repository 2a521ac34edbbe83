"""amoCRM widget tokens: who they name, and every way they are refused."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import jwt
import pytest

from leadrouter.amocrm_token import (
    WidgetUser,
    audience_of,
    issue_widget_token,
    verify_widget_token,
    widget_caller,
)
from leadrouter.auth import Caller
from leadrouter.config import Settings
from leadrouter.errors import Unauthenticated

NOW = datetime(2026, 11, 2, 3, 0, tzinfo=UTC)
SECRET = "integration-client-secret-of-32-bytes!"
AUDIENCE = "https://leadrouter.example"


def _token(**changes: object) -> str:
    claims = jwt.decode(
        issue_widget_token(
            secret=SECRET,
            audience=AUDIENCE,
            account_id=31000001,
            user_id=5003,
            subdomain="emulated",
            now=NOW,
        ),
        options={"verify_signature": False},
    )
    claims.update(changes)
    secret = str(claims.pop("_secret", SECRET))
    return jwt.encode({k: v for k, v in claims.items() if v is not None}, secret)


def _verify(token: str, at: datetime = NOW) -> WidgetUser:
    return verify_widget_token(
        token, secret=SECRET, audience=AUDIENCE, now=at, account_id=31000001
    )


def test_a_valid_token_names_the_amocrm_account_and_user() -> None:
    assert _verify(_token()) == WidgetUser(31000001, 5003, "emulated")


def test_the_audience_is_the_base_of_the_redirect_uri() -> None:
    assert audience_of("https://leadrouter.example/amocrm/oauth?x=1") == AUDIENCE


@pytest.mark.parametrize(
    ("token", "at", "reason"),
    [
        (_token(), NOW + timedelta(minutes=31), "has expired"),
        (
            _token(nbf=int((NOW + timedelta(minutes=5)).timestamp())),
            NOW,
            "not valid yet",
        ),
        (_token(aud="https://other.example"), NOW, "not issued for this service"),
        (
            _token(_secret="another-integrations-secret-32-bytes"),
            NOW,
            "not signed with this service's key",
        ),
        (_token(account_id=999), NOW, "another amoCRM account"),
        (_token(user_id=None), NOW, "does not say whom it is for"),
        ("not-a-jwt", NOW, "malformed"),
    ],
)
def test_a_flawed_token_is_refused_with_the_reason(
    token: str, at: datetime, reason: str
) -> None:
    with pytest.raises(Unauthenticated, match=reason):
        _verify(token, at)


def test_the_gateway_hook_takes_the_header_and_makes_a_manager() -> None:
    settings = Settings(
        crm="amocrm",
        amocrm_client_secret=SECRET,
        amocrm_redirect_uri=f"{AUDIENCE}/amocrm/oauth",
        amocrm_account_id=31000001,
        account="acme",
    )
    assert widget_caller(settings, {}, NOW) is None
    assert widget_caller(settings, {"x-auth-token": _token()}, NOW) == (
        Caller(account="acme", user_id="5003", role="manager"),
        "",
    )
    builtin = Settings(crm="builtin", account="acme")
    refused = widget_caller(builtin, {"x-auth-token": _token()}, NOW)
    assert refused is not None and refused[0] is None
