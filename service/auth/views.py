from __future__ import annotations

from fastapi import APIRouter, status

from service.auth import service, tokens
from service.auth.models import ApiToken
from service.auth.schemas import (
    TokenCreate,
    TokenCreated,
    TokenRead,
    UserCreate,
    UserCreated,
    UserRead,
    UserUpdate,
)
from service.core.ints import RowId
from service.deps import AdminUser, CurrentUser, RuntimeDep, SessionDep

router = APIRouter(prefix="/api/v1", tags=["users"])


@router.get("/me", response_model=UserRead)
def me(user: CurrentUser) -> UserRead:
    return UserRead.model_validate(user)


@router.get("/users", response_model=list[UserRead])
def list_users(db_session: SessionDep, admin: AdminUser) -> list[UserRead]:
    return [UserRead.model_validate(u) for u in service.list_users(db_session=db_session)]


@router.post("/users", response_model=UserCreated, status_code=status.HTTP_201_CREATED)
def create_user(body: UserCreate, db_session: SessionDep, admin: AdminUser) -> UserCreated:
    user, token = service.create_user(db_session=db_session, name=body.name, role=body.role, actor_id=admin.id)
    return UserCreated(**UserRead.model_validate(user).model_dump(), token=token)


@router.patch("/users/{user_id}", response_model=UserRead)
def update_user(user_id: RowId, body: UserUpdate, db_session: SessionDep, admin: AdminUser) -> UserRead:
    """Change a role or deactivate a user (audited as a role change)."""
    user = service.update_user(
        db_session=db_session, user_id=user_id, actor_id=admin.id, role=body.role, active=body.active
    )
    return UserRead.model_validate(user)


# ---- API tokens: one's own under /tokens, anyone's (admins) under /users/{id}/tokens ------------------------


def _read(row: ApiToken) -> TokenRead:
    return TokenRead(id=row.id, name=row.name, prefix=row.prefix, created_at=row.created_at,
                     last_used_at=row.last_used_at, expires_at=row.expires_at, revoked=row.revoked,
                     state=tokens.state(row))


def _create(db_session: SessionDep, runtime: RuntimeDep, *, user_id: int, actor_id: int,
            body: TokenCreate) -> TokenCreated:
    row, token = tokens.create(db_session=db_session, user_id=user_id, name=body.name, actor_id=actor_id,
                               limits=tokens.Limits.from_settings(runtime.settings),
                               expires_in_days=body.expires_in_days, expires_at=body.expires_at)
    return TokenCreated(**_read(row).model_dump(), token=token)


@router.get("/tokens", response_model=list[TokenRead], tags=["tokens"])
def list_own_tokens(db_session: SessionDep, user: CurrentUser) -> list[TokenRead]:
    """Your API tokens, newest first (revoked and expired ones too). Web sign-in sessions are not listed."""
    return [_read(r) for r in tokens.list_tokens(db_session=db_session, user_id=user.id)]


@router.post("/tokens", response_model=TokenCreated, status_code=status.HTTP_201_CREATED, tags=["tokens"])
def create_own_token(body: TokenCreate, db_session: SessionDep, runtime: RuntimeDep,
                     user: CurrentUser) -> TokenCreated:
    """A new API token for you (scripts, the CLI): the token is in this answer only."""
    return _create(db_session, runtime, user_id=user.id, actor_id=user.id, body=body)


@router.delete("/tokens/{token_id}", status_code=status.HTTP_204_NO_CONTENT, tags=["tokens"])
def revoke_own_token(token_id: RowId, db_session: SessionDep, user: CurrentUser) -> None:
    """Revoke one of your tokens (it stops working at once). Someone else's id answers 404, like a missing one."""
    tokens.revoke(db_session=db_session, user_id=user.id, token_id=token_id, actor_id=user.id)


@router.get("/users/{user_id}/tokens", response_model=list[TokenRead], tags=["tokens"])
def list_user_tokens(user_id: RowId, db_session: SessionDep, admin: AdminUser) -> list[TokenRead]:
    return [_read(r) for r in tokens.list_tokens(db_session=db_session, user_id=user_id)]


@router.post("/users/{user_id}/tokens", response_model=TokenCreated, status_code=status.HTTP_201_CREATED,
             tags=["tokens"])
def create_user_token(user_id: RowId, body: TokenCreate, db_session: SessionDep, runtime: RuntimeDep,
                      admin: AdminUser) -> TokenCreated:
    """A token for a user's scripts (a script's account, say); hand it over privately."""
    return _create(db_session, runtime, user_id=user_id, actor_id=admin.id, body=body)


@router.delete("/users/{user_id}/tokens/{token_id}", status_code=status.HTTP_204_NO_CONTENT, tags=["tokens"])
def revoke_user_token(user_id: RowId, token_id: RowId, db_session: SessionDep, admin: AdminUser) -> None:
    tokens.revoke(db_session=db_session, user_id=user_id, token_id=token_id, actor_id=admin.id)
