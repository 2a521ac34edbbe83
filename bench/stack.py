"""The product as separate processes for the benchmarks, as `leadrouter up` runs it.

Like tests/processes.py, with what the benchmarks need on top: extra
variables (sampling, the in-process span exporter), more than one gateway,
and each process's peak memory read from /proc before it stops.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from leadrouter.auth import issue_token
from leadrouter.config import SERVICES, Settings
from leadrouter.up import stop_processes, wait_ready

SECRET = "bench-secret-of-at-least-32-bytes-long"
ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _stat(pid: int) -> list[str]:
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()


def cpu_seconds(pid: int, reaped: bool = False) -> float:
    """User and system CPU the process has used so far, in seconds; with
    `reaped`, also that of its children that have ended."""
    fields = _stat(pid)
    ticks = int(fields[11]) + int(fields[12])
    if reaped:
        ticks += int(fields[13]) + int(fields[14])
    return ticks / os.sysconf("SC_CLK_TCK")


def postgres_cpu() -> float | None:
    """CPU seconds the local PostgreSQL server has used so far (postmaster,
    live backends, and backends that have ended), or None if it runs elsewhere."""
    names: dict[int, tuple[str, int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                comm = (entry / "comm").read_text().strip()
                names[int(entry.name)] = (comm, int(_stat(int(entry.name))[1]))
            except (OSError, IndexError, ValueError):
                continue
    masters = [
        pid
        for pid, (comm, parent) in names.items()
        if comm == "postgres" and names.get(parent, ("", 0))[0] != "postgres"
    ]
    if not masters:
        return None
    total = 0.0
    for master in masters:
        total += cpu_seconds(master, reaped=True)
        for pid, (_, parent) in names.items():
            if parent == master:
                with contextlib.suppress(OSError):
                    total += cpu_seconds(pid)
    return total


@dataclass
class CpuMeter:
    """CPU spent between start and stop: the product's processes, the database
    server and this process (the pressing managers, or the raw loop)."""

    stack: BenchStack | None = None
    spent: dict[str, float] = field(default_factory=dict)

    def _now(self) -> dict[str, float]:
        now = {"client": time.process_time()}
        if self.stack is not None:
            now["services"] = sum(self.stack.cpu().values())
        database = postgres_cpu()
        if database is not None:
            now["database"] = database
        return now

    def __enter__(self) -> CpuMeter:
        self._start = self._now()
        return self

    def __exit__(self, *_: object) -> None:
        end = self._now()
        self.spent = {k: end[k] - v for k, v in self._start.items() if k in end}

    def per(self, count: int) -> dict[str, float]:
        """Milliseconds of CPU per item (a claim) over `count` items."""
        return {k: round(v * 1000 / max(count, 1), 2) for k, v in self.spent.items()}


def peak_rss_mb(pid: int) -> float:
    """The process's peak resident set (VmHWM), in MiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


@dataclass
class BenchStack:
    settings: Settings
    env: dict[str, str]
    account: str
    procs: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    gateway_ports: list[int] = field(default_factory=list)

    @property
    def urls(self) -> list[str]:
        return [f"http://127.0.0.1:{p}/graphql" for p in self.gateway_ports]

    def token(self, user: str, role: str = "manager") -> str:
        return issue_token(
            SECRET,
            account=self.account,
            user_id=user,
            role=role,
            now=datetime.now(UTC),
            ttl=timedelta(hours=6),
        )

    def cli(self, *args: str) -> str:
        done = subprocess.run(
            [sys.executable, "-m", "leadrouter.cli", *args],
            env=self.env,
            capture_output=True,
            text=True,
            check=False,
            timeout=300,
            cwd=ROOT,
        )
        if done.returncode != 0:
            raise RuntimeError(
                f"leadrouter {' '.join(args)}: {done.stdout}{done.stderr}"
            )
        return done.stdout

    def peak_memory(self) -> dict[str, float]:
        return {
            name: round(peak_rss_mb(p.pid), 1)
            for name, p in self.procs.items()
            if p.poll() is None
        }

    def cpu(self) -> dict[str, float]:
        """CPU seconds each running process has used so far."""
        return {
            name: cpu_seconds(p.pid)
            for name, p in self.procs.items()
            if p.poll() is None
        }

    def _start(self, name: str, argv: list[str], env: dict[str, str]) -> None:
        log = open(self.settings.data_dir / f"{name}.log", "ab")  # noqa: SIM115
        self.procs[name] = subprocess.Popen(
            [sys.executable, *argv], env=env, stdout=log, stderr=log, cwd=ROOT
        )


@contextmanager
def bench_stack(
    data_dir: Path,
    database_url: str | None,
    account: str,
    *,
    gateways: int = 1,
    traced: bool = False,
    extra_env: dict[str, str] | None = None,
) -> Iterator[BenchStack]:
    """Every service and `gateways` gateways as processes on free loopback ports.

    Untraced runs sample nothing; traced runs sample every request and hand
    every span to an in-process exporter (bench/traced.py).
    """
    env = {k: v for k, v in os.environ.items() if not k.startswith("LEADROUTER_")}
    env.update(
        {
            "LEADROUTER_DATA_DIR": str(data_dir),
            "LEADROUTER_SECRET": SECRET,
            "LEADROUTER_ACCOUNT": account,
            "LEADROUTER_RPC_TIMEOUT_SECONDS": "120",
            "LEADROUTER_TRACE_SAMPLE_RATIO": "1.0" if traced else "0",
            "LEADROUTER_METRICS_PORT": "0",
            # Bursts are the point here: a per-manager press limit would refuse them.
            "LEADROUTER_CLAIM_RATE_PER_SECOND": "0",
            "PYTHONPATH": str(ROOT),
        }
    )
    env.update(extra_env or {})
    for service in SERVICES:
        env[f"LEADROUTER_{service.upper()}_ADDR"] = f"127.0.0.1:{free_port()}"
    if database_url:
        env["LEADROUTER_DATABASE_URL"] = database_url
    ports = [free_port() for _ in range(gateways)]
    addresses: dict[str, Any] = {
        f"{s}_addr": env[f"LEADROUTER_{s.upper()}_ADDR"] for s in SERVICES
    }
    settings = Settings(
        data_dir=data_dir,
        secret=SECRET,
        account=account,
        database_url=database_url,
        gateway_port=ports[0],
        **addresses,
    )
    data_dir.mkdir(parents=True, exist_ok=True)
    stack = BenchStack(settings, env, account, gateway_ports=ports)
    entry = ["-m", "bench.traced"] if traced else ["-m", "leadrouter.serve"]
    try:
        for service in SERVICES:
            stack._start(service, [*entry, service], env)
        for i, port in enumerate(ports):
            genv = {**env, "LEADROUTER_GATEWAY_PORT": str(port)}
            stack._start(f"gateway{i + 1}", [*entry, "gateway"], genv)
        asyncio.run(_ready(settings, ports[1:]))
        yield stack
    finally:
        stop_processes(list(stack.procs.values()))


async def _ready(settings: Settings, more_gateways: list[int]) -> None:
    await wait_ready(settings, timeout=120)
    import httpx

    async with httpx.AsyncClient() as http:
        for port in more_gateways:
            for _ in range(600):
                try:
                    if (
                        await http.get(f"http://127.0.0.1:{port}/healthz")
                    ).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                await asyncio.sleep(0.2)
