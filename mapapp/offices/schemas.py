"""What the office endpoints answer, as /docs shows it."""

from datetime import datetime
from typing import Any

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
    response_hours: int  # the category's response target
    thumbnail: str | None = None
    assignee: str | None = None


class OfficeQueue(BaseModel):
    office: str
    office_name: dict[str, str]
    counts: dict[str, int]  # reports per workflow status, whatever the filters
    page: int
    page_size: int
    has_more: bool  # another page follows (no count of every match is made)
    reports: list[QueueItem]


class TriageItem(QueueRow):
    reason_code: str | None  # why routing could not place it
    thumbnail: str | None = None
    channel: str


class TriageQueue(BaseModel):
    page: int
    has_more: bool
    reports: list[TriageItem]


class StaffReport(BaseModel):
    """One report for the people working on it (never public: actors, internal notes)."""

    # Other features may add fields (the message intake adds `intake`): passed through.
    model_config = ConfigDict(extra="allow")

    id: str
    status: str
    actions: list[str]  # the moves the server allows this user now: the desk draws a button for each
    timeline: list[dict[str, Any]]
    photos: list[dict[str, Any]]
    routing: dict[str, Any]
    nearby: list[dict[str, Any]]  # open reports of the same office close by: what it may duplicate
    candidates: list[dict[str, Any]]  # triage: districts and the office the category's rule names in each
    intake: dict[str, Any] | None = None  # a classified message (channels): text, confidence, candidates


class ReportMoved(BaseModel):
    id: str
    status: str
    office_id: int | None
