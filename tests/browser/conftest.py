"""A real browser: Debian's Chromium driven by Playwright, against the real server on loopback.

Every test fails on a request to any other host, on any console error and on any Content-Security-Policy
violation (a console message of any level, or a `securitypolicyviolation` event in any frame); screenshots
of the pages are saved in test-artifacts/ to be looked at.
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


# Runs in every frame before the page's own scripts; CSP does not apply to it (it comes from the browser).
REPORT_CSP_VIOLATIONS = """
document.addEventListener("securitypolicyviolation", (e) => {
  const where = `${e.sourceFile}:${e.lineNumber}`;
  window.__mapappCspViolation(`${e.violatedDirective} blocked ${e.blockedURI || "inline"} at ${where}`);
});
"""


class Watch:
    """What a page did that it must not: requests to other hosts, console errors, page errors, CSP violations."""

    def __init__(self, allowed_hosts: set[str]) -> None:
        self.allowed = allowed_hosts
        self.foreign: list[str] = []
        self.errors: list[str] = []
        self.csp: list[str] = []
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

        def on_console(msg) -> None:  # type: ignore[no-untyped-def]
            if "content security policy" in msg.text.lower():
                self.csp.append(f"{msg.type}: {msg.text}")
            elif msg.type == "error":
                self.errors.append(msg.text)

        page.route("**/*", on_request)
        page.expose_binding("__mapappCspViolation", lambda _source, text: self.csp.append(text))
        page.add_init_script(REPORT_CSP_VIOLATIONS)
        page.on("console", on_console)
        page.on("response", lambda r: r.status >= 500 and self.errors.append(f"{r.status} {r.url}"))
        page.on("pageerror", lambda exc: self.errors.append(str(exc)))

    def check(self) -> None:
        assert self.csp == [], f"Content Security Policy violations: {self.csp}"
        assert self.foreign == [], f"requests left our origin: {self.foreign}"
        expected = {f"the server responded with a status of {code}" for code in self.expected_status}
        errors = [e for e in self.errors if not any(x in e for x in expected)]
        assert errors == [], f"console errors: {errors}"


@pytest.fixture
def watch(live_server: str) -> Iterator[Watch]:
    """Checked at the end of every test that uses it, also those that open their own browser contexts."""
    w = Watch({urlparse(live_server).netloc})
    yield w
    w.check()


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
