"""The reference connector: the contract between a channel and mapapp, end to end, over real HTTP.

It reads messages as JSON lines (a file, or a local HTTP endpoint that answers JSON lines), posts them
to `POST /api/intake/messages` in batches with the channel's API key, and listens for the signed
replies mapapp sends back (`channel.reply` webhooks), checking each signature with the channel's
reply secret and writing each reply as a JSON line. A real connector would post the reply to the
platform (a tweet reply, a KakaoTalk message) instead.
"""

import hashlib
import hmac
import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import IO, Any

import httpx


def read_lines(source: str) -> Iterator[dict[str, Any]]:
    """Messages from a JSON-lines file, or from a local http(s) endpoint answering JSON lines."""
    if source.startswith(("http://", "https://")):
        with httpx.stream("GET", source, timeout=30) as response:
            response.raise_for_status()
            for line in response.iter_lines():
                if line.strip():
                    yield json.loads(line)
        return
    with Path(source).open(encoding="utf-8") as lines:
        for line in lines:
            if line.strip():
                yield json.loads(line)


def post_messages(
    url: str, key: str, messages: Iterator[dict[str, Any]], *, batch: int = 200, client: httpx.Client | None = None
) -> list[dict[str, Any]]:
    """Post every message in batches; the results in order. A refused batch raises with mapapp's error body."""
    own = client is None
    http = client or httpx.Client(timeout=60)
    results: list[dict[str, Any]] = []
    try:
        chunk: list[dict[str, Any]] = []
        for message in messages:
            chunk.append(message)
            if len(chunk) >= batch:
                results += _post(http, url, key, chunk)
                chunk = []
        if chunk:
            results += _post(http, url, key, chunk)
    finally:
        if own:
            http.close()
    return results


def _post(http: httpx.Client, url: str, key: str, chunk: list[dict[str, Any]]) -> list[dict[str, Any]]:
    response = http.post(
        url.rstrip("/") + "/api/intake/messages",
        json={"messages": chunk},
        headers={"Authorization": f"Bearer {key}"},
    )
    if response.status_code >= 300:
        raise RuntimeError(f"mapapp answered {response.status_code}: {response.text[:500]}")
    results: list[dict[str, Any]] = response.json()["results"]
    return results


def valid_signature(secret: str, body: bytes, header: str | None) -> bool:
    """Whether X-Mapapp-Signature is the HMAC-SHA256 of the body with the channel's reply secret."""
    expected = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return bool(header) and hmac.compare_digest(expected, header or "")


@dataclass
class ReplyReceiver:
    """A local HTTP endpoint that takes mapapp's signed replies (and drops a delivery it has seen)."""

    secret: str
    host: str = "127.0.0.1"
    port: int = 0
    out: IO[str] | None = None
    replies: list[dict[str, Any]] = field(default_factory=list)
    refused: int = 0
    _seen: set[str] = field(default_factory=set)
    _server: ThreadingHTTPServer | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def url(self) -> str:
        assert self._server is not None
        return f"http://{self.host}:{self._server.server_address[1]}/replies"

    def start(self) -> "ReplyReceiver":
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                if not valid_signature(receiver.secret, body, self.headers.get("X-Mapapp-Signature")):
                    with receiver._lock:
                        receiver.refused += 1
                    self.send_response(401)
                    self.end_headers()
                    return
                delivery = self.headers.get("X-Mapapp-Delivery") or ""
                with receiver._lock:
                    if delivery not in receiver._seen:  # a repeated delivery is answered 2xx and ignored
                        receiver._seen.add(delivery)
                        reply = json.loads(body)
                        receiver.replies.append(reply)
                        if receiver.out is not None:
                            receiver.out.write(json.dumps(reply, ensure_ascii=False) + "\n")
                            receiver.out.flush()
                self.send_response(204)
                self.end_headers()

            def log_message(self, *_: Any) -> None:
                return

        self._server = ThreadingHTTPServer((self.host, self.port), Handler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
