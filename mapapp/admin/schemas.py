"""The shape of the administration page's data and changes, as /docs shows it."""

from datetime import datetime
from typing import Literal

from pydantic import BaseModel

from mapapp.core.text import StorableStr
from mapapp.layers.schemas import Localized

Role = Literal["admin", "triage", "manager", "staff"]


class CategorySummary(BaseModel):
    slug: str
    name: Localized
    level: Literal["city", "district"]
    department: str
    response_hours: int
    hold_photos: bool  # citizens' photos wait for a moderator's approval


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
    email: str | None
    jurisdiction: str
    active: bool
    staff: int


class UserSummary(BaseModel):
    id: int
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


class ApiKeySummary(BaseModel):
    id: int
    name: str
    created_at: datetime
    revoked_at: datetime | None


class Area(BaseModel):
    code: str
    name_ko: str
    name_en: str | None
    level: Literal["city", "district"]


class AdminOverview(BaseModel):
    layers: list[LayerSummary]
    offices: list[OfficeSummary]
    users: list[UserSummary]
    api_keys: list[ApiKeySummary]
    boundaries: list[BoundarySummary]
    jurisdictions: list[Area]  # where an office can be created
    departments: list[str]  # the department slugs categories name


class OfficeCreate(BaseModel):
    jurisdiction: StorableStr  # the code of the city or the district
    department: StorableStr
    name_ko: StorableStr
    name_en: StorableStr
    email: StorableStr | None = None


class OfficeUpdate(BaseModel):
    name_ko: StorableStr | None = None
    name_en: StorableStr | None = None
    email: StorableStr | None = None
    active: bool | None = None


class OfficeOut(BaseModel):
    slug: str
    name_ko: str
    name_en: str
    department: str
    email: str | None
    active: bool


class UserCreate(BaseModel):
    email: StorableStr
    name: StorableStr
    role: Role
    office: StorableStr | None = None  # the office slug, for managers and staff
    password: StorableStr | None = None  # none: a reset link is e-mailed to choose one


class UserUpdate(BaseModel):
    name: StorableStr | None = None
    role: Role | None = None
    office: StorableStr | None = None
    active: bool | None = None


class UserOut(BaseModel):
    id: int
    email: str
    name: str
    role: Role
    office_id: int | None
    active: bool


class ApiKeyCreate(BaseModel):
    name: StorableStr


class ApiKeyCreated(BaseModel):
    id: int
    name: str
    key: str  # shown this once: only its hash is kept


class Done(BaseModel):
    status: Literal["ok"]
