"""The public indicators against a fixture computed by hand: reopened, transferred, still open at the end of
the period, closed as a duplicate, resolved after the period, filed before it, and hidden by moderation (not counted:
see mapapp.stats.views).

Period: March 2026 in the city's zone (Asia/Seoul, UTC+9). Every time below is Seoul time. Targets:
streetlight-out and pothole 72 h, traffic-signal-fault 24 h. Offices: "a-roads" in district A, "b-roads" in B.
"""

from datetime import date

import pytest
from sqlalchemy import text

from mapapp.stats import service

# id: (district, office now, category, channel, filed, [(kind, from, to, at)], status now, close reason)
# Every report starts with its 'submitted' and 'routed' events at the time it was filed.
REPORTS = {
    "R1": ("A", "a", "streetlight-out", "web", "03-02 10:00",
           [("status_changed", "routed", "acknowledged", "03-02 12:00"),
            ("status_changed", "in_progress", "resolved", "03-03 10:00")], "resolved", None),
    "R2": ("A", "a", "streetlight-out", "web", "03-05 09:00",
           [("status_changed", "routed", "acknowledged", "03-05 10:00"),
            ("status_changed", "in_progress", "resolved", "03-10 09:00")], "resolved", None),
    # Reopened: its resolution does not count, it is open at the end, and it missed its target.
    "R3": ("A", "a", "streetlight-out", "web", "03-10 08:00",
           [("status_changed", "routed", "acknowledged", "03-10 09:00"),
            ("status_changed", "in_progress", "resolved", "03-11 08:00"),
            ("reopened", "resolved", "reopened", "03-12 08:00")], "reopened", None),
    # Transferred from a-roads to b-roads: counted for b-roads (the office that holds it), acknowledged when
    # b-roads first acted, the clock running from filing.
    "R4": ("A", "b", "streetlight-out", "web", "03-15 10:00",
           [("transferred", "routed", "routed", "03-15 12:00"),
            ("status_changed", "routed", "acknowledged", "03-16 10:00"),
            ("status_changed", "in_progress", "resolved", "03-17 10:00")], "resolved", None),
    # Still open at the period's end, never acknowledged; due in April.
    "R5": ("A", "a", "streetlight-out", "web", "03-30 20:00", [], "routed", None),
    "R6": ("A", "a", "streetlight-out", "web", "03-20 10:00",
           [("status_changed", "routed", "closed", "03-20 14:00")], "closed", "duplicate"),
    # Filed in February and still open.
    "R7": ("A", "a", "streetlight-out", "web", "02-20 10:00",
           [("status_changed", "routed", "acknowledged", "02-21 10:00")], "acknowledged", None),
    # Resolved after the period: open at its end; due in March and missed.
    "R8": ("A", "a", "traffic-signal-fault", "phone", "03-28 10:00",
           [("status_changed", "routed", "acknowledged", "03-28 11:00"),
            ("status_changed", "in_progress", "resolved", "04-02 10:00")], "resolved", None),
    # Filed in February, resolved on 1 March.
    "R9": ("A", "a", "pothole", "web", "02-25 10:00",
           [("status_changed", "routed", "acknowledged", "02-25 12:00"),
            ("status_changed", "in_progress", "resolved", "03-01 10:00")], "resolved", None),
    "R10": ("B", "b", "streetlight-out", "web", "03-03 10:00",
            [("status_changed", "routed", "acknowledged", "03-03 11:00"),
             ("status_changed", "in_progress", "resolved", "03-04 10:00")], "resolved", None),
}  # fmt: skip
MARCH = (date(2026, 3, 1), date(2026, 3, 31))


def at(when: str) -> str:
    return f"2026-{when}:00+09:00"


def insert_report(session, public_id: str, ids: dict[str, int], spec) -> int:
    district, office, category, channel, filed, events, status, reason = spec
    report_id = session.scalar(
        text("""
            INSERT INTO reports (public_id, layer_id, category_id, geom, status, close_reason, channel, office_id,
                                 city_id, district_id, created_at, updated_at, description, locale, location_source,
                                 routing_rule, routing_manual, support_count)
            SELECT :pid, c.layer_id, c.id, ST_SetSRID(ST_MakePoint(126.9, 37.5), 4326), :status, :reason, :channel,
                   :office, :city, :district, :filed, :filed, '', 'ko', 'pin', '', false, 0
            FROM categories c WHERE c.slug = :category
            RETURNING id
        """),
        {
            "pid": f"STATS{public_id}",
            "status": status,
            "reason": reason,
            "channel": channel,
            "office": ids[office],
            "city": ids["city"],
            "district": ids[district],
            "filed": at(filed),
            "category": category,
        },
    )
    timeline = [("submitted", None, "submitted", filed), ("routed", "submitted", "routed", filed), *events]
    for kind, old, new, when in timeline:
        session.execute(
            text("INSERT INTO report_events (report_id, kind, from_status, to_status, actor, public_note, "
                 "private_note, created_at) VALUES (:r, :k, :f, :t, 'test', '', '', :at)"),
            {"r": report_id, "k": kind, "f": old, "t": new, "at": at(when)},
        )  # fmt: skip
    return report_id


@pytest.fixture
def fixture_city(session):
    from mapapp.layers import service as layers
    from tests.conftest import PROJECT

    layers.sync_layers(session, layers.load_layer_files(PROJECT / "layers"))

    def jurisdiction(code: str, level: str, parent: int | None) -> int:
        return session.scalar(
            text("INSERT INTO jurisdictions (code, name_ko, name_en, level, parent_id, geometry_source, source) "
                 "VALUES (:c, :c, :c, :l, :p, 'imported', '') RETURNING id"),
            {"c": code, "l": level, "p": parent},
        )  # fmt: skip

    ids = {"city": jurisdiction("S1", "city", None)}
    ids["A"] = jurisdiction("S1A", "district", ids["city"])
    ids["B"] = jurisdiction("S1B", "district", ids["city"])
    for key, district in (("a", "A"), ("b", "B")):
        ids[key] = session.scalar(
            text("INSERT INTO offices (slug, jurisdiction_id, department, name_ko, name_en, active) "
                 "VALUES (:s, :j, 'roads', :s, :s, true) RETURNING id"),
            {"s": f"{key}-roads", "j": ids[district]},
        )  # fmt: skip
    for public_id, spec in REPORTS.items():
        insert_report(session, public_id, ids, spec)
    return ids


def figures(session, kind: str, code: str | None, period=MARCH):
    assert service.refresh(session) is not None
    scope = service.get_scope(session, kind=kind, code=code)
    return service.indicators(session, scope=scope, start=period[0], end=period[1])


def test_city_figures_match_the_hand_count(session, fixture_city):
    f = figures(session, "city", "S1")
    # Filed in March: all but R7 and R9.
    assert f["received"] == 8
    # First office action in March: R1 R2 R3 R4 R6 R8 R10 (R5 never; R7, R9 in February).
    assert f["acknowledged"] == 7
    # Resolved now, last resolved in March: R1 R2 R4 R9 R10 (R3 was reopened, R8 resolved in April).
    assert f["resolved"] == 5
    assert f["closed"] == {"duplicate": 1, "not_ours": 0, "cannot_fix": 0}
    assert f["open_at_start"] == 2  # R7, R9
    assert f["open_at_end"] == 4  # R3 (reopened), R5, R7, R8 (resolved after the period)
    # Due in March and not closed: R1 R2 R3 R4 R8 R10; met: R1 R4 R10.
    assert f["within_target"] == {"due": 6, "met": 3, "share": 0.5}
    # Acknowledged after 2, 1, 1, 24, 4, 1, 1 hours: 4th of 7 is 1 h, 7th is 24 h.
    assert f["time_to_acknowledge"] == {
        "count": 7,
        "p50": {"low_hours": 1, "high_hours": 2},
        "p90": {"low_hours": 24, "high_hours": 36},
    }
    # Resolved after 24, 120, 48, 96, 24 hours: 3rd of 5 is 48 h, 5th is 120 h.
    assert f["time_to_resolve"] == {
        "count": 5,
        "p50": {"low_hours": 48, "high_hours": 60},
        "p90": {"low_hours": 120, "high_hours": 144},
    }
    backlog = {b["day"]: b["open"] for b in f["backlog"]}
    assert len(backlog) == 31
    assert backlog["2026-03-01"] == 1  # R9 resolved that day, R7 open
    assert backlog["2026-03-02"] == 2  # R1 filed
    assert backlog["2026-03-03"] == 2  # R1 resolved, R10 filed
    assert backlog["2026-03-31"] == 4
    channels = {b["code"]: b["received"] for b in f["by_channel"]}
    assert channels == {"web": 7, "phone": 1}
    categories = {b["code"]: (b["received"], b["resolved"], b["open_at_end"]) for b in f["by_category"]}
    assert categories == {"streetlight-out": (7, 4, 3), "traffic-signal-fault": (1, 0, 1), "pothole": (0, 1, 0)}
    assert [(b["code"], b["received"]) for b in f["by_layer"]] == [("facilities", 8)]
    districts = {d["code"]: (d["received"], d["resolved"], d["open_at_end"]) for d in f["districts"]}
    assert districts == {"S1A": (7, 4, 4), "S1B": (1, 1, 0)}


def test_office_and_district_scopes_follow_the_transfer(session, fixture_city):
    a = figures(session, "office", "a-roads")
    assert (a["received"], a["resolved"], a["open_at_end"]) == (6, 3, 4)  # R4 and R10 are b-roads'
    b = figures(session, "office", "b-roads")
    assert (b["received"], b["resolved"], b["open_at_end"]) == (2, 2, 0)
    assert b["within_target"] == {"due": 2, "met": 2, "share": 1.0}
    assert b["time_to_acknowledge"]["p90"] == {"low_hours": 24, "high_hours": 36}  # R4: 24 h from filing
    district_b = figures(session, "district", "S1B")
    assert (district_b["received"], district_b["resolved"]) == (1, 1)  # R10; R4 lies in A


def test_a_period_of_one_day_and_an_empty_one(session, fixture_city):
    day = figures(session, "city", None, (date(2026, 3, 10), date(2026, 3, 10)))
    assert (day["received"], day["resolved"], day["acknowledged"]) == (1, 1, 1)  # R3 filed, R2 resolved, R3 acked
    empty = figures(session, "city", None, (date(2025, 1, 1), date(2025, 1, 31)))
    assert empty["received"] == 0 and empty["time_to_resolve"] == {"count": 0, "p50": None, "p90": None}
    assert empty["within_target"]["share"] is None


def test_a_hidden_report_is_not_counted(session, fixture_city):
    """Hidden by moderation (core.visibility): R1 vanishes from every figure, and comes back when unhidden."""
    session.execute(text("UPDATE reports SET hidden_at = now(), hidden_reason = 'spam' WHERE public_id = 'STATSR1'"))
    f = figures(session, "city", "S1")
    # R1 was filed, acknowledged and resolved in March, within its target.
    assert (f["received"], f["acknowledged"], f["resolved"]) == (7, 6, 4)
    assert f["within_target"] == {"due": 5, "met": 2, "share": 0.4}
    assert f["time_to_acknowledge"]["count"] == 6 and f["time_to_resolve"]["count"] == 4
    assert (f["open_at_start"], f["open_at_end"]) == (2, 4)
    backlog = {b["day"]: b["open"] for b in f["backlog"]}
    assert (backlog["2026-03-02"], backlog["2026-03-03"]) == (1, 2)  # R1 was open on 2 March only
    assert {b["code"]: b["received"] for b in f["by_channel"]} == {"web": 6, "phone": 1}
    assert {d["code"]: (d["received"], d["resolved"]) for d in f["districts"]} == {"S1A": (6, 3), "S1B": (1, 1)}
    a = figures(session, "office", "a-roads")
    assert (a["received"], a["resolved"], a["open_at_end"]) == (5, 2, 4)
    session.execute(text("UPDATE reports SET hidden_at = NULL, hidden_reason = NULL WHERE public_id = 'STATSR1'"))
    assert figures(session, "city", "S1")["received"] == 8


def test_bad_scope_and_period_are_refused(session, fixture_city):
    with pytest.raises(service.StatsScopeNotFound):
        service.get_scope(session, kind="office", code="nowhere")
    with pytest.raises(service.InvalidStatsPeriod):
        service.get_period(date(2026, 3, 2), date(2026, 3, 1))
    with pytest.raises(service.InvalidStatsPeriod):
        service.get_period(date(2020, 1, 1), date(2026, 3, 1))
