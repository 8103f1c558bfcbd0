"""The test servers: local PostgreSQL (one scratch database per test) and Redis db 15."""

from __future__ import annotations

import os

from harness.databases import PgDatabase, create_database, drop_database

PG_ADMIN_URL = os.environ.get("ANONSCRIBE_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("ANONSCRIBE_TEST_REDIS", "redis://127.0.0.1:6379/15")


def pg_create() -> PgDatabase:
    return create_database(PG_ADMIN_URL)


def pg_drop(db: PgDatabase) -> None:
    drop_database(PG_ADMIN_URL, db)
