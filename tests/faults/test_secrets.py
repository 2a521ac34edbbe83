"""Secrets come from configuration and leave through no log line and no answer.

The product runs in amoCRM mode against the emulator, its logs captured as
it writes them (JSON lines, leadrouter/logs.py). Requests fail in the ways a
careless or hostile caller makes them fail, amoCRM takes its credentials
back, and a flood of webhooks meets the intake's rate limit; then no line
and no body may hold the signing secret, the webhook secret, the amoCRM
client secret, the authorization code or any token amoCRM issued.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from gateway.__main__ import secrets_to_redact
from leadrouter.amocrm_token import issue_widget_token
from leadrouter.auth import issue_token
from leadrouter.clock import FixedClock
from leadrouter.config import SERVICES, Settings
from leadrouter.logs import REDACTED, JsonFormatter, Redactor
from services.crm.amocrm.emulator import AmoEmulator
from tests.amocrm.conftest import clock, emulator
from tests.amocrm.harness import CLAIM, AmoStack, eventually, running_amo_stack
from tests.amocrm.test_e2e import WORKSPACE
from tests.processes import ProcessStack

__all__ = ["clock", "emulator"]  # the amoCRM tests' fixtures, used here too

EMULATED_LEADS = 10
WEBHOOK_BURST = 5
NOISY = ("httpx", "httpcore", "grpc")


class Kept(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture
def logs() -> Iterator[Kept]:
    """Every record the product logs from its start, at every level."""
    root = logging.getLogger()
    level = root.level
    kept = Kept()
    root.addHandler(kept)
    root.setLevel(logging.DEBUG)
    # As configure_logging quiets them; the test's own HTTP client and the
    # emulator's log their requests through httpx too.
    quiet = {name: logging.getLogger(name).level for name in NOISY}
    for name in NOISY:
        logging.getLogger(name).setLevel(logging.WARNING)
    try:
        yield kept
    finally:
        root.removeHandler(kept)
        root.setLevel(level)
        for name, was in quiet.items():
            logging.getLogger(name).setLevel(was)


def as_written(records: list[logging.LogRecord], settings: Settings) -> list[str]:
    """The lines the product writes for these records: its formatter, its secrets."""
    formatter = JsonFormatter("leadrouter", Redactor(secrets_to_redact(settings)))
    return [formatter.format(r) for r in records]


@pytest.fixture
async def amo(
    emulator: AmoEmulator,
    clock: FixedClock,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    logs: Kept,
) -> AsyncIterator[AmoStack]:
    async with running_amo_stack(
        emulator,
        clock,
        tmp_path,
        monkeypatch,
        WORKSPACE,
        WEBHOOK_BURST=str(WEBHOOK_BURST),
        WEBHOOK_RATE_PER_SECOND="1",
    ) as stack:
        yield stack


async def test_no_secret_reaches_a_log_line_or_an_answer(
    amo: AmoStack, logs: Kept
) -> None:
    emulator, settings = amo.emulator, amo.stack.settings
    bodies: list[str] = []
    async with httpx.AsyncClient(base_url=amo.gateway_url, timeout=30) as http:

        async def graphql(headers: dict[str, str]) -> str:
            reply = await http.post(
                "/graphql", json={"query": CLAIM, "variables": {}}, headers=headers
            )
            bodies.append(reply.text)
            return str(reply.json()["errors"][0]["extensions"]["code"])

        # Tokens that are not ours, or not tokens at all.
        forged = issue_token(
            "a-key-that-is-not-the-signing-secret-at-all",
            account="acme",
            user_id="5002",
            role="admin",
            now=amo.clock.now(),
            ttl=timedelta(hours=1),
        )
        wrong_audience = issue_widget_token(
            secret=settings.amocrm_client_secret,
            audience="https://elsewhere.example/oauth",
            account_id=emulator.account_id,
            user_id=5002,
            subdomain=emulator.subdomain,
            now=amo.clock.now(),
        )
        for headers in (
            {"Authorization": f"Bearer {forged}"},
            {"Authorization": f"Bearer {settings.signing_secret}"},
            {"Authorization": "Bearer not-a-token"},
            {"X-Auth-Token": wrong_audience},
            {"X-Auth-Token": settings.amocrm_client_secret},
        ):
            assert await graphql(headers) == "UNAUTHENTICATED"

        # Webhooks: a guessed secret, then one account's intake flooded.
        guessed = await http.post(f"/webhooks/amocrm/{settings.signing_secret}")
        assert guessed.status_code == 404
        hook = f"/webhooks/amocrm/{amo.hook_secret}"
        statuses = []
        for _ in range(WEBHOOK_BURST + 2):
            reply = await http.post(hook, content="account[subdomain]=emulated")
            statuses.append(reply.status_code)
            bodies.append(reply.text)
        assert statuses == [200] * WEBHOOK_BURST + [429, 429]
        assert reply.headers["retry-after"] == "1"
        # The flood stops no manager: a press still gets a lead.
        assert (await amo.claim("5002", "during-flood"))["__typename"] == "Claimed"
        # The bucket refills with time (the emulator's own webhooks for that
        # claim take from it too).
        amo.clock.advance(timedelta(seconds=2 * WEBHOOK_BURST))
        assert (await http.post(hook, content="x=1")).status_code == 200

        # amoCRM takes its credentials back: writes fail until someone
        # authorizes the integration again.
        issued = [*emulator._access, *emulator._refresh]
        emulator.revoke_access_tokens()
        emulator._refresh.clear()
        mark = len(emulator.log)
        claimed = await amo.claim("5003", "after-revocation")
        assert claimed["__typename"] == "Claimed"
        # The failure is logged (so there is something to leak) …
        await eventually(
            lambda: (
                any(
                    r.path == "/oauth2/access_token" and r.status == 400
                    for r in emulator.log[mark:]
                )
                and any(
                    "Token has been revoked" in r.getMessage() for r in logs.records
                )
            ),
            meanwhile=lambda: amo.clock.advance(timedelta(seconds=5)),
        )
        await emulator.settle()

    lines = as_written(logs.records, settings)
    # … and not one secret with them.
    secrets = {
        "signing secret": settings.signing_secret,
        "webhook secret": amo.hook_secret,
        "amoCRM client secret": settings.amocrm_client_secret,
        "amoCRM authorization code": settings.amocrm_auth_code,
        **{f"amoCRM token {i}": token for i, token in enumerate(issued)},
        "forged token": forged,
        "widget token": wrong_audience,
    }
    for name, secret in secrets.items():
        assert len(secret) >= 16, name
        leaks = [line for line in [*lines, *bodies] if secret in line]
        assert not leaks, f"the {name} leaked: {leaks[:3]}"
    redacted = sum(REDACTED in line for line in lines)
    print(
        f"\n{len(lines)} log lines and {len(bodies)} answers hold no secret "
        f"({redacted} lines had one redacted)"
    )


def test_the_gateway_process_log_shows_no_secret_of_a_request(
    fault_stack: ProcessStack, http: httpx.Client
) -> None:
    """The running gateway logs each request's path (uvicorn's access log)."""
    settings = fault_stack.settings
    hook = f"/webhooks/amocrm/{settings.amocrm_hook_secret}"
    assert http.post(hook, content="x=1").status_code == 404  # not amoCRM mode
    forged = issue_token(
        "a-key-that-is-not-the-signing-secret-at-all",
        account="acme",
        user_id="ursula",
        role="admin",
        now=datetime.now(UTC),
        ttl=timedelta(hours=1),
    )
    for bad in (forged, settings.signing_secret):
        reply = http.post(
            "/graphql",
            json={"query": "{ viewer { role } }"},
            headers={"Authorization": f"Bearer {bad}"},
        )
        assert reply.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
        assert bad not in reply.text
    gateway = fault_stack.log("gateway")
    assert f"POST /webhooks/amocrm/{REDACTED} HTTP/1.1" in gateway
    for name in ("gateway", *SERVICES):
        log = fault_stack.log(name)
        for secret in (settings.amocrm_hook_secret, settings.signing_secret, forged):
            assert secret not in log, f"a secret in the {name} log"
