"""The triage desk decides a channel message the classifier was unsure of: the text, the candidate categories
and districts with their scores, a decision by keyboard that routes the report, and the decision exported as
a labelled example; a message report routed to an office on the desk is exported too. Desktop and 390 px."""

import json
import uuid

import httpx
import pytest
from sqlalchemy import text
from typer.testing import CliRunner

from mapapp.cli import app
from mapapp.core.db import transaction
from mapapp.intake import service
from tests.browser.conftest import screenshot
from tests.browser.test_office import WIDTHS, log_in, person

# Two dong of two districts, and litter that is neither quite dumping nor quite a bin: the machine is unsure.
UNSURE = "망원동이랑 대치동 사이 어딘가 길에 쓰레기가 잔뜩 쌓여 있어요 {tag}"


def post_message(live_server: str, key: str, channel: str, body: str) -> dict:  # type: ignore[type-arg]
    response = httpx.post(
        f"{live_server}/api/intake/messages",
        json={
            "channel": channel,
            "external_id": uuid.uuid4().hex,
            "text": body,
            "posted_at": "2026-11-25T21:00:00+09:00",
        },
        headers={"Authorization": f"Bearer {key}"},
        timeout=30,
    )
    assert response.status_code == 201, response.text
    [result] = response.json()["results"]
    assert result["outcome"] == "triage", result
    return dict(result)


def first_on_the_desk(public_id: str, minute: int) -> None:
    with transaction() as session:  # older than anything else waiting: first on the desk
        session.execute(
            text(
                "UPDATE reports SET created_at = timestamp '2019-01-01' + make_interval(mins => :n) "
                "WHERE public_id = :p"
            ),
            {"n": minute, "p": public_id},
        )


def report_row(public_id: str):  # type: ignore[no-untyped-def]
    with transaction() as session:
        return session.execute(
            text(
                "SELECT r.status, c.slug AS category, j.code AS district, o.slug AS office FROM reports r "
                "JOIN categories c ON c.id = r.category_id LEFT JOIN jurisdictions j ON j.id = r.district_id "
                "LEFT JOIN offices o ON o.id = r.office_id WHERE r.public_id = :p"
            ),
            {"p": public_id},
        ).one()


def exported(tmp_path) -> list[dict]:  # type: ignore[no-untyped-def, type-arg]
    out = tmp_path / "decisions.jsonl"
    run = CliRunner().invoke(app, ["intake", "export-decisions", str(out)])
    assert run.exit_code == 0, run.output
    return [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]


@pytest.mark.parametrize("width", list(WIDTHS))
def test_the_triage_team_decides_an_unsure_message_by_keyboard(browser, watch, live_server, width, tmp_path):
    watch.expected_status.add(401)
    channel = f"call-{uuid.uuid4().hex[:6]}"
    with transaction() as session:
        key = service.create_channel(session, name=channel, kind="phone")
    tag = uuid.uuid4().hex[:6]
    message = UNSURE.format(tag=tag)
    result = post_message(live_server, key, channel, message)
    public_id = result["report"]["id"]
    first_on_the_desk(public_id, 0)
    team = person("triage@city.example", "triage")
    context, page = log_in(browser, watch, live_server, "/triage", team, WIDTHS[width])

    page.locator("#item h2", has_text=public_id).wait_for()
    decide = page.locator("#intake-decide")
    decide.wait_for()
    assert message in page.locator("#item .intake").inner_text()  # the message's text, as it came
    categories = page.locator("#intake-categories button")
    districts = page.locator("#intake-districts button")
    assert categories.count() >= 2 and districts.count() >= 2  # unsure: more than one of each
    assert "%" in categories.first.inner_text() and "%" in districts.first.inner_text()
    assert "Mapo-gu" in decide.inner_text() and "Gangnam-gu" in decide.inner_text()
    # The machine's best of each is chosen already; c and d step to the next one.
    assert categories.first.get_attribute("aria-pressed") == "true"
    screenshot(page, f"triage-intake-{width}-item")
    page.locator("#item").focus()
    page.keyboard.press("c")
    assert categories.first.get_attribute("aria-pressed") == "false"
    assert page.locator("#intake-categories button[aria-pressed='true']").count() == 1
    # A category of a layer that takes no reports now (fallen rocks: the disaster layer is off) is not offered.
    assert page.locator("#intake-categories button[data-category='fallen-rocks']").is_disabled()
    # The person reads a missing manhole cover in it (a low candidate): c until it is chosen.
    slugs = [categories.nth(n).get_attribute("data-category") for n in range(categories.count())]
    assert "manhole-cover" in slugs and slugs[0] != "manhole-cover"
    for _ in slugs:
        if page.locator("#intake-categories button.chosen").get_attribute("data-category") == "manhole-cover":
            break
        page.keyboard.press("c")
    category = page.locator("#intake-categories button.chosen").get_attribute("data-category")
    assert category == "manhole-cover"
    district = page.locator("#intake-districts button.chosen").get_attribute("data-district")
    if district != "11440":  # Mapo-gu, by keyboard
        page.keyboard.press("d")
    assert page.locator("#intake-districts button.chosen").get_attribute("data-district") == "11440"
    decide.scroll_into_view_if_needed()
    screenshot(page, f"triage-intake-{width}-chosen")
    page.keyboard.press("Enter")
    page.locator("#done", has_text=public_id).wait_for()
    row = report_row(public_id)
    assert (row.category, row.district) == (category, "11440")
    assert row.status == "routed" and row.office == "11-water"  # the rule: manhole covers are the city's

    # A second message routed to an office with the desk's candidates (digit, Enter): a decision as well.
    second = post_message(live_server, key, channel, UNSURE.format(tag=tag + "b"))
    first_on_the_desk(second["report"]["id"], 1)
    page.reload()
    page.locator("#item h2", has_text=second["report"]["id"]).wait_for()
    page.locator("#intake-decide").wait_for()
    button = page.locator("#candidates button:not([disabled])").first
    office = button.get_attribute("data-office")
    page.locator("#item").focus()
    page.keyboard.press(str(button.get_attribute("data-n")))
    page.keyboard.press("Enter")
    page.locator("#done", has_text=second["report"]["id"]).wait_for()
    assert report_row(second["report"]["id"]).office == office
    screenshot(page, f"triage-intake-{width}-done")
    context.close()

    lines = {line["text"]: line for line in exported(tmp_path)}
    assert lines[message]["category"] == category and lines[message]["district"] == "11440"
    assert lines[message]["source"] == f"triage:{channel}"
    by_office = lines[UNSURE.format(tag=tag + "b")]
    assert by_office["category"] == report_row(second["report"]["id"]).category
    # The district of the office chosen (a city office: the report's own district).
    code = office.split("-")[0]
    assert by_office["district"] == (code if len(code) == 5 else report_row(second["report"]["id"]).district)


def test_no_problem_closes_a_message_and_a_web_report_shows_no_decision(browser, watch, live_server, client, tmp_path):
    watch.expected_status.add(401)
    channel = f"sns-{uuid.uuid4().hex[:6]}"
    with transaction() as session:
        key = service.create_channel(session, name=channel, kind="social")
    tag = uuid.uuid4().hex[:6]
    message = UNSURE.format(tag=tag)
    public_id = post_message(live_server, key, channel, message)["report"]["id"]
    first_on_the_desk(public_id, 0)
    team = person("triage@city.example", "triage")
    context, page = log_in(browser, watch, live_server, "/triage", team, WIDTHS["phone"])
    page.goto(f"{live_server}/triage?lang=ko")  # the same desk in Korean
    page.locator("#item h2", has_text=public_id).wait_for()
    assert "메시지로 결정" in page.locator("#intake-decide").inner_text()
    assert "문제 없음 (종결)" in page.locator("#intake-none").inner_text()
    page.locator("#intake-none").scroll_into_view_if_needed()
    screenshot(page, "triage-intake-phone-ko")
    page.locator("#item").focus()
    page.keyboard.press("n")  # the no-problem button has the focus; Enter presses it
    assert page.evaluate("document.activeElement.id") == "intake-none"
    page.keyboard.press("Enter")
    page.locator("#done", has_text=public_id).wait_for()
    assert report_row(public_id).status == "closed"
    assert any(line["text"] == message and line["category"] is None for line in exported(tmp_path))
    # A report filed on the web: the desk as it always was, without a message's decision.
    web = client.post(
        "/api/reports",
        json={
            "layer": "facilities",
            "category": "illegal-dumping",
            "lat": 37.5641,
            "lon": 126.9977,
            "description": tag,
        },
    ).json()["id"]
    first_on_the_desk(web, 0)
    page.reload()
    page.locator("#item h2", has_text=web).wait_for()
    page.locator("#candidates button").first.wait_for()
    assert page.locator("#intake-decide").count() == 0 and page.locator("#item .intake").count() == 0
    context.close()
