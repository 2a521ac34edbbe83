"""Tracing hooks: the current trace id, and OTLP export when configured."""

from __future__ import annotations

from opentelemetry import trace


def current_trace_id() -> str:
    """The W3C trace id of the request being served, or '' outside a trace."""
    context = trace.get_current_span().get_span_context()
    return format(context.trace_id, "032x") if context.is_valid else ""
