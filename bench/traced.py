"""A service or the gateway with every span handed to an in-process exporter.

    python -m bench.traced crm|limits|scheduler|assigner|reports|gateway

The tracing-on scenario measures what producing, sampling and exporting each
span costs, without a collector on the other end of a socket: spans go through
the SDK's batch processor into a bounded in-memory exporter.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import (
    BatchSpanProcessor,
    SpanExporter,
    SpanExportResult,
)

import gateway.__main__ as gateway_main
import leadrouter.serve as serve
from leadrouter import telemetry

KEEP = 10_000  # spans kept; older ones are dropped so memory stays flat


class InMemoryExporter(SpanExporter):
    def __init__(self) -> None:
        self.spans: list[ReadableSpan] = []
        self.exported = 0

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        self.exported += len(spans)
        self.spans.extend(spans)
        del self.spans[:-KEEP]
        return SpanExportResult.SUCCESS


def setup_tracing(service: str, settings: Any) -> Any:
    provider = telemetry.setup_tracing(service, settings)
    if isinstance(provider, TracerProvider):
        provider.add_span_processor(BatchSpanProcessor(InMemoryExporter()))
    return provider


def main() -> None:
    serve.setup_tracing = setup_tracing
    gateway_main.setup_tracing = setup_tracing
    serve.main()


if __name__ == "__main__":
    main()
