"""Relay Cursor Connections, checked with a client no one here wrote: Python's `gql`.

The gateway runs on a loopback port; `gql` reads its schema by introspection
(so every query below is validated against it, as a third-party client
would) and pages every connection of the schema, `leads`, `pool` and
`decisions`, forwards (first/after) and backwards (last/before). Each page
is held to the specification's rules (sections 4 and 5): an opaque,
non-empty cursor on every edge; startCursor and endCursor those of the
first and last edge on every page, the last included; hasNextPage and
hasPreviousPage as the pagination algorithm sets them; both directions give
every item once, in the same order. Then the pool is paged while managers
claim from it concurrently: keyset cursors neither skip a lead nor repeat
one.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from gql import Client, GraphQLRequest
from gql.client import AsyncClientSession
from gql.transport.exceptions import TransportQueryError
from gql.transport.httpx import HTTPXAsyncTransport

from tests.e2e.reports_fixtures import live_gateway
from tests.fixtures import lead_created
from tests.stack import Stack

MANAGERS = [f"m{i}" for i in range(1, 9)]
WORKSPACE = (
    """
account: {timezone: Asia/Tomsk}
users:
  - {id: head, name: Head}
  - {id: pool, name: Lead exchange, technical: true}
"""
    + "".join(f"  - {{id: {m}, name: Manager {m}}}\n" for m in MANAGERS)
    + """pipelines:
  - id: sales
    stages:
      - {id: new, kind: open}
      - {id: taken, kind: open}
      - {id: won, kind: won}
      - {id: lost, kind: lost}
groups:
  - id: main
    source_stages: [sales/new]
    target_stage: sales/taken
    exchange_users: [pool]
    members:
"""
    + "".join(f"      - {{user: {m}}}\n" for m in MANAGERS)
)
POOL_LEADS = 60
ARRIVING = 10

# One query per connection; `$after`/`$before` etc. are the page arguments.
PAGE = """
  edges { cursor node { id } }
  pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
"""
CONNECTIONS = {
    "leads": "query($first: Int, $after: String, $last: Int, $before: String) "
    "{ page: leads(first: $first, after: $after, last: $last, before: $before) "
    f"{{ totalCount {PAGE} }} }}",
    "pool": "query($first: Int, $after: String, $last: Int, $before: String) "
    '{ page: pool(groupId: "main", first: $first, after: $after, last: $last, '
    f"before: $before) {{ totalCount {PAGE} }} }}",
    "decisions": "query($first: Int, $after: String, $last: Int, $before: String) "
    "{ page: decisions(first: $first, after: $after, last: $last, "
    f"before: $before) {{ {PAGE} }} }}",
}
CLAIM = """mutation($u: ID) { claimLead(groupId: "main", userId: $u) {
  __typename ... on Claimed { lead { id } } } }"""


async def ask(
    s: AsyncClientSession, query: str, variables: dict[str, Any]
) -> dict[str, Any]:
    result = await s.execute(GraphQLRequest(query, variable_values=variables))
    assert isinstance(result, dict)
    return result


@contextlib.asynccontextmanager
async def session(stack: Stack, url: str) -> AsyncIterator[AsyncClientSession]:
    transport = HTTPXAsyncTransport(
        url=url.replace("ws://", "http://"),
        headers={"Authorization": f"Bearer {stack.token('head', 'admin')}"},
        # httpx's own 5 s is less than a busy 2-core machine can take to answer.
        timeout=60,
    )
    client = Client(transport=transport, fetch_schema_from_transport=True)
    async with client as s:
        yield s


async def _setup(stack: Stack) -> None:
    assert (await stack.apply(WORKSPACE))["ok"]
    start = stack.clock.now() - timedelta(days=2)
    # Pairs of leads share their creation instant: the id breaks the tie.
    await stack.import_history(
        [
            lead_created(f"P{i:02d}", start + timedelta(minutes=i // 2))
            for i in range(POOL_LEADS)
        ]
        + [
            lead_created(f"O{i:02d}", start, responsible=MANAGERS[i % 3], stage="taken")
            for i in range(7)
        ]
    )


@dataclass
class Checked:
    ids: list[str]
    pages: int


def check_page(page: dict[str, Any], where: str) -> list[str]:
    """The specification's rules for one page; the page's node ids."""
    edges, info = page["edges"], page["pageInfo"]
    cursors = [e["cursor"] for e in edges]
    assert all(isinstance(c, str) and c for c in cursors), (where, cursors)
    assert len(set(cursors)) == len(cursors), where
    assert info["startCursor"] == (cursors[0] if cursors else None), (where, info)
    assert info["endCursor"] == (cursors[-1] if cursors else None), (where, info)
    return [e["node"]["id"] for e in edges]


async def forwards(s: AsyncClientSession, name: str, size: int) -> Checked:
    ids: list[str] = []
    after, pages = None, 0
    while True:
        page = (
            await ask(
                s,
                CONNECTIONS[name],
                {"first": size, "after": after},
            )
        )["page"]
        pages += 1
        got = check_page(page, f"{name} forwards page {pages}")
        info = page["pageInfo"]
        assert len(got) <= size
        # hasPreviousPage after a cursor: the items before it exist.
        assert info["hasPreviousPage"] is (after is not None), (name, pages, info)
        ids += got
        if not info["hasNextPage"]:
            assert info["endCursor"] is not None or not ids, name  # the last page too
            return Checked(ids, pages)
        assert len(got) == size, (name, pages)
        after = info["endCursor"]


async def backwards(s: AsyncClientSession, name: str, size: int) -> Checked:
    ids: list[str] = []
    before, pages = None, 0
    while True:
        page = (
            await ask(
                s,
                CONNECTIONS[name],
                {"last": size, "before": before},
            )
        )["page"]
        pages += 1
        got = check_page(page, f"{name} backwards page {pages}")
        info = page["pageInfo"]
        assert info["hasNextPage"] is (before is not None), (name, pages, info)
        ids = got + ids
        if not info["hasPreviousPage"]:
            return Checked(ids, pages)
        assert len(got) == size, (name, pages)
        before = info["startCursor"]


async def _bad_input(s: AsyncClientSession, name: str, **variables: Any) -> str:
    with pytest.raises(TransportQueryError) as refused:
        await ask(s, CONNECTIONS[name], variables)
    errors = refused.value.errors or []
    assert errors and errors[0]["extensions"]["code"] == "BAD_USER_INPUT", errors
    return str(errors[0]["message"])


@pytest.mark.parametrize("name", sorted(CONNECTIONS))
async def test_every_connection_pages_by_the_relay_specification(
    stack: Stack, name: str
) -> None:
    await _setup(stack)
    # Decisions to page through: some claims, each a decision.
    async with live_gateway(stack) as url, session(stack, url) as s:
        for manager in MANAGERS:
            await ask(s, CLAIM, {"u": manager})
        whole = (await ask(s, CONNECTIONS[name], {"first": 200}))["page"]
        everything = check_page(whole, f"{name} in one page")
        assert len(everything) >= 5 and len(set(everything)) == len(everything)
        assert whole["pageInfo"] == {
            "hasNextPage": False,
            "hasPreviousPage": False,
            "startCursor": whole["edges"][0]["cursor"],
            "endCursor": whole["edges"][-1]["cursor"],
        }
        for size in (1, 4, 7):
            ahead = await forwards(s, name, size)
            assert ahead.ids == everything, (name, size)
            behind = await backwards(s, name, size)
            assert behind.ids == everything, (name, size)
        # first and last together: the algorithm's slice of a slice.
        both = (await ask(s, CONNECTIONS[name], {"first": 5, "last": 2}))["page"]
        assert check_page(both, "first 5, last 2") == everything[3:5]
        assert both["pageInfo"]["hasNextPage"], both["pageInfo"]
        assert both["pageInfo"]["hasPreviousPage"], both["pageInfo"]
        empty = (await ask(s, CONNECTIONS[name], {"first": 0}))["page"]
        assert empty["edges"] == [] and empty["pageInfo"]["endCursor"] is None
        await _bad_input(s, name, first=-1)
        await _bad_input(s, name, last=-1)
        await _bad_input(s, name, after="not a cursor")
        other = "pool" if name != "pool" else "decisions"
        foreign = (await ask(s, CONNECTIONS[other], {"first": 1}))["page"]["edges"][0][
            "cursor"
        ]
        if {name, other} != {"leads", "pool"}:  # the same order, the same key
            await _bad_input(s, name, after=foreign)


async def test_paging_the_pool_while_managers_claim_skips_and_repeats_no_lead(
    any_stack: Stack,
) -> None:
    stack = any_stack  # SQLite files, then PostgreSQL (concurrent claims skip locks)
    await _setup(stack)
    taken: list[str] = []
    seen: list[str] = []
    pages = 0
    async with live_gateway(stack) as url, session(stack, url) as s:
        paging_done = asyncio.Event()

        async def claimer(manager: str) -> None:
            # Each press its own second: presses are rate limited per person.
            while not paging_done.is_set():
                reply = await ask(s, CLAIM, {"u": manager})
                if reply["claimLead"]["__typename"] != "Claimed":
                    return
                taken.append(reply["claimLead"]["lead"]["id"])
                stack.clock.advance(timedelta(milliseconds=250))
                await asyncio.sleep(0)

        async def pager() -> None:
            nonlocal pages
            after = None
            try:
                while True:
                    page = (
                        await ask(
                            s,
                            CONNECTIONS["pool"],
                            {"first": 4, "after": after},
                        )
                    )["page"]
                    pages += 1
                    seen.extend(check_page(page, f"pool page {pages}"))
                    if not page["pageInfo"]["hasNextPage"]:
                        return
                    after = page["pageInfo"]["endCursor"]
            finally:
                paging_done.set()

        async def arrivals() -> None:
            # New leads arrive at the pool's end while it is paged.
            newest = stack.clock.now()
            for i in range(ARRIVING):
                if paging_done.is_set():
                    return
                when = newest + timedelta(hours=1, minutes=i)
                await stack.import_history([lead_created(f"Q{i:02d}", when)])
                await asyncio.sleep(0)

        await asyncio.gather(pager(), arrivals(), *(claimer(m) for m in MANAGERS[:4]))
        left = (await ask(s, CONNECTIONS["pool"], {"first": 200}))["page"]
    remaining = [e["node"]["id"] for e in left["edges"]]
    # Claim order: the pool's leads, then the arrivals.
    every = [f"P{i:02d}" for i in range(POOL_LEADS)]
    every += [f"Q{i:02d}" for i in range(ARRIVING)]
    repeated = len(seen) - len(set(seen))
    arrived = sum(x.startswith("Q") for x in set(seen) | set(taken) | set(remaining))
    skipped = [x for x in remaining if x not in seen]
    print(
        f"\npool page-through under claims ({stack.settings.database_url or 'sqlite'}"
        f"): {POOL_LEADS} leads, {arrived} arriving, {pages} pages of 4, "
        f"{len(seen)} seen, {len(taken)} claimed meanwhile, {len(remaining)} left; "
        f"repeated {repeated}, skipped {len(skipped)}"
    )
    assert taken, "no claim ran while the pool was paged"
    assert len(set(taken)) == len(taken)  # no lead handed out twice
    assert repeated == 0, seen
    assert skipped == [], skipped  # every lead still in the pool was seen
    assert seen == sorted(seen, key=every.index)  # in claim order
    assert set(seen) | set(taken) | set(remaining) <= set(every)
    assert set(remaining) == (set(every[: POOL_LEADS + arrived]) - set(taken))
