"""HTTP for the administration desk. Authorization is in the service: administrators only."""

from typing import Any

from fastapi import APIRouter

from mapapp.accounts.router import ActorDep
from mapapp.admin import service
from mapapp.admin.schemas import (
    AdminOverview,
    ApiKeyCreate,
    ApiKeyCreated,
    Done,
    OfficeCreate,
    OfficeOut,
    OfficeUpdate,
    UserCreate,
    UserOut,
    UserUpdate,
)
from mapapp.core.db import transaction

router = APIRouter(prefix="/api/admin", tags=["staff"])


def _office(office: Any) -> dict[str, Any]:
    return {k: getattr(office, k) for k in ("slug", "name_ko", "name_en", "department", "email", "active")}


def _user(user: Any) -> dict[str, Any]:
    return {k: getattr(user, k) for k in ("id", "email", "name", "role", "office_id", "active")}


@router.get(
    "/overview",
    summary="Layers, offices, users, API keys, boundaries (administrators)",
    response_model=AdminOverview,
)
def overview(actor: ActorDep) -> dict[str, Any]:
    with transaction() as session:
        return service.overview(session, actor=actor)


@router.post("/offices", summary="Create an office", response_model=OfficeOut, status_code=201)
def create_office(body: OfficeCreate, actor: ActorDep) -> dict[str, Any]:
    with transaction() as session:
        return _office(service.create_office(session, actor=actor, **body.model_dump()))


@router.patch("/offices/{slug}", summary="Rename, re-address or (de)activate an office", response_model=OfficeOut)
def update_office(slug: str, body: OfficeUpdate, actor: ActorDep) -> dict[str, Any]:
    with transaction() as session:
        return _office(service.update_office(session, actor=actor, slug=slug, **body.model_dump()))


@router.post("/users", summary="Create a staff account", response_model=UserOut, status_code=201)
def create_user(body: UserCreate, actor: ActorDep) -> dict[str, Any]:
    with transaction() as session:
        return _user(service.create_user(session, actor=actor, **body.model_dump()))


@router.patch(
    "/users/{user_id}", summary="Change a user's role, office or name, or disable them", response_model=UserOut
)
def update_user(user_id: int, body: UserUpdate, actor: ActorDep) -> dict[str, Any]:
    with transaction() as session:
        return _user(service.update_user(session, actor=actor, user_id=user_id, **body.model_dump()))


@router.post("/users/{user_id}/password-reset", summary="E-mail a one-time password-reset link", response_model=Done)
def send_password_reset(user_id: int, actor: ActorDep) -> dict[str, str]:
    with transaction() as session:
        service.send_password_reset(session, actor=actor, user_id=user_id)
    return {"status": "ok"}


@router.post("/api-keys", summary="Create an API key (shown once)", response_model=ApiKeyCreated, status_code=201)
def create_api_key(body: ApiKeyCreate, actor: ActorDep) -> dict[str, Any]:
    with transaction() as session:
        return service.create_api_key(session, actor=actor, name=body.name)


@router.post("/api-keys/{key_id}/revoke", summary="Revoke an API key", response_model=Done)
def revoke_api_key(key_id: int, actor: ActorDep) -> dict[str, str]:
    with transaction() as session:
        service.revoke_api_key(session, actor=actor, key_id=key_id)
    return {"status": "ok"}
