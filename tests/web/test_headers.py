"""Security headers on every page and a sample of API answers; JSON inside HTML that hostile query values
cannot break out of."""

import json
import re
from html.parser import HTMLParser

import pytest
from fastapi.responses import HTMLResponse
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient

from mapapp.web.router import router as web_router
from mapapp.web.security import add_nonce, content_security_policy, json_for_html, tile_source

PAGES = ["/", "/embed", "/reports/{public_id}", "/office", "/triage", "/admin", "/docs", "/moderate", "/reset-password"]
API_SAMPLE = [
    "/api/layers",
    "/api/reports?bbox=126.8,37.4,127.2,37.7&layer=facilities",
    "/api/reports/NOSUCHREPORT",  # an error answer
    "/api/reports/nearby?lat=north&lon=127",  # a validation error
    "/openapi.json",
    "/healthz",
    "/widget.js",
    "/static/js/map.js",
    "/static/vendor/leaflet/leaflet.js",
]
HOSTILE = [
    "<!--<script>",
    "</script><script>alert(1)</script>",
    "</SCRIPT >",
    "\u2028\u2029",
    "'\"><img src=x onerror=alert(1)>",
    "]]>&amp;<![CDATA[",
    "<!--",
]
# Every query parameter of every page (a new parameter must be added here to be tested).
PAGE_PARAMS = {
    "/": ["lang"],
    "/embed": ["layer", "district", "mode", "lang"],
    "/reports/{public_id}": ["lang"],
    "/office": ["lang"],
    "/triage": ["lang"],
    "/admin": ["lang"],
    "/docs": [],
    "/moderate": ["lang"],
    "/reset-password": ["lang"],
}


@pytest.fixture(scope="module")
def report_id(client: TestClient) -> str:
    response = client.post(
        "/api/reports",
        json={
            "layer": "facilities",
            "category": "pothole",
            "lat": 37.5663,
            "lon": 126.9016,
            "description": '</script><!--<script>alert(1)</script>\u2028 =HYPERLINK("x")',
        },
    )
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def page_url(path: str, report_id: str) -> str:
    return path.replace("{public_id}", report_id)


class Scripts(HTMLParser):
    """The <script> elements of a page: their attributes and their raw text."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=False)
        self.scripts: list[tuple[dict[str, str | None], str]] = []
        self.handlers: list[str] = []
        self._open: dict[str, str | None] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handlers += [name for name, _ in attrs if name.startswith("on")]
        if tag == "script":
            self._open = dict(attrs)
            self.scripts.append((self._open, ""))

    def handle_data(self, data: str) -> None:
        if self._open is not None:
            attrs, text = self.scripts[-1]
            self.scripts[-1] = (attrs, text + data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._open = None


def parse(html: str) -> Scripts:
    parser = Scripts()
    parser.feed(html)
    parser.close()
    return parser


def directives(policy: str) -> dict[str, list[str]]:
    out = {}
    for part in policy.split(";"):
        name, *values = part.split()
        out[name] = values
    return out


def test_every_page_route_is_covered(client: TestClient) -> None:
    routes = [*web_router.routes, *client.app.routes]  # type: ignore[attr-defined]
    pages = {
        route.path
        for route in routes
        if isinstance(route, APIRoute) and route.endpoint.__annotations__.get("return") is HTMLResponse
    }
    assert pages == set(PAGES) == set(PAGE_PARAMS)


@pytest.mark.parametrize("path", PAGES)
def test_pages_carry_a_strict_csp_and_the_other_headers(client: TestClient, report_id: str, path: str) -> None:
    response = client.get(page_url(path, report_id))
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/html")
    csp = directives(response.headers["content-security-policy"])
    assert csp["default-src"] == ["'self'"]
    assert csp["script-src"][0] == "'self'" and all(v.startswith("'nonce-") for v in csp["script-src"][1:])
    assert "'unsafe-inline'" not in csp["script-src"] and "'unsafe-eval'" not in csp["script-src"]
    assert csp["object-src"] == ["'none'"] and csp["base-uri"] == ["'self'"] and csp["connect-src"] == ["'self'"]
    assert csp["img-src"] == ["'self'", "data:", "blob:"]  # the test settings have no tile server
    assert "'unsafe-inline'" not in csp["style-src-elem"]
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "strict-origin-when-cross-origin"
    if path == "/embed":
        assert csp["frame-ancestors"] == ["*"] and "x-frame-options" not in response.headers
    else:
        assert csp["frame-ancestors"] == ["'self'"] and response.headers["x-frame-options"] == "SAMEORIGIN"

    # No inline script runs without this answer's nonce; no inline event handler anywhere.
    nonce = next((v[len("'nonce-") : -1] for v in csp["script-src"] if v.startswith("'nonce-")), None)
    page = parse(response.text)
    assert page.handlers == []
    for attrs, text in page.scripts:
        if attrs.get("src") or attrs.get("type") == "application/json":
            continue
        assert nonce and attrs.get("nonce") == nonce, f"inline script without the nonce: {text[:80]!r}"
    assert re.search(r"\son[a-z]+=", response.text) is None


def test_each_answer_has_its_own_nonce(client: TestClient) -> None:
    first, second = (directives(client.get("/").headers["content-security-policy"]) for _ in range(2))
    assert first["script-src"] != second["script-src"]
    assert len(first["script-src"][1]) >= len("'nonce-'") + 22  # at least 128 bits


@pytest.mark.parametrize("path", API_SAMPLE)
def test_api_answers_carry_the_headers_too(client: TestClient, path: str) -> None:
    response = client.get(path)
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "strict-origin-when-cross-origin"
    assert response.headers["x-frame-options"] == "SAMEORIGIN"
    csp = directives(response.headers["content-security-policy"])
    assert csp["frame-ancestors"] == ["'self'"] and csp["script-src"] == ["'self'"]  # no nonce asked for


def test_the_docs_page_needs_no_inline_script(client: TestClient) -> None:
    response = client.get("/docs")
    assert "nonce-" not in response.headers["content-security-policy"]
    assert [attrs["src"] for attrs, _ in parse(response.text).scripts] == [
        "/static/vendor/swagger-ui/swagger-ui-bundle.js",
        "/static/js/docs.js",
    ]
    assert client.get("/static/js/docs.js").status_code == 200


CASES = [(path, param, value) for path, params in PAGE_PARAMS.items() for param in params for value in HOSTILE]


@pytest.mark.parametrize(("path", "param", "value"), CASES, ids=[f"{p}?{q}={HOSTILE.index(v)}" for p, q, v in CASES])
def test_hostile_query_values_cannot_leave_a_script_element(
    client: TestClient, report_id: str, path: str, param: str, value: str
) -> None:
    response = client.get(page_url(path, report_id), params={param: value})
    if path == "/embed" and param == "mode":
        assert response.status_code == 422 and response.json()["error"]["code"] == "invalid_request"
        return
    assert response.status_code == 200
    page = parse(response.text)
    for attrs, text in page.scripts:
        lowered = text.lower()
        assert "<!--" not in lowered and "</script" not in lowered and "<script" not in lowered
        assert "\u2028" not in text and "\u2029" not in text
        if attrs.get("type") == "application/json":
            config = json.loads(text)
            if path == "/embed" and param in ("layer", "district"):
                assert config[param] == value  # the value arrives intact, as data
    assert value not in response.text  # nowhere raw, in attributes neither
    # Every script of ours is still there, in order.
    srcs = [attrs["src"] for attrs, _ in page.scripts if attrs.get("src")]
    plain = client.get(page_url(path, report_id))
    assert srcs == [attrs["src"] for attrs, _ in parse(plain.text).scripts if attrs.get("src")]


def test_a_hostile_description_stays_text_on_the_report_page(client: TestClient, report_id: str) -> None:
    html = client.get(f"/reports/{report_id}").text
    assert "&lt;/script&gt;&lt;!--&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<!--<script>" not in html


def test_json_for_html_escapes_everything_that_can_end_or_confuse_a_script() -> None:
    value = {"a": "</script><!--<script>]]>&'\"\u2028\u2029", "n": [1, None, True]}
    text = json_for_html(value)
    for raw in ("<", ">", "&", "'", "\u2028", "\u2029"):
        assert raw not in text
    assert json.loads(text) == value
    assert "\\u003c/script\\u003e" in text and "\\u2028" in text


def test_only_bare_generated_tags_get_the_nonce() -> None:
    html = '<script>a()</script><style>b{}</style><script src="/x.js"></script><script type="application/json">{}'
    assert add_nonce(html, "N") == (
        '<script nonce="N">a()</script><style nonce="N">b{}</style><script src="/x.js"></script>'
        '<script type="application/json">{}'
    )


@pytest.mark.parametrize(
    ("tile_url", "source"),
    [
        ("", None),
        ("https://tile.openstreetmap.org/{z}/{x}/{y}.png", "https://tile.openstreetmap.org"),
        ("https://{s}.tile.example.org:8443/{z}/{x}/{y}.png", "https://*.tile.example.org:8443"),
        ("/tiles/{z}/{x}/{y}.png", None),  # our own origin: 'self'
        ("https://{tenant}.tiles.example/{z}/{x}/{y}.png", None),  # not a host we can name
        ("javascript:alert(1)//{z}", None),
    ],
)
def test_the_tile_host_is_the_only_other_image_source(tile_url: str, source: str | None) -> None:
    assert tile_source(tile_url) == source
    img = directives(content_security_policy(nonce=None, frame_anyone=False, tile_url=tile_url))["img-src"]
    assert img == ["'self'", "data:", "blob:"] + ([source] if source else [])
