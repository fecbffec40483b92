"""Korean and English: choosing the language of a request, and the words the pages use."""

from collections.abc import Mapping

LOCALES = ("ko", "en")
DEFAULT = "ko"


def choose_locale(query: str | None, cookie: str | None, accept_language: str | None, default: str = DEFAULT) -> str:
    """The query's `lang`, else the remembered cookie, else the browser's preference, else the city's default."""
    for candidate in (query, cookie):
        if candidate in LOCALES:
            return str(candidate)
    for part in (accept_language or "").split(","):
        tag = part.split(";")[0].strip().lower()[:2]
        if tag in LOCALES:
            return tag
    # A browser asking only for French or Spanish gets the city's own language, not Korean everywhere.
    return default if default in LOCALES else DEFAULT


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
    "address": {"ko": "주소 (동·구 이름 포함)", "en": "Address (with the dong or district)"},
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
    # Places (issue 9): the place a report lies in, the address typed, and how precisely it is known.
    "place": {"ko": "장소", "en": "Place"},
    "place_looking": {"ko": "장소를 찾는 중…", "en": "Finding the place…"},
    "place_outside": {"ko": "서비스 지역 밖의 위치입니다", "en": "This place is outside the city"},
    "typed_address": {"ko": "입력한 주소", "en": "Address given"},
    "precision_dong": {
        "ko": "동 이름으로 찾은 위치로, 정확한 지점이 아닙니다",
        "en": "Located by dong name, not exact",
    },
    "precision_district": {
        "ko": "구 이름으로 찾은 위치로, 정확한 지점이 아닙니다",
        "en": "Located by district name, not exact",
    },
    "precision_geocoder": {
        "ko": "입력한 주소를 지오코더로 찾은 위치로, 정확하지 않을 수 있습니다",
        "en": "Located from the address by a geocoder, may not be exact",
    },
    # Channel messages (issue 13): a landmark the message names, or no place at all.
    "received_via": {"ko": "받은 곳", "en": "Received via"},
    "precision_landmark": {
        "ko": "메시지에 적힌 장소(역·건물 등)로 찾은 위치입니다",
        "en": "Located by a landmark the message names",
    },
    "precision_city": {
        "ko": "메시지에 장소가 없어 위치를 모릅니다 (지도의 점은 시청 부근)",
        "en": "The message names no place: location unknown (the pin is only the city's)",
    },
    # Staff pages (issue 11): every workflow status, action, role, state and column in words, never a code.
    "wf_submitted": {"ko": "접수됨", "en": "Submitted"},
    "wf_routed": {"ko": "부서 배정됨", "en": "Routed"},
    "wf_triage": {"ko": "분류 대기", "en": "Awaiting triage"},
    "wf_acknowledged": {"ko": "확인함", "en": "Acknowledged"},
    "wf_assigned": {"ko": "담당자 지정됨", "en": "Assigned"},
    "wf_in_progress": {"ko": "처리 중", "en": "In progress"},
    "wf_resolved": {"ko": "해결", "en": "Resolved"},
    "wf_closed": {"ko": "종결", "en": "Closed"},
    "wf_reopened": {"ko": "다시 열림", "en": "Reopened"},
    "act_acknowledged": {"ko": "확인", "en": "Acknowledge"},
    "act_assigned": {"ko": "담당자 지정", "en": "Assign"},
    "act_in_progress": {"ko": "처리 시작", "en": "Start work"},
    "act_resolved": {"ko": "해결 완료", "en": "Resolve"},
    "log_out": {"ko": "로그아웃", "en": "Log out"},
    "logged_in_as": {"ko": "로그인 계정", "en": "Logged in as"},
    "counts": {"ko": "상태별 건수", "en": "Reports by status"},
    "any": {"ko": "전체", "en": "Any"},
    "yes": {"ko": "예", "en": "Yes"},
    "no": {"ko": "아니오", "en": "No"},
    "sort_age": {"ko": "오래된 순", "en": "Oldest first"},
    "sort_priority": {"ko": "기한 임박 순", "en": "Due first"},
    "sort_newest": {"ko": "최신 순", "en": "Newest first"},
    "report_no": {"ko": "신고 번호", "en": "Report"},
    "received": {"ko": "접수 시각", "en": "Received"},
    "times_in": {"ko": "시각 기준", "en": "Times in"},
    "state_active": {"ko": "활성", "en": "Active"},
    "state_inactive": {"ko": "비활성", "en": "Inactive"},
    "state_archived": {"ko": "보관됨", "en": "Archived"},
    "role_admin": {"ko": "관리자", "en": "Administrator"},
    "role_triage": {"ko": "분류 담당", "en": "Triage team"},
    "role_manager": {"ko": "부서 관리자", "en": "Office manager"},
    "role_staff": {"ko": "직원", "en": "Staff"},
    "level_city": {"ko": "시", "en": "City"},
    "level_district": {"ko": "구", "en": "District"},
    "level_dong": {"ko": "동", "en": "Dong"},
    "reason_triage_no_office": {"ko": "담당 부서 없음", "en": "No office for this category"},
    "reason_triage_outside_service_area": {"ko": "시 경계 밖", "en": "Outside the city"},
    "reason_triage_outside_districts": {"ko": "어느 구에도 속하지 않음", "en": "In no district"},
    "reason_triage_by": {"ko": "부서가 분류 담당으로 돌려보냄", "en": "Sent back to triage by an office"},
    "reason_manual_by": {"ko": "직접 배정", "en": "Routed by hand"},
    "reason": {"ko": "사유", "en": "Reason"},
    "hours": {"ko": "시간", "en": "h"},
    "email_label": {"ko": "이메일", "en": "E-mail"},
    "name_label": {"ko": "이름", "en": "Name"},
    "department": {"ko": "담당 업무", "en": "Department"},
    "staff_count": {"ko": "직원 수", "en": "Staff"},
    "role": {"ko": "역할", "en": "Role"},
    "active": {"ko": "사용 중", "en": "Active"},
    "level": {"ko": "단계", "en": "Level"},
    "vertices": {"ko": "꼭짓점", "en": "Vertices"},
    "parts": {"ko": "조각", "en": "Parts"},
    "boundary_sets": {"ko": "경계", "en": "Boundaries"},
    # The admin desk, moderation and password reset (issue 11).
    "create": {"ko": "만들기", "en": "Create"},
    "find": {"ko": "찾기", "en": "Find"},
    "save": {"ko": "저장", "en": "Save"},
    "edit": {"ko": "수정", "en": "Edit"},
    "enable": {"ko": "다시 사용", "en": "Enable"},
    "disable": {"ko": "사용 중지", "en": "Disable"},
    "saved": {"ko": "저장했습니다", "en": "Saved"},
    "new_office": {"ko": "새 부서", "en": "New office"},
    "new_user": {"ko": "새 사용자", "en": "New user"},
    "area": {"ko": "행정구역", "en": "Area"},
    "name_ko_label": {"ko": "이름 (한국어)", "en": "Name (Korean)"},
    "name_en_label": {"ko": "이름 (영어)", "en": "Name (English)"},
    "office_email": {"ko": "부서 이메일 (선택)", "en": "Office e-mail (optional)"},
    "no_office": {"ko": "부서 없음", "en": "No office"},
    "send_reset": {"ko": "비밀번호 재설정 메일", "en": "Send password reset"},
    "reset_sent": {"ko": "재설정 링크를 보냈습니다", "en": "Reset link sent"},
    "invite_help": {
        "ko": "새 사용자에게는 비밀번호를 정하는 링크가 이메일로 갑니다.",
        "en": "New users get an e-mail with a link to choose their password.",
    },
    "api_keys": {"ko": "API 키", "en": "API keys"},
    "api_key_for": {"ko": "사용처", "en": "Who it is for"},
    "created_at": {"ko": "만든 때", "en": "Created"},
    "revoke": {"ko": "폐기", "en": "Revoke"},
    "revoked": {"ko": "폐기됨", "en": "Revoked"},
    "key_once": {
        "ko": "이 키는 지금 한 번만 보입니다. 복사해 두세요:",
        "en": "This key is shown only now. Copy it:",
    },
    "triage_desk": {"ko": "분류 업무 화면", "en": "Triage desk"},
    "moderation": {"ko": "게시물 관리", "en": "Moderation"},
    "moderation_help": {
        "ko": "신고나 사진을 시민에게서 숨기거나, 승인을 기다리는 사진을 공개하거나, 공개 설명을 고칩니다.",
        "en": "Hide reports or photos from the public, approve held photos, edit public descriptions.",
    },
    "hold_photos": {"ko": "사진 승인 후 공개", "en": "Photos need approval"},
    "open_report": {"ko": "신고 열기", "en": "Open report"},
    "waiting": {"ko": "검토할 항목", "en": "To review"},
    "nothing_waiting": {"ko": "검토할 항목이 없습니다.", "en": "Nothing to review."},
    "mod_photo_held": {"ko": "승인 대기 사진", "en": "Photo awaiting approval"},
    "mod_photo_hidden": {"ko": "숨긴 사진", "en": "Hidden photo"},
    "mod_report_hidden": {"ko": "숨긴 신고", "en": "Hidden report"},
    "public_now": {"ko": "공개 중", "en": "Public"},
    "hidden_now": {"ko": "숨김", "en": "Hidden"},
    "held_now": {"ko": "승인 대기", "en": "Awaiting approval"},
    "hide": {"ko": "숨기기", "en": "Hide"},
    "unhide": {"ko": "다시 공개", "en": "Show again"},
    "approve": {"ko": "승인", "en": "Approve"},
    "hide_reason": {"ko": "숨기는 이유 (직원만 봄)", "en": "Reason (staff only)"},
    "public_description": {"ko": "공개 설명", "en": "Public description"},
    "original_description": {"ko": "시민이 쓴 원문 (비공개)", "en": "The citizen's original (private)"},
    "edit_reason": {"ko": "고친 이유 (직원만 봄)", "en": "Why (staff only)"},
    "moderation_log": {"ko": "관리 기록", "en": "Moderation log"},
    "ev_report_hidden": {"ko": "신고 숨김", "en": "Report hidden"},
    "ev_report_unhidden": {"ko": "신고 다시 공개", "en": "Report shown again"},
    "ev_photo_hidden": {"ko": "사진 숨김", "en": "Photo hidden"},
    "ev_photo_unhidden": {"ko": "사진 다시 공개", "en": "Photo shown again"},
    "ev_photo_approved": {"ko": "사진 승인", "en": "Photo approved"},
    "ev_description_edited": {"ko": "설명 수정", "en": "Description edited"},
    "reset_title": {"ko": "새 비밀번호 정하기", "en": "Choose a new password"},
    "new_password": {"ko": "새 비밀번호 (12자 이상)", "en": "New password (12 characters or more)"},
    "repeat_password": {"ko": "새 비밀번호 다시 입력", "en": "New password again"},
    "passwords_differ": {"ko": "두 비밀번호가 다릅니다.", "en": "The two passwords differ."},
    "password_changed": {
        "ko": "비밀번호를 바꿨습니다. 이제 로그인하세요.",
        "en": "Your password is changed. You can log in now.",
    },
    "reset_no_token": {
        "ko": "이 페이지는 이메일로 받은 링크로 여세요.",
        "en": "Open this page from the link in your e-mail.",
    },
    "me_too_title": {"ko": "같은 문제를 보셨나요?", "en": "Seen this problem too?"},
    "photos_title": {"ko": "사진", "en": "Photos"},
    "follow_email": {
        "ko": "처리 소식을 받을 이메일 (선택, 공개되지 않음)",
        "en": "E-mail for updates (optional, never shown)",
    },
    "following": {
        "ko": "처리될 때마다 이메일로 알려 드립니다. 메일의 링크로 언제든 수신을 끊을 수 있습니다.",
        "en": "We will e-mail you at each step. Every e-mail has a one-click unsubscribe link.",
    },
    # Department names are data: the `departments:` of layers/*.yaml (web.router adds them as dept_<slug>).
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
    "address_not_found": {
        "ko": "주소에서 동이나 구를 찾지 못했습니다. 지도에서 위치를 고르거나 좌표를 입력하세요.",
        "en": "No dong or district found in the address. Pick the place on the map or type its coordinates.",
    },
    "address_ambiguous": {
        "ko": "같은 이름의 동이 여러 곳에 있습니다. 구 이름을 함께 입력하세요 (예: 강남구 신사동).",
        "en": "Several places have this name. Add the district (e.g. Sinsa-dong, Gangnam-gu).",
    },
    # Every other code a server answer can carry (tests/core/test_error_codes.py keeps this table complete).
    "error": {"ko": "요청을 처리하지 못했습니다.", "en": "The request could not be handled."},
    "invalid_input": {"ko": "입력한 값이 올바르지 않습니다.", "en": "A value you entered is not valid."},
    "invalid_request": {
        "ko": "요청을 읽을 수 없습니다. 입력 내용을 확인하세요.",
        "en": "The request could not be read. Check what was sent.",
    },
    "not_found": {"ko": "찾는 내용이 없습니다.", "en": "Nothing was found here."},
    "conflict": {"ko": "지금 상태에서는 할 수 없는 일입니다.", "en": "This cannot be done in the current state."},
    "method_not_allowed": {"ko": "이 주소에서는 허용되지 않는 요청입니다.", "en": "This request is not allowed here."},
    "payload_too_large": {"ko": "보낸 내용이 너무 큽니다.", "en": "What was sent is too large."},
    "rate_limited": {
        "ko": "요청이 너무 많습니다. 잠시 뒤에 다시 시도하세요.",
        "en": "Too many requests. Try again in a moment.",
    },
    "unsubscribe_link_unknown": {
        "ko": "이 수신 거부 링크를 찾을 수 없습니다. 받은 이메일의 링크를 그대로 여세요.",
        "en": "This unsubscribe link is not known. Open the link exactly as it came in the e-mail.",
    },
    "layer_not_found": {"ko": "그런 지도 레이어가 없습니다.", "en": "There is no such map layer."},
    "busy": {
        "ko": "지금은 요청이 많습니다. 잠시 뒤에 다시 시도하세요.",
        "en": "The service is busy. Try again shortly.",
    },
    "database_unavailable": {
        "ko": "일시적으로 서비스를 이용할 수 없습니다. 잠시 뒤에 다시 시도하세요.",
        "en": "The service is briefly unavailable. Try again shortly.",
    },
    "internal_error": {
        "ko": "서버 오류가 발생했습니다. 문제가 계속되면 알려 주세요.",
        "en": "Something went wrong on our side. Tell us if it keeps happening.",
    },
    "unknown_layer": {"ko": "지도 레이어를 다시 선택하세요.", "en": "Choose the map layer again."},
    "report_not_found": {"ko": "해당 신고를 찾을 수 없습니다.", "en": "This report cannot be found."},
    "report_closed": {
        "ko": "이미 종결된 신고입니다. 문제가 다시 생겼다면 새로 신고해 주세요.",
        "en": "This report is closed. If the problem is back, please file a new report.",
    },
    "idempotency_key_reused": {
        "ko": "같은 요청 키가 다른 내용의 신고에 이미 쓰였습니다.",
        "en": "This request key was already used for a different report.",
    },
    "empty_photo": {"ko": "빈 사진 파일입니다.", "en": "The photo file is empty."},
    "invalid_encoding": {
        "ko": "글자를 읽을 수 없습니다. UTF-8로 보내 주세요.",
        "en": "The text could not be read. Send it as UTF-8.",
    },
    "not_authenticated": {"ko": "로그인이 필요합니다.", "en": "Please log in."},
    "forbidden": {"ko": "이 작업을 할 권한이 없습니다.", "en": "You are not allowed to do this."},
    "transition_not_allowed": {
        "ko": "지금 상태에서는 이 단계로 옮길 수 없습니다.",
        "en": "The report cannot move to this step from its current status.",
    },
    "duplicate_in_another_office": {
        "ko": "다른 부서의 신고와 중복 처리할 수 없습니다.",
        "en": "A report cannot be closed as a duplicate of another office's report.",
    },
    "invalid_reopen_token": {
        "ko": "다시 열기 링크가 올바르지 않거나 만료되었습니다.",
        "en": "The reopen link is not valid or has expired.",
    },
    "unknown_office": {"ko": "그런 부서가 없습니다.", "en": "There is no such office."},
    "unknown_jurisdiction": {"ko": "그런 행정구역이 없습니다.", "en": "There is no such area."},
    "jurisdiction_level_conflict": {
        "ko": "행정구역의 단계(시·구·동)가 맞지 않습니다.",
        "en": "The area's level (city, district, dong) does not match.",
    },
    "invalid_boundary_file": {
        "ko": "경계 파일을 읽을 수 없거나 잘못된 도형이 있습니다.",
        "en": "The boundary file cannot be read or has invalid shapes.",
    },
    "invalid_layer_file": {
        "ko": "레이어 파일의 형식이 올바르지 않습니다.",
        "en": "A layer file does not have the expected form.",
    },
    "bad_request": {"ko": "Open311 요청이 올바르지 않습니다.", "en": "The Open311 request is not valid."},
    "invalid_api_key": {"ko": "API 키가 없거나 올바르지 않습니다.", "en": "The API key is missing or not valid."},
    "backup_failed": {"ko": "백업을 만들지 못했습니다.", "en": "The backup could not be made."},
    "invalid_email": {
        "ko": "이메일 주소 형식이 올바르지 않습니다 (예: name@example.com).",
        "en": "This is not an e-mail address (like name@example.com).",
    },
    "invalid_reset_token": {
        "ko": "비밀번호 재설정 링크가 올바르지 않거나 만료되었습니다. 관리자에게 새 링크를 요청하세요.",
        "en": "The password-reset link is not valid or has expired. Ask an administrator for a new one.",
    },
    "restore_refused": {
        "ko": "이 데이터베이스에는 복원할 수 없습니다.",
        "en": "The backup cannot be restored into this database.",
    },
    "stats_scope_not_found": {"ko": "그런 구나 부서가 없습니다.", "en": "There is no such district or office."},
    "invalid_stats_period": {
        "ko": "기간이 올바르지 않습니다 (최대 731일).",
        "en": "The period is not valid (731 days at most).",
    },
    "alert_area_required": {
        "ko": "구를 고르거나, 지점(위도·경도)과 반경을 입력하세요. 둘 중 하나만 고르세요.",
        "en": "Choose a district, or give a point (latitude, longitude) and a radius: one of the two.",
    },
    "alert_link_unknown": {
        "ko": "이 알림 링크를 찾을 수 없거나 만료되었습니다. 받은 이메일의 링크를 그대로 여세요.",
        "en": "This alert link is not known or has expired. Open the link exactly as it came in the e-mail.",
    },
    "no_active_alert": {
        "ko": "지금 활성화된 재난 레이어가 아니어서 경보가 없습니다.",
        "en": "This is not a disaster layer that is active now: there is no alert.",
    },
    # Channel intake (issue 13).
    "invalid_channel_key": {
        "ko": "채널 API 키가 없거나 올바르지 않습니다.",
        "en": "The channel's API key is missing or not valid.",
    },
    "invalid_message": {
        "ko": "메시지 형식이 올바르지 않습니다. 아무것도 저장하지 않았습니다.",
        "en": "A message is not in the expected form. Nothing was stored.",
    },
    "batch_too_large": {
        "ko": "한 번에 보낼 수 있는 메시지 수를 넘었습니다.",
        "en": "Too many messages in one request.",
    },
    "channel_mismatch": {
        "ko": "메시지의 채널이 API 키의 채널과 다릅니다.",
        "en": "The message's channel is not the channel of the API key.",
    },
    "unknown_channel": {"ko": "그런 채널이 없습니다.", "en": "There is no such channel."},
    "channel_exists": {"ko": "같은 이름의 채널이 이미 있습니다.", "en": "A channel with this name exists already."},
    "no_service_area": {
        "ko": "시 경계가 없어 메시지를 받을 수 없습니다.",
        "en": "No city boundary is loaded, so messages cannot be taken.",
    },
    "invalid_gazetteer_file": {
        "ko": "지명 사전 파일을 읽을 수 없거나 잘못된 줄이 있습니다.",
        "en": "The gazetteer file cannot be read or has invalid rows.",
    },
    "intake_message_not_found": {
        "ko": "채널 메시지로 들어온 신고가 아닙니다.",
        "en": "This report did not come from a channel message.",
    },
}


def error_messages(locale: str) -> dict[str, str]:
    """Error code -> text in one language."""
    return {code: value[locale] for code, value in ERRORS.items()}
