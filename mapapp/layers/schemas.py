"""The shape of a layer file in layers/, validated strictly so that a typo is caught at sync time."""

import re
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

SLUG = r"^[a-z0-9][a-z0-9-]{0,62}$"
COLOR = re.compile(r"^#[0-9a-fA-F]{6}$")


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Names(Strict):
    ko: str = Field(min_length=1, max_length=200)
    en: str = Field(min_length=1, max_length=200)


class Style(Strict):
    color: str = "#2563eb"
    icon: str = "marker"

    @field_validator("color")
    @classmethod
    def _hex_color(cls, value: str) -> str:
        if not COLOR.match(value):
            raise ValueError(f"expected a colour like '#1d4ed8', got {value!r}")
        return value


HASHTAG = r"^#[^\s#]{1,63}$"


class Keywords(Strict):
    """Words and phrases (matched ignoring case and spacing) and hashtags that name a category."""

    ko: list[str] = Field(default_factory=list)
    en: list[str] = Field(default_factory=list)
    hashtags: list[str] = Field(default_factory=list)

    @field_validator("ko", "en")
    @classmethod
    def _words(cls, values: list[str]) -> list[str]:
        for value in values:
            if not value.strip() or len(value) > 100:
                raise ValueError(f"a keyword must be 1 to 100 characters, got {value!r}")
        return values

    @field_validator("hashtags")
    @classmethod
    def _hashtags(cls, values: list[str]) -> list[str]:
        return [_hashtag(v) for v in values]


def _hashtag(value: str) -> str:
    if not re.match(HASHTAG, value):
        raise ValueError(f"a hashtag starts with '#' and has no spaces, e.g. '#침수', got {value!r}")
    return value


class CategoryDefinition(Strict):
    slug: str = Field(pattern=SLUG)
    name: Names
    level: Literal["city", "district"]
    department: str = Field(pattern=r"^[a-z][a-z0-9_-]{0,63}$")
    response_hours: int = Field(gt=0, le=24 * 365)
    color: str
    icon: str = Field(min_length=1, max_length=64)
    nearby_radius_m: int = Field(default=50, gt=0, le=500)
    # Disaster layers on which open reports of this everyday category are shown too while they are on.
    also_on: list[str] = Field(default_factory=list)
    # Citizens' photos wait for a moderator's approval before the public sees them.
    hold_photos: bool = False
    # How channel messages name this category (mapapp.intake): words and phrases per language, and hashtags.
    keywords: Keywords | None = None

    _color = field_validator("color")(Style._hex_color.__func__)  # type: ignore[attr-defined]


class LayerDefinition(Strict):
    slug: str = Field(pattern=SLUG)
    name: Names
    kind: Literal["everyday", "disaster"]
    state: Literal["active", "inactive", "archived"]
    sort_order: int = 0
    style: Style = Style()
    banner: Names | None = None
    # Department slugs (as categories name them) in words, for every staff page; any layer file may name them.
    departments: dict[str, Names] = Field(default_factory=dict)
    categories: list[CategoryDefinition] = Field(min_length=1)
    # Hashtags citizens agree on during a disaster (e.g. '#침수', '#flood'): a channel message carrying one
    # goes on this layer while it is active.
    hashtags: list[str] = Field(default_factory=list)

    @field_validator("hashtags")
    @classmethod
    def _hashtags(cls, values: list[str]) -> list[str]:
        return [_hashtag(v) for v in values]

    @model_validator(mode="after")
    def _unique_category_slugs(self) -> "LayerDefinition":
        seen: set[str] = set()
        for category in self.categories:
            if category.slug in seen:
                raise ValueError(f"category slug {category.slug!r} appears twice")
            seen.add(category.slug)
        return self


# --- what the API answers (the shapes /docs shows) --------------------------------------------------


class Localized(BaseModel):
    """A text in Korean and English."""

    ko: str | None
    en: str | None


class CategoryOut(BaseModel):
    slug: str
    name: Localized
    level: Literal["city", "district"]
    response_hours: int
    color: str
    icon: str
    nearby_radius_m: int


class LayerOut(BaseModel):
    slug: str
    name: Localized
    kind: Literal["everyday", "disaster"]
    state: Literal["active", "inactive", "archived"]  # the effective state: past its end time is inactive
    style: dict[str, str]
    banner: Localized | None
    categories: list[CategoryOut]


class LayerList(BaseModel):
    layers: list[LayerOut]


class LayerStateOut(BaseModel):
    slug: str
    state: Literal["active", "inactive", "archived"]
    until: datetime | None = None
