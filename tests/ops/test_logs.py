"""Logs: one JSON object a line, with service, trace and account, and no secrets."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from datetime import timedelta

import pytest

from leadrouter.auth import issue_token
from leadrouter.logs import JsonFormatter, Redactor
from tests.e2e.test_claim import CLAIM
from tests.fixtures import WORKSPACE, lead_created
from tests.stack import Stack


@pytest.fixture
def log_lines(stack: Stack) -> Iterator[io.StringIO]:
    """What the process logs, as `configure_logging` formats it, at DEBUG."""
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.setFormatter(
        JsonFormatter("test", Redactor([stack.settings.signing_secret]))
    )
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    try:
        yield out
    finally:
        root.removeHandler(handler)
        root.setLevel(level)


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
    assert {"limits.v1.Limits/GetEligibility", "crm.v1.Crm/TakePoolLead"} <= {
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
