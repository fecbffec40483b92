"""A strict GeoReport v2 conformance check, written from the spec (../shared/data/open311/GeoReport_v2_index.md)
and compared with real cities' responses (real-responses/: DC, Boston, Chicago, the spec's own examples).

Each check is one rule for one endpoint and format (a rule holds for every record in the answer); the figure is
written to test-artifacts/open311_conformance.json and every check must pass.
"""

import json
import math
import re
import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from mapapp.core.db import transaction
from mapapp.open311 import service as open311
from tests.conftest import PROJECT, shared_data

# The spec's date/time format: the W3C profile of ISO 8601, the offset (Z or ±HH:MM) required.
W3C = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})")
CONTENT_TYPES = {"xml": "text/xml; charset=utf-8", "json": "application/json; charset=utf-8"}
# GET requests' response fields, in the order of the spec's table and of its example (service-requests.xml).
REQUEST_FIELDS = [
    "service_request_id",
    "status",
    "status_notes",
    "service_name",
    "service_code",
    "description",
    "agency_responsible",
    "service_notice",
    "requested_datetime",
    "updated_datetime",
    "expected_datetime",
    "address",
    "address_id",
    "zipcode",
    "lat",
    "long",
    "media_url",
]
SERVICE_FIELDS = {"service_code", "service_name", "description", "metadata", "type", "keywords", "group"}


class Checks:
    """Named checks, each passed or failed with the evidence."""

    def __init__(self) -> None:
        self.results: list[tuple[str, bool, str]] = []

    def check(self, name: str, ok: Any, evidence: Any = "") -> bool:
        self.results.append((name, bool(ok), "" if ok else str(evidence)[:300]))
        return bool(ok)

    def every(self, name: str, records: list[Any], rule: Any) -> bool:
        """One check: `rule` holds for every record (and there is at least one)."""
        bad = [r for r in records if not rule(r)]
        return self.check(name, records and not bad, bad[:2] or "no records")


def xml_records(root: ET.Element, item: str) -> list[dict[str, str | None]]:
    return [{child.tag: child.text for child in node} for node in root.findall(item)]


def real(*parts: str) -> Path:
    return shared_data("open311", "real-responses", *parts)


def is_w3c(value: Any) -> bool:
    if not isinstance(value, str) or not W3C.fullmatch(value):
        return False
    datetime.fromisoformat(value.replace("Z", "+00:00"))
    return True


def number_text(value: str | None, low: float, high: float) -> bool:
    try:
        number = float(value or "")
    except ValueError:
        return False
    return math.isfinite(number) and low <= number <= high


@pytest.fixture(scope="module")
def api_key(demo_db):
    with transaction() as session:
        return open311.create_api_key(session, name="conformance")


def test_georeport_v2_conformance(live_server, api_key):
    c = Checks()
    http = httpx.Client(base_url=f"{live_server}/open311/v2", timeout=30)
    spec_text = shared_data("open311", "GeoReport_v2_index.md").read_text()
    c.check("spec: the copy read is GeoReport v2", "GeoReport v2" in spec_text)

    def get(path: str, fmt: str, **params: Any) -> httpx.Response:
        response = http.get(f"{path}.{fmt}", params=params)
        c.check(
            f"{path}.{fmt}: Content-Type {CONTENT_TYPES[fmt]}",
            response.headers.get("content-type") == CONTENT_TYPES[fmt],
        )
        if fmt == "xml":
            c.check(
                f"{path}.xml: XML declaration with encoding utf-8 before the root",
                response.content.lower().startswith(b'<?xml version="1.0" encoding="utf-8"?>'),
                response.content[:60],
            )
        return response

    # --- Service discovery (at the endpoint's root, as Boston's and the cities list give it) -------------
    dc = ET.parse(real("discovery-dc.xml")).getroot()
    boston = json.loads(real("discovery-boston.json").read_text())
    for path in (f"{live_server}/open311/discovery", f"{live_server}/open311/v2/discovery"):
        for fmt in ("xml", "json"):
            response = get(path, fmt)
            c.check(f"{path}.{fmt}: 200", response.status_code == 200, response.status_code)
            if fmt == "xml":
                root = ET.fromstring(response.content)
                c.check(f"{path}.xml: root <discovery>", root.tag == "discovery")
                c.check(
                    f"{path}.xml: same elements as DC's discovery.xml",
                    [e.tag for e in root] == [e.tag for e in dc]
                    and [e.tag for e in root.find("endpoints/endpoint")]
                    == [e.tag for e in dc.find("endpoints/endpoint")],
                    ET.tostring(root)[:300],
                )
                formats = [f.text for f in root.findall("endpoints/endpoint/formats/format")]
                c.check(
                    f"{path}.xml: <formats><format> lists text/xml and application/json",
                    formats == ["text/xml", "application/json"],
                    formats,
                )
                changesets = [root.findtext("changeset")] + [
                    e.findtext("changeset") for e in root.findall("endpoints/endpoint")
                ]
                c.every(f"{path}.xml: changeset is a W3C datetime", changesets, is_w3c)
                types = [e.findtext("type") for e in root.findall("endpoints/endpoint")]
                c.every(f"{path}.xml: endpoint type production or test", types, lambda t: t in ("production", "test"))
                specs = [e.findtext("specification") for e in root.findall("endpoints/endpoint")]
                c.check(
                    f"{path}.xml: an endpoint of specification GeoReport_v2",
                    "http://wiki.open311.org/GeoReport_v2" in specs,
                    specs,
                )
            else:
                doc = response.json()
                c.check(f"{path}.json: same keys as Boston's discovery.json", set(doc) == set(boston), sorted(doc))
                endpoints = doc.get("endpoints", [])
                c.every(
                    f"{path}.json: endpoint keys as Boston's",
                    endpoints,
                    lambda e: set(e) == set(boston["endpoints"][0]),
                )
                c.every(
                    f"{path}.json: changeset W3C",
                    [doc.get("changeset")] + [e.get("changeset") for e in endpoints],
                    is_w3c,
                )
                c.every(
                    f"{path}.json: formats a list of MIME types with text/xml",
                    endpoints,
                    lambda e: "text/xml" in e["formats"],
                )
                c.every(f"{path}.json: url ends /open311/v2", endpoints, lambda e: e["url"].endswith("/open311/v2"))

    # --- GET Service List ------------------------------------------------------------------------------------
    dc_services = ET.parse(real("dc-services.xml")).getroot()
    service_codes: set[str] = set()
    for fmt in ("xml", "json"):
        response = get("/services", fmt)
        c.check(f"services.{fmt}: 200", response.status_code == 200, response.status_code)
        if fmt == "xml":
            root = ET.fromstring(response.content)
            c.check(
                "services.xml: root <services> of <service>",
                root.tag == "services" and len(root) and all(s.tag == "service" for s in root),
            )
            records = xml_records(root, "service")
            c.check(
                "services.xml: each service has DC's elements, no more, no fewer",
                all({child.tag for child in s} == {child.tag for child in dc_services[0]} for s in root),
            )
            c.every("services.xml: metadata is true or false", records, lambda s: s["metadata"] in ("true", "false"))
        else:
            records = response.json()
            c.check(
                "services.json: an array of objects",
                isinstance(records, list) and records and all(isinstance(s, dict) for s in records),
            )
            c.every("services.json: exactly the spec's fields", records, lambda s: set(s) == SERVICE_FIELDS)
            c.every("services.json: metadata is a boolean", records, lambda s: isinstance(s["metadata"], bool))
        c.every(
            f"services.{fmt}: service_code a non-empty string",
            records,
            lambda s: isinstance(s["service_code"], str) and s["service_code"],
        )
        c.every(f"services.{fmt}: service_name non-empty", records, lambda s: s["service_name"])
        c.every(
            f"services.{fmt}: type realtime|batch|blackbox",
            records,
            lambda s: s["type"] in ("realtime", "batch", "blackbox"),
        )
        c.every(f"services.{fmt}: keywords a comma separated string", records, lambda s: isinstance(s["keywords"], str))
        codes = [s["service_code"] for s in records]
        c.check(f"services.{fmt}: service codes unique", len(codes) == len(set(codes)), codes)
        service_codes |= set(codes)

    # --- GET Service Definition --------------------------------------------------------------------------------
    for fmt in ("xml", "json"):
        answers = [get(f"/services/{code}", fmt) for code in sorted(service_codes)]
        c.every(f"services/{{code}}.{fmt}: 200 for every listed service", answers, lambda r: r.status_code == 200)
        if fmt == "xml":
            roots = [ET.fromstring(r.content) for r in answers]
            c.every("services/{code}.xml: root <service_definition>", roots, lambda r: r.tag == "service_definition")
            c.every(
                "services/{code}.xml: service_code echoes the code asked",
                list(zip(roots, sorted(service_codes), strict=True)),
                lambda p: p[0].findtext("service_code") == p[1],
            )
            c.every("services/{code}.xml: <attributes> present", roots, lambda r: r.find("attributes") is not None)
        else:
            docs = [r.json() for r in answers]
            c.every(
                "services/{code}.json: service_code echoes the code asked",
                list(zip(docs, sorted(service_codes), strict=True)),
                lambda p: p[0]["service_code"] == p[1],
            )
            c.every("services/{code}.json: attributes is an array", docs, lambda d: isinstance(d["attributes"], list))
        missing = get("/services/no-such-service", fmt)
        c.check(f"services/{{unknown}}.{fmt}: 404", missing.status_code == 404, missing.status_code)

    # --- POST Service Request ------------------------------------------------------------------------------------
    posted: list[str] = []
    spec_post = {"service_request_id", "service_notice", "account_id"}
    for fmt in ("xml", "json"):
        form = {
            "api_key": api_key,
            "service_code": "pothole",
            "lat": "37.5663",
            "long": "126.9016",
            "description": "conformance",
        }
        response = http.post(f"/requests.{fmt}", data=form)
        c.check(f"POST requests.{fmt}: 200 or 201", response.status_code in (200, 201), response.text)
        c.check(f"POST requests.{fmt}: Content-Type", response.headers.get("content-type") == CONTENT_TYPES[fmt])
        if fmt == "xml":
            root = ET.fromstring(response.content)
            c.check(
                "POST requests.xml: <service_requests><request>",
                root.tag == "service_requests" and root[0].tag == "request",
            )
            record = {child.tag: child.text for child in root[0]}
        else:
            body = response.json()
            c.check("POST requests.json: an array of one", isinstance(body, list) and len(body) == 1, body)
            record = body[0]
        c.check(
            f"POST requests.{fmt}: the spec's fields (service_request_id, service_notice, account_id)",
            set(record) == spec_post,
            record,
        )
        c.check(
            f"POST requests.{fmt}: service_request_id and no token (realtime)",
            record.get("service_request_id") and "token" not in record,
            record,
        )
        posted.append(str(record["service_request_id"]))

    # --- Errors ------------------------------------------------------------------------------------------------
    boston_error = ET.parse(real("boston-err-submitrequest-base_is_duplicate.xml")).getroot()
    error_cases = [
        ("missing api_key is 403", {"service_code": "pothole", "lat": "37.5663", "long": "126.9016"}, 403),
        (
            "invalid api_key is 403",
            {"api_key": "nope", "service_code": "pothole", "lat": "37.5663", "long": "126.9016"},
            403,
        ),
        ("service_code not provided is 400", {"api_key": api_key, "lat": "37.5663", "long": "126.9016"}, 400),
        (
            "service_code not found is 404",
            {"api_key": api_key, "service_code": "unicorn", "lat": "37.5663", "long": "126.9016"},
            404,
        ),
        (
            "jurisdiction_id not found is 404",
            {
                "api_key": api_key,
                "jurisdiction_id": "elsewhere.gov",
                "service_code": "pothole",
                "lat": "37.5663",
                "long": "126.9016",
            },
            404,
        ),
    ]
    for fmt in ("xml", "json"):
        for name, form, status in error_cases:
            response = http.post(f"/requests.{fmt}", data=form)
            c.check(
                f"POST requests.{fmt}: {name}",
                response.status_code == status,
                (response.status_code, response.text[:200]),
            )
            if fmt == "xml":
                root = ET.fromstring(response.content)
                c.check(
                    f"POST requests.xml error ({status}): Boston's <errors><error><code/><description/>",
                    tag_tree(root) == tag_tree(boston_error)
                    and root.findtext("error/code") == str(status)
                    and root.findtext("error/description"),
                    response.text[:200],
                )
            else:
                body = response.json()
                c.check(
                    f"POST requests.json error ({status}): [{{code: int, description: str}}]",
                    isinstance(body, list)
                    and body
                    and all(
                        set(e) == {"code", "description"}
                        and e["code"] == status
                        and isinstance(e["description"], str)
                        and e["description"]
                        for e in body
                    ),
                    body,
                )
    for fmt in ("xml", "json"):
        response = get("/services", fmt, jurisdiction_id="elsewhere.gov")
        c.check(f"services.{fmt}: unknown jurisdiction_id is 404", response.status_code == 404, response.status_code)
        response = get("/requests/no-such-request", fmt)
        c.check(f"requests/{{unknown}}.{fmt}: 404", response.status_code == 404, response.status_code)
        response = get("/requests", fmt, start_date="not a date")
        c.check(f"requests.{fmt}: a bad start_date is 400", response.status_code == 400, response.status_code)

    # --- GET Service Requests and GET Service Request ------------------------------------------------------------
    spec_example = ET.parse(real("service-requests.xml")).getroot()
    chicago = json.loads(real("chicago-open311-2014", "chicago_open311_requests_extensions_2014.json").read_text())
    now = datetime.now(UTC)
    for fmt in ("xml", "json"):
        listing = get("/requests", fmt)
        c.check(f"requests.{fmt}: 200", listing.status_code == 200, listing.status_code)
        one = get(f"/requests/{posted[0]}", fmt)
        c.check(f"requests/{{id}}.{fmt}: 200", one.status_code == 200, one.status_code)
        for label, response in (("requests", listing), ("requests/{id}", one)):
            if fmt == "xml":
                root = ET.fromstring(response.content)
                c.check(
                    f"{label}.xml: root <service_requests> of <request>",
                    root.tag == "service_requests" and all(r.tag == "request" for r in root),
                )
                c.every(
                    f"{label}.xml: each request has the spec example's elements in its order",
                    list(root),
                    lambda r: [e.tag for e in r] == [e.tag for e in spec_example[0]] == REQUEST_FIELDS,
                )
                records: list[dict[str, Any]] = xml_records(root, "request")
                c.every(
                    f"{label}.xml: lat is a number in WGS84 range", records, lambda r: number_text(r["lat"], -90, 90)
                )
                c.every(
                    f"{label}.xml: long is a number in WGS84 range",
                    records,
                    lambda r: number_text(r["long"], -180, 180),
                )
            else:
                records = response.json()
                c.check(f"{label}.json: an array", isinstance(records, list) and records)
                c.every(f"{label}.json: exactly the spec's fields", records, lambda r: list(r) == REQUEST_FIELDS)
                c.every(
                    f"{label}.json: lat a JSON number in range",
                    records,
                    lambda r: isinstance(r["lat"], float) and -90 <= r["lat"] <= 90,
                )
                c.every(
                    f"{label}.json: long a JSON number in range",
                    records,
                    lambda r: isinstance(r["long"], float) and -180 <= r["long"] <= 180,
                )
                shared = (
                    "service_request_id",
                    "status",
                    "status_notes",
                    "service_name",
                    "service_code",
                    "agency_responsible",
                    "requested_datetime",
                    "updated_datetime",
                    "address",
                    "lat",
                    "long",
                )
                c.every(
                    f"{label}.json: the same JSON types as Chicago's for the fields both give",
                    records,
                    lambda r, shared=shared: all(r[k] is None or type(r[k]) is type(chicago[0][k]) for k in shared),
                )
            c.every(f"{label}.{fmt}: service_request_id non-empty", records, lambda r: r["service_request_id"])
            c.every(f"{label}.{fmt}: status open or closed", records, lambda r: r["status"] in ("open", "closed"))
            c.every(f"{label}.{fmt}: requested_datetime W3C", records, lambda r: is_w3c(r["requested_datetime"]))
            c.every(f"{label}.{fmt}: updated_datetime W3C", records, lambda r: is_w3c(r["updated_datetime"]))
            c.every(
                f"{label}.{fmt}: expected_datetime W3C or absent",
                records,
                lambda r: r["expected_datetime"] is None or is_w3c(r["expected_datetime"]),
            )
            c.every(f"{label}.{fmt}: service_code non-empty", records, lambda r: r["service_code"])
            c.every(
                f"{label}.{fmt}: updated not before requested",
                records,
                lambda r: parse(r["updated_datetime"]) >= parse(r["requested_datetime"]),
            )
            c.every(
                f"{label}.{fmt}: description at most 4,000 characters",
                records,
                lambda r: len(r["description"] or "") <= 4000,
            )
        if fmt == "json":
            records = listing.json()
            c.check(
                "requests.json: default window is at most the most recent 90 days",
                all(parse(r["requested_datetime"]) >= now - timedelta(days=90, minutes=5) for r in records),
            )
            c.check("requests.json: at most 1000 requests by default", len(records) <= 1000)
            c.check(
                "requests/{id}.json: an array of one, the id asked",
                [r["service_request_id"] for r in one.json()] == [posted[0]],
            )
        for wanted in ("open", "closed"):
            filtered = get("/requests", fmt, status=wanted)
            records = xml_records(ET.fromstring(filtered.content), "request") if fmt == "xml" else filtered.json()
            c.every(f"requests.{fmt}?status={wanted}: only {wanted}", records, lambda r, w=wanted: r["status"] == w)
        both = get("/requests", fmt, status="open,closed")
        c.check(f"requests.{fmt}?status=open,closed: comma delimited accepted", both.status_code == 200)
        by_code = get("/requests", fmt, service_code="pothole,streetlight-out")
        records = xml_records(ET.fromstring(by_code.content), "request") if fmt == "xml" else by_code.json()
        c.every(
            f"requests.{fmt}?service_code=a,b: only those codes",
            records,
            lambda r: r["service_code"] in ("pothole", "streetlight-out"),
        )
        ids = get("/requests", fmt, service_request_id=",".join(posted), status="closed")
        records = xml_records(ET.fromstring(ids.content), "request") if fmt == "xml" else ids.json()
        c.check(
            f"requests.{fmt}?service_request_id=a,b: overrides the other arguments",
            sorted(r["service_request_id"] for r in records) == sorted(posted),
            records,
        )
        span = get("/requests", fmt, start_date="2026-01-01T00:00:00Z", end_date="2026-06-01T00:00:00Z")
        c.check(f"requests.{fmt}: a span over 90 days is refused with 400", span.status_code == 400, span.status_code)

    # --- GET service_request_id from a token ----------------------------------------------------------------------
    token_example = ET.parse(real("token.xml")).getroot()
    for fmt in ("xml", "json"):
        response = get(f"/tokens/{posted[0]}", fmt)
        c.check(f"tokens/{{id}}.{fmt}: 200", response.status_code == 200)
        if fmt == "xml":
            root = ET.fromstring(response.content)
            c.check(
                "tokens/{id}.xml: the spec example's elements",
                tag_tree(root) == tag_tree(token_example),
                ET.tostring(root),
            )
        else:
            c.check(
                "tokens/{id}.json: [{service_request_id, token}]",
                response.json() == [{"service_request_id": posted[0], "token": posted[0]}],
            )

    # --- Optional arguments: empty is the same as absent ----------------------------------------------------------
    for path, name in (
        ("/services", "jurisdiction_id"),
        ("/requests", "status"),
        ("/requests", "service_code"),
        ("/requests", "start_date"),
        ("/requests", "end_date"),
        ("/requests", "jurisdiction_id"),
    ):
        absent, empty = http.get(f"{path}.json"), http.get(f"{path}.json", params={name: ""})
        c.check(
            f"{path}.json: an empty {name} is the same as none",
            absent.status_code == empty.status_code == 200 and absent.json() == empty.json(),
        )

    # --- The figure ----------------------------------------------------------------------------------------------
    passed = sum(ok for _, ok, _ in c.results)
    failures = [(name, evidence) for name, ok, evidence in c.results if not ok]
    artifact = PROJECT / "test-artifacts" / "open311_conformance.json"
    artifact.parent.mkdir(exist_ok=True)
    artifact.write_text(
        json.dumps({"passed": passed, "total": len(c.results), "failures": failures}, ensure_ascii=False, indent=1)
    )
    print(f"Open311 conformance: {passed} of {len(c.results)} checks pass")
    assert not failures, f"{passed} of {len(c.results)} pass; failing: {failures}"


def tag_tree(node: ET.Element) -> list[Any]:
    return [node.tag, sorted((tag_tree(child) for child in node), key=str)]


def parse(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))
