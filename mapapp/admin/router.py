"""HTTP for the administration page's data."""

from typing import Any

from fastapi import APIRouter

from mapapp.accounts.router import ActorDep
from mapapp.admin import service
from mapapp.admin.schemas import AdminOverview
from mapapp.core.db import transaction

router = APIRouter(prefix="/api/admin", tags=["staff"])


@router.get(
    "/overview", summary="Layers, offices and staff, users, boundaries (administrators)", response_model=AdminOverview
)
def overview(actor: ActorDep) -> dict[str, Any]:
    with transaction() as session:
        return service.overview(session, actor=actor)
