"""One product, as processes on a PostgreSQL server of its own, for breaking.

Starting five services, the gateway and a database server is the slow part,
so the modules share them; every test leaves the product running and its
journal in agreement with the CRM, which the next test checks again.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.faults.postgres import PrivatePostgres, private_postgres
from tests.faults.product import apply_open_workspace
from tests.processes import ProcessStack, process_stack

# Claims answer well inside this; a dead service must not hold a press long.
FAULT_SETTINGS = {
    "RPC_TIMEOUT_SECONDS": "5",
    # Bursts of presses by a few managers: the rate limit has its own tests.
    "CLAIM_RATE_PER_SECOND": "0",
}


@pytest.fixture(scope="package")
def fault_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("faults")


@pytest.fixture(scope="package")
def postgres() -> Iterator[PrivatePostgres]:
    with private_postgres() as server:
        yield server


@pytest.fixture(scope="package")
def fault_stack(fault_dir: Path, postgres: PrivatePostgres) -> Iterator[ProcessStack]:
    with process_stack(fault_dir / "var", postgres.url, FAULT_SETTINGS) as s:
        apply_open_workspace(s, fault_dir)
        yield s


@pytest.fixture
def http(fault_stack: ProcessStack) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=fault_stack.url, timeout=30) as client:
        yield client
