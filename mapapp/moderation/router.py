"""HTTP for moderation. Who may moderate what is checked in the service."""

from typing import Any, Literal

from fastapi import APIRouter
from pydantic import BaseModel

from mapapp.accounts.router import ActorDep
from mapapp.core.db import transaction
from mapapp.core.text import StorableStr
from mapapp.moderation import service

router = APIRouter(prefix="/api/moderation", tags=["staff"])


class Reason(BaseModel):
    reason: StorableStr = ""  # required to hide; staff see it, the public never does


class DescriptionEdit(BaseModel):
    description: StorableStr
    reason: StorableStr = ""


class Moderated(BaseModel):
    status: Literal["ok"]


@router.get("/worklist", summary="Photos waiting for approval, and hidden reports and photos")
def worklist(actor: ActorDep) -> dict[str, Any]:
    with transaction() as session:
        return {"items": service.worklist(session, actor=actor)}


@router.get("/reports/{public_id}", summary="A report as moderators see it")
def staff_view(public_id: str, actor: ActorDep) -> dict[str, Any]:
    with transaction() as session:
        return service.staff_view(session, actor=actor, public_id=public_id)


@router.post("/reports/{public_id}/hide", summary="Hide a report from the public", response_model=Moderated)
def hide_report(public_id: str, body: Reason, actor: ActorDep) -> dict[str, str]:
    with transaction() as session:
        service.hide_report(session, actor=actor, public_id=public_id, reason=body.reason)
    return {"status": "ok"}


@router.post("/reports/{public_id}/unhide", summary="Show a hidden report again", response_model=Moderated)
def unhide_report(public_id: str, body: Reason, actor: ActorDep) -> dict[str, str]:
    with transaction() as session:
        service.unhide_report(session, actor=actor, public_id=public_id, reason=body.reason)
    return {"status": "ok"}


@router.post(
    "/reports/{public_id}/description",
    summary="Edit the public description (the original is kept)",
    response_model=Moderated,
)
def edit_description(public_id: str, body: DescriptionEdit, actor: ActorDep) -> dict[str, str]:
    with transaction() as session:
        service.edit_description(
            session, actor=actor, public_id=public_id, description=body.description, reason=body.reason
        )
    return {"status": "ok"}


@router.post("/photos/{photo_id}/hide", summary="Hide one photo from the public", response_model=Moderated)
def hide_photo(photo_id: int, body: Reason, actor: ActorDep) -> dict[str, str]:
    with transaction() as session:
        service.hide_photo(session, actor=actor, photo_id=photo_id, reason=body.reason)
    return {"status": "ok"}


@router.post("/photos/{photo_id}/unhide", summary="Show a hidden photo again", response_model=Moderated)
def unhide_photo(photo_id: int, body: Reason, actor: ActorDep) -> dict[str, str]:
    with transaction() as session:
        service.unhide_photo(session, actor=actor, photo_id=photo_id, reason=body.reason)
    return {"status": "ok"}


@router.post("/photos/{photo_id}/approve", summary="Approve a held photo for the public", response_model=Moderated)
def approve_photo(photo_id: int, actor: ActorDep) -> dict[str, str]:
    with transaction() as session:
        service.approve_photo(session, actor=actor, photo_id=photo_id)
    return {"status": "ok"}
