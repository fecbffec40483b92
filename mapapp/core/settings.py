"""Settings from MAPAPP_* environment variables, validated once at start-up."""

import ipaddress
import json
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

PACKAGE_DIR = Path(__file__).resolve().parents[1]
PROJECT_ROOT = PACKAGE_DIR.parent
# A checkout has static/, layers/, migrations/ and node_modules/ beside the package; a built wheel carries
# copies of them in mapapp/assets/ (setup.py), so an installed mapapp serves the same map.
IN_CHECKOUT = (PROJECT_ROOT / "alembic.ini").is_file() and (PROJECT_ROOT / "mapapp").is_dir()
ASSETS_DIR = PROJECT_ROOT if IN_CHECKOUT else PACKAGE_DIR / "assets"
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

    layers_dir: Path = ASSETS_DIR / "layers"
    media_dir: Path = PROJECT_ROOT / "var" / "media" if IN_CHECKOUT else Path.home() / ".local/share/mapapp/media"
    static_dir: Path = ASSETS_DIR / "static"
    # Third-party browser assets (Leaflet, marker clustering, Swagger UI), installed by npm at set-up.
    vendor_dir: Path = PROJECT_ROOT / "node_modules" if IN_CHECKOUT else ASSETS_DIR / "vendor"

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

    # Notification worker (issue 8): delivery threads per worker, messages per claim, how long a claim is
    # held (longer than any database outage a worker should ride out), and the scheduled photo cleanup.
    notify_worker_threads: int = Field(default=4, ge=1, le=32)
    notify_claim_size: int = Field(default=10, ge=1, le=500)
    notify_claim_lease_seconds: int = Field(default=600, ge=10)
    photo_cleanup_interval_seconds: int = Field(default=3600, ge=0)

    # Uploads (issue 8): decoded bytes all image work may hold at once (two 60 MP RGBA images), its threads,
    # how long an upload waits for room before a 503; body limits counted as bytes arrive; cleanup grace.
    photo_decode_budget_bytes: int = Field(default=640 * 1024 * 1024, ge=16 * 1024 * 1024)
    photo_workers: int = Field(default=2, ge=1, le=32)
    photo_busy_wait_seconds: float = Field(default=5.0, ge=0, le=120)
    json_body_max_bytes: int = Field(default=1024 * 1024, ge=1024)
    multipart_body_max_bytes: int = Field(default=42 * 1024 * 1024, ge=1024)
    form_field_max_bytes: int = Field(default=1024 * 1024, ge=1024)
    photo_orphan_grace_seconds: int = Field(default=3600, ge=0)

    # Rate limits (issue 8, abuse): buckets in PostgreSQL shared by every app process. Each limit is a
    # sustained rate per hour and a burst (how many may come at once); keys are hashed client addresses
    # (e-mail addresses for confirmations). X-Forwarded-For is believed only from `trusted_proxies`.
    ratelimit_enabled: bool = True
    ratelimit_submit_per_hour: float = Field(default=60, gt=0)
    ratelimit_submit_burst: int = Field(default=20, ge=1)
    ratelimit_open311_per_hour: float = Field(default=600, gt=0)
    ratelimit_open311_burst: int = Field(default=60, ge=1)
    ratelimit_support_per_hour: float = Field(default=60, gt=0)
    ratelimit_support_burst: int = Field(default=10, ge=1)
    ratelimit_login_per_hour: float = Field(default=300, gt=0)
    ratelimit_login_burst: int = Field(default=30, ge=1)
    ratelimit_reopen_per_hour: float = Field(default=20, gt=0)
    ratelimit_reopen_burst: int = Field(default=5, ge=1)
    ratelimit_email_per_hour: float = Field(default=1, gt=0)  # confirmation e-mails per recipient address
    ratelimit_email_burst: int = Field(default=5, ge=1)
    trusted_proxies: Annotated[list[str], NoDecode] = Field(default_factory=list)
    # Log-in throttling: free failures per (account, address) and per address, then a delay that doubles
    # from 1 s up to the cap; failures older than the window are forgotten. No account is ever locked.
    login_free_failures: int = Field(default=5, ge=1)
    login_free_failures_per_address: int = Field(default=20, ge=1)
    login_max_delay_seconds: int = Field(default=300, ge=1)
    login_failure_window_seconds: int = Field(default=3600, ge=60)

    @field_validator("trusted_proxies", mode="before")
    @classmethod
    def _proxy_networks(cls, value: object) -> list[str]:
        """A JSON list or a comma-separated string of IP addresses and CIDR networks."""
        if isinstance(value, str):
            text = value.strip()
            value = json.loads(text) if text.startswith("[") else [v for v in text.split(",") if v.strip()]
        if not isinstance(value, list | tuple):
            raise ValueError("a list of IP addresses or networks, e.g. 10.0.0.0/8,127.0.0.1")
        networks = [str(v).strip() for v in value]
        for network in networks:
            ipaddress.ip_network(network, strict=False)  # ValueError names the bad entry
        return networks

    # Database connections per app process; a request that finds none free within the timeout gets 503 busy.
    database_pool_size: int = Field(default=10, ge=1, le=200)
    database_max_overflow: int = Field(default=20, ge=0, le=200)
    database_pool_timeout_seconds: float = Field(default=10.0, gt=0, le=300)

    # Places (issue 9): the city's language for reports sent without one, the region phone numbers are read
    # in when they carry no +country code, and an optional Nominatim-compatible geocoder (off when empty).
    default_locale: Literal["ko", "en"] = "ko"
    phone_region: str = Field(default="KR", pattern=r"^[A-Z]{2}$")
    geocoder_url: str = ""
    geocoder_timeout_seconds: float = Field(default=3.0, gt=0, le=30)

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

    # Production defaults: `mapapp serve` processes (unset: one per core, os.cpu_count()).
    workers: int | None = Field(default=None, ge=1, le=256)

    # Vector tiles (issue 10): zooms below `tiles_cluster_below_zoom` come from the maintained aggregates;
    # bytes of hot tiles of active disaster layers kept in each process.
    tiles_min_zoom: int = Field(default=0, ge=0, le=22)
    tiles_max_zoom: int = Field(default=22, ge=0, le=24)
    tiles_cluster_below_zoom: int = Field(default=15, ge=0, le=17)
    # From that zoom on a tile holds one point per report, unless it would hold more than this many (the
    # densest streets at a million reports: 80,000 points in one view): then true-count clusters again.
    tiles_max_points: int = Field(default=500, ge=1)
    tiles_cache_bytes: int = Field(default=64 * 1024 * 1024, ge=0)
    # Seconds a process reuses a layer's version (the ETags of tiles and GeoJSON) without asking the database
    # (0: ask every time), so a cached tile or a 304 needs no query. Writes in the process, and a client asking
    # to revalidate (Cache-Control: no-cache or max-age=0, or a citizen who has just submitted), ask at once.
    version_seconds: float = Field(default=1.0, ge=0, le=60)

    # Staff pages and times (issue 11): the city's time zone; every time on the pages is shown in it, with the zone.
    time_zone: str = "Asia/Seoul"

    # Public indicators (issue 12): a request finding the stats view older than this rebuilds it in the background.
    stats_refresh_seconds: int = Field(default=900, ge=0)
    # E-mail alerts (issue 12): how often the worker gathers new reports for each subscription (0: never);
    # what arrives within one interval goes out as one digest.
    alerts_interval_seconds: float = Field(default=300.0, ge=0)
    # Channel intake (issue 13): the confidence a message needs to be routed without a person, per channel
    # (`twitter=0.6,call_centre=0.45`; others take `intake_threshold`), messages per request, and a folder of
    # exported triage decisions (JSON lines) the classifier also learns from.
    intake_threshold: float = Field(default=0.45, ge=0, le=1)
    intake_thresholds: Annotated[dict[str, float], NoDecode] = Field(default_factory=dict)
    intake_batch_max: int = Field(default=500, ge=1, le=5000)
    intake_examples_dir: Path | None = None

    @field_validator("intake_thresholds", mode="before")
    @classmethod
    def _channel_thresholds(cls, value: object) -> dict[str, float]:
        """`name=0.6,other=0.4` (or a JSON object): each a confidence between 0 and 1."""
        if isinstance(value, str):
            text = value.strip()
            pairs = (
                json.loads(text)
                if text.startswith("{")
                else dict(p.split("=", 1) for p in text.split(",") if p.strip())
            )
            value = pairs
        if not isinstance(value, dict):
            raise ValueError("channel=confidence pairs, e.g. twitter=0.6,call_centre=0.45")
        thresholds = {str(k).strip(): float(v) for k, v in value.items()}
        if not all(0 <= v <= 1 for v in thresholds.values()):
            raise ValueError("each channel's threshold is between 0 and 1")
        return thresholds

    # Beyond one machine (issue 14): photos in an S3-compatible bucket (credentials from the usual AWS_*
    # variables), public reads from a streaming replica unless it lags more than the limit, and the
    # pooler's transaction mode (no server-side prepared statements).
    photo_storage: Literal["local", "s3"] = "local"
    s3_endpoint_url: str = ""
    s3_bucket: str = ""
    s3_region: str = "us-east-1"
    read_database_url: str = ""
    read_max_lag_seconds: float = Field(default=10.0, gt=0)
    read_your_writes_seconds: int = Field(default=30, ge=0, le=3600)
    database_pooler: Literal["none", "pgbouncer-transaction"] = "none"
    # How long a shared cache (nginx, a CDN) may keep a public read: fresh, then while it refreshes it in the
    # background; the list of active layers lives shorter (a disaster layer must show within seconds).
    public_cache_seconds: int = Field(default=30, ge=0, le=3600)
    public_stale_seconds: int = Field(default=300, ge=0, le=86400)
    layers_cache_seconds: int = Field(default=5, ge=0, le=3600)

    @field_validator("read_database_url")
    @classmethod
    def _read_replica_postgres_only(cls, value: str) -> str:
        return cls._postgres_only(value) if value else value

    @model_validator(mode="after")
    def _bucket_for_s3(self) -> "Settings":
        if self.photo_storage == "s3" and not self.s3_bucket:
            raise ValueError("MAPAPP_S3_BUCKET must name the bucket when MAPAPP_PHOTO_STORAGE=s3")
        return self


@lru_cache
def get_settings() -> Settings:
    """The process-wide settings, read from the environment on first use."""
    return Settings()
