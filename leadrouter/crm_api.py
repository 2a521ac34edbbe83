"""Spans and metrics for requests to the external CRM's HTTP API (amoCRM).

Apart from leadrouter.telemetry so that processes that never call the CRM
do not import httpx.
"""

from __future__ import annotations

import httpx
from opentelemetry.trace import SpanKind, Status, StatusCode

from leadrouter import metrics
from leadrouter.telemetry import tracer


class CrmApiTransport(httpx.AsyncBaseTransport):
    """An httpx transport for the external CRM: a span and a count per request."""

    def __init__(self, inner: httpx.AsyncBaseTransport | None = None) -> None:
        self.inner = inner or httpx.AsyncHTTPTransport()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        # '/api/v4/leads/123/notes' -> 'GET leads': ids would explode the labels.
        parts = [p for p in request.url.path.split("/") if p and not p.isdigit()]
        resource = parts[2] if len(parts) > 2 and parts[0] == "api" else "/".join(parts)
        method = f"{request.method} {resource}"
        with tracer.start_as_current_span(
            f"crm api {method}",
            kind=SpanKind.CLIENT,
            attributes={
                "http.request.method": request.method,
                "url.path": request.url.path,
                "server.address": request.url.host,
            },
        ) as span:
            try:
                response = await self.inner.handle_async_request(request)
            except httpx.TransportError:
                metrics.crm_api_called(method, None)
                raise
            span.set_attribute("http.response.status_code", response.status_code)
            if response.status_code >= 400:
                span.set_status(Status(StatusCode.ERROR, str(response.status_code)))
            metrics.crm_api_called(method, response.status_code)
            return response

    async def aclose(self) -> None:
        await self.inner.aclose()
