"""Routing reasons read as one language: the Korean text carries no English slug or name."""

import re

from mapapp.routing.service import REASONS, render_reason

PARAMS = {
    "district_ko": "마포구",
    "district_en": "Mapo-gu",
    "district_code": "11440",
    "city_ko": "서울특별시",
    "city_en": "Seoul",
    "jurisdiction_ko": "마포구",
    "jurisdiction_en": "Mapo-gu",
    "category_ko": "가로등 고장",
    "category_en": "Streetlight out",
    "department": "roads",
    "level": "district",
    "level_ko": "구",
    "office_ko": "마포구 건설관리과",
    "office_en": "Mapo-gu Roads",
    "distance_m": 12,
    "tolerance_m": 50,
    "reason": "확인함",
}


def test_korean_reasons_have_no_english_words():
    for code in REASONS:
        text = render_reason(code, PARAMS, "ko")
        assert not re.search(r"[A-Za-z]{3,}", text), (code, text)
        assert "roads" in render_reason(code, PARAMS, "en") or "{department}" not in REASONS[code]["en"]
