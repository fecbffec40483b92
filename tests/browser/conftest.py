"""A real browser: Debian's Chromium driven by Playwright, against the real server on loopback.

Every test fails on a request to any other host and on any console error; screenshots of the pages
are saved in test-artifacts/ to be looked at.
"""

import shutil
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlparse

import pytest

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    if CHROMIUM is None:
        pytest.skip("needs Debian's chromium (apt-get install chromium); `make test` installs it")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        yield b
        b.close()


class Watch:
    """What a page did that it must not: requests to other hosts, console errors, page errors."""

    def __init__(self, allowed_hosts: set[str]) -> None:
        self.allowed = allowed_hosts
        self.foreign: list[str] = []
        self.errors: list[str] = []
        self.expected_status: set[int] = set()  # answers a test provokes on purpose (the browser logs them)

    def attach(self, page) -> None:  # type: ignore[no-untyped-def]
        def on_request(route) -> None:  # type: ignore[no-untyped-def]
            url = route.request.url
            parsed = urlparse(url)
            if parsed.scheme in ("data", "blob") or parsed.netloc in self.allowed:
                route.continue_()
            else:
                self.foreign.append(url)
                route.abort()

        page.route("**/*", on_request)
        page.on("console", lambda msg: msg.type == "error" and self.errors.append(msg.text))
        page.on("response", lambda r: r.status >= 500 and self.errors.append(f"{r.status} {r.url}"))
        page.on("pageerror", lambda exc: self.errors.append(str(exc)))

    def check(self) -> None:
        assert self.foreign == [], f"requests left our origin: {self.foreign}"
        expected = {f"the server responded with a status of {code}" for code in self.expected_status}
        errors = [e for e in self.errors if not any(x in e for x in expected)]
        assert errors == [], f"console errors: {errors}"


@pytest.fixture
def watch(live_server: str) -> Watch:
    return Watch({urlparse(live_server).netloc})


@pytest.fixture
def page(browser, watch, live_server):  # type: ignore[no-untyped-def]
    context = browser.new_context(
        viewport={"width": 1280, "height": 800},
        locale="ko-KR",
        geolocation={"latitude": 37.5663, "longitude": 126.9016},
        permissions=["geolocation"],
    )
    page = context.new_page()
    watch.attach(page)
    yield page
    context.close()
    watch.check()


def screenshot(page, name: str) -> Path:  # type: ignore[no-untyped-def]
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=False)
    return path
