"""An existing database survives an upgrade: tables and columns added, rows kept."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Column, Index, MetaData, String, Table, func, inspect, select

from leadrouter.db import Database


def _old_and_new(schema: str) -> tuple[MetaData, MetaData]:
    old, new = MetaData(), MetaData()
    Table(
        "things",
        old,
        Column("id", String, primary_key=True),
        Column("shape", String),
        Index("ix_things_shape", "shape"),
    )
    Table(
        "things",
        new,
        Column("id", String, primary_key=True),
        Column("shape", String),
        Column("colour", String, nullable=False, default="blue"),
        Column("note", String, nullable=True),
        # Widened: the new index replaces the old one, which is dropped.
        Index("ix_things_shape_colour", "shape", "colour"),
    )
    new.info["retired_indexes"] = ["ix_things_shape"]
    Table("others", new, Column("id", String, primary_key=True))
    return old, new


def _upgrade_keeps_rows(url: str) -> None:
    old, new = _old_and_new("upgrade")
    before = Database(url, "upgrade", old)
    before.create_all()
    with before.engine.begin() as conn:
        conn.execute(old.tables["things"].insert().values(id="kept"))
    before.close()

    after = Database(url, "upgrade", new)
    after.create_all()
    after.create_all()  # a second start changes nothing and does not fail
    things, others_table = new.tables["things"], new.tables["others"]
    with after.engine.connect() as conn:
        rows = conn.execute(select(things.c.id, things.c.colour, things.c.note)).all()
        others = conn.execute(select(func.count()).select_from(others_table)).scalar()
        schema = None if after.is_sqlite else "upgrade"
        indexes = {i["name"] for i in inspect(conn).get_indexes("things", schema)}
    after.close()
    assert [tuple(r) for r in rows] == [("kept", "blue", None)]
    assert others == 0
    assert indexes == {"ix_things_shape_colour"}


def test_sqlite_database_survives_an_upgrade(tmp_path: Path) -> None:
    _upgrade_keeps_rows(f"sqlite:///{tmp_path / 'svc.db'}")


def test_postgres_database_survives_an_upgrade(postgres_url: str) -> None:
    _upgrade_keeps_rows(postgres_url)
