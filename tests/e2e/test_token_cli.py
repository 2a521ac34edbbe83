"""Tokens only for people who exist (issue 19 point 7)."""

from __future__ import annotations

import pytest

from leadrouter import cli, cli_setup
from tests.fixtures import WORKSPACE
from tests.stack import Stack


async def test_a_token_for_a_user_the_account_does_not_have_is_refused(
    stack: Stack,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setattr(cli_setup.Clients, "from_settings", lambda _s: stack.clients)
    with pytest.raises(SystemExit) as before_any_setup:
        await cli_setup.require_user(stack.settings, "acme", "ursula")
    assert "has no user 'ursula'" in str(before_any_setup.value)
    assert await cli_setup.users(stack.settings, "acme") == 1
    assert "apply a workspace first" in capsys.readouterr().out

    assert (await stack.apply(WORKSPACE))["ok"]
    await cli_setup.require_user(stack.settings, "acme", "ursula")  # goes on
    with pytest.raises(SystemExit) as refused:
        await cli_setup.require_user(stack.settings, "acme", "ghost")
    assert str(refused.value) == (
        "account 'acme' has no user 'ghost', so no token was made; "
        "`leadrouter users` lists the account's users"
    )
    assert await cli_setup.users(stack.settings, "acme") == 0
    listed = capsys.readouterr().out.splitlines()
    assert "ursula  Ursula" in listed
    assert "pool  Lead exchange  (exchange user)" in listed


def test_a_token_for_a_role_that_is_not_known_is_refused(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(SystemExit) as refused:
        cli.main(["token", "--user", "ursula", "--role", "boss"])
    assert refused.value.code != 0
    error = capsys.readouterr().err
    assert "invalid choice: 'boss'" in error
    assert "'admin', 'manager', 'partner', 'viewer'" in error
