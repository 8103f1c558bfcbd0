"""Wrapped data keys, one row per protected object. Destroying the row crypto-shreds the object."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import LargeBinary, String
from sqlalchemy.orm import Mapped, Session, mapped_column

from service.core.clock import utcnow
from service.core.crypto import DataKey, MasterKey
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
