"""Runs one service as its own process: `python -m leadrouter.serve crm`.

The name may also come from LEADROUTER_SERVICE (as in the container image),
and `gateway` runs the gateway, so one entry point starts every process.
"""

from __future__ import annotations

import asyncio
import importlib
import os
import sys
from collections.abc import Callable
from typing import Any

from leadrouter.clients import Clients
from leadrouter.clock import Clock, SystemClock
from leadrouter.config import SERVICES, Settings, load_settings
from leadrouter.db import Database
from leadrouter.logs import configure_logging, secrets_of
from leadrouter.metrics import serve_metrics
from leadrouter.rpc import ServiceRunner, run_until_terminated
from leadrouter.telemetry import setup_tracing, shutdown_tracing

# The crm runs one of two connectors, so its builder sits above both servers.
BUILDERS = {"crm": "services.crm.process"}

Builder = Callable[[Settings, Clock, Clients], tuple[ServiceRunner, Database]]


def builder(service: str) -> Builder:
    if service not in SERVICES:
        raise SystemExit(f"unknown service '{service}'; one of {', '.join(SERVICES)}")
    module: Any = importlib.import_module(
        BUILDERS.get(service, f"services.{service}.server")
    )
    build: Builder = module.build
    return build


async def serve(service: str, settings: Settings, clock: Clock | None = None) -> None:
    clients = Clients.from_settings(settings)
    runner, db = builder(service)(settings, clock or SystemClock(), clients)
    try:
        await run_until_terminated(runner, settings.listen_addr_for(service))
    finally:
        await clients.close()
        db.close()


def main() -> None:
    service = (
        sys.argv[1] if len(sys.argv) > 1 else os.environ.get("LEADROUTER_SERVICE", "")
    )
    if service == "gateway":
        from gateway.__main__ import main as gateway

        gateway()
        return
    builder(service)  # an unknown name stops here, before anything starts
    settings = load_settings()
    configure_logging(service, secrets=secrets_of(settings))
    setup_tracing(service, settings)
    serve_metrics(settings.host, settings.metrics_port_for(service))
    try:
        asyncio.run(serve(service, settings))
    finally:
        shutdown_tracing()


if __name__ == "__main__":
    main()
