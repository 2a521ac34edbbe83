"""Manual mode: a bulk transfer cut off halfway by a failing CRM write, run again."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import text

from leadrouter.db import Database
from tests.e2e.reports_fixtures import settled
from tests.e2e.test_manual import TRANSFER, _responsible_changes, marinas_leads
from tests.stack import Stack


@contextmanager
def crm_refuses_to_write(db: Database, lead: str) -> Iterator[None]:
    """The CRM's database refuses any change to one lead, as a failing disk would:
    the transaction of the batch holding that lead fails as a whole."""
    if db.is_sqlite:
        create = [
            f"CREATE TRIGGER refuse BEFORE UPDATE ON leads WHEN NEW.id = '{lead}' "
            "BEGIN SELECT RAISE(ABORT, 'disk I/O error'); END"
        ]
        drop = ["DROP TRIGGER refuse"]
    else:
        table = f'"{db.schema}".leads'
        create = [
            f'CREATE FUNCTION "{db.schema}".refuse() RETURNS trigger AS $$ BEGIN '
            f"IF NEW.id = '{lead}' THEN RAISE EXCEPTION 'disk I/O error'; END IF; "
            "RETURN NEW; END $$ LANGUAGE plpgsql",
            f"CREATE TRIGGER refuse BEFORE UPDATE ON {table} "
            f'FOR EACH ROW EXECUTE FUNCTION "{db.schema}".refuse()',
        ]
        drop = [
            f"DROP TRIGGER refuse ON {table}",
            f'DROP FUNCTION "{db.schema}".refuse()',
        ]
    with db.engine.begin() as conn:
        for statement in create:
            conn.execute(text(statement))
    try:
        yield
    finally:
        with db.engine.begin() as conn:
            for statement in drop:
                conn.execute(text(statement))


async def test_a_transfer_cut_off_by_a_failing_batch_finishes_on_retry_once_per_lead(
    any_stack: Stack,
) -> None:
    stack = any_stack
    leads = await marinas_leads(stack, "R", 120)
    variables = {
        "from": "marina",
        "to": "nadezhda",
        "cascade": True,
        "key": "marina-leaves",
        "dry": False,
    }
    # R060 is in the second batch of 50: the first batch lands, then the run stops.
    with crm_refuses_to_write(stack.dbs["crm"], "R060"):
        body = await stack.gql(TRANSFER, variables)
    assert body["errors"], body
    changes = await _responsible_changes(stack)
    assert [x for x in leads if changes[x]] == leads[:50]
    # The second batch is all or nothing: none of its leads moved.
    assert not any(changes[x] for x in leads[50:100])

    done = (await stack.data(TRANSFER, variables))["transferLeads"]
    assert (done["leads"], done["batches"]) == (120, 3)
    assert done["leadIds"] == leads
    changes = await _responsible_changes(stack)
    assert all(changes[x] == 1 for x in leads)

    # The journal holds exactly one manual decision per lead, by the head of sales.
    journal = await stack.data(
        "query($u: ID!) { decisions(userId: $u, first: 500) "
        "{ edges { node { kind actor leadId } } } }",
        {"u": "nadezhda"},
    )
    nodes = [e["node"] for e in journal["decisions"]["edges"]]
    assert sorted(n["leadId"] for n in nodes) == leads
    assert {(n["kind"], n["actor"]) for n in nodes} == {("manual", "head")}

    await settled(stack)
    report = await stack.data(
        "query($d: Date!) { distributionReport(from: $d, to: $d, bucket: DAY) "
        "{ manual rows { userId manual total } } }",
        {"d": stack.clock.now().date().isoformat()},
    )
    figures = report["distributionReport"]
    assert figures["manual"] == 120
    assert figures["rows"] == [{"userId": "nadezhda", "manual": 120, "total": 120}]
