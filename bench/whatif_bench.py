"""Benchmark: what-if of a month of the large demo, 40 managers, 3,000 leads.

The account is leadrouter/demo/large.py (issue 21 point 6: 30 days x 40
managers x 3,000 leads): its past is decided by the engine first, as
RecordHistory makes it, untimed; then the workspace in force is replayed
over it with the journal, in-process, three times, and the median is the
figure. The replay must reproduce what happened exactly ("exact").

Times are CPU seconds of this process: the replay is one thread of CPU
work, and on a shared machine the wall clock mostly measures the
neighbours. The baseline is a plain loop over the same events doing only
the bookkeeping any replay needs (owner and stage of each lead, tasks),
measured beside each replay (the median of eleven); the ratio, the median
of the three, says what the domain code costs on top of reading the history.

The target is half the ratio of the code before the work on speed ("half of
today's 4.4 s"): measured this way on this machine, code 2733e28 took 2.23
and 2.18 CPU s, 164 x and 146 x the loop; 155 x is taken.

    .venv/bin/python bench/whatif_bench.py           # the large demo's month
    .venv/bin/python bench/whatif_bench.py --account generated  # 50 managers
    .venv/bin/python -m bench.whatif_bench --quick   # a week

The generated account (50 managers, its own seeded history of what
happened, no journal) is what the row measured before; its push rounds
weigh more than its limits. Writes bench/results/whatif.json. Not a test:
nothing here asserts a time.
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
from typing import Any
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from leadrouter.demo import large  # noqa: E402
from leadrouter.workspace import Workspace, parse_workspace  # noqa: E402
from services.assigner.whatif.distribution import Journaled  # noqa: E402
from services.assigner.whatif.inputs import ClaimPress, PushRecord  # noqa: E402
from services.assigner.whatif.record import Pressed, record  # noqa: E402
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
# The ratio of code 2733e28 on the large demo, measured as below; the target
# is half of it.
BEFORE = 155.0
TARGET_RATIO = BEFORE / 2
LARGE_ACCOUNT = "large"
LARGE_NOW = datetime(2026, 2, 1, 3, tzinfo=ZoneInfo("UTC"))
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


def large_account(days: int) -> tuple[Any, ...]:
    """The large demo (leadrouter/demo/large.py): its past decided by the engine.

    The workspace, the history as RecordHistory keeps it, the presses and the
    push decisions of the journal, and the range.
    """
    ws, problems = parse_workspace(large.workspace())
    if ws is None:
        raise SystemExit(f"large demo workspace: {problems}")
    tz = ZoneInfo(ws.account.timezone)
    stream = large.stream(LARGE_NOW, days=days)
    events = [h.parse_event(json.loads(line)) for line in stream.lines]
    presses = [ClaimPress(at, user, group) for at, user, group in stream.presses]
    past = record(
        ws,
        tz,
        events,
        presses,
        start=stream.start,
        end=stream.end,
        account=LARGE_ACCOUNT,
    )
    pushes = [j.record for j in past.journal if isinstance(j, Journaled)]
    claims = [j.press for j in past.journal if isinstance(j, Pressed)]
    return ws, tz, past.events, claims, pushes, stream.start, stream.end


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a week, not a month")
    parser.add_argument(
        "--account",
        choices=("large", "generated"),
        default="large",
        help="the large demo, decided by the engine (the row), or the generated "
        "50-manager month",
    )
    parser.add_argument(
        "--out", default=str(ROOT / "bench" / "results" / "whatif.json")
    )
    args = parser.parse_args(argv)
    days = 7 if args.quick else 30
    pushes: list[PushRecord] | None = None
    if args.account == "large":
        ws, tz, events, presses, pushes, start, end = large_account(days)
        managers = len(large.managers(40))
    else:
        parsed, problems = parse_workspace(workspace_yaml())
        if parsed is None:
            raise SystemExit(f"bench workspace: {problems}")
        ws, tz, start, end = parsed, TZ, START, START + timedelta(days=days)
        events, presses = history(days)
        managers = len(MANAGERS)

    def timed() -> tuple[float, WhatIfResult]:
        began = time.process_time()
        result = replay(
            ws,
            tz,
            events,
            presses,
            start=start,
            end=end,
            pushes=pushes,
            account=LARGE_ACCOUNT if pushes is not None else "",
        )
        return time.process_time() - began, result

    # Each replay beside its own baseline, so a load that comes and goes
    # weighs on both sides of each ratio alike.
    runs, bases = [], []
    for _ in range(3):
        bases.append(statistics.median(baseline(events) for _ in range(11)))
        runs.append(timed())
    seconds = statistics.median(s for s, _ in runs)
    same = all(r == runs[0][1] for _, r in runs)
    base = statistics.median(bases)
    ratios = [s / b for (s, _), b in zip(runs, bases, strict=True) if b]
    ratio = statistics.median(ratios) if ratios else None
    first = runs[0][1]
    # With the journal, the workspace in force must reproduce what happened.
    exact = pushes is None or not first.differences()
    data = {
        "name": "whatif",
        "account": args.account,
        "managers": managers,
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
        "target": f"<= {TARGET_RATIO:.1f} x the loop (half of {BEFORE:.0f} x before)",
        "met": seconds < TARGET_SECONDS and ratio is not None and ratio <= TARGET_RATIO,
        "deterministic": same,
        "exact": exact,
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
    return 0 if same and exact else 1


if __name__ == "__main__":
    sys.exit(main())
