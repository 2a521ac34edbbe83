"""Counts, for operators, what the decision journal records: SLA reassignments
and leads push distribution starts to hold, by their reason codes.

Every decision of every use case (claims, push, manual) becomes a row of the
journal, so the journal is the one place to count them: a change to how a
decision is made cannot forget to count it. A row counts once its
transaction commits; a rolled-back one (a twin replica got there first, the
database failed) counts nothing.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine

from leadrouter import metrics
from services.assigner.tables import DecisionRow

log = logging.getLogger(__name__)

_PENDING = "leadrouter.journaled"


@event.listens_for(DecisionRow, "after_insert")
def _journaled(_mapper: Any, connection: Connection, row: DecisionRow) -> None:
    connection.info.setdefault(_PENDING, []).append(
        (row.account, row.kind, row.outcome, row.group_id, row.reasons, row.details)
    )


@event.listens_for(Engine, "commit")
def _committed(connection: Connection) -> None:
    for account, kind, outcome, group, reasons, details in connection.info.pop(
        _PENDING, []
    ):
        try:
            metrics.decision_journaled(
                account, kind, outcome, group, json.loads(reasons), json.loads(details)
            )
        except (ValueError, TypeError, AttributeError) as error:
            log.warning("a journaled decision was not counted: %s", error)


@event.listens_for(Engine, "rollback")
def _rolled_back(connection: Connection) -> None:
    # A connection the database dropped (a restart) is invalidated: its
    # pending rows go with it, and touching its info would try to revalidate
    # it inside the failed transaction and raise over the database's error.
    if connection.invalidated:
        return
    connection.info.pop(_PENDING, None)
