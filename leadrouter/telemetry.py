"""Tracing: W3C context through every gRPC hop, spans for RPCs and database work.

Instrumentation speaks only the OpenTelemetry API, so it costs next to nothing
until `setup_tracing` installs the SDK (with OTLP export when an endpoint is
set). Only unary RPCs get spans: the streaming RPCs are long-lived
subscriptions, and a span that never ends would hold its whole trace open.
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
import time
from collections.abc import Awaitable, Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import grpc
from opentelemetry import context as otel_context
from opentelemetry import propagate, trace
from opentelemetry.propagators.textmap import Setter
from opentelemetry.trace import SpanKind, Status, StatusCode

from leadrouter import i18n, metrics

log = logging.getLogger(__name__)
tracer = trace.get_tracer("leadrouter")

# The account the current request acts for; logs carry it on every line.
current_account: contextvars.ContextVar[str] = contextvars.ContextVar(
    "current_account", default=""
)
# gRPC services whose calls are plumbing, not product work: no spans, no metrics.
_UNTRACED_PREFIXES = ("/grpc.health.", "/grpc.reflection.")
# gRPC codes that mean the server failed (OpenTelemetry's rule for server spans).
_SERVER_FAULTS = {
    grpc.StatusCode.UNKNOWN,
    grpc.StatusCode.DEADLINE_EXCEEDED,
    grpc.StatusCode.UNIMPLEMENTED,
    grpc.StatusCode.INTERNAL,
    grpc.StatusCode.UNAVAILABLE,
    grpc.StatusCode.DATA_LOSS,
}


def current_trace_id() -> str:
    """The W3C trace id of the request being served, or '' outside a trace."""
    context = trace.get_current_span().get_span_context()
    return format(context.trace_id, "032x") if context.is_valid else ""


def setup_tracing(service: str, settings: Any) -> trace.TracerProvider:
    """Installs the SDK for this process: its service name, sampling and export.

    Spans go to the OTLP endpoint in LEADROUTER_OTLP_ENDPOINT when it is set;
    without one they are still made (so decisions keep their trace ids) but
    nothing is sent anywhere.
    """
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor
    from opentelemetry.sdk.trace.sampling import ParentBased, TraceIdRatioBased

    provider = TracerProvider(
        resource=Resource.create(
            {"service.name": service, "service.namespace": "leadrouter"}
        ),
        sampler=ParentBased(TraceIdRatioBased(settings.trace_sample_ratio)),
    )
    if settings.otlp_endpoint:
        from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import (
            OTLPSpanExporter,
        )

        provider.add_span_processor(
            BatchSpanProcessor(
                OTLPSpanExporter(endpoint=settings.otlp_endpoint, insecure=True)
            )
        )
        log.info("exporting traces to %s", settings.otlp_endpoint)
    trace.set_tracer_provider(provider)
    return provider


def shutdown_tracing() -> None:
    """Sends the spans still buffered; call it once when the process stops."""
    provider = trace.get_tracer_provider()
    shutdown = getattr(provider, "shutdown", None)
    if shutdown is not None:
        shutdown()


def _service_of(method: str) -> tuple[str, str]:
    """'/leadrouter.limits.v1.Limits/GetEligibility' -> ('limits', 'GetEligibility')."""
    full, _, name = method.lstrip("/").partition("/")
    package = full.split(".")
    service = package[1] if len(package) > 2 else full
    return service, name


class _MetadataSetter(Setter[list[tuple[str, str]]]):
    def set(self, carrier: list[tuple[str, str]], key: str, value: str) -> None:
        carrier.append((key, value))


class TracingServerInterceptor(grpc.aio.ServerInterceptor):
    """A server span per unary RPC, child of the caller's W3C context."""

    def __init__(self, service: str) -> None:
        self.service = service

    async def intercept_service(
        self,
        continuation: Callable[
            [grpc.HandlerCallDetails], Awaitable[grpc.RpcMethodHandler]
        ],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler:
        handler = await continuation(handler_call_details)
        method: str = handler_call_details.method
        if (
            handler is None
            or handler.unary_unary is None
            or method.startswith(_UNTRACED_PREFIXES)
        ):
            return handler
        metadata = handler_call_details.invocation_metadata
        carrier = {k: v for k, v in metadata or () if isinstance(v, str)}
        parent = propagate.extract(carrier)
        behavior = handler.unary_unary
        service, name = _service_of(method)
        span_name = method.lstrip("/")

        async def traced(
            request: Any, context: grpc.aio.ServicerContext[Any, Any]
        ) -> Any:
            account = getattr(request, "account", "")
            token = current_account.set(account if isinstance(account, str) else "")
            # The caller's language: the messages this call raises speak it.
            said = i18n.set_language(carrier.get(i18n.METADATA_KEY, i18n.SOURCE))
            started = time.perf_counter()
            with tracer.start_as_current_span(
                span_name,
                context=parent,
                kind=SpanKind.SERVER,
                record_exception=False,
                set_status_on_exception=False,
                attributes={
                    "rpc.system": "grpc",
                    "rpc.service": method.lstrip("/").partition("/")[0],
                    "rpc.method": name,
                    "leadrouter.service": self.service,
                    "leadrouter.account": current_account.get(),
                },
            ) as span:
                code = grpc.StatusCode.OK
                try:
                    return await behavior(request, context)
                except asyncio.CancelledError:  # the caller gave up or hung up
                    code = grpc.StatusCode.CANCELLED
                    raise
                except BaseException:
                    code = context.code() or grpc.StatusCode.UNKNOWN
                    raise
                finally:
                    span.set_attribute("rpc.grpc.status_code", code.value[0])
                    if code in _SERVER_FAULTS:
                        span.set_status(Status(StatusCode.ERROR, code.name))
                    seconds = time.perf_counter() - started
                    metrics.rpc_served(service, name, code.name, seconds)
                    log.info(
                        "rpc %s %s in %.1f ms",
                        span_name,
                        code.name,
                        seconds * 1000,
                    )
                    current_account.reset(token)
                    i18n.restore(said)

        return grpc.unary_unary_rpc_method_handler(
            traced,
            request_deserializer=handler.request_deserializer,
            response_serializer=handler.response_serializer,
        )


class TracingClientInterceptor(grpc.aio.UnaryUnaryClientInterceptor):
    """A client span per unary call; its W3C context travels in the metadata."""

    async def intercept_unary_unary(
        self,
        continuation: Callable[..., Any],
        client_call_details: grpc.aio.ClientCallDetails,
        request: Any,
    ) -> Any:
        raw = client_call_details.method
        method = raw.decode() if isinstance(raw, bytes) else str(raw)
        _, name = _service_of(method)
        with tracer.start_as_current_span(
            method.lstrip("/"),
            kind=SpanKind.CLIENT,
            record_exception=False,
            set_status_on_exception=False,
            attributes={
                "rpc.system": "grpc",
                "rpc.service": method.lstrip("/").partition("/")[0],
                "rpc.method": name,
            },
        ) as span:
            metadata: list[tuple[str, str]] = list(client_call_details.metadata or ())
            propagate.inject(metadata, setter=_MetadataSetter())
            details = client_call_details._replace(
                metadata=grpc.aio.Metadata(*metadata)
            )
            call = await continuation(details, request)
            try:
                await call
            except grpc.aio.AioRpcError as error:
                # The caller sees the same error when it awaits the call.
                span.set_attribute("rpc.grpc.status_code", error.code().value[0])
                span.set_status(Status(StatusCode.ERROR, error.code().name))
            else:
                span.set_attribute("rpc.grpc.status_code", 0)
            return call


def client_interceptors() -> list[grpc.aio.ClientInterceptor]:
    return [TracingClientInterceptor()]


@contextmanager
def database_span(system: str, namespace: str, operation: str) -> Iterator[None]:
    """A span for one unit of database work, only inside a trace (never a root)."""
    if not trace.get_current_span().is_recording():
        yield
        return
    with tracer.start_as_current_span(
        f"db {namespace}.{operation}",
        kind=SpanKind.CLIENT,
        attributes={
            "db.system.name": system,
            "db.namespace": namespace,
            "db.operation.name": operation,
        },
    ):
        yield


def inject_headers(headers: dict[str, str]) -> None:
    """Adds the current W3C context to outgoing HTTP headers."""
    propagate.inject(headers)


def extract_context(headers: Mapping[str, str]) -> otel_context.Context:
    return propagate.extract(headers)
