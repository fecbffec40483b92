"""Open311 as clients use it: a key in the POST's URL, pages, the spec's date rules, discovery, errors, one language."""

import json
import re
import urllib.error
import urllib.parse
import urllib.request
import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import create_engine, text

from mapapp.core.db import transaction
from mapapp.core.settings import get_settings
from mapapp.open311 import router as open311_router
from mapapp.open311 import service as open311
from tests.conftest import shared_data

HANGUL = re.compile("[\uac00-\ud7a3]")
LATIN = re.compile("[A-Za-z]")
W3C = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})")
# 1,082 requests an hour apart from this instant (45 days), and three in June, far from the demo's own.
FIRST = datetime(2024, 1, 1, tzinfo=UTC)
PAGED, JUNE = 1082, datetime(2024, 6, 1, 12, tzinfo=UTC)


@pytest.fixture(scope="module")
def api_key(demo_db):
    with transaction() as session:
        return open311.create_api_key(session, name="clients as they are")


@pytest.fixture(scope="module")
def old_requests(demo_db):
    """Copies of a demo report at known times: 1,082 from 2024-01-01 hourly, and three on 2024-06-01."""
    engine = create_engine(demo_db)
    with engine.begin() as conn:
        columns = [
            c
            for (c,) in conn.execute(
                text("SELECT column_name FROM information_schema.columns WHERE table_name = 'reports' ORDER BY 1")
            )
            if c not in ("id", "public_id", "created_at", "updated_at", "reopen_token_hash")
        ]
        assert conn.execute(text("SELECT count(*) FROM reports WHERE created_at < '2025-01-01'")).scalar_one() == 0
        copy = ", ".join(columns)
        for first, count in ((FIRST, PAGED), (JUNE, 3)):
            conn.execute(
                text(
                    f"INSERT INTO reports ({copy}, public_id, created_at, updated_at) "  # noqa: S608 - catalog names
                    f"SELECT {copy}, 'old' || to_char(:first AT TIME ZONE 'UTC', 'MMDD') || '-' || i, "
                    ":first + make_interval(hours => i), :first + make_interval(hours => i) "
                    "FROM (SELECT * FROM reports ORDER BY id LIMIT 1) r, generate_series(0, :n - 1) i"
                ),
                {"first": first, "n": count},
            )
    engine.dispose()
    return demo_db


def ids(response):
    return [r["service_request_id"] for r in response.json()]


def next_link(response):
    """The URL of the Link header's rel="next", or None."""
    match = re.search(r'<([^>]+)>;\s*rel="next"', response.headers.get("link", ""))
    return match.group(1) if match else None


# --- 1. the api_key in the query string of a POST ----------------------------------------------------------


def test_api_key_in_the_query_string_of_a_post_as_the_open311_package_sends_it(live_server, api_key, demo_db):
    """The `open311` package (1.1) POSTs to requests.xml?jurisdiction_id=&api_key=KEY with the fields as the body."""
    fields = {"service_code": "pothole", "lat": "37.5172", "long": "127.0473", "description": "key in the URL"}

    def post(query):
        url = f"{live_server}/open311/v2/requests.xml?{urllib.parse.urlencode(query)}"
        data = urllib.parse.urlencode(fields).encode()
        try:
            with urllib.request.urlopen(url, data) as answer:
                return answer.status, answer.read()
        except urllib.error.HTTPError as error:
            return error.code, error.read()

    status, body = post({"jurisdiction_id": "", "api_key": api_key})
    assert status == 201, body
    request_id = ET.fromstring(body).find("request/service_request_id").text
    engine = create_engine(demo_db)
    with engine.connect() as conn:
        channel = conn.execute(text("SELECT channel FROM reports WHERE public_id = :p"), {"p": request_id}).scalar()
    engine.dispose()
    assert channel == "open311"

    status, body = post({"jurisdiction_id": "", "api_key": "not-a-key"})
    assert status == 403 and ET.fromstring(body).find("error/code").text == "403"
    status, body = post({"jurisdiction_id": "elsewhere.gov", "api_key": api_key})
    assert status == 404 and b"jurisdiction_id" in body


def test_a_key_in_the_body_wins_over_one_in_the_url(client, api_key):
    form = {"api_key": api_key, "service_code": "pothole", "lat": "37.5172", "long": "127.0473"}
    good = client.post("/open311/v2/requests.json", params={"api_key": "stale"}, data=form)
    assert good.status_code == 201, good.text
    bad = client.post("/open311/v2/requests.json", params={"api_key": api_key}, data=form | {"api_key": "wrong"})
    assert bad.status_code == 403 and bad.json()[0]["code"] == 403


# --- 2. pages ----------------------------------------------------------------------------------------------

WINDOW = {"start_date": "2024-01-01T00:00:00Z", "end_date": "2024-03-01T00:00:00Z"}


def test_all_1082_requests_page_by_page_following_the_link(client, old_requests):
    pages, url, params = [], "/open311/v2/requests.json", WINDOW | {"page_size": "500"}
    while url:
        response = client.get(url, params=params)
        assert response.status_code == 200, response.text
        pages.append(ids(response))
        url, params = next_link(response), None
    assert [len(p) for p in pages] == [500, 500, 82]  # the last page is short, and has no next link
    everything = [i for p in pages for i in p]
    assert len(set(everything)) == PAGED and all(i.startswith("old0101-") for i in everything)


def test_without_page_size_a_page_is_the_specs_first_1000_and_the_link_says_more(client, old_requests):
    first = client.get("/open311/v2/requests.json", params=WINDOW)
    assert len(first.json()) == 1000
    link = next_link(first)
    assert link and "page=2" in link and link.startswith("http://testserver/open311/v2/requests.json?")
    rest = client.get(link)
    assert len(rest.json()) == 82 and next_link(rest) is None
    assert 'rel="prev"' in rest.headers["link"]
    assert not set(ids(first)) & set(ids(rest))


def test_a_client_that_pages_until_a_short_page_gets_everything(client, old_requests):
    """chicagorequests' loop: page_size 200, page += 1 while the page is full."""
    got, page = [], 1
    while True:
        batch = client.get("/open311/v2/requests.json", params=WINDOW | {"page": page, "page_size": 200}).json()
        got += batch
        if len(batch) < 200:
            break
        page += 1
    assert len({r["service_request_id"] for r in got}) == PAGED and page == 6
    beyond = client.get("/open311/v2/requests.json", params=WINDOW | {"page": 99, "page_size": 200})
    assert beyond.json() == [] and next_link(beyond) is None


def test_pages_in_xml(client, old_requests):
    second = client.get("/open311/v2/requests.xml", params=WINDOW | {"page": "2"})
    assert len(ET.fromstring(second.content).findall("request")) == 82
    assert 'rel="next"' not in second.headers.get("link", "")


def test_the_next_link_pins_the_window_it_was_cut_from(client):
    first = client.get("/open311/v2/requests.json", params={"page_size": "5"})
    link = next_link(first)
    query = urllib.parse.parse_qs(urllib.parse.urlsplit(link).query)
    assert query["page"] == ["2"] and query["page_size"] == ["5"]
    start, end = (datetime.fromisoformat(query[k][0].replace("Z", "+00:00")) for k in ("start_date", "end_date"))
    assert end - start == timedelta(days=90) and abs(datetime.now(UTC) - end) < timedelta(minutes=5)
    assert not set(ids(first)) & set(ids(client.get(link)))


@pytest.mark.parametrize(
    "params, words",
    [
        ({"page": "0"}, "page must be a whole number 1 or more"),
        ({"page": "two"}, "page must be a whole number"),
        ({"page_size": "1001"}, "page_size must be a whole number from 1 to 1000"),
        ({"page_size": "0"}, "page_size"),
    ],
)
def test_bad_pages_are_400_in_the_spec_shape(client, params, words):
    response = client.get("/open311/v2/requests.json", params=params)
    assert response.status_code == 400
    [error] = response.json()
    assert error["code"] == 400 and words in error["description"]


# --- 3. the spec's date rules --------------------------------------------------------------------------------


def count(client, **params):
    total, page = 0, 1
    while True:
        response = client.get("/open311/v2/requests.json", params=params | {"page": page})
        assert response.status_code == 200, response.text
        total += len(response.json())
        if not next_link(response):
            return total
        page += 1


def test_end_date_alone_means_the_90_days_before_it(client, old_requests):
    # Before the fix: every request older than end_date (the 1,082 of January and February too).
    assert count(client, end_date="2024-06-02T00:00:00Z") == 3
    # 2024-01-02T09:00+09:00 is midnight UTC: the first 25 hours of January 1st, offset honoured.
    assert count(client, end_date="2024-01-02T09:00:00+09:00") == 25


def test_start_date_alone_means_the_90_days_after_it(client, old_requests):
    # Before the fix: everything since, the three June requests (and the demo's own) included.
    assert count(client, start_date="2024-01-01T00:00:00Z") == PAGED
    listed = client.get("/open311/v2/requests.json", params={"start_date": "2024-04-01T00:00:00+02:00"}).json()
    assert {r["service_request_id"][:7] for r in listed} == {"old0601"}


def test_a_span_over_90_days_is_refused_with_400(client, old_requests):
    span = {"start_date": "2024-01-01T00:00:00Z", "end_date": "2024-04-01T00:00:01Z"}
    response = client.get("/open311/v2/requests.json", params=span)
    assert response.status_code == 400
    [error] = response.json()
    assert error["code"] == 400 and "at most 90" in error["description"]
    xml = client.get("/open311/v2/requests.xml", params=span)
    assert xml.status_code == 400 and "at most 90" in ET.fromstring(xml.content).find("error/description").text
    exactly = client.get("/open311/v2/requests.json", params=span | {"end_date": "2024-03-31T00:00:00Z"})
    assert exactly.status_code == 200


@pytest.mark.parametrize(
    "value, ok",
    [
        ("2024-01-01T00:00:00Z", True),
        ("2024-01-01T09:00:00+09:00", True),
        ("2024-01-01T09:00+09:00", True),
        ("2024-01-01T23:59:59.999999-06:00", True),  # what chicagorequests sends
        ("2024-01-01T09:00:00 09:00", True),  # "+" not percent-encoded arrives as a space
        ("2024-01-01", False),  # no time, so no offset: the spec requires one
        ("2024-01-01T00:00:00", False),
        ("2024-01-01T00:00:00+0900", False),
        ("2024-02-30T00:00:00Z", False),
        ("yesterday", False),
    ],
)
def test_dates_are_w3c_with_their_offset(client, value, ok):
    response = client.get("/open311/v2/requests.json", params={"start_date": value})
    assert response.status_code == (200 if ok else 400), response.text
    if not ok:
        assert "start_date" in response.json()[0]["description"]


def test_start_after_end_is_400(client):
    response = client.get(
        "/open311/v2/requests.json", params={"start_date": "2024-02-01T00:00:00Z", "end_date": "2024-01-01T00:00:00Z"}
    )
    assert response.status_code == 400 and "after end_date" in response.json()[0]["description"]


# --- 4. discovery ------------------------------------------------------------------------------------------


def tag_paths(node, prefix=""):
    path = f"{prefix}/{node.tag}"
    return {path} | {p for child in node for p in tag_paths(child, path)}


@pytest.mark.parametrize("path", ["/open311/discovery.xml", "/open311/v2/discovery.xml"])
def test_discovery_xml_has_the_shape_of_dcs(client, path):
    response = client.get(path)
    assert response.status_code == 200 and response.headers["content-type"] == "text/xml; charset=utf-8"
    ours = ET.fromstring(response.content)
    dc = ET.parse(shared_data("open311", "real-responses", "discovery-dc.xml")).getroot()
    assert tag_paths(ours) == tag_paths(dc)
    assert [f.text for f in ours.findall("endpoints/endpoint/formats/format")] == ["text/xml", "application/json"]
    assert ours.find("endpoints/endpoint/formats/value") is None
    for changeset in [ours.find("changeset"), ours.find("endpoints/endpoint/changeset")]:
        assert W3C.fullmatch(changeset.text)
    assert ours.find("endpoints/endpoint/url").text.endswith("/open311/v2")


def test_discovery_json_at_the_root_has_the_shape_of_bostons(client):
    response = client.get("/open311/discovery.json")
    assert response.status_code == 200 and response.headers["content-type"] == "application/json; charset=utf-8"
    ours = response.json()
    boston = json.loads(shared_data("open311", "real-responses", "discovery-boston.json").read_text())
    assert set(ours) == set(boston) and set(ours["endpoints"][0]) == set(boston["endpoints"][0])
    assert W3C.fullmatch(ours["changeset"]) and ours["changeset"] == ours["endpoints"][0]["changeset"]
    assert client.get("/open311/v2/discovery.json").json() == ours


def test_discovery_changeset_moves_when_a_layer_is_switched(client, demo_db):
    before = client.get("/open311/discovery.json").json()["changeset"]
    engine = create_engine(demo_db)
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO layer_events (layer_id, kind, actor, note, created_at) "
                "SELECT id, 'activated', 'test', '', now() + interval '1 day' FROM layers ORDER BY id LIMIT 1"
            )
        )
    engine.dispose()
    after = client.get("/open311/discovery.json").json()["changeset"]
    assert after > before


# --- 5. unknown paths ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path, fmt",
    [
        ("/open311/v2/nothing.json", "json"),
        ("/open311/v2/nothing.xml", "xml"),
        ("/open311/nothing", "xml"),
        ("/open311/nothing.json", "json"),
        ("/open311/v2/requests/a/b.json", "json"),
        ("/open311/v2/services.yaml", "xml"),
    ],
)
def test_unknown_paths_answer_the_specs_error_array(client, path, fmt):
    response = client.get(path)
    assert response.status_code == 404
    if fmt == "json":
        assert response.headers["content-type"] == "application/json; charset=utf-8"
        [error] = response.json()
        assert set(error) == {"code", "description"} and error["code"] == 404 and error["description"]
    else:
        assert response.headers["content-type"] == "text/xml; charset=utf-8"
        root = ET.fromstring(response.content)
        assert root.tag == "errors" and root.find("error/code").text == "404" and root.find("error/description").text


# --- 6. one language per request -----------------------------------------------------------------------------


def names(services):
    return [s[k] for s in services for k in ("service_name", "description", "group")]


def test_service_names_in_one_language_chosen_by_locale(client):
    english = client.get("/open311/v2/services.json", params={"locale": "en"}).json()
    assert english and not any(HANGUL.search(s) for s in names(english) + [s["keywords"] for s in english])
    korean = client.get("/open311/v2/services.json", params={"locale": "ko_KR"}).json()
    assert all(HANGUL.search(s) and not LATIN.search(s) for s in names(korean))
    assert [s["service_code"] for s in english] == [s["service_code"] for s in korean]
    light = next(s for s in korean if s["service_code"] == "streetlight-out")
    assert " / " not in light["service_name"] + light["description"]


@pytest.mark.parametrize(
    "accept, expected",
    [
        ("en-US,en;q=0.9", "en"),
        ("fr-FR, en;q=0.5", "en"),
        ("ko;q=0, en", "en"),
        ("en;q=0.3, ko;q=0.8", "ko"),
        ("fr", "ko"),  # the city's default language
        (None, "ko"),
    ],
)
def test_accept_language_when_no_locale(client, accept, expected):
    headers = {"Accept-Language": accept} if accept else {}
    services = client.get("/open311/v2/services.json", headers=headers).json()
    hangul = all(HANGUL.search(s) for s in names(services))
    assert hangul == (expected == "ko")
    # The locale parameter wins over the header.
    forced = client.get("/open311/v2/services.json", params={"locale": "en"}, headers=headers).json()
    assert not any(HANGUL.search(s) for s in names(forced))


def test_the_citys_default_language_is_a_setting(client, monkeypatch):
    english_city = get_settings().model_copy(update={"default_locale": "en"})
    monkeypatch.setattr(open311_router, "get_settings", lambda: english_city)
    services = client.get("/open311/v2/services.json", headers={"Accept-Language": "fr"}).json()
    assert not any(HANGUL.search(s) for s in names(services))


def test_requests_and_posts_speak_one_language(client, api_key, demo_db):
    created = client.post(
        "/open311/v2/requests.json",
        data={"api_key": api_key, "service_code": "pothole", "lat": "37.5663", "long": "126.9016"},
        headers={"Accept-Language": "en"},
    )
    [answer] = created.json()
    assert not HANGUL.search(answer["service_notice"])
    korean_post = client.post(
        "/open311/v2/requests.json",
        data={"api_key": api_key, "service_code": "pothole", "lat": "37.5663", "long": "126.9016"},
    )
    [korean_answer] = korean_post.json()
    assert HANGUL.search(korean_answer["service_notice"]) and "Routed" not in korean_answer["service_notice"]
    engine = create_engine(demo_db)
    with engine.connect() as conn:
        stored = dict(conn.execute(text("SELECT public_id, locale FROM reports WHERE channel = 'open311'")).all())
    engine.dispose()
    assert stored[answer["service_request_id"]] == "en" and stored[korean_answer["service_request_id"]] == "ko"

    for locale, wanted, unwanted in (("en", LATIN, HANGUL), ("ko", HANGUL, LATIN)):
        listed = client.get("/open311/v2/requests.json", params={"locale": locale}).json()
        assert listed
        for request in listed:
            words = [request["service_name"], request["status_notes"].split(" — ")[0]]
            words += [request["agency_responsible"]] if request["agency_responsible"] else []
            assert all(wanted.search(w) and not unwanted.search(w) for w in words), request


def test_the_bare_open311_path_answers_in_open311s_shape(client):
    response = client.get("/open311")
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("application/xml") or response.text.lstrip().startswith("<")
