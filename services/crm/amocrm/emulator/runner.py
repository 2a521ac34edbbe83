"""The emulator as a program: serves the account and prints how to connect to it."""

from __future__ import annotations

import argparse

from services.crm.amocrm.emulator import AmoEmulator


def main() -> None:
    import uvicorn

    parser = argparse.ArgumentParser(description="A local amoCRM API v4 for leadrouter")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--leads", type=int, default=300)
    args = parser.parse_args()
    emulator = AmoEmulator(seed=args.seed, leads=args.leads)
    base = f"http://{args.host}:{args.port}"
    emulator.url = base
    print(f"amoCRM emulator at {base} (account '{emulator.subdomain}')")
    print("Run leadrouter against it with (the gateway on port 8000):")
    print("  LEADROUTER_CRM=amocrm")
    print(f"  LEADROUTER_AMOCRM_SUBDOMAIN={emulator.subdomain}")
    print(f"  LEADROUTER_AMOCRM_ACCOUNT_ID={emulator.account_id}")
    print(f"  LEADROUTER_AMOCRM_TECHNICAL_USERS={emulator.exchange_user}")
    print("  LEADROUTER_AMOCRM_PUBLIC_URL=http://127.0.0.1:8000")
    print(f"  LEADROUTER_AMOCRM_BASE_URL={base}")
    print(f"  LEADROUTER_AMOCRM_CLIENT_ID={emulator.client_id}")
    print(f"  LEADROUTER_AMOCRM_CLIENT_SECRET={emulator.client_secret}")
    print(f"  LEADROUTER_AMOCRM_REDIRECT_URI={emulator.redirect_uri}")
    print(f"  LEADROUTER_AMOCRM_AUTH_CODE={emulator.issue_code()}")
    print("or, instead of the code (valid 20 minutes), a long-lived token:")
    print(f"  LEADROUTER_AMOCRM_LONG_LIVED_TOKEN={emulator.issue_long_lived_token()}")
    print(f"  request log: {base}/_emulator/log; new code: POST {base}/_emulator/code")
    uvicorn.run(emulator, host=args.host, port=args.port, log_level="warning")
