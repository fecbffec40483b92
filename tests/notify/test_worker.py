"""The notification worker as an operator runs it: real `mapapp worker` processes, a real SMTP server and
a real webhook server, a real database whose connections are cut and which refuses connections for a
while. Every message must arrive exactly once, counted by the id a receiver dedupes on."""

import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool
from typer.testing import CliRunner

from mapapp.core.db import get_engine, transaction
from mapapp.core.settings import get_settings
from mapapp.notify import service as outbox
from mapapp.notify.senders import Outgoing, message_id
from tests.conftest import database_url
from tests.notify.sinks import Sinks

MAPAPP = str(Path(sys.executable).parent / "mapapp")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_until(condition: Callable[[], bool], seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {seconds} s waiting for {what}")
        time.sleep(0.05)


def enqueue(url: str, *, emails: int, webhooks: int = 0, webhook_url: str = "") -> tuple[list[int], list[int]]:
    """Put messages in the outbox, committed; returns the ids of the e-mails and of the webhooks."""
    engine = create_engine(url, poolclass=NullPool)
    with engine.begin() as conn:
        mail = conn.execute(
            text(
                "INSERT INTO outbox (channel, recipient, subject, body, payload, status, attempts) "
                "SELECT 'email', 'person' || n || '@example.org', 'Report ' || n, 'Body ' || n, '{}', 'pending', 0 "
                "FROM generate_series(1, :n) n RETURNING id"
            ),
            {"n": emails},
        ).scalars()
        mail_ids = list(mail)
        hook_ids = list(
            conn.execute(
                text(
                    "INSERT INTO outbox (channel, recipient, subject, body, payload, status, attempts) "
                    "SELECT 'webhook', :url, '', '', jsonb_build_object('event', 'report.created', 'data', "
                    "jsonb_build_object('n', n)), 'pending', 0 FROM generate_series(1, :n) n RETURNING id"
                ),
                {"n": webhooks, "url": webhook_url},
            ).scalars()
        )
    engine.dispose()
    return mail_ids, hook_ids


def outbox_rows(url: str) -> dict[str, int]:
    engine = create_engine(url, poolclass=NullPool)
    with engine.connect() as conn:
        rows = dict(conn.execute(text("SELECT status, count(*) FROM outbox GROUP BY status")).all())
    engine.dispose()
    return {"pending": rows.get("pending", 0), "sent": rows.get("sent", 0)}


def worker_env(url: str, sinks: Sinks, **extra: str) -> dict[str, str]:
    return {
        **os.environ,
        "MAPAPP_DATABASE_URL": url,
        "MAPAPP_SMTP_HOST": "127.0.0.1",
        "MAPAPP_SMTP_PORT": str(sinks.smtp_port),
        "MAPAPP_NOTIFY_RETRY_BASE_SECONDS": "0.2",
        "MAPAPP_PHOTO_CLEANUP_INTERVAL_SECONDS": "0",
        **extra,
    }


class WorkerProcess:
    """`mapapp worker` in its own process, its log in a file."""

    def __init__(self, env: dict[str, str], log: Path) -> None:
        self.log = log
        with log.open("wb") as out:
            self.process = subprocess.Popen([MAPAPP, "worker", "--interval", "0.2"], env=env, stderr=out, stdout=out)

    def text(self) -> str:
        return self.log.read_text(errors="replace")

    def started(self) -> bool:
        assert self.process.poll() is None, f"the worker exited:\n{self.text()}"
        return "worker started" in self.text()

    def sent(self) -> int:
        return sum(int(line.split("outbox: ")[1].split()[0]) for line in self.text().splitlines() if "outbox: " in line)

    def stop(self) -> int:
        if self.process.poll() is None:
            self.process.terminate()
        try:
            return self.process.wait(timeout=40)
        except subprocess.TimeoutExpired:
            self.process.kill()
            raise


@contextmanager
def workers(count: int, env: dict[str, str], tmp_path: Path) -> Iterator[list[WorkerProcess]]:
    running = [WorkerProcess(env, tmp_path / f"worker-{n}.log") for n in range(count)]
    try:
        wait_until(lambda: all(w.started() for w in running), 60, "the workers to start")
        yield running
    finally:
        codes = [w.stop() for w in running]
        assert codes == [0] * count, [w.text() for w in running]  # SIGTERM: a clean stop


@contextmanager
def database_unavailable(url: str) -> Iterator[None]:
    """The database refuses new connections and every open one is cut; the server itself stays up."""
    name = make_url(url).database
    admin = create_engine(database_url("postgres"), isolation_level="AUTOCOMMIT", poolclass=NullPool)
    with admin.connect() as conn:
        conn.execute(text(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false'))
        terminate_backends(url)
        try:
            yield
        finally:
            conn.execute(text(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true'))
    admin.dispose()


def terminate_backends(url: str) -> int:
    """pg_terminate_backend on every connection to the database, as a restart would."""
    admin = create_engine(database_url("postgres"), isolation_level="AUTOCOMMIT", poolclass=NullPool)
    with admin.connect() as conn:
        killed = conn.execute(
            text("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = :db"),
            {"db": make_url(url).database},
        ).scalar_one()
    admin.dispose()
    return int(killed)


def assert_exactly_once(sinks: Sinks, mail_ids: list[int], hook_ids: list[int]) -> None:
    assert sinks.duplicates() == []
    assert set(sinks.emails) == {message_id(i) for i in mail_ids}
    assert set(sinks.webhooks) == {str(i) for i in hook_ids}


def test_three_workers_side_by_side_deliver_every_message_exactly_once(fresh_db, tmp_path):
    sinks = Sinks(webhook_delay=0.002).start()
    try:
        with workers(3, worker_env(fresh_db, sinks), tmp_path) as running:
            mail_ids, hook_ids = enqueue(fresh_db, emails=200, webhooks=200, webhook_url=sinks.webhook_url)
            wait_until(lambda: outbox_rows(fresh_db)["sent"] == 400, 120, "400 messages sent")
            time.sleep(0.5)  # a last report line
        assert_exactly_once(sinks, mail_ids, hook_ids)
        per_worker = [w.sent() for w in running]
        assert sum(per_worker) == 400 and sum(1 for n in per_worker if n) >= 2, per_worker
    finally:
        sinks.stop()


def test_the_worker_rides_out_cut_connections_and_a_database_outage(fresh_db, tmp_path):
    """Idle and mid-batch: no exit, one line per problem, and afterwards everything exactly once."""
    sinks = Sinks(webhook_delay=0.02).start()
    try:
        with workers(1, worker_env(fresh_db, sinks), tmp_path) as [worker]:
            with database_unavailable(fresh_db):  # while idle
                time.sleep(4)
            mail_ids, hook_ids = enqueue(fresh_db, emails=100, webhooks=400, webhook_url=sinks.webhook_url)
            wait_until(lambda: sinks.received() >= 60, 60, "deliveries to start")
            assert terminate_backends(fresh_db) >= 1  # mid-batch, as a database restart does
            wait_until(lambda: sinks.received() >= 150, 60, "deliveries to go on")
            with database_unavailable(fresh_db):  # mid-batch, for some seconds
                during = sinks.received()
                time.sleep(5)
            assert during < 500, "the outage began after the work was done: it proves nothing"
            wait_until(lambda: outbox_rows(fresh_db) == {"pending": 0, "sent": 500}, 120, "everything sent")
            assert worker.process.poll() is None
        assert_exactly_once(sinks, mail_ids, hook_ids)
        log = worker.text()
        assert log.count("database unavailable") >= 2 and "database back after" in log, log
        assert "Traceback" not in log
    finally:
        sinks.stop()


def test_the_worker_waits_for_a_relay_and_a_webhook_target_that_are_down(fresh_db, tmp_path):
    sinks = Sinks(smtp_port=free_port(), webhook_port=free_port())  # not listening yet
    try:
        with workers(1, worker_env(fresh_db, sinks), tmp_path) as [worker]:
            mail_ids, hook_ids = enqueue(fresh_db, emails=5, webhooks=5, webhook_url=sinks.webhook_url)
            wait_until(lambda: "to retry: " in worker.text(), 30, "a retry line")
            time.sleep(2)
            sinks.start()
            wait_until(lambda: outbox_rows(fresh_db)["sent"] == 10, 60, "everything sent once the peers are up")
            assert worker.process.poll() is None
        assert_exactly_once(sinks, mail_ids, hook_ids)
        assert "ConnectionRefusedError" in worker.text() or "ConnectError" in worker.text()
    finally:
        sinks.stop()


class Killed(BaseException):
    """The worker process dying in the middle of a claim (SIGKILL, power cut)."""


class DiesOnTheFourth:
    def __init__(self) -> None:
        self.sent: list[int] = []

    def send(self, message: Outgoing) -> None:
        if len(self.sent) == 3:
            raise Killed
        self.sent.append(message.id)

    def close(self) -> None:
        pass


def test_a_worker_that_dies_mid_claim_has_recorded_what_it_sent(fresh_db):
    """Regression: the worker sent a batch, then marked it in one transaction; dying lost every mark."""
    mail_ids, _ = enqueue(fresh_db, emails=6)
    sender = DiesOnTheFourth()
    with pytest.raises(Killed), get_engine(fresh_db).connect() as conn:
        outbox.deliver_due(conn, sender=sender, limit=10)
    engine = create_engine(fresh_db, poolclass=NullPool)
    with engine.connect() as conn:
        rows = {
            r.id: r
            for r in conn.execute(
                text("SELECT id, status, attempts, next_attempt_at <= now() AS due FROM outbox ORDER BY id")
            )
        }
    engine.dispose()
    assert sender.sent == mail_ids[:3]
    assert [rows[i].status for i in mail_ids[:3]] == ["sent"] * 3  # recorded as they happened
    in_flight = rows[mail_ids[3]]  # may or may not have left: held until its lease ends, then re-sent
    assert in_flight.status == "pending" and not in_flight.due
    assert all(rows[i].status == "pending" and rows[i].due and rows[i].attempts == 0 for i in mail_ids[4:])


def test_a_refused_message_gets_a_backoff_only_while_its_claim_is_held(fresh_db):
    enqueue(fresh_db, emails=1)
    with get_engine(fresh_db).connect() as conn:
        [claimed] = outbox.claim_due(conn, limit=5, lease_seconds=60)
        assert outbox.claim_due(conn, limit=5, lease_seconds=60) == []  # held: nobody else takes it
        # The lease ran out and another worker took it: our late failure must not touch its claim.
        conn.execute(text("UPDATE outbox SET next_attempt_at = now() + interval '1 hour'"))
        conn.commit()
        outbox.record(conn, outbox.Outcome(claimed, error="late"))
        assert conn.execute(text("SELECT last_error FROM outbox")).scalar_one() is None


def test_worker_once_prints_why_a_message_waits(fresh_db, monkeypatch):
    from mapapp.cli import app

    enqueue(fresh_db, emails=1)
    monkeypatch.setenv("MAPAPP_SMTP_PORT", str(free_port()))
    get_settings.cache_clear()
    result = CliRunner().invoke(app, ["worker", "--once"], catch_exceptions=False)
    monkeypatch.undo()
    get_settings.cache_clear()
    assert result.exit_code == 0
    assert "outbox: 0 sent, 1 to retry: ConnectionRefusedError" in result.output


def test_readyz_and_outbox_status_show_the_backlog_and_a_database_outage(fresh_db):
    from fastapi.testclient import TestClient

    from mapapp.app import create_app
    from mapapp.cli import app

    [oldest, newest], _ = enqueue(fresh_db, emails=2)
    engine = create_engine(fresh_db, poolclass=NullPool)
    with engine.begin() as conn:
        conn.execute(text("UPDATE outbox SET created_at = now() - interval '90 seconds' WHERE id = :i"), {"i": oldest})
        conn.execute(text("UPDATE outbox SET last_error = 'ConnectionRefusedError' WHERE id = :i"), {"i": newest})
    engine.dispose()
    with TestClient(create_app()) as client:
        ready = client.get("/readyz")
        assert ready.status_code == 200
        body = ready.json()
        assert body["database"] == "ok" and body["outbox"]["pending"] == 2 and body["outbox"]["failing"] == 1
        assert 90 <= body["outbox"]["oldest_pending_age_seconds"] < 150
        status = CliRunner().invoke(app, ["outbox", "status"], catch_exceptions=False)
        assert status.exit_code == 0 and status.output.startswith("outbox: 2 pending, oldest 9")
        assert len(status.output.strip().splitlines()) == 1

        with database_unavailable(fresh_db):
            down = client.get("/readyz")
            assert down.status_code == 503
            assert down.json()["error"]["code"] == "database_unavailable"
            assert int(down.headers["Retry-After"]) > 0
        assert client.get("/readyz").status_code == 200  # back by itself


def test_the_worker_cleans_up_unreferenced_photos_on_its_schedule(fresh_db, tmp_path):
    media = tmp_path / "media"
    (media / "ab").mkdir(parents=True)
    old, recent = media / "ab" / "old.jpg", media / "ab" / "recent.jpg"
    for path in (old, recent):
        path.write_bytes(b"\xff\xd8 not referenced")
    two_hours_ago = time.time() - 7200
    os.utime(old, (two_hours_ago, two_hours_ago))
    sinks = Sinks()
    env = worker_env(
        fresh_db,
        sinks,
        MAPAPP_MEDIA_DIR=str(media),
        MAPAPP_PHOTO_CLEANUP_INTERVAL_SECONDS="1",
        MAPAPP_PHOTO_ORPHAN_GRACE_SECONDS="3600",
    )
    with workers(1, env, tmp_path) as [worker]:
        wait_until(lambda: not old.exists(), 30, "the old unreferenced file to go")
        assert recent.exists()  # inside the grace period: perhaps a submission not yet committed
        later = media / "ab" / "later.jpg"
        later.write_bytes(b"\xff\xd8 also not referenced")
        os.utime(later, (two_hours_ago, two_hours_ago))
        wait_until(lambda: not later.exists(), 30, "the next scheduled cleanup")
    assert "photo cleanup: removed 1 unreferenced files" in worker.text()
    assert recent.exists()


def test_the_cleanup_waits_for_a_backup_holding_the_photo_files_lock(fresh_db):
    """Backup copies the files its snapshot names while holding the lock; cleanup must not run meanwhile."""
    import threading

    from mapapp.photos import cleanup

    engine = create_engine(fresh_db, poolclass=NullPool)
    finished = threading.Event()

    def run_cleanup() -> None:
        with transaction() as session:
            cleanup.remove_unreferenced(session, older_than_seconds=0)
        finished.set()

    with engine.connect() as holder:
        holder.execute(text("SELECT pg_advisory_lock(:k)"), {"k": cleanup.PHOTO_FILES_LOCK})
        thread = threading.Thread(target=run_cleanup)
        thread.start()
        assert not finished.wait(1.5)
        holder.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": cleanup.PHOTO_FILES_LOCK})
    thread.join(10)
    engine.dispose()
    assert finished.is_set()
