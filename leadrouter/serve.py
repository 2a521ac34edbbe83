"""Runs one service as its own process: `python -m leadrouter.serve crm`."""

from __future__ import annotations

import asyncio
import importlib
import sys
from collections.abc import Callable
from typing import Any

from leadrouter.clients import Clients
from leadrouter.clock import Clock, SystemClock
from leadrouter.config import SERVICES, Settings
from leadrouter.db import Database
from leadrouter.logs import configure_logging
from leadrouter.rpc import ServiceRunner, run_until_terminated

Builder = Callable[[Settings, Clock, Clients], tuple[ServiceRunner, Database]]


def builder(service: str) -> Builder:
    if service not in SERVICES:
        raise SystemExit(f"unknown service '{service}'; one of {', '.join(SERVICES)}")
    module: Any = importlib.import_module(f"services.{service}.server")
    return module.build  # type: ignore[no-any-return]


async def serve(service: str, settings: Settings, clock: Clock | None = None) -> None:
    clients = Clients.from_settings(settings)
    runner, db = builder(service)(settings, clock or SystemClock(), clients)
    address = settings.addr_for(service).split(",")[0]
    port = address.rsplit(":", 1)[1]
    try:
        await run_until_terminated(runner, f"{settings.host}:{port}")
    finally:
        await clients.close()
        db.close()


def main() -> None:
    service = sys.argv[1] if len(sys.argv) > 1 else ""
    configure_logging(service)
    asyncio.run(serve(service, Settings()))


if __name__ == "__main__":
    main()
