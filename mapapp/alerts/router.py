"""HTTP for e-mail alerts: the subscribe page and API, confirmation, one-click unsubscribe, the preview."""

import math
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from mapapp.alerts import service
from mapapp.core import i18n
from mapapp.core.db import transaction
from mapapp.core.deps import SessionDep, page_locale
from mapapp.core.errors import DomainError, InvalidInput
from mapapp.core.requests import read_json_object
from mapapp.ratelimit.deps import limit_by_client
from mapapp.reports.forms import read_urlencoded
from mapapp.web.router import templates

api = APIRouter(prefix="/api/alerts", tags=["alerts"])
pages = APIRouter(prefix="/alerts", include_in_schema=False)
FIELDS = ("email", "locale", "district", "lat", "lon", "radius", "layer", "category")

WORDS: dict[str, dict[str, str]] = {
    "title": {"ko": "지역 알림과 피드", "en": "Alerts and feeds for an area"},
    "intro": {
        "ko": "한 구나 지점 주변에 새 신고가 들어오면 이메일로 알려 드립니다. "
        "여러 건이 한꺼번에 들어오면 한 통으로 모아 보냅니다.",
        "en": "Get an e-mail when new reports arrive in a district or around a point; "
        "several at once come as one digest.",
    },
    "email": {"ko": "이메일 (공개되지 않음)", "en": "E-mail (never shown)"},
    "area": {"ko": "지역", "en": "Area"},
    "by_district": {"ko": "구 전체", "en": "A whole district"},
    "by_point": {"ko": "지점 주변", "en": "Around a point"},
    "district": {"ko": "구", "en": "District"},
    "radius": {"ko": "반경 (m)", "en": "Radius (m)"},
    "what": {"ko": "레이어 또는 분류 (선택)", "en": "Layer or category (optional)"},
    "any": {"ko": "모두", "en": "All"},
    "subscribe": {"ko": "알림 신청", "en": "Subscribe"},
    "sent": {
        "ko": "확인 메일을 보냈습니다. 메일의 링크를 열면 알림이 시작됩니다.",
        "en": "We sent a confirmation e-mail: alerts start once you open its link.",
    },
    "feeds": {"ko": "피드와 공개 데이터", "en": "Feeds and open data"},
    "feeds_help": {
        "ko": "피드 리더에 아래 주소를 넣으세요. "
        "layer, category, district, office, lat·lon·radius 로 범위를 고를 수 있습니다.",
        "en": "Add these to a feed reader; narrow them with layer, category, district, office, or lat, lon and radius.",
    },
    "city_feed": {"ko": "도시 전체 새 신고·처리 완료 (Atom)", "en": "Whole city: new and resolved reports (Atom)"},
    "district_feed": {"ko": "선택한 구의 피드", "en": "Feed of the chosen district"},
    "csv": {"ko": "신고 공개 데이터 (CSV)", "en": "Open data: reports (CSV)"},
    "geojson": {"ko": "신고 공개 데이터 (GeoJSON)", "en": "Open data: reports (GeoJSON)"},
    "back": {"ko": "지도", "en": "Map"},
    "confirm_title": {"ko": "알림 신청 확인", "en": "Confirm your alert"},
    "confirm_ask": {"ko": "이 지역의 새 신고 알림을 받으시겠습니까?", "en": "Start e-mail alerts for this area?"},
    "confirm_button": {"ko": "알림 받기", "en": "Start alerts"},
    "confirmed": {
        "ko": "알림이 시작되었습니다. 모든 알림 메일에 한 번에 끊는 링크가 있습니다.",
        "en": "Alerts are on. Every alert has a link that stops them in one click.",
    },
    "stop_title": {"ko": "알림 끊기", "en": "Stop alerts"},
    "stop_ask": {"ko": "이 지역 알림을 더 받지 않으시겠습니까?", "en": "Stop these e-mail alerts?"},
    "stop_button": {"ko": "알림 그만 받기", "en": "Stop alerts"},
    "stopped": {"ko": "이 알림은 더 보내지 않습니다.", "en": "You will get no more of these alerts."},
}


def _words(locale: str) -> dict[str, str]:
    return {key: value[locale] for key, value in WORDS.items()}


def _number(fields: dict[str, Any], name: str) -> float | None:
    value = fields.get(name)
    if value is None or value == "":
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise InvalidInput(f"{name} must be a number", field=name) from None
    if not math.isfinite(number):
        raise InvalidInput(f"{name} must be a finite number", field=name)
    return number


def _text(fields: dict[str, Any], name: str) -> str | None:
    value = fields.get(name)
    if value is not None and not isinstance(value, str):
        raise InvalidInput(f"{name} must be text", field=name)
    return value or None


def _draft(fields: dict[str, Any], locale: str) -> service.SubscriptionDraft:
    chosen = _text(fields, "locale")
    return service.SubscriptionDraft(
        email=_text(fields, "email"),
        locale=chosen if chosen in i18n.LOCALES else locale,
        district=_text(fields, "district") if fields.get("area", "district") == "district" else None,
        lat=_number(fields, "lat") if fields.get("area", "point") == "point" else None,
        lon=_number(fields, "lon") if fields.get("area", "point") == "point" else None,
        radius=_number(fields, "radius") if fields.get("area", "point") == "point" else None,
        layer=_text(fields, "layer"),
        category=_text(fields, "category"),
    )


def _subscribe(draft: service.SubscriptionDraft) -> None:
    with transaction() as session:
        service.subscribe(session, draft=draft)


SUBSCRIBE_DOC: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {
                "schema": {
                    "type": "object",
                    "required": ["email"],
                    "properties": {
                        "email": {"type": "string", "description": "private: never shown"},
                        "locale": {"type": "string", "enum": ["ko", "en"]},
                        "district": {"type": "string", "description": "a district code; or lat, lon and radius"},
                        "lat": {"type": "number"},
                        "lon": {"type": "number"},
                        "radius": {"type": "number", "description": "metres, 1 to 5000"},
                        "layer": {"type": "string"},
                        "category": {"type": "string"},
                    },
                },
                "example": {"email": "citizen@example.org", "district": "11440", "layer": "flood", "locale": "ko"},
            }
        },
    },
    "responses": {
        "202": {"description": "A confirmation e-mail is on its way (the same answer whether or not it was sent)"},
        "422": {"description": "invalid_contact, alert_area_required, unknown_layer, unknown_category, invalid_input"},
        "404": {"description": "unknown_jurisdiction"},
        "429": {"description": "rate_limited"},
    },
}


@api.post(
    "",
    status_code=202,
    summary="Subscribe to e-mail alerts for an area",
    openapi_extra=SUBSCRIBE_DOC,
    dependencies=[limit_by_client("submit", "subscriptions")],
)
async def subscribe(request: Request) -> JSONResponse:
    """A district, or a point and a radius, and optionally a layer or a category. Nothing is sent until the
    address confirms with the link e-mailed to it; each alert carries a one-click unsubscribe (RFC 8058)."""
    fields = read_json_object(await request.body())
    draft = _draft(fields, page_locale(request, None))
    await run_in_threadpool(_subscribe, draft)
    return JSONResponse({"status": "confirmation_sent"}, status_code=202)


@api.get("/preview", summary="What an alert for an area looks like")
def preview(
    request: Request,
    session: SessionDep,
    district: str | None = None,
    lat: float | None = None,
    lon: float | None = None,
    radius: Annotated[float | None, Query(description="metres")] = None,
    layer: str | None = None,
    category: str | None = None,
    lang: str | None = None,
) -> dict[str, str]:
    """The newest reports in the area as the digest e-mail would show them (public fields only)."""
    draft = service.SubscriptionDraft(
        email=None,
        locale=page_locale(request, lang),
        district=district,
        lat=lat,
        lon=lon,
        radius=radius,
        layer=layer,
        category=category,
    )
    return service.preview(session, draft=draft)


# --- pages -----------------------------------------------------------------------------------------


def _render(
    session: Session, locale: str, *, values: dict[str, Any], status: int = 200, message: str = "", error: str = ""
) -> HTMLResponse:
    body = templates.get_template("alerts.html").render(
        locale=locale,
        other_locale="en" if locale == "ko" else "ko",
        w=_words(locale),
        t=i18n.messages(locale),
        values=values,
        message=message,
        error=error,
        **service.form_choices(session, locale=locale),
    )
    return HTMLResponse(body, status_code=status)


@pages.get("", response_class=HTMLResponse)
def alerts_page(request: Request, session: SessionDep, lang: str | None = None) -> HTMLResponse:
    """The subscribe form and the feeds, in Korean or English; fields may be pre-filled from the query."""
    locale = page_locale(request, lang)
    values = {k: v for k, v in request.query_params.items() if k in (*FIELDS, "area")}
    response = _render(session, locale, values=values)
    if lang in i18n.LOCALES:
        response.set_cookie("lang", locale, max_age=365 * 86400, samesite="lax")
    return response


@pages.post("", response_class=HTMLResponse, dependencies=[limit_by_client("submit", "subscriptions")])
async def subscribe_form(request: Request, lang: str | None = None) -> HTMLResponse:
    """The form's POST: 202 with "check your e-mail", or the form again with the problem (422/404)."""
    fields = read_urlencoded(await request.body())
    locale = fields.get("locale") if fields.get("locale") in i18n.LOCALES else page_locale(request, lang)
    assert locale is not None

    def work() -> HTMLResponse:
        try:
            _subscribe(_draft(fields, locale))
        except DomainError as exc:
            with transaction() as session:
                message = i18n.error_messages(locale).get(exc.code, exc.message)
                return _render(session, locale, values=fields, status=exc.status, error=message)
        with transaction() as session:
            return _render(session, locale, values={}, status=202, message=WORDS["sent"][locale])

    return await run_in_threadpool(work)


def _action_page(locale: str, title: str, body: str) -> HTMLResponse:
    page = templates.get_template("alerts_action.html").render(locale=locale, title=title, body=body, w=_words(locale))
    return HTMLResponse(page)


@pages.get("/confirm/{token}", response_class=HTMLResponse)
def confirm_page(session: SessionDep, token: str) -> HTMLResponse:
    """A page with one button: GET changes nothing (mail scanners follow links)."""
    locale = service.confirm_locale(session, token=token)
    return _action_page(locale, WORDS["confirm_title"][locale], "confirm")


@pages.post("/confirm/{token}", response_class=HTMLResponse)
def confirm(session: SessionDep, token: str) -> HTMLResponse:
    """Confirm: alerts start with the reports that arrive from now on."""
    locale = service.confirm(session, token=token)
    return _action_page(locale, WORDS["confirm_title"][locale], "confirmed")


@pages.get("/unsubscribe/{token}", response_class=HTMLResponse)
def unsubscribe_page(session: SessionDep, token: str) -> HTMLResponse:
    """A page with one button; GET changes nothing."""
    locale = service.unsubscribe_locale(session, token=token)
    return _action_page(locale, WORDS["stop_title"][locale], "stop")


@pages.post("/unsubscribe/{token}", response_class=HTMLResponse)
def unsubscribe(session: SessionDep, token: str) -> HTMLResponse:
    """One-click unsubscribe (RFC 8058: mail clients POST `List-Unsubscribe=One-Click` here)."""
    locale = service.unsubscribe(session, token=token)
    return _action_page(locale, WORDS["stop_title"][locale], "stopped")
