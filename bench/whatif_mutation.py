"""What-if tells a changed workspace from the one in force: a mutation, printed.

The demo account's two weeks are decided by the engine (as RecordHistory
makes the demo's past), then replayed twice: with the workspace in force,
which must reproduce what happened exactly (no difference), and with one
line of it changed, which must not. Everything runs in-process, in seconds.

    .venv/bin/python -m bench.whatif_mutation
    .venv/bin/python -m bench.whatif_mutation --old 'max_active: 5,' \
        --new 'max_active: 1,'

Exits 1 when the workspace in force does not reproduce the past, or the
changed one does not differ from it.
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from leadrouter.demo import WORKSPACE  # noqa: E402
from leadrouter.demo.history import demo_stream  # noqa: E402
from leadrouter.simulate import render_comparison  # noqa: E402
from leadrouter.workspace import Workspace, parse_workspace  # noqa: E402
from services.assigner.simulate import response  # noqa: E402
from services.assigner.whatif.distribution import Journaled  # noqa: E402
from services.assigner.whatif.inputs import ClaimPress  # noqa: E402
from services.assigner.whatif.record import Pressed, record  # noqa: E402
from services.assigner.whatif.replay import replay  # noqa: E402
from services.assigner.whatif.result import WhatIfResult  # noqa: E402
from services.crm import history as h  # noqa: E402

ACCOUNT = "demo"
NOW = datetime(2026, 11, 16, 3, 0, tzinfo=UTC)  # a Monday, 10:00 in Tomsk
# Ursula's share of the day calls doubled: one weight of one template.
OLD = "participants: [{user: ursula, weight: 1}, {user: nadezhda, weight: 2}]"
NEW = "participants: [{user: ursula, weight: 2}, {user: nadezhda, weight: 2}]"


def parsed(text: str) -> Workspace:
    ws, problems = parse_workspace(text)
    if ws is None:
        raise SystemExit(f"workspace: {problems}")
    return ws


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--old", default=OLD, help="text of the demo workspace")
    parser.add_argument("--new", default=NEW, help="what it becomes")
    args = parser.parse_args(argv)
    text = WORKSPACE.read_text(encoding="utf-8")
    if args.old not in text:
        raise SystemExit(f"not in {WORKSPACE.name}: {args.old}")
    changed = text.replace(args.old, args.new, 1)
    ws = parsed(text)
    tz = ZoneInfo(ws.account.timezone)
    stream = demo_stream(NOW)
    events = [h.parse_event(json.loads(line)) for line in stream.lines]
    presses = [ClaimPress(at, user, group) for at, user, group in stream.presses]
    past = record(
        ws,
        tz,
        events,
        presses,
        start=stream.start,
        end=stream.end,
        account=ACCOUNT,
    )
    pushes = [j.record for j in past.journal if isinstance(j, Journaled)]
    claims = [j.press for j in past.journal if isinstance(j, Pressed)]

    def what_if(proposal: Workspace) -> WhatIfResult:
        return replay(
            proposal,
            tz,
            past.events,
            claims,
            start=stream.start,
            end=stream.end,
            pushes=pushes,
            account=ACCOUNT,
        )

    same, other = what_if(ws), what_if(parsed(changed))
    print(f"the demo's {len(pushes)} push decisions and {len(claims)} presses")
    print(f"workspace in force: {len(same.differences())} differences")
    print(f"changed: {args.old}\n     to: {args.new}")
    print(f"proposal: {len(other.differences())} differences")
    for line in other.differences()[:10]:
        print(f"  {line}")
    print()
    print(render_comparison(response(other)))
    return 0 if not same.differences() and other.differences() else 1


if __name__ == "__main__":
    sys.exit(main())
