"""Staff work over HTTP: log-in, the authorization matrix, the workflow, transfers and triage."""

import re

import pytest

from mapapp.offices.workflow import TRANSITIONS
from tests.admin.people import GANGNAM, MAPO, PASSWORD, auth, log_everyone_in, new_report
from tests.conftest import sql

# Their own people (the e-mails are asserted below), with people.PASSWORD.
PEOPLE = {
    "admin": ("admin@city.example", "admin", None),
    "triage": ("triage@city.example", "triage", None),
    "mapo_manager": ("manager@mapo.example", "manager", MAPO),
    "mapo_staff": ("staff@mapo.example", "staff", MAPO),
    "gangnam_manager": ("manager@gangnam.example", "manager", GANGNAM),
    "gangnam_staff": ("staff@gangnam.example", "staff", GANGNAM),
}


@pytest.fixture(scope="module")
def tokens(client, demo_db):
    return log_everyone_in(client, PEOPLE)


def outbox_bodies(demo_db, recipient):
    """The e-mails waiting for `recipient`, oldest first."""
    return [body for (body,) in sql(demo_db, "SELECT body FROM outbox WHERE recipient = :r ORDER BY id", r=recipient)]


def reopen_token(demo_db, recipient):
    """The secret of the newest reopen link e-mailed to `recipient`."""
    links = [m for body in outbox_bodies(demo_db, recipient) for m in re.findall(r"#reopen=([\w-]+)", body)]
    assert links, f"no reopen link was e-mailed to {recipient}"
    return links[-1]


def move(client, tokens, who, public_id, to, **extra):
    return client.post(f"/api/reports/{public_id}/status", json={"to": to, **extra}, headers=auth(tokens, who))


# --- the authorization matrix: every staff endpoint, every role, own office and another --------------

MATRIX = {
    # who: (own-office queue, other-office queue, triage queue, acknowledge a Mapo report, route from triage)
    "admin": (200, 200, 200, 200, 200),
    "triage": (403, 403, 200, 403, 200),
    "mapo_manager": (200, 403, 403, 200, 403),
    "mapo_staff": (200, 403, 403, 200, 403),
    "gangnam_manager": (200, 403, 403, 403, 403),
    "gangnam_staff": (200, 403, 403, 403, 403),
    None: (401, 401, 401, 401, 401),
}


@pytest.mark.parametrize("who", list(MATRIX), ids=[str(w) for w in MATRIX])
def test_authorization_matrix(client, tokens, demo_db, who):
    headers = auth(tokens, who) if who else {}
    own = PEOPLE[who][2] if who in PEOPLE and PEOPLE[who][2] else MAPO
    other = GANGNAM if own == MAPO else MAPO
    mapo_report = new_report(client)
    triage_report = new_report(client, category="illegal-dumping", lat=37.5641, lon=126.9977)  # 중구: no office
    expected = MATRIX[who]
    got = (
        client.get(f"/api/offices/{own}/queue", headers=headers).status_code,
        client.get(f"/api/offices/{other}/queue", headers=headers).status_code,
        client.get("/api/triage", headers=headers).status_code,
        client.post(f"/api/reports/{mapo_report}/status", json={"to": "acknowledged"}, headers=headers).status_code,
        client.post(
            f"/api/triage/{triage_report}/route", json={"office": "11-safety", "note": "by hand"}, headers=headers
        ).status_code,
    )
    assert got == expected


def test_the_whole_workflow_and_its_timeline(client, tokens):
    public_id = new_report(client)
    assert move(client, tokens, "mapo_staff", public_id, "acknowledged").status_code == 200
    assert move(client, tokens, "mapo_staff", public_id, "assigned", assignee="staff@mapo.example").status_code == 403
    wrong = move(client, tokens, "mapo_manager", public_id, "assigned", assignee="staff@gangnam.example")
    assert wrong.status_code == 422 and wrong.json()["error"]["details"]["field"] == "assignee"
    assert move(client, tokens, "mapo_manager", public_id, "assigned", assignee="staff@mapo.example").status_code == 200
    assert move(client, tokens, "mapo_staff", public_id, "in_progress").status_code == 200
    no_answer = move(client, tokens, "mapo_staff", public_id, "resolved")
    assert no_answer.status_code == 422 and no_answer.json()["error"]["details"]["field"] == "public_note"
    done = move(
        client, tokens, "mapo_staff", public_id, "resolved", public_note="Filled in the pothole.", private_note="crew 3"
    )
    assert done.status_code == 200
    public = client.get(f"/api/reports/{public_id}").json()["properties"]
    assert public["status"] == "resolved" and public["resolved_at"]
    assert [e["to"] for e in public["timeline"]][-4:] == ["acknowledged", "assigned", "in_progress", "resolved"]
    assert "Filled in the pothole." in [e["note"] for e in public["timeline"]]
    assert "crew 3" not in str(public) and "staff@mapo" not in str(public)
    page = client.get(f"/reports/{public_id}?lang=en").text
    assert "Filled in the pothole." in page


@pytest.mark.parametrize(
    "start, to",
    [("routed", "resolved"), ("routed", "in_progress"), ("acknowledged", "routed"), ("resolved", "in_progress")],
)
def test_forbidden_moves_are_409_naming_the_allowed_ones(client, tokens, start, to):
    public_id = new_report(client)
    path = {
        "acknowledged": ["acknowledged"],
        "resolved": ["acknowledged", "in_progress", ("resolved", {"public_note": "done"})],
    }.get(start, [])
    for step in path:
        name, extra = (step, {}) if isinstance(step, str) else step
        assert move(client, tokens, "admin", public_id, name, **extra).status_code == 200
    refused = move(client, tokens, "admin", public_id, to)
    assert refused.status_code == 409
    error = refused.json()["error"]
    assert error["code"] == "transition_not_allowed" and error["details"]["status"] == start
    assert isinstance(error["details"]["allowed"], list)


def test_closing_as_duplicate_moves_the_supporters_to_the_original(client, tokens):
    original = new_report(client, lat=37.5664)
    duplicate = new_report(client, lat=37.5665)
    client.post(f"/api/reports/{duplicate}/support", json={"supporter": "browser-one-xyz"})
    closed = move(client, tokens, "mapo_manager", duplicate, "closed", reason="duplicate", duplicate_of=original)
    assert closed.status_code == 200
    assert client.get(f"/api/reports/{original}").json()["properties"]["supporters"] == 2  # its supporter + reporter
    assert client.get(f"/api/reports/{duplicate}").json()["properties"]["close_reason"] == "duplicate"
    not_ours = move(client, tokens, "mapo_manager", new_report(client), "closed", reason="not_ours")
    assert not_ours.status_code == 422  # not ours is a transfer


def test_transfer_to_another_office_and_back_to_triage(client, tokens):
    public_id = new_report(client)
    sent = client.post(
        f"/api/reports/{public_id}/transfer",
        json={"to_office": GANGNAM, "reason": "their road"},
        headers=auth(tokens, "mapo_manager"),
    )
    assert sent.status_code == 200
    queue = client.get(f"/api/offices/{GANGNAM}/queue", headers=auth(tokens, "gangnam_staff")).json()
    assert public_id in [r["id"] for r in queue["reports"]]
    assert client.get(f"/api/offices/{MAPO}/queue", headers=auth(tokens, "mapo_staff")).json()[
        "reports"
    ] == [] or public_id not in [
        r["id"] for r in client.get(f"/api/offices/{MAPO}/queue", headers=auth(tokens, "mapo_staff")).json()["reports"]
    ]
    assert move(client, tokens, "mapo_staff", public_id, "acknowledged").status_code == 403  # no longer theirs
    back = client.post(
        f"/api/reports/{public_id}/transfer",
        json={"to_office": None, "reason": "nobody's road"},
        headers=auth(tokens, "gangnam_manager"),
    )
    assert back.status_code == 200 and back.json()["status"] == "triage"
    triage = client.get("/api/triage", headers=auth(tokens, "triage")).json()["reports"]
    assert public_id in [r["id"] for r in triage]


def test_a_triage_decision_is_recorded_as_manual(client, tokens, demo_db):
    public_id = new_report(client, category="illegal-dumping", lat=37.5641, lon=126.9977)  # 중구 has no sanitation
    assert client.get(f"/api/reports/{public_id}").json()["properties"]["status"] == "triage"
    routed = client.post(
        f"/api/triage/{public_id}/route",
        json={"office": "11140-roads", "note": "roads will do it"},
        headers=auth(tokens, "triage"),
    )
    assert routed.status_code == 200 and routed.json()["status"] == "routed"
    public = client.get(f"/api/reports/{public_id}").json()["properties"]
    assert public["routing"]["manual"] is True and "roads will do it" in public["routing"]["reason"]["en"]
    [(decided_by,)] = sql(
        demo_db,
        "SELECT decided_by FROM routing_decisions d JOIN reports r ON r.id = "
        "d.report_id WHERE r.public_id = :p ORDER BY d.id DESC LIMIT 1",
        p=public_id,
    )
    assert decided_by == "triage@city.example"


def test_queue_filters_and_counts(client, tokens):
    new_report(client, category="streetlight-out")
    body = client.get(
        f"/api/offices/{MAPO}/queue",
        params={"category": "streetlight-out", "sort": "newest"},
        headers=auth(tokens, "mapo_manager"),
    ).json()
    assert body["reports"] and {r["category"] for r in body["reports"]} == {"streetlight-out"}
    assert sum(body["counts"].values()) >= len(body["reports"])
    assert all("overdue" in r and "due_at" in r for r in body["reports"])


def test_a_cookie_session_needs_the_csrf_header_even_with_an_empty_bearer(client, tokens):
    login = client.post("/api/auth/login", json={"email": "manager@mapo.example", "password": PASSWORD})
    assert (
        "httponly" in login.headers["set-cookie"].lower() and "samesite=strict" in login.headers["set-cookie"].lower()
    )
    public_id = new_report(client)
    client.cookies.clear()
    client.cookies.set("mapapp_session", login.json()["token"])
    try:
        without = client.post(f"/api/reports/{public_id}/status", json={"to": "acknowledged"})
        assert without.status_code == 403
        # Regression: an empty "Authorization: Bearer " header used to skip the CSRF check of the cookie.
        for header in ("Bearer ", "Bearer", "bearer    "):
            empty = client.post(
                f"/api/reports/{public_id}/status", json={"to": "acknowledged"}, headers={"Authorization": header}
            )
            assert empty.status_code == 403, header
        assert client.get(f"/api/reports/{public_id}").json()["properties"]["status"] == "routed"
        with_csrf = client.post(
            f"/api/reports/{public_id}/status",
            json={"to": "acknowledged"},
            headers={"X-CSRF-Token": login.json()["csrf_token"], "Authorization": "Bearer "},
        )
        assert with_csrf.status_code == 200
    finally:
        client.cookies.clear()


def test_an_administrator_opens_and_closes_a_disaster_layer(client, tokens, demo_db):
    body = {"banner_ko": "대피하세요", "banner_en": "Evacuate low ground", "until": "2099-01-01T00:00:00+09:00"}
    assert client.post("/api/layers/flood/activate", json=body, headers=auth(tokens, "mapo_manager")).status_code == 403
    assert (
        client.post("/api/layers/facilities/activate", json={}, headers=auth(tokens, "admin")).status_code == 409
    )  # everyday layers are always on
    opened = client.post("/api/layers/flood/activate", json=body, headers=auth(tokens, "admin"))
    assert opened.status_code == 200
    try:
        flood = next(layer for layer in client.get("/api/layers").json()["layers"] if layer["slug"] == "flood")
        assert flood["banner"] == {"ko": "대피하세요", "en": "Evacuate low ground"}
        drain = client.post(
            "/api/reports", json={"layer": "flood", "category": "blocked-storm-drain", "lat": 37.5663, "lon": 126.9016}
        )
        assert drain.status_code == 201
    finally:
        closed = client.post("/api/layers/flood/deactivate", headers=auth(tokens, "admin"))
    assert closed.status_code == 200
    assert "flood" not in [layer["slug"] for layer in client.get("/api/layers").json()["layers"]]
    assert client.get(f"/api/reports/{drain.json()['id']}").status_code == 200  # its reports stay
    refused = client.post(
        "/api/reports", json={"layer": "flood", "category": "blocked-storm-drain", "lat": 37.5663, "lon": 126.9016}
    )
    assert refused.status_code == 409 and refused.json()["error"]["code"] == "layer_inactive"
    kinds = sql(demo_db, "SELECT kind, actor FROM layer_events ORDER BY id")
    assert kinds[-2:] == [("activated", "admin@city.example"), ("deactivated", "admin@city.example")]


def test_a_layer_past_its_end_time_closes_by_itself(client, tokens, demo_db):
    """Issue 9's bug: past its end time a layer took no new reports but still took "me too", and /admin said active."""
    until = "2099-01-01T00:00:00+00:00"
    opened = client.post("/api/layers/slope/activate", json={"until": until}, headers=auth(tokens, "admin"))
    assert opened.status_code == 200 and opened.json()["state"] == "active"
    rocks = client.post(
        "/api/reports", json={"layer": "slope", "category": "fallen-rocks", "lat": 37.5663, "lon": 126.9016}
    ).json()["id"]
    # The end time passes (nobody switches the layer off).
    sql(demo_db, "UPDATE layers SET active_until = now() - interval '1 minute' WHERE slug = 'slope'")
    try:
        assert "slope" not in [layer["slug"] for layer in client.get("/api/layers").json()["layers"]]
        late = client.post(
            "/api/reports", json={"layer": "slope", "category": "fallen-rocks", "lat": 37.5663, "lon": 126.9016}
        )
        assert late.status_code == 409 and late.json()["error"]["code"] == "layer_inactive"
        me_too = client.post(f"/api/reports/{rocks}/support", json={"supporter": "browser-token-after-the-end"})
        assert me_too.status_code == 409 and me_too.json()["error"]["code"] == "layer_inactive"
        admin = client.get("/api/admin/overview", headers=auth(tokens, "admin")).json()
        assert {layer["slug"]: layer["state"] for layer in admin["layers"]}["slope"] == "inactive"
    finally:
        client.post("/api/layers/slope/deactivate", headers=auth(tokens, "admin"))


def test_resolve_with_an_after_photo_then_the_citizen_reopens(client, tokens, demo_db):
    from tests.factories import make_photo

    public_id = client.post(
        "/api/reports",
        json={
            "layer": "facilities",
            "category": "pothole",
            "lat": 37.5663,
            "lon": 126.9016,
            "email": "again@example.org",
        },
    ).json()["id"]
    for to in ("acknowledged", "in_progress"):
        assert move(client, tokens, "mapo_staff", public_id, to).status_code == 200
    photo = client.post(
        f"/api/reports/{public_id}/after-photo",
        headers=auth(tokens, "mapo_staff"),
        files={"photo": ("after.jpg", make_photo(color=(20, 200, 20)), "image/jpeg")},
    )
    assert photo.status_code == 200 and client.get(photo.json()["photo"]).status_code == 200
    other = client.post(
        f"/api/reports/{public_id}/after-photo",
        headers=auth(tokens, "gangnam_staff"),
        files={"photo": ("after.jpg", make_photo(), "image/jpeg")},
    )
    assert other.status_code == 403
    assert move(client, tokens, "mapo_staff", public_id, "resolved", public_note="Repaved.").status_code == 200
    page = client.get(f"/reports/{public_id}?lang=en").text
    assert "Repaved." in page and 'id="answer"' in page and "After" in page

    guessed = client.post(f"/api/reports/{public_id}/reopen", json={"token": "guess" * 8, "reason": "no"})
    assert guessed.status_code == 403 and guessed.json()["error"]["code"] == "invalid_reopen_token"
    token = reopen_token(demo_db, "again@example.org")  # the newest link: the "resolved" e-mail's
    reopened = client.post(
        f"/api/reports/{public_id}/reopen", json={"token": token, "reason": "The hole is back after rain."}
    )
    assert reopened.status_code == 200 and reopened.json()["status"] == "reopened"
    assert (
        client.get(f"/api/reports/{public_id}").json()["properties"]["timeline"][-1]["note"]
        == "The hole is back after rain."
    )
    assert move(client, tokens, "mapo_staff", public_id, "in_progress").status_code == 200


def test_reopening_is_refused_after_the_allowed_days(client, tokens, demo_db):
    public_id = client.post(
        "/api/reports",
        json={
            "layer": "facilities",
            "category": "pothole",
            "lat": 37.5663,
            "lon": 126.9016,
            "email": "late@example.org",
        },
    ).json()["id"]
    sql(
        demo_db,
        "UPDATE reports SET status = 'resolved', resolved_at = now() - interval '30 days' WHERE public_id = :p",
        p=public_id,
    )
    token = reopen_token(demo_db, "late@example.org")
    late = client.post(f"/api/reports/{public_id}/reopen", json={"token": token, "reason": "still"})
    assert late.status_code == 409 and "14 days" in late.json()["error"]["message"]


def test_the_queue_exports_as_csv(client, tokens):
    new_report(client, category="streetlight-out")
    response = client.get(
        f"/api/offices/{MAPO}/queue.csv", params={"category": "streetlight-out"}, headers=auth(tokens, "mapo_manager")
    )
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/csv")
    lines = response.text.lstrip("\ufeff").splitlines()
    assert lines[0].startswith("id,status,category") and len(lines) >= 2
    assert all(",streetlight-out," in line for line in lines[1:])
    assert client.get(f"/api/offices/{GANGNAM}/queue.csv", headers=auth(tokens, "mapo_manager")).status_code == 403


def test_open_everyday_reports_that_belong_to_the_flood_layer_are_shown_on_it(client, tokens, demo_db):
    drain = client.post(
        "/api/reports", json={"layer": "facilities", "category": "drain-grate", "lat": 37.5663, "lon": 126.9016}
    ).json()["id"]
    fixed = client.post(
        "/api/reports", json={"layer": "facilities", "category": "drain-grate", "lat": 37.5664, "lon": 126.9016}
    ).json()["id"]
    pothole = client.post(
        "/api/reports", json={"layer": "facilities", "category": "pothole", "lat": 37.5665, "lon": 126.9016}
    ).json()["id"]
    for to, extra in (("acknowledged", {}), ("in_progress", {}), ("resolved", {"public_note": "cleared"})):
        assert move(client, tokens, "admin", fixed, to, **extra).status_code == 200
    assert client.post("/api/layers/flood/activate", json={}, headers=auth(tokens, "admin")).status_code == 200
    try:
        ids = [f["id"] for f in client.get("/api/reports", params={"layer": "flood", "limit": 5000}).json()["features"]]
    finally:
        client.post("/api/layers/flood/deactivate", headers=auth(tokens, "admin"))
    assert drain in ids and fixed not in ids and pothole not in ids


def test_only_administrators_read_the_admin_overview(client, tokens):
    assert client.get("/api/admin/overview", headers=auth(tokens, "admin")).status_code == 200
    for who in ("triage", "mapo_manager", "mapo_staff"):
        assert client.get("/api/admin/overview", headers=auth(tokens, who)).status_code == 403
    assert client.get("/api/admin/overview").status_code == 401
    body = client.get("/api/admin/overview", headers=auth(tokens, "admin")).json()
    assert {layer["slug"] for layer in body["layers"]} == {"facilities", "flood", "slope"}
    assert any(u["email"] == "staff@mapo.example" and u["office"] == MAPO for u in body["users"])
    assert any(o["slug"] == MAPO and o["staff"] >= 2 for o in body["offices"])


EVERY_MOVE = [(start, to) for start, targets in TRANSITIONS.items() for to in targets]


@pytest.mark.parametrize("start, to", EVERY_MOVE, ids=[f"{a}->{b}" for a, b in EVERY_MOVE])
def test_every_allowed_move(client, tokens, demo_db, start, to):
    public_id = new_report(client)
    sql(demo_db, "UPDATE reports SET status = :s WHERE public_id = :p", s=start, p=public_id)
    extra = {
        "assigned": {"assignee": "staff@mapo.example"},
        "resolved": {"public_note": "done"},
        "closed": {"reason": "cannot_fix", "public_note": "private land"},
        "reopened": {"public_note": "still broken"},
    }.get(to, {})
    response = move(client, tokens, "mapo_manager", public_id, to, **extra)
    assert response.status_code == 200, response.text
    timeline = client.get(f"/api/reports/{public_id}").json()["properties"]["timeline"]
    assert (timeline[-1]["from"], timeline[-1]["to"]) == (start, to)


MORE_ENDPOINTS = {
    # who: (transfer a Mapo report, Mapo after photo, Mapo CSV, activate flood, admin overview)
    "admin": (200, 200, 200, 200, 200),
    "triage": (403, 403, 403, 403, 403),
    "mapo_manager": (200, 200, 200, 403, 403),
    "mapo_staff": (200, 200, 200, 403, 403),
    "gangnam_manager": (403, 403, 403, 403, 403),
    "gangnam_staff": (403, 403, 403, 403, 403),
    None: (401, 401, 401, 401, 401),
}


@pytest.mark.parametrize("who", list(MORE_ENDPOINTS), ids=[str(w) for w in MORE_ENDPOINTS])
def test_authorization_matrix_of_the_other_staff_endpoints(client, tokens, who):
    from tests.factories import make_photo

    headers = auth(tokens, who) if who else {}
    got = (
        client.post(
            f"/api/reports/{new_report(client)}/transfer",
            json={"to_office": GANGNAM, "reason": "theirs"},
            headers=headers,
        ).status_code,
        client.post(
            f"/api/reports/{new_report(client)}/after-photo",
            headers=headers,
            files={"photo": ("a.jpg", make_photo(size=(64, 64)), "image/jpeg")},
        ).status_code,
        client.get(f"/api/offices/{MAPO}/queue.csv", headers=headers).status_code,
        client.post("/api/layers/flood/activate", json={}, headers=headers).status_code,
        client.get("/api/admin/overview", headers=headers).status_code,
    )
    if who == "admin":
        client.post("/api/layers/flood/deactivate", headers=headers)
    assert got == MORE_ENDPOINTS[who]


def test_age_filter_and_log_out(client, tokens, demo_db):
    old = new_report(client)
    sql(demo_db, "UPDATE reports SET created_at = now() - interval '5 days' WHERE public_id = :p", p=old)
    aged = client.get(
        f"/api/offices/{MAPO}/queue",
        params={"min_age_hours": 72, "sort": "priority"},
        headers=auth(tokens, "mapo_manager"),
    ).json()["reports"]
    assert old in [r["id"] for r in aged] and all(r["id"] != new_report(client) for r in aged)
    login = client.post("/api/auth/login", json={"email": "staff@mapo.example", "password": PASSWORD}).json()
    client.cookies.clear()
    bearer = {"Authorization": f"Bearer {login['token']}"}
    assert client.post("/api/auth/logout", headers=bearer).status_code == 200
    assert client.get(f"/api/offices/{MAPO}/queue", headers=bearer).status_code == 401


def test_a_switched_off_layer_keeps_its_reports_read_only(client, tokens):
    assert client.post("/api/layers/slope/activate", json={}, headers=auth(tokens, "admin")).status_code == 200
    rocks = client.post(
        "/api/reports", json={"layer": "slope", "category": "fallen-rocks", "lat": 37.5663, "lon": 126.9016}
    ).json()["id"]
    assert client.post("/api/layers/slope/deactivate", headers=auth(tokens, "admin")).status_code == 200
    assert client.get(f"/api/reports/{rocks}").status_code == 200
    me_too = client.post(f"/api/reports/{rocks}/support", json={"supporter": "browser-token-slope"})
    assert me_too.status_code == 409 and me_too.json()["error"]["code"] == "layer_inactive"


# --- issue 8: no staff e-mail in public text, reopening through a secret, duplicates within one office ---

STAFF_EMAILS = [email for email, _, _ in PEOPLE.values()]


def test_no_staff_email_in_any_public_output_after_a_transfer_and_a_manual_routing(client, tokens):
    transferred = new_report(client, lat=37.5667)
    mapo = client.get(f"/api/reports/{transferred}").json()["properties"]["office_name"]
    sent = client.post(
        f"/api/reports/{transferred}/transfer",
        json={"to_office": GANGNAM, "reason": "their road", "private_note": "asked by manager@mapo.example"},
        headers=auth(tokens, "mapo_manager"),
    )
    assert sent.status_code == 200
    routed = new_report(client, category="illegal-dumping", lat=37.5641, lon=126.9977)  # 중구: triage
    by_hand = client.post(
        f"/api/triage/{routed}/route",
        json={"office": "11140-roads", "note": "roads will do it"},
        headers=auth(tokens, "triage"),
    )
    assert by_hand.status_code == 200

    rules = {
        transferred: client.get(f"/api/reports/{transferred}").json()["properties"]["routing"]["rule"],
        routed: client.get(f"/api/reports/{routed}").json()["properties"]["routing"]["rule"],
    }
    assert rules[transferred] == f"transferred by {mapo['ko']} / {mapo['en']}"
    assert rules[routed] == "routed by 시 분류 담당 / the city's triage team"
    public = []
    for public_id in (transferred, routed):
        public += [
            client.get(f"/api/reports/{public_id}"),
            client.get(f"/reports/{public_id}?lang=en"),
            client.get(f"/reports/{public_id}?lang=ko"),
            client.get(f"/open311/v2/requests/{public_id}.json"),
            client.get(f"/open311/v2/requests/{public_id}.xml"),
        ]
    public += [
        client.get("/api/reports", params={"limit": 5000}),
        client.get("/api/reports/nearby", params={"lat": 37.5667, "lon": 126.9016, "layer": "facilities"}),
        client.get("/open311/v2/requests.json"),
        client.get("/open311/v2/requests.xml"),
    ]
    for response in public:
        assert response.status_code == 200, response.url
        for email in STAFF_EMAILS:
            assert email not in response.text, (response.url, email)
        assert "@city.example" not in response.text and "@mapo.example" not in response.text
    assert transferred in public[-4].text and routed in public[-4].text  # the GeoJSON did list them


def test_reopen_by_contact_gives_the_same_answer_to_anyone(client, tokens, demo_db):
    public_id = client.post(
        "/api/reports",
        json={
            "layer": "facilities",
            "category": "pothole",
            "lat": 37.5663,
            "lon": 126.9016,
            "email": "filer@example.org",
        },
    ).json()["id"]
    for to, extra in (("acknowledged", {}), ("in_progress", {}), ("resolved", {"public_note": "Fixed."})):
        assert move(client, tokens, "mapo_staff", public_id, to, **extra).status_code == 200
    old_token = reopen_token(demo_db, "filer@example.org")
    before = len(outbox_bodies(demo_db, "filer@example.org"))

    answers = [
        client.post(f"/api/reports/{public_id}/reopen", json={"contact": contact})
        for contact in ("someone@else.org", "010-1234-5678", " Filer@Example.org ")
    ]
    assert [a.status_code for a in answers] == [202, 202, 202]
    assert answers[0].json() == answers[1].json() == answers[2].json()
    assert outbox_bodies(demo_db, "someone@else.org") == []
    assert len(outbox_bodies(demo_db, "filer@example.org")) == before + 1  # only the reporter got a link
    new_token = reopen_token(demo_db, "filer@example.org")
    assert new_token != old_token

    stale = client.post(f"/api/reports/{public_id}/reopen", json={"token": old_token, "reason": "still broken"})
    assert stale.status_code == 403  # each new link replaces the previous one
    missing = client.post(f"/api/reports/{public_id}/reopen", json={"reason": "still broken"})
    assert missing.status_code == 422
    reopened = client.post(f"/api/reports/{public_id}/reopen", json={"token": new_token, "reason": "still broken"})
    assert reopened.status_code == 200 and reopened.json()["status"] == "reopened"
    [(stored,)] = sql(demo_db, "SELECT reopen_token_hash FROM reports WHERE public_id = :p", p=public_id)
    assert stored and new_token not in stored and len(stored) == 64  # only the hash is kept


def test_office_staff_cannot_close_a_report_as_a_duplicate_of_another_offices_report(client, tokens):
    mapo_report = new_report(client, lat=37.5668)
    gangnam_report = new_report(client, lat=37.5172, lon=127.0473)  # 강남구청
    assert client.get(f"/api/reports/{gangnam_report}").json()["properties"]["office"] == GANGNAM
    refused = move(
        client, tokens, "mapo_manager", mapo_report, "closed", reason="duplicate", duplicate_of=gangnam_report
    )
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "duplicate_in_another_office"
    assert client.get(f"/api/reports/{gangnam_report}").json()["properties"]["supporters"] == 0
    assert client.get(f"/api/reports/{mapo_report}").json()["properties"]["status"] == "routed"
    allowed = move(client, tokens, "admin", mapo_report, "closed", reason="duplicate", duplicate_of=gangnam_report)
    assert allowed.status_code == 200
    assert client.get(f"/api/reports/{gangnam_report}").json()["properties"]["supporters"] == 1
