"""amoCRM mode as a newcomer enters it: its own data directory, the one URL to
connect and the widget's steps instead of demo tokens, a starting workspace
built from the account once it is read, and an emulator one can act in as a
person would (add, move, delete, restore a lead) and see leadrouter follow."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
from sqlalchemy import select
from sqlmodel import col

from leadrouter.amocrm_mode import after_first_sync, newcomer_lines
from leadrouter.config import Settings
from leadrouter.setup_changes import export_setup
from services.crm.amocrm.emulator import AmoEmulator
from services.crm.amocrm.emulator.runner import connect_lines, round_trip_lines
from services.crm.tables import Event
from tests.amocrm.harness import AmoStack, eventually
from tests.amocrm.test_e2e_push import amo_stack

__all__ = ["amo_stack"]  # the stack with 5007 as the technical user

EMULATED_LEADS = 60


def test_amocrm_mode_keeps_its_own_data_directory_and_account() -> None:
    amo = Settings(crm="amocrm", amocrm_subdomain="emulated")
    assert amo.data_dir == Path("var/amocrm/emulated")
    assert amo.account == "emulated"
    assert Settings().data_dir == Path("var")  # the demo's, untouched
    chosen = Settings(crm="amocrm", data_dir=Path("/srv/lr"), account="acme")
    assert (chosen.data_dir, chosen.account) == (Path("/srv/lr"), "acme")


def test_a_newcomer_is_told_the_url_to_connect_and_how_to_install_the_widget() -> None:
    settings = Settings(
        crm="amocrm",
        amocrm_subdomain="acme",
        amocrm_client_id="the-integration",
        amocrm_redirect_uri="https://lr.example/amocrm/oauth",
        amocrm_public_url="https://lr.example",
    )
    text = "\n".join(newcomer_lines(settings))
    url = next(w for w in text.split() if w.startswith("https://www.amocrm.ru/oauth"))
    query = parse_qs(urlsplit(url).query)
    assert query["client_id"] == ["the-integration"]
    assert query["mode"] == ["post_message"] and query["state"]
    assert "LEADROUTER_AMOCRM_AUTH_CODE" in text
    assert "make widget" in text and "dist/widget.zip" in text
    assert "server address to https://lr.example" in text
    assert "var/amocrm/acme" in text
    assert "Demo tokens" not in text and "Bearer" not in text


def _pool(group: str) -> str:
    return f'{{ pool(groupId: "{group}", first: 100) {{ edges {{ node {{ id }} }} }} }}'


async def test_the_starting_workspace_applies_and_the_round_trip_shows(
    amo_stack: AmoStack, emulator: AmoEmulator
) -> None:
    stack = amo_stack.stack
    said: list[str] = []
    path = await after_first_sync(
        stack.clients, stack.settings, said.append, poll_seconds=0.05
    )

    assert path is not None and path.parent == stack.settings.data_dir
    assert said[0].startswith("amoCRM sync finished")
    assert f"leadrouter apply {path}" in "\n".join(said)
    yaml = path.read_text()
    assert 'source_stages: ["7001/70010"]  # Incoming' in yaml
    assert 'exchange_users: ["5007"]  # Lead exchange' in yaml
    assert '{user: "5002"}  # Ursula' in yaml and "5008" not in yaml
    assert "7003" not in yaml.split("groups:")[1]  # the archived pipeline
    # A group the product makes starts with the recommended defaults.
    assert (
        "default_limits: {interval_minutes: 5, max_active: 50, max_new_today: 20, "
        "max_overdue_tasks: 3, max_overdue_days: 5}  # recommended" in yaml
    )
    applied = await stack.apply(yaml)
    assert applied["ok"], applied["problems"]

    # Offered next: `leadrouter export`, the setup in force as a workspace file,
    # which applies back in amoCRM mode and changes nothing.
    assert "`leadrouter export` prints the setup" in "\n".join(said)
    exported = await export_setup(stack.clients, stack.settings.account)
    assert "id: pipeline-7001" in exported and "5002" in exported
    again = await stack.apply(exported)
    assert (again["ok"], again["changes"]) == (True, []), again

    # The emulator's printed script, run as a newcomer would run it.
    script = round_trip_lines(emulator.url)
    assert any("/_emulator/leads/ID/move" in line for line in script)
    assert any(
        line.startswith("export LEADROUTER_AMOCRM_BASE_URL=")
        for line in connect_lines(emulator, emulator.url, amo_stack.gateway_url)
    )

    async def pooled() -> set[str]:
        data = await stack.data(_pool("pipeline-7001"))
        return {e["node"]["id"] for e in data["pool"]["edges"]}

    async with httpx.AsyncClient(base_url=emulator.url) as http:
        added = (await http.post("/_emulator/leads", json={"name": "Site call"})).json()
        lead = str(added["id"])

        async def arrived() -> bool:
            return lead in await pooled()

        await eventually(arrived)
        moved = await http.post(
            f"/_emulator/leads/{lead}/move", json={"status_id": 70012}
        )
        assert moved.json()["status_id"] == 70012

        async def left() -> bool:
            return lead not in await pooled()

        await eventually(left)
        assert (await http.delete(f"/_emulator/leads/{lead}")).status_code == 204
        await eventually(lambda: _journal_ends(amo_stack, lead, "lead_deleted"))
        assert (await http.post(f"/_emulator/leads/{lead}/restore")).status_code == 200

    async def journal() -> list[str]:
        data = await stack.data(
            f'{{ lead(id: "{lead}") {{ id stage }} }}', user="head", role="admin"
        )
        return [data["lead"]["stage"]]

    await eventually(lambda: _journal_ends(amo_stack, lead, "lead_restored"))
    assert await journal() == ["70012"]


def _journal_ends(amo_stack: AmoStack, lead: str, kind: str) -> bool:
    with amo_stack.stack.dbs["crm"].session() as s:
        kinds = list(
            s.scalars(select(col(Event.type)).where(col(Event.lead_id) == lead))
        )
    return bool(kinds) and kinds[-1] == kind
