"""`make run` keeps the notification worker alive: the supervising loop of scripts/dev.sh, run for real
with a stand-in worker that dies, and stopped as the server's exit stops it."""

import os
import signal
import subprocess
import time
from pathlib import Path

from tests.conftest import PROJECT


def supervise_function() -> str:
    script = (PROJECT / "scripts" / "dev.sh").read_text()
    start = script.index("    supervise_worker() {")
    end = script.index("\n    }\n", start) + len("\n    }\n")
    return script[start:end]


def test_make_run_restarts_a_worker_that_dies_and_stops_it_with_the_server(tmp_path: Path):
    starts = tmp_path / "starts"
    # A stand-in worker: the first two die at once, the third stays up (as a healthy worker does).
    worker = f'echo $$ >> {starts}; [ "$(wc -l < {starts})" -ge 3 ] && exec sleep 60; exit 1'
    program = "\n".join(
        [
            "set -euo pipefail",
            'say() { printf "==> %s\\n" "$*"; }',
            supervise_function(),
            f"supervise_worker sh -c '{worker}'",
        ]
    )
    supervisor = subprocess.Popen(
        ["bash", "-c", program],
        env=dict(os.environ, MAPAPP_WORKER_RESTART_SECONDS="0.2"),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    deadline = time.monotonic() + 20
    while (not starts.exists() or len(starts.read_text().split()) < 3) and time.monotonic() < deadline:
        time.sleep(0.05)
    pids = starts.read_text().split()
    assert len(pids) == 3, pids
    time.sleep(0.3)
    assert supervisor.poll() is None
    last = int(pids[-1])
    os.kill(last, 0)  # the third worker is running

    supervisor.send_signal(signal.SIGTERM)  # what the server's exit trap sends
    output, _ = supervisor.communicate(timeout=10)
    assert supervisor.returncode == 0
    assert output.count("notification worker exited (status 1); restarting") == 2
    time.sleep(0.2)
    try:
        os.kill(last, 0)
        alive = True
    except ProcessLookupError:
        alive = False
    assert not alive, "the worker outlived the server"
