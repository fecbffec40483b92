"""The words of the public dashboard and the public list, in Korean and English (kept with the feature)."""

from mapapp.stats.service import bucket_bounds

WORDS: dict[str, dict[str, str]] = {
    "stats_title": {"ko": "신고 처리 현황", "en": "How the city responds"},
    "stats_intro": {
        "ko": "접수된 신고를 시·구·부서별로 얼마나 빨리, 얼마나 처리했는지 보여 줍니다.",
        "en": "How many reports the city, each district and each office received and handled, and how fast.",
    },
    "map": {"ko": "지도", "en": "Map"},
    "list": {"ko": "신고 목록", "en": "All reports"},
    "scope": {"ko": "범위", "en": "Area or office"},
    "scope_city": {"ko": "시 전체", "en": "Whole city"},
    "districts": {"ko": "구", "en": "Districts"},
    "offices": {"ko": "부서", "en": "Offices"},
    "from": {"ko": "시작일", "en": "From"},
    "to": {"ko": "종료일", "en": "To"},
    "show": {"ko": "보기", "en": "Show"},
    "as_of": {"ko": "집계 시각", "en": "Figures as of"},
    "refreshed_every": {"ko": "분마다 새로 집계", "en": "minutes between updates"},
    "updating": {"ko": "지금 새로 집계하는 중", "en": "being updated now"},
    "received": {"ko": "접수", "en": "Received"},
    "acknowledged": {"ko": "확인", "en": "Acknowledged"},
    "resolved": {"ko": "해결", "en": "Resolved"},
    "closed": {"ko": "종결 (사유별)", "en": "Closed, by reason"},
    "open_at_end": {"ko": "기간 말 미처리", "en": "Still open at the end"},
    "open_at_start": {"ko": "기간 초 미처리", "en": "Open at the start"},
    "within_target": {"ko": "목표 시간 내 해결", "en": "Resolved within target"},
    "within_target_help": {
        "ko": "이 기간에 처리 목표 시각이 지난 신고 중 그 전에 해결된 비율",
        "en": "Of the reports whose response target passed in the period, the share resolved by then",
    },
    "time_to_acknowledge": {"ko": "확인까지 걸린 시간", "en": "Time to acknowledge"},
    "time_to_resolve": {"ko": "해결까지 걸린 시간", "en": "Time to resolve"},
    "median": {"ko": "중앙값", "en": "Median"},
    "p90": {"ko": "90% 이내", "en": "90th percentile"},
    "backlog": {"ko": "미처리 신고 추이", "en": "Open reports over time"},
    "date": {"ko": "날짜", "en": "Date"},
    "open": {"ko": "미처리", "en": "Open"},
    "by_layer": {"ko": "레이어별", "en": "By layer"},
    "by_category": {"ko": "분류별", "en": "By category"},
    "by_channel": {"ko": "접수 경로별", "en": "By channel"},
    "name": {"ko": "이름", "en": "Name"},
    "choropleth": {"ko": "구별 지도", "en": "Districts on the map"},
    "indicator": {"ko": "지표", "en": "Indicator"},
    "district": {"ko": "구", "en": "District"},
    "none": {"ko": "없음", "en": "none"},
    "no_data": {"ko": "자료 없음", "en": "no data"},
    "method": {
        "ko": "모든 수치는 신고와 처리 기록에서 계산합니다. 해결 후 다시 열린 신고는 해결로 세지 않습니다. "
        "이관된 신고는 지금 담당하는 부서의 것으로 셉니다. 시간은 접수 시각부터 잽니다. "
        "운영자가 숨긴 신고(광고, 욕설 등)는 공개 목록과 같이 세지 않습니다.",
        "en": "Every figure is computed from the reports and their timelines. A report reopened after being "
        "resolved does not count as resolved. A transferred report counts for the office that holds it now. "
        "Times run from when the report was filed. Reports hidden by moderation (spam, abuse) are not counted, "
        "as they are not listed.",
    },
    "channel_web": {"ko": "웹", "en": "Web"},
    "channel_api": {"ko": "API", "en": "API"},
    "channel_open311": {"ko": "Open311", "en": "Open311"},
    "channel_social": {"ko": "SNS", "en": "Social media"},
    "channel_phone": {"ko": "전화", "en": "Phone"},
    "channel_demo": {"ko": "예시", "en": "Demo"},
    "reason_duplicate": {"ko": "중복", "en": "Duplicate"},
    "reason_not_ours": {"ko": "소관 아님", "en": "Not ours"},
    "reason_cannot_fix": {"ko": "처리 불가", "en": "Cannot fix"},
    # The report page's response target
    "target": {"ko": "처리 목표", "en": "Response target"},
    "target_usually": {"ko": "보통 {n} 이내", "en": "usually within {n}"},
    "target_met": {"ko": "목표 안에 해결되었습니다", "en": "Resolved within the target"},
    "target_missed": {"ko": "목표보다 늦게 해결되었습니다", "en": "Resolved after the target"},
    "target_overdue": {"ko": "목표 시각이 지났습니다", "en": "The target has passed"},
    "target_due": {"ko": "목표 시각", "en": "Due by"},
    "target_closed": {"ko": "해결 없이 종결되었습니다", "en": "Closed without a fix"},
    # The public list
    "list_title": {"ko": "신고 목록", "en": "All reports"},
    "search": {"ko": "검색 (내용·장소)", "en": "Search (text or place)"},
    "layer": {"ko": "레이어", "en": "Layer"},
    "category": {"ko": "분류", "en": "Category"},
    "status": {"ko": "상태", "en": "Status"},
    "any": {"ko": "전체", "en": "Any"},
    "filed": {"ko": "접수일", "en": "Filed"},
    "place": {"ko": "장소", "en": "Place"},
    "next": {"ko": "다음 쪽", "en": "Next page"},
    "first": {"ko": "처음으로", "en": "First page"},
    "no_reports": {"ko": "조건에 맞는 신고가 없습니다.", "en": "No report matches."},
}

INDICATORS = ("received", "open_at_end", "resolved", "within_target_share")


def words(locale: str) -> dict[str, str]:
    """Every word above in one language."""
    return {key: value[locale] for key, value in WORDS.items()}


def hours_text(hours: float, locale: str) -> str:
    """ "3 days" / "3일", "12 hours" / "12시간": whole days in days."""
    if hours >= 24 and hours % 24 == 0:
        days = int(hours // 24)
        return f"{days}일" if locale == "ko" else f"{days} day{'s' if days != 1 else ''}"
    shown = f"{hours:g}"
    return f"{shown}시간" if locale == "ko" else f"{shown} hour{'s' if hours != 1 else ''}"


def bucket_text(bucket: dict[str, float | None] | None, locale: str) -> str:
    """A percentile's bucket in words: "12–16 h", "more than 1 year"."""
    if bucket is None:
        return WORDS["no_data"][locale]
    low, high = bucket["low_hours"], bucket["high_hours"]
    assert low is not None
    if high is None:
        return f"{hours_text(low, locale)} 이상" if locale == "ko" else f"{hours_text(low, locale)} or more"
    if low >= 48 and high % 24 == 0 and low % 24 == 0:
        return f"{int(low // 24)}~{int(high // 24)}일" if locale == "ko" else f"{int(low // 24)}–{int(high // 24)} days"
    unit = "시간" if locale == "ko" else " h"
    return f"{low:g}~{high:g}{unit}" if locale == "ko" else f"{low:g}–{high:g}{unit}"


__all__ = ["INDICATORS", "WORDS", "bucket_bounds", "bucket_text", "hours_text", "words"]
