"""Runs the gateway: `python -m gateway`."""

from __future__ import annotations

import signal
import sys

import uvicorn

from gateway.app import create_app
from gateway.request_size import MAX_REQUEST_BYTES
from leadrouter.config import Settings, load_settings
from leadrouter.logs import configure_logging, secrets_of
from leadrouter.telemetry import setup_tracing, shutdown_tracing


def secrets_to_redact(settings: Settings) -> list[str]:
    """What the gateway's logs never show: the webhook secret is in request
    paths (uvicorn's access log), and by default derived, so in no setting."""
    return [settings.signing_secret, settings.amocrm_hook_secret, *secrets_of(settings)]


def main() -> None:
    settings = load_settings()
    configure_logging("gateway", secrets=secrets_to_redact(settings))
    setup_tracing("gateway", settings)
    # uvicorn drains requests on SIGTERM, then re-raises the signal to the handler
    # that was there before it; that handler makes a graceful stop exit 0.
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: sys.exit(0))
    try:
        uvicorn.run(
            create_app(settings),
            host=settings.gateway_host,
            port=settings.gateway_port,
            log_config=None,
            timeout_graceful_shutdown=10,
            # A subscription message is held to the ceiling of a request body.
            ws_max_size=MAX_REQUEST_BYTES,
        )
    finally:
        shutdown_tracing()


if __name__ == "__main__":
    main()
