"""Spans and metrics for requests to the external CRM's HTTP API (amoCRM).

Apart from leadrouter.telemetry so that processes that never call the CRM
do not import httpx. The spans are OpenTelemetry's httpx instrumentation;
the transport adds the count per resource.
"""

from __future__ import annotations

import httpx
from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor

from leadrouter import metrics
from leadrouter.telemetry import InsideTracesProvider


def crm_api_client(timeout: httpx.Timeout) -> httpx.AsyncClient:
    """The client for the CRM's API: a span (inside a trace) and a count per request."""
    client = httpx.AsyncClient(timeout=timeout, transport=CrmApiTransport())
    HTTPXClientInstrumentor.instrument_client(
        client, tracer_provider=InsideTracesProvider()
    )
    return client


class CrmApiTransport(httpx.AsyncBaseTransport):
    """An httpx transport for the external CRM: a count per request."""

    def __init__(self, inner: httpx.AsyncBaseTransport | None = None) -> None:
        self.inner = inner or httpx.AsyncHTTPTransport()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        # '/api/v4/leads/123/notes' -> 'GET leads': ids would explode the labels.
        parts = [p for p in request.url.path.split("/") if p and not p.isdigit()]
        resource = parts[2] if len(parts) > 2 and parts[0] == "api" else "/".join(parts)
        method = f"{request.method} {resource}"
        try:
            response = await self.inner.handle_async_request(request)
        except httpx.TransportError:
            metrics.crm_api_called(method, None)
            raise
        metrics.crm_api_called(method, response.status_code)
        return response

    async def aclose(self) -> None:
        await self.inner.aclose()
