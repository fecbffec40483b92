"""Writes mapapp/intake/data/labelled.jsonl: the labelled channel messages (python tests/intake/make_labelled.py).

Every problem phrase, place phrase and whole message below was written for this project, in the way
people post to a city's accounts: typos, slang, no spacing or too much, hashtags, emoji, two problems
in one message, no place at all, venting and sarcasm with no problem. Messages are composed from them
with a fixed seed, so the file is the same each time. The split is by phrase: a phrase in the test part
never appears in the training part, so the test measures words the model has not seen together.
"""

import hashlib
import json
import random
from pathlib import Path

OUT = Path(__file__).resolve().parents[2] / "mapapp" / "intake" / "data" / "labelled.jsonl"

# category -> problem phrases (Korean, English)
PHRASES: dict[str, tuple[list[str], list[str]]] = {
    "streetlight-out": (
        [
            "가로등이 며칠째 안 켜져요",
            "골목 가로등 나갔어요 밤에 너무 어두워요",
            "보안등 불이 깜빡깜빡 거려요",
            "가로등 고장난지 일주일 넘었는데 언제 고쳐주나요",
            "밤에 골목이 깜깜해서 애들 다니기 무서워요",
            "가로 등이 꺼져있음ㅠㅠ",
            "가로등불 나감 빨리 좀요",
        ],
        [
            "the streetlight has been out for days",
            "street lamp keeps flickering all night",
            "lights out on our whole block, pitch dark at night",
            "streetlite broken again, cant see anything walking home",
            "lamp post by the alley is dead",
        ],
    ),
    "traffic-signal-fault": (
        [
            "신호등이 고장나서 계속 빨간불이에요",
            "보행신호가 안 바뀌어요 사람들 무단횡단함",
            "신호등 꺼져있어요 차들 엉망",
            "사거리 신호가 점멸만 하고 있어요 위험해요",
            "신호기 고장 같아요 초록불이 안 켜짐",
            "신호등 나감;; 교통경찰도 없고",
        ],
        [
            "traffic light stuck on red for 20 minutes",
            "the crossing signal isnt working, people just walk into traffic",
            "traffic signal is out at the intersection, total chaos",
            "pedestrian light never turns green",
            "trafic lights broken again smh",
        ],
    ),
    "damaged-sidewalk": (
        [
            "보도블록이 깨져서 걸려 넘어질 뻔했어요",
            "인도 블럭이 다 들떠있어요",
            "보도블럭 튀어나와서 유모차가 못 다녀요",
            "점자블록 파손돼서 시각장애인분들 위험해요",
            "인도가 울퉁불퉁 난리남",
            "보도 파손 심각합니다 할머니 넘어지심",
        ],
        [
            "broken paving stones on the sidewalk, my mom tripped",
            "sidewalk tiles are loose everywhere",
            "huge trip hazard on the pavement",
            "the footpath is cracked and uneven, wheelchair cant pass",
            "sidewalk blocks sticking up, someone will get hurt",
        ],
    ),
    "manhole-cover": (
        [
            "맨홀 뚜껑이 없어요 사람 빠지겠어요",
            "맨홀뚜껑 깨져있음 위험",
            "도로 한가운데 맨홀 뚜껑이 열려있어요",
            "하수구 뚜껑 분실된듯 구멍이 뻥 뚫려있어요",
            "맨홀 뚜껑이 덜컹거리고 반쯤 깨졌어요",
        ],
        [
            "manhole cover is missing, huge open hole",
            "open manhole in the middle of the road!!",
            "the manhole cover is cracked in half",
            "someone stole the sewer lid lol its just a hole now",
            "manhole cover moved, car wheels almost fell in",
        ],
    ),
    "drain-grate": (
        [
            "빗물받이 덮개가 깨졌어요",
            "배수구 그레이팅이 부서져서 발 빠질뻔",
            "하수구 쇠창살이 휘어있어요",
            "빗물받이 뚜껑이 없어졌어요",
            "배수구 덮개 파손 자전거 바퀴 끼임",
        ],
        [
            "the drain grate is broken, bike wheel got stuck",
            "storm grate cover is bent and sticking up",
            "gutter grating is smashed",
            "drain cover missing near the curb",
            "broken grate on the corner, heels get stuck in it",
        ],
    ),
    "bus-stop-error": (
        [
            "버스정류장 노선도가 예전 거예요",
            "정류소 도착안내 전광판이 계속 꺼져있어요",
            "버스 도착정보가 엉터리예요 10분째 곧도착",
            "정류장 이름이 잘못 써있어요",
            "노선 안내판에 없어진 버스가 아직 있음",
        ],
        [
            "the bus stop route map is outdated",
            "arrival display at the bus stop has been dead for a week",
            "bus shelter timetable shows a route that no longer exists",
            "wrong stop name on the sign",
            "next bus board says 2 min for 30 mins lmao",
        ],
    ),
    "pothole": (
        [
            "도로에 포트홀 생겼어요 타이어 펑크남",
            "도로가 움푹 패였어요",
            "아스팔트 깨져서 구멍이 생겼어요",
            "차도에 큰 구멍 차가 덜컹해요",
            "도로 파손 심해요 오토바이 위험",
            "포트홀ㅡㅡ 휠 나갔음",
        ],
        [
            "huge pothole, busted my tire",
            "road surface is cracked and sinking",
            "there's a massive hole in the road",
            "pot hole on the main road nearly threw me off my scooter",
            "asphalt broken up after the rain",
        ],
    ),
    "illegal-dumping": (
        [
            "누가 쓰레기 무단투기 해놨어요",
            "골목에 쓰레기봉투 산더미 냄새 진동",
            "폐가구랑 매트리스 버리고 갔어요",
            "종량제 안 쓰고 막 버려요",
            "음식물 쓰레기 무단으로 버려서 악취남",
            "대형폐기물 스티커도 없이 버려져있음",
        ],
        [
            "someone dumped trash bags all over the corner",
            "old mattress and furniture dumped in the alley",
            "illegal dumping again, it stinks",
            "garbage piling up for a week, rats everywhere",
            "people keep fly tipping behind the building",
        ],
    ),
    "blocked-storm-drain": (
        [
            "빗물받이가 낙엽으로 막혀서 물이 안 빠져요",
            "배수구 막혀서 물이 고여있어요",
            "하수구 막혔는지 물웅덩이가 안 없어짐",
            "빗물이 안빠져요 배수가 안됨",
            "비만 오면 물이 고여요 배수구 막힘",
        ],
        [
            "storm drain is blocked with leaves, water not draining",
            "clogged drain, big puddle wont go away",
            "the drain is blocked and the street is filling up",
            "standing water everywhere, drains not draining",
            "leaves blocking the drain again",
        ],
    ),
    "flooded-road": (
        [
            "지하차도 침수됐어요 차 못 지나가요",
            "도로가 물에 잠겼어요",
            "물이 무릎까지 찼어요 차들 다 멈춤",
            "도로 침수 심각 물바다예요",
            "차가 물에 잠겼어요 119 불러야하나",
            "길이 강물처럼 됐어요",
        ],
        [
            "underpass is flooded, cars stuck",
            "the road is completely under water",
            "water up to my knees on the street",
            "street flooding, road is a river",
            "flooded road, a car is submerged",
        ],
    ),
    "overflowing-manhole": (
        [
            "맨홀에서 물이 역류해요",
            "맨홀 뚜껑이 들썩이면서 물이 솟아요",
            "하수 역류해서 오수가 넘쳐요",
            "맨홀에서 물이 뿜어져 나와요 무서워요",
            "맨홀 역류 냄새 장난아님",
        ],
        [
            "manhole overflowing, water gushing out",
            "water shooting out of the manhole",
            "sewer backing up onto the street",
            "manhole cover popped and sewage is overflowing",
            "the manhole is spewing water",
        ],
    ),
    "retaining-wall-crack": (
        [
            "옹벽에 금이 갔어요",
            "축대가 배가 불러서 무너질 것 같아요",
            "석축 균열이 점점 커지고 있어요",
            "담벼락 옹벽이 기울었어요",
            "옹벽 틈으로 물이 새고 갈라짐",
        ],
        [
            "the retaining wall has a big crack",
            "retaining wall is bulging out",
            "stone wall above the road is leaning",
            "crack in the wall behind our building keeps growing",
            "embankment wall cracked after the rain",
        ],
    ),
    "landslide-risk": (
        [
            "산사태 날 것 같아요 흙이 쓸려내려와요",
            "비탈면 흙더미가 무너지고 있어요",
            "뒷산 경사면이 갈라졌어요",
            "토사가 도로로 흘러내려요",
            "산에서 진흙이 계속 내려와요",
        ],
        [
            "mudslide coming down the hill",
            "the hillside is sliding onto the road",
            "soil washing down the slope",
            "ground cracking on the slope behind the apartments",
            "looks like a landslide is starting",
        ],
    ),
    "fallen-rocks": (
        [
            "낙석이 도로에 떨어져 있어요",
            "돌이 굴러 떨어져서 차 막힘",
            "바위가 도로에 떨어졌어요",
            "돌덩이들이 길에 쏟아졌어요",
            "낙석 주의 표지판 옆에 진짜 돌 떨어짐",
        ],
        [
            "fallen rocks on the road",
            "rocks came down onto the lane",
            "a boulder fell on the road",
            "rockfall blocking the street",
            "stones fell from the cliff onto the road",
        ],
    ),
}

# (Korean name, English name, district code): dong (unique names), districts and gazetteer landmarks.
PLACES = [
    ("합정동", "Hapjeong-dong", "11440"),
    ("망원동", "Mangwon-dong", "11440"),
    ("연남동", "Yeonnam-dong", "11440"),
    ("서교동", "Seogyo-dong", "11440"),
    ("명동", "Myeong-dong", "11140"),
    ("필동", "Pil-dong", "11140"),
    ("신당동", "Sindang-dong", "11140"),
    ("삼청동", "Samcheong-dong", "11110"),
    ("혜화동", "Hyehwa-dong", "11110"),
    ("한남동", "Hannam-dong", "11170"),
    ("후암동", "Huam-dong", "11170"),
    ("성수동", "Seongsu-dong", "11200"),
    ("행당동", "Haengdang-dong", "11200"),
    ("자양동", "Jayang-dong", "11215"),
    ("화양동", "Hwayang-dong", "11215"),
    ("회기동", "Hoegi-dong", "11230"),
    ("면목동", "Myeonmok-dong", "11260"),
    ("정릉동", "Jeongneung-dong", "11290"),
    ("미아동", "Mia-dong", "11305"),
    ("쌍문동", "Ssangmun-dong", "11320"),
    ("상계동", "Sanggye-dong", "11350"),
    ("불광동", "Bulgwang-dong", "11380"),
    ("연희동", "Yeonhui-dong", "11410"),
    ("목동", "Mok-dong", "11470"),
    ("화곡동", "Hwagok-dong", "11500"),
    ("구로동", "Guro-dong", "11530"),
    ("독산동", "Doksan-dong", "11545"),
    ("여의동", "Yeoui-dong", "11560"),
    ("노량진동", "Noryangjin-dong", "11590"),
    ("신림동", "Sillim-dong", "11620"),
    ("서초동", "Seocho-dong", "11650"),
    ("반포동", "Banpo-dong", "11650"),
    ("역삼동", "Yeoksam-dong", "11680"),
    ("대치동", "Daechi-dong", "11680"),
    ("잠실동", "Jamsil-dong", "11710"),
    ("가락동", "Garak-dong", "11710"),
    ("천호동", "Cheonho-dong", "11740"),
    ("마포구", "Mapo-gu", "11440"),
    ("강남구", "Gangnam-gu", "11680"),
    ("종로구", "Jongno-gu", "11110"),
    ("송파구", "Songpa-gu", "11710"),
    ("관악구", "Gwanak-gu", "11620"),
    ("노원구", "Nowon-gu", "11350"),
    ("은평구", "Eunpyeong-gu", "11380"),
    ("강서구", "Gangseo-gu", "11500"),
    ("성북구", "Seongbuk-gu", "11290"),
    ("영등포구", "Yeongdeungpo-gu", "11560"),
    ("홍대입구역", "Hongik Univ. Station", "11440"),
    ("합정역", "Hapjeong Station", "11440"),
    ("잠실역", "Jamsil Station", "11710"),
    ("코엑스", "COEX", "11680"),
    ("선릉역", "Seolleung Station", "11680"),
    ("고속터미널", "Express Bus Terminal", "11650"),
    ("서울대입구역", "SNU Station", "11620"),
    ("건대입구역", "Konkuk Univ", "11215"),
    ("왕십리역", "Wangsimni Station", "11200"),
    ("청량리역", "Cheongnyangni", "11230"),
    ("노원역", "Nowon Station", "11350"),
    ("광화문광장", "Gwanghwamun Square", "11110"),
    ("서울시청", "Seoul City Hall", "11140"),
    ("이태원역", "Itaewon Station", "11170"),
    ("여의도공원", "Yeouido Park", "11560"),
    ("목동역", "Mokdong Station", "11470"),
    ("김포공항", "Gimpo Airport", "11500"),
    ("천호역", "Cheonho Station", "11740"),
    ("올림픽공원", "Olympic Park", "11710"),
    ("테헤란로", "Teheran-ro", "11680"),
]
# Short forms people write: "합정에서", "in Hapjeong", "Mapo".
SHORT = [
    ("합정", "Hapjeong", "11440"),
    ("망원", "Mangwon", "11440"),
    ("연남", "Yeonnam", "11440"),
    ("성수", "Seongsu", "11200"),
    ("대치", "Daechi", "11680"),
    ("마포", "Mapo", "11440"),
    ("송파", "Songpa", "11710"),
    ("홍대", "Hongdae", "11440"),
    ("건대", "Kondae", "11215"),
    ("잠실", "Jamsil", "11710"),
    ("신림", "Sillim", "11620"),
    ("화곡", "Hwagok", "11500"),
]
PLACE_KO = ["{p} {x}", "{p}에서 {x}", "{p} 근처 {x}", "{x} ({p})", "{p}쪽 {x}", "{x} 위치는 {p} 앞", "{p}인데 {x}"]
PLACE_EN = ["{x} in {p}", "{x} near {p}", "{p}: {x}", "{x} @ {p}", "{x} by {p}", "{x}, around {p}"]
OPENERS_KO = ["", "", "", "@서울시 ", "민원이요 ", "아 진짜 ", "안녕하세요 ", "[제보] ", "여기 "]
CLOSERS_KO = [
    "",
    "",
    "",
    " ㅠㅠ",
    " 빨리 해결해주세요",
    " 😡",
    " 🙏",
    " ㅡㅡ",
    "!!",
    " 확인 부탁드려요",
    " 몇번째 신고인지...",
]
OPENERS_EN = ["", "", "", "@SeoulCity ", "hey ", "ugh ", "Hi, ", "PSA: "]
CLOSERS_EN = ["", "", "", " pls fix", " 😤", " !!!", " someone's gonna get hurt", " #Seoul", " thx", " 🙏"]
DISASTER_TAGS = {
    "flooded-road": ["#침수", "#flood", "#폭우"],
    "blocked-storm-drain": ["#침수", "#폭우", "#flood"],
    "overflowing-manhole": ["#침수", "#seoulflood"],
    "landslide-risk": ["#산사태", "#landslide"],
    "fallen-rocks": ["#낙석", "#rockfall"],
    "retaining-wall-crack": ["#산사태"],
}

NOT_A_PROBLEM = [
    ("ko", "서울시 일 좀 해라 진짜 세금이 아깝다"),
    ("ko", "오늘 날씨 너무 좋네요 한강 가고싶다"),
    ("ko", "시장님 화이팅! 항상 응원합니다"),
    ("ko", "민원 넣어도 답도 없고 ㅋㅋ 역시 서울시"),
    ("ko", "와 진짜 대단하다 3년째 공사중ㅋㅋㅋ 박수"),
    ("ko", "지난번 신고한 거 빨리 처리해주셔서 감사합니다"),
    ("ko", "따릉이 대여는 어떻게 하나요?"),
    ("ko", "출근길 지하철 너무 붐벼요 진짜 지옥철"),
    ("ko", "서울시 공무원들 월급 루팡 아님?"),
    ("ko", "주말에 망원동 맛집 추천해주세요"),
    ("ko", "오늘 퇴근하고 싶다..."),
    ("ko", "불꽃축제 언제 해요?"),
    ("ko", "서울시 계정 관리자님 고생 많으십니다 ^^"),
    ("ko", "이 동네 집값 왜이래ㅋㅋ"),
    ("ko", "여권 재발급은 구청에서 하나요 시청에서 하나요"),
    ("ko", "청년 월세 지원 신청 기간이 언제까지인가요"),
    ("ko", "ㅋㅋㅋㅋ 서울시 트위터 드립 뭐임"),
    ("ko", "비 오니까 기분이 센치하다"),
    ("ko", "구청장 바뀌고 나아진게 하나도 없음"),
    ("ko", "고양이 너무 귀여워요 🐱"),
    ("ko", "코로나 지원금 또 안주나요"),
    ("ko", "강남역 근처 주차장 추천 좀"),
    ("ko", "내일 홍대 버스킹 보러 가요~"),
    ("ko", "시에서 하는 축제 재밌었어요 감사합니다"),
    ("ko", "이런 것도 민원 되나요? 그냥 궁금해서"),
    ("ko", "답장 좀 빨리 해주세요 기다리다 늙겠네"),
    ("ko", "서울 살기 힘들다 진짜"),
    ("ko", "시청 앞 잔디광장 예쁘네요"),
    ("en", "seoul city hall really out here doing nothing as usual"),
    ("en", "love this city so much 💕"),
    ("en", "what time does the lantern festival start?"),
    ("en", "wow another year of construction, amazing work, truly inspiring 👏"),
    ("en", "thanks for fixing the light so fast last week!"),
    ("en", "how do I get a foreigner registration card?"),
    ("en", "subway was so crowded this morning i cant breathe"),
    ("en", "any good cafes near Hapjeong?"),
    ("en", "is the Han river bike rental open today"),
    ("en", "great job on the fireworks festival"),
    ("en", "why is rent in this city so insane lol"),
    ("en", "just moved to Seoul, so excited!"),
    ("en", "can someone from the city answer my email please"),
    ("en", "taxes go up, nothing changes. classic."),
    ("en", "beautiful sunset from Namsan today"),
    ("en", "where do I apply for the youth housing program"),
    ("en", "the new mayor is doing great tbh"),
    ("en", "lol the city's twitter admin is funny"),
    ("en", "rainy day vibes ☔"),
    ("en", "I'm so tired of this commute"),
    ("en", "my cat says hi to the mayor 🐈"),
    ("en", "when does the library open on sundays?"),
]

# Two problems in one message: both categories count as right.
TWO_PROBLEMS = [
    ("ko", "가로등도 나갔고 보도블록도 다 깨져있어요", ["streetlight-out", "damaged-sidewalk"]),
    ("ko", "쓰레기 무단투기에 빗물받이 덮개까지 부서졌네요", ["illegal-dumping", "drain-grate"]),
    ("ko", "포트홀 때문에 타이어 터지고 신호등도 고장이에요", ["pothole", "traffic-signal-fault"]),
    ("ko", "맨홀뚜껑 없어지고 가로등도 꺼져서 밤에 진짜 위험", ["manhole-cover", "streetlight-out"]),
    ("ko", "정류장 전광판 꺼져있고 주변에 쓰레기 더미", ["bus-stop-error", "illegal-dumping"]),
    ("ko", "지하차도 침수되고 맨홀에서 물이 역류해요", ["flooded-road", "overflowing-manhole"]),
    ("ko", "옹벽에 금가고 낙석도 떨어졌어요", ["retaining-wall-crack", "fallen-rocks"]),
    ("ko", "배수구 막혀서 도로가 물에 잠겼어요", ["blocked-storm-drain", "flooded-road"]),
    ("ko", "인도 블럭 깨지고 도로에 구멍까지", ["damaged-sidewalk", "pothole"]),
    ("ko", "산사태 위험해 보이고 돌이 굴러 떨어져요", ["landslide-risk", "fallen-rocks"]),
    ("en", "streetlight is out and the sidewalk is broken too", ["streetlight-out", "damaged-sidewalk"]),
    ("en", "pothole AND a missing manhole cover on the same street, great", ["pothole", "manhole-cover"]),
    ("en", "trash dumped everywhere and the bus stop map is wrong", ["illegal-dumping", "bus-stop-error"]),
    ("en", "traffic light dead and a huge pothole right after it", ["traffic-signal-fault", "pothole"]),
    ("en", "drain blocked so the underpass flooded", ["blocked-storm-drain", "flooded-road"]),
    ("en", "retaining wall cracked, rocks falling on the road", ["retaining-wall-crack", "fallen-rocks"]),
    ("en", "manhole overflowing and the road is under water", ["overflowing-manhole", "flooded-road"]),
    ("en", "broken drain grate and garbage bags piled up next to it", ["drain-grate", "illegal-dumping"]),
]


def _split(key: str) -> str:
    """A fixed 70/30 split by phrase: the same phrase is always on the same side."""
    return "test" if int(hashlib.sha256(key.encode()).hexdigest(), 16) % 10 < 3 else "train"


def _typo(text: str, rng: random.Random) -> str:
    """One realistic slip: a dropped, doubled or swapped letter (English), or lost spaces (Korean)."""
    if any("\uac00" <= ch <= "\ud7a3" for ch in text):
        return text.replace(" ", "", rng.randint(1, 3)) if " " in text else text
    i = rng.randrange(1, max(2, len(text) - 2))
    kind = rng.choice(["drop", "double", "swap"])
    if kind == "drop":
        return text[:i] + text[i + 1 :]
    if kind == "double":
        return text[:i] + text[i] + text[i:]
    return text[:i] + text[i + 1 : i + 2] + text[i] + text[i + 2 :]


def compose(rng: random.Random) -> list[dict[str, object]]:
    rows: list[dict[str, object]] = []
    n = 0
    for category, (ko, en) in PHRASES.items():
        for lang, phrases in (("ko", ko), ("en", en)):
            for pi, phrase in enumerate(phrases):
                split = _split(f"{category}/{lang}/{pi}")
                for _variant in range(3):
                    n += 1
                    x = _typo(phrase, rng) if rng.random() < 0.25 else phrase
                    district = None
                    roll = rng.random()
                    if roll < 0.55:
                        name_ko, name_en, district = rng.choice(PLACES)
                        name = name_ko if lang == "ko" or rng.random() < 0.15 else name_en
                        x = rng.choice(PLACE_KO if lang == "ko" else PLACE_EN).format(p=name, x=x)
                    elif roll < 0.75:
                        short_ko, short_en, district = rng.choice(SHORT)
                        name = short_ko if lang == "ko" else short_en
                        x = rng.choice(PLACE_KO if lang == "ko" else PLACE_EN).format(p=name, x=x)
                    opener = rng.choice(OPENERS_KO if lang == "ko" else OPENERS_EN)
                    closer = rng.choice(CLOSERS_KO if lang == "ko" else CLOSERS_EN)
                    message = f"{opener}{x}{closer}"
                    if category in DISASTER_TAGS and rng.random() < 0.6:
                        message += " " + rng.choice(DISASTER_TAGS[category])
                    rows.append(
                        {
                            "id": f"m{n:04d}",
                            "lang": lang,
                            "text": message,
                            "category": category,
                            "categories": [category],
                            "district": district,
                            "split": split,
                        }
                    )
    for i, (lang, message) in enumerate(NOT_A_PROBLEM):
        n += 1
        rows.append(
            {
                "id": f"m{n:04d}",
                "lang": lang,
                "text": message,
                "category": None,
                "categories": [],
                "district": None,
                "split": _split(f"none/{i}"),
            }
        )
    for i, (lang, message, categories) in enumerate(TWO_PROBLEMS):
        for variant in range(2):
            n += 1
            district = None
            text = message
            if variant == 1:
                name_ko, name_en, district = rng.choice(PLACES)
                text = (
                    f"{name_ko if lang == 'ko' else name_en} {message}" if lang == "ko" else f"{message} near {name_en}"
                )
            rows.append(
                {
                    "id": f"m{n:04d}",
                    "lang": lang,
                    "text": text,
                    "category": categories[0],
                    "categories": categories,
                    "district": district,
                    "split": _split(f"two/{i}"),
                }
            )
    return rows


def main() -> None:
    rows = compose(random.Random(13))
    OUT.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    test = sum(1 for r in rows if r["split"] == "test")
    print(f"{len(rows)} messages ({test} test) -> {OUT}")


if __name__ == "__main__":
    main()
