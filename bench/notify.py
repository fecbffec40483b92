"""Notification worker throughput: `mapapp worker` draining the outbox to a local SMTP sink (aiosmtpd) and a
local webhook sink, against a bare loop that sends the same messages without the database.

    .venv/bin/python -m bench.notify [--messages 5000] [--rounds 3]

Half the messages are e-mails, half webhooks, interleaved. The baseline is a separate process with one
smtplib connection and one httpx client in one thread, no database. The worker is a real `mapapp worker`
process (claims with FOR UPDATE SKIP LOCKED, one commit per delivery), timed from the commit that puts
the messages in the outbox to the last one arriving, with one delivery thread and with its default four.
Runs alternate (baseline, worker ×1, worker ×4) so that drift on the shared machine hits each alike.
"""

import argparse
import json
import os
import smtplib
import statistics
import subprocess
import sys
import time
from email.mime.text import MIMEText
from email.utils import formatdate
from pathlib import Path

import httpx
from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool

from bench.common import bench_database
from tests.notify.sinks import Sinks

MAPAPP = str(Path(sys.executable).parent / "mapapp")


def baseline(messages: int, smtp_port: int, webhook_url: str, first_id: int) -> float:
    """The bare loop: the same messages over one SMTP connection and one HTTP client; seconds taken."""
    start = time.perf_counter()
    with smtplib.SMTP("127.0.0.1", smtp_port) as smtp, httpx.Client() as client:
        for n in range(first_id, first_id + messages):
            if n % 2:  # built as the worker builds it (compat32 MIMEText), sent on the one connection
                mail = MIMEText(f"Body {n}", "plain", "utf-8")
                mail["From"], mail["To"], mail["Subject"] = "mapapp@localhost", f"person{n}@example.org", f"Report {n}"
                mail["Date"], mail["Message-ID"] = formatdate(), f"<bare-{n}@localhost>"
                smtp.sendmail("mapapp@localhost", [f"person{n}@example.org"], mail.as_bytes())
            else:
                body = json.dumps({"event": "report.created", "data": {"n": n}, "delivery": n}).encode()
                client.post(webhook_url, content=body, headers={"X-Mapapp-Delivery": f"bare-{n}"}).raise_for_status()
    return time.perf_counter() - start


def enqueue(url: str, messages: int, webhook_url: str) -> None:
    engine = create_engine(url, poolclass=NullPool)
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO outbox (channel, recipient, subject, body, payload, status, attempts) "
                "SELECT CASE WHEN n % 2 = 1 THEN 'email' ELSE 'webhook' END, "
                "CASE WHEN n % 2 = 1 THEN 'person' || n || '@example.org' ELSE :url END, "
                "'Report ' || n, 'Body ' || n, "
                "CASE WHEN n % 2 = 1 THEN '{}'::jsonb "
                "ELSE jsonb_build_object('event', 'report.created', 'data', jsonb_build_object('n', n)) END, "
                "'pending', 0 FROM generate_series(1, :n) n"
            ),
            {"n": messages, "url": webhook_url},
        )
    engine.dispose()


def sent_count(url: str) -> int:
    engine = create_engine(url, poolclass=NullPool)
    with engine.connect() as conn:
        count = int(conn.execute(text("SELECT count(*) FROM outbox WHERE status = 'sent'")).scalar_one())
    engine.dispose()
    return count


def run_worker(url: str, sinks: Sinks, messages: int, threads: int) -> float:
    """Seconds from the commit of `messages` outbox rows to the last delivery recorded, one worker process."""
    env = dict(
        os.environ,
        MAPAPP_DATABASE_URL=url,
        MAPAPP_SMTP_PORT=str(sinks.smtp_port),
        MAPAPP_PHOTO_CLEANUP_INTERVAL_SECONDS="0",
    )
    log = Path(f"/tmp/bench-notify-worker-{os.getpid()}.log")
    with log.open("wb") as out:
        worker = subprocess.Popen(
            [MAPAPP, "worker", "--interval", "0.2", "--threads", str(threads)], env=env, stdout=out, stderr=out
        )
    try:
        while "worker started" not in log.read_text():
            if worker.poll() is not None:
                raise SystemExit(f"the worker exited: {log.read_text()}")
            time.sleep(0.05)
        engine = create_engine(url, poolclass=NullPool)
        with engine.begin() as conn:
            conn.execute(text("TRUNCATE outbox"))
        engine.dispose()
        before = sinks.received()
        enqueue(url, messages, sinks.webhook_url)
        start = time.perf_counter()
        while sinks.received() - before < messages:
            time.sleep(0.005)
        while sent_count(url) < messages:  # the last records committed too
            time.sleep(0.005)
        return time.perf_counter() - start
    finally:
        worker.terminate()
        worker.wait(timeout=60)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=5000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--baseline-child", nargs=3, metavar=("SMTP_PORT", "WEBHOOK_URL", "FIRST_ID"))
    args = parser.parse_args()
    if args.baseline_child:
        port, hook, first = args.baseline_child
        print(baseline(args.messages, int(port), hook, int(first)))
        return

    sinks = Sinks().start()
    rates: dict[str, list[float]] = {"bare loop, 1 thread": [], "worker, 1 thread": [], "worker, 4 threads": []}
    try:
        with bench_database("mapapp_bench_notify") as url:
            for round_ in range(args.rounds):
                before = sinks.received()
                where = ["--baseline-child", str(sinks.smtp_port), sinks.webhook_url, str(10_000_000 * (round_ + 1))]
                child = subprocess.run(
                    [sys.executable, "-m", "bench.notify", "--messages", str(args.messages), *where],
                    capture_output=True,
                    text=True,
                    check=True,
                )
                assert sinks.received() - before == args.messages
                rates["bare loop, 1 thread"].append(args.messages / float(child.stdout.strip()))
                for threads in (1, 4):
                    seconds = run_worker(url, sinks, args.messages, threads)
                    rates[f"worker, {threads} thread{'s' if threads > 1 else ''}"].append(args.messages / seconds)
                print(f"round {round_ + 1}: " + ", ".join(f"{k} {v[-1]:.0f}/s" for k, v in rates.items()), flush=True)
            duplicates = sinks.duplicates()
    finally:
        sinks.stop()
    bare = statistics.median(rates["bare loop, 1 thread"])
    print(f"\n{args.messages} messages (half e-mail, half webhook), median of {args.rounds} rounds")
    print("| path | messages/s | vs bare loop |\n| --- | --- | --- |")
    for name, values in rates.items():
        rate = statistics.median(values)
        print(f"| {name} | {rate:.0f} | {rate / bare:.2f}× |")
    print(f"duplicates received: {len(duplicates)}")


if __name__ == "__main__":
    main()
