"""Accepted input is never lost: concurrent clients retrying with their keys while the database goes away.

bench/faults.py runs the full-size version (2,000 reports, the cluster really stopped); this keeps the
same invariants in the suite, on a database of its own that is closed to connections for a while.
"""

import threading
import time
import uuid
from collections import Counter

import httpx
import pytest
from sqlalchemy import create_engine, text

from tests.conftest import running_app
from tests.factories import make_photo

CLIENTS, PER_CLIENT = 12, 10


@pytest.fixture
def server(fresh_db):
    """The application over a committed demo city, on a free loopback port."""
    from mapapp import demo
    from mapapp.core.db import transaction
    from mapapp.layers import service as layers
    from tests.conftest import PROJECT

    with transaction() as session:
        demo.load_demo(session, definitions=layers.load_layer_files(PROJECT / "layers"), reports=1, seed=3)
    with running_app(log_level="critical") as url:
        yield url


def _admin(url: str):  # type: ignore[no-untyped-def]
    from sqlalchemy.engine import make_url

    return create_engine(make_url(url).set(database="postgres"), isolation_level="AUTOCOMMIT")


def _outage(url: str, seconds: float) -> None:
    """Close the database to every connection, drop the open ones, and open it again after `seconds`."""
    from sqlalchemy.engine import make_url

    name = make_url(url).database
    admin = _admin(url)
    with admin.connect() as conn:
        conn.execute(text(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false'))
        conn.execute(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :n"), {"n": name})
        time.sleep(seconds)
        conn.execute(text(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true'))
    admin.dispose()


def _same_answer_on_retry(http, fields, files, key, public_id):  # type: ignore[no-untyped-def]
    """The same key again (the database may be down by now: then 503, and the client tries later)."""
    for _ in range(200):
        again = http.post("/api/reports", data=fields, files=files, headers={"Idempotency-Key": key})
        if again.status_code != 503:
            assert again.status_code in (200, 201) and again.json()["id"] == public_id, again.text
            return
        time.sleep(0.1)
    raise AssertionError("the database never came back")


def test_concurrent_retrying_clients_lose_nothing_and_duplicate_nothing_across_an_outage(server, fresh_db):
    photo = make_photo(size=(320, 240))
    accepted: dict[str, str] = {}
    seen: Counter[str] = Counter()
    lock = threading.Lock()
    started = threading.Event()

    def client(c: int) -> None:
        with httpx.Client(base_url=server, timeout=30) as http:
            for i in range(PER_CLIENT):
                n = c * PER_CLIENT + i
                key = f"fault-{uuid.uuid4()}"
                fields = {"layer": "facilities", "category": "pothole", "lat": "37.5663", "lon": "126.9016"}
                fields["description"] = f"report {n}"
                files = [("photos", ("p.jpg", photo, "image/jpeg"))] if n % 3 == 0 else None
                # A client that never saw the answer sends the same key again: it gets the same report.
                for attempt in range(200):
                    try:
                        response = http.post("/api/reports", data=fields, files=files, headers={"Idempotency-Key": key})
                        status = response.status_code
                    except httpx.HTTPError as exc:
                        status, response = 0, None
                        seen[type(exc).__name__] += 1
                    with lock:
                        seen[str(status)] += 1
                    if status in (200, 201):
                        assert response is not None
                        with lock:
                            previous = accepted.setdefault(key, response.json()["id"])
                        assert previous == response.json()["id"]
                        if n % 3 == 0 and attempt == 0:
                            _same_answer_on_retry(http, fields, files, key, previous)
                        break
                    assert status in (0, 429, 503), (status, response.text if response is not None else "")
                    if response is not None and status == 503:
                        assert response.json()["error"]["code"] in ("database_unavailable", "busy")
                        assert response.headers.get("Retry-After")
                    time.sleep(0.1)
                started.set()

    errors: list[BaseException] = []

    def guarded(c: int) -> None:
        try:
            client(c)
        except BaseException as exc:  # a thread's failure must fail the test, not only print
            errors.append(exc)
            started.set()

    threads = [threading.Thread(target=guarded, args=(c,)) for c in range(CLIENTS)]
    for t in threads:
        t.start()
    started.wait(30)
    _outage(fresh_db, 3.0)
    for t in threads:
        t.join(timeout=120)

    assert not errors, errors[0]
    assert len(accepted) == CLIENTS * PER_CLIENT
    assert seen["503"] > 0, f"the outage was not seen by any client: {dict(seen)}"
    assert seen["500"] == 0
    engine = create_engine(fresh_db)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM reports WHERE channel <> 'demo'")).scalar_one() == len(accepted)
        keys, reports = conn.execute(text("SELECT count(*), count(DISTINCT report_id) FROM idempotency_keys")).one()
        assert keys == reports == CLIENTS * PER_CLIENT
        public_ids = {row[0] for row in conn.execute(text("SELECT public_id FROM reports WHERE channel <> 'demo'"))}
        photo_keys = [key for row in conn.execute(text("SELECT display_key, thumb_key FROM photos")) for key in row]
        with_photos = conn.execute(text("SELECT count(DISTINCT report_id) FROM photos")).scalar_one()
    engine.dispose()
    assert public_ids == set(accepted.values())
    assert with_photos == len([n for n in range(CLIENTS * PER_CLIENT) if n % 3 == 0])
    with httpx.Client(base_url=server) as http:
        for key in photo_keys:
            assert http.get(f"/media/{key}").status_code == 200
