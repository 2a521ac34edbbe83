"""amoCRM's webhook intake at the gateway: checked by its path's secret, handed to
the crm in one call, answered inside amoCRM's two seconds."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import cast

from starlette.applications import Starlette

from gateway.webhooks import HANDOVER_SECONDS, amocrm_middleware, amocrm_routes
from leadrouter.clients import Clients
from leadrouter.clock import FixedClock
from leadrouter.config import Settings
from leadrouter.crm.v1 import crm_pb2
from leadrouter.errors import Unavailable
from leadrouter.ratelimit import RateLimits
from tests.unit.gateway.asgi import call

SECRET = "hook-secret-0123456789abcdef"
BODY = "leads[status][0][id]=25399013&leads[status][0][status_id]=142"


@dataclass
class FakeCrm:
    down: bool = False
    kept: list[tuple[crm_pb2.AcceptWebhookRequest, float | None]] = field(
        default_factory=list
    )

    async def accept_webhook(
        self, request: crm_pb2.AcceptWebhookRequest, timeout: float | None = None
    ) -> crm_pb2.AcceptWebhookResponse:
        if self.down:
            raise Unavailable("the crm service is not answering")
        self.kept.append((request, timeout))
        return crm_pb2.AcceptWebhookResponse()


@dataclass
class FakeClients:
    crm: FakeCrm = field(default_factory=FakeCrm)


def _settings(tmp_path: Path, **changes: object) -> Settings:
    values: dict[str, object] = {
        "crm": "amocrm",
        "amocrm_subdomain": "acme",
        "amocrm_webhook_secret": SECRET,
        "data_dir": tmp_path,
        "webhook_burst": 2,
        "webhook_rate_per_second": 1.0,
        **changes,
    }
    return Settings(**values)  # type: ignore[arg-type]


def _intake(settings: Settings) -> tuple[Starlette, FakeCrm]:
    clients = FakeClients()
    limits = RateLimits(settings, FixedClock(datetime(2026, 11, 2, tzinfo=UTC)))
    routes = amocrm_routes(settings, cast(Clients, clients), limits)
    return Starlette(routes=routes), clients.crm


async def _post(
    app: Starlette, secret: str = SECRET
) -> tuple[int, str, dict[str, str]]:
    reply = await call(
        app,
        "POST",
        f"/webhooks/amocrm/{secret}",
        content=BODY,
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    return reply.status_code, reply.text, dict(reply.headers)


async def test_a_webhook_with_the_secret_is_handed_to_the_crm_at_once(
    tmp_path: Path,
) -> None:
    app, crm = _intake(_settings(tmp_path))
    status, text, _headers = await _post(app)
    assert (status, text) == (200, "ok")
    ((request, timeout),) = crm.kept
    assert request.account == "acme"
    assert request.body == BODY
    assert timeout == HANDOVER_SECONDS < 2


async def test_a_wrong_secret_answers_404_and_keeps_nothing(tmp_path: Path) -> None:
    app, crm = _intake(_settings(tmp_path))
    assert (await _post(app, secret="guess"))[:2] == (404, "not found")
    assert crm.kept == []


async def test_without_amocrm_mode_there_is_no_intake(tmp_path: Path) -> None:
    app, crm = _intake(_settings(tmp_path, crm="builtin"))
    assert (await _post(app))[0] == 404
    assert crm.kept == []


async def test_a_crm_that_cannot_keep_it_answers_503_so_amocrm_sends_again(
    tmp_path: Path,
) -> None:
    app, crm = _intake(_settings(tmp_path))
    crm.down = True
    assert (await _post(app))[:2] == (503, "try again later")


async def test_a_flood_is_refused_with_when_to_send_again(tmp_path: Path) -> None:
    app, crm = _intake(_settings(tmp_path))
    assert (await _post(app))[0] == 200
    assert (await _post(app))[0] == 200
    status, text, headers = await _post(app)
    assert status == 429
    assert headers["retry-after"] == "1"
    assert "too many webhooks" in text
    assert len(crm.kept) == 2


def test_the_widget_may_call_from_the_accounts_amocrm_pages_only(
    tmp_path: Path,
) -> None:
    (cors,) = amocrm_middleware(_settings(tmp_path))
    assert cors.kwargs["allow_origins"] == [
        "https://acme.amocrm.ru",
        "https://acme.kommo.com",
    ]
    assert amocrm_middleware(_settings(tmp_path, crm="builtin")) == []
