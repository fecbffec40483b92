"""What the office endpoints answer, as /docs shows it."""

from datetime import datetime

from pydantic import BaseModel, ConfigDict


class QueueRow(BaseModel):
    """A report as office people and triage staff see it in a list."""

    # The place columns (address, precision, place names) are added by the place-name work: passed through.
    model_config = ConfigDict(extra="allow")

    id: str
    status: str
    category: str
    category_ko: str
    category_en: str
    layer: str
    description: str
    created_at: datetime
    supporters: int
    lat: float
    lon: float
    location_flag: str | None
    address: str | None = None  # as the citizen typed it
    location_precision: str | None = None
    place_ko: str | None = None  # the city, district and dong it lies in, named in each language
    place_en: str | None = None


class QueueItem(QueueRow):
    due_at: datetime
    overdue: bool


class OfficeQueue(BaseModel):
    office: str
    counts: dict[str, int]  # reports per workflow status, whatever the filters
    reports: list[QueueItem]


class TriageItem(QueueRow):
    reason_code: str | None  # why routing could not place it


class TriageQueue(BaseModel):
    reports: list[TriageItem]


class ReportMoved(BaseModel):
    id: str
    status: str
    office_id: int | None
