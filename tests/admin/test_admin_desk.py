"""The admin desk over HTTP against the demo city: offices, users, API keys, layers, validation, and who may."""

import re

import pytest
from typer.testing import CliRunner

from mapapp.cli import app as cli
from tests.admin.people import GANGNAM, MAPO, PEOPLE, WHO, auth, log_everyone_in
from tests.conftest import sql


@pytest.fixture(scope="module")
def tokens(client, demo_db):
    return log_everyone_in(client)


def user_id(client, tokens, email):
    users = client.get("/api/admin/overview", headers=auth(tokens, "admin")).json()["users"]
    return next(u["id"] for u in users if u["email"] == email)


# --- every admin endpoint, every role ---------------------------------------------------------------


@pytest.mark.parametrize("who", WHO, ids=[str(w) for w in WHO])
def test_authorization_matrix_of_the_admin_desk(client, tokens, demo_db, who):
    headers = auth(tokens, who)
    n = WHO.index(who)
    target = user_id(client, tokens, PEOPLE["gangnam_staff"][0])
    key = client.post("/api/admin/api-keys", json={"name": "matrix"}, headers=auth(tokens, "admin")).json()["id"]
    got = {
        "overview": client.get("/api/admin/overview", headers=headers).status_code,
        "create office": client.post(
            "/api/admin/offices",
            json={"jurisdiction": "11110", "department": f"parks{n}", "name_ko": "공원", "name_en": "Parks"},
            headers=headers,
        ).status_code,
        "edit office": client.patch(f"/api/admin/offices/{GANGNAM}", json={"email": None}, headers=headers).status_code,
        "create user": client.post(
            "/api/admin/users",
            json={"email": f"new{n}@city.example", "name": "New", "role": "triage", "password": "x" * 12},
            headers=headers,
        ).status_code,
        "edit user": client.patch(f"/api/admin/users/{target}", json={"name": "Staff"}, headers=headers).status_code,
        "reset": client.post(f"/api/admin/users/{target}/password-reset", headers=headers).status_code,
        "create key": client.post("/api/admin/api-keys", json={"name": "k"}, headers=headers).status_code,
        "revoke key": client.post(f"/api/admin/api-keys/{key}/revoke", headers=headers).status_code,
    }
    if who == "admin":
        assert set(got.values()) <= {200, 201}, got
    else:
        assert set(got.values()) == {401 if who is None else 403}, got
    if who not in ("admin", None):
        # Refused means unchanged.
        assert sql(demo_db, "SELECT count(*) FROM offices WHERE department = :d", d=f"parks{n}")[0][0] == 0
        assert sql(demo_db, "SELECT count(*) FROM users WHERE email = :e", e=f"new{n}@city.example")[0][0] == 0


# --- offices ----------------------------------------------------------------------------------------


def test_an_office_is_created_edited_and_deactivated(client, tokens):
    admin = auth(tokens, "admin")
    made = client.post(
        "/api/admin/offices",
        json={
            "jurisdiction": "11440",
            "department": "sanitation",
            "name_ko": "마포구 청소행정과",
            "name_en": "Mapo Cleaning",
        },
        headers=admin,
    )
    if made.status_code == 409:  # the demo may already have one: then a department nobody has
        made = client.post(
            "/api/admin/offices",
            json={"jurisdiction": "11440", "department": "parks", "name_ko": "마포구 공원과", "name_en": "Mapo Parks"},
            headers=admin,
        )
    assert made.status_code == 201, made.text
    slug = made.json()["slug"]
    edited = client.patch(f"/api/admin/offices/{slug}", json={"name_en": "Mapo Parks and Cleaning"}, headers=admin)
    assert edited.status_code == 200 and edited.json()["name_en"] == "Mapo Parks and Cleaning"
    off = client.patch(f"/api/admin/offices/{slug}", json={"active": False}, headers=admin)
    assert off.status_code == 200 and off.json()["active"] is False
    listed = {o["slug"]: o for o in client.get("/api/admin/overview", headers=admin).json()["offices"]}
    assert listed[slug]["active"] is False and listed[slug]["name_en"] == "Mapo Parks and Cleaning"


@pytest.mark.parametrize(
    "body, code, field",
    [
        (
            {"jurisdiction": "99999", "department": "parks", "name_ko": "가", "name_en": "A"},
            "unknown_jurisdiction",
            None,
        ),
        ({"jurisdiction": "11440", "department": "Parks!", "name_ko": "가", "name_en": "A"}, "invalid_input", None),
        ({"jurisdiction": "11440", "department": "parks", "name_ko": " ", "name_en": "A"}, "invalid_input", "name_ko"),
        (
            {"jurisdiction": "11440", "department": "parks2", "name_ko": "가", "name_en": "A", "email": "no-at-sign"},
            "invalid_email",
            "email",
        ),
    ],
)
def test_a_bad_office_is_refused_with_a_clear_error(client, tokens, demo_db, body, code, field):
    before = sql(demo_db, "SELECT count(*) FROM offices")[0][0]
    answer = client.post("/api/admin/offices", json=body, headers=auth(tokens, "admin"))
    assert answer.status_code in (404, 422) and answer.json()["error"]["code"] == code, answer.text
    if field:
        assert answer.json()["error"]["details"]["field"] == field
    assert sql(demo_db, "SELECT count(*) FROM offices")[0][0] == before


# --- users ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("email", ["bad", "no@domain", "two@@city.example", "spaces in@city.example", ""])
def test_a_bad_email_is_refused_and_nothing_is_created(client, tokens, demo_db, email):
    before = sql(demo_db, "SELECT count(*) FROM users")[0][0]
    answer = client.post(
        "/api/admin/users",
        json={"email": email, "name": "X", "role": "admin", "password": "a long enough password"},
        headers=auth(tokens, "admin"),
    )
    assert answer.status_code == 422 and answer.json()["error"]["code"] == "invalid_email", answer.text
    assert answer.json()["error"]["details"]["field"] == "email"
    assert sql(demo_db, "SELECT count(*) FROM users")[0][0] == before


def test_the_cli_refuses_a_bad_email_too(demo_db):
    result = CliRunner().invoke(
        cli,
        ["users", "create", "--email", "bad", "--name", "B", "--role", "admin", "--password-stdin"],
        input="a long enough password\n",
    )
    assert result.exit_code == 2 and "invalid_email" in result.output, result.output
    assert sql(demo_db, "SELECT count(*) FROM users WHERE email = 'bad'")[0][0] == 0


def test_a_user_changes_role_and_office_and_is_disabled(client, tokens):
    admin = auth(tokens, "admin")
    made = client.post(
        "/api/admin/users",
        json={"email": "Mover@City.example", "name": "Mover", "role": "staff", "office": MAPO, "password": "p" * 12},
        headers=admin,
    )
    assert made.status_code == 201 and made.json()["email"] == "mover@city.example"
    uid = made.json()["id"]
    login = client.post("/api/auth/login", json={"email": "mover@city.example", "password": "p" * 12}).json()
    client.cookies.clear()
    mover = {"Authorization": f"Bearer {login['token']}"}
    assert client.get(f"/api/offices/{MAPO}/queue", headers=mover).status_code == 200

    moved = client.patch(f"/api/admin/users/{uid}", json={"role": "manager", "office": GANGNAM}, headers=admin)
    assert moved.status_code == 200 and moved.json()["role"] == "manager"
    # The session carried the old role and office: it ended with the change.
    assert client.get(f"/api/offices/{MAPO}/queue", headers=mover).status_code == 401
    again = client.post("/api/auth/login", json={"email": "mover@city.example", "password": "p" * 12}).json()
    client.cookies.clear()
    mover = {"Authorization": f"Bearer {again['token']}"}
    assert client.get(f"/api/offices/{GANGNAM}/queue", headers=mover).status_code == 200
    assert client.get(f"/api/offices/{MAPO}/queue", headers=mover).status_code == 403

    no_office = client.patch(
        f"/api/admin/users/{uid}", json={"role": "staff", "office": "no-such-office"}, headers=admin
    )
    assert no_office.status_code == 404 and no_office.json()["error"]["code"] == "unknown_office"

    disabled = client.patch(f"/api/admin/users/{uid}", json={"active": False}, headers=admin)
    assert disabled.status_code == 200 and disabled.json()["active"] is False
    assert client.get(f"/api/offices/{GANGNAM}/queue", headers=mover).status_code == 401
    refused = client.post("/api/auth/login", json={"email": "mover@city.example", "password": "p" * 12})
    client.cookies.clear()
    assert refused.status_code == 401


def test_an_administrator_cannot_disable_themselves(client, tokens):
    me = user_id(client, tokens, PEOPLE["admin"][0])
    answer = client.patch(f"/api/admin/users/{me}", json={"active": False}, headers=auth(tokens, "admin"))
    assert answer.status_code == 409


def test_a_password_reset_link_works_once(client, tokens, demo_db):
    admin = auth(tokens, "admin")
    made = client.post(
        "/api/admin/users",
        json={"email": "forgetful@city.example", "name": "Forgetful", "role": "triage"},
        headers=admin,
    )
    assert made.status_code == 201  # no password given: an invitation (a reset link) is e-mailed
    uid = made.json()["id"]
    assert client.post(f"/api/admin/users/{uid}/password-reset", headers=admin).status_code == 200
    bodies = [
        b for (b,) in sql(demo_db, "SELECT body FROM outbox WHERE recipient = 'forgetful@city.example' ORDER BY id")
    ]
    assert len(bodies) == 2
    first, newest = (re.search(r"/reset-password#token=([\w-]+)", b).group(1) for b in bodies)  # type: ignore[union-attr]
    # Only the newest link works; its hash, not the link, is stored.
    assert sql(demo_db, "SELECT count(*) FROM password_resets WHERE token_hash = :t", t=newest)[0][0] == 0
    stale = client.post("/api/auth/password-reset", json={"token": first, "password": "my new long password"})
    assert stale.status_code == 403 and stale.json()["error"]["code"] == "invalid_reset_token"
    short = client.post("/api/auth/password-reset", json={"token": newest, "password": "short"})
    assert short.status_code == 422 and short.json()["error"]["details"]["field"] == "password"
    done = client.post("/api/auth/password-reset", json={"token": newest, "password": "my new long password"})
    assert done.status_code == 200
    again = client.post("/api/auth/password-reset", json={"token": newest, "password": "another long password"})
    assert again.status_code == 403
    login = client.post("/api/auth/login", json={"email": "forgetful@city.example", "password": "my new long password"})
    client.cookies.clear()
    assert login.status_code == 200


# --- API keys ---------------------------------------------------------------------------------------


def test_an_api_key_is_shown_once_works_and_is_revoked(client, tokens, demo_db):
    admin = auth(tokens, "admin")
    made = client.post("/api/admin/api-keys", json={"name": "district portal"}, headers=admin)
    assert made.status_code == 201
    key, key_id = made.json()["key"], made.json()["id"]
    listed = client.get("/api/admin/overview", headers=admin).json()["api_keys"]
    assert any(k["id"] == key_id and k["revoked_at"] is None for k in listed)
    assert key not in str(listed)  # shown once: only the hash is stored
    post = {"service_code": "pothole", "lat": "37.5663", "long": "126.9016", "description": "x"}
    assert client.post("/open311/v2/requests.json", data=post | {"api_key": key}).status_code == 201
    assert client.post(f"/api/admin/api-keys/{key_id}/revoke", headers=admin).status_code == 200
    refused = client.post("/open311/v2/requests.json", data=post | {"api_key": key})
    assert refused.status_code == 403
    assert client.post("/api/admin/api-keys/999999/revoke", headers=admin).status_code == 404


# --- layers and departments --------------------------------------------------------------------------


def test_an_expired_disaster_layer_reads_inactive(client, tokens, demo_db):
    admin = auth(tokens, "admin")
    assert (
        client.post("/api/layers/flood/activate", json={"until": "2099-01-01T00:00:00Z"}, headers=admin).status_code
        == 200
    )
    sql(demo_db, "UPDATE layers SET active_until = now() - interval '1 minute' WHERE slug = 'flood'")
    flood = next(
        layer for layer in client.get("/api/admin/overview", headers=admin).json()["layers"] if layer["slug"] == "flood"
    )
    assert flood["state"] == "inactive"  # stored 'active', but its end time has passed
    assert sql(demo_db, "SELECT state FROM layers WHERE slug = 'flood'")[0][0] == "active"
    client.post("/api/layers/flood/deactivate", headers=admin)


def test_department_names_come_from_the_layer_files(client, demo_db, tmp_path):
    from mapapp.core.db import transaction
    from mapapp.layers import service as layers
    from tests.conftest import PROJECT

    second_city = tmp_path / "layers"
    second_city.mkdir()
    (second_city / "parks.yaml").write_text(
        "slug: parks\nname: {ko: 공원, en: Parks}\nkind: everyday\nstate: active\n"
        "departments:\n  greenery: {ko: 푸른도시, en: Green city}\n"
        "categories:\n  - slug: broken-bench\n    name: {ko: 벤치 파손, en: Broken bench}\n"
        "    level: district\n    department: greenery\n    response_hours: 72\n"
        "    color: '#16a34a'\n    icon: bench\n",
        encoding="utf-8",
    )
    with transaction() as session:
        layers.sync_layers(session, layers.load_layer_files(PROJECT / "layers") + layers.load_layer_files(second_city))
    assert '"dept_greenery":"Green city"' in client.get("/admin?lang=en").text
    assert '"dept_greenery":"푸른도시"' in client.get("/admin?lang=ko").text
    assert '"dept_water":"Water and drains"' in client.get("/office?lang=en").text


def test_two_files_naming_a_department_differently_are_refused(tmp_path):
    from mapapp.layers import service as layers

    for slug, name in (("a", "Parks"), ("b", "Gardens")):
        (tmp_path / f"{slug}.yaml").write_text(
            f"slug: {slug}\nname: {{ko: 가, en: A}}\nkind: everyday\nstate: active\n"
            f"departments:\n  parks: {{ko: 공원, en: {name}}}\n"
            f"categories:\n  - slug: c-{slug}\n    name: {{ko: 가, en: A}}\n    level: city\n    department: parks\n"
            "    response_hours: 1\n    color: '#000000'\n    icon: x\n",
            encoding="utf-8",
        )
    with pytest.raises(layers.LayerFileError, match="department 'parks' is named differently"):
        layers.load_layer_files(tmp_path)
