"""The emulator as a program: serves the account and prints how to connect to it,
and how to act in it as a person would (add, move, delete a lead)."""

from __future__ import annotations

import argparse

from services.crm.amocrm.emulator import AmoEmulator


def connect_lines(emulator: AmoEmulator, base: str, gateway: str) -> list[str]:
    """Shell lines that point leadrouter at this emulated account."""
    return [
        "export LEADROUTER_CRM=amocrm",
        f"export LEADROUTER_AMOCRM_SUBDOMAIN={emulator.subdomain}",
        f"export LEADROUTER_AMOCRM_ACCOUNT_ID={emulator.account_id}",
        f"export LEADROUTER_AMOCRM_TECHNICAL_USERS={emulator.exchange_user}",
        f"export LEADROUTER_AMOCRM_PUBLIC_URL={gateway}",
        f"export LEADROUTER_AMOCRM_BASE_URL={base}",
        f"export LEADROUTER_AMOCRM_CLIENT_ID={emulator.client_id}",
        f"export LEADROUTER_AMOCRM_CLIENT_SECRET={emulator.client_secret}",
        f"export LEADROUTER_AMOCRM_REDIRECT_URI={emulator.redirect_uri}",
        "export LEADROUTER_AMOCRM_LONG_LIVED_TOKEN="
        + emulator.issue_long_lived_token(),
    ]


def round_trip_lines(base: str) -> list[str]:
    """A person's work in amoCRM, as curl: each sends amoCRM's webhooks."""
    lead = f"{base}/_emulator/leads"
    return [
        "# a request from the site arrives in Unsorted (the starting workspace's",
        "# pool); the answer names its id:",
        f'curl -s -X POST {lead} -d \'{{"name": "Call from the site"}}\'',
        "# take it into work in amoCRM (stage 70012, Taken), with ID from above:",
        f"curl -s -X POST {lead}/ID/move -d '{{\"status_id\": 70012}}'",
        "# delete it, and bring it back from the trash:",
        f"curl -s -X DELETE {lead}/ID",
        f"curl -s -X POST {lead}/ID/restore",
    ]


def main() -> None:
    import uvicorn

    parser = argparse.ArgumentParser(description="A local amoCRM API v4 for leadrouter")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--gateway", default="http://127.0.0.1:8000")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--leads", type=int, default=300)
    args = parser.parse_args()
    emulator = AmoEmulator(seed=args.seed, leads=args.leads)
    base = f"http://{args.host}:{args.port}"
    emulator.url = base
    print(f"amoCRM emulator at {base} (account '{emulator.subdomain}')")
    print("1. In another shell, point leadrouter at it and start it:")
    for line in connect_lines(emulator, base, args.gateway):
        print(f"  {line}")
    print("  make run")
    print("2. Act in the account as a person would; leadrouter follows:")
    for line in round_trip_lines(base):
        print(f"  {line}")
    print(f"Request log: {base}/_emulator/log")
    uvicorn.run(emulator, host=args.host, port=args.port, log_level="warning")
