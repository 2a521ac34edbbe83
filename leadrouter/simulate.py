"""What-if runs: fetches an account's history and replays it under a workspace."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from leadrouter.assigner.v1 import assigner_pb2
from leadrouter.clients import Clients
from leadrouter.crm.v1 import crm_pb2
from leadrouter.errors import Problem
from leadrouter.timestamps import from_ts, to_ts
from leadrouter.workspace import parse_workspace
from services.assigner.whatif import (
    BUTTON,
    HELD,
    UNASSIGNED,
    ClaimPress,
    Held,
    PushRecord,
    WhatIfResult,
    replay,
)
from services.crm.history import CanonicalEvent, parse_event

# A year of history replays in minutes; a longer range is a mistake, not a plan.
MAX_RANGE = timedelta(days=366)
# A press refused because the pool was empty was not refused by a limit.
NOT_A_LIMIT = frozenset({"pool_empty"})


async def fetch_history(
    clients: Clients, account: str, start: datetime, end: datetime
) -> tuple[list[CanonicalEvent], list[ClaimPress]]:
    """Every CRM event before `end`, and the presses of the button in the range."""
    events, presses, _ = await fetch_journal(clients, account, start, end)
    return events, presses


async def fetch_journal(
    clients: Clients, account: str, start: datetime, end: datetime
) -> tuple[list[CanonicalEvent], list[ClaimPress], list[PushRecord]]:
    """The CRM events before `end`; the presses and push decisions in the range."""
    events: list[CanonicalEvent] = []
    stream = clients.crm.stream(
        "StreamEvents", crm_pb2.StreamEventsRequest(account=account, follow=False)
    )
    async for message in stream:
        if from_ts(message.at) < end:
            events.append(parse_event(json.loads(message.json)))
    # The journal pages newest first; decisions at one instant keep their
    # journal order (offset), which is the order they were made in.
    presses: list[tuple[datetime, int, ClaimPress]] = []
    pushes: list[tuple[datetime, int, PushRecord]] = []
    after = ""
    while True:
        request = assigner_pb2.ListDecisionsRequest(
            account=account, to=to_ts(end), first=500, after=after
        )
        getattr(request, "from").CopyFrom(to_ts(start))  # `from` is a keyword
        page = await clients.assigner.call("ListDecisions", request)
        for d in page.decisions:
            at = from_ts(d.at)
            if d.kind == "claim":
                presses.append((at, d.offset, _press(d)))
            elif d.kind == "push":
                trigger = json.loads(d.details_json or "{}").get("trigger", "")
                push = PushRecord(
                    at, d.lead_id, d.outcome, d.template_id, d.assignee, trigger
                )
                pushes.append((at, d.offset, push))
        if not page.decisions or not page.end_cursor:
            break
        after = page.end_cursor
    return (
        events,
        [p for *_, p in sorted(presses, key=lambda x: x[:2])],
        [p for *_, p in sorted(pushes, key=lambda x: x[:2])],
    )


def _press(d: assigner_pb2.Decision) -> ClaimPress:
    limits = tuple(
        r.verdict.limit if r.code == "limit" else r.code
        for r in d.reasons
        if r.code not in NOT_A_LIMIT
    )
    outcome = "refused" if d.outcome == "refused" and limits else "claimed"
    lead = d.lead_id if outcome == "claimed" else ""
    return ClaimPress(from_ts(d.at), d.actor, d.group_id, outcome, limits, lead)


def _pct(share: float) -> str:
    return f"{share:.0%}"


def _fair(score: float | None) -> str:
    return "—" if score is None else f"{score * 100:.1f} pp"


def _held(held: Held | None) -> str:
    if held is None:
        return "—"
    return (
        f"{held.leads} lead(s), {held.total_minutes} min in all, "
        f"longest {held.max_minutes} min"
    )


def _opt(n: int | None) -> str:
    return "—" if n is None else str(n)


def render_comparison(result: WhatIfResult) -> str:
    """The proposal beside what happened, as a plain-text table."""
    lines = [
        f"{'manager':<20} {'proposed':>9} {'actual':>9} "
        f"{'share':>7} {'act.sh':>7} {'ideal':>7}"
    ]
    for m in result.managers:
        lines.append(
            f"{m.user:<20} {m.proposed:>9} {m.actual:>9} {_pct(m.proposed_share):>7} "
            f"{_pct(m.actual_share):>7} {_pct(m.ideal_share):>7}"
        )
    for bucket in (BUTTON, HELD, UNASSIGNED):
        p, a = result.proposed.get(bucket, 0), result.actual.get(bucket, 0)
        if p or a:
            lines.append(f"{bucket:<20} {p:>9} {a:>9}")
    lines.append(
        f"fairness (max deviation from the ideal share): proposed "
        f"{_fair(result.fairness)}, actual {_fair(result.actual_fairness)}"
    )
    lines.append("")
    lines.append("leads per template and window (proposed / actual):")
    templates = result.template_ids()
    for t in templates:
        proposed = result.pushed_by_template.get(t, {})
        actual = result.actual_by_template.get(t, {})
        who = sorted(set(proposed) | set(actual))
        split = ", ".join(f"{u} {proposed.get(u, 0)}/{actual.get(u, 0)}" for u in who)
        window = result.windows.get(t, "not in the proposal")
        deviation = result.max_deviation.get(t)
        off = f"; max deviation {deviation:.2f} leads" if deviation is not None else ""
        lines.append(
            f"  {t} ({window}): {sum(proposed.values())}/{sum(actual.values())}"
            + (f" — {split}" if split else "")
            + off
        )
    lines.append("")
    lines.append("hours blocked by limits under the proposal (whole range):")
    if not result.blocked:
        lines.append("  nobody")
    for user, hours_by in result.blocked_hours.items():
        counts = ", ".join(f"{limit} {hours:g} h" for limit, hours in hours_by.items())
        lines.append(f"  {user}: {counts}")
    lines.append(
        f"presses: {result.claims}, refused under the proposal: "
        f"{result.refused_claims}, refused as it happened: "
        f"{_opt(result.actual_refused_claims)}"
    )
    for user in sorted(set(result.refused) | set(result.actual_refused)):
        mine = result.refused.get(user, {})
        theirs = result.actual_refused.get(user, {})
        counts = ", ".join(
            f"{limit} {mine.get(limit, 0)}"
            + (
                f" (as it happened {theirs.get(limit, 0)})"
                if result.actual_refused_claims is not None
                else ""
            )
            for limit in sorted(set(mine) | set(theirs))
        )
        lines.append(f"  {user}: {counts}")
    lines.append(
        f"held because nobody was on duty: proposed {_held(result.held)}; "
        f"actual {_held(result.actual_held)}"
    )
    lines.append(
        f"SLA reassignments: proposed {result.sla_reassignments}, actual "
        f"{_opt(result.actual_sla_reassignments)}; shift handovers: proposed "
        f"{result.handovers}, actual {_opt(result.actual_handovers)}"
    )
    return "\n".join(lines)


CSV_HEADER = ["section", "item", "detail", "proposed", "actual"]


def comparison_rows(result: WhatIfResult) -> Iterable[list[object]]:
    """The comparison as rows of CSV_HEADER, for spreadsheets."""
    for m in result.managers:
        yield ["leads", m.user, "", m.proposed, m.actual]
    for bucket in (BUTTON, HELD, UNASSIGNED):
        p, a = result.proposed.get(bucket, 0), result.actual.get(bucket, 0)
        if p or a:
            yield ["leads", bucket, "", p, a]
    for m in result.managers:
        yield ["share", m.user, "", m.proposed_share, m.actual_share]
        yield ["ideal_share", m.user, "", m.ideal_share, m.actual_ideal_share]
    yield ["fairness", "max_deviation", "", result.fairness, result.actual_fairness]
    templates = result.template_ids()
    for t in templates:
        proposed = result.pushed_by_template.get(t, {})
        actual = result.actual_by_template.get(t, {})
        window = result.windows.get(t, "")
        for u in sorted(set(proposed) | set(actual)):
            yield [
                "template",
                f"{t} ({window})" if window else t,
                u,
                proposed.get(u, 0),
                actual.get(u, 0),
            ]
    for user, limits in result.blocked_hours.items():
        for limit, hours in limits.items():
            yield ["blocked_hours", user, limit, hours, ""]
    yield ["claims", "presses", "", result.claims, result.claims]
    yield [
        "claims",
        "refused",
        "",
        result.refused_claims,
        _blank(result.actual_refused_claims),
    ]
    for user in sorted(set(result.refused) | set(result.actual_refused)):
        mine, theirs = result.refused.get(user, {}), result.actual_refused.get(user, {})
        for limit in sorted(set(mine) | set(theirs)):
            yield ["refused", user, limit, mine.get(limit, 0), theirs.get(limit, 0)]
    held, actual_held = result.held, result.actual_held
    for name in ("leads", "total_minutes", "max_minutes"):
        yield [
            "held",
            name,
            "",
            getattr(held, name),
            getattr(actual_held, name) if actual_held else "",
        ]
    yield [
        "sla",
        "reassignments",
        "",
        result.sla_reassignments,
        _blank(result.actual_sla_reassignments),
    ]
    yield ["sla", "handovers", "", result.handovers, _blank(result.actual_handovers)]


def _blank(n: int | None) -> object:
    return "" if n is None else n


def comparison_csv(result: WhatIfResult) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_HEADER)
    writer.writerows(comparison_rows(result))
    return out.getvalue()


async def simulate(
    clients: Clients, account: str, yaml: str, start: datetime, end: datetime
) -> tuple[WhatIfResult | None, list[Problem]]:
    """The workspace in `yaml` replayed over [start, end); live data is only read."""
    ws, problems = parse_workspace(yaml)
    if ws is None:
        return None, problems
    if start >= end:
        return None, [Problem("from", "must be before 'to'")]
    if end - start > MAX_RANGE:
        return None, [Problem("to", f"the range is at most {MAX_RANGE.days} days")]
    events, presses, pushes = await fetch_journal(clients, account, start, end)
    tz = ZoneInfo(ws.account.timezone)
    result = replay(
        ws, tz, events, presses, start=start, end=end, pushes=pushes, account=account
    )
    return result, []
