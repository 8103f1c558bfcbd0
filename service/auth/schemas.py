from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

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
