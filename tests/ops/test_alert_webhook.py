"""The alert webhook: a chat tool hears when leads start and stop waiting.

A real HTTP receiver listens on loopback and answers as it is told (a chat
tool that is down answers 503); the product runs with its clock pinned, and
each round of the alerts is called at a moment of that clock, so retries
and their backoff are minutes of the injected clock, not of waiting.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import threading
from collections import deque
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from prometheus_client import REGISTRY

from leadrouter.logs import configure_logging, secrets_of
from services.assigner.alerts import WaitingAlerts, signature
from tests.e2e.push_support import pushed, tick, tomsk
from tests.e2e.test_push import WORKSPACE
from tests.fixtures import WORKSPACE as POOL_WORKSPACE
from tests.fixtures import lead_created
from tests.stack import Stack, running_stack

ROOT = Path(__file__).resolve().parents[2]
# A chat tool's webhook: its token is in the path, as Slack's and Mattermost's.
TOKEN_PATH = "/hooks/T0CHAT/B0ALERTS/x7Qm2LpZr9VwKs4N"
SECRET = "shared-signing-secret-0123456789"


@dataclass
class Post:
    path: str
    headers: dict[str, str]
    body: bytes

    @property
    def json(self) -> dict[str, Any]:
        found: dict[str, Any] = json.loads(self.body)
        return found


@dataclass
class Receiver:
    """A chat tool's incoming webhook; answers 200 unless told otherwise."""

    server: ThreadingHTTPServer
    posts: list[Post] = field(default_factory=list)
    answers: deque[tuple[int, dict[str, str]]] = field(default_factory=deque)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}{TOKEN_PATH}"

    @property
    def texts(self) -> list[str]:
        return [p.json["text"] for p in self.posts]


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            found.posts.append(Post(self.path, dict(self.headers), body))
            status, headers = found.answers.popleft() if found.answers else (200, {})
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    found = Receiver(server)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield found
    server.shutdown()
    server.server_close()


@asynccontextmanager
async def alerted_stack(
    tmp_path: Path, receiver: Receiver, **configured: Any
) -> AsyncIterator[Stack]:
    saturday_noon = tomsk("2026-11-07T12:00")  # the weekday template is closed
    async with running_stack(
        tmp_path,
        None,
        saturday_noon,
        alert_webhook_url=receiver.url,
        alert_webhook_secret=SECRET,
        **configured,
    ) as stack:
        yield stack


@pytest.fixture
async def stack(tmp_path: Path, receiver: Receiver) -> AsyncIterator[Stack]:
    async with alerted_stack(tmp_path, receiver) as s:
        yield s


def alerts_of(stack: Stack) -> WaitingAlerts:
    alerts = getattr(stack.runners["assigner"], "alerts", None)
    assert isinstance(alerts, WaitingAlerts), "the assigner runs no alert webhook"
    return alerts


def posted(outcome: str) -> float:
    labels = {"outcome": outcome}
    return (
        REGISTRY.get_sample_value("leadrouter_alert_webhook_posts_total", labels) or 0
    )


async def seven_leads_wait_for_a_window(stack: Stack) -> None:
    assert (await stack.apply(WORKSPACE))["ok"]
    for i in range(7):
        assert (await pushed(stack, f"F{i}", "form"))["outcome"] == "held"
        stack.clock.advance(timedelta(minutes=10))


async def test_a_chat_tool_hears_once_when_leads_start_to_wait_and_once_when_they_go(
    stack: Stack, receiver: Receiver
) -> None:
    alerts = alerts_of(stack)
    await seven_leads_wait_for_a_window(stack)
    stack.clock.set(tomsk("2026-11-07T14:00"))  # F0 has waited 2 h: not over it
    await alerts.round()
    assert receiver.posts == []

    stack.clock.set(tomsk("2026-11-07T14:30"))
    await alerts.round()
    await alerts.round()  # the same news is not posted twice
    assert receiver.texts == [
        "[acme] 7 leads of group main wait for a window; the oldest for 2 h 30 min"
    ]
    post = receiver.posts[0]
    assert post.path == TOKEN_PATH
    assert post.headers["Content-Type"] == "application/json; charset=utf-8"
    assert post.headers["X-Leadrouter-Signature"] == signature(SECRET, post.body)
    message = post.json
    assert post.headers["X-Leadrouter-Delivery"] == message["id"]
    assert {k: v for k, v in message.items() if k not in ("id", "text")} == {
        "status": "firing",
        "alert": "LeadrouterLeadsWaitForAWindow",
        "severity": "info",
        "account": "acme",
        "group": "main",
        "group_name": "main",
        "leads": 7,
        "oldest_wait_seconds": 9000,
        "starts_at": "2026-11-07T07:30:00+00:00",
        "at": "2026-11-07T07:30:00+00:00",
    }

    # Monday 09:00 the window opens and the leads go out.
    stack.clock.set(tomsk("2026-11-09T09:00"))
    await tick(stack)
    await alerts.round()
    assert receiver.texts[1:] == [
        "[acme] Resolved: leads of group main no longer wait for a window"
    ]
    ended = receiver.posts[1].json
    assert (ended["status"], ended["starts_at"], ended["ends_at"]) == (
        "resolved",
        "2026-11-07T07:30:00+00:00",
        "2026-11-09T02:00:00+00:00",
    )
    assert ended["id"] != message["id"]


async def test_a_chat_tool_that_is_down_hears_it_later_after_backoff(
    stack: Stack, receiver: Receiver
) -> None:
    alerts = alerts_of(stack)
    await seven_leads_wait_for_a_window(stack)
    # Down, then asking to wait 5 minutes (as Slack does when flooded), then up.
    receiver.answers.extend([(503, {}), (429, {"Retry-After": "300"})])
    retried, delivered = posted("retried"), posted("delivered")
    stack.clock.set(tomsk("2026-11-07T14:30"))
    attempts = []
    for step in (0, 0, 29, 1, 59, 1, 239, 1, 0):
        stack.clock.advance(timedelta(seconds=step))
        await alerts.round()
        attempts.append(len(receiver.posts))
    # Tried at once; again 30 s later; then not 60 s but 5 min later, as the
    # 429 asked; and then no more.
    assert attempts == [1, 1, 1, 2, 2, 2, 2, 3, 3]
    assert len({p.body for p in receiver.posts}) == 1  # the very same message
    assert (posted("retried") - retried, posted("delivered") - delivered) == (2, 1)


async def test_messages_keep_their_order_while_the_chat_tool_is_down(
    stack: Stack, receiver: Receiver
) -> None:
    alerts = alerts_of(stack)
    await seven_leads_wait_for_a_window(stack)
    receiver.answers.extend([(502, {})] * 3)
    stack.clock.set(tomsk("2026-11-07T14:30"))
    await alerts.round()  # 502
    stack.clock.set(tomsk("2026-11-09T09:00"))
    await tick(stack)  # the leads go out while the tool is still down
    await alerts.round()  # 502: the "resolved" waits behind the "firing"
    stack.clock.advance(timedelta(minutes=2))
    await alerts.round()  # 502
    stack.clock.advance(timedelta(minutes=2))
    await alerts.round()
    assert [p.json["status"] for p in receiver.posts] == [
        "firing",
        "firing",
        "firing",
        "firing",
        "resolved",
    ]


async def test_the_url_and_the_secret_never_reach_the_logs(
    stack: Stack, receiver: Receiver, capfd: pytest.CaptureFixture[str]
) -> None:
    """The logs as a service process writes them, and every raw record too."""
    records: list[str] = []

    class Raw(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(self.format(record))

    root = logging.getLogger()
    saved = (root.handlers[:], root.level)
    configure_logging("assigner", logging.DEBUG, secrets_of(stack.settings))
    root.addHandler(Raw())
    try:
        alerts = alerts_of(stack)
        await seven_leads_wait_for_a_window(stack)
        receiver.answers.extend([(500, {}), (404, {})])
        stack.clock.set(tomsk("2026-11-07T14:30"))
        await alerts.round()  # 500: retried
        stack.clock.advance(timedelta(seconds=30))
        await alerts.round()  # 404: refused for good
        receiver.server.shutdown()  # and then the tool is gone altogether
        receiver.server.server_close()
        stack.clock.set(tomsk("2026-11-09T09:00"))
        await tick(stack)
        await alerts.round()
    finally:
        root.handlers[:], root.level = saved
    written = capfd.readouterr().err
    lines = [json.loads(line) for line in written.splitlines() if line.startswith("{")]
    said = [line["message"] for line in lines if line["logger"].endswith("alerts")]
    host = receiver.url.removesuffix(TOKEN_PATH)
    assert said == [
        f"alert webhook {host}: HTTP 500 for message {receiver.posts[0].json['id']};"
        " trying again in 30 s",
        f"alert webhook {host} refused message {receiver.posts[0].json['id']} with "
        "HTTP 404; check LEADROUTER_ALERT_WEBHOOK_URL",
        f"alert webhook {host}: no answer (ConnectError) for message "
        f"{_resolved_id(alerts)}; trying again in 30 s",
    ]
    for text in (written, "\n".join(records)):
        assert TOKEN_PATH.rsplit("/", 1)[1] not in text
        assert SECRET not in text
        assert "T0CHAT" not in text


def _resolved_id(alerts: WaitingAlerts) -> str:
    (waiting,) = alerts.webhook.queue
    found: str = json.loads(waiting.body)["id"]
    return found


async def test_the_pool_nobody_may_take_from_is_posted_in_russian(
    tmp_path: Path, receiver: Receiver
) -> None:
    async with alerted_stack(tmp_path, receiver, alert_webhook_language="ru") as stack:
        closed = POOL_WORKSPACE.replace(
            "{user: ursula}", "{user: ursula, enabled: false}"
        )
        closed = closed.replace("{user: nadezhda}", "{user: nadezhda, enabled: false}")
        closed = closed.replace("limits: {max_active: 2}}", "enabled: false}")
        assert (await stack.apply(closed))["ok"]
        now = stack.clock.now()
        await stack.import_history(
            [
                lead_created(f"P{i}", now - timedelta(days=2, minutes=i))
                for i in range(2)
            ]
        )
        alerts = alerts_of(stack)
        await alerts.waiting.pools()  # the look the metrics take every 30 s
        await alerts.round()  # stuck from now on
        stack.clock.advance(timedelta(minutes=14))
        await alerts.round()
        assert receiver.posts == []
        stack.clock.advance(timedelta(minutes=1))
        await alerts.round()
        assert receiver.texts == [
            "[acme] В очереди группы «main» 2 заявки, и сейчас никто не может "
            "взять ни одной"
        ]
        message = receiver.posts[0].json
        assert (message["alert"], message["severity"], message["leads"]) == (
            "LeadrouterPoolNobodyMayTake",
            "warning",
            2,
        )
        assert "oldest_wait_seconds" not in message

        # Ursula is let back in: she may take one, and the channel hears it.
        assert (await stack.apply(closed.replace("ursula, enabled: false", "ursula")))[
            "ok"
        ]
        stack.clock.advance(timedelta(minutes=1))
        await alerts.round()
        assert receiver.texts[1:] == [
            "[acme] Решено: в очереди группы «main» больше нет заявок, которые "
            "никто не может взять"
        ]


def test_a_bad_webhook_setting_stops_the_service_with_what_is_wrong(
    tmp_path: Path,
) -> None:
    env = {
        **os.environ,
        "LEADROUTER_DATA_DIR": str(tmp_path),
        "LEADROUTER_ALERT_WEBHOOK_URL": f"ftp://chat.example.com{TOKEN_PATH}",
        "LEADROUTER_ALERT_WEBHOOK_SECRET": "short",
        "LEADROUTER_ALERT_WEBHOOK_LANGUAGE": "de",
    }
    run = subprocess.run(
        [sys.executable, "-m", "leadrouter.serve", "assigner"],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert run.returncode == 1
    assert run.stderr.strip() == (
        "configuration: LEADROUTER_ALERT_WEBHOOK_URL: must be an http:// or "
        "https:// URL with a host, such as https://chat.example.com/hooks/...; "
        "LEADROUTER_ALERT_WEBHOOK_LANGUAGE: must be en or ru"
    )
    assert "x7Qm2LpZr9VwKs4N" not in run.stdout + run.stderr


@pytest.mark.parametrize(
    ("configured", "said"),
    [
        (
            {"LEADROUTER_ALERT_WEBHOOK_URL": "https://:443/hooks"},
            "LEADROUTER_ALERT_WEBHOOK_URL: must be an http:// or https:// URL "
            "with a host, such as https://chat.example.com/hooks/...",
        ),
        (
            {"LEADROUTER_ALERT_WEBHOOK_SECRET": SECRET},
            "LEADROUTER_ALERT_WEBHOOK_SECRET is set, but LEADROUTER_ALERT_WEBHOOK_URL "
            "is not: set the URL the alerts go to",
        ),
        (
            {
                "LEADROUTER_ALERT_WEBHOOK_URL": "https://chat.example.com/h",
                "LEADROUTER_ALERT_WEBHOOK_SECRET": "short",
            },
            "LEADROUTER_ALERT_WEBHOOK_SECRET must be at least 16 characters long; "
            "a shorter one is guessable",
        ),
    ],
)
def test_each_bad_webhook_setting_is_named(
    monkeypatch: pytest.MonkeyPatch, configured: dict[str, str], said: str
) -> None:
    from leadrouter.config import load_settings

    for name, value in configured.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(SystemExit) as stopped:
        load_settings()
    assert str(stopped.value) == f"configuration: {said}"
