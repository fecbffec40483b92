"""Channel intake: messages in, classified, located, routed or triaged, as reports.

ingest_messages: check every message of the batch (nothing is stored if one is malformed) → for each:
claim (channel, external id) → classify → process photos → locate (geotag, photo GPS, place names) →
route when confident and located, else triage → save the report through the reports feature's own
steps → keep what was read beside it. All in the caller's transaction.
"""

import base64
import binascii
import hashlib
import json
import math
import secrets
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from mapapp import photos as photo_pipeline
from mapapp import routing
from mapapp.core.actors import NotAuthenticated
from mapapp.core.errors import Conflict, InvalidInput, NotFound
from mapapp.core.settings import get_settings
from mapapp.core.text import storable
from mapapp.intake import classify as classifier
from mapapp.intake import locate
from mapapp.intake.models import CHANNEL_KINDS, Channel, IntakeMessage
from mapapp.layers.state import effective_state_sql
from mapapp.reports import messages as report_messages
from mapapp.reports import service as reports

CHANNEL_NAME = r"^[a-z][a-z0-9_-]{0,31}$"
# How a message's precision is kept on its report (reports.location_source, reports.location_precision).
REPORT_LOCATION = {
    "geotag": ("pin", "point"),
    "photo": ("photo", "point"),
    "landmark": ("address", "landmark"),
    "dong": ("address", "dong"),
    "district": ("address", "district"),
    "none": ("address", "city"),
}


# How the place was found, in words for the routing reason (Korean, English).
PRECISION_WORDS = {
    "geotag": ("메시지의 위치 정보", "the message's geotag"),
    "photo": ("사진의 GPS", "the photo's GPS"),
    "landmark": ("메시지에 적힌 장소", "a landmark the message names"),
    "dong": ("메시지에 적힌 동 이름", "the dong the message names"),
    "district": ("메시지에 적힌 장소가 속한 구", "the district of the place the message names"),
    "none": ("없음", "none"),
}


class InvalidChannelKey(NotAuthenticated):
    code = "invalid_channel_key"


class InvalidMessage(InvalidInput):
    code = "invalid_message"


class BatchTooLarge(InvalidInput):
    code = "batch_too_large"


class ChannelMismatch(InvalidInput):
    code = "channel_mismatch"


class UnknownChannel(NotFound):
    code = "unknown_channel"


class ChannelExists(Conflict):
    code = "channel_exists"


class NoServiceArea(Conflict):
    code = "no_service_area"


# --- channels ---------------------------------------------------------------------------------------


def key_digest(key: str) -> str:
    """What is stored of a channel's API key (a random 256-bit secret needs no slow hash)."""
    return hashlib.sha256(key.encode()).hexdigest()


def create_channel(
    session: Session, *, name: str, kind: str = "social", public_handles: bool = False, reply_url: str | None = None
) -> str:
    """A new channel; returns its API key, shown once (only its hash is kept)."""
    import re

    if not re.match(CHANNEL_NAME, name):
        raise InvalidInput("a channel name is lower-case letters, digits, '-' or '_', e.g. 'twitter'", field="name")
    if kind not in CHANNEL_KINDS:
        raise InvalidInput(f"the kind is one of {', '.join(CHANNEL_KINDS)}", field="kind")
    if reply_url is not None and not reply_url.startswith(("http://", "https://")):
        raise InvalidInput("the reply URL must be http:// or https://", field="reply_url")
    if session.scalar(select(Channel.id).where(Channel.name == name)) is not None:
        raise ChannelExists(f"there is already a channel {name!r}", field="name")
    key = "mch_" + secrets.token_urlsafe(32)
    session.add(
        Channel(name=name, kind=kind, key_hash=key_digest(key), public_handles=public_handles, reply_url=reply_url)
    )
    session.flush()
    return key


def get_channel_or_raise(session: Session, *, name: str) -> Channel:
    """The channel with this name, or UnknownChannel."""
    channel = session.scalar(select(Channel).where(Channel.name == name))
    if channel is None:
        raise UnknownChannel(f"there is no channel {name!r}", field="channel")
    return channel


def authenticate(session: Session, key: str | None) -> Channel:
    """The channel whose current API key this is, or InvalidChannelKey."""
    if not key:
        raise InvalidChannelKey("send the channel's API key as 'Authorization: Bearer KEY'")
    channel = session.scalar(select(Channel).where(Channel.key_hash == key_digest(key), Channel.revoked_at.is_(None)))
    if channel is None:
        raise InvalidChannelKey("this API key belongs to no current channel")
    return channel


# --- reading a message ------------------------------------------------------------------------------


@dataclass(frozen=True)
class MessageIn:
    """One message as a connector sent it, checked."""

    channel: str
    external_id: str
    account: str
    author: str
    text: str
    lang: str
    geotag: tuple[float, float] | None
    photos: tuple[bytes, ...]
    media_urls: tuple[str, ...]
    posted_at: datetime


MESSAGE_FIELDS = {"channel", "account", "external_id", "author", "text", "lang", "geotag", "photos", "posted_at"}


def _bad(index: int, field: str, message: str) -> InvalidMessage:
    return InvalidMessage(f"message {index}: {message}", index=index, field=field)


def _short_text(raw: dict[str, Any], name: str, index: int, *, required: bool = False, limit: int = 200) -> str:
    value = raw.get(name)
    if value is None or value == "":
        if required:
            raise _bad(index, name, f"the field '{name}' is required")
        return ""
    if isinstance(value, int) and not isinstance(value, bool) and name == "external_id":
        value = str(value)
    if not isinstance(value, str):
        raise _bad(index, name, f"the field '{name}' must be text")
    if not storable(value) or len(value) > limit:
        raise _bad(index, name, f"the field '{name}' must be storable text of at most {limit} characters")
    return value.strip()


def _geotag(value: Any, index: int) -> tuple[float, float] | None:
    if value is None:
        return None
    if not isinstance(value, dict) or set(value) - {"lat", "lon"}:
        raise _bad(index, "geotag", 'the geotag is an object {"lat": …, "lon": …}')
    lat, lon = value.get("lat"), value.get("lon")
    numbers = [v for v in (lat, lon) if isinstance(v, int | float) and not isinstance(v, bool)]
    if len(numbers) != 2 or not all(math.isfinite(float(v)) for v in numbers):
        raise _bad(index, "geotag", "the geotag's lat and lon must be finite numbers")
    if not (-90 <= float(lat) <= 90 and -180 <= float(lon) <= 180):  # type: ignore[arg-type]
        raise _bad(index, "geotag", "the geotag's lat must be within ±90 and lon within ±180")
    return float(lon), float(lat)  # type: ignore[arg-type]


def _photos(value: Any, index: int) -> tuple[tuple[bytes, ...], tuple[str, ...]]:
    """Photo bytes (base64) and the links they came from; a link alone is kept, never fetched (no SSRF)."""
    if value is None:
        return (), ()
    settings = get_settings()
    if not isinstance(value, list) or len(value) > settings.photos_max_count:
        raise _bad(index, "photos", f"photos is a list of at most {settings.photos_max_count}")
    data: list[bytes] = []
    urls: list[str] = []
    for photo in value:
        if not isinstance(photo, dict) or not ({"data", "url"} & set(photo)) or set(photo) - {"data", "url"}:
            raise _bad(index, "photos", 'each photo is {"data": base64} and/or {"url": the link it was fetched from}')
        url = photo.get("url")
        if url is not None:
            if not isinstance(url, str) or not url.startswith(("http://", "https://")) or len(url) > 2000:
                raise _bad(index, "photos", "a photo url must be an http(s) link of at most 2,000 characters")
            urls.append(url)
        if photo.get("data") is not None:
            if not isinstance(photo["data"], str):
                raise _bad(index, "photos", "a photo's data must be base64 text")
            try:
                decoded = base64.b64decode(photo["data"], validate=True)
            except (binascii.Error, ValueError):
                raise _bad(index, "photos", "a photo's data is not valid base64") from None
            if not decoded:
                raise _bad(index, "photos", "a photo's data is empty")
            data.append(decoded)
    if sum(len(d) for d in data) > settings.photos_max_total_bytes:
        raise _bad(index, "photos", "the photos are too large together")
    return tuple(data), tuple(urls)


def _posted_at(value: Any, index: int) -> datetime:
    if not isinstance(value, str):
        raise _bad(index, "posted_at", "posted_at is required: an ISO 8601 time with its offset")
    try:
        when = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise _bad(index, "posted_at", f"posted_at is not an ISO 8601 time: {value[:40]!r}") from None
    if when.tzinfo is None:
        raise _bad(index, "posted_at", "posted_at needs its offset (e.g. '+09:00' or 'Z')")
    return when


def read_message(raw: Any, index: int, *, channel: str) -> MessageIn:
    """Check one message of a batch; a malformed one is refused with its index and field."""
    if not isinstance(raw, dict):
        raise _bad(index, "message", "each message is a JSON object")
    unknown = sorted(set(raw) - MESSAGE_FIELDS)
    if unknown:
        raise _bad(index, unknown[0], f"unknown field {unknown[0]!r}; expected some of {sorted(MESSAGE_FIELDS)}")
    named = _short_text(raw, "channel", index, required=True, limit=32)
    if named != channel:
        raise ChannelMismatch(
            f"message {index} says channel {named!r}, but the API key is the channel {channel!r}",
            index=index,
            field="channel",
        )
    body = raw.get("text")
    if not isinstance(body, str) or not body.strip():
        raise _bad(index, "text", "the field 'text' is required")
    if not storable(body):
        raise _bad(index, "text", "the text contains a NUL character or a lone surrogate")
    limit = get_settings().description_max_chars
    if len(body) > limit:
        raise _bad(index, "text", f"the text has {len(body):,} characters; at most {limit:,}")
    lang = raw.get("lang")
    if lang is not None and lang not in reports.LOCALES:
        raise _bad(index, "lang", "lang is 'ko' or 'en' (or left out: read from the text)")
    photos, urls = _photos(raw.get("photos"), index)
    return MessageIn(
        channel=named,
        external_id=_short_text(raw, "external_id", index, required=True),
        account=_short_text(raw, "account", index),
        author=_short_text(raw, "author", index),
        text=body.strip(),
        lang=lang or classifier.language(body),
        geotag=_geotag(raw.get("geotag"), index),
        photos=photos,
        media_urls=urls,
        posted_at=_posted_at(raw.get("posted_at"), index),
    )


def read_batch(body: Any, *, channel: str) -> list[MessageIn]:
    """A request body: one message, or {"messages": [...]} of up to MAPAPP_INTAKE_BATCH_MAX; all checked first."""
    items = body.get("messages") if isinstance(body, dict) and "messages" in body else [body]
    if not isinstance(items, list) or not items:
        raise InvalidMessage("'messages' must be a non-empty list of messages", field="messages")
    limit = get_settings().intake_batch_max
    if len(items) > limit:
        raise BatchTooLarge(f"a batch has at most {limit} messages; this one has {len(items)}", limit=limit)
    return [read_message(raw, i, channel=channel) for i, raw in enumerate(items)]


# --- what is current: categories, disaster hashtags, threshold ------------------------------------

VOCABULARY_SQL = text(
    f"""
    SELECT c.slug, l.slug AS layer, {effective_state_sql("l")} = 'active' AS active, c.name_ko, c.name_en,
           c.keywords, l.kind, l.hashtags
    FROM categories c JOIN layers l ON l.id = c.layer_id
    WHERE NOT c.retired
    ORDER BY l.sort_order, c.sort_order
    """  # noqa: S608 - the effective state's own fragment
)


def vocabulary(session: Session) -> classifier.Vocabulary:
    """The current categories with their keywords, and the hashtags of the disaster layers now active."""
    categories = []
    layer_hashtags: dict[str, tuple[str, ...]] = {}
    for r in session.execute(VOCABULARY_SQL):
        words = r.keywords or {}
        terms = tuple(words.get("ko", [])) + tuple(words.get("en", []))
        categories.append(
            classifier.CategoryTerms(
                r.slug, r.layer, bool(r.active), r.name_ko, r.name_en, terms, tuple(words.get("hashtags", []))
            )
        )
        if r.kind == "disaster" and r.active and r.hashtags:
            layer_hashtags[r.layer] = tuple(r.hashtags)
    return classifier.Vocabulary(tuple(categories), layer_hashtags)


def threshold(channel: str) -> float:
    """The confidence a channel's message needs to be routed without a person (MAPAPP_INTAKE_THRESHOLDS)."""
    settings = get_settings()
    return settings.intake_thresholds.get(channel, settings.intake_threshold)


def model() -> classifier.NaiveBayes:
    """The statistical model, trained on the shipped examples and any exported decisions."""
    return classifier.trained_model(get_settings().intake_examples_dir)


# --- one message ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Accepted:
    """What became of one message."""

    external_id: str
    outcome: str  # routed | triage | no_problem
    report_id: str | None
    status: str | None
    category: str | None
    confidence: float
    precision: str
    replayed: bool = False

    def to_public(self) -> dict[str, Any]:
        """The answer to the connector."""
        base = get_settings().public_base_url.rstrip("/")
        report = (
            {"id": self.report_id, "status": self.status, "tracking_url": f"{base}/reports/{self.report_id}"}
            if self.report_id
            else None
        )
        return {
            "external_id": self.external_id,
            "outcome": self.outcome,
            "report": report,
            "category": self.category,
            "confidence": self.confidence,
            "precision": self.precision,
            "replayed": self.replayed,
        }


@dataclass(frozen=True)
class Context:
    """What every message of a batch is read against, looked up once per batch."""

    channel: Channel
    vocabulary: classifier.Vocabulary
    places: locate.Gazetteer
    model: classifier.NaiveBayes
    threshold: float


def context(session: Session, channel: Channel) -> Context:
    """The categories, place names, model and threshold for a batch of this channel."""
    return Context(channel, vocabulary(session), locate.gazetteer(session), model(), threshold(channel.name))


CLAIM_SQL = text(
    """
    INSERT INTO intake_messages (channel_id, external_id, account, author_handle, text, lang, geotag, media_urls,
                                 posted_at, outcome, confidence, precision)
    VALUES (:channel, :external_id, :account, :author, :text, :lang,
            CASE WHEN CAST(:lon AS float8) IS NULL THEN NULL
                 ELSE ST_SetSRID(ST_MakePoint(:lon, :lat), 4326) END,
            :media_urls, :posted_at, 'triage', 0, 'none')
    ON CONFLICT (channel_id, external_id) DO NOTHING
    RETURNING id
    """
)
REPLAY_SQL = text(
    """
    SELECT m.external_id, m.outcome, r.public_id, r.status, m.category, m.confidence, m.precision
    FROM intake_messages m LEFT JOIN reports r ON r.id = m.report_id
    WHERE m.channel_id = :channel AND m.external_id = :external_id
    """
)
CITY_POINT_SQL = text(
    """
    SELECT ST_X(ST_PointOnSurface(geom)) AS lon, ST_Y(ST_PointOnSurface(geom)) AS lat FROM jurisdictions
    WHERE level = 'city' AND retired_at IS NULL AND geom IS NOT NULL ORDER BY code LIMIT 1
    """
)


def _claim(session: Session, ctx: Context, message: MessageIn) -> int | None:
    """The new message row's id, or None when (channel, external id) was delivered before."""
    return session.execute(
        CLAIM_SQL,
        {
            "channel": ctx.channel.id,
            "external_id": message.external_id,
            "account": message.account,
            "author": message.author,
            "text": message.text,
            "lang": message.lang,
            "lon": message.geotag[0] if message.geotag else None,
            "lat": message.geotag[1] if message.geotag else None,
            "media_urls": list(message.media_urls),
            "posted_at": message.posted_at,
        },
    ).scalar()


def _replay(session: Session, ctx: Context, external_id: str) -> Accepted:
    row = session.execute(REPLAY_SQL, {"channel": ctx.channel.id, "external_id": external_id}).one()
    return Accepted(
        row.external_id, row.outcome, row.public_id, row.status, row.category, row.confidence, row.precision, True
    )


def _in_service_area(session: Session, lon: float, lat: float) -> bool:
    try:
        routing.check_coordinates(lon, lat)
    except routing.InvalidCoordinates:
        return False
    from mapapp.jurisdictions import places

    place = places.place_at(session, lon=lon, lat=lat)
    return place.district is not None


def whereabouts(
    session: Session, ctx: Context, message: MessageIn, processed: list[photo_pipeline.ProcessedPhoto]
) -> locate.Whereabouts:
    """The geotag, else a photo's GPS, else the places the text names (all named places listed for staff)."""
    from_text = locate.locate_text(message.text, ctx.places)
    if message.geotag and _in_service_area(session, *message.geotag):
        lon, lat = message.geotag
        return locate.Whereabouts("geotag", lon, lat, why="the message's geotag", places=from_text.places)
    gps = next((p.gps for p in processed if p.gps is not None), None)
    if gps is not None and _in_service_area(session, gps.lon, gps.lat):
        return locate.Whereabouts("photo", gps.lon, gps.lat, why="the photo's GPS", places=from_text.places)
    return from_text


def _report_category(ctx: Context, found: classifier.Classification) -> classifier.CategoryTerms:
    """The category the report is filed under: the classifier's, else the best candidate on an active layer."""
    ranked = [c["category"] for c in found.candidates if c["category"]]
    for slug in [found.category, *ranked]:
        category = ctx.vocabulary.category(slug) if slug else None
        if category is not None and category.layer_active:
            return category
    return next(c for c in ctx.vocabulary.categories if c.layer_active)


def _unsure_why(ctx: Context, found: classifier.Classification, where: locate.Whereabouts) -> str:
    reasons = []
    if found.category is None:
        reasons.append("no problem recognised")
    elif found.confidence < ctx.threshold:
        reasons.append(f"confidence {found.confidence:.2f} below {ctx.threshold:.2f}")
    elif (category := ctx.vocabulary.category(found.category)) is not None and not category.layer_active:
        reasons.append(f"the layer '{category.layer}' is not active")
    if not where.located:
        reasons.append(f"place: {where.why}")
    return "; ".join(reasons)


def ingest_message(session: Session, ctx: Context, message: MessageIn) -> Accepted:
    """One message: claimed once, classified, located, routed or triaged, kept with what was read from it."""
    message_id = _claim(session, ctx, message)
    if message_id is None:
        return _replay(session, ctx, message.external_id)
    found = classifier.classify(message.text, ctx.vocabulary, ctx.model)
    if found.category is None and found.confidence >= ctx.threshold:
        # Venting, thanks, a question: nothing to fix. Kept (staff can list it), no report is made.
        _keep(session, message_id, found, None, "no_problem", "none", [])
        return Accepted(message.external_id, "no_problem", None, None, None, found.confidence, "none")
    processed = [photo_pipeline.process_photo(data) for data in message.photos]
    where = whereabouts(session, ctx, message, processed)
    category = _report_category(ctx, found)
    confident = found.category == category.slug and found.confidence >= ctx.threshold
    report = _file_report(
        session, ctx, message, found, category, where, processed, routable=confident and where.located
    )
    _keep(session, message_id, found, report.id, report.outcome, where.precision, where.places)
    return Accepted(
        message.external_id,
        report.outcome,
        report.public_id,
        report.status,
        found.category,
        found.confidence,
        where.precision,
    )


@dataclass(frozen=True)
class _Filed:
    id: int
    public_id: str
    status: str
    outcome: str


def _file_report(
    session: Session,
    ctx: Context,
    message: MessageIn,
    found: classifier.Classification,
    category: classifier.CategoryTerms,
    where: locate.Whereabouts,
    processed: list[photo_pipeline.ProcessedPhoto],
    *,
    routable: bool,
) -> _Filed:
    """Save the report through the reports feature's steps; routed by the rule, or put in triage."""
    if where.located and where.lon is not None and where.lat is not None:
        lon, lat = where.lon, where.lat
    else:
        city = session.execute(CITY_POINT_SQL).first()
        if city is None:
            raise NoServiceArea("no city boundary is loaded: import boundaries before taking channel messages")
        lon, lat = float(city.lon), float(city.lat)
    draft = reports.ReportDraft(
        layer=category.layer,
        category=category.slug,
        lat=lat,
        lon=lon,
        description=message.text,
        locale=message.lang,
        channel=ctx.channel.kind,
    )
    checked = reports.check_fields(draft, len(processed), 0)
    target = reports.check_layer_and_category(session, checked)
    decision = routing.route(session, lon=lon, lat=lat, category=category.slug)
    source, precision = REPORT_LOCATION[where.precision]
    params = dict(decision.reason_params)
    if routable and not decision.triage:
        params |= {
            "evidence": ", ".join(found.evidence) or "—",
            "confidence": f"{found.confidence:.2f}",
            "precision_ko": PRECISION_WORDS[where.precision][0],
            "precision_en": PRECISION_WORDS[where.precision][1],
        }
        decision = replace(decision, reason_code="routed_from_message", reason_params=params)
    elif not decision.triage or not where.located:
        kept = (
            decision.jurisdictions if where.located else tuple(j for j in decision.jurisdictions if j.level == "city")
        )
        decision = replace(
            decision,
            office=None,
            jurisdictions=kept,
            method=decision.method if where.located else "none",
            reason_code="triage_message_unsure",
            reason_params=params | {"why": _unsure_why(ctx, found, where)},
        )
    location = reports.Location(lon, lat, source, precision, named_dong_id=where.dong_id)
    dong_id, _ = reports.place_of(decision, location)
    if precision in ("district", "city"):
        dong_id = None
    storage = photo_pipeline.get_storage()
    for p in processed:
        storage.put(p.display_key, p.display)
        storage.put(p.thumbnail_key, p.thumbnail)
    report_id, public_id, status, office_email = reports.save_report(
        session, checked, target, decision, location, dong_id, processed, ctx.channel.kind
    )
    if message.media_urls:
        session.execute(
            text("UPDATE reports SET media_url = :u WHERE id = :id"), {"u": message.media_urls[0], "id": report_id}
        )
    office = decision.office
    report_messages.tell_office(
        session,
        office_email=office_email,
        public_id=public_id,
        category=category.slug,
        status=status,
        office_slug=office.slug if office else None,
    )
    return _Filed(report_id, public_id, status, "routed" if office else "triage")


def _keep(
    session: Session,
    message_id: int,
    found: classifier.Classification,
    report_id: int | None,
    outcome: str,
    precision: str,
    places: list[dict[str, Any]],
) -> None:
    session.execute(
        text(
            "UPDATE intake_messages SET report_id = :report, outcome = :outcome, category = :category, layer = :layer, "
            "confidence = :confidence, evidence = CAST(:evidence AS jsonb), candidates = CAST(:candidates AS jsonb), "
            "places = CAST(:places AS jsonb), precision = :precision WHERE id = :id"
        ),
        {
            "id": message_id,
            "report": report_id,
            "outcome": outcome,
            "category": found.category,
            "layer": found.layer,
            "confidence": found.confidence,
            "evidence": json.dumps(found.evidence, ensure_ascii=False),
            "candidates": json.dumps(found.candidates, ensure_ascii=False),
            "places": json.dumps(places, ensure_ascii=False),
            "precision": precision,
        },
    )


BATCH_LOCK = 0x1A7A4E  # an advisory lock's key: one multi-message batch at a time


def take_batch_turn(session: Session) -> None:
    """Wait for other batches to commit: many reports in one transaction each could deadlock on tile counters."""
    session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": BATCH_LOCK})


def ingest_messages(session: Session, *, channel: Channel, messages: list[MessageIn]) -> list[Accepted]:
    """A checked batch of one channel's messages, in the caller's transaction (all stored, or none)."""
    ctx = context(session, channel)
    return [ingest_message(session, ctx, m) for m in messages]


def get_message(session: Session, *, message_id: int) -> IntakeMessage:
    """One stored message."""
    found = session.get(IntakeMessage, message_id)
    if found is None:
        raise NotFound(f"there is no message {message_id}")
    return found
