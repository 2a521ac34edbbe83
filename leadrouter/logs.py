"""Structured logs: one JSON object a line, with service, trace id and account.

Nothing secret leaves through a log line: the signing secret and other
configured secrets, bearer tokens, JWTs and OAuth token fields are replaced
by "[redacted]" in the message and in any traceback.
"""

from __future__ import annotations

import json
import logging
import re
import sys
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from leadrouter.telemetry import current_account, current_trace_id

REDACTED = "[redacted]"
_PATTERNS = [
    # JWTs: our own tokens and the amoCRM widget's disposable ones.
    (re.compile(r"eyJ[\w-]*\.[\w-]+\.[\w-]*"), REDACTED),
    # "Authorization: Bearer ..." however it got into a message.
    (re.compile(r"(?i)(bearer\s+)[^\s\"',;]+"), rf"\1{REDACTED}"),
    # OAuth fields in JSON or form bodies and URLs.
    (
        re.compile(
            r"(?i)(access_token|refresh_token|client_secret|password)"
            r"([\"']?\s*[:=]\s*[\"']?)[^\s\"'&,;}]+"
        ),
        rf"\1\2{REDACTED}",
    ),
]


class Redactor:
    """Replaces secrets in text: the configured ones, and anything token-shaped."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        # Short values would redact ordinary words; real secrets are long.
        self.secrets = sorted(
            {s for s in secrets if len(s) >= 8}, key=len, reverse=True
        )

    def __call__(self, text: str) -> str:
        for secret in self.secrets:
            text = text.replace(secret, REDACTED)
        for pattern, replacement in _PATTERNS:
            text = pattern.sub(replacement, text)
        return text


class JsonFormatter(logging.Formatter):
    def __init__(self, service: str, redactor: Redactor | None = None) -> None:
        super().__init__()
        self.service = service
        self.redact = redactor or Redactor()

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "at": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname.lower(),
            "service": self.service,
            "logger": record.name,
            "message": self.redact(record.getMessage()),
        }
        trace_id = current_trace_id()
        if trace_id:
            entry["trace_id"] = trace_id
        account = current_account.get()
        if account:
            entry["account"] = account
        if record.exc_info:
            entry["error"] = self.redact(self.formatException(record.exc_info))
        return json.dumps(entry, ensure_ascii=False)


# A chat tool's webhook URL carries its token in the path.
_SECRET_SETTING = re.compile(r"secret|token|auth_code|password|dsn|webhook_url")


def secrets_of(settings: Any) -> list[str]:
    """The values of every setting whose name says it is secret."""
    return [
        value
        for name, value in settings
        if isinstance(value, str) and _SECRET_SETTING.search(name)
    ]


def configure_logging(
    service: str, level: int = logging.INFO, secrets: Iterable[str] = ()
) -> None:
    """JSON lines on stderr for the whole process; `secrets` never appear in them."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter(service, Redactor(secrets)))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # grpc's and httpx's own chatter is noise at INFO.
    for noisy in ("httpx", "httpcore", "grpc"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
