"""Settings from MAPAPP_* environment variables, validated once at start-up."""

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parents[2]
DEV_SECRET = "development-only-secret-change-me"


class Settings(BaseSettings):
    """Every knob of the service; `MAPAPP_<NAME>` in the environment sets `<name>`."""

    model_config = SettingsConfigDict(env_prefix="MAPAPP_", extra="ignore")

    environment: Literal["development", "test", "production"] = "development"
    database_url: str = Field(
        default="postgresql+psycopg2:///mapapp?host=/var/run/postgresql",
        description="SQLAlchemy URL of the PostGIS database",
    )
    secret_key: str = DEV_SECRET
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)

    layers_dir: Path = PROJECT_ROOT / "layers"
    media_dir: Path = PROJECT_ROOT / "var" / "media"
    static_dir: Path = PROJECT_ROOT / "static"
    # Third-party browser assets (Leaflet, marker clustering, Swagger UI), installed by npm at set-up.
    vendor_dir: Path = PROJECT_ROOT / "node_modules"

    # A point in a sliver between two district polygons goes to the nearest district within this distance.
    gap_tolerance_m: float = Field(default=50.0, ge=0, le=1000)

    # Photos: limits are checked before anything is decoded.
    photo_max_bytes: int = Field(default=15 * 1024 * 1024, gt=0)
    photos_max_total_bytes: int = Field(default=40 * 1024 * 1024, gt=0)
    photos_max_count: int = Field(default=5, ge=1, le=20)
    photo_max_pixels: int = Field(default=60_000_000, gt=0)
    photo_min_side: int = Field(default=16, ge=1)
    photo_display_size: int = Field(default=1600, ge=200)
    photo_thumbnail_size: int = Field(default=400, ge=50)
    photo_jpeg_quality: int = Field(default=82, ge=30, le=95)
    # Photo GPS further than this from the citizen's pin is kept privately and flagged for staff.
    photo_pin_max_distance_m: float = Field(default=500.0, gt=0)
    description_max_chars: int = Field(default=4000, ge=1)
    nearby_max_radius_m: int = Field(default=500, ge=10)
    public_base_url: str = "http://127.0.0.1:8000"
    open311_jurisdiction_id: str = "mapapp.local"

    # A citizen may reopen a resolved report for this many days.
    reopen_days: int = Field(default=14, ge=0, le=365)
    # Notifications: the SMTP relay, the webhook that offices' systems listen on, and retry pacing.
    smtp_host: str = "127.0.0.1"
    smtp_port: int = Field(default=25, ge=1, le=65535)
    mail_from: str = "mapapp@localhost"
    webhook_url: str = ""
    webhook_secret: str = "development-webhook-secret"
    notify_retry_base_seconds: float = Field(default=30.0, ge=0)
    # How often open maps and widgets ask which layers are active (disaster layers switch at run time).
    map_refresh_seconds: int = Field(default=15, ge=1, le=3600)
    tile_url: str = "https://tile.openstreetmap.org/{z}/{x}/{y}.png"
    tile_attribution: str = "&copy; OpenStreetMap contributors"

    @field_validator("database_url")
    @classmethod
    def _postgres_only(cls, value: str) -> str:
        if not value.startswith(("postgresql://", "postgresql+psycopg2://")):
            raise ValueError("must be a PostgreSQL URL (postgresql+psycopg2://user@host/db)")
        if value.startswith("postgresql://"):
            value = "postgresql+psycopg2://" + value.removeprefix("postgresql://")
        return value

    @model_validator(mode="after")
    def _no_default_secret_in_production(self) -> "Settings":
        if self.environment == "production" and self.secret_key == DEV_SECRET:
            raise ValueError("MAPAPP_SECRET_KEY must be set to a long random value in production")
        if self.environment == "production" and len(self.secret_key) < 32:
            raise ValueError("MAPAPP_SECRET_KEY must be at least 32 characters in production")
        return self


@lru_cache
def get_settings() -> Settings:
    """The process-wide settings, read from the environment on first use."""
    return Settings()
