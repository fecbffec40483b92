"""HTML for the public dashboard (/stats) and the public list of reports (/reports): doors into mapapp.stats."""

from datetime import date
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from fastapi.encoders import jsonable_encoder
from fastapi.responses import HTMLResponse
from sqlalchemy import text

from mapapp.core import i18n
from mapapp.core import status as report_status
from mapapp.core.db import get_engine
from mapapp.core.deps import SessionDep, page_locale
from mapapp.core.settings import get_settings
from mapapp.feeds import service as feeds
from mapapp.reports.models import CLOSE_REASONS
from mapapp.stats import listing, service, words
from mapapp.web.router import _html, local_time, templates
from mapapp.web.security import csp_nonce

router = APIRouter(include_in_schema=False)


def _choices(session: SessionDep, locale: str) -> dict[str, list[dict[str, str]]]:
    name = "name_ko" if locale == "ko" else "name_en"
    districts = session.execute(
        text(f"SELECT code, {name} AS name FROM jurisdictions WHERE level = 'district' AND retired_at IS NULL "  # noqa: S608
             "ORDER BY name")
    ).mappings()  # fmt: skip
    offices = session.execute(
        text(f"SELECT slug AS code, {name} AS name FROM offices WHERE active ORDER BY name")  # noqa: S608
    ).mappings()
    return {"district": [dict(r) for r in districts], "office": [dict(r) for r in offices]}


@router.get("/stats", response_class=HTMLResponse)
def stats_page(
    request: Request,
    session: SessionDep,
    scope: Annotated[str, Query(pattern="^(city|district|office)$")] = "city",
    code: str | None = None,
    scopecode: Annotated[str | None, Query(description="the form's one choice, 'district:11440'")] = None,
    from_: Annotated[date | None, Query(alias="from")] = None,
    to: date | None = None,
    indicator: Annotated[str, Query(pattern="^(" + "|".join(words.INDICATORS) + ")$")] = "received",
    lang: str | None = None,
) -> HTMLResponse:
    """The public dashboard: figures, charts with their tables, and the districts coloured by an indicator."""
    locale = page_locale(request, lang)
    w = words.words(locale)
    if scopecode and ":" in scopecode:
        scope, code = scopecode.split(":", 1)
    found = service.get_scope(session, kind=scope, code=code or None)
    start, end = service.get_period(from_, to)
    figures = service.indicators(session, scope=found, start=start, end=end)
    if figures["freshness"]["stale"]:
        service.refresh_in_background(get_engine())
    labels = {
        "channel": {c["code"]: w.get("channel_" + c["code"], c["code"]) for c in figures["by_channel"]},
        "reason": {r: w["reason_" + r] for r in CLOSE_REASONS},
        "indicator": {i: w["within_target" if i == "within_target_share" else i] for i in words.INDICATORS},
    }
    # Feed autodiscovery: the city's feed (and a disaster layer's feed and CAP alert while one is on), and
    # the feed of the district or office these figures are about.
    feed_links = feeds.discovery_links(session, locale=locale)
    if found.kind in ("district", "office"):
        name = found.name_ko if locale == "ko" else found.name_en
        query = urlencode({found.kind: found.code, "lang": locale})
        feed_links.append({"type": feeds.ATOM, "href": f"/feeds/reports.atom?{query}", "title": name})
    body = templates.get_template("stats.html").render(
        feed_links=feed_links,
        locale=locale,
        other_locale="en" if locale == "ko" else "ko",
        w=w,
        s=figures,
        scope=found,
        choices=_choices(session, locale),
        labels=labels,
        indicator=indicator,
        as_of=local_time(figures["freshness"]["as_of"]),
        refresh_minutes=round(figures["freshness"]["refreshed_every_seconds"] / 60),
        ack=(
            words.bucket_text(figures["time_to_acknowledge"]["p50"], locale),
            words.bucket_text(figures["time_to_acknowledge"]["p90"], locale),
        ),
        res=(
            words.bucket_text(figures["time_to_resolve"]["p50"], locale),
            words.bucket_text(figures["time_to_resolve"]["p90"], locale),
        ),
        config=jsonable_encoder(
            {
                "locale": locale,
                "stats": figures,
                "indicator": indicator,
                "labels": labels,
                "words": w,
                "tileUrl": get_settings().tile_url,
                "tileAttribution": get_settings().tile_attribution,
            }
        ),
        nonce=csp_nonce(request),
    )
    return _html(body, locale, lang)


@router.get("/reports", response_class=HTMLResponse)
def reports_list_page(
    request: Request,
    session: SessionDep,
    layer: str | None = None,
    category: str | None = None,
    status: Annotated[str | None, Query(pattern="^(" + "|".join(report_status.GROUPS) + ")?$")] = None,
    q: Annotated[str | None, Query(max_length=listing.MAX_QUERY)] = None,
    cursor: str | None = None,
    lang: str | None = None,
) -> HTMLResponse:
    """Every report, newest first, filtered like the map and searched by text or place; each links to its page."""
    locale = page_locale(request, lang)
    w = words.words(locale)
    t = i18n.messages(locale)
    page = listing.list_reports(
        session, layer=layer or None, category=category or None, status=status or None, query=q, cursor=cursor
    )
    name = "name_ko" if locale == "ko" else "name_en"
    layers = session.execute(
        text(f"SELECT slug, {name} AS name FROM layers WHERE state <> 'archived' ORDER BY sort_order, slug")  # noqa: S608
    ).mappings()
    categories = session.execute(
        text(f"SELECT slug, {name} AS name FROM categories WHERE NOT retired ORDER BY sort_order, slug")  # noqa: S608
    ).mappings()
    filters = {"layer": layer or "", "category": category or "", "status": status or "", "q": q or ""}
    base = {k: v for k, v in filters.items() if v} | {"lang": locale}
    for row in page["reports"]:
        row["local"] = local_time(row["created_at"])
        row["status_label"] = t["status_" + row["status_group"]]
    body = templates.get_template("reports_list.html").render(
        locale=locale,
        other_locale="en" if locale == "ko" else "ko",
        w=w,
        page=page,
        filters=filters,
        layers=[dict(r) for r in layers],
        categories=[dict(r) for r in categories],
        statuses=[(g, t["status_" + g]) for g in report_status.GROUPS],
        next_url="/reports?" + urlencode(base | {"cursor": page["next"]}) if page["next"] else None,
        first_url="/reports?" + urlencode(base) if cursor else None,
        switch_url="/reports?" + urlencode(base | {"lang": "en" if locale == "ko" else "ko"}),
    )
    return _html(body, locale, lang)
