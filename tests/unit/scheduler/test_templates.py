"""Template matching: which template takes a lead, and when a waiting lead is taken."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from leadrouter.windows import parse_window
from services.scheduler.templates import (
    LeadFacts,
    Match,
    Participant,
    Template,
    first_template,
    next_template_opening,
    template_open,
)

TOMSK = ZoneInfo("Asia/Tomsk")
WEEKDAYS = frozenset(range(5))
SATURDAY = frozenset({5})
CALLS = Match(channels=frozenset({"call"}))
WRITTEN = Match(channels_except=frozenset({"call"}))


def local(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=TOMSK)


def template(
    template_id: str, match: Match, days: frozenset[int], window: str, **weights: int
) -> Template:
    return Template(
        id=template_id,
        match=match,
        days=days,
        window=parse_window(window),
        participants=tuple(
            Participant(user, weight) for user, weight in weights.items()
        ),
        algorithm="weighted",
    )


# The customer case of seed 001, in the customer's order.
SEED_001 = (
    template(
        "written-weekdays", WRITTEN, WEEKDAYS, "09:00-19:00", ursula=1, nadezhda=1
    ),
    template(
        "written-saturday", WRITTEN, SATURDAY, "09:00-17:00", marina=1, nadezhda=2
    ),
    template("calls-day", CALLS, WEEKDAYS, "09:00-16:00", ursula=1, nadezhda=2),
    template("calls-evening", CALLS, WEEKDAYS, "16:00-09:00", ursula=1, marina=1),
    template("calls-saturday", CALLS, SATURDAY, "09:00-17:00", marina=1, nadezhda=2),
)
CALL = LeadFacts(channel="call")
FORM = LeadFacts(channel="form")
# Who shares each kind of lead, and by what weights, as the customer put it.
EXPECTED_SHARES = {
    "written-weekdays": {"ursula": 1, "nadezhda": 1},
    "written-saturday": {"marina": 1, "nadezhda": 2},
    "calls-day": {"ursula": 1, "nadezhda": 2},
    "calls-evening": {"ursula": 1, "marina": 1},
    "calls-saturday": {"marina": 1, "nadezhda": 2},
}


# 2026-11-03 is a Tuesday, 2026-11-07 a Saturday, 2026-11-09 a Monday.
@pytest.mark.parametrize(
    ("at", "call", "written"),
    [
        ("2026-11-03 10:00", "calls-day", "written-weekdays"),
        ("2026-11-03 15:59", "calls-day", "written-weekdays"),
        ("2026-11-03 16:00", "calls-evening", "written-weekdays"),
        ("2026-11-03 18:59", "calls-evening", "written-weekdays"),
        ("2026-11-03 19:00", "calls-evening", None),
        ("2026-11-03 23:30", "calls-evening", None),
        ("2026-11-04 08:59", "calls-evening", None),
        ("2026-11-04 09:00", "calls-day", "written-weekdays"),
        ("2026-11-06 23:00", "calls-evening", None),
        ("2026-11-07 08:59", "calls-evening", None),  # Friday's evening window
        ("2026-11-07 09:00", "calls-saturday", "written-saturday"),
        ("2026-11-07 10:00", "calls-saturday", "written-saturday"),
        ("2026-11-07 16:59", "calls-saturday", "written-saturday"),
        ("2026-11-07 17:00", None, None),
        ("2026-11-07 17:30", None, None),
        ("2026-11-08 12:00", None, None),
        ("2026-11-09 00:00", None, None),  # would be Sunday's evening window
        ("2026-11-09 08:59", None, None),
        ("2026-11-09 09:00", "calls-day", "written-weekdays"),
    ],
)
def test_seed_001_first_template_by_channel_and_moment(
    at: str, call: str | None, written: str | None
) -> None:
    for lead, expected in ((CALL, call), (FORM, written)):
        chosen = first_template(SEED_001, lead, TOMSK, local(at))
        if expected is None:
            assert chosen is None
        else:
            assert chosen is not None
            assert chosen.id == expected
            shares = {p.user: p.weight for p in chosen.participants}
            assert shares == EXPECTED_SHARES[expected]


@pytest.mark.parametrize("channel", ["form", "email", "chat", "telegram"])
def test_every_channel_but_call_is_written(channel: str) -> None:
    chosen = first_template(
        SEED_001, LeadFacts(channel), TOMSK, local("2026-11-03 10:00")
    )
    assert chosen is not None and chosen.id == "written-weekdays"


@pytest.mark.parametrize("lead", [CALL, FORM])
def test_lead_arriving_saturday_evening_waits_until_monday_nine(
    lead: LeadFacts,
) -> None:
    opening = next_template_opening(
        SEED_001, lead, TOMSK, local("2026-11-07 17:30"), timedelta(days=7)
    )
    assert opening == local("2026-11-09 09:00")


def test_next_opening_is_now_when_a_template_already_takes_the_lead() -> None:
    at = local("2026-11-03 23:30")
    assert next_template_opening(SEED_001, CALL, TOMSK, at, timedelta(days=7)) == at


def test_next_opening_of_a_written_lead_at_night_is_the_next_morning() -> None:
    opening = next_template_opening(
        SEED_001, FORM, TOMSK, local("2026-11-03 23:30"), timedelta(days=7)
    )
    assert opening == local("2026-11-04 09:00")


def test_next_opening_is_none_when_no_window_opens_within_the_horizon() -> None:
    saturday_evening = local("2026-11-07 17:30")
    assert (
        next_template_opening(
            SEED_001, CALL, TOMSK, saturday_evening, timedelta(hours=20)
        )
        is None
    )


def test_next_opening_is_none_when_no_template_matches_the_lead() -> None:
    calls_only = [t for t in SEED_001 if t.match == CALLS]
    at = local("2026-11-03 10:00")
    assert next_template_opening(calls_only, FORM, TOMSK, at, timedelta(days=7)) is None


def test_template_window_crossing_midnight_belongs_to_the_day_it_starts() -> None:
    evening = SEED_001[3]
    assert template_open(evening, TOMSK, local("2026-11-07 08:59"))  # Fri -> Sat
    assert not template_open(evening, TOMSK, local("2026-11-07 09:00"))
    assert not template_open(evening, TOMSK, local("2026-11-09 08:59"))  # Sun -> Mon


def test_template_without_days_or_window_is_always_open() -> None:
    always = Template(
        id="all", participants=(Participant("ursula"),), algorithm="random"
    )
    for at in ("2026-11-07 17:30", "2026-11-08 00:00", "2026-11-09 23:59"):
        assert template_open(always, TOMSK, local(at))


def test_earlier_template_wins_when_two_match_and_are_open() -> None:
    broad = Template(
        id="broad", participants=(Participant("marina"),), algorithm="random"
    )
    chosen = first_template(
        (SEED_001[2], broad), CALL, TOMSK, local("2026-11-03 10:00")
    )
    assert chosen is not None and chosen.id == "calls-day"
    chosen = first_template(
        (broad, SEED_001[2]), CALL, TOMSK, local("2026-11-03 10:00")
    )
    assert chosen is not None and chosen.id == "broad"


@pytest.mark.parametrize(
    ("match", "lead", "taken"),
    [
        (Match(), LeadFacts("call"), True),
        (Match(channels=frozenset({"call", "chat"})), LeadFacts("chat"), True),
        (Match(channels=frozenset({"call"})), LeadFacts("form"), False),
        (Match(channels_except=frozenset({"call"})), LeadFacts("call"), False),
        (Match(pipelines=frozenset({"sales"})), LeadFacts("call", "sales"), True),
        (Match(pipelines=frozenset({"sales"})), LeadFacts("call", "support"), False),
        (Match(pipelines=frozenset({"sales"})), LeadFacts("call", None), False),
        (
            Match(tags=frozenset({"vip", "partner"})),
            LeadFacts("call", tags=frozenset({"partner", "spb"})),
            True,
        ),
        (
            Match(tags=frozenset({"vip"})),
            LeadFacts("call", tags=frozenset({"spb"})),
            False,
        ),
        (Match(tags=frozenset({"vip"})), LeadFacts("call"), False),
        (
            Match(channels=frozenset({"call"}), pipelines=frozenset({"sales"})),
            LeadFacts("call", "support"),
            False,
        ),
    ],
)
def test_match_takes_a_lead_only_when_every_given_criterion_holds(
    match: Match, lead: LeadFacts, taken: bool
) -> None:
    assert match.accepts(lead) is taken


def test_template_gives_the_lead_to_a_fallback_user_instead_of_holding() -> None:
    fallback = Template(
        id="night",
        participants=(Participant("ursula"),),
        algorithm="round_robin",
        hold=False,
        fallback_user="marina",
    )
    assert (fallback.hold, fallback.fallback_user) == (False, "marina")


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"participants": ()}, "needs at least one participant"),
        (
            {"participants": (Participant("ursula"), Participant("ursula"))},
            "listed twice",
        ),
        ({"algorithm": "fastest"}, "unknown algorithm 'fastest'"),
        ({"fallback_algorithm": "linked"}, "fallback_algorithm 'linked'"),
        ({"days": frozenset({7})}, "days must be 0 (Monday) .. 6 (Sunday)"),
        ({"hold": False}, "set either hold or fallback_user"),
        ({"fallback_user": "marina"}, "set either hold or fallback_user"),
        ({"reassign_after_minutes": 0}, "reassign_after_minutes must be at least 1"),
    ],
)
def test_invalid_template_is_rejected_with_its_id_and_the_problem(
    fields: dict[str, object], message: str
) -> None:
    values: dict[str, object] = {
        "id": "calls-day",
        "participants": (Participant("ursula"),),
        "algorithm": "weighted",
    }
    values.update(fields)
    with pytest.raises(ValueError, match=r"^template calls-day: ") as raised:
        Template(**values)  # type: ignore[arg-type]
    assert message in str(raised.value)


def test_participant_weight_below_one_is_rejected() -> None:
    with pytest.raises(
        ValueError, match="participant ursula: weight must be at least 1"
    ):
        Participant("ursula", 0)
