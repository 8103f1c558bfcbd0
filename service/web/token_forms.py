"""The API-token form both the account page and the admin's token page use: a name and a lifetime from a list."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session
from starlette.datastructures import FormData

from service.auth import tokens
from service.core.settings import Settings


@dataclass(frozen=True)
class Made:
    """A token just made: shown on the page that answers the form, once."""

    name: str
    token: str
    expires_at: object


def make(*, db_session: Session, settings: Settings, form: FormData, user_id: int, actor_id: int) -> Made:
    """Create from the posted `token_name` and `expires_days` ("never" or a number of days); the domain's refusals
    (a bad name or lifetime, too many tokens) come through as they are, for the page to word."""
    name, days = form.get("token_name"), form.get("expires_days")
    if not isinstance(days, str) or not (days == "never" or days.isdigit()) or len(days) > 5:
        raise tokens.InvalidExpiry(settings.api_token_max_days)
    row, token = tokens.create(db_session=db_session, user_id=user_id, name=name if isinstance(name, str) else "",
                               actor_id=actor_id, limits=tokens.Limits.from_settings(settings),
                               expires_in_days=None if days == "never" else int(days))
    return Made(name=row.name, token=token, expires_at=row.expires_at)


REFUSED = (tokens.InvalidTokenName, tokens.InvalidExpiry, tokens.TooManyTokens)
