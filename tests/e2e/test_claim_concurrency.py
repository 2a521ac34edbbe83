"""Exactly once: concurrent presses against separate service processes."""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from leadrouter.auth import issue_token
from tests.e2e.test_claim import CLAIM
from tests.fixtures import WORKSPACE, lead_created
from tests.processes import SECRET, process_stack

pytestmark = pytest.mark.slow

MANAGERS = ["ursula", "nadezhda", "marina", "pavel", "ivan"]
CONCURRENT_WORKSPACE = WORKSPACE.replace(
    "      - {user: marina, limits: {max_active: 2}}\n"
    "      - {user: pavel, enabled: false}",
    "      - {user: marina}\n      - {user: pavel}\n      - {user: ivan}",
).replace(
    "  - {id: pavel, name: Pavel}", "  - {id: pavel, name: Pavel}\n  - {id: ivan}"
)


def token(user: str, role: str = "manager") -> str:
    return issue_token(
        SECRET,
        account="acme",
        user_id=user,
        role=role,
        now=datetime.now(UTC),
        ttl=timedelta(hours=1),
    )


async def gql(http: httpx.AsyncClient, query: str, variables: dict, tok: str) -> dict:
    reply = await http.post(
        "/graphql",
        json={"query": query, "variables": variables},
        headers={"Authorization": f"Bearer {tok}"},
    )
    body: dict = reply.json()
    assert not body.get("errors"), body
    return body["data"]


def test_fifty_concurrent_claims_hand_out_each_of_twenty_leads_once(
    tmp_path: Path, database_url: str | None
) -> None:
    history = tmp_path / "history.jsonl"
    start = datetime.now(UTC) - timedelta(days=1)
    history.write_text(
        "\n".join(
            json.dumps(lead_created(f"L{i:02d}", start + timedelta(minutes=i)))
            for i in range(20)
        )
    )

    async def scenario(url: str) -> list[dict]:
        async with httpx.AsyncClient(base_url=url, timeout=60) as http:
            presses = [
                gql(http, CLAIM, {"g": "main"}, token(MANAGERS[i % len(MANAGERS)]))
                for i in range(50)
            ]
            return [r["claimLead"] for r in await asyncio.gather(*presses)]

    with process_stack(tmp_path / "var", database_url) as stack:
        workspace = tmp_path / "workspace.yaml"
        workspace.write_text(CONCURRENT_WORKSPACE)
        assert "group main: added" in stack.cli("apply", str(workspace))
        assert "imported 20 events" in stack.cli("import", str(history))
        results = asyncio.run(scenario(stack.url))

    claimed = [r["lead"]["id"] for r in results if r["__typename"] == "Claimed"]
    refused = [r["reasons"][0]["code"] for r in results if r["__typename"] == "Refused"]
    assert sorted(claimed) == [f"L{i:02d}" for i in range(20)]
    assert Counter(refused) == {"pool_empty": 30}
