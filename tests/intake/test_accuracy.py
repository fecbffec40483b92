"""The classifier and the locator on the test part of the labelled set (phrases never seen in training).

The floors are a little under the figures measured when they were set (docs/benchmarks.md), so a change
that makes intake worse fails here. Then the same test part goes through POST /api/intake/messages over
real HTTP, and the reports it made are checked against the labels: no message that names a place is
routed to another district.
"""

from collections import Counter

import httpx
from sqlalchemy import text

from mapapp.core.db import transaction
from mapapp.intake import evaluate, service


def test_the_labelled_set_is_big_messy_and_covers_every_category(intake_db):
    rows = evaluate.labelled()
    assert len(rows) >= 400
    with transaction() as session:
        slugs = {c.slug for c in service.vocabulary(session).categories}
    assert {r["category"] for r in rows if r["category"]} == slugs
    langs = Counter(r["lang"] for r in rows)
    assert langs["ko"] >= 150 and langs["en"] >= 150
    assert sum(1 for r in rows if r["category"] is None) >= 40  # venting, sarcasm, questions
    assert sum(1 for r in rows if len(r["categories"]) == 2) >= 20  # two problems in one message
    assert sum(1 for r in rows if r["category"] and not r["district"]) >= 60  # no place named
    assert sum(1 for r in rows if "#" in r["text"]) >= 40
    test = [r for r in rows if r["split"] == "test"]
    assert 0.2 <= len(test) / len(rows) <= 0.4
    train_texts = {r["text"] for r in rows if r["split"] == "train"}
    assert not any(r["text"] in train_texts for r in test)


def test_classifier_and_locator_hold_their_floors_on_the_test_part(intake_db):
    with transaction() as session:
        figures = evaluate.evaluate(session, evaluate.labelled("test"))
    print(figures.as_dict())
    assert figures.classifier_precision >= 0.93
    assert figures.classifier_recall >= 0.9
    assert figures.locator_precision == 1.0
    assert figures.locator_recall >= 0.95
    assert figures.wrong_district == 0
    assert figures.routed_correct >= 0.9
    assert figures.triage_share < 1 / 3


def test_the_model_earns_its_place_beside_the_keywords(intake_db):
    # Keywords alone (the model's vote emptied) do worse on unseen phrases than keywords plus model.
    from mapapp.intake import classify

    with transaction() as session:
        vocabulary = service.vocabulary(session)
        both = alone = 0
        rows = evaluate.labelled("test")
        empty = classify.NaiveBayes()
        for row in rows:
            expected = row["categories"]
            for model, counter in ((service.model(), "both"), (empty, "alone")):
                found = classify.classify(row["text"], vocabulary, model).category
                ok = found in expected if found else not expected
                if counter == "both":
                    both += ok
                else:
                    alone += ok
    assert both > alone


def test_the_test_part_through_real_http_routes_nothing_to_the_wrong_district(intake_db, live_server):
    with transaction() as session:
        key = service.create_channel(session, name="measure", kind="social")
    rows = evaluate.labelled("test")
    messages = [
        {"channel": "measure", "external_id": r["id"], "text": r["text"], "posted_at": "2026-11-25T09:00:00+09:00"}
        for r in rows
    ]
    with httpx.Client(base_url=live_server, headers={"Authorization": f"Bearer {key}"}, timeout=60) as http:
        results = []
        for start in range(0, len(messages), 50):
            response = http.post("/api/intake/messages", json={"messages": messages[start : start + 50]})
            assert response.status_code == 201, response.text
            results += response.json()["results"]
    by_id = {r["id"]: r for r in rows}
    with transaction() as session:
        districts = dict(
            session.execute(
                text(
                    "SELECT r.public_id, j.code FROM reports r LEFT JOIN jurisdictions j ON j.id = r.district_id "
                    "WHERE r.channel = 'social'"
                )
            ).all()
        )
    outcomes = Counter(r["outcome"] for r in results)
    routed_right = routed = 0
    for result in results:
        row = by_id[result["external_id"]]
        if result["outcome"] != "routed":
            continue
        routed += 1
        district = districts[result["report"]["id"]]
        if row["district"]:
            assert district == row["district"], (row["text"], district)
        routed_right += result["category"] in row["categories"]
    problems = sum(1 for r in rows if r["categories"])
    print(dict(outcomes), routed_right, routed)
    assert routed_right / routed >= 0.9
    assert outcomes["triage"] / problems < 1 / 3
