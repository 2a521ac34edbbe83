"""Benchmark: a month of a 50-manager account replayed under a proposed workspace.

The history is generated from a fixed seed: inbox leads arriving around the
clock, the push that really happened, stage moves, tasks, wins and losses,
and presses of the button, all as the replay takes them (canonical events
and presses). The replay runs in-process, three times; the median is the
figure. Times are CPU seconds of this process: the replay is one thread of
CPU work, and on a shared machine the wall clock mostly measures the
neighbours. The baseline is a plain loop over the same events doing only
the bookkeeping any replay needs (owner and stage of each lead, tasks),
measured beside each replay (the median of eleven); the ratio, the median
of the three, says what the domain code costs on top of reading the history.

The target is half the ratio of the code before the work on speed (issue
21 point 6, "half of today's 4.4 s"): measured this way, code 2733e28 takes
3.57 CPU s against a 10.9 ms loop, 328 x (the 4,414 ms and 593 x of
bench/RESULTS.md then were wall time beside a loop timed apart).

    .venv/bin/python bench/whatif_bench.py           # a month, 50 managers
    .venv/bin/python -m bench.whatif_bench --quick   # a week

Writes bench/results/whatif.json. Not a test: nothing here asserts a time.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from leadrouter.workspace import Workspace, parse_workspace  # noqa: E402
from services.assigner.whatif.inputs import ClaimPress  # noqa: E402
from services.assigner.whatif.replay import replay  # noqa: E402
from services.assigner.whatif.result import WhatIfResult  # noqa: E402
from services.crm import history as h  # noqa: E402

SEED = 12
MANAGERS = [f"m{i:02d}" for i in range(50)]
TZ = ZoneInfo("Asia/Tomsk")
START = datetime(2026, 6, 1, tzinfo=TZ)
LEADS_PER_DAY = 100
PRESSES_PER_DAY = 40
TARGET_SECONDS = 60.0
# Half of 328 x, the ratio of code 2733e28 measured as below.
TARGET_RATIO = 328 / 2
CHANNELS = ("call", "call", "form", "form", "chat")


def workspace_yaml() -> str:
    """50 managers in two groups with limits; 5/2 and 2/2 shifts; three templates."""
    lines = [
        "account: {timezone: Asia/Tomsk}",
        "users:",
        "  - {id: inbox, technical: true}",
        *[f"  - {{id: {m}}}" for m in MANAGERS],
        "pipelines:",
        "  - id: sales",
        "    stages:",
        "      - {id: new}",
        "      - {id: taken}",
        "      - {id: meeting}",
        "      - {id: won, kind: won}",
        "      - {id: lost, kind: lost}",
        "groups:",
    ]
    for g, members in (("g1", MANAGERS[:25]), ("g2", MANAGERS[25:])):
        lines += [
            f"  - id: {g}",
            "    source_stages: [sales/new]",
            "    target_stage: sales/taken",
            "    key_stage: sales/meeting",
            "    exchange_users: [inbox]",
            "    members:",
        ]
        for i, m in enumerate(members):
            limits = [
                "max_active: 40",
                "max_new_today: 12",
                "max_lost_today: 3",
                "max_overdue_tasks: 5",
            ]
            if i % 3 == 0:
                limits.append("interval_minutes: 20")
            if i % 5 == 0:
                limits.append("days_without_sales: 10")
            lines.append(f"      - {{user: {m}, limits: {{{', '.join(limits)}}}}}")
    lines.append("schedules:")
    for i, m in enumerate(MANAGERS):
        if i % 5 < 3:
            days = ", ".join(
                f'{d}: ["09:00-18:00"]' for d in ("mon", "tue", "wed", "thu", "fri")
            )
            lines.append(f"  - {{user: {m}, weekly: {{{days}}}}}")
        else:
            lines.append(
                f"  - {{user: {m}, cycle: {{on: 2, off: 2, "
                f'anchor: 2026-05-{30 + i % 2:02d}, window: "08:00-22:00"}}}}'
            )
    calls = ", ".join(
        f"{{user: {m}, weight: {1 + i % 3}}}" for i, m in enumerate(MANAGERS[:25])
    )
    forms = ", ".join(f"{{user: {m}}}" for m in MANAGERS[25:])
    lines += [
        "templates:",
        "  - id: calls",
        "    match: {channels: [call]}",
        "    days: [mon, tue, wed, thu, fri]",
        '    window: "09:00-18:00"',
        f"    participants: [{calls}]",
        "    algorithm: weighted",
        "    target_stage: sales/taken",
        "    respect_limits: true",
        "    reassign_after_minutes: 30",
        "  - id: forms",
        "    match: {channels: [form]}",
        f"    participants: [{forms}]",
        "    algorithm: round_robin",
        "    target_stage: sales/taken",
        "  - id: chats",
        "    match: {channels: [chat]}",
        f"    participants: [{forms}]",
        "    algorithm: random",
        "    target_stage: sales/taken",
    ]
    return "\n".join(lines) + "\n"


def history(days: int) -> tuple[list[h.CanonicalEvent], list[ClaimPress]]:
    """A deterministic month: what happened to every lead, and the presses."""
    rng = random.Random(SEED)
    raw: list[dict[str, object]] = []
    task = 0
    for day in range(days):
        base = START + timedelta(days=day)
        for n in range(LEADS_PER_DAY):
            lead = f"L{day:02d}{n:03d}"
            at = base + timedelta(seconds=rng.randrange(86_400))
            channel = rng.choice(CHANNELS)
            raw.append(
                {
                    "type": "lead_created",
                    "at": at,
                    "lead": lead,
                    "pipeline": "sales",
                    "stage": "new",
                    "responsible": "inbox",
                    "channel": channel,
                }
            )
            owner = rng.choice(MANAGERS[:25] if channel == "call" else MANAGERS[25:])
            pushed = at + timedelta(minutes=rng.randrange(0, 3))
            raw.append(
                {"type": "responsible_changed", "at": pushed, "lead": lead, "to": owner}
            )
            raw.append(
                {"type": "stage_changed", "at": pushed, "lead": lead, "to": "taken"}
            )
            # Most leads are taken into work within the half-hour SLA.
            quick = rng.random() < 0.85
            worked = pushed + timedelta(minutes=rng.randrange(2, 28 if quick else 600))
            if rng.random() < 0.6:
                task += 1
                raw.append(
                    {
                        "type": "task_created",
                        "at": worked,
                        "task": f"T{task}",
                        "lead": lead,
                        "responsible": owner,
                        "deadline": worked + timedelta(hours=rng.randrange(2, 72)),
                    }
                )
                if rng.random() < 0.8:
                    done = worked + timedelta(hours=rng.randrange(1, 96))
                    raw.append(
                        {"type": "task_completed", "at": done, "task": f"T{task}"}
                    )
            if quick or rng.random() < 0.5:
                raw.append(
                    {
                        "type": "stage_changed",
                        "at": worked,
                        "lead": lead,
                        "to": "meeting",
                    }
                )
            closed = worked + timedelta(hours=rng.randrange(1, 240))
            outcome = rng.random()
            if outcome < 0.2:
                raw.append(
                    {"type": "stage_changed", "at": closed, "lead": lead, "to": "won"}
                )
            elif outcome < 0.45:
                raw.append(
                    {"type": "stage_changed", "at": closed, "lead": lead, "to": "lost"}
                )
    end = START + timedelta(days=days)
    events = [
        h.parse_event(
            {**e, **{k: v.isoformat() for k, v in e.items() if isinstance(v, datetime)}}
        )
        for e in raw
        if isinstance(e["at"], datetime) and e["at"] < end
    ]
    events.sort(key=lambda e: e.at)
    presses = sorted(
        (
            ClaimPress(
                START + timedelta(days=day, seconds=rng.randrange(86_400)),
                m := rng.choice(MANAGERS),
                "g1" if m in MANAGERS[:25] else "g2",
            )
            for day in range(days)
            for _ in range(PRESSES_PER_DAY)
        ),
        key=lambda p: p.at,
    )
    return events, presses


def baseline(events: list[h.CanonicalEvent]) -> float:
    """The same events through nothing but the bookkeeping dicts."""
    began = time.process_time()
    owner: dict[str, str] = {}
    stage: dict[str, str] = {}
    tasks: dict[str, tuple[str, bool]] = {}
    for e in events:
        if isinstance(e, h.LeadCreated):
            owner[e.lead], stage[e.lead] = e.responsible, e.stage
        elif isinstance(e, h.ResponsibleChanged):
            owner[e.lead] = e.to
        elif isinstance(e, h.StageChanged):
            stage[e.lead] = e.to
        elif isinstance(e, h.TaskCreated):
            tasks[e.task] = (e.responsible, False)
        elif isinstance(e, h.TaskCompleted) and e.task in tasks:
            tasks[e.task] = (tasks[e.task][0], True)
    return time.process_time() - began


def run(ws: Workspace, days: int) -> tuple[float, WhatIfResult]:
    events, presses = history(days)
    began = time.process_time()
    result = replay(
        ws, TZ, events, presses, start=START, end=START + timedelta(days=days)
    )
    return time.process_time() - began, result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a week, not a month")
    parser.add_argument(
        "--out", default=str(ROOT / "bench" / "results" / "whatif.json")
    )
    args = parser.parse_args(argv)
    days = 7 if args.quick else 30
    ws, problems = parse_workspace(workspace_yaml())
    if ws is None:
        raise SystemExit(f"bench workspace: {problems}")
    events, presses = history(days)
    # Each replay beside its own baseline, so a load that comes and goes
    # weighs on both sides of each ratio alike.
    runs, bases = [], []
    for _ in range(3):
        bases.append(statistics.median(baseline(events) for _ in range(11)))
        runs.append(run(ws, days))
    seconds = statistics.median(s for s, _ in runs)
    same = all(r == runs[0][1] for _, r in runs)
    base = statistics.median(bases)
    ratios = [s / b for (s, _), b in zip(runs, bases, strict=True) if b]
    ratio = statistics.median(ratios) if ratios else None
    first = runs[0][1]
    data = {
        "name": "whatif",
        "managers": len(MANAGERS),
        "days": days,
        "leads": sum(1 for e in events if isinstance(e, h.LeadCreated)),
        "events": len(events),
        "presses": len(presses),
        "seconds": round(seconds, 3),
        "runs": [round(s, 3) for s, _ in runs],
        "baseline_seconds": round(base, 4),
        "baseline": "a plain loop over the same events updating owner, stage and "
        "task dicts",
        "ratio": None if ratio is None else round(ratio, 1),
        "target_seconds": TARGET_SECONDS,
        "target_ratio": round(TARGET_RATIO, 1),
        "target": f"<= {TARGET_RATIO:.0f} x the loop (half of 2733e28's 328 x)",
        "met": seconds < TARGET_SECONDS and ratio is not None and ratio <= TARGET_RATIO,
        "deterministic": same,
        "blocked_members": len(first.blocked),
        "refused_claims": first.proposed.refused_presses,
        "held_leads": first.proposed.held.leads,
        "sla_reassignments": first.proposed.sla_total,
        "handovers": first.proposed.handovers_total,
    }
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(data, indent=2) + "\n")
    print(json.dumps(data, indent=2))
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
