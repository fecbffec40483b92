"""E-mail alerts of new reports in an area: subscribe, confirm, the worker's pass, unsubscribe.

Subscribing costs the same per-address e-mail allowance as a report's confirmation, so mapapp cannot be
used to mail a third party; the answer is the same whether or not anything was sent. Nothing is mailed
until the address confirms with the secret link. The worker's pass (`queue_alerts`) takes each
confirmed subscription, finds the reports that arrived in its scope since the last pass, and puts one
e-mail in the outbox: the report itself when one arrived, a digest when several did. It locks the
subscriptions it works on (SKIP LOCKED), so workers side by side never mail the same reports twice, and
moves each subscription's mark in the same transaction as the e-mail it queued.
"""

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import text
from sqlalchemy.orm import Session

from mapapp import ratelimit
from mapapp.core.db import transaction
from mapapp.core.errors import InvalidInput, NotFound
from mapapp.core.settings import get_settings
from mapapp.core.text import is_email
from mapapp.feeds import service as feeds
from mapapp.feeds.scope import Near, Scope, near_or_none
from mapapp.layers import service as layers
from mapapp.notify import service as outbox
from mapapp.reports import filters
from mapapp.reports.queries import FROM_SQL
from mapapp.reports.service import InvalidContact

DIGEST_ITEMS = 20  # a digest lists this many reports and links to the feed for the rest
CONFIRM_DAYS = 7  # an unconfirmed subscription's link works this long


class AlertAreaRequired(InvalidInput):
    """Neither a district nor a point and radius, or both."""

    code = "alert_area_required"


class AlertLinkUnknown(NotFound):
    """A confirmation or unsubscribe link that names no subscription (or has expired)."""

    code = "alert_link_unknown"


@dataclass(frozen=True)
class SubscriptionDraft:
    """What a citizen sends to subscribe."""

    email: str | None
    locale: str = "ko"
    district: str | None = None
    lat: float | None = None
    lon: float | None = None
    radius: float | None = None
    layer: str | None = None
    category: str | None = None

    def scope(self) -> Scope:
        """The reports this subscription is about; the area is checked here."""
        near = near_or_none(self.lat, self.lon, self.radius)
        if bool(self.district) == (near is not None):
            raise AlertAreaRequired("give a district, or a point (lat, lon) and a radius, not both", field="district")
        return Scope(layer=self.layer or None, category=self.category or None, district=self.district, near=near)


WORDS: dict[str, dict[str, Any]] = {
    "confirm": {
        "ko": (
            "[알림 신청 확인] {area}",
            "{area}의 새 신고를 이메일로 받으시려면 아래 링크를 열어 확인해 주세요 ({days}일 동안 유효합니다):\n"
            "{link}\n\n신청하지 않았다면 이 메일을 무시하세요. 확인하기 전에는 알림을 보내지 않습니다.\n",
        ),
        "en": (
            "[Confirm your alert] {area}",
            "To get e-mails about new reports in {area}, open this link to confirm (it works for {days} days):\n"
            "{link}\n\nIf you did not ask for this, ignore this e-mail: nothing is sent until you confirm.\n",
        ),
    },
    "one": {"ko": "[새 신고] {title}", "en": "[New report] {title}"},
    "many": {"ko": "[새 신고 {n}건] {area}", "en": "[{n} new reports] {area}"},
    "intro_one": {"ko": "{area}에 새 신고가 있습니다.", "en": "A new report in {area}."},
    "intro_many": {"ko": "{area}에 새 신고 {n}건이 있습니다.", "en": "{n} new reports in {area}."},
    "more": {"ko": "… 그리고 {n}건 더: {feed}", "en": "… and {n} more: {feed}"},
    "footer": {
        "ko": "\n--\n이 알림을 그만 받으려면: {unsubscribe}\n이 지역의 새 신고 피드(Atom): {feed}\n",
        "en": "\n--\nTo stop these alerts: {unsubscribe}\nFeed of this area (Atom): {feed}\n",
    },
}


def _lang(locale: str) -> str:
    return "ko" if locale == "ko" else "en"


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def unsubscribe_token(subscription_id: int) -> str:
    """`<id>-<hmac>`: every alert carries it again without storing it."""
    key = get_settings().secret_key.encode()
    mac = hmac.new(key, f"alert-unsubscribe:{subscription_id}".encode(), hashlib.sha256).hexdigest()[:32]
    return f"{subscription_id}-{mac}"


def _subscription_of(token: str) -> int | None:
    number, _, _ = token.strip().partition("-")
    if not number.isdigit() or len(number) > 18:
        return None
    return int(number) if hmac.compare_digest(unsubscribe_token(int(number)), token.strip()) else None


def unsubscribe_url(subscription_id: int) -> str:
    """The one-click link (GET: a page with one button; POST: done, RFC 8058)."""
    return f"{feeds.base_url()}/alerts/unsubscribe/{unsubscribe_token(subscription_id)}"


def feed_url(scope: Scope, locale: str) -> str:
    """The Atom feed of the same scope."""
    parts = [
        f"{k}={v}" for k, v in (("layer", scope.layer), ("category", scope.category), ("district", scope.district)) if v
    ]
    if scope.near:
        parts += [f"lat={scope.near.lat}", f"lon={scope.near.lon}", f"radius={scope.near.radius_m:g}"]
    return f"{feeds.base_url()}/feeds/reports.atom?" + "&".join([*parts, "kind=new", f"lang={_lang(locale)}"])


def _ids(session: Session, scope: Scope) -> dict[str, int | None]:
    """The rows a subscription points at (each name checked by feeds.scope_label first)."""

    def one(sql: str, value: str | None) -> int | None:
        return session.execute(text(sql), {"v": value}).scalar() if value else None

    return {
        "district_id": one("SELECT id FROM jurisdictions WHERE code = :v AND level = 'district'", scope.district),
        "layer_id": one("SELECT id FROM layers WHERE slug = :v", scope.layer),
        "category_id": one("SELECT id FROM categories WHERE slug = :v", scope.category),
    }


def subscribe(session: Session, *, draft: SubscriptionDraft) -> bool:
    """Record the subscription, unconfirmed, and queue the confirmation; False when no e-mail was queued
    (the address's allowance is used up). The caller answers the same either way."""
    email = (draft.email or "").strip().lower()
    if not is_email(email):
        raise InvalidContact("give a valid e-mail address", field="email")
    scope = draft.scope()
    locale = _lang(draft.locale)
    area = feeds.scope_label(session, scope, locale=locale)  # raises for an unknown layer, district …
    allowed, _ = ratelimit.allow(session, limit=ratelimit.limit_named("email"), subject=email)
    if not allowed:
        return False
    token = secrets.token_urlsafe(24)
    near = scope.near
    session.execute(
        text(
            "INSERT INTO alert_subscriptions (email, locale, district_id, center, radius_m, layer_id, category_id, "
            "confirm_token_hash) VALUES (:email, :locale, :district_id, "
            "CASE WHEN CAST(:lon AS float8) IS NULL THEN NULL ELSE ST_SetSRID(ST_MakePoint(:lon, :lat), 4326) END, "
            ":radius, :layer_id, :category_id, :hash)"
        ),
        {
            "email": email,
            "locale": locale,
            "lon": near.lon if near else None,
            "lat": near.lat if near else None,
            "radius": near.radius_m if near else None,
            "hash": _digest(token),
            **_ids(session, scope),
        },
    )
    subject, body = WORDS["confirm"][locale]
    values = {"area": area, "link": f"{feeds.base_url()}/alerts/confirm/{token}", "days": CONFIRM_DAYS}
    outbox.enqueue_email(session, to=email, subject=subject.format(**values), body=body.format(**values))
    return True


def confirm(session: Session, *, token: str) -> str:
    """Confirm the subscription of this link (again: no change); its locale. Alerts start from now."""
    row = session.execute(
        text(
            "UPDATE alert_subscriptions SET "
            "last_report_id = CASE WHEN confirmed_at IS NULL THEN (SELECT coalesce(max(id), 0) FROM reports) "
            "                 ELSE last_report_id END, "
            "confirmed_at = coalesce(confirmed_at, now()) "
            "WHERE confirm_token_hash = :h AND unsubscribed_at IS NULL "
            "AND (confirmed_at IS NOT NULL OR created_at > now() - make_interval(days => :days)) "
            "RETURNING id, locale"
        ),
        {"h": _digest(token.strip()), "days": CONFIRM_DAYS},
    ).first()
    if row is None:
        raise AlertLinkUnknown("this confirmation link is not known or has expired")
    return str(row.locale)


def confirm_locale(session: Session, *, token: str) -> str:
    """The locale of the subscription a confirmation link belongs to (for its page), or AlertLinkUnknown."""
    locale = session.execute(
        text("SELECT locale FROM alert_subscriptions WHERE confirm_token_hash = :h AND unsubscribed_at IS NULL"),
        {"h": _digest(token.strip())},
    ).scalar()
    if locale is None:
        raise AlertLinkUnknown("this confirmation link is not known or has expired")
    return str(locale)


def unsubscribe_locale(session: Session, *, token: str) -> str:
    """The locale of the subscription an unsubscribe link belongs to, or AlertLinkUnknown."""
    found = _subscription_of(token)
    locale = (
        session.execute(text("SELECT locale FROM alert_subscriptions WHERE id = :i"), {"i": found}).scalar()
        if found
        else None
    )
    if locale is None:
        raise AlertLinkUnknown("this unsubscribe link is not known")
    return str(locale)


def unsubscribe(session: Session, *, token: str) -> str:
    """Stop the subscription's alerts (again: no change); its locale."""
    locale = unsubscribe_locale(session, token=token)
    session.execute(
        text("UPDATE alert_subscriptions SET unsubscribed_at = coalesce(unsubscribed_at, now()) WHERE id = :i"),
        {"i": _subscription_of(token)},
    )
    return locale


# --- the worker's pass -----------------------------------------------------------------------------

ALERT_COLUMNS = """
    r.id, r.public_id, r.created_at, r.description, c.name_ko AS category_ko, c.name_en AS category_en,
    d.name_ko AS district_ko, d.name_en AS district_en, count(*) OVER () AS total"""


def new_reports(session: Session, scope: Scope, *, after: int, upto: int, limit: int = DIGEST_ITEMS) -> list[Any]:
    """The newest reports in the scope with after < id <= upto (public fields), each with the total count."""
    where = scope.where(filters.Where(params={"after": after, "upto": upto, "limit": limit}))
    where.add("r.id > :after AND r.id <= :upto")
    sql = f"SELECT {ALERT_COLUMNS} {FROM_SQL} WHERE {where.sql()} ORDER BY r.id DESC LIMIT :limit"
    return list(session.execute(text(sql), where.params))


def compose(rows: list[Any], *, area: str, locale: str, unsubscribe: str, feed: str) -> tuple[str, str]:
    """The alert's subject and text: one report, or a digest of several (at most DIGEST_ITEMS listed)."""
    lang = _lang(locale)
    zone = ZoneInfo(get_settings().time_zone)
    total = int(rows[0].total)
    base = feeds.base_url()

    def when(at: datetime) -> str:
        local = at.astimezone(zone)
        return f"{local:%Y-%m-%d %H:%M} {local.tzname()}"

    def title(row: Any) -> str:
        place = getattr(row, f"district_{lang}")
        name = getattr(row, f"category_{lang}")
        return f"{name} — {place}" if place else name

    if total == 1:
        row = rows[0]
        subject = WORDS["one"][lang].format(title=title(row))
        lines = [WORDS["intro_one"][lang].format(area=area), "", title(row)]
        if row.description and row.description.strip():
            lines.append(row.description.strip()[:300])
        lines += [when(row.created_at), f"{base}/reports/{row.public_id}"]
    else:
        subject = WORDS["many"][lang].format(n=total, area=area)
        lines = [WORDS["intro_many"][lang].format(n=total, area=area), ""]
        for row in rows:
            lines += [f"- {title(row)} ({when(row.created_at)})", f"  {base}/reports/{row.public_id}"]
        if total > len(rows):
            lines += ["", WORDS["more"][lang].format(n=total - len(rows), feed=feed)]
    body = "\n".join(lines) + "\n" + WORDS["footer"][lang].format(unsubscribe=unsubscribe, feed=feed)
    return subject, body


def _scope_of(row: Any) -> Scope:
    near = Near(lon=row.lon, lat=row.lat, radius_m=row.radius_m) if row.lon is not None else None
    return Scope(layer=row.layer, category=row.category, district=row.district, near=near)


def queue_alerts(session: Session) -> int:
    """One pass: for each confirmed subscription, the reports new since its mark, as one e-mail in the outbox;
    how many e-mails were queued."""
    upto = session.execute(text("SELECT coalesce(max(id), 0) FROM reports")).scalar_one()
    subscriptions = session.execute(
        text(
            "SELECT s.id, s.email, s.locale, s.last_report_id, s.radius_m, ST_X(s.center) AS lon, "
            "ST_Y(s.center) AS lat, d.code AS district, l.slug AS layer, c.slug AS category "
            "FROM alert_subscriptions s LEFT JOIN jurisdictions d ON d.id = s.district_id "
            "LEFT JOIN layers l ON l.id = s.layer_id LEFT JOIN categories c ON c.id = s.category_id "
            "WHERE s.confirmed_at IS NOT NULL AND s.unsubscribed_at IS NULL AND s.last_report_id < :upto "
            "ORDER BY s.id FOR UPDATE OF s SKIP LOCKED"
        ),
        {"upto": upto},
    ).all()
    queued = 0
    for sub in subscriptions:
        scope = _scope_of(sub)
        rows = new_reports(session, scope, after=sub.last_report_id, upto=upto)
        if rows:
            subject, body = compose(
                rows,
                area=feeds.scope_label(session, scope, locale=_lang(sub.locale)),
                locale=sub.locale,
                unsubscribe=unsubscribe_url(sub.id),
                feed=feed_url(scope, sub.locale),
            )
            link = unsubscribe_url(sub.id)
            outbox.enqueue_email(
                session,
                to=sub.email,
                subject=subject,
                body=body,
                headers={"List-Unsubscribe": f"<{link}>", "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"},
            )
            queued += 1
        session.execute(
            text(
                "UPDATE alert_subscriptions SET last_report_id = :upto, "
                "last_sent_at = CASE WHEN :sent THEN now() ELSE last_sent_at END WHERE id = :i"
            ),
            {"upto": upto, "sent": bool(rows), "i": sub.id},
        )
    return queued


def form_choices(session: Session, *, locale: str) -> dict[str, Any]:
    """The subscribe form's choices: the districts, and the layers with their categories, named in `locale`."""
    districts = session.execute(
        text(
            "SELECT code, name_ko, name_en FROM jurisdictions WHERE level = 'district' AND retired_at IS NULL "
            "ORDER BY CASE WHEN :ko THEN name_ko ELSE name_en END"
        ),
        {"ko": locale == "ko"},
    ).all()
    groups = [
        {
            "slug": layer.slug,
            "name": layer.name_ko if locale == "ko" else layer.name_en,
            "categories": [
                (c.slug, c.name_ko if locale == "ko" else c.name_en)
                for c in layers.list_categories(session, layer_id=layer.id)
            ],
        }
        for layer in layers.list_layers(session, states=("active", "inactive"))
    ]
    return {"districts": [(d.code, d.name_ko if locale == "ko" else d.name_en) for d in districts], "layers": groups}


def forget_unconfirmed(session: Session) -> int:
    """Delete subscriptions never confirmed within CONFIRM_DAYS: an address nobody confirmed is not kept."""
    result = session.execute(
        text(
            "DELETE FROM alert_subscriptions WHERE confirmed_at IS NULL "
            "AND created_at < now() - make_interval(days => :days)"
        ),
        {"days": CONFIRM_DAYS},
    )
    return int(getattr(result, "rowcount", 0) or 0)


def run_pass() -> int:
    """`queue_alerts` in its own transaction (the worker calls this on its schedule), after forgetting the
    addresses that never confirmed."""
    with transaction() as session:
        forget_unconfirmed(session)
        return queue_alerts(session)


def preview(session: Session, *, draft: SubscriptionDraft) -> dict[str, str]:
    """What an alert for this area looks like now: the newest reports in it as a digest (public fields only)."""
    scope = draft.scope()
    locale = _lang(draft.locale)
    area = feeds.scope_label(session, scope, locale=locale)
    rows = new_reports(session, scope, after=0, upto=2**62)
    if not rows:
        return {"subject": "", "body": WORDS["intro_many"][locale].format(n=0, area=area)}
    subject, body = compose(
        rows,
        area=area,
        locale=locale,
        unsubscribe=f"{feeds.base_url()}/alerts/unsubscribe/…",
        feed=feed_url(scope, locale),
    )
    return {"subject": subject, "body": body}
