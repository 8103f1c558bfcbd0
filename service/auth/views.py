from __future__ import annotations

from fastapi import APIRouter, status

from service.auth import service
from service.auth.schemas import UserCreate, UserCreated, UserRead, UserUpdate
from service.core.ints import RowId
from service.deps import AdminUser, CurrentUser, SessionDep

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
