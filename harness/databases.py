"""Scratch PostgreSQL databases on the local server: one per test or bench run, dropped by name afterwards."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import sqlalchemy as sa


@dataclass
class PgDatabase:
    url: str
    name: str


def create_database(admin_url: str, *, prefix: str = "anonscribe_t_", digits: int = 12) -> PgDatabase:
    name = f"{prefix}{uuid.uuid4().hex[:digits]}"
    engine = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    engine.dispose()
    return PgDatabase(url=admin_url.rsplit("/", 1)[0] + f"/{name}", name=name)


def drop_database(admin_url: str, db: PgDatabase) -> None:
    engine = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{db.name}" WITH (FORCE)'))
    engine.dispose()


@contextmanager
def scratch_database(admin_url: str, *, prefix: str = "anonscribe_t_", digits: int = 12) -> Iterator[PgDatabase]:
    db = create_database(admin_url, prefix=prefix, digits=digits)
    try:
        yield db
    finally:
        drop_database(admin_url, db)
