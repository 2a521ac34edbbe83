"""Logs: one JSON object a line, with service, trace and account, and no secrets."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from graphql import GraphQLError

from gateway.errors import public_error
from leadrouter.auth import issue_token
from leadrouter.clock import FixedClock
from leadrouter.config import Settings
from leadrouter.crm_api import CrmApiTransport
from leadrouter.logs import JsonFormatter, Redactor, secrets_of
from services.crm.amocrm.auth import FileTokenStore
from services.crm.amocrm.emulator import AmoEmulator
from services.crm.amocrm.errors import AmoRefused
from tests.amocrm.conftest import START, client_with, oauth, serve
from tests.e2e.test_claim import CLAIM
from tests.fixtures import WORKSPACE, lead_created
from tests.stack import Stack


@contextmanager
def captured(secrets: list[str]) -> Iterator[io.StringIO]:
    """What the process logs, as `configure_logging` formats it, at DEBUG."""
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.setFormatter(JsonFormatter("test", Redactor(secrets)))
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    try:
        yield out
    finally:
        root.removeHandler(handler)
        root.setLevel(level)


@pytest.fixture
def log_lines(stack: Stack) -> Iterator[io.StringIO]:
    with captured([stack.settings.signing_secret]) as out:
        yield out


async def test_log_lines_carry_service_trace_and_account(
    stack: Stack, log_lines: io.StringIO
) -> None:
    assert (await stack.apply(WORKSPACE))["ok"]
    await stack.import_history(
        [lead_created("L1", stack.clock.now() - timedelta(hours=1))]
    )
    await stack.data(CLAIM, {"g": "main"}, user="ursula", role="manager")
    entries = [json.loads(line) for line in log_lines.getvalue().splitlines()]
    claim = [e for e in entries if "Assigner/ClaimLead" in e["message"]]
    assert claim, entries
    assert claim[0]["service"] == "test"
    assert claim[0]["account"] == "acme"
    assert len(claim[0]["trace_id"]) == 32
    hops = [e for e in entries if e.get("trace_id") == claim[0]["trace_id"]]
    # The press judges the limits on the figures the crm measures, then takes.
    assert {"crm.v1.Crm/GetActivity", "crm.v1.Crm/TakePoolLead"} <= {
        e["message"].split()[1].removeprefix("leadrouter.") for e in hops
    }


async def test_no_secret_or_token_reaches_logs_or_errors(
    stack: Stack, log_lines: io.StringIO
) -> None:
    assert (await stack.apply(WORKSPACE))["ok"]
    secret = stack.settings.signing_secret
    good = stack.token("ursula")
    expired = issue_token(
        secret,
        account="acme",
        user_id="ursula",
        role="manager",
        now=stack.clock.now() - timedelta(days=2),
        ttl=timedelta(hours=1),
    )
    forged = issue_token(
        "another-secret-of-at-least-thirty-two-bytes",
        account="acme",
        user_id="head",
        role="admin",
        now=stack.clock.now(),
        ttl=timedelta(hours=1),
    )
    bodies = [
        await stack.gql(CLAIM, {"g": "main"}, token=good),
        await stack.gql(CLAIM, {"g": "main"}, token=expired),
        await stack.gql(CLAIM, {"g": "main"}, token=forged),
        await stack.gql(CLAIM, {"g": "main"}, token="not-a-jwt"),
        await stack.gql(CLAIM, {"g": "nope", "k": good}, token=good),
    ]
    codes = [e["extensions"]["code"] for b in bodies for e in b.get("errors", [])]
    assert codes.count("UNAUTHENTICATED") == 3
    logging.getLogger("leadrouter.test").warning("refused header Bearer %s", forged)
    try:
        raise RuntimeError(f"token {good} rejected by {secret}")
    except RuntimeError:
        logging.getLogger("leadrouter.test").exception("while checking a token")

    text = log_lines.getvalue() + json.dumps(bodies)
    assert text.count("[redacted]") >= 3  # the lines above were written, redacted
    for leaked in (secret, good, expired, forged):
        assert leaked not in text


def test_redactor_hides_tokens_and_oauth_fields() -> None:
    redact = Redactor(["configured-secret-value"])
    line = (
        'Authorization: Bearer abc123 {"access_token": "at-1", "refresh_token":"rt-2"}'
        " client_secret=cs-3&next=1 configured-secret-value "
        "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ1In0.c2lnbmF0dXJl"
    )
    assert redact(line) == (
        'Authorization: Bearer [redacted] {"access_token": "[redacted]", '
        '"refresh_token":"[redacted]"} client_secret=[redacted]&next=1 [redacted] '
        "[redacted]"
    )
    assert redact('{"code": "pool_empty", "limit": "max_active"}') == (
        '{"code": "pool_empty", "limit": "max_active"}'
    )


async def test_oauth_secrets_and_tokens_stay_out_of_logs_and_errors(
    tmp_path: Path,
) -> None:
    clock = FixedClock(START)
    emulator = AmoEmulator(clock=clock, leads=5)
    served = await serve(emulator)
    emulator.url = served.url
    # The crm process registers its amoCRM credentials as secrets, like this.
    settings = Settings(amocrm_client_secret=emulator.client_secret)
    code = emulator.issue_code()
    try:
        with captured(secrets_of(settings)) as out:
            async with httpx.AsyncClient(transport=CrmApiTransport()) as http:
                auth = oauth(emulator, clock, http, tmp_path / "token.json")
                first = await auth.exchange_code(code)
                emulator.revoke_access_tokens()  # the next call: 401, refresh, retry
                amo = client_with(emulator, clock, http, auth)
                await amo.all("/api/v4/users", "users")
                with pytest.raises(AmoRefused) as refused:  # a code used twice
                    await oauth(
                        emulator, clock, http, tmp_path / "b.json"
                    ).exchange_code(code)
                logging.getLogger("leadrouter.test").info(
                    "token form %s", f"client_secret={emulator.client_secret}&code=x"
                )
    finally:
        await emulator.aclose()
        await served.stop()
    newest = await FileTokenStore(tmp_path / "token.json").load()
    assert newest is not None and newest.access_token != first.access_token
    text = out.getvalue() + str(refused.value)
    assert "POST oauth2" in text or "oauth2/access_token" in text  # calls were logged
    for secret in (
        emulator.client_secret,
        code,
        first.access_token,
        first.refresh_token,
        newest.access_token,
        newest.refresh_token,
    ):
        assert secret not in text


async def test_a_refused_caller_leaves_no_error_line_and_a_crash_leaves_one(
    stack: Stack,
) -> None:
    assert (await stack.apply(WORKSPACE))["ok"]
    with captured([stack.settings.signing_secret]) as out:
        refused = await stack.gql("{ viewer { role } }", token="not-a-token")
        missing = await stack.gql(
            '{ decision(id: "999999") { id } }', token=stack.token("head", "admin")
        )
    assert refused["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert missing["errors"][0]["extensions"]["code"] in {"NOT_FOUND", "BAD_USER_INPUT"}
    errors = [
        line
        for line in map(json.loads, out.getvalue().splitlines())
        if line["level"] in {"error", "critical"}
    ]
    assert errors == []

    with captured([]) as out:
        crash = public_error(
            GraphQLError("boom", original_error=RuntimeError("disk on fire"))
        )
    assert crash.message == "Unexpected error; it has been logged."
    (line,) = [json.loads(x) for x in out.getvalue().splitlines()]
    assert line["level"] == "error"
    assert "disk on fire" in json.dumps(line)
