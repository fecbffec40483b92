"""Open311 GeoReport v2 on top of reports: services are categories, requests are reports."""

import hashlib
import secrets
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from mapapp.core.errors import DomainError
from mapapp.core.settings import get_settings
from mapapp.core.text import storable
from mapapp.layers import service as layers
from mapapp.open311.models import ApiKey
from mapapp.reports import queries as report_queries
from mapapp.reports import service as reports

MAX_REQUESTS, DEFAULT_SPAN = 1000, timedelta(days=90)


class Open311Error(DomainError):
    """An error in the spec's shape: the HTTP status is 400, 403 or 404, as the spec asks."""

    code = "open311_error"


class BadRequest(Open311Error):
    code = "bad_request"
    status = 400


class Forbidden(Open311Error):
    code = "invalid_api_key"
    status = 403


class NotFound311(Open311Error):
    code = "not_found"
    status = 404


def create_api_key(session: Session, *, name: str) -> str:
    """A new API key for a client; only its hash is stored, so it is shown once."""
    key = secrets.token_urlsafe(32)
    session.add(ApiKey(name=name, key_hash=hashlib.sha256(key.encode()).hexdigest()))
    session.flush()
    return key


def check_api_key(session: Session, key: str | None) -> None:
    """Raise Forbidden unless `key` is a current API key."""
    if not key:
        raise Forbidden("an api_key is required to post a service request")
    digest = hashlib.sha256(key.encode()).hexdigest()
    found = session.scalar(select(ApiKey.id).where(ApiKey.key_hash == digest, ApiKey.revoked_at.is_(None)))
    if found is None:
        raise Forbidden("invalid api_key received")


def check_jurisdiction(jurisdiction_id: str | None) -> None:
    """This endpoint serves one jurisdiction; another one is 404, none is fine."""
    ours = get_settings().open311_jurisdiction_id
    if jurisdiction_id and jurisdiction_id != ours:
        raise NotFound311(f"jurisdiction_id {jurisdiction_id!r} not found; this endpoint serves {ours!r}")


def _locale_name(ko: str, en: str, locale: str) -> str:
    return ko if locale == "ko" else en


def service_list(session: Session, *, locale: str = "en") -> list[dict[str, Any]]:
    """Every category of every active layer, grouped by layer."""
    out = []
    for layer in layers.list_layers(session):
        for c in layers.list_categories(session, layer_id=layer.id):
            out.append(
                {
                    "service_code": c.slug,
                    "service_name": _locale_name(c.name_ko, c.name_en, locale),
                    "description": f"{c.name_ko} / {c.name_en}. Response target: {c.response_hours} hours.",
                    "metadata": False,
                    "type": "realtime",
                    "keywords": ", ".join([c.slug, c.name_ko, c.name_en, layer.slug]),
                    "group": _locale_name(layer.name_ko, layer.name_en, locale),
                }
            )
    return out


def service_definition(session: Session, *, service_code: str) -> dict[str, Any]:
    """A category's definition: it asks for no attributes beyond the standard fields."""
    codes = {s["service_code"] for s in service_list(session)}
    if service_code not in codes:
        raise NotFound311(f"service_code {service_code!r} not found")
    return {"service_code": service_code, "attributes": []}


def _iso(value: datetime | None) -> str | None:
    return value.isoformat(timespec="seconds") if value else None


def _as_request(row: dict[str, Any], locale: str) -> dict[str, Any]:
    base = get_settings().public_base_url.rstrip("/")
    closed = row["status"] in ("resolved", "closed")
    note = row["last_note"] or (f"closed: {row['close_reason']}" if row["close_reason"] else None)
    status_notes = f"{row['status']}" + (f" — {note}" if note else "")
    media = row["media_url"] or (base + row["photo"] if row["photo"] else None)
    return {
        "service_request_id": row["public_id"],
        "status": "closed" if closed else "open",
        "status_notes": status_notes,
        "service_name": _locale_name(row["category_ko"], row["category_en"], locale),
        "service_code": row["category"],
        "description": row["description"],
        "agency_responsible": _locale_name(row["office_ko"], row["office_en"], locale) if row["office_ko"] else None,
        "service_notice": None,
        "requested_datetime": _iso(row["created_at"]),
        "updated_datetime": _iso(row["updated_at"]),
        "expected_datetime": _iso(row["expected_at"]),
        "address": _locale_name(row["district_ko"], row["district_en"], locale) if row["district_ko"] else None,
        "address_id": None,
        "zipcode": None,
        "lat": round(row["lat"], 6),
        "long": round(row["lon"], 6),
        "media_url": media,
    }


def _dt(value: str | None, name: str) -> datetime | None:
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise BadRequest(f"{name} must be a w3 datetime such as 2026-11-01T00:00:00Z") from None
    if parsed.tzinfo is None:
        raise BadRequest(f"{name} must include a timezone (Z or ±HH:MM)")
    return parsed


def service_requests(
    session: Session,
    *,
    service_request_id: str | None = None,
    service_code: str | None = None,
    start_date: str | None = None,
    end_date: str | None = None,
    status: str | None = None,
    locale: str = "en",
) -> list[dict[str, Any]]:
    """GET requests: by ids (which overrides the other filters), or the filters within the 90-day default."""
    if service_request_id:
        ids = [i.strip() for i in service_request_id.split(",") if i.strip()]
        rows = report_queries.report_summaries(session, public_ids=ids, limit=MAX_REQUESTS)
        return [_as_request(r, locale) for r in rows]
    statuses = {s.strip() for s in (status or "").split(",") if s.strip()}
    if statuses - {"open", "closed"}:
        raise BadRequest("status must be open, closed, or both (comma delimited)")
    start, end = _dt(start_date, "start_date"), _dt(end_date, "end_date")
    if start and end and start > end:
        raise BadRequest("start_date is after end_date")
    if start is None and end is None:
        start = datetime.now().astimezone() - DEFAULT_SPAN
    open_only = None if len(statuses) != 1 else statuses == {"open"}
    codes = [c.strip() for c in (service_code or "").split(",") if c.strip()] or None
    rows = report_queries.report_summaries(
        session, categories=codes, start=start, end=end, open_only=open_only, limit=MAX_REQUESTS
    )
    return [_as_request(r, locale) for r in rows]


def service_request(session: Session, *, service_request_id: str, locale: str = "en") -> list[dict[str, Any]]:
    """GET requests/{id}: an array of one, as the spec says."""
    rows = report_queries.report_summaries(session, public_ids=[service_request_id], limit=1)
    if not rows:
        raise NotFound311(f"service_request_id {service_request_id!r} not found")
    return [_as_request(rows[0], locale)]


def create_service_request(session: Session, *, form: dict[str, str | None]) -> list[dict[str, Any]]:
    """POST requests: a report through the same submission as every other door."""
    if not all(storable(name) and (value is None or storable(value)) for name, value in form.items()):
        # Before any query: PostgreSQL cannot compare or store NUL, nor encode a lone surrogate.
        raise BadRequest("a field contains a NUL character or a lone surrogate")
    check_api_key(session, form.get("api_key"))
    check_jurisdiction(form.get("jurisdiction_id"))
    code = (form.get("service_code") or "").strip()
    if not code:
        raise BadRequest("service_code was not provided")
    category = session.execute(
        text("SELECT l.slug FROM categories c JOIN layers l ON l.id = c.layer_id WHERE c.slug = :c AND NOT c.retired"),
        {"c": code},
    ).first()
    if category is None:
        raise NotFound311(f"service_code {code!r} not found")
    if not form.get("lat") and not form.get("long") and not form.get("address_string"):
        raise BadRequest("a location is required: lat and long, or address_string")
    # first_name, last_name, device_id and account_id are contact details: not stored, never shown.
    description = form.get("description") or ""
    draft = reports.ReportDraft(
        layer=category[0],
        category=code,
        lat=form.get("lat"),
        lon=form.get("long"),
        description=description,
        email=form.get("email"),
        phone=form.get("phone"),
        locale="en",
        channel="open311",
        address=form.get("address_string"),
        media_url=form.get("media_url"),
    )
    try:
        result = reports.submit_report(session, draft=draft)
    except DomainError as exc:
        if exc.status in (403, 404):
            raise
        raise BadRequest(exc.message) from exc
    office = result.office_name["en"] if result.office_name else "the city's triage team"
    return [
        {
            "service_request_id": result.public_id,
            "service_notice": f"Routed to {office}. Track it at /reports/{result.public_id}",
            "account_id": None,
        }
    ]


def token(session: Session, *, token_id: str) -> list[dict[str, Any]]:
    """GET tokens/{token}: requests are realtime, so a token is the request id itself."""
    rows = report_queries.report_summaries(session, public_ids=[token_id], limit=1)
    if not rows:
        raise NotFound311(f"token {token_id!r} not found")
    return [{"service_request_id": token_id, "token": token_id}]
