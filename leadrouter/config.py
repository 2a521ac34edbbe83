"""The one place that reads configuration: LEADROUTER_* variables, with defaults."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from functools import cached_property
from pathlib import Path
from urllib.parse import urlsplit

from pydantic import ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

SERVICES = ("crm", "limits", "scheduler", "assigner", "reports")
DEFAULT_PORTS = {
    "crm": 50151,
    "limits": 50152,
    "scheduler": 50153,
    "assigner": 50154,
    "reports": 50155,
}
DEFAULT_METRICS_PORTS = {
    "crm": 9151,
    "limits": 9152,
    "scheduler": 9153,
    "assigner": 9154,
    "reports": 9155,
}


_WEBHOOK_URL_FORM = (
    "must be an http:// or https:// URL with a host, "
    "such as https://chat.example.com/hooks/..."
)


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
    # Where a service process listens (e.g. 0.0.0.0:50151 in a container);
    # default: `host` and the port of its address.
    listen_addr: str | None = None

    # Signs the service's own bearer tokens; generated into data_dir when unset.
    secret: str | None = None
    token_ttl_hours: int = 24 * 30
    account: str = "demo"

    crm: str = "builtin"  # or "amocrm"
    # amoCRM: the account, the integration's credentials, and either a one-time
    # authorization code (exchanged once, then refreshed) or a long-lived token.
    amocrm_subdomain: str = ""
    amocrm_base_url: str = ""  # default https://<subdomain>.amocrm.ru
    amocrm_client_id: str = ""
    amocrm_client_secret: str = ""
    amocrm_redirect_uri: str = ""
    amocrm_auth_code: str = ""
    amocrm_long_lived_token: str = ""
    amocrm_token_file: Path | None = None  # default: a row in the crm database
    amocrm_account_id: int | None = None  # widget tokens of other accounts refused
    # amoCRM posts webhooks to <public_url>/webhooks/amocrm/<secret>; with a public
    # URL set, the crm service registers that address with amoCRM itself.
    amocrm_public_url: str = ""
    amocrm_webhook_secret: str | None = None  # default: derived from `secret`
    amocrm_rate_per_second: int = 7
    amocrm_reconcile_seconds: float = 300.0  # every minute while no webhook works
    amocrm_hook_check_seconds: float = 300.0  # GET /api/v4/webhooks this often
    # The first sync reads open tasks and the completed ones of this many days.
    amocrm_completed_tasks_days: int = 30
    amocrm_poll_seconds: float = 1.0
    # amoCRM users (ids, comma-separated) that hold leads nobody works yet, such
    # as a lead exchange: technical, never a person (push takes their leads).
    amocrm_technical_users: str = ""
    # Abuse limits at the gateway, token buckets on the injected clock: presses
    # of 'Get lead' per (account, user), and amoCRM webhooks per intake secret.
    # A rate of 0 turns a limit off (benchmarks do).
    claim_rate_per_second: float = 5.0
    claim_burst: int = 10
    webhook_rate_per_second: float = 50.0
    webhook_burst: int = 200
    otlp_endpoint: str | None = None
    trace_sample_ratio: float = 1.0
    rpc_timeout_seconds: float = 10.0
    # Prometheus /metrics of a service process, on `host`: its own
    # LEADROUTER_<SVC>_METRICS_PORT, else LEADROUTER_METRICS_PORT (one port for
    # all, as in containers), else 9151-9155; 0 turns it off. The gateway serves
    # /metrics on its HTTP port.
    metrics_port: int | None = None
    crm_metrics_port: int | None = None
    limits_metrics_port: int | None = None
    scheduler_metrics_port: int | None = None
    assigner_metrics_port: int | None = None
    reports_metrics_port: int | None = None
    # An optional chat tool's incoming webhook for the news the alert rules
    # carry (services/assigner/alerts.py). The URL is a secret as much as the
    # signing key: chat tools put their token in the path.
    alert_webhook_url: str = ""
    alert_webhook_secret: str = ""  # signs each body (X-Leadrouter-Signature)
    alert_webhook_language: str = "en"  # of the text people read: en or ru

    @field_validator("alert_webhook_url")
    @classmethod
    def _webhook_url(cls, url: str) -> str:
        # The message names what is wrong but never repeats the value: it may
        # carry the chat tool's token.
        if not url:
            return url
        try:
            parts = urlsplit(url)
            parts.port  # noqa: B018  (a port that is not a number raises here)
        except ValueError:
            raise ValueError(_WEBHOOK_URL_FORM) from None
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(_WEBHOOK_URL_FORM)
        return url

    @field_validator("alert_webhook_language")
    @classmethod
    def _webhook_language(cls, language: str) -> str:
        if language not in ("en", "ru"):
            raise ValueError("must be en or ru")
        return language

    @model_validator(mode="after")
    def _amocrm_mode_apart(self) -> Settings:
        """amoCRM mode keeps its own data directory and account name unless told
        otherwise, so it never meets the demo's users, leads or tokens."""
        if self.crm == "amocrm":
            name = self.amocrm_subdomain or "account"
            if "data_dir" not in self.model_fields_set:
                self.data_dir = Path("var") / "amocrm" / name
            if "account" not in self.model_fields_set:
                self.account = name
        return self

    @model_validator(mode="after")
    def _webhook_secret(self) -> Settings:
        if self.alert_webhook_secret and not self.alert_webhook_url:
            raise ValueError(
                "LEADROUTER_ALERT_WEBHOOK_SECRET is set, but "
                "LEADROUTER_ALERT_WEBHOOK_URL is not: set the URL the alerts go to"
            )
        if 0 < len(self.alert_webhook_secret) < 16:
            raise ValueError(
                "LEADROUTER_ALERT_WEBHOOK_SECRET must be at least 16 characters "
                "long; a shorter one is guessable"
            )
        return self

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

    def listen_addr_for(self, service: str) -> str:
        if self.listen_addr:
            return self.listen_addr
        port = self.addr_for(service).split(",")[0].rsplit(":", 1)[1]
        return f"{self.host}:{port}"

    def metrics_port_for(self, service: str) -> int:
        explicit = getattr(self, f"{service}_metrics_port")
        if explicit is not None:
            return int(explicit)
        if self.metrics_port is not None:
            return self.metrics_port
        return DEFAULT_METRICS_PORTS[service]

    @property
    def amocrm_url(self) -> str:
        if self.amocrm_base_url:
            return self.amocrm_base_url.rstrip("/")
        return f"https://{self.amocrm_subdomain}.amocrm.ru"

    @property
    def amocrm_hook_secret(self) -> str:
        """The secret in the webhook path: set, or derived so it works locally."""
        if self.amocrm_webhook_secret:
            return self.amocrm_webhook_secret
        key = self.signing_secret.encode()
        return hmac.new(key, b"amocrm-webhooks", hashlib.sha256).hexdigest()[:32]

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


def load_settings() -> Settings:
    """The settings of this process, or a stop that names each bad variable.

    pydantic's own text repeats the bad value, which may be a secret, and
    speaks of fields rather than the variables a person sets.
    """
    try:
        return Settings()
    except ValidationError as error:
        lines = []
        for problem in error.errors():
            message = str(problem["msg"]).removeprefix("Value error, ")
            if problem["loc"]:
                name = "LEADROUTER_" + str(problem["loc"][0]).upper()
                lines.append(f"{name}: {message}")
            else:
                lines.append(message)
        raise SystemExit("configuration: " + "; ".join(lines)) from None
