"""Wrapped data keys, one row per protected object. Destroying the row crypto-shreds the object."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import LargeBinary, String, delete
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, Session, mapped_column

from service.core.clock import utcnow
from service.core.crypto import DataKey, MacKey, MasterKey
from service.core.db import Base, UTCDateTime


class DataKeyNotFound(Exception):
    """The data key was destroyed: the object it protected is unrecoverable."""


class WrappedDataKey(Base):
    __tablename__ = "data_keys"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    purpose: Mapped[str] = mapped_column(String(32))
    wrapped: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


def create_data_key(*, db_session: Session, master: MasterKey, purpose: str) -> tuple[str, DataKey]:
    key_id = uuid.uuid4().hex
    key = DataKey.generate()
    db_session.add(
        WrappedDataKey(
            id=key_id, purpose=purpose, wrapped=master.wrap(key, key_id=key_id), created_at=utcnow()
        )
    )
    return key_id, key


def load_data_key(*, db_session: Session, master: MasterKey, key_id: str) -> DataKey:
    row = db_session.get(WrappedDataKey, key_id)
    if row is None:
        raise DataKeyNotFound(key_id)
    return master.unwrap(row.wrapped, key_id=key_id)


def destroy_data_key(*, db_session: Session, key_id: str) -> bool:
    row = db_session.get(WrappedDataKey, key_id)
    if row is None:
        return False
    db_session.delete(row)
    return True


def destroy_data_keys(*, db_session: Session, key_ids: list[str]) -> int:
    """Crypto-shred many objects in one statement (retention sweeps delete thousands at a time)."""
    destroyed = 0
    for i in range(0, len(key_ids), 500):
        chunk = key_ids[i : i + 500]
        result = db_session.execute(
            delete(WrappedDataKey).where(WrappedDataKey.id.in_(chunk)).execution_options(synchronize_session=False)
        )
        destroyed += result.rowcount  # type: ignore[attr-defined]
    return destroyed


def keyed_hash(*, db_session: Session, master: MasterKey, purpose: str, data: bytes) -> str:
    """HMAC of `data` under the deployment's long-lived MAC key for `purpose`, made on first use.

    Call before the session writes anything: on first use the key is created and committed in a session of its
    own, so that two processes racing to create it end up with the same one.
    """
    key_id = f"mac-{purpose}"[:32]
    row = db_session.get(WrappedDataKey, key_id)
    if row is None:
        bind = db_session.get_bind()
        with Session(bind=bind) as own:
            key = MacKey.generate()
            own.add(WrappedDataKey(id=key_id, purpose=f"mac:{purpose}"[:32], wrapped=master.wrap(key, key_id=key_id),
                                   created_at=utcnow()))
            try:
                own.commit()
            except IntegrityError:
                own.rollback()  # another process made it first: use theirs
        row = db_session.get(WrappedDataKey, key_id)
        if row is None:
            raise DataKeyNotFound(key_id)
    return master.unwrap_mac(row.wrapped, key_id=key_id).digest(data)
