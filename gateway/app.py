"""The gateway: GraphQL over HTTP and WebSocket, auth, health, and the web UI."""

from __future__ import annotations

import contextlib
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL

from gateway.context import Context
from gateway.events import event_routes
from gateway.exports import export_routes
from gateway.http import ALL_METHODS, graphql_over_http
from gateway.language import RequestLanguage
from gateway.request_size import RequestSizeLimit
from gateway.schema import schema
from gateway.schema.subscriptions import authenticate_connection
from gateway.tracing import HttpTraces
from gateway.web import web_routes
from gateway.webhooks import amocrm_middleware, amocrm_routes
from leadrouter import messages
from leadrouter.amocrm_token import SpentTokens, widget_caller
from leadrouter.auth import Caller, verify_token
from leadrouter.clients import Clients
from leadrouter.clock import Clock, SystemClock
from leadrouter.config import SERVICES, Settings
from leadrouter.crm.v1 import crm_pb2
from leadrouter.errors import LeadrouterError, Unauthenticated
from leadrouter.metrics import exposition
from leadrouter.ratelimit import RateLimits
from leadrouter.rpc import wait_for_health
from leadrouter.timestamps import optional_ts


def bearer(headers: Any) -> str | None:
    value = headers.get("authorization") or ""
    scheme, _, token = value.partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


# GraphiQL from the gateway's own copies of its scripts (static/vendor/graphiql),
# not strawberry's page, which loads them from a CDN: the IDE works offline.
GRAPHIQL_PAGE = Path(__file__).resolve().parent / "web" / "graphiql.html"


class GatewayGraphQL(GraphQL[Context, None]):
    @property
    def graphql_ide_html(self) -> str:
        return GRAPHIQL_PAGE.read_text(encoding="utf-8")

    def __init__(self, settings: Settings, clients: Clients, clock: Clock) -> None:
        super().__init__(schema, graphql_ide="graphiql")
        self.settings = settings
        self.clients = clients
        self.clock = clock
        self.rate_limits = RateLimits(settings, clock)
        # Widget tokens are single-use: a copied one opens no second session.
        self.spent_widget_tokens = SpentTokens()

    def decode_json(self, data: str | bytes) -> object:
        try:
            return super().decode_json(data)
        except RecursionError as error:
            # JSON nested past the decoder's depth is bad input, not a crash.
            raise json.JSONDecodeError("nested too deeply", "", 0) from error

    def authenticate(self, headers: Any) -> tuple[Caller | None, str]:
        widget = widget_caller(
            self.settings, headers, self.clock.now(), self.spent_widget_tokens
        )
        if widget is not None:  # amoCRM widget: X-Auth-Token
            return widget
        token = bearer(headers)
        if token is None:
            return None, ""
        try:
            return verify_token(
                self.settings.signing_secret, token, self.clock.now()
            ), ""
        except Unauthenticated as error:
            return None, str(error)

    async def get_context(
        self, request: Request | WebSocket, response: Response | WebSocket | None
    ) -> Context:
        caller, problem = self.authenticate(request.headers)
        return Context(
            settings=self.settings,
            clients=self.clients,
            clock=self.clock,
            caller=caller,
            auth_error=problem,
            request=request,
            response=response,
            rate_limits=self.rate_limits,
        )

    async def on_ws_connect(self, context: Context) -> None:
        await authenticate_connection(context, self.authenticate)


async def amocrm_health(clients: Clients, account: str) -> str:
    try:
        msg = await clients.crm.get_connection(
            crm_pb2.GetConnectionRequest(account=account), timeout=1.0
        )
    except LeadrouterError as error:
        return f"amoCRM state unknown: {error}"
    return messages.amocrm_health(
        block=msg.block,
        next_attempt=optional_ts(msg, "next_attempt_at"),
        waiting=msg.waiting_writes,
        synced=msg.synced,
        progress=msg.sync_progress,
        webhook=msg.webhook,
    )


def create_app(
    settings: Settings | None = None,
    clients: Clients | None = None,
    clock: Clock | None = None,
) -> Starlette:
    settings = settings or Settings()
    clients = clients or Clients.from_settings(settings)
    clock = clock or SystemClock()
    graphql = GatewayGraphQL(settings, clients, clock)

    async def healthz(_: Request) -> Response:
        return JSONResponse({"status": "ok"})

    async def readyz(_: Request) -> Response:
        down = []
        for service in SERVICES:
            for address in clients.addresses[service]:
                try:
                    await wait_for_health(address, timeout=1.0)
                except TimeoutError:
                    down.append(service)
        status = 503 if down else 200
        body: dict[str, Any] = {"ready": not down, "down": down}
        if settings.crm == "amocrm" and "crm" not in down:
            # amoCRM refusing the account does not make this service unready:
            # changes wait and go later. The line says so to whoever looks.
            body["amocrm"] = await amocrm_health(clients, settings.account)
        return JSONResponse(body, status_code=status)

    async def metrics(_: Request) -> Response:
        body, content_type = exposition()
        return Response(body, media_type=content_type)

    @contextlib.asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        yield
        await clients.close()

    return Starlette(
        routes=[
            # Every method, so that each one this endpoint does not serve is
            # answered as GraphQL over HTTP asks (405 with Allow), in words.
            Route("/graphql", graphql_over_http(graphql), methods=ALL_METHODS),
            WebSocketRoute("/graphql", graphql),
            Route("/healthz", healthz),
            Route("/readyz", readyz),
            Route("/metrics", metrics),
            *export_routes(settings, clients, clock, graphql.authenticate),
            *event_routes(settings, clients, clock, graphql.authenticate),
            *amocrm_routes(settings, clients, graphql.rate_limits),
            *web_routes(settings, clock, graphql.authenticate),
        ],
        middleware=[
            Middleware(HttpTraces),
            *amocrm_middleware(settings),
            Middleware(RequestLanguage),
            Middleware(RequestSizeLimit),
        ],
        lifespan=lifespan,
    )
