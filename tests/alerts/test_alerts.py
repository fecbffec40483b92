"""E-mail alerts from subscribe to confirm to delivery to unsubscribe, through a real local SMTP server and
the real `mapapp worker` process: one report comes alone, several at once come as one digest, one POST
(RFC 8058) stops them, and no alert carries a reporter's contact."""

import os
import re
import time
from urllib.parse import urlsplit

import pytest

from tests.notify.sinks import free_port, receiving_smtp
from tests.notify.test_worker import WorkerProcess, wait_until

SUBSCRIBER = "alerts.fan@example.org"
REPORTER = "hidden.alert.reporter@example.org"
MAPO = {"lat": 37.5663, "lon": 126.9016}
GANGNAM = {"lat": 37.5172, "lon": 127.0473}
INTERVAL = 5  # seconds between alert passes: what arrives within one pass is one digest


@pytest.fixture
def mail_and_worker(demo_db, tmp_path):
    port = free_port()
    with receiving_smtp(port) as inbox:
        env = {
            **os.environ,
            "MAPAPP_DATABASE_URL": demo_db,
            "MAPAPP_SMTP_HOST": "127.0.0.1",
            "MAPAPP_SMTP_PORT": str(port),
            "MAPAPP_NOTIFY_RETRY_BASE_SECONDS": "0.2",
            "MAPAPP_PHOTO_CLEANUP_INTERVAL_SECONDS": "0",
            "MAPAPP_ALERTS_INTERVAL_SECONDS": str(INTERVAL),
        }
        worker = WorkerProcess(env, tmp_path / "worker.log")
        try:
            wait_until(worker.started, 60, "the worker to start")
            yield inbox, worker
        finally:
            worker.stop()


def submit(client, where, **fields) -> str:
    body = {"layer": "facilities", "category": "pothole", **where, "email": REPORTER, "phone": "010-2222-3333"}
    response = client.post("/api/reports", json=body | fields)
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def path_of(url: str) -> str:
    return urlsplit(url).path


def test_subscribe_confirm_deliver_digest_unsubscribe(client, mail_and_worker):
    inbox, worker = mail_and_worker
    answer = client.post(
        "/api/alerts", json={"email": SUBSCRIBER, "district": "11440", "layer": "facilities", "locale": "en"}
    )
    assert answer.status_code == 202 and answer.json() == {"status": "confirmation_sent"}
    wait_until(lambda: inbox.to(SUBSCRIBER), 30, "the confirmation e-mail")
    confirmation = inbox.to(SUBSCRIBER)[0]
    assert confirmation["subject"] == "[Confirm your alert] City facilities · Mapo-gu"
    link = re.search(r"http\S+/alerts/confirm/\S+", confirmation["body"]).group(0)

    unconfirmed = submit(client, MAPO, description="before confirming")
    time.sleep(INTERVAL + 2)
    assert len(inbox.to(SUBSCRIBER)) == 1, "an alert before the address confirmed"

    page = client.get(path_of(link))  # mail scanners follow links: GET only shows the button
    assert page.status_code == 200 and 'id="confirm-button"' in page.text
    done = client.post(path_of(link))
    assert done.status_code == 200 and "Alerts are on" in done.text

    alone = submit(client, MAPO, description="Deep hole in the bus lane")
    elsewhere = submit(client, GANGNAM, description="Gangnam hole")
    wait_until(lambda: len(inbox.to(SUBSCRIBER)) >= 2, 40, "the first alert")
    first = inbox.to(SUBSCRIBER)[1]
    assert first["subject"] == "[New report] Road damage or pothole — Mapo-gu"
    assert f"/reports/{alone}" in first["body"] and "Deep hole in the bus lane" in first["body"]
    assert elsewhere not in first["body"] and unconfirmed not in first["body"]
    assert first["unsubscribe_post"] == "List-Unsubscribe=One-Click"
    unsubscribe = first["unsubscribe"].strip("<>")
    assert "/alerts/unsubscribe/" in unsubscribe and unsubscribe in first["body"]

    several = [submit(client, MAPO, description=f"hole number {n}") for n in range(3)]
    wait_until(lambda: len(inbox.to(SUBSCRIBER)) >= 3, 40, "the digest")
    time.sleep(1)
    digest = inbox.to(SUBSCRIBER)[2]
    assert digest["subject"] == "[3 new reports] City facilities · Mapo-gu", [
        m["subject"] for m in inbox.to(SUBSCRIBER)
    ]
    assert all(f"/reports/{public_id}" in digest["body"] for public_id in several)
    assert len(inbox.to(SUBSCRIBER)) == 3

    for message in inbox.to(SUBSCRIBER):
        for secret in (REPORTER, "hidden.alert.reporter", "010-2222-3333", "+821022223333", "22223333"):
            assert secret not in message["body"] and secret not in message["subject"]

    # RFC 8058: the mail client POSTs List-Unsubscribe=One-Click to the header's address.
    stopped = client.post(
        path_of(unsubscribe),
        content=b"List-Unsubscribe=One-Click",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert stopped.status_code == 200 and "no more of these alerts" in stopped.text
    assert client.post(path_of(unsubscribe)).status_code == 200  # again: no change
    submit(client, MAPO, description="after unsubscribing")
    time.sleep(INTERVAL + 3)
    assert len(inbox.to(SUBSCRIBER)) == 3, "an alert after unsubscribing"
    assert "alerts: 1 queued" in worker.text()


def test_a_point_and_radius_subscription_in_korean(client, mail_and_worker):
    inbox, _ = mail_and_worker
    address = "kim.alerts@example.org"
    form = client.post(
        "/alerts",
        data={"email": address, "area": "point", "lat": "37.5172", "lon": "127.0473", "radius": "300", "locale": "ko"},
    )
    assert form.status_code == 202 and 'id="alert-sent"' in form.text and "확인 메일을 보냈습니다" in form.text
    wait_until(lambda: inbox.to(address), 30, "the confirmation e-mail")
    link = re.search(r"http\S+/alerts/confirm/\S+", inbox.to(address)[0]["body"]).group(0)
    assert client.post(path_of(link)).status_code == 200
    near = submit(client, {"lat": 37.5180, "lon": 127.0480})
    submit(client, MAPO)
    wait_until(lambda: len(inbox.to(address)) >= 2, 40, "the alert")
    alert = inbox.to(address)[1]
    assert alert["subject"].startswith("[새 신고]") and f"/reports/{near}" in alert["body"]
    assert "이 알림을 그만 받으려면" in alert["body"]
