"""Open311 GeoReport v2 on top of reports: services are categories, requests are reports."""

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from mapapp.core import status as statuses
from mapapp.core.actors import Forbidden
from mapapp.core.errors import DomainError, NotFound
from mapapp.core.settings import get_settings
from mapapp.core.text import storable
from mapapp.layers import service as layers
from mapapp.open311.models import ApiKey
from mapapp.reports import queries as report_queries
from mapapp.reports import service as reports

# The spec: "a span of 90 days or first 1000 requests returned"; pages (the extension) default to that 1000.
MAX_REQUESTS, DEFAULT_SPAN = 1000, timedelta(days=90)
DEFAULT_PAGE_SIZE = MAX_PAGE_SIZE = MAX_REQUESTS
# When this endpoint's interface last changed (paging, date rules, discovery paths): bump it with the next change.
INTERFACE_CHANGED = datetime(2026, 11, 25, tzinfo=UTC)
# The W3C profile of ISO 8601 the spec names, with the offset it requires (seconds and fractions optional).
W3C_DATETIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})")
CLOSE_REASONS = {
    "duplicate": {"ko": "중복 신고", "en": "duplicate"},
    "not_ours": {"ko": "관할 아님", "en": "not ours to fix"},
    "cannot_fix": {"ko": "조치 불가", "en": "cannot be fixed"},
}
STATUS_WORDS = {
    "open": {"ko": "접수", "en": "open"},
    "in_progress": {"ko": "처리 중", "en": "in progress"},
    "resolved": {"ko": "해결", "en": "resolved"},
    "closed": {"ko": "종결", "en": "closed"},
}


# Every error on /open311/ is answered in the spec's shape by the router, whatever its class; these are the
# ones only Open311 raises. Each code has one class in the whole application.
class BadRequest(DomainError):
    code = "bad_request"
    status = 400


class InvalidApiKey(Forbidden):
    code = "invalid_api_key"


NotFound311 = NotFound  # the spec's 404 is the application's one `not_found`


def create_api_key(session: Session, *, name: str) -> str:
    """A new API key for a client; only its hash is stored, so it is shown once."""
    key = secrets.token_urlsafe(32)
    session.add(ApiKey(name=name, key_hash=hashlib.sha256(key.encode()).hexdigest()))
    session.flush()
    return key


def check_api_key(session: Session, key: str | None) -> None:
    """Raise InvalidApiKey unless `key` is a current API key."""
    if not key:
        raise InvalidApiKey("an api_key is required to post a service request")
    digest = hashlib.sha256(key.encode()).hexdigest()
    found = session.scalar(select(ApiKey.id).where(ApiKey.key_hash == digest, ApiKey.revoked_at.is_(None)))
    if found is None:
        raise InvalidApiKey("invalid api_key received")


def check_jurisdiction(jurisdiction_id: str | None) -> None:
    """This endpoint serves one jurisdiction; another one is 404, none is fine."""
    ours = get_settings().open311_jurisdiction_id
    if jurisdiction_id and jurisdiction_id != ours:
        raise NotFound311(f"jurisdiction_id {jurisdiction_id!r} not found; this endpoint serves {ours!r}")


def _locale_name(ko: str, en: str, locale: str) -> str:
    return ko if locale == "ko" else en


def _service_description(name: str, response_hours: int, locale: str) -> str:
    if locale == "ko":
        return f"{name}. 처리 목표: {response_hours}시간."
    return f"{name}. Response target: {response_hours} hours."


def service_list(session: Session, *, locale: str = "en") -> list[dict[str, Any]]:
    """Every category of every active layer, grouped by layer, named in the one language asked for."""
    out = []
    for layer in layers.list_layers(session):
        layer_name = _locale_name(layer.name_ko, layer.name_en, locale)
        for c in layers.list_categories(session, layer_id=layer.id):
            name = _locale_name(c.name_ko, c.name_en, locale)
            out.append(
                {
                    "service_code": c.slug,
                    "service_name": name,
                    "description": _service_description(name, c.response_hours, locale),
                    "metadata": False,
                    "type": "realtime",
                    "keywords": ", ".join([c.slug, name, layer_name]),
                    "group": layer_name,
                }
            )
    return out


def discovery(session: Session, *, base_url: str) -> dict[str, Any]:
    """The discovery document, shaped as DC's and Boston's; changeset is when the service list last changed."""
    # Switching a disaster layer on or off, or its end time passing, changes the service list; clients re-read
    # it when changeset moves.
    last_switch = session.scalar(
        text(
            "SELECT greatest((SELECT max(created_at) FROM layer_events),"
            " (SELECT max(active_until) FROM layers WHERE active_until <= now()))"
        )
    )
    changeset = _w3c(max(filter(None, [INTERFACE_CHANGED, last_switch])))
    return {
        "changeset": changeset,
        "contact": "mapapp operators",
        "key_service": "Ask the city administrator for an API key (mapapp apikeys create NAME)",
        "endpoints": [
            {
                "specification": "http://wiki.open311.org/GeoReport_v2",
                "url": f"{base_url}/open311/v2",
                "changeset": changeset,
                "type": "production",
                "formats": ["text/xml", "application/json"],
            }
        ],
    }


def service_definition(session: Session, *, service_code: str) -> dict[str, Any]:
    """A category's definition: it asks for no attributes beyond the standard fields."""
    codes = {s["service_code"] for s in service_list(session)}
    if service_code not in codes:
        raise NotFound311(f"service_code {service_code!r} not found")
    return {"service_code": service_code, "attributes": []}


def _w3c(value: datetime) -> str:
    """A W3C datetime in UTC with the Z the spec's examples use, e.g. 2010-01-01T00:00:00Z."""
    return value.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def _iso(value: datetime | None) -> str | None:
    return _w3c(value) if value else None


def _as_request(row: dict[str, Any], locale: str) -> dict[str, Any]:
    base = get_settings().public_base_url.rstrip("/")
    # The public group in the asked language, then the last public note (or why it was closed), never mixed.
    word = STATUS_WORDS[statuses.group_of(row["status"])][locale]
    reason = CLOSE_REASONS.get(row["close_reason"] or "")
    note = row["last_note"] or (reason[locale] if reason else None)
    status_notes = word + (f" — {note}" if note else "")
    media = row["media_url"] or (base + row["photo"] if row["photo"] else None)
    return {
        "service_request_id": row["public_id"],
        "status": "open" if statuses.is_open(row["status"]) else "closed",
        "status_notes": status_notes,
        "service_name": _locale_name(row["category_ko"], row["category_en"], locale),
        "service_code": row["category"],
        "description": row["description"],
        "agency_responsible": _locale_name(row["office_ko"], row["office_en"], locale) if row["office_ko"] else None,
        "service_notice": None,
        "requested_datetime": _iso(row["created_at"]),
        "updated_datetime": _iso(row["updated_at"]),
        "expected_datetime": _iso(row["expected_at"]),
        # What the citizen typed, else the place the point lies in ("마포구 합정동" / "Hapjeong-dong, Mapo-gu").
        "address": row["address"] or (row["place"] or {}).get(locale),
        "address_id": None,
        "zipcode": None,
        "lat": round(row["lat"], 6),
        "long": round(row["lon"], 6),
        "media_url": media,
    }


def _dt(value: str | None, name: str) -> datetime | None:
    if not value:
        return None
    text_value = value.strip()
    # A client that forgets to percent-encode "+09:00" sends " 09:00": read it as the offset it meant.
    if re.fullmatch(r"\S+T\S+ \d{2}:\d{2}", text_value):
        text_value = text_value.replace(" ", "+")
    if not W3C_DATETIME.fullmatch(text_value):
        raise BadRequest(
            f"{name} must be a W3C datetime with its offset, such as 2026-11-01T00:00:00Z or "
            f"2026-11-01T09:00:00+09:00 (got {value!r})"
        )
    try:
        return datetime.fromisoformat(text_value.replace("Z", "+00:00"))
    except ValueError:
        raise BadRequest(f"{name} is not a real date and time (got {value!r})") from None


def date_window(start_date: str | None, end_date: str | None, *, now: datetime) -> tuple[datetime, datetime]:
    """The spec's window: at most 90 days; a missing end is 90 days after the start, a missing start 90 before."""
    start, end = _dt(start_date, "start_date"), _dt(end_date, "end_date")
    if start is None and end is None:
        return now - DEFAULT_SPAN, now
    if start is None:
        assert end is not None
        return end - DEFAULT_SPAN, end
    if end is None:
        return start, start + DEFAULT_SPAN
    if start > end:
        raise BadRequest("start_date is after end_date")
    if end - start > DEFAULT_SPAN:
        raise BadRequest(
            f"start_date to end_date spans {(end - start).days} days; the spec allows at most 90 "
            "(ask for several windows of 90 days)"
        )
    return start, end


def _whole(value: str | None, name: str, *, default: int, low: int, high: int | None = None) -> int:
    if value is None or not value.strip():
        return default
    try:
        number = int(value)
    except ValueError:
        number = low - 1
    if number < low or (high is not None and number > high):
        bounds = f"from {low} to {high}" if high is not None else f"{low} or more"
        raise BadRequest(f"{name} must be a whole number {bounds} (got {value!r})")
    return number


@dataclass(frozen=True)
class RequestPage:
    """One page of GET requests: the requests, where it is, whether more follow, and the window it was cut from."""

    requests: list[dict[str, Any]]
    page: int
    page_size: int
    has_more: bool
    start: str | None = None
    end: str | None = None


def service_requests(
    session: Session,
    *,
    service_request_id: str | None = None,
    service_code: str | None = None,
    start_date: str | None = None,
    end_date: str | None = None,
    status: str | None = None,
    page: str | None = None,
    page_size: str | None = None,
    locale: str = "en",
) -> RequestPage:
    """GET requests: by ids (which overrides the other arguments), or the filters within a 90-day window, paged."""
    if service_request_id:
        ids = [i.strip() for i in service_request_id.split(",") if i.strip()]
        if len(ids) > MAX_REQUESTS:
            raise BadRequest(f"at most {MAX_REQUESTS} service_request_id at once (got {len(ids)})")
        rows = report_queries.report_summaries(session, public_ids=ids, limit=MAX_REQUESTS)
        return RequestPage([_as_request(r, locale) for r in rows], page=1, page_size=MAX_REQUESTS, has_more=False)
    wanted = {s.strip() for s in (status or "").split(",") if s.strip()}
    if wanted - {"open", "closed"}:
        raise BadRequest("status must be open, closed, or both (comma delimited)")
    number = _whole(page, "page", default=1, low=1)
    size = _whole(page_size, "page_size", default=DEFAULT_PAGE_SIZE, low=1, high=MAX_PAGE_SIZE)
    start, end = date_window(start_date, end_date, now=datetime.now(UTC))
    open_only = None if len(wanted) != 1 else wanted == {"open"}
    codes = [c.strip() for c in (service_code or "").split(",") if c.strip()] or None
    # The 90-day window bounds how deep a page can reach; one row more than the page says whether more follow.
    skip = (number - 1) * size
    # The skipped rows stay in PostgreSQL (OFFSET): page 50 does not bring 49 pages into Python.
    rows = report_queries.report_summaries(
        session, categories=codes, start=start, end=end, open_only=open_only, limit=size + 1, offset=skip
    )
    return RequestPage(
        [_as_request(r, locale) for r in rows[:size]],
        page=number,
        page_size=size,
        has_more=len(rows) > size,
        start=_w3c(start),
        end=_w3c(end),
    )


def service_request(session: Session, *, service_request_id: str, locale: str = "en") -> list[dict[str, Any]]:
    """GET requests/{id}: an array of one, as the spec says."""
    rows = report_queries.report_summaries(session, public_ids=[service_request_id], limit=1)
    if not rows:
        raise NotFound311(f"service_request_id {service_request_id!r} not found")
    return [_as_request(rows[0], locale)]


def create_service_request(
    session: Session, *, form: dict[str, str | None], locale: str = "en"
) -> list[dict[str, Any]]:
    """POST requests: a report through the same submission as every other door, kept in the client's language."""
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
        locale=locale,
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
    if locale == "ko":
        office = result.office_name["ko"] if result.office_name else "시 분류 담당"
        notice = f"{office}(으)로 전달되었습니다. 진행 상황: /reports/{result.public_id}"
    else:
        office = result.office_name["en"] if result.office_name else "the city's triage team"
        notice = f"Routed to {office}. Track it at /reports/{result.public_id}"
    return [
        {
            "service_request_id": result.public_id,
            "service_notice": notice,
            "account_id": None,
        }
    ]


def token(session: Session, *, token_id: str) -> list[dict[str, Any]]:
    """GET tokens/{token}: requests are realtime, so a token is the request id itself."""
    rows = report_queries.report_summaries(session, public_ids=[token_id], limit=1)
    if not rows:
        raise NotFound311(f"token {token_id!r} not found")
    return [{"service_request_id": token_id, "token": token_id}]
