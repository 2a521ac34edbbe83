"""The product as separate processes on loopback ports, as `leadrouter up` runs it."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from leadrouter.config import SERVICES, Settings
from leadrouter.rpc import wait_for_health
from leadrouter.up import stop_processes, wait_ready

SECRET = "process-test-secret-of-at-least-32-bytes"


# Ports for processes a test starts come from below the kernel's ephemeral
# range (32768 and up), where no server bound to port 0 (every in-process
# stack) can take one between the draw and the process binding it; each pytest
# worker draws from its own block, and no port is handed out twice. Each test
# run starts at its own place in the block (by process id), so that two runs
# on one machine do not take turns at the same few ports, where a port drawn
# free by one can be bound by the other before its process starts.
_BLOCK = 3000
_issued: set[int] = set()


def free_port() -> int:
    worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw")
    low = 20000 + (int(worker) if worker.isdigit() else 0) % 4 * _BLOCK
    start = os.getpid() * 7919 % _BLOCK
    for step in range(_BLOCK):
        port = low + (start + step) % _BLOCK
        if port in _issued:
            continue
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
        _issued.add(port)
        return port
    raise RuntimeError(f"no free port left in {low}..{low + _BLOCK}")


@dataclass
class ProcessStack:
    settings: Settings
    env: dict[str, str]
    procs: dict[str, subprocess.Popen[bytes]]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.settings.gateway_port}"

    def start(self, name: str) -> subprocess.Popen[bytes]:
        module = ["gateway"] if name == "gateway" else ["leadrouter.serve", name]
        log = open(self.settings.data_dir / f"{name}.log", "ab")  # noqa: SIM115
        proc = subprocess.Popen(
            [sys.executable, "-m", *module], env=self.env, stdout=log, stderr=log
        )
        self.procs[name] = proc
        return proc

    def kill(self, name: str) -> None:
        """`kill -9`: no draining, no goodbye, whatever it was in the middle of."""
        proc = self.procs[name]
        proc.kill()
        proc.wait(30)

    def restart(self, name: str) -> None:
        """Starts a stopped process again on the same address; waits until healthy."""
        import asyncio

        assert self.procs[name].poll() is not None, f"{name} is still running"
        self.start(name)
        asyncio.run(wait_for_health(self.settings.addr_for(name), timeout=60))

    def cli(self, *args: str, ok: bool = True) -> str:
        """Runs `leadrouter ARGS` against this stack; its output, stdout then stderr."""
        done = subprocess.run(
            [sys.executable, "-m", "leadrouter.cli", *args],
            env=self.env,
            capture_output=True,
            text=True,
            check=False,
            timeout=60,
        )
        assert (done.returncode == 0) == ok, done.stdout + done.stderr
        return done.stdout + done.stderr

    def log(self, name: str) -> str:
        return (self.settings.data_dir / f"{name}.log").read_text(errors="replace")


@contextmanager
def process_stack(
    data_dir: Path, database_url: str | None, more: dict[str, str] | None = None
) -> Iterator[ProcessStack]:
    """`more`: LEADROUTER_* variables to add, without the prefix (CLAIM_BURST)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("LEADROUTER_")}
    env.update(
        {
            "LEADROUTER_DATA_DIR": str(data_dir),
            "LEADROUTER_SECRET": SECRET,
            "LEADROUTER_ACCOUNT": "acme",
            "LEADROUTER_GATEWAY_PORT": str(free_port()),
            # Bursts of concurrent presses on a busy 2-core machine: be patient.
            "LEADROUTER_RPC_TIMEOUT_SECONDS": "60",
        }
    )
    for service in SERVICES:
        env[f"LEADROUTER_{service.upper()}_ADDR"] = f"127.0.0.1:{free_port()}"
    if database_url:
        env["LEADROUTER_DATABASE_URL"] = database_url
    env.update({f"LEADROUTER_{k}": v for k, v in (more or {}).items()})
    addresses: dict[str, Any] = {
        f"{s}_addr": env[f"LEADROUTER_{s.upper()}_ADDR"] for s in SERVICES
    }
    settings = Settings(
        data_dir=data_dir,
        secret=SECRET,
        account="acme",
        database_url=database_url,
        gateway_port=int(env["LEADROUTER_GATEWAY_PORT"]),
        **addresses,
    )
    data_dir.mkdir(parents=True, exist_ok=True)
    stack = ProcessStack(settings, env, {})
    try:
        for name in (*SERVICES, "gateway"):
            stack.start(name)
        import asyncio

        # Patient: five processes starting at once on a busy 2-core machine.
        asyncio.run(wait_ready(settings, timeout=120))
        yield stack
    finally:
        stop_processes(list(stack.procs.values()))
