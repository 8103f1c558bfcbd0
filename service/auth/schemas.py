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
