"""What a what-if costs, by counts: the limits' figures look at what they need.

A member's figures are measured again whenever they change; measuring them
used to walk every sale of the last two months and every key-stage move of
two weeks, whatever limits the member had on, so the cost of a replay grew
with the square of its length (a week of the bench account: 38 moves looked
at per lead; a month: 115). Now only the figures the enabled limits read are
measured, and the verdicts are the same as from the full measure.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from bench import whatif_bench as wb
from leadrouter.workspace import GroupSpec, Workspace, parse_workspace
from services.assigner.whatif import limits as limits_module
from services.assigner.whatif.replay import _Replay
from services.crm import history as h
from services.limits.domain import LIMIT_NAMES, evaluate

# 403 passes of 3,430 measures over the week (before: every one).
LOST_SHARE = 0.2


@pytest.fixture(scope="module")
def ws() -> Workspace:
    ws, problems = parse_workspace(wb.workspace_yaml())
    assert ws is not None, problems
    return ws


def _replayed(ws: Workspace, days: int) -> tuple[_Replay, int]:
    events, presses = wb.history(days)
    r = _Replay(ws, wb.TZ, wb.START, wb.START + timedelta(days=days), "")
    r.run(events, presses, [])
    return r, sum(1 for e in events if isinstance(e, h.LeadCreated))


def test_every_limit_says_which_figures_it_reads() -> None:
    assert set(limits_module.READS) == set(LIMIT_NAMES)


def test_a_week_looks_at_fewer_than_two_moves_per_lead(ws: Workspace) -> None:
    r, leads = _replayed(ws, 7)
    assert leads == 700
    # 365 moves for 700 leads (before: 26,618, 38 per lead).
    assert r.limits.scanned / leads < 2


def test_lost_leads_are_counted_again_only_when_they_may_have_changed(
    ws: Workspace,
) -> None:
    r, _ = _replayed(ws, 7)
    # Every member of the bench account has max_lost_today on: each measure
    # used to walk their lost leads; now only a change in a loss stage or a
    # new day does.
    assert r.limits.measured > 2_000
    assert r.limits.lost_counted / r.limits.measured < LOST_SHARE


def test_the_verdicts_from_the_figures_read_equal_those_from_all_of_them(
    ws: Workspace,
) -> None:
    r = _Replay(ws, wb.TZ, wb.START, wb.START + timedelta(days=3), "")
    asked: list[tuple[GroupSpec, str, datetime]] = []
    verdicts = r.limits.verdicts

    def spy(group: GroupSpec, user: str, now: datetime) -> list[object]:
        asked.append((group, user, now))
        return verdicts(group, user, now)  # type: ignore[return-value]

    r.limits.verdicts = spy  # type: ignore[method-assign,assignment]
    events, presses = wb.history(3)
    r.run(events, presses, [])
    assert len(asked) > 500
    # The account as of the end: every question asked again, at its instant.
    for group, user, now in asked[-300:]:
        settings = r.limits.settings(group, user)
        full = evaluate(settings, r.limits.activity(group, user, now), now, wb.TZ)
        assert verdicts(group, user, now) == full
