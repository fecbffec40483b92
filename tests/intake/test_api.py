"""POST /api/intake/messages over real HTTP: keys, idempotency, batches, refusals that store nothing,
location by geotag, photo GPS and place names, disaster hashtags, and what staff and the public see."""

import base64
import json

import httpx
import pytest
from sqlalchemy import text

from mapapp.accounts import service as accounts
from mapapp.core.db import transaction
from mapapp.intake import service
from tests.factories import make_photo, office_id

PASSWORD = "correct horse battery staple"
WHEN = "2026-11-25T21:04:00+09:00"


@pytest.fixture(scope="module")
def keys(intake_db):
    with transaction() as session:
        out = {
            "twitter": service.create_channel(session, name="twitter", kind="social", public_handles=True),
            "kakao": service.create_channel(session, name="kakao", kind="social"),
            "call_centre": service.create_channel(session, name="call_centre", kind="phone"),
        }
        for email, role, office in (
            ("triage@intake.example", "triage", None),
            ("staff@mapo.example", "staff", "11440-roads"),
            ("staff@gangnam.example", "staff", "11680-roads"),
        ):
            accounts.create_user(
                session, email=email, name=role, role=role, password=PASSWORD, office_id=office_id(session, office)
            )
    return out


@pytest.fixture(scope="module")
def http(live_server):
    with httpx.Client(base_url=live_server, timeout=30) as client:
        yield client


def staff(http, email):
    response = http.post("/api/auth/login", json={"email": email, "password": PASSWORD})
    assert response.status_code == 200, response.text
    http.cookies.clear()
    return {"Authorization": f"Bearer {response.json()['token']}"}


def post(http, key, *messages):
    return http.post(
        "/api/intake/messages", json={"messages": list(messages)}, headers={"Authorization": f"Bearer {key}"}
    )


def message(channel, external_id, body, **extra):
    return {"channel": channel, "external_id": external_id, "text": body, "posted_at": WHEN, **extra}


def report_row(public_id):
    with transaction() as session:
        return session.execute(
            text(
                "SELECT r.status, r.channel, r.location_precision, r.location_source, r.dong_id, j.code AS district, "
                "c.slug AS category, l.slug AS layer, o.slug AS office, d.reason_code, d.reason_params "
                "FROM reports r JOIN categories c ON c.id = r.category_id JOIN layers l ON l.id = r.layer_id "
                "LEFT JOIN jurisdictions j ON j.id = r.district_id LEFT JOIN offices o ON o.id = r.office_id "
                "LEFT JOIN LATERAL (SELECT reason_code, reason_params FROM routing_decisions WHERE report_id = r.id "
                "ORDER BY id DESC LIMIT 1) d ON true WHERE r.public_id = :p"
            ),
            {"p": public_id},
        ).one()


def count_messages():
    with transaction() as session:
        return session.execute(text("SELECT count(*) FROM intake_messages")).scalar_one()


def test_a_message_that_names_a_dong_is_classified_located_and_routed(http, keys):
    response = post(http, keys["kakao"], message("kakao", "k-1", "연남동 골목 가로등이 며칠째 안 켜져요 ㅠㅠ"))
    assert response.status_code == 201, response.text
    [result] = response.json()["results"]
    assert result["outcome"] == "routed" and result["category"] == "streetlight-out"
    assert result["precision"] == "dong" and not result["replayed"]
    row = report_row(result["report"]["id"])
    assert (row.status, row.channel, row.district, row.office) == ("routed", "social", "11440", "11440-roads")
    assert (row.location_precision, row.location_source) == ("dong", "address") and row.dong_id is not None
    assert row.reason_code == "routed_from_message" and "가로등" in row.reason_params["evidence"]


def test_a_repeated_delivery_returns_the_same_report(http, keys):
    first = post(http, keys["kakao"], message("kakao", "k-2", "합정역 앞 보도블록이 깨졌어요")).json()["results"][0]
    before = count_messages()
    again = post(http, keys["kakao"], message("kakao", "k-2", "합정역 앞 보도블록이 깨졌어요"))
    assert again.status_code == 200
    [replayed] = again.json()["results"]
    assert replayed["replayed"] and replayed["report"]["id"] == first["report"]["id"]
    assert count_messages() == before
    # The same external id on another channel is another message.
    other = post(http, keys["call_centre"], message("call_centre", "k-2", "합정역 앞 보도블록이 깨졌어요"))
    assert other.status_code == 201 and other.json()["results"][0]["report"]["id"] != first["report"]["id"]


def test_a_batch_with_one_malformed_message_stores_nothing(http, keys):
    before = count_messages()
    good = message("kakao", "k-3", "잠실역 근처 쓰레기 무단투기")
    for bad, field in (
        ({"channel": "kakao", "external_id": "k-4", "posted_at": WHEN}, "text"),
        (message("kakao", "k-4", "x", posted_at="yesterday"), "posted_at"),
        (message("kakao", "k-4", "x", posted_at="2026-11-25T10:00:00"), "posted_at"),
        (message("kakao", "k-4", "x", geotag={"lat": 95, "lon": 127}), "geotag"),
        (message("kakao", "k-4", "x", photos=[{"data": "not base64!"}]), "photos"),
        (message("kakao", "", "x"), "external_id"),
        (message("kakao", "k-4", "x", colour="red"), "colour"),
    ):
        response = post(http, keys["kakao"], good, bad)
        assert response.status_code == 422, response.text
        error = response.json()["error"]
        assert error["code"] == "invalid_message" and error["details"] == {"index": 1, "field": field}
    nul = post(http, keys["kakao"], good, message("kakao", "k-4", "a\u0000b"))
    assert nul.status_code == 400 and nul.json()["error"]["code"] == "invalid_request"
    assert count_messages() == before


def test_keys_channels_and_batch_size_are_checked(http, keys, monkeypatch):
    body = message("kakao", "k-5", "가로등 고장")
    assert post(http, "wrong", body).json()["error"]["code"] == "invalid_channel_key"
    no_key = http.post("/api/intake/messages", json=body)
    assert no_key.status_code == 401 and no_key.json()["error"]["code"] == "invalid_channel_key"
    mismatch = post(http, keys["twitter"], body)
    assert mismatch.status_code == 422 and mismatch.json()["error"]["code"] == "channel_mismatch"
    too_many = post(http, keys["kakao"], *[message("kakao", f"b-{i}", "가로등") for i in range(501)])
    assert too_many.status_code == 422 and too_many.json()["error"]["code"] == "batch_too_large"
    not_json = http.post("/api/intake/messages", content=b"{", headers={"Authorization": f"Bearer {keys['kakao']}"})
    assert not_json.status_code == 400


def test_a_back_fill_of_three_hundred_messages_in_one_request(http, keys):
    texts = ["서교동 빗물받이 덮개가 깨졌어요", "pothole near Daechi-dong", "오늘 날씨 좋네요", "가로등 나갔어요"]
    batch = [message("twitter", f"t-{i}", texts[i % 4]) for i in range(300)]
    response = post(http, keys["twitter"], *batch)
    assert response.status_code == 201
    results = response.json()["results"]
    assert [r["external_id"] for r in results] == [f"t-{i}" for i in range(300)]
    assert {r["outcome"] for r in results[0::4]} == {"routed"}
    assert {r["outcome"] for r in results[2::4]} == {"no_problem"} and all(r["report"] is None for r in results[2::4])
    assert {(r["outcome"], r["precision"]) for r in results[3::4]} == {("triage", "none")}


def test_no_place_goes_to_triage_at_city_precision_with_candidates_for_staff(http, keys):
    [result] = post(http, keys["kakao"], message("kakao", "k-6", "맨홀 뚜껑이 없어요 사람 빠지겠어요")).json()[
        "results"
    ]
    assert result["outcome"] == "triage" and result["precision"] == "none"
    row = report_row(result["report"]["id"])
    assert (row.status, row.location_precision, row.district, row.dong_id) == ("triage", "city", None, None)
    assert row.reason_code == "triage_message_unsure" and "names no place" in row.reason_params["why"]
    # Staff of the triage team see what was read; office staff do not see the triage queue's reports.
    seen = http.get(f"/api/intake/reports/{result['report']['id']}", headers=staff(http, "triage@intake.example"))
    assert seen.status_code == 200
    intake = seen.json()["intake"]
    assert intake["channel"] == "kakao" and intake["precision"] == "none" and "맨홀" in intake["evidence"][0]
    assert intake["candidates"][0] == {"category": "manhole-cover", "score": intake["confidence"]}
    assert (
        http.get(f"/api/intake/reports/{result['report']['id']}", headers=staff(http, "staff@mapo.example")).status_code
        == 403
    )
    queue = http.get("/api/intake/triage", headers=staff(http, "triage@intake.example")).json()["reports"]
    assert result["report"]["id"] in {r["id"] for r in queue}


def test_geotag_wins_and_photo_gps_comes_next(http, keys):
    # The text names Mapo, the geotag is in Gangnam: the geotag is where the problem is.
    geotagged = message("kakao", "k-7", "합정동 포트홀", geotag={"lat": 37.4979, "lon": 127.0286})
    [result] = post(http, keys["kakao"], geotagged).json()["results"]
    assert result["precision"] == "geotag" and report_row(result["report"]["id"]).district == "11680"
    photo = base64.b64encode(make_photo(lat=37.5447, lon=127.0557)).decode()  # Seongsu-dong
    with_photo = message(
        "kakao", "k-8", "도로에 포트홀 생겼어요", photos=[{"data": photo, "url": "https://img.example/1.jpg"}]
    )
    [result] = post(http, keys["kakao"], with_photo).json()["results"]
    row = report_row(result["report"]["id"])
    assert result["precision"] == "photo" and row.district == "11200" and row.location_source == "photo"
    # A geotag outside the city is not used: the text's place is.
    far = message("kakao", "k-9", "연남동 포트홀", geotag={"lat": 43.77, "lon": 11.25})
    [result] = post(http, keys["kakao"], far).json()["results"]
    assert result["precision"] == "dong" and report_row(result["report"]["id"]).district == "11440"


def test_a_disaster_hashtag_counts_only_while_its_layer_is_active(http, keys):
    body = "도로 전체가 잠겼어요 #침수 #폭우 망원동"
    [result] = post(http, keys["twitter"], message("twitter", "t-flood-1", body)).json()["results"]
    assert result["category"] == "flooded-road" and report_row(result["report"]["id"]).layer == "flood"
    with transaction() as session:
        session.execute(text("UPDATE layers SET state = 'inactive' WHERE slug = 'flood'"))
    try:
        [result] = post(http, keys["twitter"], message("twitter", "t-flood-2", body)).json()["results"]
        # The flood layer takes no reports now: the message waits in triage on an everyday category.
        assert result["outcome"] == "triage"
        assert report_row(result["report"]["id"]).layer == "facilities"
    finally:
        with transaction() as session:
            session.execute(text("UPDATE layers SET state = 'active' WHERE slug = 'flood'"))


def test_the_public_sees_the_channel_and_a_handle_only_from_a_public_channel(http, keys):
    public = post(http, keys["twitter"], message("twitter", "t-h", "명동 가로등 고장", author="@minji")).json()
    private = post(http, keys["kakao"], message("kakao", "k-h", "명동 가로등 고장", author="카톡친구")).json()
    seen_public = http.get(f"/api/intake/reports/{public['results'][0]['report']['id']}/public").json()
    seen_private = http.get(f"/api/intake/reports/{private['results'][0]['report']['id']}/public").json()
    assert seen_public["channel"] == {"channel": "twitter", "author": "@minji"}
    assert seen_private["channel"] == {"channel": "kakao", "author": None}
    page = http.get(f"/api/reports/{private['results'][0]['report']['id']}")
    assert "카톡친구" not in page.text
    shown = http.get(f"/reports/{public['results'][0]['report']['id']}?lang=en").text
    assert '<p id="channel" class="help">Received via: twitter (@minji)</p>' in shown
    hidden = http.get(f"/reports/{private['results'][0]['report']['id']}?lang=ko").text
    assert '<p id="channel" class="help">받은 곳: kakao</p>' in hidden and "카톡친구" not in hidden
    # Hidden by moderation, the report is as unknown here as everywhere public.
    public_id = public["results"][0]["report"]["id"]
    triage = staff(http, "triage@intake.example")
    hidden = http.post(f"/api/moderation/reports/{public_id}/hide", json={"reason": "spam"}, headers=triage)
    assert hidden.status_code == 200, hidden.text
    assert http.get(f"/api/intake/reports/{public_id}/public").json() == {"id": public_id, "channel": None}
    assert http.get("/api/intake/reports/NOSUCHREPORT/public").json() == {"id": "NOSUCHREPORT", "channel": None}


def test_a_triage_decision_routes_the_report_and_is_exported_as_an_example(http, keys, tmp_path):
    [result] = post(
        http, keys["call_centre"], message("call_centre", "c-1", "길에 쓰레기 더미가 잔뜩 쌓여 있어요")
    ).json()["results"]
    public_id = result["report"]["id"]
    assert result["outcome"] == "triage"
    decided = http.post(
        f"/api/intake/reports/{public_id}/decision",
        json={"category": "illegal-dumping", "district": "11440"},
        headers=staff(http, "triage@intake.example"),
    )
    assert decided.status_code == 200, decided.text
    assert decided.json() == {"id": public_id, "status": "routed", "office": "11440-sanitation"}
    row = report_row(public_id)
    assert (row.category, row.district, row.location_precision, row.reason_code) == (
        "illegal-dumping",
        "11440",
        "district",
        "manual_by",  # "routed by hand by the city's triage team", never a person
    )
    forbidden = http.post(
        f"/api/intake/reports/{public_id}/decision", json={"category": None}, headers=staff(http, "staff@mapo.example")
    )
    assert forbidden.status_code == 403
    [venting] = post(
        http, keys["call_centre"], message("call_centre", "c-2", "그냥 답답해서 전화했어요 가로등")
    ).json()["results"]
    closed = http.post(
        f"/api/intake/reports/{venting['report']['id']}/decision",
        json={"category": None},
        headers=staff(http, "triage@intake.example"),
    )
    assert closed.json()["status"] == "closed"
    from typer.testing import CliRunner

    from mapapp.cli import app

    out = tmp_path / "decisions.jsonl"
    run = CliRunner().invoke(app, ["intake", "export-decisions", str(out)])
    assert run.exit_code == 0, run.output
    lines = out.read_text(encoding="utf-8").splitlines()
    assert any('"category": "illegal-dumping"' in line and '"district": "11440"' in line for line in lines)
    assert any('"category": null' in line and "답답해서" in line for line in lines)


def test_messages_that_made_no_report_are_listed_for_triage_and_the_figures_come_from_one_command(http, keys):
    post(http, keys["kakao"], message("kakao", "k-np", "시장님 화이팅! 항상 응원합니다"))
    listed = http.get("/api/intake/unreported", headers=staff(http, "triage@intake.example"))
    assert listed.status_code == 200
    assert "시장님 화이팅! 항상 응원합니다" in {m["intake"]["text"] for m in listed.json()["messages"]}
    assert http.get("/api/intake/unreported", headers=staff(http, "staff@mapo.example")).status_code == 403
    from typer.testing import CliRunner

    from mapapp.cli import app

    run = CliRunner().invoke(app, ["intake", "evaluate"])
    assert run.exit_code == 0, run.output
    figures = dict(line.split() for line in run.output.splitlines())
    assert figures["wrong_district"] == "0" and float(figures["classifier_precision"]) >= 0.93


def test_the_same_message_delivered_twice_at_once_makes_one_report(http, keys, live_server):
    import threading

    body = message("kakao", "k-race", "연희동 맨홀 뚜껑이 없어요")
    answers = []

    def deliver():
        with httpx.Client(base_url=live_server, timeout=30) as client:
            answers.append(post(client, keys["kakao"], body).json()["results"][0])

    threads = [threading.Thread(target=deliver) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len({a["report"]["id"] for a in answers}) == 1
    assert sorted(a["replayed"] for a in answers) == [False, True]
    with transaction() as session:
        assert session.execute(text("SELECT count(*) FROM intake_messages WHERE external_id = 'k-race'")).scalar() == 1


def test_channel_thresholds_are_read_from_the_environment(monkeypatch):
    from pydantic import ValidationError

    from mapapp.core.settings import Settings

    monkeypatch.setenv("MAPAPP_INTAKE_THRESHOLDS", "twitter=0.7, call_centre=0.3")
    assert Settings().intake_thresholds == {"twitter": 0.7, "call_centre": 0.3}
    monkeypatch.setenv("MAPAPP_INTAKE_THRESHOLDS", "twitter=1.5")
    with pytest.raises(ValidationError, match="between 0 and 1"):
        Settings()


def test_a_photo_link_alone_is_kept_and_never_fetched(http, keys):
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    fetched = []

    class Spy(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            fetched.append(self.path)
            self.send_response(200)
            self.end_headers()

        def log_message(self, *_: object) -> None:
            return

    from tests.intake.test_replies import free_port

    spy = ThreadingHTTPServer(("127.0.0.1", free_port()), Spy)
    threading.Thread(target=spy.serve_forever, daemon=True).start()
    link = f"http://127.0.0.1:{spy.server_address[1]}/internal/photo.jpg"
    try:
        [result] = post(http, keys["kakao"], message("kakao", "k-url", "연남동 포트홀", photos=[{"url": link}])).json()[
            "results"
        ]
    finally:
        spy.shutdown()
        spy.server_close()
    assert result["outcome"] == "routed" and fetched == []  # no request from the server (SSRF)
    with transaction() as session:
        stored = session.execute(
            text("SELECT media_url FROM reports WHERE public_id = :p"), {"p": result["report"]["id"]}
        ).scalar()
        urls = session.execute(text("SELECT media_urls FROM intake_messages WHERE external_id = 'k-url'")).scalar()
    assert stored == link and urls == [link]


def test_routing_a_message_report_to_an_office_on_the_triage_desk_is_exported_as_a_decision(http, keys, tmp_path):
    from typer.testing import CliRunner

    from mapapp.cli import app

    [result] = post(
        http, keys["call_centre"], message("call_centre", "c-desk", "쓰레기가 길에 잔뜩 쌓여 있어요 데스크")
    ).json()["results"]
    assert result["outcome"] == "triage"
    public_id = result["report"]["id"]
    routed = http.post(
        f"/api/triage/{public_id}/route",
        json={"office": "11440-sanitation", "note": "checked"},
        headers=staff(http, "triage@intake.example"),
    )
    assert routed.status_code == 200, routed.text
    out = tmp_path / "decisions.jsonl"
    run = CliRunner().invoke(app, ["intake", "export-decisions", str(out)])
    assert run.exit_code == 0, run.output
    [line] = [json.loads(x) for x in out.read_text(encoding="utf-8").splitlines() if "데스크" in x]
    # The report's category, in the district of the office the person chose.
    assert (line["category"], line["district"], line["source"]) == (
        report_row(public_id).category,
        "11440",
        "triage:call_centre",
    )
