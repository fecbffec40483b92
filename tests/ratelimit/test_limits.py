"""Rate limits: GCRA buckets in PostgreSQL shared by every app process, the client address behind
trusted proxies, and the limits on submissions, "me too", Open311 and confirmation e-mails."""

import time

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text

from mapapp import ratelimit
from mapapp.app import create_app
from mapapp.core.db import transaction
from mapapp.open311 import service as open311
from mapapp.ratelimit.service import Limit, bucket_key

REPORT = {"layer": "facilities", "category": "pothole", "lat": 37.5663, "lon": 126.9016}


def app_client(address: str = "203.0.113.7") -> TestClient:
    """A separate application instance whose requests come from `address`."""
    return TestClient(create_app(), client=(address, 40000))


# --- who the client is ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "peer, forwarded, expected",
    [
        ("198.51.100.4", ["1.2.3.4"], "198.51.100.4"),  # not a proxy of ours: the header is ignored
        ("10.0.0.2", ["1.2.3.4"], "1.2.3.4"),
        ("10.0.0.2", ["6.6.6.6, 1.2.3.4"], "1.2.3.4"),  # the client may forge entries on the left
        ("10.0.0.2", ["6.6.6.6", "1.2.3.4, 10.0.0.9"], "1.2.3.4"),  # two headers, a chain of our proxies
        ("10.0.0.2", ["10.0.0.7, 10.0.0.9"], "10.0.0.7"),  # only proxies: the left-most
        ("10.0.0.2", [], "10.0.0.2"),
        ("10.0.0.2", ["1.2.3.4, garbage"], "10.0.0.2"),  # our proxy wrote nonsense: stop at the peer
        ("10.0.0.2", ["[2001:db8:1:2::5]:4711"], "2001:db8:1:2::/64"),  # IPv6 counted per /64
        ("2001:db8:9:9::1", [], "2001:db8:9:9::/64"),
        ("::ffff:192.0.2.8", [], "192.0.2.8"),
        ("127.0.0.1", ["1.2.3.4:5678"], "1.2.3.4"),
    ],
)
def test_client_address_believes_only_trusted_proxies(peer, forwarded, expected):
    assert ratelimit.client_address(peer, forwarded, ["10.0.0.0/8", "127.0.0.1"]) == expected


def test_trusted_proxies_setting_is_validated(monkeypatch):
    from mapapp.core.settings import Settings

    monkeypatch.setenv("MAPAPP_TRUSTED_PROXIES", "10.0.0.0/8, ::1")
    assert Settings().trusted_proxies == ["10.0.0.0/8", "::1"]
    monkeypatch.setenv("MAPAPP_TRUSTED_PROXIES", '["127.0.0.1"]')
    assert Settings().trusted_proxies == ["127.0.0.1"]
    monkeypatch.setenv("MAPAPP_TRUSTED_PROXIES", "10.0.0.0/8,not-an-address")
    with pytest.raises(ValueError, match="not-an-address"):
        Settings()


# --- the bucket -------------------------------------------------------------------------------------


def test_gcra_allows_the_burst_then_refuses_without_changing_anything(session):
    limit = Limit("submit", per_hour=3600, burst=3)  # one a second, three at once
    results = [ratelimit.allow(session, limit=limit, subject="192.0.2.1") for _ in range(3)]
    assert results == [(True, 0)] * 3
    key = bucket_key(limit, "192.0.2.1")
    tat = session.execute(text("SELECT tat FROM rate_limits WHERE key = :k"), {"k": key}).scalar_one()
    allowed, wait = ratelimit.allow(session, limit=limit, subject="192.0.2.1")
    assert not allowed and wait == 1
    assert session.execute(text("SELECT tat FROM rate_limits WHERE key = :k"), {"k": key}).scalar_one() == tat
    assert ratelimit.allow(session, limit=limit, subject="192.0.2.2") == (True, 0)  # another client
    assert "192.0.2.1" not in key  # addresses are not stored in clear


def test_the_bucket_refills_at_the_sustained_rate(session):
    limit = Limit("support", per_hour=3600 * 20, burst=1)  # one every 50 ms
    assert ratelimit.allow(session, limit=limit, subject="s")[0]
    # now() is the transaction's start: move the stored time back instead of sleeping.
    assert not ratelimit.allow(session, limit=limit, subject="s")[0]
    session.execute(text("UPDATE rate_limits SET tat = tat - interval '1 second'"))
    assert ratelimit.allow(session, limit=limit, subject="s")[0]


def test_expired_keys_are_removed(session):
    limit = Limit("login", per_hour=3600, burst=5)
    for n in range(5):
        ratelimit.allow(session, limit=limit, subject=f"c{n}")
    session.execute(text("UPDATE rate_limits SET tat = now() - interval '1 second' WHERE key LIKE 'login:%'"))
    ratelimit.allow(session, limit=limit, subject="fresh")
    assert ratelimit.service.remove_expired(session) >= 5
    keys = session.execute(text("SELECT key FROM rate_limits WHERE key LIKE 'login:%'")).scalars().all()
    assert keys == [bucket_key(limit, "fresh")]


# --- over HTTP ----------------------------------------------------------------------------------------


def test_a_limit_is_shared_by_two_app_instances_and_a_live_server(limits, live_server):
    limits(submit=(60, 3))
    with app_client("127.0.0.1") as one, app_client("127.0.0.1") as two:
        assert one.post("/api/reports", json=REPORT).status_code == 201
        assert two.post("/api/reports", json=REPORT).status_code == 201
        assert httpx.post(f"{live_server}/api/reports", json=REPORT).status_code == 201  # a real server, 127.0.0.1
        refused = [one.post("/api/reports", json=REPORT), two.post("/api/reports", json=REPORT)]
        refused.append(httpx.post(f"{live_server}/api/reports", json=REPORT))
        for answer in refused:
            assert answer.status_code == 429
            assert answer.json()["error"]["code"] == "rate_limited"
            assert 1 <= int(answer.headers["retry-after"]) <= 60
        with app_client("192.0.2.50") as other:  # another address has its own bucket
            assert other.post("/api/reports", json=REPORT).status_code == 201


def test_a_refused_submission_stores_nothing(limits, demo_db):
    limits(submit=(60, 1))
    engine = create_engine(demo_db)
    count = "SELECT count(*) FROM reports"
    with app_client() as client:
        assert client.post("/api/reports", json=REPORT).status_code == 201
        with engine.connect() as conn:
            before = conn.execute(text(count)).scalar_one()
        key = {"Idempotency-Key": "refused-once"}
        assert client.post("/api/reports", json=REPORT, headers=key).status_code == 429
        with engine.connect() as conn:
            assert conn.execute(text(count)).scalar_one() == before
            assert (
                conn.execute(text("SELECT count(*) FROM idempotency_keys WHERE key = 'refused-once'")).scalar_one() == 0
            )
    engine.dispose()


def test_forwarded_for_counts_only_behind_a_trusted_proxy(limits):
    limits(submit=(60, 1), trusted_proxies="10.0.0.0/8")
    with app_client("10.0.0.2") as proxy, app_client("198.51.100.77") as direct:
        forwarded = {"X-Forwarded-For": "6.6.6.6, 198.51.100.1"}
        assert proxy.post("/api/reports", json=REPORT, headers=forwarded).status_code == 201
        assert proxy.post("/api/reports", json=REPORT, headers=forwarded).status_code == 429
        # Another citizen behind the same proxy has their own bucket; a forged left-hand entry changes nothing.
        assert proxy.post("/api/reports", json=REPORT, headers={"X-Forwarded-For": "198.51.100.2"}).status_code == 201
        assert (
            proxy.post("/api/reports", json=REPORT, headers={"X-Forwarded-For": "7.7.7.7, 198.51.100.1"}).status_code
            == 429
        )
        # Not behind our proxy: a client cannot get a fresh bucket by inventing X-Forwarded-For.
        assert direct.post("/api/reports", json=REPORT).status_code == 201
        assert direct.post("/api/reports", json=REPORT, headers={"X-Forwarded-For": "192.0.2.99"}).status_code == 429


def test_three_hundred_supporter_tokens_from_one_client_are_not_three_hundred_supporters(limits, demo_db):
    limits(support=(60, 10))
    with app_client() as client:
        public_id = client.post("/api/reports", json=REPORT).json()["id"]
        answers = [
            client.post(f"/api/reports/{public_id}/support", json={"supporter": f"random-token-{n:04d}"})
            for n in range(300)
        ]
        assert [a.status_code for a in answers].count(200) == 10
        assert {a.status_code for a in answers[10:]} == {429}
        assert client.get(f"/api/reports/{public_id}").json()["properties"]["supporters"] == 10
    with app_client("192.0.2.60") as neighbour:  # somebody else can still say "me too"
        added = neighbour.post(f"/api/reports/{public_id}/support", json={"supporter": "neighbour-token"})
        assert added.status_code == 200 and added.json()["supporters"] == 11


def test_confirmation_emails_are_limited_per_address_but_reports_are_accepted(limits, demo_db):
    limits(email=(1, 2))
    engine = create_engine(demo_db)
    with app_client() as client:
        answers = [client.post("/api/reports", json=REPORT | {"email": "Victim@example.org"}) for _ in range(5)]
        other = client.post("/api/reports", json=REPORT | {"email": "someone.else@example.org"})
    assert [a.status_code for a in answers] == [201] * 5 and other.status_code == 201
    with engine.connect() as conn:
        mails = conn.execute(
            text("SELECT recipient, count(*) FROM outbox WHERE recipient IN (:a, :b) GROUP BY recipient"),
            {"a": "Victim@example.org", "b": "someone.else@example.org"},
        ).all()
        stored = conn.execute(
            text("SELECT count(*) FROM reports WHERE reporter_email = 'Victim@example.org'")
        ).scalar_one()
    engine.dispose()
    assert dict(mails) == {"Victim@example.org": 2, "someone.else@example.org": 1}
    assert stored == 5


def test_open311_posts_are_limited(limits, demo_db):
    limits(open311=(60, 2))
    with transaction() as session:
        key = open311.create_api_key(session, name="rate-limited portal")
    form = {"api_key": key, "service_code": "streetlight-out", "lat": "37.5663", "long": "126.9016"}
    with app_client() as client:
        codes = [client.post("/open311/v2/requests.json", data=form).status_code for _ in range(2)]
        refused = client.post("/open311/v2/requests.json", data=form)
    assert codes == [201, 201]
    # In Open311's error shape, keeping 429 and Retry-After so that a client waits rather than gives up.
    assert refused.status_code == 429 and "retry-after" in refused.headers
    assert "too many" in refused.json()[0]["description"]


def test_a_limit_can_be_switched_off(limits):
    limits(submit=(60, 1), ratelimit_enabled="false")
    with app_client() as client:
        assert {client.post("/api/reports", json=REPORT).status_code for _ in range(3)} == {201}


def test_retry_after_is_honest(limits):
    limits(support=(3600 * 2, 1))  # one every half second
    with app_client() as client:
        public_id = client.post("/api/reports", json=REPORT).json()["id"]
        assert client.post(f"/api/reports/{public_id}/support", json={"supporter": "token-one-x"}).status_code == 200
        refused = client.post(f"/api/reports/{public_id}/support", json={"supporter": "token-two-x"})
        assert refused.status_code == 429 and refused.headers["retry-after"] == "1"
        time.sleep(1.05)
        assert client.post(f"/api/reports/{public_id}/support", json={"supporter": "token-two-x"}).status_code == 200
