"""The notification worker: delivery threads that ride out database and peer outages, and the scheduled
photo cleanup. Nothing transient makes it exit; it stops on SIGTERM or Ctrl-C after recording what it sent.
"""

import logging
import signal
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from sqlalchemy import Connection, Engine
from sqlalchemy import exc as sa_exc

from mapapp.core.db import get_engine, transaction
from mapapp.core.settings import get_settings
from mapapp.notify import service
from mapapp.notify.replies import ChannelReplySender
from mapapp.notify.senders import Sender
from mapapp.notify.service import Claimed, Outcome

log = logging.getLogger("mapapp.worker")

RECONNECT_FIRST_SECONDS = 0.5
RECONNECT_MAX_SECONDS = 2.0


def is_database_error(exc: BaseException) -> bool:
    """A lost or refused database connection (restart, outage, terminated backend), not a bug."""
    if isinstance(exc, sa_exc.OperationalError | sa_exc.InterfaceError | sa_exc.TimeoutError):
        return True
    return isinstance(exc, sa_exc.DBAPIError) and exc.connection_invalidated


def describe(exc: BaseException) -> str:
    """`Type: first line of the message`, the driver's error rather than SQLAlchemy's wrapper."""
    inner = exc.orig if isinstance(exc, sa_exc.DBAPIError) and exc.orig is not None else exc
    first = (str(inner).strip().splitlines() or [""])[0]
    return f"{type(inner).__name__}: {first}"


class _DatabaseHealth:
    """Shared by the threads, so that an outage gives one line when it starts and one when it ends."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._down_since: float | None = None

    def down(self, exc: BaseException) -> None:
        with self._lock:
            if self._down_since is None:
                self._down_since = time.monotonic()
                log.warning("database unavailable (%s); deliveries wait, reconnecting with backoff", describe(exc))

    def up(self) -> None:
        with self._lock:
            if self._down_since is not None:
                log.warning("database back after %.1f s; delivering", time.monotonic() - self._down_since)
                self._down_since = None


@dataclass
class _Tally:
    """Deliveries since the last report line."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    sent: int = 0
    failed: int = 0
    last_error: str | None = None

    def add(self, outcome: Outcome) -> None:
        with self.lock:
            if outcome.error is None:
                self.sent += 1
            else:
                self.failed, self.last_error = self.failed + 1, outcome.error

    def report(self) -> None:
        with self.lock:
            sent, failed, error = self.sent, self.failed, self.last_error
            self.sent, self.failed, self.last_error = 0, 0, None
        if failed:
            log.info("outbox: %d sent, %d to retry: %s", sent, failed, error)
        elif sent:
            log.info("outbox: %d sent", sent)


def _say_where_mail_goes(host: str, port: int) -> None:
    """One line at start: where e-mail goes, and plainly when nothing listens there (not a retry every minute)."""
    import socket

    try:
        with socket.create_connection((host, port), timeout=2):
            log.info("e-mail goes to the SMTP relay at %s:%d", host, port)
    except OSError as exc:
        log.warning(
            "no SMTP relay answers at %s:%d (%s): e-mails wait in the outbox until one does; "
            "set MAPAPP_SMTP_HOST and MAPAPP_SMTP_PORT",
            host,
            port,
            exc.strerror or exc,
        )


class _DeliveryThread(threading.Thread):
    """Claims a few due messages at a time and records each delivery as soon as the peer has answered."""

    def __init__(self, worker: "Worker", number: int) -> None:
        super().__init__(name=f"delivery-{number}", daemon=True)
        self.worker = worker
        self.sender = worker.sender_factory()
        self.unrecorded: list[Outcome] = []  # sent (or refused) while the database was away
        self.unsent: list[Claimed] = []  # claimed, not yet sent

    def run(self) -> None:
        failures = 0
        try:
            while not self.worker.stopping.is_set():
                try:
                    busy = self._round()
                except Exception as exc:
                    failures += 1
                    if is_database_error(exc):
                        self.worker.health.down(exc)
                    else:
                        log.error("delivery %s failed unexpectedly (%s); retrying", self.name, describe(exc))
                    delay = min(RECONNECT_FIRST_SECONDS * 2 ** (failures - 1), RECONNECT_MAX_SECONDS)
                    self.worker.stopping.wait(delay)
                    continue
                failures = 0
                self.worker.health.up()
                if not busy:
                    self.worker.stopping.wait(self.worker.interval)
            self._settle_before_exit()
        finally:
            self.sender.close()

    def _round(self) -> bool:
        """Settle what an outage held back, then claim and deliver one small batch. False when nothing was due."""
        settings = get_settings()
        with self.worker.connect() as conn:
            self._settle(conn)
            self.unsent = service.claim_due(
                conn, limit=settings.notify_claim_size, lease_seconds=settings.notify_claim_lease_seconds
            )
            if not self.unsent:
                return False
            while self.unsent and not self.worker.stopping.is_set():
                outcome = service.deliver(self.sender, self.unsent.pop(0))
                self.worker.tally.add(outcome)
                self.unrecorded.append(outcome)
                self._record_held(conn)
            self._settle(conn)  # stopping: give back what was not sent
            return True

    def _record_held(self, conn: Connection) -> None:
        while self.unrecorded:
            service.record(conn, self.unrecorded[0])
            self.unrecorded.pop(0)

    def _settle(self, conn: Connection) -> None:
        """Record held outcomes; give back held claims (the lease guard leaves them alone if they expired)."""
        self._record_held(conn)
        if self.unsent:
            service.release(conn, self.unsent)
            self.unsent = []

    def _settle_before_exit(self) -> None:
        if not self.unrecorded and not self.unsent:
            return
        try:
            with self.worker.connect() as conn:
                self._settle(conn)
        except Exception as exc:
            ids = ", ".join(str(o.claimed.message.id) for o in self.unrecorded) or "none"
            log.error("stopping without the database (%s); deliveries not recorded: %s", describe(exc), ids)


@dataclass(frozen=True)
class PeriodicJob:
    """Work the worker runs every `every_seconds` besides delivering (e.g. gathering e-mail alerts), given by
    the caller so that notify imports none of the features that put messages in its outbox."""

    name: str
    every_seconds: float
    run: Callable[[], int]  # returns how many things it did, for the log line


class Worker:
    """`mapapp worker`: delivery threads, a report line every interval, photo cleanup and jobs on their schedule."""

    def __init__(
        self,
        *,
        interval: float = 2.0,
        threads: int | None = None,
        engine: Engine | None = None,
        sender_factory: Callable[[], Sender] = ChannelReplySender,  # e-mail, webhooks, and channel replies
        jobs: Sequence[PeriodicJob] = (),
    ) -> None:
        settings = get_settings()
        self.interval = interval
        self.threads = threads or settings.notify_worker_threads
        self.engine = engine or get_engine()
        self.sender_factory = sender_factory
        self.jobs = [job for job in jobs if job.every_seconds > 0]
        self.stopping = threading.Event()
        self.health = _DatabaseHealth()
        self.tally = _Tally()

    def connect(self) -> Connection:
        """A connection on which every statement commits by itself: each delivery is recorded in one round trip."""
        return self.engine.connect().execution_options(isolation_level="AUTOCOMMIT")

    def stop(self, *_: object) -> None:
        """Finish the message in flight, record it, give back the rest of the claim, and return from run()."""
        self.stopping.set()

    def run(self) -> None:
        """Deliver until stopped."""
        settings = get_settings()
        if threading.current_thread() is threading.main_thread():
            signal.signal(signal.SIGTERM, self.stop)
        threads = [_DeliveryThread(self, n) for n in range(1, self.threads + 1)]
        for thread in threads:
            thread.start()
        every = settings.photo_cleanup_interval_seconds
        log.info(
            "worker started: %d delivery threads, photo cleanup %s",
            len(threads),
            f"every {every} s" if every else "off",
        )
        _say_where_mail_goes(settings.smtp_host, settings.smtp_port)
        next_cleanup = time.monotonic()
        next_job = {job.name: time.monotonic() for job in self.jobs}
        try:
            while not self.stopping.wait(self.interval):
                self.tally.report()
                if every and time.monotonic() >= next_cleanup:
                    self.cleanup_photos()
                    next_cleanup = time.monotonic() + every
                for job in self.jobs:
                    if time.monotonic() >= next_job[job.name]:
                        self.run_job(job)
                        next_job[job.name] = time.monotonic() + job.every_seconds
        except KeyboardInterrupt:
            self.stop()
        for thread in threads:
            thread.join(timeout=30)
        self.tally.report()
        log.info("worker stopped")

    def run_job(self, job: PeriodicJob) -> None:
        """Run one periodic job; a failure is logged and waits for the job's next turn."""
        try:
            done = job.run()
        except Exception as exc:
            log.warning("%s failed (%s); next try in %.0f s", job.name, describe(exc), job.every_seconds)
            return
        if done:
            log.info("%s: %d queued", job.name, done)

    def cleanup_photos(self) -> None:
        """Remove photo files no row refers to and older than the grace period; a failure waits for the next turn."""
        from mapapp.photos import cleanup

        settings = get_settings()
        every = settings.photo_cleanup_interval_seconds
        try:
            with transaction() as session:
                removed = cleanup.remove_unreferenced(session, older_than_seconds=settings.photo_orphan_grace_seconds)
        except Exception as exc:
            log.warning("photo cleanup failed (%s); next try in %d s", describe(exc), every)
            return
        if removed:
            log.info("photo cleanup: removed %d unreferenced files", removed)
