"""Fairness of the push rotation (domain.md section 7) over random rosters."""

from __future__ import annotations

import random
from collections import Counter
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.assigner.engine.rotation import (
    Link,
    NobodyToPick,
    RotationState,
    Seat,
    least_loaded_pick,
    pick,
    random_pick,
    weighted_pick,
)

NAMES = ["ursula", "nadezhda", "marina", "pavel", "olga", "igor", "vera", "timur"]


@st.composite
def pools(draw: st.DrawFn, max_size: int = 6, max_weight: int = 12) -> list[Seat]:
    users = draw(
        st.lists(st.sampled_from(NAMES), min_size=1, max_size=max_size, unique=True)
    )
    return [Seat(u, draw(st.integers(1, max_weight))) for u in users]


@st.composite
def histories(draw: st.DrawFn) -> RotationState:
    """A state left by earlier cycles: arbitrary recency, so ties break arbitrarily."""
    turns = draw(st.integers(0, 50))
    last = {
        u: draw(st.integers(0, turns - 1))
        for u in draw(st.lists(st.sampled_from(NAMES), unique=True))
        if turns
    }
    return RotationState(turns=turns, last_turn=last)


def run(
    state: RotationState, pool: list[Seat], n: int, algorithm: str = "weighted"
) -> tuple[RotationState, list[str]]:
    winners = []
    for _ in range(n):
        chosen = pick(algorithm, state, pool)
        state = chosen.state
        winners.append(chosen.user)
    return state, winners


def assert_fair(pool: list[Seat], winners: list[str]) -> None:
    """Every prefix within one lead of its ideal share; exact after each k·Σw."""
    total = sum(s.weight for s in pool)
    counts: Counter[str] = Counter()
    for t, user in enumerate(winners, start=1):
        counts[user] += 1
        for s in pool:
            ideal = Fraction(t * s.weight, total)
            assert abs(counts[s.user] - ideal) < 1, (t, s, dict(counts))
        if t % total == 0:
            assert {s.user: counts[s.user] for s in pool} == {
                s.user: t // total * s.weight for s in pool
            }


@settings(max_examples=300, deadline=None)
@given(
    pool=pools(), state=histories(), cycles=st.integers(1, 3), extra=st.integers(0, 20)
)
def test_weighted_turns_are_fair_in_every_prefix(
    pool: list[Seat], state: RotationState, cycles: int, extra: int
) -> None:
    total = sum(s.weight for s in pool)
    _, winners = run(state, pool, cycles * total + extra)
    assert_fair(pool, winners)


@settings(max_examples=100, deadline=None)
@given(pool=pools(), state=histories(), n=st.integers(1, 40))
def test_round_robin_ignores_weights_and_takes_turns(
    pool: list[Seat], state: RotationState, n: int
) -> None:
    _, winners = run(state, pool, n, "round_robin")
    assert_fair([Seat(s.user, 1) for s in pool], winners)
    m = len(pool)
    for start in range(0, n - m + 1, m):
        assert sorted(winners[start : start + m]) == sorted(s.user for s in pool)


def test_weighted_ties_go_to_the_participant_listed_first() -> None:
    # Seed 001: "Марине - 1 заявку, Надежде - 2 заявки".
    pool = [Seat("marina", 1), Seat("nadezhda", 2)]
    _, winners = run(RotationState(), pool, 9)
    assert winners == ["marina", "nadezhda", "nadezhda"] * 3
    _, winners = run(RotationState(), [Seat("ursula", 1), Seat("nadezhda", 2)], 3)
    assert winners[0] == "ursula"


def _completes(pool: list[Seat], counts: dict[str, int], turn: int) -> bool:
    """Brute force: some continuation to the block's end keeps every bound."""
    total = sum(s.weight for s in pool)
    for s in pool:
        ideal = Fraction(turn * s.weight, total)
        if not abs(counts.get(s.user, 0) - ideal) < 1:
            return False
    if turn % total == 0:
        return True
    return any(
        _completes(pool, {**counts, s.user: counts.get(s.user, 0) + 1}, turn + 1)
        for s in pool
    )


@settings(max_examples=150, deadline=None)
@given(pool=pools(max_size=4, max_weight=3), n=st.integers(1, 12))
def test_each_lead_goes_to_the_first_listed_whose_turn_keeps_the_bounds(
    pool: list[Seat], n: int
) -> None:
    state = RotationState()
    counts: dict[str, int] = {}
    for turn in range(1, n + 1):
        chosen = pick("weighted", state, pool)
        first_fair = next(
            s.user
            for s in pool
            if _completes(pool, {**counts, s.user: counts.get(s.user, 0) + 1}, turn)
        )
        assert chosen.user == first_fair, (turn, counts)
        counts[chosen.user] = counts.get(chosen.user, 0) + 1
        state = chosen.state


def test_plain_largest_deficit_would_drift_where_the_quota_rule_does_not() -> None:
    # The roster on which "pick the largest deficit" leaves one lead behind.
    pool = [Seat(u, w) for u, w in zip(NAMES, [1, 8, 8, 8, 1, 1], strict=False)]
    _, winners = run(RotationState(), pool, 3 * 27)
    assert_fair(pool, winners)


@st.composite
def shifts(draw: st.DrawFn) -> list[tuple[list[Seat], int]]:
    """Stretches of assignments, each over the set on duty then (with fixed weights)."""
    weights = {u: draw(st.integers(1, 6)) for u in NAMES[:5]}
    out = []
    for _ in range(draw(st.integers(2, 5))):
        users = draw(st.lists(st.sampled_from(NAMES[:5]), min_size=1, unique=True))
        out.append(([Seat(u, weights[u]) for u in users], draw(st.integers(0, 25))))
    return out


@settings(max_examples=200, deadline=None)
@given(stretches=shifts(), state=histories())
def test_going_off_duty_and_back_restarts_the_cycle_without_a_catch_up_burst(
    stretches: list[tuple[list[Seat], int]], state: RotationState
) -> None:
    # The rule: a change of the on-duty set starts a new cycle over the new set.
    # So fairness holds from the start of every stretch, and someone returning
    # gets no more than their share of the new cycle, whatever they missed.
    # Consecutive stretches over the same set are one cycle, not two.
    runs: list[tuple[list[Seat], list[str]]] = []
    for pool, n in stretches:
        state, winners = run(state, pool, n)
        assert set(winners) <= {s.user for s in pool}
        if not winners:
            continue  # nobody was handed a lead: the cycle did not change
        if runs and set(runs[-1][0]) == set(pool):
            runs[-1][1].extend(winners)
        else:
            runs.append((pool, winners))
    for pool, winners in runs:
        assert_fair(pool, winners)


def test_a_returning_participant_is_not_owed_the_leads_they_missed() -> None:
    everyone = [Seat("ursula", 1), Seat("marina", 1)]
    state, _ = run(RotationState(), everyone, 2)
    state, away = run(state, [Seat("ursula", 1)], 6)  # marina off duty
    assert away == ["ursula"] * 6
    _, back = run(state, everyone, 6)
    # Alternating again at once: not six leads in a row for marina.
    assert back == ["marina", "ursula"] * 3


def test_the_same_set_in_another_order_keeps_the_cycle() -> None:
    state, first = run(RotationState(), [Seat("a", 1), Seat("b", 2)], 2)
    _, rest = run(state, [Seat("b", 2), Seat("a", 1)], 4)
    assert_fair([Seat("a", 1), Seat("b", 2)], first + rest)


def test_a_skipped_user_is_passed_over_for_that_lead_only() -> None:
    pool = [Seat("ursula", 1), Seat("nadezhda", 1), Seat("marina", 1)]
    first = weighted_pick(RotationState(), pool)
    assert first.user == "ursula"
    again = weighted_pick(first.state, pool, allowed=frozenset({"ursula", "marina"}))
    assert again.user == "marina"
    assert again.losses["nadezhda"].code == "skipped"
    assert weighted_pick(again.state, pool).user == "nadezhda"


def test_nobody_allowed_is_an_error_the_caller_turns_into_hold() -> None:
    with pytest.raises(NobodyToPick):
        weighted_pick(RotationState(), [Seat("a", 1)], allowed=frozenset())


def test_losers_are_told_why() -> None:
    pool = [Seat("ursula", 1), Seat("nadezhda", 2), Seat("marina", 1)]
    chosen = weighted_pick(RotationState(), pool)
    assert chosen.user == "ursula"
    assert chosen.losses["nadezhda"].code == "listed_later"
    assert "its turn" in chosen.why
    second = weighted_pick(chosen.state, pool)
    assert second.user == "nadezhda"
    assert second.losses["ursula"].code == "at_share"
    assert second.losses["marina"].code == "not_its_turn"  # nadezhda is due


@settings(max_examples=100, deadline=None)
@given(pool=pools(), seed=st.integers(0, 2**32))
def test_random_is_reproducible_from_its_seed(pool: list[Seat], seed: int) -> None:
    a = random_pick(RotationState(), pool, None, random.Random(seed))
    b = random_pick(RotationState(), pool, None, random.Random(seed))
    assert a.user == b.user
    assert a.user in {s.user for s in pool}


def test_random_follows_the_weights_over_many_draws() -> None:
    pool = [Seat("ursula", 1), Seat("nadezhda", 3)]
    rng = random.Random(7)
    state = RotationState()
    counts: Counter[str] = Counter()
    for _ in range(4000):
        chosen = random_pick(state, pool, None, rng)
        state = chosen.state
        counts[chosen.user] += 1
    assert 0.72 < counts["nadezhda"] / 4000 < 0.78


@settings(max_examples=200, deadline=None)
@given(
    pool=pools(),
    state=histories(),
    loads=st.dictionaries(st.sampled_from(NAMES), st.integers(0, 5)),
)
def test_least_loaded_takes_the_fewest_open_leads_then_the_longest_wait(
    pool: list[Seat], state: RotationState, loads: dict[str, int]
) -> None:
    chosen = least_loaded_pick(state, pool, None, loads)
    fewest = min(loads.get(s.user, 0) for s in pool)
    tied = [s.user for s in pool if loads.get(s.user, 0) == fewest]
    assert chosen.user in tied
    waited = min(state.last_turn.get(u, -1) for u in tied)
    assert state.last_turn.get(chosen.user, -1) == waited


def test_least_loaded_rotates_among_equals() -> None:
    pool = [Seat("a"), Seat("b"), Seat("c")]
    state = RotationState()
    winners = []
    for _ in range(6):
        chosen = least_loaded_pick(state, pool, None, {})
        state = chosen.state
        winners.append(chosen.user)
    assert winners == ["a", "b", "c"] * 2


def test_linked_prefers_the_contacts_user_when_on_duty() -> None:
    pool = [Seat("ursula"), Seat("marina")]
    chosen = pick(
        "linked",
        RotationState(),
        pool,
        links=[
            Link("pavel", "responsible of contact C1"),
            Link("marina", "owner of L7"),
        ],
        fallback_algorithm="least_loaded",
    )
    # pavel is not on duty (not in the pool): the next link wins.
    assert (chosen.user, chosen.algorithm) == ("marina", "linked")
    assert "owner of L7" in chosen.why
    assert chosen.losses["ursula"].code == "not_linked"


def test_linked_falls_back_when_no_linked_user_is_on_duty() -> None:
    pool = [Seat("ursula"), Seat("marina")]
    chosen = pick(
        "linked",
        RotationState(),
        pool,
        links=[Link("pavel", "responsible of contact C1")],
        fallback_algorithm="least_loaded",
        open_leads={"ursula": 3, "marina": 1},
    )
    assert (chosen.user, chosen.algorithm) == ("marina", "least_loaded")
    assert chosen.why.startswith("no linked user is on duty")


@settings(max_examples=100, deadline=None)
@given(pool=pools(), state=histories(), n=st.integers(0, 30))
def test_state_survives_the_database_round_trip(
    pool: list[Seat], state: RotationState, n: int
) -> None:
    state, _ = run(state, pool, n)
    assert RotationState.from_json(state.to_json()) == state
