"""The pieces both `accounts` and `factors` use: a user's credentials row (made on first need) and the user."""

from __future__ import annotations

import hashlib

from sqlalchemy.orm import Session

from service.auth.local_models import UserCredential
from service.auth.models import User
from service.core.errors import DomainError


class UserMissing(DomainError):
    status = 404
    message = "no such user"


def sha(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def credential(db_session: Session, user_id: int) -> UserCredential:
    cred = db_session.get(UserCredential, user_id, with_for_update=True)
    if cred is None:
        cred = UserCredential(user_id=user_id, failed_count=0)
        db_session.add(cred)
        db_session.flush()
    return cred


def user_or_missing(db_session: Session, user_id: int) -> User:
    user = db_session.get(User, user_id)
    if user is None:
        raise UserMissing()
    return user
