"""Health and shutdown of real processes: readiness, and draining on SIGTERM."""

from __future__ import annotations

import asyncio
import json
import signal
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from sqlalchemy import create_engine, text

from leadrouter.rpc import LIVENESS, ServiceRunner, channel, wait_for_health
from tests.e2e.test_claim import CLAIM
from tests.e2e.test_claim_concurrency import token
from tests.fixtures import WORKSPACE, lead_created
from tests.processes import ProcessStack, process_stack


def until(check: Callable[[], bool], what: str, timeout: float = 20.0) -> None:
    """Polls `check` until it holds; a bounded wait for another process."""
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def serving(address: str) -> bool:
    try:
        asyncio.run(wait_for_health(address, timeout=0.5))
        return True
    except TimeoutError:
        return False


def load(stack: ProcessStack, tmp_path: Path, leads: int) -> None:
    workspace = tmp_path / "workspace.yaml"
    workspace.write_text(WORKSPACE)
    history = tmp_path / "history.jsonl"
    start = datetime.now(UTC) - timedelta(days=1)
    history.write_text(
        "\n".join(
            json.dumps(lead_created(f"L{i}", start + timedelta(minutes=i)))
            for i in range(leads)
        )
    )
    stack.cli("apply", str(workspace))
    stack.cli("import", str(history))


@pytest.mark.slow
def test_readyz_names_a_stopped_service(tmp_path: Path) -> None:
    with process_stack(tmp_path / "var", None) as stack:
        ready = httpx.get(f"{stack.url}/readyz", timeout=30)
        assert (ready.status_code, ready.json()) == (200, {"ready": True, "down": []})
        assert httpx.get(f"{stack.url}/healthz").status_code == 200

        limits = stack.procs["limits"]
        limits.send_signal(signal.SIGTERM)
        assert limits.wait(15) == 0
        down = httpx.get(f"{stack.url}/readyz", timeout=30)
        assert (down.status_code, down.json()) == (
            503,
            {"ready": False, "down": ["limits"]},
        )
        assert httpx.get(f"{stack.url}/healthz").status_code == 200  # still alive


@pytest.mark.slow
def test_sigterm_during_a_slow_claim_still_answers_it(
    tmp_path: Path, postgres_url: str
) -> None:
    with process_stack(tmp_path / "var", postgres_url) as stack:
        load(stack, tmp_path, leads=1)
        assigner_addr = stack.settings.addr_for("assigner")
        engine = create_engine(postgres_url)
        try:
            with engine.connect() as blocker:
                # The claim's first read waits behind this lock: it is in flight.
                blocker.execute(
                    text("LOCK TABLE assigner.groups IN ACCESS EXCLUSIVE MODE")
                )

                async def press() -> httpx.Response:
                    async with httpx.AsyncClient(
                        base_url=stack.url, timeout=60
                    ) as http:
                        return await http.post(
                            "/graphql",
                            json={"query": CLAIM, "variables": {"g": "main"}},
                            headers={"Authorization": f"Bearer {token('ursula')}"},
                        )

                async def scenario() -> httpx.Response:
                    pending = asyncio.create_task(press())
                    await asyncio.to_thread(
                        until, lambda: waiting_on_lock(engine) > 0, "a blocked claim"
                    )
                    stack.procs["assigner"].send_signal(signal.SIGTERM)
                    stack.procs["gateway"].send_signal(signal.SIGTERM)
                    # Draining: no new calls are taken while the old one runs.
                    await asyncio.to_thread(
                        until,
                        lambda: not serving(assigner_addr),
                        "the assigner to drain",
                    )
                    assert not pending.done()
                    blocker.rollback()  # the lock goes; the claim can finish
                    return await pending

                reply = asyncio.run(scenario())
        finally:
            engine.dispose()
        assert reply.status_code == 200
        claim = reply.json()["data"]["claimLead"]
        assert (claim["__typename"], claim["lead"]["id"]) == ("Claimed", "L0")
        assert stack.procs["assigner"].wait(15) == 0
        assert stack.procs["gateway"].wait(15) == 0


def waiting_on_lock(engine: object) -> int:
    from sqlalchemy.engine import Engine

    assert isinstance(engine, Engine)
    with engine.connect() as conn:
        return int(
            conn.execute(
                text(
                    "SELECT count(*) FROM pg_stat_activity "
                    "WHERE datname = current_database() AND wait_event_type = 'Lock'"
                )
            ).scalar_one()
        )


async def test_liveness_stays_serving_while_the_database_is_down() -> None:
    async def database_down() -> bool:
        return False

    runner = ServiceRunner("probe", lambda server: [], database_down)
    port = await runner.start("127.0.0.1:0")
    try:
        async with channel(f"127.0.0.1:{port}") as ch:
            health = health_pb2_grpc.HealthStub(ch)

            async def status(service: str) -> int:
                reply = await health.Check(
                    health_pb2.HealthCheckRequest(service=service), timeout=5
                )
                return int(reply.status)

            deadline = asyncio.get_running_loop().time() + 10
            while await status("") != health_pb2.HealthCheckResponse.NOT_SERVING:
                assert asyncio.get_running_loop().time() < deadline, "never unready"
                await asyncio.sleep(0.05)
            assert await status(LIVENESS) == health_pb2.HealthCheckResponse.SERVING
    finally:
        await runner.stop(grace=0)
