"""A real mapapp server process (uvicorn on a free port), for tests that measure its memory and files."""

import os
import re
import socket
import struct
import subprocess
import sys
import tempfile
import time
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from tests.conftest import PROJECT


@dataclass
class ServerProcess:
    url: str
    pid: int
    tmpdir: Path  # the server's TMPDIR: where a spooled upload would land

    def memory_mb(self) -> dict[str, float]:
        """VmRSS (now) and VmHWM (peak since start or the last reset), in MiB."""
        status = Path(f"/proc/{self.pid}/status").read_text()
        return {k: int(re.search(rf"{k}:\s+(\d+)", status).group(1)) / 1024 for k in ("VmRSS", "VmHWM")}  # type: ignore[union-attr]

    def reset_peak(self) -> None:
        """Start VmHWM again from the current RSS (Linux: clear_refs 5)."""
        Path(f"/proc/{self.pid}/clear_refs").write_text("5")

    def open_temp_files(self, min_bytes: int = 1024 * 1024) -> list[str]:
        """Files of at least `min_bytes` the server holds open in a temp directory, deleted or not (a spooled
        body). Small ones are left out: libraries keep tiny anonymous files (libffi's trampolines)."""
        found = []
        for fd in Path(f"/proc/{self.pid}/fd").iterdir():
            try:
                target = os.readlink(fd)
                size = fd.stat().st_size
            except OSError:
                continue
            # The server's own TMPDIR, or an unlinked file anywhere: where a spooled body would be. Not any
            # path under /tmp: the checkout itself may live there (CI clones into a temporary folder).
            if (target.startswith(str(self.tmpdir)) or "(deleted)" in target) and size >= min_bytes:
                found.append(f"{target} ({size} bytes)")
        return found

    def temp_bytes(self) -> int:
        """Bytes in files under the server's TMPDIR."""
        return sum(p.stat().st_size for p in self.tmpdir.rglob("*") if p.is_file())


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def server_process(database_url: str, **settings: str) -> Iterator[ServerProcess]:
    """`uvicorn mapapp.app:create_app` in its own process over `database_url`, with MAPAPP_* overrides."""
    port = _free_port()
    tmpdir = Path(tempfile.mkdtemp(prefix="mapapp-server-tmp-"))
    env = {
        **os.environ,
        "MAPAPP_DATABASE_URL": database_url,
        "MAPAPP_RATELIMIT_ENABLED": "false",
        "TMPDIR": str(tmpdir),
        **{f"MAPAPP_{k.upper()}": v for k, v in settings.items()},
    }
    command = [sys.executable, "-m", "uvicorn", "mapapp.app:create_app", "--factory"]
    command += ["--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"]
    proc = subprocess.Popen(command, cwd=PROJECT, env=env)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            assert proc.poll() is None, "the server process exited at start-up"
            try:
                if httpx.get(f"{url}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, "the server did not start within 30 s"
            time.sleep(0.2)
        yield ServerProcess(url, proc.pid, tmpdir)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def huge_png(side: int = 7745) -> bytes:
    """A flat RGBA PNG of side × side pixels: ~250 KB on disk, side² × 4 bytes once decoded."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    compressor = zlib.compressobj(9)
    row = b"\x00" + bytes([90, 120, 200, 255]) * side  # filter byte, then the pixels
    idat = b"".join(compressor.compress(row) for _ in range(side)) + compressor.flush()
    header = struct.pack(">IIBBBBB", side, side, 8, 6, 0, 0, 0)  # 8-bit RGBA
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")
