"""Tracing: W3C context through every hop, spans for RPCs, HTTP and SQL.

The spans are OpenTelemetry's own instrumentations (gRPC, SQLAlchemy, ASGI,
httpx); this module chooses what they trace and adds what the product needs
beside them (the account and language of a call, its count and log line).
They speak only the OpenTelemetry API, so they cost next to nothing until
`setup_tracing` installs the SDK (with OTLP export when an endpoint is set).
Only unary RPCs get spans: the streaming RPCs are long-lived subscriptions,
and a span that never ends would hold its whole trace open.
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
from opentelemetry import metrics as metrics_api
from opentelemetry import propagate, trace
from opentelemetry.instrumentation.grpc import (
    aio_client_interceptors,
    aio_server_interceptor,
)
from opentelemetry.instrumentation.sqlalchemy.engine import EngineTracer
from opentelemetry.trace import SpanKind
from sqlalchemy.engine import Engine

from leadrouter import deadlines, i18n, metrics

log = logging.getLogger(__name__)
tracer = trace.get_tracer("leadrouter")

# The account the current request acts for; logs carry it on every line.
current_account: contextvars.ContextVar[str] = contextvars.ContextVar(
    "current_account", default=""
)
# gRPC services whose calls are plumbing, not product work: no spans, no metrics.
_UNTRACED_PREFIXES = ("/grpc.health.", "/grpc.reflection.")


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


def _traced(details: Any) -> bool:
    """Whether a call gets a span: product work, not plumbing or a subscription.

    The streaming RPCs are long-lived subscriptions (the event followers); a
    span that never ends would hold its whole trace open.
    """
    raw = details.method
    method = raw.decode() if isinstance(raw, bytes) else str(raw)
    return not method.startswith(_UNTRACED_PREFIXES) and method not in _STREAMS


def _streaming_methods() -> frozenset[str]:
    from leadrouter.assigner.v1 import assigner_pb2
    from leadrouter.crm.v1 import crm_pb2
    from leadrouter.limits.v1 import limits_pb2
    from leadrouter.reports.v1 import reports_pb2
    from leadrouter.scheduler.v1 import scheduler_pb2

    return frozenset(
        f"/{service.full_name}/{method.name}"
        for module in (assigner_pb2, crm_pb2, limits_pb2, reports_pb2, scheduler_pb2)
        for service in module.DESCRIPTOR.services_by_name.values()
        for method in service.methods
        if method.server_streaming or method.client_streaming
    )


_STREAMS = _streaming_methods()


class RequestScope(grpc.aio.ServerInterceptor):
    """What a served call carries besides its span: account, language, count, log.

    It runs inside the OpenTelemetry server span (it comes after that
    interceptor), so its log line carries the call's trace id.
    """

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
        if (
            handler is None
            or handler.unary_unary is None
            or not _traced(handler_call_details)
        ):
            return handler
        method: str = handler_call_details.method
        metadata = handler_call_details.invocation_metadata
        carrier = {k: v for k, v in metadata or () if isinstance(v, str)}
        behavior = handler.unary_unary
        service, name = _service_of(method)

        async def scoped(
            request: Any, context: grpc.aio.ServicerContext[Any, Any]
        ) -> Any:
            account = getattr(request, "account", "")
            token = current_account.set(account if isinstance(account, str) else "")
            span = trace.get_current_span()
            span.set_attribute("leadrouter.service", self.service)
            span.set_attribute("leadrouter.account", current_account.get())
            # The caller's language: the messages this call raises speak it.
            said = i18n.set_language(carrier.get(i18n.METADATA_KEY, i18n.SOURCE))
            # The calls this one makes get no more time than its caller waits.
            bounded = deadlines.serving(context.time_remaining())
            started = time.perf_counter()
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
                seconds = time.perf_counter() - started
                metrics.rpc_served(service, name, code.name, seconds)
                log.info(
                    "rpc %s %s in %.1f ms",
                    method.lstrip("/"),
                    code.name,
                    seconds * 1000,
                )
                current_account.reset(token)
                i18n.restore(said)
                deadlines.served(bounded)

        return grpc.unary_unary_rpc_method_handler(
            scoped,
            request_deserializer=handler.request_deserializer,
            response_serializer=handler.response_serializer,
        )


def server_interceptors(service: str) -> list[grpc.aio.ServerInterceptor]:
    """A server's interceptors: OpenTelemetry's span, then the call's scope."""
    return [aio_server_interceptor(filter_=_traced), RequestScope(service)]


def client_interceptors() -> list[grpc.aio.ClientInterceptor]:
    """A channel's interceptors: OpenTelemetry's client span, W3C context out."""
    return list(aio_client_interceptors(filter_=_traced))


class _InsideTraces(trace.Tracer):
    """A tracer that starts spans only inside a recording span.

    Database statements of background work (the event followers' reads) are
    not traces of their own: they would bury the presses' traces.
    """

    def __init__(self, inner: trace.Tracer) -> None:
        self._inner = inner

    def start_span(
        self, name: str, context: Any = None, *args: Any, **kwargs: Any
    ) -> trace.Span:
        if not trace.get_current_span(context).is_recording():
            return trace.INVALID_SPAN
        return self._inner.start_span(name, context, *args, **kwargs)

    @contextmanager
    def start_as_current_span(  # type: ignore[override]
        self, name: str, context: Any = None, *args: Any, **kwargs: Any
    ) -> Iterator[trace.Span]:
        if not trace.get_current_span(context).is_recording():
            yield trace.INVALID_SPAN
            return
        with self._inner.start_as_current_span(name, context, *args, **kwargs) as span:
            yield span


class InsideTracesProvider(trace.TracerProvider):
    """Tracers for instrumentations whose spans belong inside a request's trace."""

    def get_tracer(self, *args: Any, **kwargs: Any) -> trace.Tracer:
        return _InsideTraces(trace.get_tracer_provider().get_tracer(*args, **kwargs))


def instrument_engine(engine: Engine) -> None:
    """OpenTelemetry's SQLAlchemy spans, one per statement, inside traces only.

    This attaches the instrumentation's own per-engine tracer. Its
    `SQLAlchemyInstrumentor` front is a process-wide singleton that ignores a
    second engine (the in-process stack has one per service) and declares
    SQLAlchemy below 2.1 only; the engine events it listens to are those of
    2.1 too, which tests/ops/test_tracing.py proves by finding the spans.
    """
    meter = metrics_api.get_meter("leadrouter.sqlalchemy")
    EngineTracer(
        InsideTracesProvider().get_tracer("opentelemetry.instrumentation.sqlalchemy"),
        engine,
        meter.create_up_down_counter(
            "db.client.connections.usage",
            unit="connections",
            description="Connections of the pool, by state.",
        ),
    )


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
