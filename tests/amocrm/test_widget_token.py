"""amoCRM widget tokens: who they name, and every way they are refused.

Each refusal is a token signed with the right key whose one claim is changed,
as a forger who had a real token would send it: each claim is checked on its
own and the refusal says which."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import jwt
import pytest

from leadrouter.amocrm_token import (
    SpentTokens,
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
ACCOUNT_ID = 31000001


def _claims(**changes: object) -> dict[str, object]:
    claims: dict[str, object] = jwt.decode(
        issue_widget_token(
            secret=SECRET,
            audience=AUDIENCE,
            account_id=ACCOUNT_ID,
            user_id=5003,
            subdomain="emulated",
            now=NOW,
        ),
        options={"verify_signature": False},
    )
    claims.update(changes)
    return claims


def _token(**changes: object) -> str:
    claims = _claims(**changes)
    secret = str(claims.pop("_secret", SECRET))
    return jwt.encode({k: v for k, v in claims.items() if v is not None}, secret)


def _verify(
    token: str, at: datetime = NOW, spent: SpentTokens | None = None
) -> WidgetUser:
    return verify_widget_token(
        token,
        secret=SECRET,
        audience=AUDIENCE,
        now=at,
        account_id=ACCOUNT_ID,
        subdomain="emulated",
        spent=spent,
    )


def test_a_valid_token_names_the_amocrm_account_and_user() -> None:
    assert _verify(_token()) == WidgetUser(ACCOUNT_ID, 5003, "emulated")


def test_the_audience_is_the_scheme_and_host_of_the_redirect_uri_without_port() -> None:
    assert audience_of("https://leadrouter.example/amocrm/oauth?x=1") == AUDIENCE
    assert audience_of("https://leadrouter.example:8443/oauth") == AUDIENCE


@pytest.mark.parametrize(
    ("changes", "at", "reason"),
    [
        # aud: another service, and this host with a port amoCRM never adds
        ({"aud": "https://other.example"}, NOW, "not issued for this service"),
        ({"aud": f"{AUDIENCE}:8443"}, NOW, "not issued for this service"),
        ({"aud": None}, NOW, "does not say whom it is for"),
        # iss: the account's own domain only
        ({"iss": "https://someone-else.amocrm.ru"}, NOW, "not issued by the account"),
        ({"iss": "http://emulated.amocrm.ru"}, NOW, "not issued by the account"),
        ({"iss": "https://emulated.amocrm.ru.evil.example"}, NOW, "not issued by"),
        ({"iss": None}, NOW, "does not say whom it is for"),
        # account_id: required, and the connected account's
        ({"account_id": 999}, NOW, "another amoCRM account"),
        ({"account_id": None}, NOW, "no valid 'account_id'"),
        ({"account_id": "31000001x"}, NOW, "no valid 'account_id'"),
        # user_id
        ({"user_id": None}, NOW, "does not say whom it is for"),
        ({"user_id": True}, NOW, "no valid 'user_id'"),
        # jti
        ({"jti": None}, NOW, "does not say whom it is for"),
        # exp, nbf, iat, each within 30 seconds of leeway
        ({}, NOW + timedelta(minutes=30, seconds=31), "has expired"),
        ({"nbf": int((NOW + timedelta(minutes=5)).timestamp())}, NOW, "not valid yet"),
        ({"iat": int((NOW + timedelta(minutes=5)).timestamp())}, NOW, "in the future"),
        (
            {"exp": int((NOW + timedelta(days=2)).timestamp())},
            NOW,
            "longer than amoCRM's 30 minutes",
        ),
        # the signature
        (
            {"_secret": "another-integrations-secret-32-bytes"},
            NOW,
            "not signed with this service's key",
        ),
    ],
)
def test_a_forged_claim_is_refused_with_the_reason(
    changes: dict[str, object], at: datetime, reason: str
) -> None:
    with pytest.raises(Unauthenticated, match=reason):
        _verify(_token(**changes), at)


def test_a_malformed_token_is_refused() -> None:
    with pytest.raises(Unauthenticated, match="malformed"):
        _verify("not-a-jwt")


def test_clocks_a_little_apart_are_forgiven() -> None:
    issued_ahead = _token(
        iat=int((NOW + timedelta(seconds=20)).timestamp()),
        nbf=int((NOW + timedelta(seconds=20)).timestamp()),
    )
    assert _verify(issued_ahead).user_id == 5003
    assert _verify(_token(), NOW + timedelta(minutes=30, seconds=20)).user_id == 5003


def test_a_token_opens_one_session_only_until_it_expires() -> None:
    spent = SpentTokens()
    token = _token()
    assert _verify(token, spent=spent).user_id == 5003
    with pytest.raises(Unauthenticated, match="used already"):
        _verify(token, NOW + timedelta(minutes=10), spent=spent)
    # Another token of the same user is a new one.
    assert _verify(_token(jti="another-uuid"), spent=spent).user_id == 5003


def test_the_spent_register_forgets_expired_tokens_only() -> None:
    spent = SpentTokens(limit=2)
    assert spent.spend("a", NOW.timestamp() + 60, NOW)
    assert spent.spend("b", NOW.timestamp() + 600, NOW)
    # Full of live tokens: a third is refused rather than one forgotten.
    assert not spent.spend("c", NOW.timestamp() + 600, NOW)
    later = NOW + timedelta(minutes=2)
    assert spent.spend("c", later.timestamp() + 600, later)  # "a" has expired
    assert not spent.spend("b", later.timestamp() + 600, later)


def _settings(**changes: object) -> Settings:
    values: dict[str, object] = {
        "crm": "amocrm",
        "amocrm_client_secret": SECRET,
        "amocrm_redirect_uri": f"{AUDIENCE}:8443/amocrm/oauth",
        "amocrm_account_id": ACCOUNT_ID,
        "amocrm_subdomain": "emulated",
        "account": "acme",
        **changes,
    }
    return Settings(**values)  # type: ignore[arg-type]


def test_the_gateway_hook_makes_a_manager_or_an_account_admin_an_admin() -> None:
    settings = _settings()
    assert widget_caller(settings, {}, NOW) is None
    assert widget_caller(settings, {"x-auth-token": _token()}, NOW) == (
        Caller(account="acme", user_id="5003", role="manager"),
        "",
    )
    admin = _token(is_admin=True)
    assert widget_caller(settings, {"x-auth-token": admin}, NOW) == (
        Caller(account="acme", user_id="5003", role="admin"),
        "",
    )
    for not_admin in ("true", 1, "1"):
        caller, _ = widget_caller(  # type: ignore[misc]
            settings, {"x-auth-token": _token(is_admin=not_admin)}, NOW
        )
        assert caller is not None and caller.role == "manager"


def test_the_gateway_hook_refuses_without_the_connected_account() -> None:
    for changes, reason in (
        ({"crm": "builtin"}, "only with LEADROUTER_CRM=amocrm"),
        ({"amocrm_account_id": None}, "LEADROUTER_AMOCRM_ACCOUNT_ID"),
        ({"amocrm_subdomain": ""}, "LEADROUTER_AMOCRM_SUBDOMAIN"),
    ):
        refused = widget_caller(_settings(**changes), {"x-auth-token": _token()}, NOW)
        assert refused is not None and refused[0] is None
        assert reason in refused[1]
