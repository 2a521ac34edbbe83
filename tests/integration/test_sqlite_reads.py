"""On SQLite a read does not queue behind a writer: the crm's figures and
leads are read while a take holds the write lock.

Every transaction took SQLite's write lock at BEGIN (so writers queue rather
than fail), reads too: a press's figures waited for every take of every
other press. A reading transaction begins without it and reads the last
committed state (WAL) while the writer works.
"""

from __future__ import annotations

from pathlib import Path

from leadrouter.db import Database
from services.crm.tables import Account, metadata


def test_a_read_runs_while_a_writer_holds_the_lock(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'crm.db'}", "crm", metadata)
    db.create_all()
    try:
        with db.session() as first:
            first.add(Account(id="acme", timezone="Asia/Tomsk"))
        with db.session() as writer:
            row = writer.get(Account, "acme")
            assert row is not None
            row.timezone = "UTC"
            writer.flush()
            # The writer holds the lock and has not committed: the read
            # answers at once, with what was committed.
            with db.reading() as reader:
                seen = reader.get(Account, "acme")
                assert seen is not None and seen.timezone == "Asia/Tomsk"
        with db.reading() as reader:
            seen = reader.get(Account, "acme")
            assert seen is not None and seen.timezone == "UTC"
    finally:
        db.close()
