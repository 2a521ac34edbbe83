"""amoCRM mode for someone who has just set it up: what to open, what to install,
and a starting workspace once the account has been read.

`leadrouter up` with LEADROUTER_CRM=amocrm prints these instead of the demo's
tokens; its data directory is its own (var/amocrm/<subdomain>), so nothing of
the demo is mixed into the account.
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlencode

from leadrouter.clients import Clients
from leadrouter.config import Settings
from leadrouter.crm.v1 import crm_pb2
from leadrouter.errors import LeadrouterError
from leadrouter.limit_rules import RECOMMENDED
from leadrouter.stage_kinds import stage_kind_name

STARTING_WORKSPACE = "starting-workspace.yaml"


def consent_url(settings: Settings) -> str:
    """amoCRM's page where an account admin lets the integration in: "https://
    www.amocrm.ru/oauth?client_id=...&state=...&mode=post_message"; amoCRM then
    sends them to the redirect URI with `code`."""
    query = urlencode(
        {
            "client_id": settings.amocrm_client_id,
            "state": secrets.token_urlsafe(12),
            "mode": "post_message",
        }
    )
    return f"https://www.amocrm.ru/oauth?{query}"


def newcomer_lines(settings: Settings) -> list[str]:
    """What `leadrouter up` prints in amoCRM mode, before the first sync."""
    gateway = f"http://{settings.gateway_host}:{settings.gateway_port}"
    public = settings.amocrm_public_url or gateway
    lines = [
        f"amoCRM mode: account {settings.amocrm_subdomain or '(no subdomain set)'}, "
        f"data in {settings.data_dir}/ (no demo users, leads or tokens)",
    ]
    if settings.amocrm_long_lived_token or settings.amocrm_auth_code:
        lines.append("  connecting with the credentials set; the first sync follows")
    else:
        lines += [
            "Connect the account (once), as an amoCRM admin:",
            f"  {consent_url(settings)}",
            f"  amoCRM sends you to {settings.amocrm_redirect_uri or '(redirect URI)'}"
            "?code=...: set LEADROUTER_AMOCRM_AUTH_CODE to that code within 20",
            "  minutes and start again (or set LEADROUTER_AMOCRM_LONG_LIVED_TOKEN)",
        ]
    lines += [
        "Install the widget:",
        "  make widget  ->  dist/widget.zip",
        "  amoCRM: Settings -> Integrations -> Create integration -> upload "
        "dist/widget.zip;",
        f"  in the widget's settings set the server address to {public}",
        f"amoCRM's state: {gateway}/readyz (the 'amocrm' line)",
    ]
    return lines


def starting_workspace(directory: crm_pb2.Directory) -> str:
    """A workspace to start from, built from the account's users, pipelines and
    stages: one group per live pipeline, whose pool is its first open stage,
    whose members are the account's active people and whose default limits
    are the recommended set. Every id is named in a
    comment, so it reads before it is edited and applied."""
    people = [u for u in directory.users if u.active and not u.technical]
    exchange = [u for u in directory.users if u.technical]
    out = [
        "# A starting workspace built from the amoCRM account's users, pipelines",
        "# and stages. Edit it (who takes part, which stage is the pool, limits),",
        "# then: leadrouter apply " + STARTING_WORKSPACE,
        f"account: {{timezone: {directory.timezone or 'UTC'}}}",
        "",
        "groups:",
    ]
    for pipeline in directory.pipelines:
        if pipeline.archived:
            continue
        open_ = [s for s in pipeline.stages if stage_kind_name(s.kind) == "open"]
        if not open_:
            continue
        out.append(
            f"  # {pipeline.name}: "
            + ", ".join(f"{s.id} {s.name}" for s in pipeline.stages)
        )
        source, target = open_[0], open_[1] if len(open_) > 1 else open_[0]
        out += [
            f"  - id: pipeline-{pipeline.id}",
            f"    name: {_quoted(pipeline.name)}",
            f'    source_stages: ["{pipeline.id}/{source.id}"]  # {source.name}',
            f'    target_stage: "{pipeline.id}/{target.id}"  # {target.name}',
        ]
        if exchange:
            ids = ", ".join(f'"{u.id}"' for u in exchange)
            names = ", ".join(u.name for u in exchange)
            out.append(f"    exchange_users: [{ids}]  # {names}")
        else:
            out += [
                "    # Who holds the leads nobody works yet? Name that amoCRM user",
                "    # in LEADROUTER_AMOCRM_TECHNICAL_USERS and here.",
                "    exchange_users: []",
            ]
        out.append("    cascade: true")
        recommended = ", ".join(f"{k}: {v}" for k, v in RECOMMENDED.items())
        out.append(
            f"    default_limits: {{{recommended}}}  # recommended; docs/limits.md"
        )
        out.append("    members:")
        out += [f'      - {{user: "{u.id}"}}  # {u.name}' for u in people]
    return "\n".join(out) + "\n"


def _quoted(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


async def after_first_sync(
    clients: Clients,
    settings: Settings,
    say: Callable[[str], None],
    *,
    poll_seconds: float = 2.0,
    stopping: Callable[[], bool] = lambda: False,
) -> Path | None:
    """Waits for the first sync (saying how far it got), then writes the
    starting workspace into the data directory and says how to use it."""
    shown = ""
    while not stopping():
        try:
            state = await clients.crm.get_connection(
                crm_pb2.GetConnectionRequest(account=settings.account),
            )
            line = state.sync_progress
        except LeadrouterError as error:
            state, line = None, f"amoCRM state unknown: {error}"
        if state is not None and state.crm != "amocrm":
            return None  # the CRM of record is the built-in one
        if state is not None and state.synced:
            break
        if line and line != shown:
            say(line)
            shown = line
        await asyncio.sleep(poll_seconds)
    else:
        return None
    directory = await clients.crm.get_directory(
        crm_pb2.GetDirectoryRequest(account=settings.account)
    )
    path = settings.data_dir / STARTING_WORKSPACE
    path.write_text(starting_workspace(directory), encoding="utf-8")
    say(state.sync_progress)
    say(f"A starting workspace from the account's users, pipelines and stages: {path}")
    say(f"  edit it, then: leadrouter apply {path}")
    say("  later, `leadrouter export` prints the setup as it is then")
    return path
