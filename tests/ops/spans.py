"""Spans captured in memory: the SDK installed once per process, on per test."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from opentelemetry import trace
from opentelemetry.sdk.trace import ReadableSpan, SpanProcessor, TracerProvider


@dataclass
class Capture(SpanProcessor):
    """Keeps the spans that end while capturing is on."""

    spans: list[ReadableSpan] = field(default_factory=list)
    on: bool = False
    lock: threading.Lock = field(default_factory=threading.Lock)

    def on_end(self, span: ReadableSpan) -> None:
        if self.on:
            with self.lock:
                self.spans.append(span)


_CAPTURE = Capture()


def install_sdk() -> None:
    """The SDK as `setup_tracing` installs it, so spans and trace ids are real."""
    provider = trace.get_tracer_provider()
    if not isinstance(provider, TracerProvider):
        provider = TracerProvider()
        trace.set_tracer_provider(provider)
    if _CAPTURE not in provider._active_span_processor._span_processors:
        provider.add_span_processor(_CAPTURE)


@contextmanager
def captured_spans() -> Iterator[list[ReadableSpan]]:
    """The spans that end inside the block (every thread of this process)."""
    install_sdk()
    _CAPTURE.spans.clear()
    _CAPTURE.on = True
    try:
        yield _CAPTURE.spans
    finally:
        _CAPTURE.on = False


def service_of(span: ReadableSpan, by_id: dict[int, ReadableSpan]) -> str:
    """The service a span ran in: its own mark, else its nearest marked ancestor's."""
    current: ReadableSpan | None = span
    while current is not None:
        attrs = current.attributes or {}
        if "leadrouter.service" in attrs:
            return str(attrs["leadrouter.service"])
        parent = current.parent
        current = by_id.get(parent.span_id) if parent is not None else None
    return "?"


def span_tree(spans: list[ReadableSpan]) -> str:
    """The spans as an indented tree of `name  [service]`, children by start time."""
    by_id = {s.context.span_id: s for s in spans}
    children: dict[int | None, list[ReadableSpan]] = {}
    for s in spans:
        parent = s.parent.span_id if s.parent is not None else None
        children.setdefault(parent if parent in by_id else None, []).append(s)
    lines: list[str] = []

    def walk(parent: int | None, depth: int) -> None:
        for s in sorted(children.get(parent, []), key=lambda s: s.start_time or 0):
            indent, kind = "  " * depth, s.kind.name.lower()
            lines.append(f"{indent}{s.name}  [{service_of(s, by_id)}, {kind}]")
            walk(s.context.span_id, depth + 1)

    walk(None, 0)
    return "\n".join(lines)
