"""HTML pages: the map, the report page, the embeddable widget, the staff pages and the API documentation."""

from datetime import datetime
from pathlib import Path
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response
from jinja2 import Environment, FileSystemLoader, select_autoescape
from sqlalchemy.orm import Session

from mapapp.core import i18n
from mapapp.core import status as report_status
from mapapp.core.db import transaction
from mapapp.core.deps import PublicReadSessionDep, SessionDep, page_locale
from mapapp.core.settings import get_settings
from mapapp.feeds import service as feeds
from mapapp.intake import staff as intake_staff
from mapapp.layers import service as layers
from mapapp.offices import words as desk_words
from mapapp.reports import queries
from mapapp.stats import targets as stats_targets
from mapapp.web import city, pages
from mapapp.web.security import csp_nonce, json_for_html

router = APIRouter(include_in_schema=False)
templates = Environment(
    loader=FileSystemLoader(Path(__file__).parent / "templates"), autoescape=select_autoescape(["html"])
)
# Every template that embeds JSON uses `tojson`: ours also escapes '>' and U+2028/U+2029, which Jinja's does not.
templates.filters["tojson"] = json_for_html
EVENT_LABELS = {
    "submitted": {"ko": "접수", "en": "Received"},
    "routed": {"ko": "담당 부서 배정", "en": "Sent to the responsible office"},
    "status_changed": {"ko": "상태 변경", "en": "Status changed"},
    "note": {"ko": "메모", "en": "Note"},
}


def _html(body: str, locale: str, lang: str | None) -> HTMLResponse:
    # The CSP, framing and other headers come from mapapp.web.security.SecurityHeadersMiddleware.
    response = HTMLResponse(body)
    if lang in i18n.LOCALES:
        response.set_cookie("lang", locale, max_age=365 * 86400, samesite="lax")
    return response


def local_time(at: str | datetime) -> str:
    """A time in the city's zone (settings.time_zone), minutes and the zone shown: "2026-05-01 20:29 KST"."""
    when = datetime.fromisoformat(at) if isinstance(at, str) else at
    local = when.astimezone(ZoneInfo(get_settings().time_zone))
    return f"{local:%Y-%m-%d %H:%M} {local.tzname()}"


def _department_words(locale: str) -> dict[str, str]:
    """`dept_<slug>` words from the layer files' department names (data, so any city's show in words)."""
    with transaction() as session:
        return {f"dept_{slug}": name for slug, name in layers.department_names(session, locale=locale).items()}


def _staff_config(locale: str) -> dict[str, Any]:
    # What office.js and admin.js need besides the words: the public map's colours and status groups (one
    # source, mapapp.core.status), the city's time zone, and the other language for the switch.
    zone = get_settings().time_zone
    return {
        "locale": locale,
        "otherLocale": "en" if locale == "ko" else "ko",
        "t": i18n.messages(locale) | _department_words(locale),
        "statusColors": pages.STATUS_COLORS,
        "statusGroups": {s: report_status.group_of(s) for s in report_status.STATUSES},
        "timeZone": zone,
        "zoneName": datetime.now(ZoneInfo(zone)).tzname(),
    }


def _desk_config(session: Session, locale: str) -> dict[str, Any]:
    """The office and triage desks' config: the staff config, their map, and the desks' own words."""
    # The desks' maps open on the city's own extent, like the public map (no hard-coded centre), and draw
    # the same base map as the public one (none on a closed network).
    settings = get_settings()
    base_map = {"tileUrl": settings.tile_url, "tileAttribution": settings.tile_attribution}
    config = _staff_config(locale) | {"extent": city.extent(session)} | base_map
    config["t"] |= desk_words.messages(locale)
    return config


def _staff_page(template: str, locale: str, lang: str | None, *, config: dict[str, Any]) -> HTMLResponse:
    """A staff page: it shows the config's words, and its script reads the config from the page."""
    body = templates.get_template(template).render(locale=locale, t=config["t"], config=config)
    return _html(body, locale, lang)


def _panel(locale: str, *, mode: str, embed: bool) -> str:
    return templates.get_template("panel.html").render(
        t=i18n.messages(locale) | pages.map_messages(locale),
        mode=mode,
        embed=embed,
        other_locale="en" if locale == "ko" else "ko",
    )


@router.get("/", response_class=HTMLResponse)
def map_page(request: Request, session: PublicReadSessionDep, lang: str | None = None) -> HTMLResponse:
    """The city map: layers, reports by status, and the report form."""
    locale = page_locale(request, lang)
    body = pages.map_page(
        locale=locale,
        config={
            "refreshSeconds": get_settings().map_refresh_seconds,
            "extent": city.extent(session),
            "labels": city.district_labels(session, locale=locale),
        },
        panel_html=_panel(locale, mode="report", embed=False),
        title=i18n.messages(locale)["title"],
        nonce=csp_nonce(request),
        head_html=templates.get_template("_feeds_head.html").render(
            feed_links=feeds.discovery_links(session, locale=locale)
        ),
    )
    return _html(body, locale, lang)


@router.get("/embed", response_class=HTMLResponse)
def embed(
    request: Request,
    session: PublicReadSessionDep,
    layer: str | None = None,
    district: str | None = None,
    mode: Annotated[str, Query(pattern="^(view|report)$")] = "view",
    lang: str | None = None,
) -> HTMLResponse:
    """A compact map of one layer and/or one district, for other sites to frame."""
    locale = page_locale(request, lang)
    config: dict[str, Any] = {
        "embed": True,
        "layer": layer,
        "district": district,
        "mode": mode,
        "refreshSeconds": get_settings().map_refresh_seconds,
        "extent": city.extent(session, district=district),
        "labels": city.district_labels(session, locale=locale, district=district),
    }
    body = pages.map_page(
        locale=locale,
        config=config,
        panel_html=_panel(locale, mode=mode, embed=True),
        title=i18n.messages(locale)["title"],
        nonce=csp_nonce(request),
    )
    return _html(body, locale, lang)  # framable by any site: security.FRAMEABLE_PATHS


@router.get("/widget.js")
def widget_js() -> Response:
    """The one-line embed: <script src=".../widget.js" data-layer="flood" data-district="11440"></script>."""
    path = get_settings().static_dir / "js" / "widget.js"
    return Response(
        path.read_text(encoding="utf-8"), media_type="text/javascript", headers={"Cache-Control": "public, max-age=300"}
    )


@router.get("/reports/{public_id}", response_class=HTMLResponse)
def report_page(
    request: Request, session: PublicReadSessionDep, public_id: str, lang: str | None = None
) -> HTMLResponse:
    """One report for anyone: photos, status, office and why, timeline, answer and after photo."""
    locale = page_locale(request, lang)
    t = i18n.messages(locale)
    feature = queries.public_report(session, public_id=public_id)
    p = feature["properties"]
    lon, lat = feature["geometry"]["coordinates"]
    timeline = []
    for e in p["timeline"]:
        status = e["to"] and t.get("status_" + report_status.group_of(e["to"]), e["to"])
        label = EVENT_LABELS.get(e["kind"], {}).get(locale, e["kind"])
        timeline.append(
            {
                "at": e["at"],
                "local": local_time(e["at"]),
                "label": f"{label} ({status})" if status else label,
                "note": e["note"],
            }
        )
    answer = next((e["note"] for e in reversed(p["timeline"]) if e["to"] == "resolved" and e["note"]), None)
    office = (p["office_name"] or {}).get(locale)
    settings = get_settings()
    other = "en" if locale == "ko" else "ko"
    # The category's response target and whether it was met (issue 12), due time from core.status.
    target = stats_targets.report_target(session, public_id=public_id, locale=locale)
    if target:
        target["due_local"] = local_time(target["due_at"])
    body = templates.get_template("report.html").render(
        target=target,
        locale=locale,
        other_locale=other,
        # The place in the reader's language, then in the other one (a visitor may not read the first).
        place=(p["place"] or {}).get(locale),
        place_other=(p["place"] or {}).get(other),
        precision=t.get("precision_" + p["location_precision"]),
        # A channel message's report says where it came from (the author only on a public channel).
        channel=intake_staff.public_channel(session, public_id=public_id),
        t=t,
        p=p,
        category=p["category_name"][locale],
        status_label=t["status_" + p["status_group"]],
        office=office,
        reason=(p["routing"]["reason"] or {}).get(locale),
        answer=answer,
        before=[ph for ph in p["photos"] if ph["kind"] == "before"],
        after=[ph for ph in p["photos"] if ph["kind"] == "after"],
        timeline=timeline,
        lat=lat,
        lon=lon,
        color=pages.STATUS_COLORS[p["status_group"]],
        tile_url=settings.tile_url,
        tile_attribution=settings.tile_attribution,
        errors=i18n.error_messages(locale),
    )
    return _html(body, locale, lang)


@router.get("/office", response_class=HTMLResponse)
def office_page(request: Request, session: SessionDep, lang: str | None = None) -> HTMLResponse:
    """Office staff: log in, see the queue as a list and on a map, move reports along."""
    locale = page_locale(request, lang)
    return _staff_page("office.html", locale, lang, config=_desk_config(session, locale))


@router.get("/triage", response_class=HTMLResponse)
def triage_page(request: Request, session: SessionDep, lang: str | None = None) -> HTMLResponse:
    """The city's triage team: each report the routing could not place, its candidates, routed in a key or two."""
    locale = page_locale(request, lang)
    return _staff_page("triage.html", locale, lang, config=_desk_config(session, locale))


@router.get("/admin", response_class=HTMLResponse)
def admin_page(request: Request, lang: str | None = None) -> HTMLResponse:
    """City administrators: layers (switch disaster layers), offices and staff, users, triage, boundaries."""
    locale = page_locale(request, lang)
    return _staff_page("admin.html", locale, lang, config=_staff_config(locale))


@router.get("/moderate", response_class=HTMLResponse)
def moderate_page(request: Request, lang: str | None = None) -> HTMLResponse:
    """Staff: hide reports and photos from the public, approve held photos, edit public descriptions."""
    locale = page_locale(request, lang)
    return _staff_page("moderate.html", locale, lang, config=_staff_config(locale))


@router.get("/reset-password", response_class=HTMLResponse)
def reset_password_page(request: Request, lang: str | None = None) -> HTMLResponse:
    """Staff choose a new password with the link an administrator had e-mailed to them."""
    locale = page_locale(request, lang)
    return _staff_page(
        "reset.html", locale, lang, config=_staff_config(locale) | {"errors": i18n.error_messages(locale)}
    )


@router.get("/docs", response_class=HTMLResponse)
def api_docs() -> HTMLResponse:
    """Swagger UI from our own origin, started by a script file (the CSP allows no inline script)."""
    return HTMLResponse(templates.get_template("docs.html").render(locale="en"))  # the API is documented in English
