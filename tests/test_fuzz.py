"""Generated input against the real app over the demo city: a property of the report draft (hypothesis)
and the whole OpenAPI schema (schemathesis), both bounded in time. `bench/fuzz.py` runs longer."""

import json
import math

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.checks import content_type_conformance, not_a_server_error, response_schema_conformance
from sqlalchemy import create_engine, text

# Every JSON value: what a hostile or broken client can put in any field (NaN, huge integers, surrogates).
JSON_SCALARS = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.integers(min_value=10**300, max_value=10**400)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text()
    | st.sampled_from(["\x00", "\ud800", "a\udc00b", "", " ", "nan", "-Infinity", "1e999", "마포구"])
)
JSON_VALUES = st.recursive(
    JSON_SCALARS,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(), inner, max_size=3),
    max_leaves=6,
)
# Good values too, so that generated drafts get past the first check and reach the later steps.
GOOD_VALUES = {
    "layer": st.just("facilities"),
    "category": st.sampled_from(["streetlight-out", "pothole", "illegal-dumping"]),
    "lat": st.floats(min_value=37.45, max_value=37.68) | st.just("37.5663"),
    "lon": st.floats(min_value=126.8, max_value=127.15) | st.just("126.9016"),
    "description": st.text(max_size=200),
    "email": st.just("citizen@example.org"),
    "phone": st.just("010-1234-5678"),
    "locale": st.sampled_from(["ko", "en"]),
    "address": st.sampled_from(["마포구 월드컵로", "Gangnam-gu"]),
    "media_url": st.just("https://example.org/a.jpg"),
}
DRAFTS = st.fixed_dictionaries({}, optional={name: good | JSON_VALUES for name, good in GOOD_VALUES.items()})


@pytest.fixture(scope="module")
def report_count(demo_db):
    """How many reports the demo database holds, on one connection for the whole module."""
    engine = create_engine(demo_db, isolation_level="AUTOCOMMIT")
    conn = engine.connect()
    yield lambda: conn.execute(text("SELECT count(*) FROM reports")).scalar_one()
    conn.close()
    engine.dispose()


def _encode(body: dict) -> bytes:
    # NaN and Infinity as the literals a sloppy client sends; lone surrogates as \ud800 escapes.
    return json.dumps(body, allow_nan=True).encode()


@settings(max_examples=200, deadline=None, suppress_health_check=list(HealthCheck), database=None)
@given(draft=DRAFTS)
def test_any_json_draft_is_201_or_a_4xx_in_our_shape(client, report_count, draft):
    before = report_count()
    response = client.post("/api/reports", content=_encode(draft), headers={"content-type": "application/json"})
    assert response.status_code < 500, (draft, response.text)
    after = report_count()
    if response.status_code == 201:
        assert after == before + 1
        if "lat" in draft:
            assert isinstance(draft["lat"], int | float | str) and math.isfinite(float(draft["lat"]))
        else:  # no map: the typed address named a district or dong ("Gangnam-gu")
            assert draft.get("address") in GOOD_VALUES["address"].elements, draft  # type: ignore[attr-defined]
        return
    assert 400 <= response.status_code < 500 and after == before, (draft, response.text)
    error = response.json()["error"]
    assert set(error) == {"code", "message", "details"} and error["code"] and error["message"]


# --- the whole OpenAPI schema ----------------------------------------------------------------------------


def _schema() -> schemathesis.BaseSchema:
    # Built at collection (pytest 9 breaks schemathesis' from_fixture); the app reads its database URL per
    # request, so the cases below run against the demo city that their `demo_db` fixture loads.
    from mapapp.app import create_app

    return schemathesis.openapi.from_asgi("/openapi.json", create_app())


schema = _schema()


@schema.parametrize()
@settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck), database=None)
def test_the_whole_api_never_answers_5xx_and_matches_its_schema(demo_db, case):
    """Positive and negative cases for every operation; 4xx is fine (429 too), 5xx never."""
    response = case.call()
    case.validate_response(response, checks=[not_a_server_error, content_type_conformance, response_schema_conformance])
