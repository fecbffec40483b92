"""Log-in that can't be used to lock anybody out or to list the staff accounts."""

import statistics
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from fastapi.testclient import TestClient

from mapapp.accounts import service as accounts
from mapapp.app import create_app
from mapapp.core.db import transaction

PASSWORD = "correct horse battery staple"
ADMIN = "root.admin@city.example"


@pytest.fixture(scope="module")
def admin(demo_db):
    with transaction() as session:
        accounts.create_user(session, email=ADMIN, name="admin", role="admin", password=PASSWORD)
    return ADMIN


def from_address(address: str) -> TestClient:
    return TestClient(create_app(), client=(address, 40000))


def log_in(client, email, password):
    return client.post("/api/auth/login", json={"email": email, "password": password})


def test_failures_from_elsewhere_never_lock_the_administrator_out(limits, admin):
    limits(login_free_failures=5, login_free_failures_per_address=5)
    with from_address("198.51.100.9") as attacker, from_address("192.0.2.10") as office:
        answers = [log_in(attacker, admin, f"guess {n}").status_code for n in range(8)]
        assert answers[:5] == [401] * 5 and 429 in answers[5:]
        assert log_in(office, admin, PASSWORD).status_code == 200  # the administrator, at their own desk


def test_the_delay_grows_and_is_capped(limits, admin):
    limits(login_free_failures=2, login_max_delay_seconds=2)
    with from_address("198.51.100.10") as client:
        assert [log_in(client, admin, "wrong").status_code for _ in range(2)] == [401, 401]
        first = log_in(client, admin, "wrong")
        assert first.status_code == 429 and first.json()["error"]["code"] == "rate_limited"
        assert first.headers["retry-after"] == "1"
        # Throttled attempts are not even checked: the right password waits too.
        assert log_in(client, admin, PASSWORD).status_code == 429
        time.sleep(1.1)
        assert log_in(client, admin, "wrong").status_code == 401  # the third failure: 2 s now
        second = log_in(client, admin, "wrong")
        assert second.status_code == 429 and second.headers["retry-after"] == "2"
        time.sleep(2.1)
        assert log_in(client, admin, "wrong").status_code == 401  # the fourth: 4 s, capped at 2 s
        assert log_in(client, admin, "wrong").headers["retry-after"] == "2"
        time.sleep(2.1)
        assert log_in(client, admin, PASSWORD).status_code == 200  # and then a success clears the pair


def test_unknown_accounts_get_exactly_the_answers_known_ones_get(limits, admin):
    limits(login_free_failures=3)
    with from_address("198.51.100.21") as one, from_address("198.51.100.22") as two:
        known = [log_in(one, admin, "wrong") for _ in range(5)]
        unknown = [log_in(two, "nobody.here@city.example", "wrong") for _ in range(5)]
    assert [(a.status_code, a.json()) for a in known] == [(b.status_code, b.json()) for b in unknown]
    assert [a.status_code for a in known] == [401, 401, 401, 429, 429]
    assert [a.headers.get("retry-after") for a in known] == [b.headers.get("retry-after") for b in unknown]


def test_unknown_accounts_take_as_long_as_known_ones(limits, admin):
    def median_time(client, email):
        times = []
        for _ in range(5):
            start = time.perf_counter()
            assert log_in(client, email, "wrong").status_code == 401
            times.append(time.perf_counter() - start)
        return statistics.median(times)

    limits(login_free_failures=50, login_free_failures_per_address=50)
    with from_address("198.51.100.31") as client:
        log_in(client, "warm.up@city.example", "x")  # the dummy hash is made once
        known = median_time(client, admin)
        unknown = median_time(client, "nobody.at.all@city.example")
    # The password check dominates both (argon2, tens of milliseconds); without it an unknown account
    # would answer in about a millisecond.
    assert unknown > 0.6 * known and known > 0.6 * unknown, (known, unknown)


def test_one_address_is_throttled_across_accounts(limits, admin):
    limits(login_free_failures=50, login_free_failures_per_address=3)
    with from_address("198.51.100.41") as sprayer, from_address("198.51.100.42") as other:
        answers = [log_in(sprayer, f"user{n}@city.example", "Summer2026!").status_code for n in range(5)]
        assert answers[:3] == [401, 401, 401] and answers[3] == 429
        assert log_in(other, admin, PASSWORD).status_code == 200


def test_parallel_guesses_cannot_slip_past_the_delay(limits, admin, live_server):
    limits(login_free_failures=3, login_free_failures_per_address=100)
    with ThreadPoolExecutor(max_workers=12) as pool:
        codes = list(
            pool.map(
                lambda n: (
                    httpx.post(
                        f"{live_server}/api/auth/login", json={"email": admin, "password": f"parallel {n}"}, timeout=30
                    ).status_code
                ),
                range(24),
            )
        )
    # Attempts of one key are checked one after another: three free failures, then the delay (1 s, 2 s...)
    # lets at most a couple more through while two dozen guesses arrive at once.
    assert codes.count(401) <= 5 and codes.count(429) >= 19, codes
    assert set(codes) <= {401, 429}


def test_successful_log_in_still_works_with_a_cookie_and_bearer(limits, admin):
    with from_address("192.0.2.77") as client:
        answer = log_in(client, f"  {admin.upper()} ", PASSWORD)
        assert answer.status_code == 200
        me = client.get("/api/auth/me", headers={"Authorization": f"Bearer {answer.json()['token']}"})
        assert me.json()["email"] == admin
