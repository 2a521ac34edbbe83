"""What-if for the CLI and the gateway: asks the assigner, renders its answer.

The replay is the assigner's (its Simulate RPC runs the engine of live push
on a replay clock); this module only turns arguments into a request and the
answer into a table or CSV, naming people as the CRM does.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from datetime import datetime

from leadrouter.assigner.v1 import assigner_pb2
from leadrouter.clients import Clients
from leadrouter.errors import Problem
from leadrouter.reason_texts import reason_text
from leadrouter.timestamps import to_ts

BUTTON, HELD = "(button)", "(held)"
BUCKETS = {BUTTON: "left for the button", HELD: "still waiting at the end"}

Reply = assigner_pb2.SimulateResponse


def refusal_text(code: str) -> str:
    """Why presses were refused, as a person reads it: a limit or who pressed."""
    return reason_text(code)


# A replay is CPU work that grows with the range and the account, not a quick
# question: seconds for a month of a large account, minutes for a year. The
# usual RPC deadline would cut it off.
SIMULATE_SECONDS = 600.0


async def simulate(
    clients: Clients, account: str, yaml: str, start: datetime, end: datetime
) -> tuple[Reply | None, list[Problem]]:
    """The workspace in `yaml` replayed over [start, end); live data is only read."""
    request = assigner_pb2.SimulateRequest(account=account, workspace_yaml=yaml)
    getattr(request, "from").CopyFrom(to_ts(start))  # `from` is a keyword
    request.to.CopyFrom(to_ts(end))
    reply: Reply = await clients.assigner.simulate(request, timeout=SIMULATE_SECONDS)
    if reply.problems:
        return None, [Problem(p.path, p.message) for p in reply.problems]
    return reply, []


def known(reply: Reply) -> bool:
    """Whether the journal said what happened (the actual side)."""
    return reply.HasField("actual")


def _pct(share: float) -> str:
    return f"{share:.0%}"


def _fair(score: float | None) -> str:
    return "—" if score is None else f"{score * 100:.1f} pp"


def fairness(reply: Reply) -> tuple[float | None, float | None]:
    """The proposal's and the actual fairness, None where there is none."""
    return (
        reply.fairness if reply.HasField("fairness") else None,
        reply.actual_fairness if reply.HasField("actual_fairness") else None,
    )


def _held(held: assigner_pb2.HeldLeads | None) -> str:
    if held is None:
        return "—"
    return (
        f"{held.leads} lead(s), {held.total_minutes} min in all, "
        f"longest {held.max_minutes} min"
    )


def _opt(reply: Reply, field: str) -> str:
    return str(getattr(reply.actual, field)) if known(reply) else "—"


def _refusals(m: assigner_pb2.ManagerComparison, actual: bool) -> str:
    mine, theirs = m.proposed.refused, m.actual.refused
    return "; ".join(
        f"{refusal_text(limit)} {mine.get(limit, 0)}"
        + (f" (as it happened {theirs.get(limit, 0)})" if actual else "")
        for limit in sorted(set(mine) | set(theirs))
    )


def render_comparison(reply: Reply) -> str:
    """The proposal beside what happened, as a plain-text table."""
    actual = known(reply)

    def side(m: assigner_pb2.ManagerComparison, name: str) -> str:
        p = getattr(m.proposed, name)
        a = getattr(m.actual, name) if actual else None
        return f"{p}/{'—' if a is None else a}"

    lines = [
        f"{'manager':<20} {'leads':>9} {'held':>7} {'sla':>7} {'handover':>9} "
        f"{'claimed':>9} {'share':>7} {'act.sh':>7} {'ideal':>7}",
        f"{'(proposed/actual)':<20}",
    ]
    for m in reply.managers:
        lines.append(
            f"{m.name:<20} {side(m, 'leads'):>9} {side(m, 'held'):>7} "
            f"{side(m, 'sla'):>7} {side(m, 'handovers'):>9} {side(m, 'claimed'):>9} "
            f"{_pct(m.proposed_share):>7} {_pct(m.actual_share):>7} "
            f"{_pct(m.ideal_share):>7}"
        )
    p, a = reply.proposed, reply.actual
    for label, field in (
        (BUCKETS[BUTTON], "left_to_button"),
        (BUCKETS[HELD], "still_held"),
    ):
        mine, theirs = getattr(p, field), getattr(a, field) if actual else None
        if mine or theirs:
            lines.append(f"{label:<20} {mine}/{'—' if theirs is None else theirs}")
    lines.append(
        f"fairness (max deviation from the ideal share): proposed "
        f"{_fair(fairness(reply)[0])}, actual {_fair(fairness(reply)[1])}"
    )
    lines.append("")
    lines.append("leads per template and window (proposed / actual):")
    for t in reply.templates:
        proposed = {c.name: c.count for c in t.proposed}
        theirs = {c.name: c.count for c in t.actual}
        who = sorted(set(proposed) | set(theirs))
        split = ", ".join(f"{u} {proposed.get(u, 0)}/{theirs.get(u, 0)}" for u in who)
        window = t.window or "not in the proposal"
        off = (
            f"; max deviation {t.max_deviation:.2f} leads"
            if t.HasField("max_deviation")
            else ""
        )
        lines.append(
            f"  {t.name} ({window}): {sum(proposed.values())}/{sum(theirs.values())}"
            + (f" — {split}" if split else "")
            + off
        )
    lines.append("")
    lines.append("hours blocked by limits under the proposal (whole range):")
    if not reply.blocked:
        lines.append("  nobody")
    by_user: dict[str, list[str]] = {}
    for b in reply.blocked:
        by_user.setdefault(b.name, []).append(f"{refusal_text(b.limit)} {b.hours:g} h")
    for name, parts in by_user.items():
        lines.append(f"  {name}: {', '.join(parts)}")
    lines.append(
        f"presses: {p.presses}, refused under the proposal: "
        f"{p.refused_presses}, refused as it happened: {_opt(reply, 'refused_presses')}"
    )
    for m in reply.managers:
        if m.proposed.refused or (actual and m.actual.refused):
            lines.append(f"  {m.name}: {_refusals(m, actual)}")
    lines.append(
        f"held on arrival: proposed {_held(p.held)}; "
        f"actual {_held(a.held if actual else None)}"
    )
    lines.append(
        f"SLA reassignments: proposed {p.sla_reassignments}, actual "
        f"{_opt(reply, 'sla_reassignments')}; shift handovers: proposed "
        f"{p.handovers}, actual {_opt(reply, 'handovers')}"
    )
    return "\n".join(lines)


CSV_HEADER = ["section", "item", "detail", "proposed", "actual"]


def comparison_rows(reply: Reply) -> Iterable[list[object]]:
    """The comparison as rows of CSV_HEADER, for spreadsheets."""
    actual = known(reply)

    def theirs(value: object) -> object:
        return value if actual else ""

    for m in reply.managers:
        yield ["leads", m.name, "", m.proposed.leads, theirs(m.actual.leads)]
    p, a = reply.proposed, reply.actual
    for bucket, field in ((BUTTON, "left_to_button"), (HELD, "still_held")):
        mine, other = getattr(p, field), getattr(a, field)
        if mine or (actual and other):
            yield ["leads", BUCKETS[bucket], "", mine, theirs(other)]
    for m in reply.managers:
        yield ["share", m.name, "", m.proposed_share, m.actual_share]
        yield ["ideal_share", m.name, "", m.ideal_share, m.actual_ideal_share]
    mine_f, theirs_f = fairness(reply)
    yield ["fairness", "max_deviation", "", _blank(mine_f), _blank(theirs_f)]
    for t in reply.templates:
        proposed = {c.name: c.count for c in t.proposed}
        other_side = {c.name: c.count for c in t.actual}
        label = f"{t.name} ({t.window})" if t.window else t.name
        for u in sorted(set(proposed) | set(other_side)):
            yield ["template", label, u, proposed.get(u, 0), other_side.get(u, 0)]
    for b in reply.blocked:
        yield ["blocked_hours", b.name, b.limit, b.hours, ""]
    yield ["claims", "presses", "", p.presses, theirs(a.presses)]
    yield ["claims", "refused", "", p.refused_presses, theirs(a.refused_presses)]
    for m in reply.managers:
        mine, other = m.proposed.refused, m.actual.refused
        for limit in sorted(set(mine) | set(other)):
            yield ["refused", m.name, limit, mine.get(limit, 0), other.get(limit, 0)]
    for name in ("leads", "total_minutes", "max_minutes"):
        yield ["held", name, "", getattr(p.held, name), theirs(getattr(a.held, name))]
    for m in reply.managers:
        for figure in ("held", "sla", "handovers", "claimed"):
            mine_n, other_n = getattr(m.proposed, figure), getattr(m.actual, figure)
            if mine_n or (actual and other_n):
                yield [figure, m.name, "", mine_n, theirs(other_n)]
    yield ["sla", "reassignments", "", p.sla_reassignments, theirs(a.sla_reassignments)]
    yield ["sla", "handovers", "", p.handovers, theirs(a.handovers)]


def _blank(value: float | None) -> object:
    return "" if value is None else value


def comparison_csv(reply: Reply) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_HEADER)
    writer.writerows(comparison_rows(reply))
    return out.getvalue()
