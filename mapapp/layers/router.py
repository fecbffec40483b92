"""HTTP: the public list of layers and their categories."""

from datetime import datetime

from fastapi import APIRouter
from pydantic import BaseModel

from mapapp.accounts.router import ActorDep
from mapapp.core.db import transaction
from mapapp.core.deps import PublicReadSessionDep
from mapapp.core.text import StorableStr
from mapapp.layers import service
from mapapp.layers.schemas import CategoryOut, LayerList, LayerOut, LayerStateOut, Localized

router = APIRouter(prefix="/api", tags=["layers"])


@router.get("/layers", summary="Active layers with their categories", response_model=LayerList)
def list_active_layers(session: PublicReadSessionDep) -> LayerList:
    """The layers a citizen can report on now, with category names (ko/en), styles and response targets."""
    return LayerList(
        layers=[
            LayerOut(
                slug=layer.slug,
                name=Localized(ko=layer.name_ko, en=layer.name_en),
                kind=layer.kind,
                state=layer.effective_state,
                style=layer.style,
                banner=Localized(ko=layer.banner_ko, en=layer.banner_en) if layer.banner_ko else None,
                categories=[
                    CategoryOut(
                        slug=c.slug,
                        name=Localized(ko=c.name_ko, en=c.name_en),
                        level=c.level,
                        response_hours=c.response_hours,
                        color=c.color,
                        icon=c.icon,
                        nearby_radius_m=c.nearby_radius_m,
                    )
                    for c in service.list_categories(session, layer_id=layer.id)
                ],
            )
            for layer in service.list_layers(session)
        ]
    )


class Activation(BaseModel):
    banner_ko: StorableStr | None = None
    banner_en: StorableStr | None = None
    until: datetime | None = None


@router.post(
    "/layers/{slug}/activate", summary="Open a disaster layer (city administrators)", response_model=LayerStateOut
)
def activate(slug: str, body: Activation, actor: ActorDep) -> LayerStateOut:
    """Switch a disaster layer on, with an optional banner (e.g. evacuation advice) and end time."""
    with transaction() as session:
        layer = service.activate_layer(
            session, actor=actor, slug=slug, banner_ko=body.banner_ko, banner_en=body.banner_en, until=body.until
        )
        return LayerStateOut(slug=layer.slug, state=layer.effective_state, until=layer.active_until)


@router.post(
    "/layers/{slug}/deactivate", summary="Close a disaster layer (city administrators)", response_model=LayerStateOut
)
def deactivate(slug: str, actor: ActorDep) -> LayerStateOut:
    """Switch a disaster layer off; its reports stay."""
    with transaction() as session:
        layer = service.deactivate_layer(session, actor=actor, slug=slug)
        return LayerStateOut(slug=layer.slug, state=layer.effective_state)
