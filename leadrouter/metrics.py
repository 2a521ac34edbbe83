"""Prometheus metrics: the product's instruments and the endpoint that serves them.

Every process keeps its own registry (the default one); Prometheus tells
replicas apart by their scrape target. Names are part of the operations
contract (docs/operations.md): rename one only with a note there.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    start_http_server,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

log = logging.getLogger(__name__)

# Claims and push distribution (assigner).
CLAIMS = Counter(
    "leadrouter_claims",
    "Presses of the Get lead button, by group and outcome (claimed or refused).",
    ["group", "outcome"],
)
CLAIM_REFUSALS = Counter(
    "leadrouter_claim_refusals",
    "Refusal reasons of claims: a limit's name, or pool_empty, not_a_member, "
    "disabled, off_duty. A claim refused by two limits counts twice.",
    ["group", "reason"],
)
CLAIM_SECONDS = Histogram(
    "leadrouter_claim_duration_seconds",
    "Time the assigner takes to decide one claim, end to end.",
    ["group"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
PUSHES = Counter(
    "leadrouter_pushes",
    "Push distribution decisions, by template, algorithm and outcome "
    "(assigned, held, ...).",
    ["template", "algorithm", "outcome"],
)
POOL_SIZE = Gauge(
    "leadrouter_pool_size",
    "Leads a claim in the group would draw from, as last seen by the assigner.",
    ["group"],
)

# Leads that wait (assigner), counted where the journal records a decision.
SLA_REASSIGNMENTS = Counter(
    "leadrouter_sla_reassignments",
    "Push decisions of the SLA timer: an untouched lead sent on to another "
    "participant (outcome assigned), or kept because nobody else is on duty "
    "(outcome kept).",
    ["account", "group", "outcome"],
)
PUSH_HOLDS = Counter(
    "leadrouter_push_holds",
    "Leads push distribution started to hold, by why: no_template (no "
    "template takes the lead now: it waits for a window) or nobody_on_duty.",
    ["account", "group", "reason"],
)
ALERT_POSTS = Counter(
    "leadrouter_alert_webhook_posts",
    "Attempts to post a message to the alert webhook, by outcome: delivered, "
    "retried (it will be tried again), refused (a 4xx: not tried again), "
    "dropped (given up after the last retry, or too many queued).",
    ["outcome"],
)

# The CRM of record (crm service).
CRM_API_CALLS = Counter(
    "leadrouter_crm_api_calls",
    "Requests to the external CRM's API, by method and HTTP status class.",
    ["method", "status"],
)
CRM_API_ERRORS = Counter(
    "leadrouter_crm_api_errors",
    "Failed requests to the external CRM's API: transport errors, 429s and 5xx.",
    ["kind"],
)
OUTBOX_DEPTH = Gauge(
    "leadrouter_crm_outbox_depth",
    "Changes waiting in the outbox to be written to the external CRM.",
    ["account"],
)
AMOCRM_BLOCKED = Gauge(
    "leadrouter_amocrm_blocked",
    "1 while amoCRM refuses the whole account: reason blocked (403 after "
    "overruns of the rate limit) or not_paid (402, the subscription ended). "
    "Writes wait meanwhile; none is given up.",
    ["account", "reason"],
)
AMOCRM_NEXT_ATTEMPT = Gauge(
    "leadrouter_amocrm_next_attempt_timestamp_seconds",
    "While amoCRM refuses the account: when it is asked again (Unix time); 0 "
    "while it serves the account.",
    ["account"],
)
AMOCRM_WEBHOOK = Gauge(
    "leadrouter_amocrm_webhook",
    "1 for the state the account's amoCRM webhook was last found in: working, "
    "missing, disabled (by amoCRM after failed answers), not_allowed (the plan "
    "forbids API webhooks), no_public_url or unknown. While it is not working, "
    "amoCRM's events are read every minute.",
    ["account", "state"],
)

# Every gRPC server (filled in by the tracing interceptor).
RPC_SERVED = Histogram(
    "leadrouter_rpc_server_duration_seconds",
    "Unary gRPC calls served, by service, method and status code.",
    ["service", "method", "code"],
    buckets=(0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0),
)
# The gateway.
GRAPHQL_OPERATIONS = Histogram(
    "leadrouter_graphql_operation_duration_seconds",
    "GraphQL operations served by the gateway, by type and whether they failed.",
    ["type", "outcome"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0),
)


def rpc_served(service: str, method: str, code: str, seconds: float) -> None:
    RPC_SERVED.labels(service, method, code).observe(seconds)


def claim_decided(
    group: str, reasons: Iterable[Mapping[str, Any]], seconds: float
) -> None:
    """Counts one claim; `reasons` as the decision stores them (empty: claimed)."""
    codes = [_reason_code(r) for r in reasons]
    CLAIMS.labels(group, "refused" if codes else "claimed").inc()
    for code in codes:
        CLAIM_REFUSALS.labels(group, code).inc()
    CLAIM_SECONDS.labels(group).observe(seconds)


def _reason_code(reason: Mapping[str, Any]) -> str:
    if reason.get("code") == "limit":
        limit = (reason.get("verdict") or {}).get("limit")
        return str(limit or "limit")
    return str(reason.get("code", "unknown"))


def alert_posted(outcome: str) -> None:
    ALERT_POSTS.labels(outcome).inc()


def push_decided(template: str, algorithm: str, outcome: str) -> None:
    PUSHES.labels(template or "none", algorithm or "none", outcome).inc()


def decision_journaled(
    account: str,
    kind: str,
    outcome: str,
    group: str,
    reasons: Iterable[Mapping[str, Any]],
    details: Mapping[str, Any],
) -> None:
    """Counts one decision the journal has recorded (a committed row)."""
    if kind != "push":
        return
    group = group or "none"
    # A recovered attempt (its process died) keeps what reserved it.
    trigger = details.get("reserved_by") or details.get("trigger")
    if trigger == "sla" and outcome in ("assigned", "kept"):
        SLA_REASSIGNMENTS.labels(account, group, outcome).inc()
    if outcome == "held":
        for reason in reasons:
            PUSH_HOLDS.labels(account, group, str(reason.get("code", "unknown"))).inc()


# Leads that wait, as they stand when Prometheus asks (assigner).
@dataclass(frozen=True)
class HeldLeads:
    """Leads push distribution holds in one group for one reason."""

    account: str
    group: str
    reason: str
    leads: int
    oldest_seconds: float


@dataclass(frozen=True)
class PoolState:
    """A group's pool and how many members may take a lead from it now."""

    account: str
    group: str
    leads: int
    eligible: int


@dataclass(frozen=True)
class Waiting:
    held: list[HeldLeads] = field(default_factory=list)
    pools: list[PoolState] = field(default_factory=list)


class WaitingCollector(Collector):
    """Gauges of waiting leads, read from their source at each scrape."""

    def __init__(self) -> None:
        self.source: Callable[[], Waiting] | None = None

    def describe(self) -> list[Any]:
        return []  # the families exist only where a source is set

    def collect(self) -> Iterator[GaugeMetricFamily]:
        if self.source is None:
            return
        try:
            now = self.source()
        except Exception as error:  # a scrape must not fail for it
            log.warning("waiting leads not measured: %s", error)
            return
        held = GaugeMetricFamily(
            "leadrouter_push_held_leads",
            "Leads push distribution holds now, by group and why (no_template: "
            "waiting for a window; nobody_on_duty).",
            labels=["account", "group", "reason"],
        )
        oldest = GaugeMetricFamily(
            "leadrouter_push_held_oldest_seconds",
            "How long the longest-held of those leads has waited, in seconds.",
            labels=["account", "group", "reason"],
        )
        for h in now.held:
            labels = [h.account, h.group or "none", h.reason]
            held.add_metric(labels, h.leads)
            oldest.add_metric(labels, h.oldest_seconds)
        stuck = GaugeMetricFamily(
            "leadrouter_pool_leads_nobody_eligible",
            "Leads in a group's pool while no member may take one (0 when "
            "someone may).",
            labels=["account", "group"],
        )
        eligible = GaugeMetricFamily(
            "leadrouter_pool_eligible_members",
            "Members of the group who may press Get lead now.",
            labels=["account", "group"],
        )
        for p in now.pools:
            stuck.add_metric([p.account, p.group], p.leads if p.eligible == 0 else 0)
            eligible.add_metric([p.account, p.group], p.eligible)
        yield from (held, oldest, stuck, eligible)


WAITING = WaitingCollector()
REGISTRY.register(WAITING)


def crm_api_called(method: str, status: int | None) -> None:
    """One request to the external CRM; status None for a transport failure."""
    CRM_API_CALLS.labels(method, f"{status // 100}xx" if status else "none").inc()
    if status is None:
        CRM_API_ERRORS.labels("transport").inc()
    elif status == 429:
        CRM_API_ERRORS.labels("rate_limited").inc()
    elif status >= 500:
        CRM_API_ERRORS.labels("server").inc()
    elif status >= 400:
        CRM_API_ERRORS.labels("refused").inc()


def exposition() -> tuple[bytes, str]:
    """The current values in Prometheus' text format, and its content type."""
    return generate_latest(), CONTENT_TYPE_LATEST


def serve_metrics(host: str, port: int) -> bool:
    """Serves /metrics on its own port; a busy port is logged, not fatal."""
    if not port:
        return False
    try:
        start_http_server(port, addr=host)
    except OSError as error:
        log.error("metrics not served: port %s is taken (%s)", port, error)
        return False
    log.info("metrics on http://%s:%s/metrics", host, port)
    return True
