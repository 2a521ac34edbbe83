"""The alert webhook: a chat tool hears when leads wait, without Prometheus.

Each round, at the injected clock's now, looks at the leads that wait
(services/assigner/waiting.py) with the thresholds of the shipped Prometheus
rules, and posts one JSON message when an alert starts and one when it ends.
Posts go out in order and are retried with backoff on the same clock, so a
chat tool that is down for an hour still hears everything, once it is back.

The URL is treated as a secret (chat tools put their token in its path): a
log line names only its scheme and host; the signing secret is never logged
either. What fires is kept in memory: after a restart an alert still on is
posted again, and with several assigner replicas each posts, so give the
webhook to one of them (Alertmanager is the tool for replicated setups).
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
import uuid
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import httpx

from leadrouter import metrics
from leadrouter.clock import Clock
from leadrouter.config import Settings
from services.assigner import alert_texts
from services.assigner.alert_texts import ON_DUTY, POOL, WINDOW
from services.assigner.engine.reasons import Reason
from services.assigner.waiting import HeldGroup, Pool, WaitingLeads

log = logging.getLogger(__name__)

# Waits after the 1st, 2nd, ... failed attempt; after the last the message
# is dropped (about an hour of trying), so a dead URL does not pile up.
BACKOFF = tuple(timedelta(seconds=s) for s in (30, 60, 120, 240, 480, 900, 1800))
TIMEOUT_SECONDS = 10.0
MAX_QUEUED = 200  # beyond it the oldest message goes: the news is stale anyway
# How old, by the clock, the pools' last look may be when a round reads it.
POOLS_FRESH = timedelta(minutes=1)
# How often, in real seconds, a round runs; what it checks is the clock's now.
ROUND_SECONDS = 5.0


@dataclass(frozen=True)
class Rule:
    """One alert of deploy/compose/alerts.yaml, as the webhook applies it."""

    alert: str
    severity: str
    reason: str = ""  # the held leads' reason; empty: the pool rule
    threshold: timedelta = timedelta(0)


RULES = (
    Rule(ON_DUTY, "warning", Reason.NOBODY_ON_DUTY, timedelta(minutes=15)),
    Rule(WINDOW, "info", Reason.NO_TEMPLATE, timedelta(hours=2)),
    # The pool rule fires once the pool has been stuck this long.
    Rule(POOL, "warning", threshold=timedelta(minutes=15)),
)
_BY_NAME = {r.alert: r for r in RULES}

Key = tuple[str, str, str]  # account, group, alert


@dataclass(frozen=True)
class Finding:
    """An alert that holds now: how many leads, and how long the oldest waits."""

    leads: int
    oldest_seconds: float | None = None


@dataclass
class Delivery:
    id: str
    body: bytes
    due: datetime
    attempts: int = 0


def signature(secret: str, body: bytes) -> str:
    """X-Leadrouter-Signature: the body's HMAC-SHA256 under the shared secret."""
    digest = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


class AlertWebhook:
    """Posts JSON messages to one URL, in order, retrying on the injected clock."""

    def __init__(
        self,
        url: str,
        secret: str,
        clock: Clock,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self._url = url
        self._secret = secret
        self.clock = clock
        self.transport = transport
        parts = urlsplit(url)
        self.target = f"{parts.scheme}://{parts.netloc.rsplit('@', 1)[-1]}"
        self.queue: deque[Delivery] = deque()

    def send(self, message: dict[str, Any]) -> None:
        if len(self.queue) >= MAX_QUEUED:
            dropped = self.queue.popleft()
            metrics.alert_posted("dropped")
            log.error(
                "alert webhook %s: message %s dropped, too many queued",
                self.target,
                dropped.id,
            )
        delivery_id = uuid.uuid4().hex
        body = json.dumps({"id": delivery_id, **message}, ensure_ascii=False)
        self.queue.append(Delivery(delivery_id, body.encode(), self.clock.now()))

    async def deliver(self) -> None:
        """Posts what is due, oldest first; a failure holds the rest back."""
        if not self.queue or self.queue[0].due > self.clock.now():
            return
        async with httpx.AsyncClient(
            transport=self.transport, timeout=TIMEOUT_SECONDS
        ) as http:
            while self.queue and self.queue[0].due <= self.clock.now():
                if not await self._post(http, self.queue[0]):
                    return
                self.queue.popleft()

    async def _post(self, http: httpx.AsyncClient, delivery: Delivery) -> bool:
        """True once the message is done with: delivered, or refused for good."""
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            "User-Agent": "leadrouter-alerts",
            "X-Leadrouter-Delivery": delivery.id,
        }
        if self._secret:
            headers["X-Leadrouter-Signature"] = signature(self._secret, delivery.body)
        delivery.attempts += 1
        retry_after = 0.0
        try:
            reply = await http.post(self._url, content=delivery.body, headers=headers)
        except httpx.HTTPError as error:
            # The class only: an error's text may quote the URL.
            problem = f"no answer ({type(error).__name__})"
        else:
            if reply.is_success:
                metrics.alert_posted("delivered")
                return True
            if reply.status_code not in (408, 429) and reply.status_code < 500:
                metrics.alert_posted("refused")
                log.error(
                    "alert webhook %s refused message %s with HTTP %d; "
                    "check LEADROUTER_ALERT_WEBHOOK_URL",
                    self.target,
                    delivery.id,
                    reply.status_code,
                )
                return True
            problem = f"HTTP {reply.status_code}"
            retry_after = _seconds(reply.headers.get("Retry-After", ""))
        if delivery.attempts > len(BACKOFF):
            metrics.alert_posted("dropped")
            log.error(
                "alert webhook %s: message %s dropped after %d attempts, last: %s",
                self.target,
                delivery.id,
                delivery.attempts,
                problem,
            )
            return True
        metrics.alert_posted("retried")
        wait = max(BACKOFF[delivery.attempts - 1], timedelta(seconds=retry_after))
        delivery.due = self.clock.now() + wait
        log.warning(
            "alert webhook %s: %s for message %s; trying again in %d s",
            self.target,
            problem,
            delivery.id,
            wait.total_seconds(),
        )
        return False


def _seconds(header: str) -> float:
    """A Retry-After in seconds; the HTTP-date form is left to the backoff."""
    try:
        return min(max(0.0, float(header)), BACKOFF[-1].total_seconds())
    except ValueError:
        return 0.0


@dataclass
class _Firing:
    starts_at: datetime
    group_name: str


@dataclass
class WaitingAlerts:
    """Decides when each alert starts and ends, and hands the news to the webhook."""

    waiting: WaitingLeads
    webhook: AlertWebhook
    clock: Clock
    language: str = "en"
    firing: dict[Key, _Firing] = field(default_factory=dict)
    stuck_since: dict[tuple[str, str], datetime] = field(default_factory=dict)
    _lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    @classmethod
    def configured(
        cls, settings: Settings, waiting: WaitingLeads, clock: Clock
    ) -> WaitingAlerts | None:
        if not settings.alert_webhook_url:
            return None
        webhook = AlertWebhook(
            settings.alert_webhook_url, settings.alert_webhook_secret, clock
        )
        return cls(waiting, webhook, clock, settings.alert_webhook_language)

    async def run(self) -> None:
        """Rounds beside the gRPC server, for as long as it runs."""
        while True:
            try:
                await self.round()
            except asyncio.CancelledError:
                raise
            except Exception as error:  # a service restarting: next round
                log.warning("alerts not checked: %s", type(error).__name__)
            await asyncio.sleep(ROUND_SECONDS)

    async def round(self) -> None:
        """Looks at the leads that wait now, and posts what changed and is due.

        Rounds never overlap (the tick's loop and the Tick call may meet),
        and one at a moment of the clock decides what any other would.
        """
        async with self._lock:
            now = self.clock.now()
            looked = self.waiting.looked_at
            if looked is None or now - looked >= POOLS_FRESH:
                await self.waiting.pools()
            db = self.waiting.db
            held = await db.run(self.waiting.held)
            names = {
                (account, g.id): g.name or g.id
                for account, g in await db.run(self.waiting.groups)
            }
            found = self.findings(held, self.waiting.last_pools(), now)
            self._announce(found, names, now)
            await self.webhook.deliver()

    def findings(
        self, held: Iterable[HeldGroup], pools: Iterable[Pool], now: datetime
    ) -> dict[Key, Finding]:
        found: dict[Key, Finding] = {}
        for rule in RULES:
            for h in held:
                oldest = (now - h.oldest_since).total_seconds()
                if rule.reason == h.reason and oldest > rule.threshold.total_seconds():
                    found[(h.account, h.group_id, rule.alert)] = Finding(
                        h.leads, oldest
                    )
        stuck = {
            (p.account, p.group_id): p for p in pools if p.leads and not p.eligible
        }
        for key in list(self.stuck_since):
            if key not in stuck:
                del self.stuck_since[key]
        for key, pool in stuck.items():
            since = self.stuck_since.setdefault(key, now)
            if now - since >= _BY_NAME[POOL].threshold:
                found[(*key, POOL)] = Finding(pool.leads)
        return found

    def _announce(
        self,
        found: dict[Key, Finding],
        names: dict[tuple[str, str], str],
        now: datetime,
    ) -> None:
        for key, finding in sorted(found.items()):
            if key in self.firing:
                continue
            account, group, alert = key
            name = names.get((account, group), group)
            self.firing[key] = _Firing(now, name)
            text = alert_texts.firing(
                alert, name, finding.leads, finding.oldest_seconds or 0, self.language
            )
            message = self._message("firing", key, name, text, now, now)
            message["leads"] = finding.leads
            if finding.oldest_seconds is not None:
                message["oldest_wait_seconds"] = int(finding.oldest_seconds)
            self.webhook.send(message)
        for key in sorted(set(self.firing) - set(found)):
            was = self.firing.pop(key)
            text = alert_texts.resolved(key[2], was.group_name, self.language)
            message = self._message(
                "resolved", key, was.group_name, text, was.starts_at, now
            )
            message["ends_at"] = now.isoformat()
            self.webhook.send(message)

    def _message(
        self,
        status: str,
        key: Key,
        group_name: str,
        text: str,
        starts_at: datetime,
        now: datetime,
    ) -> dict[str, Any]:
        account, group, alert = key
        # `text` first: Slack, Mattermost and Rocket.Chat show it as it is.
        return {
            "text": f"[{account}] {text}",
            "status": status,
            "alert": alert,
            "severity": _BY_NAME[alert].severity,
            "account": account,
            "group": group,
            "group_name": group_name,
            "starts_at": starts_at.isoformat(),
            "at": now.isoformat(),
        }
