"""Alembic environment: the single source of the schema."""

from __future__ import annotations

from alembic import context
from service.core.db import make_engine
from service.core.settings import get_settings
from service.models import Base

config = context.config
target_metadata = Base.metadata


def _url() -> str:
    return config.attributes.get("database_url") or get_settings().resolved_database_url


def _include(obj, name, type_, reflected, compare_to):  # type: ignore[no-untyped-def]
    # The library's search table is dialect-specific (an FTS5 virtual table and its shadow tables on SQLite, a
    # tsvector table on PostgreSQL), written by migrations in SQL: not in the models, so autogenerate must not drop it.
    return not ((type_ == "table" and reflected and compare_to is None and (name or "").startswith("library_search_"))
                or name == "library_search")


def run_migrations_offline() -> None:
    context.configure(url=_url(), target_metadata=target_metadata, literal_binds=True, render_as_batch=True,
                      include_object=_include)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    engine = make_engine(_url())
    with engine.connect() as connection:
        context.configure(connection=connection, target_metadata=target_metadata, render_as_batch=True,
                          include_object=_include)
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
