"""Spans of the gateway: OpenTelemetry's ASGI span per HTTP request, and one
span per GraphQL operation (never per field) inside it.

The ASGI instrumentation continues an incoming `traceparent`. Subscriptions
over a websocket are not wrapped (a socket's span would last as long as the
socket): their operations' spans continue the upgrade request's headers.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

from graphql import FieldNode, OperationDefinitionNode
from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.instrumentation.asgi import OpenTelemetryMiddleware
from opentelemetry.trace import SpanKind, Status, StatusCode
from starlette.types import ASGIApp, Receive, Scope, Send
from strawberry.extensions import SchemaExtension

from leadrouter import metrics
from leadrouter.telemetry import current_account, extract_context, tracer

# Error codes that mean the product failed, not the caller.
_FAULTS = {"UNAVAILABLE", "INTERNAL_SERVER_ERROR"}


class TracedOperation(SchemaExtension):
    """The span `graphql <type> <name>`, inside the request's HTTP span."""

    def on_operation(self) -> Iterator[None]:
        inside_http = trace.get_current_span().is_recording()
        if inside_http:
            parent = otel_context.get_current()
        else:
            request = getattr(self.execution_context.context, "request", None)
            headers: Any = getattr(request, "headers", None) or {}
            parent = extract_context(headers)
        span = tracer.start_span(
            "graphql operation",
            context=parent,
            kind=SpanKind.INTERNAL if inside_http else SpanKind.SERVER,
            attributes={"leadrouter.service": "gateway"},
        )
        caller = getattr(self.execution_context.context, "caller", None)
        account = getattr(caller, "account", "") or ""
        if account:
            span.set_attribute("leadrouter.account", account)
        attached = otel_context.attach(trace.set_span_in_context(span, parent))
        account_token = current_account.set(account)
        started = time.perf_counter()
        try:
            yield
        finally:
            kind, name = self._describe()
            span.update_name(f"graphql {kind} {name}".rstrip())
            span.set_attribute("graphql.operation.type", kind)
            span.set_attribute("graphql.operation.name", name)
            failed = self._failed()
            if failed:
                span.set_status(Status(StatusCode.ERROR, "operation failed"))
            metrics.GRAPHQL_OPERATIONS.labels(
                kind or "invalid", "failed" if failed else "ok"
            ).observe(time.perf_counter() - started)
            current_account.reset(account_token)
            otel_context.detach(attached)
            span.end()

    def _describe(self) -> tuple[str, str]:
        """The operation's type and name (its first root field when unnamed)."""
        ctx = self.execution_context
        if ctx.graphql_document is None:
            return "", ""
        try:
            kind = ctx.operation_type.value
        except RuntimeError:
            return "", ""
        if ctx.operation_name:
            return kind, ctx.operation_name
        for definition in ctx.graphql_document.definitions:
            if isinstance(definition, OperationDefinitionNode):
                for selection in definition.selection_set.selections:
                    if isinstance(selection, FieldNode):
                        return kind, selection.name.value
        return kind, ""

    def _failed(self) -> bool:
        result = self.execution_context.result
        errors = (result.errors or []) if result is not None else []
        return any((e.extensions or {}).get("code") in _FAULTS for e in errors)


# Requests that are plumbing, not product work: probes and scrapes.
_UNTRACED_PATHS = "/healthz,/readyz,/metrics,/static/.*"


def _mark_gateway(span: trace.Span, _scope: dict[str, Any]) -> None:
    if span.is_recording():
        span.set_attribute("leadrouter.service", "gateway")


class HttpTraces:
    """OpenTelemetry's ASGI middleware for HTTP requests (not websockets)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.traced = OpenTelemetryMiddleware(
            app,
            excluded_urls=_UNTRACED_PATHS,
            exclude_spans=["receive", "send"],
            server_request_hook=_mark_gateway,
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            await self.traced(scope, receive, send)
        else:
            await self.app(scope, receive, send)
