"""The one place that reads configuration: LEADROUTER_* variables, with defaults."""

from __future__ import annotations

import secrets
from functools import cached_property
from pathlib import Path

from pydantic_settings import BaseSettings, SettingsConfigDict

SERVICES = ("crm", "limits", "scheduler", "assigner", "reports")
DEFAULT_PORTS = {
    "crm": 50151,
    "limits": 50152,
    "scheduler": 50153,
    "assigner": 50154,
    "reports": 50155,
}


class Settings(BaseSettings):
    """Every setting has a default that works on one machine with SQLite files."""

    model_config = SettingsConfigDict(env_prefix="LEADROUTER_", extra="ignore")

    data_dir: Path = Path("var")
    # One URL for every service (each gets its own schema in PostgreSQL), or a
    # per-service URL such as LEADROUTER_CRM_DATABASE_URL.
    database_url: str | None = None
    crm_database_url: str | None = None
    limits_database_url: str | None = None
    scheduler_database_url: str | None = None
    assigner_database_url: str | None = None
    reports_database_url: str | None = None

    host: str = "127.0.0.1"
    crm_addr: str | None = None
    limits_addr: str | None = None
    scheduler_addr: str | None = None
    assigner_addr: str | None = None
    reports_addr: str | None = None
    gateway_host: str = "127.0.0.1"
    gateway_port: int = 8000

    # Signs the service's own bearer tokens; generated into data_dir when unset.
    secret: str | None = None
    token_ttl_hours: int = 24 * 30
    account: str = "demo"

    crm: str = "builtin"
    otlp_endpoint: str | None = None
    trace_sample_ratio: float = 1.0
    rpc_timeout_seconds: float = 10.0

    def database_url_for(self, service: str) -> str:
        explicit = getattr(self, f"{service}_database_url")
        if explicit:
            return str(explicit)
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / f'{service}.db').resolve()}"

    def addr_for(self, service: str) -> str:
        explicit = getattr(self, f"{service}_addr")
        return str(explicit) if explicit else f"{self.host}:{DEFAULT_PORTS[service]}"

    @cached_property
    def signing_secret(self) -> str:
        if self.secret:
            return self.secret
        path = self.data_dir / "secret"
        if not path.exists():
            self.data_dir.mkdir(parents=True, exist_ok=True)
            path.write_text(secrets.token_urlsafe(32))
            path.chmod(0o600)
        return path.read_text().strip()
