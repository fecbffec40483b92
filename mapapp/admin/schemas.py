"""The shape of the administration page's data, as /docs shows it."""

from typing import Literal

from pydantic import BaseModel

from mapapp.layers.schemas import Localized


class CategorySummary(BaseModel):
    slug: str
    name: Localized
    level: Literal["city", "district"]
    department: str
    response_hours: int


class LayerSummary(BaseModel):
    slug: str
    name: Localized
    kind: Literal["everyday", "disaster"]
    state: Literal["active", "inactive", "archived"]  # effective: an active layer past its end time is inactive
    until: str | None
    banner: Localized
    categories: list[CategorySummary]


class OfficeSummary(BaseModel):
    slug: str
    name_ko: str
    name_en: str
    department: str
    jurisdiction: str
    active: bool
    staff: int


class UserSummary(BaseModel):
    email: str
    name: str
    role: Literal["admin", "triage", "manager", "staff"]
    office: str | None
    active: bool


class BoundarySummary(BaseModel):
    level: str
    active: int
    retired: int
    vertices: int
    parts: int


class AdminOverview(BaseModel):
    layers: list[LayerSummary]
    offices: list[OfficeSummary]
    users: list[UserSummary]
    boundaries: list[BoundarySummary]
