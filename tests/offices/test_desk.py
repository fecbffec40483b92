"""The office and triage desks over HTTP: the moves the server allows (`actions`), the work list's filters,
search, sorts and pages, its map points and streamed CSV, internal notes, bulk moves, triage candidates from
the routing rule, the maintained due time, the assignee told, and who may call each new endpoint."""

import csv
import io

import pytest

from tests.conftest import sql
from tests.factories import make_photo
from tests.notify.test_citizen_told import smtp  # noqa: F401
from tests.offices.test_workflow import GANGNAM, MAPO, auth, move, new_report, outbox_bodies, tokens  # noqa: F401

JUNG_DUMPING = {"category": "illegal-dumping", "lat": 37.5641, "lon": 126.9977}  # 중구: no sanitation office


def detail(client, tokens, who, public_id):  # noqa: F811
    return client.get(f"/api/staff/reports/{public_id}", headers=auth(tokens, who))


@pytest.mark.parametrize(
    "start, who, expected",
    [
        ("routed", "mapo_manager", ["acknowledge", "close", "close_duplicate", "transfer", "note"]),
        ("acknowledged", "mapo_manager", ["assign", "start", "close", "close_duplicate", "transfer", "note"]),
        ("acknowledged", "mapo_staff", ["start", "close", "close_duplicate", "transfer", "note"]),  # no assigning
        ("in_progress", "mapo_staff", ["resolve", "close", "close_duplicate", "transfer", "after_photo", "note"]),
        ("resolved", "mapo_manager", ["reopen", "after_photo", "note"]),
        ("closed", "mapo_staff", ["reopen", "note"]),
        ("routed", "gangnam_manager", None),  # not theirs: refused, no buttons
    ],
)
def test_actions_are_the_moves_the_server_allows(client, tokens, demo_db, start, who, expected):  # noqa: F811
    public_id = new_report(client)
    sql(demo_db, "UPDATE reports SET status = :s WHERE public_id = :p", s=start, p=public_id)
    answer = detail(client, tokens, who, public_id)
    if expected is None:
        assert answer.status_code == 403
        return
    assert answer.status_code == 200, answer.text
    assert answer.json()["actions"] == expected
    # Every status-changing action offered is accepted by the workflow, and nothing else is offered.
    for action in expected:
        to = {"acknowledge": "acknowledged", "assign": "assigned", "start": "in_progress", "reopen": "reopened"}.get(
            action
        )
        if to:
            extra = {"assignee": "staff@mapo.example"} if to == "assigned" else {"public_note": "why"}
            assert move(client, tokens, who, public_id, to, **extra).status_code == 200
            break


def test_the_detail_has_photos_outline_timeline_with_internal_notes_and_reason(client, tokens, demo_db):  # noqa: F811
    public_id = client.post(
        "/api/reports",
        data={"layer": "facilities", "category": "pothole", "lat": "37.5663", "lon": "126.9016", "description": "구멍"},
        files={"photos": ("a.jpg", make_photo(size=(64, 64)), "image/jpeg")},
    ).json()["id"]
    note = client.post(
        f"/api/reports/{public_id}/notes", json={"body": "call the contractor"}, headers=auth(tokens, "mapo_staff")
    )
    assert note.status_code == 200, note.text
    assert (
        client.post(f"/api/reports/{public_id}/notes", json={"body": "  "}, headers=auth(tokens, "mapo_staff"))
    ).status_code == 422
    body = detail(client, tokens, "mapo_manager", public_id).json()
    assert body["photos"] and body["photos"][0]["thumbnail"].startswith("/media/")
    assert body["district_outline"]["type"] in ("Polygon", "MultiPolygon")
    assert body["place"]["ko"].startswith("마포구")
    assert "마포구" in body["routing"]["reason"]["ko"]
    kinds = [(e["kind"], e["internal"]) for e in body["timeline"]]
    assert ("submitted", False) in kinds and ("note", True) in kinds
    assert any(
        e["private_note"] == "call the contractor" and e["actor"] == "staff@mapo.example" for e in body["timeline"]
    )
    # Internal notes are never public: not in the API, not on the page.
    assert "contractor" not in client.get(f"/api/reports/{public_id}").text
    assert "contractor" not in client.get(f"/reports/{public_id}").text


def test_search_filters_sorts_and_pages(client, tokens):  # noqa: F811
    marker = "zebra-crossing-faded-xq7"
    ids = [
        client.post(
            "/api/reports",
            json={"layer": "facilities", "category": "pothole", "lat": 37.5663, "lon": 126.9016, "description": marker},
        ).json()["id"]
        for _ in range(3)
    ]
    headers = auth(tokens, "mapo_manager")
    found = client.get(f"/api/offices/{MAPO}/queue", params={"q": "XQ7", "open": "true"}, headers=headers).json()
    assert {r["id"] for r in found["reports"]} == set(ids)
    by_id = client.get(f"/api/offices/{MAPO}/queue", params={"q": ids[1]}, headers=headers).json()["reports"]
    assert [r["id"] for r in by_id] == [ids[1]]
    by_place = client.get(f"/api/offices/{MAPO}/queue", params={"q": "마포 " + marker}, headers=headers).json()
    assert {r["id"] for r in by_place["reports"]} == set(ids)
    wildcard = client.get(f"/api/offices/{MAPO}/queue", params={"q": "%"}, headers=headers).json()["reports"]
    assert all("%" in r["description"] for r in wildcard)  # % is a character, not "anything"
    pages = [
        client.get(
            f"/api/offices/{MAPO}/queue",
            params={"q": marker, "sort": "newest", "page": n, "page_size": 2},
            headers=headers,
        ).json()
        for n in (1, 2)
    ]
    assert pages[0]["has_more"] and not pages[1]["has_more"]
    assert [r["id"] for p in pages for r in p["reports"]] == list(reversed(ids))
    row = pages[0]["reports"][0]
    assert row["response_hours"] > 0 and row["place_ko"] and row["district_ko"] == "마포구"
    for sort in ("age", "newest", "priority", "supporters"):
        assert client.get(f"/api/offices/{MAPO}/queue", params={"sort": sort}, headers=headers).status_code == 200
    bad = client.get(f"/api/offices/{MAPO}/queue", params={"sort": "random()"}, headers=headers)
    assert bad.status_code == 422 and bad.json()["error"]["code"] == "invalid_input"
    points = client.get(f"/api/offices/{MAPO}/queue/points", params={"q": marker}, headers=headers).json()
    assert {p["id"] for p in points["points"]} == set(ids) and points["more"] is False
    exported = client.get(f"/api/offices/{MAPO}/queue.csv", params={"q": marker}, headers=headers)
    assert exported.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(exported.text.lstrip("\ufeff"))))
    assert {r["id"] for r in rows} == set(ids)


def test_overdue_reads_the_maintained_due_time(client, tokens, demo_db):  # noqa: F811
    public_id = new_report(client)
    hours = sql(
        demo_db,
        "SELECT extract(epoch FROM r.due_at - r.created_at) / 3600, c.response_hours FROM reports r "
        "JOIN categories c ON c.id = r.category_id WHERE r.public_id = :p",
        p=public_id,
    )[0]
    assert float(hours[0]) == hours[1]  # set on insert by the trigger
    sql(demo_db, "UPDATE reports SET created_at = now() - interval '400 days' WHERE public_id = :p", p=public_id)
    headers = auth(tokens, "mapo_manager")
    late = client.get(f"/api/offices/{MAPO}/queue", params={"overdue": "true", "q": public_id}, headers=headers)
    assert [r["id"] for r in late.json()["reports"]] == [public_id]
    assert late.json()["reports"][0]["overdue"] is True
    on_time = client.get(f"/api/offices/{MAPO}/queue", params={"overdue": "false", "q": public_id}, headers=headers)
    assert on_time.json()["reports"] == []


def test_assigning_tells_the_assignee_and_shows_who(client, tokens, demo_db):  # noqa: F811
    public_id = new_report(client)
    assert move(client, tokens, "mapo_manager", public_id, "acknowledged").status_code == 200
    assert move(client, tokens, "mapo_manager", public_id, "assigned", assignee="staff@mapo.example").status_code == 200
    assert any(public_id in body for body in outbox_bodies(demo_db, "staff@mapo.example"))
    mine = client.get(f"/api/offices/{MAPO}/queue", params={"mine": "true"}, headers=auth(tokens, "mapo_staff"))
    assert public_id in [r["id"] for r in mine.json()["reports"]]
    assert detail(client, tokens, "mapo_staff", public_id).json()["assignee"] == "staff@mapo.example"
    staff = client.get(f"/api/offices/{MAPO}/staff", headers=auth(tokens, "mapo_manager")).json()["staff"]
    assert "staff@mapo.example" in [s["email"] for s in staff]


def test_bulk_acknowledge_assign_close_each_on_its_own(client, tokens):  # noqa: F811
    ids = [new_report(client) for _ in range(3)]
    headers = auth(tokens, "mapo_manager")
    done = client.post("/api/staff/bulk", json={"ids": ids, "action": "acknowledge"}, headers=headers).json()
    assert [r["ok"] for r in done["results"]] == [True, True, True]
    again = client.post("/api/staff/bulk", json={"ids": ids[:1], "action": "acknowledge"}, headers=headers).json()
    assert again["results"][0]["ok"] is False and again["results"][0]["error"]["code"] == "transition_not_allowed"
    assigned = client.post(
        "/api/staff/bulk", json={"ids": ids[:2], "action": "assign", "assignee": "staff@mapo.example"}, headers=headers
    ).json()
    assert all(r["ok"] and r["status"] == "assigned" for r in assigned["results"])
    closed = client.post(
        "/api/staff/bulk",
        json={"ids": ids, "action": "close", "reason": "cannot_fix", "public_note": "private land"},
        headers=headers,
    ).json()
    assert all(r["ok"] for r in closed["results"])
    assert client.post("/api/staff/bulk", json={"ids": ids, "action": "resolve"}, headers=headers).status_code == 422
    other = client.post(
        "/api/staff/bulk",
        json={"ids": [new_report(client)], "action": "acknowledge"},
        headers=auth(tokens, "gangnam_manager"),
    )
    assert other.json()["results"][0]["error"]["code"] == "forbidden"


def test_triage_candidates_come_from_the_routing_rule_and_the_public_reads_the_team(client, tokens, demo_db):  # noqa: F811
    public_id = client.post("/api/reports", json={"layer": "facilities", **JUNG_DUMPING}).json()["id"]
    body = detail(client, tokens, "triage", public_id).json()
    assert body["actions"] == ["route", "note"]
    first = body["candidates"][0]
    assert first["relation"] == "holds_point" and first["district"]["name"]["ko"] == "중구"
    assert first["office"] is None  # the rule names no office in 중구: that is why it is here
    neighbours = [c for c in body["candidates"] if c["relation"] == "neighbour"]
    assert {"종로구", "용산구"} <= {c["district"]["name"]["ko"] for c in neighbours}
    assert all(c["office"]["slug"].endswith("-sanitation") for c in neighbours if c["office"])
    listed = client.get("/api/triage", headers=auth(tokens, "triage")).json()
    assert public_id in [r["id"] for r in listed["reports"]] and "has_more" in listed
    target = next(c["office"]["slug"] for c in neighbours if c["office"])
    routed = client.post(
        f"/api/triage/{public_id}/route", json={"office": target, "note": "next door"}, headers=auth(tokens, "triage")
    )
    assert routed.status_code == 200
    reason = client.get(f"/api/reports/{public_id}").json()["properties"]["routing"]["reason"]
    assert reason["en"].startswith("Routed by hand by the city's triage team to ") and "next door" in reason["en"]
    assert "triage@" not in str(reason)
    assert "시 분류 담당" in reason["ko"]


def test_staff_reopen_needs_a_reason_and_tells_the_citizen(client, tokens, demo_db):  # noqa: F811
    public_id = client.post(
        "/api/reports",
        json={"layer": "facilities", "category": "pothole", "lat": 37.5663, "lon": 126.9016, "email": "c@example.org"},
    ).json()["id"]
    for to, extra in (("acknowledged", {}), ("in_progress", {}), ("resolved", {"public_note": "fixed"})):
        assert move(client, tokens, "mapo_staff", public_id, to, **extra).status_code == 200
    assert move(client, tokens, "mapo_staff", public_id, "reopened").status_code == 422
    assert move(client, tokens, "mapo_staff", public_id, "reopened", public_note="came back").status_code == 200
    assert any("came back" in b for b in outbox_bodies(demo_db, "c@example.org"))


NEW_ENDPOINTS = {
    # who: (Mapo detail, Mapo points, Mapo staff, offices list, note on a Mapo report, bulk on a Mapo report)
    "admin": (200, 200, 200, 200, 200, True),
    "triage": (403, 403, 403, 200, 403, False),
    "mapo_manager": (200, 200, 200, 200, 200, True),
    "mapo_staff": (200, 200, 200, 200, 200, True),
    "gangnam_manager": (403, 403, 403, 200, 403, False),
    "gangnam_staff": (403, 403, 403, 200, 403, False),
    None: (401, 401, 401, 401, 401, 401),
}


@pytest.mark.parametrize("who", list(NEW_ENDPOINTS), ids=[str(w) for w in NEW_ENDPOINTS])
def test_authorization_matrix_of_the_desk_endpoints(client, tokens, who):  # noqa: F811
    headers = auth(tokens, who) if who else {}
    public_id = new_report(client)
    bulk = client.post("/api/staff/bulk", json={"ids": [public_id], "action": "acknowledge"}, headers=headers)
    got = (
        client.get(f"/api/staff/reports/{public_id}", headers=headers).status_code,
        client.get(f"/api/offices/{MAPO}/queue/points", headers=headers).status_code,
        client.get(f"/api/offices/{MAPO}/staff", headers=headers).status_code,
        client.get("/api/offices", headers=headers).status_code,
        client.post(f"/api/reports/{public_id}/notes", json={"body": "n"}, headers=headers).status_code,
        bulk.status_code if bulk.status_code != 200 else bulk.json()["results"][0]["ok"],
    )
    assert got == NEW_ENDPOINTS[who]


def test_the_assignee_receives_the_e_mail_through_a_real_smtp_server(client, tokens, smtp):  # noqa: F811
    from tests.notify.test_citizen_told import deliver

    deliver()  # what earlier tests left in the outbox
    smtp.messages.clear()
    public_id = new_report(client)
    assert move(client, tokens, "mapo_manager", public_id, "acknowledged").status_code == 200
    assert move(client, tokens, "mapo_manager", public_id, "assigned", assignee="staff@mapo.example").status_code == 200
    deliver()
    told = smtp.to("staff@mapo.example")
    assert len(told) == 1 and public_id in told[0]["subject"]
    assert "담당자로 지정" in told[0]["body"] and "assigned to you" in told[0]["body"]
    assert f"/office#{public_id}" in told[0]["body"]  # the link opens the report on the desk


def test_the_counts_per_status_are_kept_by_the_triggers(client, tokens, demo_db):  # noqa: F811
    ids = [new_report(client) for _ in range(3)]
    assert move(client, tokens, "mapo_manager", ids[0], "acknowledged").status_code == 200
    client.post(
        f"/api/reports/{ids[1]}/transfer",
        json={"to_office": GANGNAM, "reason": "theirs"},
        headers=auth(tokens, "mapo_manager"),
    )
    sql(demo_db, "DELETE FROM reports WHERE public_id = :p", p=ids[2])
    real = sql(
        demo_db,
        "SELECT office_id, status, count(*) FROM reports WHERE office_id IS NOT NULL GROUP BY 1, 2 ORDER BY 1, 2",
    )
    kept = sql(demo_db, "SELECT office_id, status, reports FROM office_status_counts WHERE reports <> 0 ORDER BY 1, 2")
    assert [tuple(r) for r in kept] == [tuple(r) for r in real]
    shown = client.get(f"/api/offices/{MAPO}/queue", headers=auth(tokens, "mapo_manager")).json()["counts"]
    assert shown == {status: n for office, status, n in real if office == shown_office(demo_db)}


def shown_office(demo_db):
    return sql(demo_db, "SELECT id FROM offices WHERE slug = :s", s=MAPO)[0][0]
