"""`leadrouter up`: every service and the gateway as processes on this machine."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import timedelta

from leadrouter.amocrm_mode import STARTING_WORKSPACE, after_first_sync, newcomer_lines
from leadrouter.auth import issue_token
from leadrouter.clients import Clients
from leadrouter.clock import SystemClock
from leadrouter.config import SERVICES, Settings
from leadrouter.crm.v1 import crm_pb2
from leadrouter.demo import WORKSPACE
from leadrouter.demo.history import record_demo
from leadrouter.errors import NotFound
from leadrouter.rpc import wait_for_health
from leadrouter.setup_changes import Actor, apply_file


def start_processes(settings: Settings) -> list[subprocess.Popen[bytes]]:
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    env = {**os.environ}
    env.setdefault("LEADROUTER_SECRET", settings.signing_secret)
    log_dir = settings.data_dir / "logs"
    log_dir.mkdir(exist_ok=True)
    procs = []
    for name, module in [
        *((s, ["leadrouter.serve", s]) for s in SERVICES),
        ("gateway", ["gateway"]),
    ]:
        log = open(log_dir / f"{name}.log", "ab")  # noqa: SIM115  (owned by the child)
        procs.append(
            subprocess.Popen(
                [sys.executable, "-m", *module], env=env, stdout=log, stderr=log
            )
        )
    return procs


def stop_processes(procs: list[subprocess.Popen[bytes]], grace: float = 10.0) -> None:
    for p in procs:
        if p.poll() is None:
            p.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + grace
    for p in procs:
        try:
            p.wait(max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            p.kill()


async def wait_ready(settings: Settings, timeout: float = 60.0) -> None:
    for service in SERVICES:
        await wait_for_health(settings.addr_for(service), timeout)
    import httpx

    url = f"http://{settings.gateway_host}:{settings.gateway_port}/healthz"
    deadline = time.monotonic() + timeout
    async with httpx.AsyncClient() as http:
        while True:
            try:
                if (await http.get(url)).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise TimeoutError(
                    "the gateway did not start; see var/logs/gateway.log"
                )
            await asyncio.sleep(0.2)


async def load_demo_if_empty(settings: Settings) -> bool:
    """Loads the demo workspace and history when the account has no CRM data."""
    if settings.crm != "builtin":
        return False  # users, pipelines and leads come from the CRM of record
    clients = Clients.from_settings(settings)
    try:
        try:
            await clients.crm.get_directory(
                crm_pb2.GetDirectoryRequest(account=settings.account)
            )
            return False
        except NotFound:
            pass
        yaml = WORKSPACE.read_text(encoding="utf-8")
        report = await apply_file(
            clients,
            yaml,
            settings.account,
            actor=Actor("leadrouter up", "demo workspace"),
        )
        if report.problems:
            raise SystemExit(f"the demo workspace does not apply: {report.problems}")
        problems = await record_demo(
            clients, settings.account, yaml, SystemClock().now()
        )
        if problems:
            raise SystemExit(f"the demo history does not record: {problems}")
        return True
    finally:
        await clients.close()


def amocrm_up(
    settings: Settings,
    procs: list[subprocess.Popen[bytes]],
    stopping: Callable[[], bool],
) -> int:
    """amoCRM mode: how to connect and install, then the first sync's progress
    and a starting workspace built from the account."""
    base = f"http://{settings.gateway_host}:{settings.gateway_port}"
    print(
        "\nleadrouter is running in amoCRM mode"
        + f"\n  web UI (through the widget): {base}/"
        + f"\n  logs: {settings.data_dir / 'logs'}/\n",
        flush=True,
    )
    for line in newcomer_lines(settings):
        print(line, flush=True)

    def ended() -> bool:
        return stopping() or any(p.poll() is not None for p in procs)

    existing = settings.data_dir / STARTING_WORKSPACE
    if existing.exists():
        print(f"Your starting workspace is {existing}", flush=True)
    else:

        async def follow() -> None:
            clients = Clients.from_settings(settings)
            try:
                await after_first_sync(
                    clients, settings, lambda x: print(x, flush=True), stopping=ended
                )
            finally:
                await clients.close()

        asyncio.run(follow())
    print("\nPress Ctrl-C to stop.", flush=True)
    while not stopping():
        if any(p.poll() is not None for p in procs):
            print("a service stopped unexpectedly; see its log", file=sys.stderr)
            return 1
        time.sleep(0.5)
    return 0


def up(settings: Settings) -> int:
    procs = start_processes(settings)
    stopping = False

    def on_signal(signum: int, _frame: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    try:
        asyncio.run(wait_ready(settings))
        if settings.crm == "amocrm":
            return amocrm_up(settings, procs, lambda: stopping)
        loaded = asyncio.run(load_demo_if_empty(settings))
        base = f"http://{settings.gateway_host}:{settings.gateway_port}"
        now = SystemClock().now()

        def token(user: str, role: str) -> str:
            return issue_token(
                settings.signing_secret,
                account=settings.account,
                user_id=user,
                role=role,
                now=now,
                ttl=timedelta(hours=settings.token_ttl_hours),
            )

        print(
            "\nleadrouter is running"
            + (" (demo workspace and history loaded)" if loaded else "")
            + f"\n  web UI:             {base}/"
            + f"\n  GraphQL + GraphiQL: {base}/graphql"
            + f"\n  health:             {base}/healthz, {base}/readyz"
            + f"\n  logs:               {settings.data_dir / 'logs'}/"
            + "\n\nDemo tokens (send as 'Authorization: Bearer <token>'):"
            + f"\n  manager ursula: {token('ursula', 'manager')}"
            + f"\n  manager marina: {token('marina', 'manager')}"
            + f"\n  admin head:     {token('head', 'admin')}"
            + "\n\nOpen the web UI signed in (or paste a token on its sign-in page):"
            + f"\n  as Ursula: {base}/#token={token('ursula', 'manager')}"
            + f"\n  as Helga:  {base}/#token={token('head', 'admin')}"
            + "\n\nPress Ctrl-C to stop.",
            flush=True,
        )
        while not stopping:
            if any(p.poll() is not None for p in procs):
                print("a service stopped unexpectedly; see var/logs/", file=sys.stderr)
                return 1
            time.sleep(0.5)
        return 0
    finally:
        print("stopping…", flush=True)
        stop_processes(procs)
