from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel


class AuditEventRead(BaseModel):
    id: int
    at: datetime
    actor_id: int | None
    action: str
    object_type: str | None
    # Blank once a withdrawal unlinked it, with the salt; `object_ref` (HMAC of the id under the salt) stays, and
    # the chain with it, but no longer leads to the id.
    object_id: str | None
    object_ref: str | None
    object_salt: str | None
    details: dict[str, Any]
    chain_version: int
    prev_hash: str
    hash: str

    model_config = {"from_attributes": True}


class AuditPage(BaseModel):
    items: list[AuditEventRead]
    total: int
    page: int
    per_page: int
