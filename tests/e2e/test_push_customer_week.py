"""The seed-001 customer's week (domain.md section 7): who gets each call and request.

Calls and written requests arrive through the week as a partner system hands
them in; the managers take each lead into work right away, as the customer's
team does. Each window must split its leads exactly as the customer asked.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import datetime, timedelta
from itertools import pairwise
from pathlib import Path

from tests.e2e.push_support import (
    decided,
    owners,
    push_decisions,
    submit,
    take_into_work,
    tick,
    tomsk,
)
from tests.stack import Stack

WORKSPACE = Path(__file__).resolve().parents[2] / "examples" / "seed001-tomsk.yaml"
WEEKDAYS = ["2026-11-02", "2026-11-03", "2026-11-04", "2026-11-05", "2026-11-06"]
SATURDAY, SUNDAY, NEXT_MONDAY = "2026-11-07", "2026-11-08", "2026-11-09"


def _script() -> list[tuple[datetime, str, str]]:
    """(arrival, channel, the window the customer means), in arrival order."""
    leads: list[tuple[datetime, str, str]] = []
    for day in WEEKDAYS:
        nxt = (datetime.fromisoformat(day) + timedelta(days=1)).date().isoformat()
        for hhmm in ("09:00", "10:10", "11:15", "12:20", "13:25", "15:59"):
            leads.append((tomsk(f"{day}T{hhmm}"), "call", "calls Mon-Fri 09-16"))
        for hhmm in ("09:30", "12:00", "16:30", "18:59"):
            leads.append((tomsk(f"{day}T{hhmm}"), "form", "written Mon-Fri 09-19"))
        for at in (f"{day}T16:00", f"{day}T20:00", f"{day}T23:30", f"{nxt}T03:00"):
            leads.append((tomsk(at), "call", "calls Mon-Fri 16-09"))
    for hhmm in ("09:00", "10:00", "11:00", "12:00", "14:00", "16:59"):
        leads.append((tomsk(f"{SATURDAY}T{hhmm}"), "call", "calls Sat 09-17"))
    for hhmm in ("09:15", "12:30", "16:45"):
        leads.append((tomsk(f"{SATURDAY}T{hhmm}"), "email", "written Sat 09-17"))
    for at, channel in (
        (f"{SATURDAY}T18:00", "call"),
        (f"{SATURDAY}T20:00", "chat"),
        (f"{SUNDAY}T12:00", "call"),
        (f"{SUNDAY}T15:00", "form"),
        (f"{NEXT_MONDAY}T06:00", "call"),
    ):
        leads.append((tomsk(at), channel, "no template: waits for Mon 09:00"))
    return sorted(leads, key=lambda x: x[0])


async def test_the_customers_week_splits_every_window_as_asked(stack: Stack) -> None:
    result = await stack.apply(WORKSPACE.read_text(encoding="utf-8"))
    assert result["ok"], result["problems"]
    window_of: dict[str, str] = {}
    sequence: dict[str, list[str]] = defaultdict(list)
    waiting: list[str] = []
    for n, (at, channel, window) in enumerate(_script()):
        lead = f"W{n:03d}"
        window_of[lead] = window
        stack.clock.set(at)
        await submit(stack, lead, channel)
        first = (await decided(stack, lead))[0]
        if first["outcome"] == "held":
            assert first["reasons"] == [{"code": "no_template"}], lead
            waiting.append(lead)
            continue
        assert first["outcome"] == "assigned", (lead, first)
        sequence[window].append(first["assignee"])
        await take_into_work(stack, lead, at)

    # Monday 09:00: the leads that waited go out, oldest first.
    stack.clock.set(tomsk(f"{NEXT_MONDAY}T09:00"))
    released = await tick(stack)
    assert [d.lead_id for d in released] == waiting
    for d in released:
        sequence[window_of[d.lead_id]].append(d.assignee)
    assert all(o != "pool" for o in (await owners(stack, *window_of)).values())

    counts = {w: dict(Counter(who)) for w, who in sorted(sequence.items())}
    print("\nseed-001 week, leads per window and manager:")
    for window, split in counts.items():
        print(f"  {window:34} {split}")
    assert counts["calls Mon-Fri 09-16"] == {"ursula": 10, "nadezhda": 20}
    assert counts["calls Mon-Fri 16-09"] == {"ursula": 10, "marina": 10}
    assert counts["written Mon-Fri 09-19"] == {"ursula": 10, "nadezhda": 10}
    assert counts["calls Sat 09-17"] == {"marina": 2, "nadezhda": 4}
    assert counts["written Sat 09-17"] == {"marina": 1, "nadezhda": 2}
    # In turn: every pair of evening calls, and of weekday written requests,
    # goes one to each; every three day calls give Nadezhda two.
    for window in ("calls Mon-Fri 16-09", "written Mon-Fri 09-19"):
        who = sequence[window]
        assert all(a != b for a, b in pairwise(who)), who
    day_calls = sequence["calls Mon-Fri 09-16"]
    for i in range(0, len(day_calls), 3):
        assert Counter(day_calls[i : i + 3]) == {"nadezhda": 2, "ursula": 1}
    # What waited went to Monday's templates, and the journal said why it waited.
    assert Counter(d.template_id for d in released) == {
        "calls-day": 3,
        "written-weekdays": 2,
    }
    held = (await push_decisions(stack, waiting[0]))[0]
    assert "no template takes this lead now" in held["details"]["why"]
