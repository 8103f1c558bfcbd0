from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field, model_validator

from service.auth.models import Role


class UserCreate(BaseModel):
    name: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
    role: Role


class UserRead(BaseModel):
    id: int
    name: str
    role: Role
    active: bool
    created_at: datetime

    model_config = {"from_attributes": True}


class UserCreated(UserRead):
    token: str = Field(description="Shown once; store it now.")


class UserUpdate(BaseModel):
    model_config = {"extra": "forbid"}

    role: Role | None = None
    active: bool | None = None

    @model_validator(mode="after")
    def _something(self) -> UserUpdate:
        if self.role is None and self.active is None:
            raise ValueError("give a role, active, or both")
        return self


class TokenCreate(BaseModel):
    """A name (1-64 characters) and at most one of: days until it expires, or the moment (with a time zone).
    Neither: it works until revoked. Never later than ANONSCRIBE_API_TOKEN_MAX_DAYS."""

    model_config = {"extra": "forbid"}

    name: str = Field(min_length=1, max_length=64)
    expires_in_days: int | None = Field(default=None, ge=1, le=3650)
    expires_at: datetime | None = None


class TokenRead(BaseModel):
    """A token as its owner sees it later: never the token or its hash, only the public first 12 characters."""

    id: int
    name: str
    prefix: str
    created_at: datetime
    last_used_at: datetime | None
    expires_at: datetime | None
    revoked: bool
    state: str = Field(description="live, expired or revoked")


class TokenCreated(TokenRead):
    token: str = Field(description="Shown once; store it now.")
