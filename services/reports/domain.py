"""Pure rules of the reports: calendar buckets in the account zone, and the figures."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from leadrouter import messages
from leadrouter.errors import BadInput
from leadrouter.i18n import _

BUCKETS = ("day", "week", "month")
# The seed's "sales plan" is a pipeline (domain.md section 10).
GROUPINGS = ("pipeline", "group", "manager", "none")
OUTCOMES = ("won", "lost")
# Decision kinds as the distribution report splits them.
KINDS = ("claim", "push", "manual")
# Outcomes that hand a lead to someone; refusals and holds give nothing out.
HANDED_OUT = frozenset({"claimed", "assigned"})
LONGEST_RANGE_DAYS = 366 * 3


def zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def local_day(at: datetime, tz: ZoneInfo) -> date:
    """The calendar date of an instant in the account timezone."""
    return at.astimezone(tz).date()


def week_start(day: date) -> date:
    """Weeks start on Monday."""
    return day - timedelta(days=day.weekday())


def month_start(day: date) -> date:
    return day.replace(day=1)


def bucket_of(day: date, bucket: str) -> date:
    if bucket == "week":
        return week_start(day)
    if bucket == "month":
        return month_start(day)
    return day


def local_midnight(day: date, tz: ZoneInfo) -> datetime:
    """The instant a local date starts (the wall clock rules across DST)."""
    return datetime.combine(day, time(0), tzinfo=tz).astimezone(UTC)


def parse_day(text: str, name: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError as error:
        raise BadInput(
            _("'{name}' must be a date like 2026-11-01, not '{given}'").format(
                name=name, given=text
            )
        ) from error


@dataclass(frozen=True)
class DayRange:
    """Whole local days, both ends included."""

    first: date
    last: date

    @classmethod
    def of(cls, first: str, last: str) -> DayRange:
        a, b = parse_day(first, "from"), parse_day(last, "to")
        if b < a:
            raise BadInput(
                _("'to' ({to}) is before 'from' ({start})").format(to=b, start=a)
            )
        if (b - a).days > LONGEST_RANGE_DAYS:
            raise BadInput(_("a report covers at most three years; narrow 'from'-'to'"))
        return cls(a, b)

    def instants(self, tz: ZoneInfo) -> tuple[datetime, datetime]:
        """[start, end) of the range as instants."""
        return local_midnight(self.first, tz), local_midnight(
            self.last + timedelta(days=1), tz
        )


@dataclass(frozen=True)
class Period:
    """Whole local days of the loss-reasons report; an open end reaches all time.

    Seed 002: "Можно задать конкретный период для отчета или же не указывать
    его вовсе. В таком случае в отчет попадут данные за все время."
    """

    first: date | None = None
    last: date | None = None

    @classmethod
    def of(cls, first: str, last: str) -> Period:
        a = parse_day(first, "from") if first else None
        b = parse_day(last, "to") if last else None
        if a is not None and b is not None and b < a:
            raise BadInput(
                _("'to' ({to}) is before 'from' ({start})").format(to=b, start=a)
            )
        return cls(a, b)

    def instants(self, tz: ZoneInfo) -> tuple[datetime | None, datetime | None]:
        """[start, end) as instants; None for an open end."""
        start = local_midnight(self.first, tz) if self.first else None
        end = local_midnight(self.last + timedelta(days=1), tz) if self.last else None
        return start, end


def check_bucket(bucket: str) -> str:
    value = (bucket or "day").lower()
    if value not in BUCKETS:
        raise BadInput(messages.one_of("bucket", list(BUCKETS), bucket))
    return value


def check_grouping(group_by: str) -> str:
    value = (group_by or "none").lower()
    if value not in GROUPINGS:
        raise BadInput(messages.one_of("groupBy", list(GROUPINGS), group_by))
    return value


# -- distribution --------------------------------------------------------------
@dataclass
class Counts:
    claimed: int = 0
    pushed: int = 0
    manual: int = 0

    @property
    def total(self) -> int:
        return self.claimed + self.pushed + self.manual

    def plus(self, claimed: int, pushed: int, manual: int) -> None:
        self.claimed += claimed
        self.pushed += pushed
        self.manual += manual


# (bucket start, manager, claimed, pushed, manual)
Cell = tuple[date, str, int, int, int]


@dataclass
class Distribution:
    """Leads handed out per (bucket, manager), with totals both ways."""

    cells: list[Cell] = field(default_factory=list)  # by bucket, then manager
    managers: dict[str, Counts] = field(default_factory=dict)
    buckets: dict[date, Counts] = field(default_factory=dict)
    total: Counts = field(default_factory=Counts)


def distribution(cells: Iterable[Cell]) -> Distribution:
    """The report's figures from its (bucket, manager) cells, with both totals."""
    out = Distribution(cells=sorted(c for c in cells if c[2] or c[3] or c[4]))
    managers: dict[str, Counts] = {}
    buckets: dict[date, Counts] = {}
    for bucket, user, claimed, pushed, manual in out.cells:
        if user not in managers:
            managers[user] = Counts()
        managers[user].plus(claimed, pushed, manual)
        if bucket not in buckets:
            buckets[bucket] = Counts()
        buckets[bucket].plus(claimed, pushed, manual)
        out.total.plus(claimed, pushed, manual)
    out.managers = dict(sorted(managers.items()))
    out.buckets = dict(sorted(buckets.items()))
    return out


# -- loss reasons --------------------------------------------------------------
@dataclass
class Closings:
    """Closed leads of one row of the loss-reasons report."""

    won: int = 0
    lost: int = 0
    reasons: dict[str, int] = field(default_factory=dict)

    @property
    def closed(self) -> int:
        return self.won + self.lost

    @property
    def won_percent(self) -> float:
        return percent(self.won, self.closed)

    @property
    def lost_percent(self) -> float:
        return percent(self.lost, self.closed)

    def add(self, outcome: str, reason: str, n: int = 1) -> None:
        if outcome == "won":
            self.won += n
        elif outcome == "lost":
            self.lost += n
            self.reasons[reason] = self.reasons.get(reason, 0) + n

    def reason_split(self) -> list[tuple[str, int, float]]:
        """(reason, count, percent of lost), most frequent first, then by name."""
        ordered = sorted(self.reasons.items(), key=lambda kv: (-kv[1], kv[0]))
        return [(r, n, percent(n, self.lost)) for r, n in ordered]


def check_outcome(outcome: str) -> str:
    value = (outcome or "").lower()
    if value and value not in OUTCOMES:
        raise BadInput(messages.one_of("outcome", list(OUTCOMES), outcome))
    return value


def pipeline_of(stage: str) -> str:
    """The pipeline of a "pipeline/stage" key."""
    return stage.split("/", 1)[0]


def percent(part: int, whole: int) -> float:
    return round(100.0 * part / whole, 2) if whole else 0.0


def loss_reasons(
    rows: Iterable[tuple[str, str, str, int]],
) -> tuple[dict[str, Closings], Closings]:
    """Folds (key, outcome, reason, count) rows into rows by key and a total."""
    by_key: dict[str, Closings] = {}
    total = Closings()
    for key, outcome, reason, n in rows:
        by_key.setdefault(key, Closings()).add(outcome, reason, n)
        total.add(outcome, reason, n)
    return dict(sorted(by_key.items())), total
