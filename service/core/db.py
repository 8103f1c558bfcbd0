"""Engine, sessions and the declarative base. Alembic owns the schema; nothing here creates tables."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import DateTime, Engine, create_engine, event
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.types import TypeDecorator

from service.core.private import private_file, sqlite_file

ALEMBIC_DIR = Path(__file__).resolve().parents[2] / "alembic"


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC in Python on every back-end (SQLite drops the zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: object) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: object) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    pass


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        if (db_file := sqlite_file(url)) is not None:
            # SQLite would create the file 0644 (less the umask); its -wal and -shm files copy the file's mode.
            private_file(db_file)
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record):  # type: ignore[no-untyped-def]
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA busy_timeout=30000")
            # Deleted rows are overwritten, not just unlinked: a withdrawn participant's rows must not linger in
            # free pages of the database file.
            cur.execute("PRAGMA secure_delete=ON")
            cur.close()

        @event.listens_for(engine, "before_cursor_execute")
        def _sqlite_for_update(conn, cursor, statement, parameters, context, executemany):  # type: ignore[no-untyped-def]
            # SQLite has no row locks, so SQLAlchemy drops FOR UPDATE, and Python's sqlite3 (legacy transaction
            # control) only BEGINs before the first INSERT/UPDATE/DELETE: a locking read would run outside any
            # transaction and its caller would write from a stale read (the audit chain forked: two events with
            # the same id). So a FOR UPDATE read takes the database's write lock first, as the row lock would on
            # PostgreSQL; busy_timeout queues it behind the current writer.
            # Why not BEGIN IMMEDIATE for every transaction (SQLAlchemy's pysqlite recipe)? It would serialise
            # every read-only request too. And a plain deferred BEGIN would fail read-then-write transactions
            # with SQLITE_BUSY_SNAPSHOT instead of waiting. Here a transaction still starts with a write (or
            # with this lock), which is exactly when SQLite's busy handler can wait for the lock.
            compiled = getattr(context, "compiled", None)
            for_update = getattr(getattr(compiled, "statement", None), "_for_update_arg", None)
            if for_update is not None and not cursor.connection.in_transaction:
                cursor.execute("BEGIN IMMEDIATE")

        return engine
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    return create_engine(url, pool_pre_ping=True, pool_size=5, max_overflow=10)


def release_freed_pages(engine: Engine) -> None:
    """After an erasure: fold SQLite's write-ahead log back into the (securely deleted) database file, so old
    page images holding the erased rows don't survive in the -wal file. PostgreSQL needs no call here: its
    dead row versions are reclaimed by autovacuum (what they held of substance is ciphertext whose key is gone)."""
    if engine.dialect.name == "sqlite":
        with engine.connect() as conn:
            conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(bind=engine, expire_on_commit=False)


@contextmanager
def session_scope(factory: sessionmaker[Session]) -> Iterator[Session]:
    session = factory()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def run_migrations(url: str) -> None:
    from alembic.config import Config

    from alembic import command

    if (db_file := sqlite_file(url)) is not None:
        private_file(db_file)
    cfg = Config()
    cfg.set_main_option("script_location", str(ALEMBIC_DIR))
    cfg.attributes["database_url"] = url
    command.upgrade(cfg, "head")
