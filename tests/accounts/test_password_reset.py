"""A password-reset link travels through the outbox to a real local SMTP server and works once; an
administrator's invitation (an account made without a password) is the same link."""

import re

import pytest

from mapapp.accounts import service as accounts
from mapapp.core.db import transaction
from tests.notify.sinks import deliver, receiving_smtp, smtp_settings

PASSWORD = "a long enough password"


@pytest.fixture
def smtp(monkeypatch):
    with (
        smtp_settings(monkeypatch, MAPAPP_PUBLIC_BASE_URL="https://map.city.example") as port,
        receiving_smtp(port) as inbox,
    ):
        yield inbox


def link_token(message: dict[str, str]) -> str:
    found = re.findall(r"https://map\.city\.example/reset-password#token=([\w-]+)", message["body"])
    assert found, message["body"]
    return found[0]


def test_a_password_reset_mail_arrives_and_its_link_works_once(client, smtp):
    with transaction() as session:
        accounts.create_user(session, email="chief.reset@city.example", name="Chief", role="admin", password=PASSWORD)
        accounts.create_user(session, email="kim.reset@city.example", name="김민수", role="triage", password=PASSWORD)
    chief = client.post("/api/auth/login", json={"email": "chief.reset@city.example", "password": PASSWORD}).json()
    kim = client.post("/api/auth/login", json={"email": "kim.reset@city.example", "password": PASSWORD}).json()
    client.cookies.clear()
    admin = {"Authorization": f"Bearer {chief['token']}"}
    users = client.get("/api/admin/overview", headers=admin).json()["users"]
    kim_id = next(u["id"] for u in users if u["email"] == "kim.reset@city.example")

    deliver()  # whatever earlier tests left
    smtp.messages.clear()
    assert client.post(f"/api/admin/users/{kim_id}/password-reset", headers=admin).status_code == 200
    deliver()
    (mail,) = smtp.messages
    assert mail["to"] == "kim.reset@city.example"
    assert mail["subject"] == "비밀번호 재설정 / Password reset"
    assert mail["message_id"].startswith("<outbox-")
    assert "김민수님" in mail["body"] and "choose a new password" in mail["body"]
    token = link_token(mail)

    changed = client.post("/api/auth/password-reset", json={"token": token, "password": "a brand new password"})
    assert changed.status_code == 200, changed.text
    # Kim's old session ended with the reset; the old password no longer works, the new one does.
    assert client.get("/api/auth/me", headers={"Authorization": f"Bearer {kim['token']}"}).status_code == 401
    old = client.post("/api/auth/login", json={"email": "kim.reset@city.example", "password": PASSWORD})
    new = client.post("/api/auth/login", json={"email": "kim.reset@city.example", "password": "a brand new password"})
    client.cookies.clear()
    assert old.status_code == 401 and new.status_code == 200
    reused = client.post("/api/auth/password-reset", json={"token": token, "password": "yet another password"})
    assert reused.status_code == 403 and reused.json()["error"]["code"] == "invalid_reset_token"

    # An account made on the admin desk without a password gets the same link: an invitation.
    made = client.post(
        "/api/admin/users",
        json={"email": "new.starter@city.example", "name": "New Starter", "role": "triage"},
        headers=admin,
    )
    assert made.status_code == 201
    deliver()
    invitation = [m for m in smtp.messages if m["to"] == "new.starter@city.example"]
    assert len(invitation) == 1
    assert (
        client.post(
            "/api/auth/password-reset", json={"token": link_token(invitation[0]), "password": "chosen by the starter"}
        ).status_code
        == 200
    )
    first = client.post(
        "/api/auth/login", json={"email": "new.starter@city.example", "password": "chosen by the starter"}
    )
    client.cookies.clear()
    assert first.status_code == 200
