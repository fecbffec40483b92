"""Korean and English: choosing the language of a request, and the words the pages use."""

from collections.abc import Mapping

LOCALES = ("ko", "en")
DEFAULT = "ko"


def choose_locale(query: str | None, cookie: str | None, accept_language: str | None) -> str:
    """The query's `lang`, else the remembered cookie, else the browser's preference, else Korean."""
    for candidate in (query, cookie):
        if candidate in LOCALES:
            return str(candidate)
    for part in (accept_language or "").split(","):
        tag = part.split(";")[0].strip().lower()[:2]
        if tag in LOCALES:
            return tag
    return DEFAULT


MESSAGES: Mapping[str, Mapping[str, str]] = {
    "title": {"ko": "우리동네 위험 신고 지도", "en": "Community hazard map"},
    "report": {"ko": "신고하기", "en": "Report a problem"},
    "layers": {"ko": "지도 레이어", "en": "Map layers"},
    "boundaries": {"ko": "구 경계", "en": "District boundaries"},
    "legend": {"ko": "처리 상태", "en": "Status"},
    "status_open": {"ko": "접수", "en": "Open"},
    "status_in_progress": {"ko": "처리 중", "en": "In progress"},
    "status_resolved": {"ko": "해결", "en": "Resolved"},
    "status_closed": {"ko": "종결", "en": "Closed"},
    "show_old": {"ko": "오래된 종결 신고 보기", "en": "Show old closed reports"},
    "layer": {"ko": "레이어", "en": "Layer"},
    "category": {"ko": "분류", "en": "Category"},
    "description": {"ko": "내용", "en": "Description"},
    "photos": {"ko": "사진 (최대 5장)", "en": "Photos (up to 5)"},
    "email": {"ko": "이메일 (선택, 공개되지 않음)", "en": "E-mail (optional, never shown)"},
    "phone": {"ko": "전화번호 (선택, 공개되지 않음)", "en": "Phone (optional, never shown)"},
    "where": {"ko": "위치", "en": "Location"},
    "where_help": {
        "ko": "지도를 누르거나, 내 위치를 쓰거나, 위치 정보가 있는 사진을 고르거나, 좌표나 주소를 입력하세요.",
        "en": "Tap the map, use your location, choose a photo with GPS, or type coordinates or an address.",
    },
    "lat": {"ko": "위도", "en": "Latitude"},
    "lon": {"ko": "경도", "en": "Longitude"},
    "address": {"ko": "주소 (구 이름 포함)", "en": "Address (with the district)"},
    "use_location": {"ko": "내 위치 사용", "en": "Use my location"},
    "submit": {"ko": "신고 보내기", "en": "Send report"},
    "cancel": {"ko": "닫기", "en": "Close"},
    "sending": {"ko": "보내는 중…", "en": "Sending…"},
    "thanks": {"ko": "신고가 접수되었습니다.", "en": "Thank you, your report is in."},
    "track": {"ko": "처리 과정 보기", "en": "Follow your report"},
    "nearby_title": {"ko": "이미 신고되었나요? '나도' 를 눌러 주세요", "en": "Already reported? Add 'me too'"},
    "me_too": {"ko": "나도 봤어요", "en": "Me too"},
    "me_too_done": {"ko": "함께 신고했습니다", "en": "Added, thank you"},
    "supporters": {"ko": "명이 함께 신고", "en": "people reported this"},
    "details": {"ko": "자세히", "en": "Details"},
    "age_days": {"ko": "일 전", "en": "days ago"},
    "office": {"ko": "담당 부서", "en": "Responsible office"},
    "why": {"ko": "배정 이유", "en": "Why this office"},
    "timeline": {"ko": "처리 과정", "en": "Timeline"},
    "answer": {"ko": "답변", "en": "Answer"},
    "after_photo": {"ko": "처리 후 사진", "en": "After"},
    "triage": {"ko": "담당 부서 확인 중", "en": "Being assigned to an office"},
    "language": {"ko": "English", "en": "한국어"},
    "photo_alt": {"ko": "신고 사진", "en": "Photo of the reported problem"},
    "no_map": {"ko": "지도 없이 신고하기", "en": "Report without the map"},
    "pin_placed": {"ko": "위치가 지정되었습니다", "en": "Location set"},
    "choose": {"ko": "선택하세요", "en": "Choose"},
    "error": {"ko": "보내지 못했습니다", "en": "Could not send"},
    "office_title": {"ko": "부서 업무", "en": "Office queue"},
    "log_in": {"ko": "로그인", "en": "Log in"},
    "password": {"ko": "비밀번호", "en": "Password"},
    "office_slug": {"ko": "부서", "en": "Office"},
    "show": {"ko": "보기", "en": "Show"},
    "status": {"ko": "상태", "en": "Status"},
    "actions": {"ko": "처리", "en": "Actions"},
    "assignee": {"ko": "담당자 이메일", "en": "Assignee e-mail"},
    "answer_help": {"ko": "시민에게 보낼 답변", "en": "Answer to the citizen"},
    "min_age": {"ko": "최소 경과 시간(시간)", "en": "At least hours old"},
    "overdue": {"ko": "기한 초과", "en": "Overdue"},
    "sort": {"ko": "정렬", "en": "Sort"},
    "admin_title": {"ko": "시 관리자", "en": "City administration"},
    "activate": {"ko": "활성화", "en": "Activate"},
    "deactivate": {"ko": "비활성화", "en": "Deactivate"},
    "banner_ko": {"ko": "안내 문구 (한국어)", "en": "Banner (Korean)"},
    "banner_en": {"ko": "안내 문구 (영어)", "en": "Banner (English)"},
    "until": {"ko": "종료 시각", "en": "Ends at"},
    "offices": {"ko": "부서와 직원", "en": "Offices and staff"},
    "users": {"ko": "사용자", "en": "Users"},
    "triage_queue": {"ko": "분류 대기열", "en": "Triage queue"},
    "route_to": {"ko": "배정", "en": "Route"},
    "reopen_title": {"ko": "아직 해결되지 않았나요?", "en": "Not fixed after all?"},
    "reopen_help": {
        "ko": "신고할 때 쓴 이메일을 입력하면 이 신고를 다시 여는 링크를 보내 드립니다.",
        "en": "Enter the e-mail you reported with and we will send you a link to reopen this report.",
    },
    "reopen_contact": {"ko": "신고할 때 쓴 이메일", "en": "The e-mail you reported with"},
    "reopen_send_link": {"ko": "링크 보내기", "en": "Send me the link"},
    "reopen_reason": {"ko": "무엇이 아직 문제인가요?", "en": "What is still wrong?"},
    "reopen": {"ko": "다시 열기", "en": "Reopen the report"},
    "reopen_done": {"ko": "신고를 다시 열었습니다. 담당 부서에 전달됩니다.", "en": "Reopened: the office is told."},
    "reopen_link_sent": {
        "ko": "이 주소로 신고하셨다면 다시 여는 링크를 보냈습니다.",
        "en": "If this address filed the report, we have sent it a link.",
    },
}


def messages(locale: str) -> dict[str, str]:
    """Every page word in one language."""
    return {key: value[locale] for key, value in MESSAGES.items()}


# Server error codes in the citizen's language; the server's own message is English.
ERRORS: Mapping[str, Mapping[str, str]] = {
    "missing_field": {"ko": "필수 항목입니다.", "en": "This is required."},
    "unknown_category": {"ko": "분류를 다시 선택하세요.", "en": "Choose the category again."},
    "category_not_in_layer": {"ko": "이 레이어의 분류가 아닙니다.", "en": "That category is not in this layer."},
    "layer_inactive": {"ko": "지금은 이 레이어에 신고할 수 없습니다.", "en": "This layer is not taking reports now."},
    "invalid_coordinates": {"ko": "좌표가 올바르지 않습니다.", "en": "The coordinates are not valid."},
    "outside_service_area": {"ko": "서비스 지역 밖의 위치입니다.", "en": "This place is outside the city."},
    "location_required": {
        "ko": "지도에서 위치를 고르거나 좌표·주소를 입력하세요.",
        "en": "Pick the place on the map or type coordinates or an address.",
    },
    "description_too_long": {
        "ko": "내용이 너무 깁니다 (4,000자까지).",
        "en": "The description is too long (4,000 max).",
    },
    "too_many_photos": {"ko": "사진은 5장까지 올릴 수 있습니다.", "en": "At most 5 photos."},
    "invalid_photo": {"ko": "사진을 읽을 수 없습니다.", "en": "This photo cannot be read."},
    "unsupported_media_type": {
        "ko": "JPEG, PNG, WebP, HEIC 사진만 올릴 수 있습니다.",
        "en": "Photos must be JPEG, PNG, WebP or HEIC.",
    },
    "photo_too_large": {"ko": "사진이 너무 큽니다.", "en": "The photo is too large."},
    "invalid_contact": {"ko": "연락처 형식이 올바르지 않습니다.", "en": "This contact detail is not valid."},
    "network": {"ko": "연결에 실패했습니다. 다시 시도하세요.", "en": "The connection failed. Try again."},
}


def error_messages(locale: str) -> dict[str, str]:
    """Error code -> text in one language."""
    return {code: value[locale] for code, value in ERRORS.items()}
