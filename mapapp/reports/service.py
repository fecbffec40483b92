"""Reports: submission (a list of named steps), public reads built in SQL, nearby, and "me too".

submit_report: check the fields → check layer and category → claim the idempotency key →
process the photos → choose the location → route → store the images → save, in the caller's
transaction. A failure after the images are stored leaves only unreferenced files, which
`mapapp photos cleanup` removes; never a row that points at a missing file.
"""

import hashlib
import json
import math
import re
import secrets
from dataclasses import dataclass
from typing import Any

import phonenumbers
from pyproj import Geod
from sqlalchemy import String, insert, literal_column, select, text
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.orm import Session

from mapapp import photos as photo_pipeline
from mapapp import routing
from mapapp.core import status as report_status
from mapapp.core import visibility
from mapapp.core.errors import Conflict, InvalidInput, NotFound
from mapapp.core.settings import get_settings
from mapapp.core.text import is_email, storable
from mapapp.jurisdictions import places
from mapapp.layers.models import Layer
from mapapp.layers.service import LayerInactive, UnknownCategory, UnknownLayer
from mapapp.layers.state import effective_state_sql
from mapapp.photos.models import Photo
from mapapp.reports import messages
from mapapp.reports.models import IdempotencyKey, Report, Supporter

# Crockford's base32 without I, L, O, U: easy to read aloud over the phone and to type.
_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_GEOD = Geod(ellps="WGS84")
LOCALES = ("ko", "en")


def new_public_id() -> str:
    """A short, unguessable public id such as 'R7K2M9QX4D'."""
    return "".join(secrets.choice(_ALPHABET) for _ in range(10))


class MissingField(InvalidInput):
    code = "missing_field"


class CategoryNotInLayer(InvalidInput):
    code = "category_not_in_layer"


class DescriptionTooLong(InvalidInput):
    code = "description_too_long"


class TooManyPhotos(InvalidInput):
    code = "too_many_photos"


class InvalidContact(InvalidInput):
    code = "invalid_contact"


class LocationRequired(InvalidInput):
    code = "location_required"


class IdempotencyConflict(Conflict):
    code = "idempotency_key_reused"


class ReportNotFound(NotFound):
    code = "report_not_found"


class ReportClosed(Conflict):
    code = "report_closed"


@dataclass(frozen=True)
class ReportDraft:
    """What a citizen sent, as received: every door (web, JSON, Open311) fills one of these."""

    layer: Any = None
    category: Any = None
    lat: Any = None
    lon: Any = None
    description: Any = ""
    email: Any = None
    phone: Any = None
    locale: Any = None  # None: the city's language (MAPAPP_DEFAULT_LOCALE)
    channel: str = "web"
    address: Any = None  # free text, kept; locates the report only when there is neither a pin nor photo GPS
    media_url: Any = None  # a link to media elsewhere (Open311); stored, never fetched


@dataclass(frozen=True)
class SubmittedReport:
    public_id: str
    status: str
    office_slug: str | None
    office_name: dict[str, str] | None
    routing_rule: str
    routing_reason: dict[str, str]
    location_source: str
    photos: int
    location_precision: str = "point"
    place: dict[str, str] | None = None
    replayed: bool = False

    def to_public(self) -> dict[str, Any]:
        """The answer to the citizen (no private field)."""
        base = get_settings().public_base_url.rstrip("/")
        return {
            "id": self.public_id,
            "tracking_url": f"{base}/reports/{self.public_id}",
            "status": self.status,
            "office": {"slug": self.office_slug, "name": self.office_name} if self.office_slug else None,
            "routing": {"rule": self.routing_rule, "reason": self.routing_reason},
            "location_source": self.location_source,
            "location_precision": self.location_precision,
            "place": self.place,
            "photos": self.photos,
        }


# --- the steps ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Checked:
    layer_slug: str
    category_slug: str
    pin: tuple[float, float] | None
    description: str
    email: str | None
    phone: str | None
    locale: str
    address: str | None
    media_url: str | None


def _number(value: Any, name: str) -> float | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise routing.InvalidCoordinates(f"{name} must be a number", field=name)
    try:
        number = float(value)  # a 400-digit integer overflows: OverflowError, not ValueError
    except (ValueError, OverflowError):
        raise routing.InvalidCoordinates(
            f"{name} must be a finite number, got {str(value)[:40]!r}", field=name
        ) from None
    if not math.isfinite(number):
        raise routing.InvalidCoordinates(f"{name} must be a finite number", field=name)
    return number


def _text(draft: ReportDraft, name: str, error: type[InvalidInput] = InvalidInput) -> str | None:
    """A text field as sent: None when absent; a wrong JSON type or unstorable text is refused."""
    value = getattr(draft, name)
    if value is None:
        return None
    if not isinstance(value, str):
        raise error(f"the field '{name}' must be text", field=name)
    if not storable(value):
        # PostgreSQL text cannot hold NUL, and a lone surrogate is not UTF-8: refused, never stripped.
        raise error(f"the field '{name}' contains a NUL character or a lone surrogate", field=name)
    return value.strip()


def _phone_e164(phone: str, region: str) -> str:
    """A phone number as E.164 ('+821012345678'), read in the city's region unless it has a +country code."""
    if len(phone) > 40:
        raise InvalidContact("the phone number is too long", field="phone")
    try:
        number = phonenumbers.parse(phone, region)
    except phonenumbers.NumberParseException:
        raise InvalidContact("the phone number is not valid", field="phone") from None
    if not phonenumbers.is_valid_number(number):
        raise InvalidContact(f"the phone number is not valid (read in region {region})", field="phone")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def check_fields(draft: ReportDraft, photo_count: int, photo_bytes: int) -> _Checked:
    """Step 1: every field of the right type, storable, in length and format; nothing is looked up yet."""
    settings = get_settings()
    slugs: dict[str, str] = {}
    for name in ("layer", "category"):
        value = getattr(draft, name)
        if not isinstance(value, str) or not value.strip():
            raise MissingField(f"the field '{name}' is required", field=name)
        slugs[name] = _text(draft, name) or ""
    description = _text(draft, "description") or ""
    if len(description) > settings.description_max_chars:
        raise DescriptionTooLong(
            f"the description has {len(description):,} characters; at most {settings.description_max_chars:,}",
            field="description",
        )
    if photo_count > settings.photos_max_count:
        raise TooManyPhotos(f"at most {settings.photos_max_count} photos per report", field="photos")
    if photo_bytes > settings.photos_max_total_bytes:
        raise photo_pipeline.PhotoTooLarge(
            f"the photos add up to more than {settings.photos_max_total_bytes // (1024 * 1024)} MB", field="photos"
        )
    lat, lon = _number(draft.lat, "lat"), _number(draft.lon, "lon")
    if (lat is None) != (lon is None):
        raise routing.InvalidCoordinates("give both lat and lon, or neither", field="lat" if lat is None else "lon")
    pin = None
    if lat is not None and lon is not None:
        routing.check_coordinates(lon, lat)
        pin = (lon, lat)
    email = _text(draft, "email", InvalidContact) or None
    phone = _text(draft, "phone", InvalidContact) or None
    if email is not None and not is_email(email):
        raise InvalidContact("the e-mail address is not valid", field="email")
    if phone is not None:
        phone = _phone_e164(phone, settings.phone_region)
    locale = _text(draft, "locale")
    # No language, or one we do not speak: the city's; a wrong JSON type is refused above.
    locale = locale if locale in LOCALES else settings.default_locale
    address = (_text(draft, "address") or "")[:500] or None
    media_url = _text(draft, "media_url") or None
    if media_url is not None and (len(media_url) > 2000 or not re.match(r"^https?://[^\s<>\"]+$", media_url)):
        raise InvalidInput("media_url must be an http(s) URL of at most 2000 characters", field="media_url")
    return _Checked(slugs["layer"], slugs["category"], pin, description, email, phone, locale, address, media_url)


@dataclass(frozen=True)
class _Target:
    layer_id: int
    layer_slug: str
    category_id: int
    category_slug: str


def check_layer_and_category(session: Session, checked: _Checked) -> _Target:
    """Step 2: the layer exists and is open for reports, and the category belongs to it (one query)."""
    row = session.execute(
        text(
            f"""
            SELECT l.id AS layer_id, {effective_state_sql("l")} AS state,
                   c.id AS category_id, c.layer_id AS category_layer
            FROM (SELECT 1) one
            LEFT JOIN layers l ON l.slug = :layer
            LEFT JOIN categories c ON c.slug = :category AND NOT c.retired
            """  # noqa: S608 - a fixed fragment; values bound
        ),
        {"layer": checked.layer_slug, "category": checked.category_slug},
    ).one()
    if row.layer_id is None:
        raise UnknownLayer(f"there is no layer {checked.layer_slug!r}", field="layer")
    if row.category_id is None:
        raise UnknownCategory(f"there is no category {checked.category_slug!r}", field="category")
    if row.category_layer != row.layer_id:
        raise CategoryNotInLayer(
            f"the category {checked.category_slug!r} is not part of the layer {checked.layer_slug!r}",
            field="category",
        )
    if row.state != "active":
        raise LayerInactive(f"the layer {checked.layer_slug!r} is not taking reports now ({row.state})", field="layer")
    return _Target(row.layer_id, checked.layer_slug, row.category_id, checked.category_slug)


def request_fingerprint(draft: ReportDraft, photo_files: list[bytes]) -> str:
    """What makes two submissions 'the same body' for an idempotency key."""
    fields = ("layer", "category", "lat", "lon", "description", "email", "phone", "address", "media_url")
    body = {k: getattr(draft, k) for k in fields}
    body = {k: (str(v) if v is not None else None) for k, v in body.items()}
    body["photos"] = [hashlib.sha256(p).hexdigest() for p in photo_files]
    return hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()


def claim_idempotency_key(session: Session, key: str, fingerprint: str) -> int | None:
    """Step 3: the report id an earlier request with this key made, or None when the key is new.

    Two requests racing with one key: the second waits on the first's row and then sees its report.
    """
    if len(key) > 200:
        raise InvalidInput("the Idempotency-Key header may be at most 200 characters", field="Idempotency-Key")
    inserted = session.execute(
        pg_insert(IdempotencyKey)
        .values(key=key, request_hash=fingerprint)
        .on_conflict_do_nothing()
        .returning(IdempotencyKey.key)
    ).first()
    if inserted is not None:
        return None
    existing = session.execute(
        select(IdempotencyKey.request_hash, IdempotencyKey.report_id).where(IdempotencyKey.key == key)
    ).one()
    if existing.request_hash != fingerprint:
        raise IdempotencyConflict("this Idempotency-Key was already used with a different request")
    return existing.report_id


def locate_address(session: Session, address: str) -> places.Located:
    """Step 4b: the dong or district an address names, at its representative point (or the geocoder's).

    Text that names no known area is refused (`address_not_found`), a name two areas share asks for the
    district (`address_ambiguous`): a report is never put at a point nobody chose.
    """
    return places.locate_text(session, address)


@dataclass(frozen=True)
class Location:
    """Where the report is, where that came from, how precise it is, and any doubt for staff."""

    lon: float
    lat: float
    source: str  # pin | photo | address
    precision: str = "point"  # point | dong | district | geocoder
    flag: str | None = None
    named_dong_id: int | None = None  # the dong the address named (precision 'dong')


def choose_location(
    pin: tuple[float, float] | None,
    processed: list[photo_pipeline.ProcessedPhoto],
    located: places.Located | None = None,
) -> Location:
    """Step 5: the pin wins over photo GPS, which wins over an address; doubts are flagged for staff."""
    gps = next((p.gps for p in processed if p.gps is not None), None)
    if pin is not None:
        flag = None
        if gps is not None:
            distance = _GEOD.inv(pin[0], pin[1], gps.lon, gps.lat)[2]
            if distance > get_settings().photo_pin_max_distance_m:
                flag = f"photo GPS is {distance:,.0f} m from the pin"
        return Location(pin[0], pin[1], "pin", flag=flag)
    if gps is not None:
        return Location(gps.lon, gps.lat, "photo")
    if located is not None:
        # The precision says how little the point means; staff and the citizen are shown it.
        dong_id = located.area.id if located.precision == "dong" and located.area else None
        return Location(located.lon, located.lat, "address", located.precision, named_dong_id=dong_id)
    notes = [p.gps_note for p in processed if p.gps_note]
    hint = f" (photo: {notes[0]})" if notes else ""
    raise LocationRequired(f"put a pin on the map or give coordinates; the photos carry no usable GPS{hint}")


def place_of(decision: routing.RoutingDecision, location: Location) -> tuple[int | None, dict[str, str] | None]:
    """The report's dong id and its place's name: no dong when only the district is known."""
    district, city = decision.jurisdiction("district"), decision.jurisdiction("city")
    dong = decision.jurisdiction("dong") if location.precision != "district" else None
    names = places.place_labels(
        district=(district.name_ko, district.name_en) if district else (None, None),
        dong=(dong.name_ko, dong.name_en) if dong else (None, None),
        city=(city.name_ko, city.name_en) if city else (None, None),
    )
    return (location.named_dong_id or (dong.id if dong else None)), names


def submit_report(
    session: Session,
    *,
    draft: ReportDraft,
    photo_files: list[bytes] | None = None,
    idempotency_key: str | None = None,
) -> SubmittedReport:
    """Accept one citizen report: validate, store photos, route and save, in the caller's transaction."""
    photo_files = photo_files or []
    checked = check_fields(draft, len(photo_files), sum(len(p) for p in photo_files))
    target = check_layer_and_category(session, checked)
    if idempotency_key:
        earlier = claim_idempotency_key(session, idempotency_key, request_fingerprint(draft, photo_files))
        if earlier is not None:
            return _replay(session, earlier)
    processed = [photo_pipeline.process_photo(data) for data in photo_files]
    located = None
    if checked.pin is None and checked.address and not any(p.gps for p in processed):
        located = locate_address(session, checked.address)
    location = choose_location(checked.pin, processed, located)
    decision = routing.route(session, lon=location.lon, lat=location.lat, category=target.category_slug)
    dong_id, place = place_of(decision, location)
    storage = photo_pipeline.get_storage()
    for p in processed:
        storage.put(p.display_key, p.display)
        storage.put(p.thumbnail_key, p.thumbnail)
    report_id, public_id, status, office_email = save_report(
        session, checked, target, decision, location, dong_id, processed, draft.channel
    )
    if idempotency_key:
        session.execute(
            text("UPDATE idempotency_keys SET report_id = :r WHERE key = :k"), {"r": report_id, "k": idempotency_key}
        )
    office = decision.office
    # Announced in the same transaction: a committed report always has its messages waiting.
    category_name = decision.reason_params.get(f"category_{checked.locale}", target.category_slug)
    office_name = (office.name_ko if checked.locale == "ko" else office.name_en) if office else "triage"
    messages.tell_citizen(
        session,
        email=checked.email,
        locale=checked.locale,
        event="received",
        public_id=public_id,
        category=category_name,
        office=office_name,
    )
    messages.tell_office(
        session,
        office_email=office_email,
        public_id=public_id,
        category=target.category_slug,
        status=status,
        office_slug=office.slug if office else None,
    )
    return SubmittedReport(
        public_id=public_id,
        status=status,
        office_slug=office.slug if office else None,
        office_name={"ko": office.name_ko, "en": office.name_en} if office else None,
        routing_rule=decision.rule,
        routing_reason={"ko": decision.reason("ko"), "en": decision.reason("en")},
        location_source=location.source,
        photos=len(processed),
        location_precision=location.precision,
        place=place,
    )


# The report, its routing decision and its first two timeline events: one statement, one round trip.
SAVE_SQL = text(
    """
    WITH r AS (
        INSERT INTO reports (public_id, layer_id, category_id, geom, description, status, channel, locale,
                             location_source, office_id, city_id, district_id, routing_rule, routing_manual,
                             support_count, reporter_email, reporter_phone, location_flag, media_url, routed_at,
                             dong_id, address, location_precision)
        VALUES (:public_id, :layer_id, :category_id, ST_SetSRID(ST_MakePoint(:lon, :lat), 4326), :description,
                :status, :channel, :locale, :source, :office_id, :city_id, :district_id, :rule, false, 0,
                :email, :phone, :flag, :media_url, now(), :dong_id, :address, :precision)
        RETURNING id
    ),
    decision AS (
        INSERT INTO routing_decisions (report_id, office_id, city_id, district_id, method, rule, reason_code,
                                       reason_params, manual, decided_by)
        SELECT id, :office_id, :city_id, :district_id, :method, :rule, :reason_code, CAST(:params AS jsonb),
               false, 'system'
        FROM r
    ),
    events AS (
        INSERT INTO report_events (report_id, kind, from_status, to_status, actor, public_note, private_note)
        SELECT id, 'submitted', NULL, 'submitted', 'citizen', '', coalesce(:flag, '') FROM r
        UNION ALL
        SELECT id, 'routed', 'submitted', :status, 'system', '', '' FROM r
    )
    SELECT id, (SELECT email FROM offices WHERE id = :office_id) AS office_email FROM r
    """
)


def save_report(
    session: Session,
    checked: _Checked,
    target: _Target,
    decision: routing.RoutingDecision,
    location: Location,
    dong_id: int | None,
    processed: list[photo_pipeline.ProcessedPhoto],
    channel: str,
) -> tuple[int, str, str, str | None]:
    """Step 7 (also the channel intake's): the report, its routing decision, its first events, then its photos."""
    district, city = decision.jurisdiction("district"), decision.jurisdiction("city")
    status = routing.status_after(not decision.triage)
    public_id = new_public_id()
    report_id, office_email = session.execute(
        SAVE_SQL,
        {
            "public_id": public_id,
            "layer_id": target.layer_id,
            "category_id": target.category_id,
            "lon": location.lon,
            "lat": location.lat,
            "description": checked.description,
            "status": status,
            "channel": channel,
            "locale": checked.locale,
            "source": location.source,
            "precision": location.precision,
            "address": checked.address,
            "dong_id": dong_id,
            "office_id": decision.office.id if decision.office else None,
            "city_id": city.id if city else None,
            "district_id": district.id if district else None,
            "rule": decision.rule,
            "email": checked.email,
            "phone": checked.phone,
            "flag": location.flag,
            "media_url": checked.media_url,
            "method": decision.method,
            "reason_code": decision.reason_code,
            "params": json.dumps(decision.reason_params, ensure_ascii=False),
        },
    ).one()
    if processed:
        session.execute(
            insert(Photo),
            [
                {
                    "report_id": report_id,
                    "position": i,
                    "kind": "before",
                    "display_key": p.display_key,
                    "thumb_key": p.thumbnail_key,
                    "width": p.width,
                    "height": p.height,
                    "media_type": p.media_type,
                    "original_bytes": p.original_bytes,
                    "original_sha256": p.original_sha256,
                    "gps_lat": p.gps.lat if p.gps else None,
                    "gps_lon": p.gps.lon if p.gps else None,
                    "gps_alt": p.gps.alt if p.gps else None,
                    "gps_note": p.gps_note,
                    "taken_at": p.taken_at,
                }
                for i, p in enumerate(processed)
            ],
        )
    return report_id, public_id, status, office_email


def _replay(session: Session, report_id: int) -> SubmittedReport:
    row = session.execute(
        text(
            """
            SELECT r.public_id, r.status, r.routing_rule, r.location_source, o.slug, o.name_ko, o.name_en,
                   d.reason_code, d.reason_params, (SELECT count(*) FROM photos p WHERE p.report_id = r.id) AS photos,
                   r.location_precision, jd.name_ko AS district_ko, jd.name_en AS district_en,
                   jg.name_ko AS dong_ko, jg.name_en AS dong_en, jc.name_ko AS city_ko, jc.name_en AS city_en
            FROM reports r LEFT JOIN offices o ON o.id = r.office_id
            LEFT JOIN jurisdictions jd ON jd.id = r.district_id
            LEFT JOIN jurisdictions jg ON jg.id = r.dong_id
            LEFT JOIN jurisdictions jc ON jc.id = r.city_id
            LEFT JOIN LATERAL (SELECT reason_code, reason_params FROM routing_decisions
                               WHERE report_id = r.id ORDER BY id DESC LIMIT 1) d ON true
            WHERE r.id = :id
            """
        ),
        {"id": report_id},
    ).one()
    reason = {loc: routing.render_reason(row.reason_code, row.reason_params, loc) for loc in LOCALES}
    return SubmittedReport(
        public_id=row.public_id,
        status=row.status,
        office_slug=row.slug,
        office_name={"ko": row.name_ko, "en": row.name_en} if row.slug else None,
        routing_rule=row.routing_rule,
        routing_reason=reason,
        location_source=row.location_source,
        photos=row.photos,
        location_precision=row.location_precision,
        place=places.place_labels(
            district=(row.district_ko, row.district_en),
            dong=(row.dong_ko, row.dong_en),
            city=(row.city_ko, row.city_en),
        ),
        replayed=True,
    )


# --- "me too" ---------------------------------------------------------------------------------------


def support_report(
    session: Session, *, public_id: str, supporter: str, email: str | None = None, locale: str = "ko"
) -> tuple[int, bool, bool]:
    """Add one "me too" from a person (a browser token or contact); the second time changes nothing.

    With an e-mail address, that address is told of the report's moves in `locale` (the page's
    language) until it unsubscribes; the third value says whether it follows the report now.
    """
    supporter = (supporter or "").strip().lower()
    if not 8 <= len(supporter) <= 200:
        raise InvalidInput("a supporter token of 8 to 200 characters is needed", field="supporter")
    email = (email or "").strip() or None
    if email is not None and not is_email(email):
        raise InvalidContact("the e-mail address is not valid", field="email")
    report = session.execute(
        select(
            Report.id,
            Report.status,
            Report.support_count,
            literal_column(effective_state_sql(Layer.__tablename__), String).label("state"),
        )
        .join(Layer, Layer.id == Report.layer_id)
        .where(Report.public_id == public_id, text(visibility.report_public_sql(Report.__tablename__)))
        .with_for_update(of=Report)
    ).first()
    if report is None:  # a report hidden by moderation is one the public cannot know of
        raise ReportNotFound(f"there is no report {public_id!r}")
    if not report_status.is_open(report.status):
        raise ReportClosed("this report is closed; file a new report if the problem is back")
    if report.state != "active":  # a switched-off disaster layer keeps its reports, read-only
        raise LayerInactive("this layer is not taking reports now; its reports are kept read-only")
    digest = hashlib.sha256(f"{get_settings().secret_key}:{supporter}".encode()).hexdigest()
    added = session.execute(
        pg_insert(Supporter)
        .values(report_id=report.id, supporter_hash=digest)
        .on_conflict_do_nothing()
        .returning(Supporter.report_id)
    ).first()
    following = bool(email) and messages.follow(
        session, report_id=report.id, public_id=public_id, email=email or "", locale=locale
    )
    if added is None:
        return report.support_count, False, following
    count = session.execute(
        text("UPDATE reports SET support_count = support_count + 1 WHERE id = :id RETURNING support_count"),
        {"id": report.id},
    ).scalar_one()
    return int(count), True, following
