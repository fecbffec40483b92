"""The demo's offices: the city's departments and, in every district, the divisions that take reports.

Names follow the way Seoul and its districts name their divisions (과), which differ from district to
district for the same job; they are written for the demo, not copied from any directory.
"""

CITY = ("11", "서울특별시", "Seoul")

# department → (Korean, English) of the city's division that the layers' city-level categories name.
CITY_DIVISIONS = {
    "traffic": ("교통운영과", "Traffic Operations Division"),
    "water": ("하수관리과", "Sewerage Management Division"),
    "transit": ("버스정책과", "Bus Policy Division"),
    "safety": ("재난안전정책과", "Disaster and Safety Policy Division"),
    "roads": ("도로관리과", "Road Management Division"),
}

# The ways districts name the division for each department (Korean, English).
_ROADS = {
    "건설": ("건설관리과", "Road Management Division"),
    "도로": ("도로과", "Roads Division"),
    "도로관리": ("도로관리과", "Road Management Division"),
    "토목": ("토목과", "Civil Engineering Division"),
}
_SANITATION = {
    "청소행정": ("청소행정과", "Sanitation Administration Division"),
    "자원순환": ("자원순환과", "Resource Recycling Division"),
    "청소": ("청소과", "Sanitation Division"),
}
_SAFETY = {
    "안전재난": ("안전재난과", "Safety and Disaster Management Division"),
    "재난안전": ("재난안전과", "Disaster Safety Division"),
    "안전총괄": ("안전총괄과", "General Safety Division"),
}

# District code → the name its roads, sanitation and safety divisions go by.
_DISTRICT_STYLE = {
    "11110": ("토목", "청소행정", "안전재난"),  # 종로구
    "11140": ("건설", "청소행정", "안전총괄"),  # 중구
    "11170": ("토목", "청소행정", "안전재난"),  # 용산구
    "11200": ("건설", "청소행정", "안전총괄"),  # 성동구
    "11215": ("건설", "청소행정", "안전재난"),  # 광진구
    "11230": ("도로", "청소행정", "안전재난"),  # 동대문구
    "11260": ("건설", "청소행정", "재난안전"),  # 중랑구
    "11290": ("건설", "자원순환", "안전재난"),  # 성북구
    "11305": ("건설", "청소행정", "재난안전"),  # 강북구
    "11320": ("건설", "청소행정", "안전재난"),  # 도봉구
    "11350": ("건설", "자원순환", "안전재난"),  # 노원구
    "11380": ("도로", "자원순환", "안전재난"),  # 은평구
    "11410": ("건설", "청소행정", "안전재난"),  # 서대문구
    "11440": ("건설", "자원순환", "안전재난"),  # 마포구
    "11470": ("도로", "청소행정", "안전재난"),  # 양천구
    "11500": ("도로", "청소행정", "안전재난"),  # 강서구
    "11530": ("도로", "청소행정", "안전재난"),  # 구로구
    "11545": ("도로", "청소행정", "안전재난"),  # 금천구
    "11560": ("건설", "청소", "안전재난"),  # 영등포구
    "11590": ("도로관리", "청소행정", "안전재난"),  # 동작구
    "11620": ("도로", "청소행정", "안전재난"),  # 관악구
    "11650": ("도로", "청소행정", "재난안전"),  # 서초구
    "11680": ("도로관리", "청소행정", "재난안전"),  # 강남구
    "11710": ("도로", "청소행정", "안전재난"),  # 송파구
    "11740": ("도로관리", "청소행정", "안전재난"),  # 강동구
}

DISTRICT_DEPARTMENTS = ("roads", "sanitation", "safety")

# One district has no sanitation office, so the demo shows what triage looks like.
MISSING_OFFICE = ("11140", "sanitation")


def district_division(code: str, department: str) -> tuple[str, str]:
    """The (Korean, English) name of a district's division for a department, without the district."""
    roads, sanitation, safety = _DISTRICT_STYLE[code]
    table = {"roads": _ROADS[roads], "sanitation": _SANITATION[sanitation], "safety": _SAFETY[safety]}
    return table[department]
