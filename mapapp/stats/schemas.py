"""The public indicators' answer, for the OpenAPI schema."""

from datetime import date, datetime

from pydantic import BaseModel, Field


class Names(BaseModel):
    ko: str
    en: str


class ScopePublic(BaseModel):
    kind: str = Field(description="city, district or office", examples=["district"])
    code: str = Field(description="the jurisdiction code or the office slug", examples=["11440"])
    name: Names


class PeriodPublic(BaseModel):
    from_: date = Field(alias="from", description="first day, in the city's time zone")
    to: date = Field(description="last day, included")
    time_zone: str = Field(examples=["Asia/Seoul"])


class Freshness(BaseModel):
    as_of: datetime = Field(description="the figures count everything up to this time (the view's last rebuild)")
    refresh_seconds: float = Field(description="how long that rebuild took")
    refreshed_every_seconds: int = Field(description="a request finding the figures older than this rebuilds them")
    stale: bool = Field(description="older than that: a rebuild has been started, the next answers will have it")


class WithinTarget(BaseModel):
    due: int = Field(description="reports whose response target fell in the period (not closed as duplicate etc.)")
    met: int = Field(description="of those, resolved by the target")
    share: float | None = Field(description="met / due, null when nothing was due")


class Counts(BaseModel):
    received: int = Field(description="reports filed in the period")
    acknowledged: int = Field(description="reports an office first acted on in the period")
    resolved: int = Field(description="reports resolved in the period (and still resolved)")
    closed: dict[str, int] = Field(description="reports closed in the period, by reason")
    open_at_end: int = Field(description="reports open at the end of the period's last day")
    within_target: WithinTarget


class Breakdown(Counts):
    code: str = Field(description="layer or category slug, or channel")
    name: Names | None


class Bucket(BaseModel):
    low_hours: float
    high_hours: float | None = Field(description="null: longer than low_hours")


class Times(BaseModel):
    count: int = Field(description="how many times are in the distribution")
    p50: Bucket | None = Field(description="the bucket the median falls in")
    p90: Bucket | None = Field(description="the bucket the 90th percentile falls in")


class BacklogDay(BaseModel):
    day: date
    open: int


class DistrictFigures(BaseModel):
    code: str
    name: Names
    received: int
    resolved: int
    open_at_end: int
    within_target_share: float | None


class StatsPublic(Counts):
    scope: ScopePublic
    period: PeriodPublic
    freshness: Freshness
    open_at_start: int = Field(description="reports open at the start of the period")
    time_to_acknowledge: Times
    time_to_resolve: Times
    backlog: list[BacklogDay]
    by_layer: list[Breakdown]
    by_category: list[Breakdown]
    by_channel: list[Breakdown]
    districts: list[DistrictFigures] = Field(description="every district of the city over the same period")
