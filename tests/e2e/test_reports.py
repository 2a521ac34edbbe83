"""Reports through the gateway, checked against figures counted here from the history.

The history: claims made through GraphQL at chosen local times (some across
local midnight, where the UTC day differs), then CRM events that win, lose,
reopen and close leads again.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

import pytest

from services.reports.server import ReportsRunner
from tests.e2e.reports_fixtures import (
    WORKSPACE,
    Claim,
    bucket_of,
    claim,
    local_date,
    pool_lead,
    settled,
    tomsk,
)
from tests.stack import Stack

# (manager, group, local moment of the claim)
CLAIMS = [
    ("ursula", "main", tomsk(2026, 10, 30, 10, 0)),  # Friday
    ("nadezhda", "main", tomsk(2026, 10, 31, 23, 30)),  # Saturday night
    ("ursula", "main", tomsk(2026, 11, 1, 1, 0)),  # Sunday; still 31 Oct in UTC
    ("marina", "main", tomsk(2026, 11, 2, 0, 30)),  # Monday; still Sunday in UTC
    ("ursula", "vip", tomsk(2026, 11, 2, 10, 0)),
    ("nadezhda", "vip", tomsk(2026, 11, 2, 11, 0)),
    ("ursula", "main", tomsk(2026, 11, 2, 12, 0)),
    ("nadezhda", "main", tomsk(2026, 11, 9, 9, 0)),
    ("marina", "main", tomsk(2026, 11, 30, 23, 30)),  # last day of November
    ("ursula", "main", tomsk(2026, 12, 1, 0, 30)),  # 30 November in UTC
]

DISTRIBUTION = """
query($from: Date!, $to: Date!, $bucket: ReportBucket, $groups: [ID!], $users: [ID!]) {
  distributionReport(from: $from, to: $to, bucket: $bucket, groupIds: $groups,
                     userIds: $users) {
    timezone claimed pushed manual total
    rows { userId userName bucket bucketStart claimed pushed manual total }
    managers { userId claimed total }
    buckets { bucket claimed total }
  }
}
"""

LOSS = """
query($from: Date!, $to: Date!, $by: LossGrouping) {
  lossReasonsReport(from: $from, to: $to, groupBy: $by) {
    timezone
    rows { key name won lost wonPercent lostPercent reasons { reason count percent } }
    total { won lost wonPercent lostPercent reasons { reason count } }
  }
}
"""


@dataclass
class History:
    claims: list[Claim]
    events: list[dict[str, Any]] = field(default_factory=list)

    def lead(self, n: int) -> str:
        return self.claims[n].lead


async def build_history(stack: Stack) -> History:
    result = await stack.apply(WORKSPACE)
    assert result["ok"], result["problems"]
    created = tomsk(2026, 10, 1, 9)
    pool = [pool_lead(f"L{i:02d}", created + timedelta(minutes=i)) for i in range(12)]
    pool += [
        pool_lead(f"V{i}", created + timedelta(minutes=i), "vip") for i in range(3)
    ]
    await stack.import_history(pool)
    history = History([await claim(stack, u, g, at) for u, g, at in CLAIMS])

    def moved(n: int, at: datetime, to: str, reason: str | None = None) -> None:
        history.events.append(
            {
                "type": "stage_changed",
                "at": at.isoformat(),
                "lead": history.lead(n),
                "to": to,
                "loss_reason": reason,
            }
        )

    def reopened(n: int, at: datetime) -> None:
        history.events.append(
            {
                "type": "lead_reopened",
                "at": at.isoformat(),
                "lead": history.lead(n),
                "by": "head",
            }
        )

    moved(0, tomsk(2026, 11, 3, 12), "won")
    moved(1, tomsk(2026, 11, 3, 13), "lost", "too expensive")
    # Lost, reopened, won: counts once, as won.
    moved(2, tomsk(2026, 11, 4, 10), "lost", "no answer")
    reopened(2, tomsk(2026, 11, 5, 10))
    moved(2, tomsk(2026, 11, 6, 10), "won")
    # Lost and reopened: not closed any more, so not counted.
    moved(3, tomsk(2026, 11, 5, 11), "lost", "too expensive")
    reopened(3, tomsk(2026, 11, 6, 11))
    # Handed over before it was lost: the loss is the new owner's.
    history.events.append(
        {
            "type": "responsible_changed",
            "at": tomsk(2026, 11, 7, 9).isoformat(),
            "lead": history.lead(4),
            "to": "nadezhda",
        }
    )
    moved(4, tomsk(2026, 11, 7, 10), "lost", "no answer")
    moved(5, tomsk(2026, 11, 8, 10), "lost")  # no reason given
    moved(8, tomsk(2026, 11, 30, 23, 45), "lost", "no answer")  # still November
    moved(9, tomsk(2026, 12, 1, 0, 45), "won")  # December locally
    # A lead no group handed out, lost in November.
    history.events.append(
        {
            "type": "lead_created",
            "at": tomsk(2026, 11, 10, 9).isoformat(),
            "lead": "X1",
            "pipeline": "sales",
            "stage": "taken",
            "responsible": "ursula",
        }
    )
    history.events.append(
        {
            "type": "stage_changed",
            "at": tomsk(2026, 11, 10, 15).isoformat(),
            "lead": "X1",
            "to": "lost",
            "loss_reason": "competitor",
        }
    )
    await stack.import_history(history.events)
    await settled(stack)
    return history


# -- figures counted here, from the same history ---------------------------------
def expected_distribution(
    claims: list[Claim],
    first: date,
    last: date,
    bucket: str,
    groups: set[str] | None = None,
    users: set[str] | None = None,
) -> Counter[tuple[str, str]]:
    """Claims per (bucket start, manager)."""
    seen: Counter[tuple[str, str]] = Counter()
    for c in claims:
        day = local_date(c.at)
        if not first <= day <= last:
            continue
        if (groups and c.group not in groups) or (users and c.user not in users):
            continue
        seen[(bucket_of(day, bucket).isoformat(), c.user)] += 1
    return seen


def last_closings(history: History) -> dict[str, tuple[datetime, str, str, str]]:
    """Each closed lead's last closing: when, won or lost, reason, its owner then."""
    owner = {c.lead: c.user for c in history.claims}
    closing: dict[str, tuple[datetime, str, str, str]] = {}
    for e in history.events:
        lead = e["lead"]
        if e["type"] == "lead_created":
            owner[lead] = e["responsible"]
        elif e["type"] == "responsible_changed":
            owner[lead] = e["to"]
        elif e["type"] == "lead_reopened":
            closing.pop(lead, None)
        elif e["type"] == "stage_changed" and e["to"] in ("won", "lost"):
            at = datetime.fromisoformat(e["at"])
            closing[lead] = (at, e["to"], e.get("loss_reason") or "", owner[lead])
    return closing


def expected_losses(
    history: History, first: date, last: date, by: str
) -> dict[str | None, dict[str, Any]]:
    """Per key: won, lost and lost by reason, by each lead's last closing."""
    group = {c.lead: c.group for c in history.claims}
    rows: dict[str | None, dict[str, Any]] = {}
    for lead, (at, outcome, reason, who) in last_closings(history).items():
        if not first <= local_date(at) <= last:
            continue
        key = {"GROUP": group.get(lead), "MANAGER": who, "NONE": None}[by]
        row = rows.setdefault(key, {"won": 0, "lost": 0, "reasons": Counter()})
        row[outcome] += 1
        if outcome == "lost":
            row["reasons"][reason or None] += 1
    return rows


def share(part: int, whole: int) -> float:
    return round(100 * part / whole, 2) if whole else 0.0


# -- the reports -----------------------------------------------------------------
async def distribution(stack: Stack, **variables: Any) -> dict[str, Any]:
    data = await stack.data(DISTRIBUTION, variables)
    report: dict[str, Any] = data["distributionReport"]
    return report


def cells(report: dict[str, Any]) -> Counter[tuple[str, str]]:
    return Counter({(r["bucket"], r["userId"]): r["claimed"] for r in report["rows"]})


@pytest.mark.parametrize("bucket", ["DAY", "WEEK", "MONTH"])
async def test_distribution_counts_each_managers_claims_per_local_bucket(
    any_stack: Stack, bucket: str
) -> None:
    history = await build_history(any_stack)
    first, last = date(2026, 10, 1), date(2026, 12, 31)
    report = await distribution(
        any_stack, **{"from": "2026-10-01", "to": "2026-12-31", "bucket": bucket}
    )
    want = expected_distribution(history.claims, first, last, bucket)
    assert cells(report) == want
    assert report["timezone"] == "Asia/Tomsk"
    assert report["claimed"] == report["total"] == len(CLAIMS)
    assert report["pushed"] == report["manual"] == 0
    assert all(r["total"] == r["claimed"] for r in report["rows"])
    per_manager = Counter(c.user for c in history.claims)
    assert {m["userId"]: m["claimed"] for m in report["managers"]} == per_manager
    per_bucket: Counter[str] = Counter()
    for (b, _), n in want.items():
        per_bucket[b] += n
    assert {b["bucket"]: b["claimed"] for b in report["buckets"]} == per_bucket


async def test_distribution_buckets_are_local_days_not_utc_days(stack: Stack) -> None:
    history = await build_history(stack)
    report = await distribution(
        stack, **{"from": "2026-11-01", "to": "2026-11-30", "bucket": "MONTH"}
    )
    # 01:00 on 1 November and 23:30 on 30 November (Tomsk) are November;
    # 00:30 on 1 December is not, though all three are 31 Oct / 30 Nov in UTC.
    want = expected_distribution(
        history.claims, date(2026, 11, 1), date(2026, 11, 30), "MONTH"
    )
    assert cells(report) == want
    assert sum(want.values()) == 7
    row = report["rows"][0]
    assert row["bucket"] == "2026-11-01"
    assert row["bucketStart"] == "2026-11-01T00:00:00+07:00"
    assert {r["userName"] for r in report["rows"]} == {"Ursula", "Nadezhda", "Marina"}


async def test_distribution_filters_by_group_and_manager(stack: Stack) -> None:
    history = await build_history(stack)
    first, last = date(2026, 10, 1), date(2026, 12, 31)
    vip = await distribution(
        stack, **{"from": "2026-10-01", "to": "2026-12-31", "groups": ["vip"]}
    )
    assert cells(vip) == expected_distribution(
        history.claims, first, last, "DAY", groups={"vip"}
    )
    assert vip["total"] == 2
    marina = await distribution(
        stack,
        **{"from": "2026-10-01", "to": "2026-12-31", "users": ["marina"]},
    )
    assert cells(marina) == expected_distribution(
        history.claims, first, last, "DAY", users={"marina"}
    )
    assert marina["total"] == 2


@pytest.mark.parametrize("by", ["NONE", "GROUP", "MANAGER"])
async def test_loss_reasons_count_each_lead_once_by_its_last_closing(
    any_stack: Stack, by: str
) -> None:
    history = await build_history(any_stack)
    data = await any_stack.data(
        LOSS, {"from": "2026-11-01", "to": "2026-11-30", "by": by}
    )
    report = data["lossReasonsReport"]
    want = expected_losses(history, date(2026, 11, 1), date(2026, 11, 30), by)
    got = {
        r["key"]: {
            "won": r["won"],
            "lost": r["lost"],
            "reasons": Counter({x["reason"]: x["count"] for x in r["reasons"]}),
        }
        for r in report["rows"]
    }
    assert got == want
    for r in report["rows"]:
        closed = r["won"] + r["lost"]
        assert r["wonPercent"] == share(r["won"], closed)
        assert r["lostPercent"] == share(r["lost"], closed)
        for x in r["reasons"]:
            assert x["percent"] == share(x["count"], r["lost"])
    won = sum(w["won"] for w in want.values())
    lost = sum(w["lost"] for w in want.values())
    assert (report["total"]["won"], report["total"]["lost"]) == (won, lost)
    # The history's own tally: leads 0 and 2 won; 1, 4, 5, 8 and X1 lost.
    assert (won, lost) == (2, 5)


async def test_loss_reasons_name_groups_and_managers(stack: Stack) -> None:
    await build_history(stack)
    by_group = await stack.data(
        LOSS, {"from": "2026-11-01", "to": "2026-11-30", "by": "GROUP"}
    )
    names = {r["key"]: r["name"] for r in by_group["lossReasonsReport"]["rows"]}
    assert names == {None: "(no group)", "main": "Sales floor", "vip": "Key accounts"}
    by_manager = await stack.data(
        LOSS, {"from": "2026-11-01", "to": "2026-11-30", "by": "MANAGER"}
    )
    rows = {r["key"]: r for r in by_manager["lossReasonsReport"]["rows"]}
    assert rows["nadezhda"]["name"] == "Nadezhda"
    # Three leads lost, one per reason; equal counts are ordered by reason.
    assert rows["nadezhda"]["reasons"] == [
        {"reason": None, "count": 1, "percent": 33.33},
        {"reason": "no answer", "count": 1, "percent": 33.33},
        {"reason": "too expensive", "count": 1, "percent": 33.33},
    ]


# -- replays ---------------------------------------------------------------------
async def _snapshot(stack: Stack) -> tuple[Any, Any]:
    d = await distribution(stack, **{"from": "2026-10-01", "to": "2026-12-31"})
    loss = await stack.data(
        LOSS, {"from": "2026-10-01", "to": "2026-12-31", "by": "MANAGER"}
    )
    return d, loss["lossReasonsReport"]


def _subscribers(stack: Stack) -> Any:
    runner = stack.runners["reports"]
    assert isinstance(runner, ReportsRunner) and runner.subscribers is not None
    return runner.subscribers


async def test_reading_the_streams_again_from_the_start_changes_no_figure(
    any_stack: Stack,
) -> None:
    await build_history(any_stack)
    before_d, before_loss = await _snapshot(any_stack)
    await _subscribers(any_stack).replay(0)
    # One more claim after the replay: once it is counted, the replay has read
    # every earlier decision again, and none of them may have counted twice.
    await any_stack.import_history([pool_lead("L99", tomsk(2026, 10, 2))])
    extra = await claim(any_stack, "marina", "main", tomsk(2026, 10, 29, 15))
    await settled(any_stack)
    after_d, after_loss = await _snapshot(any_stack)
    assert after_loss == before_loss
    assert after_d["total"] == before_d["total"] + 1
    day = local_date(extra.at).isoformat()
    assert cells(after_d) == cells(before_d) + Counter({(day, "marina"): 1})


async def test_rebuilt_read_models_give_the_same_figures(stack: Stack) -> None:
    await build_history(stack)
    before = await _snapshot(stack)
    await _subscribers(stack).rebuild()
    await settled(stack)
    assert await _snapshot(stack) == before


# -- who may see what --------------------------------------------------------------
async def test_admins_and_viewers_see_every_manager(stack: Stack) -> None:
    await build_history(stack)
    for role in ("admin", "viewer"):
        data = await stack.data(
            DISTRIBUTION, {"from": "2026-10-01", "to": "2026-12-31"}, role=role
        )
        assert data["distributionReport"]["total"] == len(CLAIMS)


async def test_a_manager_sees_only_their_own_figures(stack: Stack) -> None:
    history = await build_history(stack)
    data = await stack.data(
        DISTRIBUTION,
        {"from": "2026-10-01", "to": "2026-12-31"},
        user="marina",
        role="manager",
    )
    report = data["distributionReport"]
    assert {r["userId"] for r in report["rows"]} == {"marina"}
    assert report["total"] == sum(1 for c in history.claims if c.user == "marina")
    loss = await stack.data(
        LOSS,
        {"from": "2026-11-01", "to": "2026-11-30", "by": "MANAGER"},
        user="nadezhda",
        role="manager",
    )
    assert [r["key"] for r in loss["lossReasonsReport"]["rows"]] == ["nadezhda"]
    body = await stack.gql(
        DISTRIBUTION,
        {"from": "2026-10-01", "to": "2026-12-31", "users": ["ursula"]},
        user="marina",
        role="manager",
    )
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"


@pytest.mark.parametrize(
    ("role", "token", "code"),
    [("partner", None, "FORBIDDEN"), ("viewer", "", "UNAUTHENTICATED")],
)
async def test_reports_refuse_callers_without_the_right(
    stack: Stack, role: str, token: str | None, code: str
) -> None:
    for query, variables in (
        (DISTRIBUTION, {"from": "2026-11-01", "to": "2026-11-30"}),
        (LOSS, {"from": "2026-11-01", "to": "2026-11-30"}),
    ):
        body = await stack.gql(query, variables, role=role, token=token)
        assert body["data"] is None
        assert body["errors"][0]["extensions"]["code"] == code


async def test_another_accounts_viewer_sees_none_of_these_figures(
    stack: Stack,
) -> None:
    await build_history(stack)
    token = stack.token("someone", "viewer", account="other")
    body = await stack.gql(
        DISTRIBUTION, {"from": "2026-10-01", "to": "2026-12-31"}, token=token
    )
    assert body["data"]["distributionReport"]["total"] == 0
    assert body["data"]["distributionReport"]["rows"] == []


async def test_a_range_that_ends_before_it_starts_is_bad_input(stack: Stack) -> None:
    body = await stack.gql(DISTRIBUTION, {"from": "2026-11-30", "to": "2026-11-01"})
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert "before" in body["errors"][0]["message"]
