"""Events another CRM feeds as they happen (`recordEvents`, `POST /crm/events`).

The lines are those of a history file (contract.md section 4), each with an
"id" of the sender's: the batch is applied whole or not at all, and an event
whose id was recorded before is not applied again, so a sender that is not
sure a batch arrived sends it again.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

from sqlmodel import Session

from leadrouter import messages
from leadrouter.db import Database
from leadrouter.errors import Problem
from services.crm import history as h
from services.crm.state import EventRejected, Ledger
from services.crm.tables import Account, Operation

MAX_ID = 200


@dataclass
class Recorded:
    applied: int = 0
    already: int = 0
    problems: list[Problem] = field(default_factory=list)


def _key(event_id: str) -> str:
    return f"event:{event_id}"


def _fingerprint(event: h.CanonicalEvent) -> str:
    return hashlib.sha256(h.to_json(event).encode()).hexdigest()


def _event_id(data: dict[str, Any], where: str) -> tuple[str, Problem | None]:
    value = data.pop("id", None)
    if not isinstance(value, str) or not 0 < len(value) <= MAX_ID:
        return "", Problem(f"{where}: id", messages.event_needs_an_id(MAX_ID))
    return value, None


def record(session: Session, account: str, lines: list[str]) -> Recorded:
    """Applies the events not recorded before; on any problem, none of them.

    The caller rolls the session back when the result has problems.
    """
    done = Recorded()
    ledger = Ledger(session, account)
    seen: dict[str, str] = {}  # ids of this batch, and what each one said
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue  # a blank line, the last newline of a file say
        where = f"line {number}"
        data, bad = h.parse_object(line, where)
        if data is None:
            done.problems += bad
            continue
        event_id, missing = _event_id(data, where)
        event, bad = h.parse_data(data, where)
        if missing is not None:
            bad = [missing, *bad]
        if event is None or bad:
            done.problems += bad
            continue
        fingerprint = _fingerprint(event)
        before = seen.get(event_id)
        if before is None:
            stored = session.get(Operation, (account, _key(event_id)))
            before = json.loads(stored.result)["event"] if stored else None
        if before is not None:
            if before != fingerprint:
                done.problems.append(
                    Problem(f"{where}: id", messages.event_id_reused(event_id))
                )
            else:
                done.already += 1
            continue
        seen[event_id] = fingerprint
        try:
            with session.begin_nested():
                ledger.apply(event)
        except EventRejected as error:
            done.problems.append(Problem(where, str(error)))
            continue
        session.add(
            Operation(
                account=account,
                id=_key(event_id),
                result=json.dumps({"event": fingerprint}),
            )
        )
        done.applied += 1
    return done


def record_events(
    *, db: Database, account: str, lines: list[str], dry_run: bool
) -> Recorded:
    """`record` in one transaction, kept only when every line is good."""
    with db.session() as s:
        if s.get(Account, account) is None:
            return Recorded(problems=[Problem("", messages.account_is_empty(account))])
        done = record(s, account, lines)
        if done.problems or dry_run:
            s.rollback()
        if done.problems:
            done.applied = done.already = 0
        return done
