"""Scale-out on one machine: two replicas of every process against one PostgreSQL.

Clients are given both replicas' addresses and balance round robin; the
gateway runs twice too. Exactly-once must hold across replicas, because
shared state lives in the database, not in any process.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from leadrouter.assigner.v1 import assigner_pb2
from leadrouter.clients import Clients
from leadrouter.config import SERVICES
from leadrouter.crm.v1 import crm_pb2
from leadrouter.rpc import wait_for_health
from leadrouter.up import stop_processes
from tests.e2e.test_claim import CLAIM
from tests.e2e.test_claim_concurrency import CONCURRENT_WORKSPACE, MANAGERS, token
from tests.fixtures import lead_created
from tests.ops.otlp import otlp_collector
from tests.processes import SECRET, free_port

pytestmark = pytest.mark.slow
REPLICAS = 2


@dataclass
class Replicated:
    """Every process twice; `metrics[service]` has each replica's metrics port."""

    data_dir: Path
    env: dict[str, str]
    gateways: list[str] = field(default_factory=list)
    metrics: dict[str, list[int]] = field(default_factory=dict)
    procs: list[subprocess.Popen[bytes]] = field(default_factory=list)

    def start(self, name: str, replica: int, **env: str) -> None:
        module = ["gateway"] if name == "gateway" else ["leadrouter.serve", name]
        log = open(self.data_dir / f"{name}-{replica}.log", "ab")  # noqa: SIM115
        self.procs.append(
            subprocess.Popen(
                [sys.executable, "-m", *module],
                env={**self.env, **env},
                stdout=log,
                stderr=log,
            )
        )

    def cli(self, *args: str) -> str:
        done = subprocess.run(
            [sys.executable, "-m", "leadrouter.cli", *args],
            env=self.env,
            capture_output=True,
            text=True,
            check=False,
            timeout=120,
        )
        assert done.returncode == 0, done.stdout + done.stderr
        return done.stdout

    def clients(self) -> Clients:
        """Clients of every service, balanced over its replicas."""
        addresses: dict[str, Sequence[str]] = {
            s: self.env[f"LEADROUTER_{s.upper()}_ADDR"].split(",") for s in SERVICES
        }
        return Clients(addresses, timeout=60)

    def stop(self) -> None:
        stop_processes(self.procs)

    def logs(self) -> str:
        return "".join(
            p.read_text(errors="replace") for p in self.data_dir.glob("*.log")
        )


@contextmanager
def replicated_stack(
    data_dir: Path, database_url: str, **settings: str
) -> Iterator[Replicated]:
    data_dir.mkdir(parents=True, exist_ok=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith("LEADROUTER_")}
    env.update(
        LEADROUTER_DATA_DIR=str(data_dir),
        LEADROUTER_SECRET=SECRET,
        LEADROUTER_ACCOUNT="acme",
        LEADROUTER_DATABASE_URL=database_url,
        # 200 presses at once on a small machine: allow queueing, not failing.
        LEADROUTER_RPC_TIMEOUT_SECONDS="60",
        # Dozens of presses per manager at once: past the per-user rate limit.
        LEADROUTER_CLAIM_RATE_PER_SECOND="0",
        **settings,
    )
    listen = {
        s: [f"127.0.0.1:{free_port()}" for _ in range(REPLICAS)] for s in SERVICES
    }
    for service, addresses in listen.items():
        env[f"LEADROUTER_{service.upper()}_ADDR"] = ",".join(addresses)
    stack = Replicated(data_dir, env)
    try:
        for service in SERVICES:
            stack.metrics[service] = []
            for replica, address in enumerate(listen[service]):
                port = free_port()
                stack.metrics[service].append(port)
                stack.start(
                    service,
                    replica,
                    LEADROUTER_LISTEN_ADDR=address,
                    **{f"LEADROUTER_{service.upper()}_METRICS_PORT": str(port)},
                )
        for replica in range(REPLICAS):
            port = free_port()
            stack.gateways.append(f"http://127.0.0.1:{port}")
            stack.start("gateway", replica, LEADROUTER_GATEWAY_PORT=str(port))
        asyncio.run(
            _ready([a for addresses in listen.values() for a in addresses], stack)
        )
        yield stack
    finally:
        stop_processes(stack.procs)


async def _ready(addresses: list[str], stack: Replicated, timeout: float = 180) -> None:
    await asyncio.gather(*(wait_for_health(a, timeout) for a in addresses))
    deadline = time.monotonic() + timeout
    async with httpx.AsyncClient() as http:
        for url in stack.gateways:
            while True:
                try:
                    if (await http.get(f"{url}/healthz")).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                assert time.monotonic() < deadline, f"gateway {url} did not start"
                await asyncio.sleep(0.1)


def scrape(port: int, metric: str, having: str = "") -> float:
    """The sum of a metric's samples (those whose line has `having`) on a replica."""
    text = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=10).text
    return sum(
        float(line.rsplit(" ", 1)[1])
        for line in text.splitlines()
        if line.startswith((metric + "{", metric + " ")) and having in line
    )


DECISION = "query($id: ID!) { decision(id: $id) { traceId } }"
PUSHED = 300
WEIGHTS = {"ursula": 1, "nadezhda": 2, "marina": 3}
ALL_WEEK = ", ".join(
    f'{d}: ["00:00-24:00"]' for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
)
# Claims draw form leads from the pool; call leads are pushed by weight.
PUSH_WORKSPACE = (
    CONCURRENT_WORKSPACE
    + "schedules:\n"
    + "".join(
        f"  - {{user: {u}, weekly: {{{ALL_WEEK}}}, presence: follow_schedule}}\n"
        for u in WEIGHTS
    )
    + (
        "templates:\n"
        "  - id: calls\n"
        "    match: {channels: [call]}\n"
        "    participants: ["
        + ", ".join(f"{{user: {u}, weight: {w}}}" for u, w in WEIGHTS.items())
        + "]\n"
        "    algorithm: weighted\n"
        "    target_stage: sales/taken\n"
    )
)


async def pushed_owners(stack: Replicated, leads: list[str]) -> dict[str, str]:
    """Waits (bounded) until push has taken every lead out of the inbox."""
    clients = stack.clients()
    try:
        deadline = time.monotonic() + 180
        while True:
            found = await clients.crm.get_leads(
                crm_pb2.GetLeadsRequest(account="acme", ids=leads)
            )
            owners = {lead.id: lead.responsible for lead in found.leads}
            if all(o != "pool" for o in owners.values()):
                return owners
            assert time.monotonic() < deadline, Counter(owners.values())
            await asyncio.sleep(0.2)
    finally:
        await clients.close()


async def push_decisions(stack: Replicated) -> list[assigner_pb2.Decision]:
    clients = stack.clients()
    try:
        out: list[assigner_pb2.Decision] = []
        after = ""
        while True:
            page = await clients.assigner.list_decisions(
                assigner_pb2.ListDecisionsRequest(
                    account="acme", first=500, after=after
                ),
            )
            out += [d for d in page.decisions if d.kind == "push"]
            if not page.end_cursor:
                return out
            after = page.end_cursor
    finally:
        await clients.close()


def test_two_replicas_of_everything_claim_and_push_each_lead_once(
    tmp_path: Path, postgres_url: str
) -> None:
    leads = 150
    start = datetime.now(UTC) - timedelta(days=1)
    history = tmp_path / "history.jsonl"
    history.write_text(
        "\n".join(
            json.dumps(lead_created(f"L{i:03d}", start + timedelta(seconds=i)))
            for i in range(leads)
        )
    )
    workspace = tmp_path / "workspace.yaml"
    workspace.write_text(PUSH_WORKSPACE)
    calls = tmp_path / "calls.jsonl"
    call_leads = [f"C{i:03d}" for i in range(PUSHED)]
    calls.write_text(
        "\n".join(
            json.dumps(lead_created(lead, datetime.now(UTC), channel="call"))
            for lead in call_leads
        )
    )
    tokens = {m: token(m) for m in MANAGERS}

    async def press(http: httpx.AsyncClient, i: int) -> dict:
        reply = await http.post(
            "/graphql",
            json={"query": CLAIM, "variables": {"g": "main"}},
            headers={"Authorization": f"Bearer {tokens[MANAGERS[i % len(MANAGERS)]]}"},
        )
        body: dict = reply.json()
        assert not body.get("errors"), body
        return body["data"]["claimLead"]

    async def presses(gateways: list[str]) -> list[dict]:
        clients = [httpx.AsyncClient(base_url=url, timeout=120) for url in gateways]
        try:
            return await asyncio.gather(
                *(press(clients[i % len(clients)], i) for i in range(200))
            )
        finally:
            for client in clients:
                await client.aclose()

    async def first_claim_trace(gateway: str) -> str:
        """One press on its own; the trace id its decision stored."""
        async with httpx.AsyncClient(base_url=gateway, timeout=120) as http:
            claimed = await press(http, 0)
            reply = await http.post(
                "/graphql",
                json={
                    "query": DECISION,
                    "variables": {"id": claimed["decision"]["id"]},
                },
                headers={"Authorization": f"Bearer {tokens[MANAGERS[0]]}"},
            )
            trace_id: str = reply.json()["data"]["decision"]["traceId"]
            return trace_id

    with (
        otlp_collector() as (endpoint, collector),
        replicated_stack(
            tmp_path / "var", postgres_url, LEADROUTER_OTLP_ENDPOINT=endpoint
        ) as stack,
    ):
        assert "group main: added" in stack.cli("apply", str(workspace))
        assert f"imported {leads} events" in stack.cli("import", str(history))
        first = asyncio.run(first_claim_trace(stack.gateways[0]))
        results = asyncio.run(presses(stack.gateways))
        per_replica = [
            scrape(port, "leadrouter_claims_total")
            for port in stack.metrics["assigner"]
        ]
        takes = [
            scrape(port, "leadrouter_rpc_server_duration_seconds_count", "TakePoolLead")
            for port in stack.metrics["crm"]
        ]
        # Push: both assigner replicas follow the crm's events and race for
        # every new call lead; each must be assigned once, by weight.
        assert f"imported {PUSHED} events" in stack.cli("import", str(calls))
        owners = asyncio.run(pushed_owners(stack, call_leads))
        pushes = asyncio.run(push_decisions(stack))
        pushes_per_replica = [
            scrape(port, "leadrouter_rpc_server_duration_seconds_count", "GetLeads")
            for port in stack.metrics["crm"]
        ]
        stack.stop()  # every process sends the spans it still holds as it stops
        logs = stack.logs()
        trace = collector.trace(first)

    claimed = [r["lead"]["id"] for r in results if r["__typename"] == "Claimed"]
    refused = [r["reasons"][0]["code"] for r in results if r["__typename"] == "Refused"]
    assert [lead for lead, n in Counter(claimed).items() if n > 1] == []
    # The first press took L000; the 200 others shared the rest, once each.
    assert sorted(claimed) == [f"L{i:03d}" for i in range(1, leads)]
    assert Counter(refused) == {"pool_empty": 200 - (leads - 1)}
    # Both replicas did the work, and together exactly the 201 presses.
    assert sum(per_replica) == 201 and min(per_replica) > 0, per_replica
    assert min(takes) > 0, takes
    # And nothing secret reached any replica's log.
    assert SECRET not in logs
    assert not any(t in logs for t in tokens.values())
    # 300 pushed leads: once each, in exactly the weighted split.
    assert Counter(owners.values()) == {
        u: PUSHED * w // sum(WEIGHTS.values()) for u, w in WEIGHTS.items()
    }
    assigned = [d.lead_id for d in pushes if d.outcome == "assigned"]
    assert sorted(assigned) == call_leads, Counter(assigned).most_common(3)
    assert min(pushes_per_replica) > 0
    # The first claim is one connected trace across the processes it touched,
    # each exporting under its own service name.
    assert {"gateway", "assigner", "limits", "crm"} <= {s.service for s in trace}
    ids = {s.span_id for s in trace}
    roots = [s for s in trace if not s.parent_id]
    assert [(r.service, r.name) for r in roots] == [("gateway", "POST /graphql")]
    assert "graphql mutation claimLead" in {s.name for s in trace}
    assert all(s.parent_id in ids for s in trace if s.parent_id)
