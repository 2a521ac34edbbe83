"""amoCRM's ways into the gateway: webhook intake, and CORS for the widget.

amoCRM waits 2 seconds for an answer and signs nothing, so a webhook is
checked only by the secret in its path, handed to the crm service to keep
(one insert), and answered at once; crm reads the entities it names from the
API later. If crm cannot keep it, the answer is 503 and amoCRM sends it again.
"""

from __future__ import annotations

import hmac
import logging

from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from leadrouter.clients import Clients
from leadrouter.config import Settings
from leadrouter.crm.v1 import crm_pb2
from leadrouter.errors import LeadrouterError
from leadrouter.ratelimit import RateLimited, RateLimits

log = logging.getLogger(__name__)

MAX_BODY = 1 << 20
HANDOVER_SECONDS = 1.5  # inside amoCRM's 2 seconds


def amocrm_routes(
    settings: Settings, clients: Clients, limits: RateLimits
) -> list[Route]:
    async def webhook(request: Request) -> Response:
        secret = str(request.path_params["secret"])
        if settings.crm != "amocrm" or not hmac.compare_digest(
            secret.encode(), settings.amocrm_hook_secret.encode()
        ):
            return PlainTextResponse("not found", 404)
        try:
            # Per intake, i.e. per account: a flood into one account's intake
            # cannot take the crm service from the others.
            limits.webhooks.take(("amocrm", settings.account))
        except RateLimited as error:
            return PlainTextResponse(
                str(error),
                429,
                headers={"Retry-After": str(error.retry_after_seconds)},
            )
        body = await request.body()
        if len(body) > MAX_BODY:
            return PlainTextResponse("too large", 413)
        try:
            await clients.crm.accept_webhook(
                crm_pb2.AcceptWebhookRequest(
                    account=settings.account, body=body.decode("utf-8", "replace")
                ),
                timeout=HANDOVER_SECONDS,
            )
        except LeadrouterError as error:
            log.warning("amoCRM webhook not kept, amoCRM will resend it: %s", error)
            return PlainTextResponse("try again later", 503)
        return PlainTextResponse("ok")

    return [Route("/webhooks/amocrm/{secret}", webhook, methods=["POST"])]


def amocrm_middleware(settings: Settings) -> list[Middleware]:
    """Lets the widget call the gateway from the account's amoCRM pages only."""
    if settings.crm != "amocrm" or not settings.amocrm_subdomain:
        return []
    sub = settings.amocrm_subdomain
    return [
        Middleware(
            CORSMiddleware,
            allow_origins=[f"https://{sub}.amocrm.ru", f"https://{sub}.kommo.com"],
            allow_methods=["GET", "POST"],
            allow_headers=["Authorization", "Content-Type", "X-Auth-Token"],
            max_age=600,
        )
    ]
