"""Everything a process needs to serve or work, built once from settings."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from service.core.crypto import MasterKey, MasterKeyError
from service.core.db import make_engine, make_session_factory
from service.core.queue import JobQueue
from service.core.sealed import SealedStore
from service.core.settings import Settings
from service.core.storage import make_blob_store

log = logging.getLogger("anonscribe")


def load_master_key(settings: Settings, *, create_if_missing: bool) -> MasterKey:
    path = settings.resolved_master_key_file
    if settings.master_key_file is None and not path.exists():
        if not create_if_missing:
            raise MasterKeyError(
                "no master key: set ANONSCRIBE_MASTER_KEY_FILE or run `anonscribe keys init` "
                f"(expected {path})"
            )
        key = MasterKey.generate(path)
        log.warning(
            "created a new master key at %s (mode 0600) - back it up: without it nothing decrypts", path
        )
        return key
    return MasterKey.load(path)


@dataclass
class Runtime:
    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]
    sealed: SealedStore
    queue: JobQueue | None = None
    worker_id: str = field(default="")

    def close(self) -> None:
        self.engine.dispose()


def build_runtime(settings: Settings, *, create_master_key: bool = False) -> Runtime:
    master = load_master_key(settings, create_if_missing=create_master_key)
    engine = make_engine(settings.resolved_database_url)
    return Runtime(
        settings=settings,
        engine=engine,
        sessions=make_session_factory(engine),
        sealed=SealedStore(make_blob_store(settings), master, segment_size=settings.segment_bytes),
    )
