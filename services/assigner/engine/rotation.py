"""Who of a template's on-duty participants gets the next pushed lead: pure rules.

Weighted turns keep every prefix of the sequence within one lead of its ideal
share t·wᵢ/Σw (domain.md section 7, "Fairness"): after the t-th lead of a
cycle each participant has between the floor and the ceiling of its share,
so after k·Σw leads everyone has exactly k·wᵢ. Among the participants whose
turn keeps those bounds, now and for the rest of the k·Σw block, the one
listed first goes first: "Marina 1, Nadezhda 2" runs M, N, N, M, N, N.
Whether a choice keeps the bounds for the rest of the block is a question of
unit jobs with release times and deadlines (the j-th lead of participant i
may come once the ceiling of its share reaches j, and must come by the time
the floor does), which "earliest deadline first" answers exactly.

A cycle runs over one set of participants, the ones on duty and allowed by
their limits. When that set changes (someone goes off duty, comes back, is
blocked or unblocked by a limit, or a weight changes) the cycle restarts over
the new set: counts start again from zero, so a returning participant is owed
nothing for the time away (no catch-up burst) and the others keep nothing
against them. A restarted cycle reads the list from the participant assigned
least recently by this template (the first lead of the cycle is theirs, and
ties after it go round the list from them), so a set that keeps changing
still rotates instead of always favouring the top of the list.
"""

from __future__ import annotations

import heapq
import json
import random
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from fractions import Fraction
from functools import lru_cache

from services.assigner.engine.reasons import Standing

ROTATING = frozenset({"round_robin", "weighted"})
FALLBACK_DEFAULT = "weighted"


@dataclass(frozen=True)
class Seat:
    """A participant taking part in a pick: on duty and allowed by the limits."""

    user: str
    weight: int = 1


@dataclass(frozen=True)
class RotationState:
    """A template's rotation, as stored between picks."""

    cycle: tuple[Seat, ...] = ()  # who the current cycle is over
    counts: Mapping[str, int] = field(default_factory=dict)  # leads in this cycle
    turns: int = 0  # leads the template has ever handed out
    last_turn: Mapping[str, int] = field(default_factory=dict)  # each user's last
    first: str = ""  # whom ties of this cycle start from ("" = the top of the list)

    def to_json(self) -> str:
        return json.dumps(
            {
                "cycle": [[s.user, s.weight] for s in self.cycle],
                "counts": dict(self.counts),
                "turns": self.turns,
                "last_turn": dict(self.last_turn),
                "first": self.first,
            },
            sort_keys=True,
        )

    @classmethod
    def from_json(cls, text: str) -> RotationState:
        if not text:
            return cls()
        data = json.loads(text)
        return cls(
            cycle=tuple(Seat(u, w) for u, w in data.get("cycle", [])),
            counts=dict(data.get("counts", {})),
            turns=int(data.get("turns", 0)),
            last_turn=dict(data.get("last_turn", {})),
            first=str(data.get("first", "")),
        )

    def over(self, pool: Sequence[Seat]) -> RotationState:
        """This state with its cycle over `pool`: restarted if the pool changed."""
        if _same_pool(self.cycle, pool):
            return self
        return replace(self, cycle=tuple(pool), counts={}, first="")

    def handed(self, user: str) -> RotationState:
        """The state after `user` got a lead."""
        counts = dict(self.counts)
        counts[user] = counts.get(user, 0) + 1
        last = dict(self.last_turn)
        last[user] = self.turns
        return RotationState(self.cycle, counts, self.turns + 1, last, self.first)

    def taken_back(self, user: str) -> RotationState:
        """Undoes a lead that never reached `user` (the CRM refused the change)."""
        if self.counts.get(user, 0) < 1:
            return self
        counts = dict(self.counts)
        counts[user] -= 1
        return replace(self, counts=counts)


def _same_pool(a: Sequence[Seat], b: Sequence[Seat]) -> bool:
    if len(a) != len(b):
        return False
    if all(x == y for x, y in zip(a, b, strict=True)):
        return True  # the same seats in the same order: the usual case
    return {s.user: s.weight for s in a} == {s.user: s.weight for s in b}


@dataclass(frozen=True)
class Loss:
    """Why a seat did not get the lead: a code and a sentence for the journal."""

    code: Standing
    text: str


@dataclass(frozen=True)
class Pick:
    user: str
    state: RotationState  # after the pick
    algorithm: str  # the one that decided: e.g. "least_loaded" when linked fell back
    why: str  # why the winner won
    losses: Mapping[str, Loss] = field(default_factory=dict)


class NobodyToPick(ValueError):
    """No seat may take the lead; the caller holds it or uses the fallback user."""


def _recency(state: RotationState, user: str) -> int:
    return state.last_turn.get(user, -1)


def _tie_order(
    state: RotationState, seats: Sequence[Seat]
) -> Callable[[Seat], tuple[int, int]]:
    order = {s.user: i for i, s in enumerate(seats)}
    return lambda s: (_recency(state, s.user), order[s.user])


def _allowed(pool: Sequence[Seat], allowed: frozenset[str] | None) -> list[Seat]:
    seats = [s for s in pool if allowed is None or s.user in allowed]
    if not seats:
        raise NobodyToPick("no participant may take this lead")
    return seats


def _excluded_losses(pool: Sequence[Seat], seats: Sequence[Seat]) -> dict[str, Loss]:
    inside = {s.user for s in seats}
    return {
        s.user: Loss(Standing.SKIPPED, "skipped for this lead (it already had it)")
        for s in pool
        if s.user not in inside
    }


@lru_cache(maxsize=1 << 16)
def _keeps_bounds(
    weights: tuple[int, ...], counts: tuple[int, ...], turn: int, who: int
) -> bool:
    """Whether giving lead `turn` to seat `who` keeps every share within its
    bounds, now and up to the end of the block of Σw leads `turn` falls in.

    Each lead still owed to a seat in the block is a unit job: it may come
    once the ceiling of the share reaches it, and must come by the time the
    floor does. One lead a turn, earliest deadline first, finds a way through
    whenever one exists. The answer depends on the counts within the block
    only, so the caller passes them net of the blocks already completed, and
    a rotation running over one set asks the same few questions again.
    """
    total = sum(weights)
    block_end = -(-turn // total) * total
    jobs: list[tuple[int, int]] = []  # (release, deadline) per owed lead
    for i, w in enumerate(weights):
        have = counts[i] + (i == who)
        # This turn's own bounds: floor(t·w/Σw) <= c <= ceil(t·w/Σw).
        if not turn * w // total <= have <= -(-turn * w // total):
            return False
        for k in range(have + 1, block_end // total * w + 1):
            jobs.append(((k - 1) * total // w + 1, -(-k * total // w)))
    if len(jobs) != block_end - turn:
        return False
    jobs.sort()
    due: list[int] = []
    i = 0
    for step in range(turn + 1, block_end + 1):
        while i < len(jobs) and jobs[i][0] <= step:
            heapq.heappush(due, jobs[i][1])
            i += 1
        if not due or heapq.heappop(due) < step:
            return False
    return True


def weighted_pick(
    state: RotationState,
    pool: Sequence[Seat],
    allowed: frozenset[str] | None = None,
    *,
    algorithm: str = "weighted",
    explain: bool = True,
) -> Pick:
    """The next turn over `pool` by the weights, among the `allowed` seats."""
    state = state.over(pool)
    seats = _allowed(pool, allowed)
    weights = tuple(s.weight for s in pool)
    total = sum(weights)
    have = tuple(state.counts.get(s.user, 0) for s in pool)
    turn = sum(have) + 1
    done = (turn - 1) // total  # whole blocks behind: they change no bound
    net = tuple(c - done * w for c, w in zip(have, weights, strict=True))
    index = {s.user: i for i, s in enumerate(pool)}

    def count(s: Seat) -> int:
        return have[index[s.user]]

    def keeps_bounds(s: Seat) -> bool:
        return _keeps_bounds(weights, net, turn - done * total, index[s.user])

    def below_ceiling(s: Seat) -> bool:
        return count(s) + 1 <= -(-turn * s.weight // total)

    restarted = turn == 1 and state.turns > 0
    listed = _listing(pool, state.first)
    tie = _tie_order(state, pool) if restarted else listed
    winner = next(
        (s for s in sorted(seats, key=tie) if below_ceiling(s) and keeps_bounds(s)),
        None,
    )
    if winner is None:
        # Only when `allowed` leaves out whoever is due: the quota method's
        # pick among the rest (the highest wᵢ/(cᵢ+1) below its ceiling).
        entitled = [s for s in seats if below_ceiling(s)] or seats
        best = max(Fraction(s.weight, count(s) + 1) for s in entitled)
        winner = min(
            (s for s in entitled if Fraction(s.weight, count(s) + 1) == best),
            key=listed,
        )
    after = state.handed(winner.user)
    if turn == 1:
        after = replace(after, first=winner.user)
    if not explain:
        return Pick(winner.user, after, algorithm, "", {})
    losses = _excluded_losses(pool, seats)
    for s in seats:
        if s is winner:
            continue
        ideal = Fraction(turn * s.weight, total)
        share = f"{count(s)} of an ideal {float(ideal):.2f} after this lead"
        if not below_ceiling(s):
            losses[s.user] = Loss(Standing.AT_SHARE, f"already has its share: {share}")
        elif not keeps_bounds(s):
            losses[s.user] = Loss(Standing.NOT_ITS_TURN, f"not its turn: {share}")
        elif restarted and tie(s) > tie(winner):
            losses[s.user] = Loss(
                Standing.ASSIGNED_MORE_RECENTLY, f"got a lead more recently: {share}"
            )
        else:
            losses[s.user] = Loss(
                Standing.LISTED_LATER, f"could take it, but is listed later: {share}"
            )
    why = (
        f"its turn: {count(winner)} of an ideal "
        f"{float(Fraction(turn * winner.weight, total)):.2f} after this lead "
        f"(weight {winner.weight} of {total})"
    )
    return Pick(winner.user, after, algorithm, why, losses)


def _listing(pool: Sequence[Seat], first: str) -> Callable[[Seat], tuple[int, int]]:
    """The template's order, read round from `first` when it is in the pool."""
    index = {s.user: i for i, s in enumerate(pool)}
    shift, n = index.get(first, 0), len(pool)
    return lambda s: ((index[s.user] - shift) % n, 0)


def round_robin_pick(
    state: RotationState,
    pool: Sequence[Seat],
    allowed: frozenset[str] | None = None,
    *,
    explain: bool = True,
) -> Pick:
    """Equal turns in the template's order, whatever the weights say."""
    even = [Seat(s.user, 1) for s in pool]
    return weighted_pick(state, even, allowed, algorithm="round_robin", explain=explain)


def random_pick(
    state: RotationState,
    pool: Sequence[Seat],
    allowed: frozenset[str] | None,
    rng: random.Random,
) -> Pick:
    """A draw weighted by the weights; the caller seeds `rng` so a replay agrees."""
    state = state.over(pool)
    seats = _allowed(pool, allowed)
    winner = rng.choices(seats, weights=[s.weight for s in seats], k=1)[0]
    total = sum(s.weight for s in seats)
    losses = _excluded_losses(pool, seats)
    for s in seats:
        if s is not winner:
            losses[s.user] = Loss(
                Standing.NOT_DRAWN, f"not drawn (chance {s.weight} of {total})"
            )
    why = f"drawn with chance {winner.weight} of {total}"
    return Pick(winner.user, state.handed(winner.user), "random", why, losses)


def least_loaded_pick(
    state: RotationState,
    pool: Sequence[Seat],
    allowed: frozenset[str] | None,
    open_leads: Mapping[str, int],
) -> Pick:
    """Fewest open leads; ties go to the one assigned least recently."""
    state = state.over(pool)
    seats = _allowed(pool, allowed)
    tie = _tie_order(state, pool)

    def load(s: Seat) -> int:
        return open_leads.get(s.user, 0)

    winner = min(seats, key=lambda s: (load(s), *tie(s)))
    losses = _excluded_losses(pool, seats)
    for s in seats:
        if s is winner:
            continue
        if load(s) > load(winner):
            losses[s.user] = Loss(
                Standing.MORE_OPEN_LEADS, f"{load(s)} open leads against {load(winner)}"
            )
        else:
            losses[s.user] = Loss(
                Standing.ASSIGNED_MORE_RECENTLY,
                f"also {load(s)} open leads, but got a lead more recently",
            )
    why = f"fewest open leads ({load(winner)})"
    return Pick(winner.user, state.handed(winner.user), "least_loaded", why, losses)


@dataclass(frozen=True)
class Link:
    """A user the lead's contact or company already works with, and how."""

    user: str
    via: str  # e.g. "responsible of contact C1"


def pick(
    algorithm: str,
    state: RotationState,
    pool: Sequence[Seat],
    *,
    allowed: frozenset[str] | None = None,
    open_leads: Mapping[str, int] | None = None,
    links: Sequence[Link] = (),
    fallback_algorithm: str | None = None,
    rng: random.Random | None = None,
    explain: bool = True,
) -> Pick:
    """The seat of `pool` that gets the lead by `algorithm`.

    `pool` is the on-duty participants the limits allow, in the template's
    order; `allowed` narrows who may take this particular lead (a reassigned
    lead skips its previous holders) without restarting the cycle.
    """
    if algorithm == "linked":
        fallback = fallback_algorithm or FALLBACK_DEFAULT
        seats = {s.user for s in _allowed(pool, allowed)}
        for link in links:
            if link.user in seats:
                # Counted in the fallback's cycle, so the fallback evens out around
                # the linked leads instead of restarting at each one.
                even = [Seat(s.user, 1) for s in pool]
                state = state.over(even if fallback == "round_robin" else pool)
                losses = _excluded_losses(pool, _allowed(pool, allowed))
                for s in pool:
                    if s.user != link.user and s.user not in losses:
                        losses[s.user] = Loss(
                            Standing.NOT_LINKED,
                            "the lead's contact works with another user",
                        )
                return Pick(
                    link.user,
                    state.handed(link.user),
                    "linked",
                    f"linked: {link.via}",
                    losses,
                )
        chosen = pick(
            fallback,
            state,
            pool,
            allowed=allowed,
            open_leads=open_leads,
            rng=rng,
            explain=explain,
        )
        unlinked = (
            "no linked user is on duty" if links else "the contact has no linked user"
        )
        return replace(chosen, why=f"{unlinked}; {chosen.why}")
    if algorithm == "weighted":
        return weighted_pick(state, pool, allowed, explain=explain)
    if algorithm == "round_robin":
        return round_robin_pick(state, pool, allowed, explain=explain)
    if algorithm == "random":
        return random_pick(state, pool, allowed, rng or random.Random(state.turns))
    if algorithm == "least_loaded":
        return least_loaded_pick(state, pool, allowed, open_leads or {})
    raise ValueError(f"unknown algorithm '{algorithm}'")
