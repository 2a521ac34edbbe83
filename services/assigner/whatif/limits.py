"""The proposal's limits over the replayed account: verdicts and blocked time.

The figures are the crm's (services/crm/activity.py) measured on the
replayed account; the verdicts are the limits service's own calculus
(services/limits/domain.py). A member is blocked by a limit over the
intervals in which that limit would refuse their press: the limits are
evaluated whenever the member's figures change and at every instant a
verdict can change with time alone (local midnight, a task deadline, a
claim interval running out, a sales window sliding).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from leadrouter.workspace import GroupSpec, Workspace
from services.assigner.engine.reasons import Membership
from services.assigner.whatif.account import Account
from services.limits.domain import (
    Activity,
    Calendar,
    LimitSettings,
    Verdict,
    calendar,
    evaluate,
    member_settings,
    sales_window_start,
)

# Limits that block "after" an instant (a deadline passed, a window slid) are
# evaluated again just past it.
JUST_AFTER = timedelta(microseconds=1)

Span = tuple[datetime, datetime]

# The figures of Activity each limit reads (services/limits/domain.py rules).
READS = {
    "interval_minutes": "last_claim",
    "max_active": "open_leads",
    "max_new_today": "new_today",
    "max_overdue_tasks": "overdue",
    "max_overdue_days": "overdue",
    "days_without_sales": "sales_window",
    "max_lost_today": "lost",
    "max_lost_month": "lost",
    "min_sales_last_month": "sales_months",
    "min_key_stage_last_week": "key_stage",
}
ALL_FIGURES = frozenset(READS.values())


@dataclass(frozen=True)
class StageSets:
    """A group's stages as the limits count them."""

    counted: frozenset[str]
    sale: frozenset[str]
    loss: frozenset[str]
    open: frozenset[str]
    key_stage: str | None


def membership(group: GroupSpec | None, user: str) -> Membership:
    """The user's standing in the group, as the limits service tells it."""
    if group is None:
        return Membership.NOT_A_MEMBER
    if user in group.exchange_users:
        return Membership.EXCHANGE_USER
    member = next((m for m in group.members if m.user == user), None)
    if member is None:
        return Membership.NOT_A_MEMBER
    return Membership.ENABLED if member.enabled else Membership.DISABLED


def settings_of(group: GroupSpec, user: str) -> LimitSettings:
    member = next((m for m in group.members if m.user == user), None)
    if member is None:
        return LimitSettings()
    return member_settings(group.default_limits.values(), member.limits.values())


class Limits:
    """Verdicts of the proposal's limits, and the time each one blocked."""

    def __init__(
        self,
        ws: Workspace,
        tz: ZoneInfo,
        account: Account,
        later: Callable[[datetime, str], None],
    ) -> None:
        self.tz = tz
        self.account = account
        self.later = later  # asks to be evaluated again at an instant
        self.groups = {g.id: g for g in ws.groups}
        self.standing = {
            (g.id, m.user): membership(g, m.user) for g in ws.groups for m in g.members
        }
        self.standing.update(
            {
                (g.id, u): Membership.EXCHANGE_USER
                for g in ws.groups
                for u in g.exchange_users
            }
        )
        self._sets: dict[str, StageSets] = {}
        self._settings: dict[tuple[str, str], LimitSettings] = {}
        self._reads: dict[tuple[str, str], frozenset[str]] = {}
        # Enabled members with a limit on: whose blocked time is tracked.
        self.members: dict[str, list[GroupSpec]] = {}
        for g in ws.groups:
            for m in g.members:
                enabled = membership(g, m.user) == Membership.ENABLED
                if enabled and settings_of(g, m.user).enabled():
                    self.members.setdefault(m.user, []).append(g)
        self.last_claim: dict[tuple[str, str], datetime] = {}
        # (group, member) -> the limits failing as of the member's last check.
        self.failing: dict[tuple[str, str], frozenset[str]] = {}
        self.freed = False  # some member's limit let go since the flag was read
        self.version = 0  # counts the changes of `failing`
        self._days: dict[date, Calendar] = {}
        self._last_day: Calendar | None = None  # the day asked last
        self._judged: dict[
            tuple[str, str], tuple[Calendar, Activity, list[Verdict]]
        ] = {}
        # (group, user) -> (held_version, day, latest stage entry, today, month)
        self._lost_known: dict[
            tuple[str, str], tuple[int, Calendar, datetime, int, int]
        ] = {}
        self.blocked_since: dict[tuple[str, str], datetime] = {}
        self.blocked: dict[str, dict[str, list[Span]]] = {}
        self.scanned = 0  # moves into stages the figures have looked at
        self.measured = 0  # members' figures measured
        self.lost_counted = 0  # of those, passes over a member's lost leads

    def membership(self, group: GroupSpec, user: str) -> Membership:
        return self.standing.get((group.id, user), Membership.NOT_A_MEMBER)

    def settings(self, group: GroupSpec, user: str) -> LimitSettings:
        key = (group.id, user)
        if key not in self._settings:
            self._settings[key] = settings_of(group, user)
        return self._settings[key]

    def sets(self, group: GroupSpec) -> StageSets:
        found = self._sets.get(group.id)
        if found is not None:
            return found
        kinds = self.account.kinds
        counted = frozenset(k for k in kinds if k not in set(group.excluded_stages))
        sale = frozenset(
            k
            for k in counted
            if (k in group.sale_stages if group.sale_stages else kinds[k] == "won")
        )
        loss = frozenset(
            k
            for k in counted
            if (k in group.loss_stages if group.loss_stages else kinds[k] == "lost")
        )
        # Limit 2 counts every open stage, also one listed as a sale stage.
        opened = frozenset(k for k in counted if kinds[k] == "open")
        key = group.key_stage if group.key_stage in counted else None
        self._sets[group.id] = StageSets(counted, sale, loss, opened, key)
        return self._sets[group.id]

    def activity(
        self,
        group: GroupSpec,
        user: str,
        now: datetime,
        reads: frozenset[str] = ALL_FIGURES,
    ) -> Activity:
        """What the crm's measure() reports for `user` in `group` at `now`.

        Only the figures in `reads` are measured (the others stay 0): the
        verdicts ask for what the member's enabled limits read, so a member
        without a sales limit costs no pass over their sales.
        """
        self.measured += 1
        a = self.account
        cal = self._calendar(now)
        sets = self.sets(group)
        leads = a.leads
        new_today = 0
        if "new_today" in reads:
            new_today = len(
                {
                    i
                    for i in a.became_since(user, cal.today_start, now)
                    if not leads[i].deleted and leads[i].stage in sets.counted
                }
            )
        overdue = []
        if "overdue" in reads:
            for task_id in a.tasks_of.get(user, ()):
                t = a.tasks[task_id]
                if t.deadline >= now:
                    continue
                lead = leads.get(t.lead) if t.lead is not None else None
                if t.lead is None or (
                    lead is not None and not lead.deleted and lead.stage in sets.counted
                ):
                    overdue.append(t.deadline)
        since = sales_window_start(self.settings(group, user), now)
        # Moves of leads that sit in a counted stage now, each lead once.
        in_window: set[str] = set()
        last_month: set[str] = set()
        this_month: set[str] = set()
        keyed_last: set[str] = set()
        keyed_this: set[str] = set()
        into = a.moves.get(user, {})
        window = since if "sales_window" in reads else None
        months = "sales_months" in reads
        firsts = [x for x in (window, cal.prev_month_start if months else None) if x]
        for stage in sets.sale if firsts else ():
            moves = into.get(stage)
            for i in moves.since(min(firsts)) if moves is not None else ():
                assert moves is not None
                self.scanned += 1
                at, lead_id = moves.at[i], moves.lead[i]
                lead = leads[lead_id]
                if at > now or lead.deleted or lead.stage not in sets.counted:
                    continue
                if window is not None and at >= window:
                    in_window.add(lead_id)
                if not months:
                    continue
                if cal.prev_month_start <= at < cal.month_start:
                    last_month.add(lead_id)
                elif at >= cal.month_start:
                    this_month.add(lead_id)
        keyed = into.get(sets.key_stage) if sets.key_stage is not None else None
        if "key_stage" not in reads:
            keyed = None
        for i in keyed.since(cal.prev_week_start) if keyed is not None else ():
            assert keyed is not None
            self.scanned += 1
            at, lead_id = keyed.at[i], keyed.lead[i]
            lead = leads[lead_id]
            if at > now or lead.deleted or lead.stage not in sets.counted:
                continue
            if at < cal.week_start:
                keyed_last.add(lead_id)
            else:
                keyed_this.add(lead_id)
        held = a.holding.get(user, {})
        lost_today = lost_month = 0
        if "lost" in reads:
            lost_today, lost_month = self._lost(group, user, now, cal)
        return Activity(
            last_claim_at=self.last_claim.get((group.id, user)),
            open_leads=sum(len(held.get(s, ())) for s in sets.open)
            if "open_leads" in reads
            else 0,
            new_today=new_today,
            overdue_tasks=len(overdue),
            oldest_overdue_deadline=min(overdue, default=None),
            sales_in_window=len(in_window),
            lost_today=lost_today,
            lost_month=lost_month,
            sales_last_month=len(last_month),
            sales_this_month=len(this_month),
            key_stage_last_week=len(keyed_last),
            key_stage_this_week=len(keyed_this),
        )

    def _lost(
        self, group: GroupSpec, user: str, now: datetime, cal: Calendar
    ) -> tuple[int, int]:
        """Leads `user` lost today and this month: those in a loss stage they
        moved there. Counted again only when what they hold in a loss stage
        changed, the day turned, or a stage entry lies after `now`."""
        key = (group.id, user)
        stages = self.sets(group).loss
        versions = self.account.held_version
        version = sum(versions.get((user, stage), 0) for stage in stages)
        known = self._lost_known.get(key)
        if (
            known is not None
            and known[0] == version
            and known[1] is cal
            and known[2] <= now
        ):
            return known[3], known[4]
        self.lost_counted += 1
        leads = self.account.leads
        held = self.account.holding.get(user, {})
        today = month = 0
        latest = cal.today_start
        for stage in stages:
            for held_id in held.get(stage, ()):
                x = leads[held_id]
                latest = max(latest, x.moved_at)
                if x.moved_by == user and cal.month_start <= x.moved_at <= now:
                    month += 1
                    today += x.moved_at >= cal.today_start
        self._lost_known[key] = (version, cal, latest, today, month)
        return today, month

    def _calendar(self, now: datetime) -> Calendar:
        """calendar() of the limits, once per local day: the replay asks often."""
        last = self._last_day
        if last is not None and last.today_start <= now < last.tomorrow_start:
            return last
        day = now.astimezone(self.tz).date()
        found = self._days.get(day)
        if found is None:
            found = self._days[day] = calendar(now, self.tz)
        self._last_day = found
        return found

    def verdicts(self, group: GroupSpec, user: str, now: datetime) -> list[Verdict]:
        settings = self.settings(group, user)
        reads = self._reads.get((group.id, user))
        if reads is None:
            reads = frozenset(READS[name] for name, _ in settings.enabled())
            self._reads[(group.id, user)] = reads
        if not reads:
            return []
        activity = self.activity(group, user, now, reads)
        cal = self._calendar(now)
        if (
            settings.interval_minutes is not None
            or settings.max_overdue_days is not None
        ):
            return evaluate(settings, activity, now, self.tz, cal)
        # The other limits read the figures and the day only: the same
        # figures on the same day give the same verdicts.
        key = (group.id, user)
        known = self._judged.get(key)
        if known is not None and known[0] is cal and known[1] == activity:
            return list(known[2])
        verdicts = evaluate(settings, activity, now, self.tz, cal)
        self._judged[key] = (cal, activity, verdicts)
        return list(verdicts)

    def passes(self, group: GroupSpec, user: str, now: datetime) -> bool:
        """Whether `user`'s limits in `group` let them take a lead at `now`.

        A tracked member's verdicts are kept current: evaluated again when
        their figures change, and at each instant one can change with time
        alone; so asking costs a lookup, not an evaluation.
        """
        if user not in self.members:
            return True  # no limit on in any group
        if user in self.account.changed:
            self.account.changed.discard(user)
            self.check(user, now)
        return not self.failing.get((group.id, user))

    def refresh(self, at: datetime) -> None:
        """Brings the tracked members whose figures changed up to `at`."""
        changed = self.account.changed
        if not changed or changed.isdisjoint(self.members):
            return
        for user in sorted(u for u in changed if u in self.members):
            changed.discard(user)
            self.check(user, at)

    def claimed(self, group_id: str, user: str, at: datetime) -> None:
        """A press took a lead: the interval limit counts from it."""
        self.last_claim[(group_id, user)] = at
        self.account.changed.add(user)

    # -- blocked time -------------------------------------------------------------
    def check(self, user: str, at: datetime) -> None:
        """Opens or closes `user`'s blocked spans by what the limits say at `at`."""
        failing: set[str] = set()
        for group in self.members.get(user, ()):
            mine = set()
            for v in self.verdicts(group, user, at):
                if not v.passed:
                    mine.add(v.limit)
                    if v.passes_at is not None:
                        self.later(v.passes_at, user)
            key = (group.id, user)
            was = self.failing.get(key, frozenset())
            if was - mine:
                self.freed = True
            if was != mine:
                self.version += 1
            self.failing[key] = frozenset(mine)
            failing |= mine
        for limit in failing:
            self.blocked_since.setdefault((user, limit), at)
        for key in [k for k in self.blocked_since if k[0] == user]:
            if key[1] not in failing:
                self.close(key, at)

    def close(self, key: tuple[str, str], at: datetime) -> None:
        since = self.blocked_since.pop(key)
        if since < at:
            spans = self.blocked.setdefault(key[0], {}).setdefault(key[1], [])
            if spans and spans[-1][1] == since:
                spans[-1] = (spans[-1][0], at)
            else:
                spans.append((since, at))

    def close_all(self, at: datetime) -> None:
        for key in sorted(self.blocked_since):
            self.close(key, at)

    def task_created(self, user: str, deadline: datetime) -> None:
        """A deadline is when an overdue count can change with time alone."""
        if user not in self.members:
            return
        self.later(deadline + JUST_AFTER, user)
        for group in self.members[user]:
            n = self.settings(group, user).max_overdue_days
            if n is not None:
                self.later(deadline + timedelta(days=n) + JUST_AFTER, user)

    def sold(self, user: str, at: datetime) -> None:
        """days_without_sales: the window slides past this sale N days on."""
        for group in self.members.get(user, ()):
            n = self.settings(group, user).days_without_sales
            if n is not None:
                self.later(at + timedelta(days=n) + JUST_AFTER, user)
