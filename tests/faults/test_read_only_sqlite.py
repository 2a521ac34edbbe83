"""A SQLite database that takes no more writes: presses are refused in words.

`PRAGMA query_only` on the assigner's connections makes SQLite answer as for
a read-only file (SQLITE_READONLY); as root, file permissions would not.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import event

from tests.e2e.test_claim import CLAIM, _setup
from tests.stack import Stack

DECISIONS = "{ decisions(first: 50) { edges { node { id } } } }"
POOL = '{ pool(groupId: "main") { totalCount } }'


async def test_a_read_only_sqlite_file_refuses_presses_and_keeps_nothing(
    stack: Stack,
) -> None:
    await _setup(stack, pool=3)
    engine = stack.dbs["assigner"].engine

    def read_only(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.execute("PRAGMA query_only = ON")

    event.listen(engine, "connect", read_only)
    engine.dispose()  # every connection from now on is read-only
    try:
        for user in ("ursula", "nadezhda"):
            answer = await stack.gql(CLAIM, {"g": "main"}, user=user, role="manager")
            assert answer["data"] is None
            assert answer["errors"][0]["extensions"]["code"] == "UNAVAILABLE"
            assert answer["errors"][0]["message"] == (
                "the assigner database is read-only; nothing was changed, "
                "try again once it accepts writes"
            )
        assert (await stack.data(POOL))["pool"]["totalCount"] == 3
        assert (await stack.data(DECISIONS))["decisions"]["edges"] == []
    finally:
        event.remove(engine, "connect", read_only)
        engine.dispose()
    answer = await stack.data(CLAIM, {"g": "main"}, user="ursula", role="manager")
    assert answer["claimLead"]["lead"]["id"] == "L00"
