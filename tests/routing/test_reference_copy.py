"""route() takes names, categories and offices from a per-process copy; no change is ever missed.

The copy is labelled with the version that every statement changing jurisdictions, offices or
categories sets (routing/reference.py, migration 0019). These tests change the reference data in the
ways that matter — another connection committing, an earlier statement of the same transaction, a
rolled-back change, a clone of the same database — and route after each.
"""

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from mapapp import routing
from mapapp.core import db as core_db
from mapapp.layers.service import UnknownCategory
from mapapp.routing import reference
from mapapp.routing.service import PLAIN_ROUTE
from tests.conftest import _admin, clone_template, load_seoul

JONGNO = (126.9708836, 37.5733899)  # 사직동, 종로구 (11110)


def route(session, category: str = "streetlight-out") -> routing.RoutingDecision:
    return routing.route(session, lon=JONGNO[0], lat=JONGNO[1], category=category)


def test_each_statement_of_one_transaction_is_seen_by_the_next_lookup(seoul):
    assert route(seoul).office.slug == "11110-roads"
    seoul.execute(text("UPDATE offices SET active = false WHERE slug = '11110-roads'"))
    assert route(seoul).reason_code == "triage_no_office"
    seoul.execute(text("UPDATE offices SET active = true, name_en = 'Jongno Roads' WHERE slug = '11110-roads'"))
    assert route(seoul).reason_params["office_en"] == "Jongno Roads"
    seoul.execute(text("UPDATE jurisdictions SET name_en = 'Jongno' WHERE code = '11110'"))
    assert route(seoul).reason_params["district_en"] == "Jongno"
    seoul.execute(text("UPDATE categories SET department = 'sanitation' WHERE slug = 'streetlight-out'"))
    assert route(seoul).office.slug == "11110-sanitation"
    seoul.execute(text("UPDATE categories SET retired = true WHERE slug = 'streetlight-out'"))
    with pytest.raises(UnknownCategory):
        route(seoul)


def test_a_rolled_back_change_is_not_kept(seoul):
    before = route(seoul).reason_params["district_en"]
    savepoint = seoul.begin_nested()
    seoul.execute(text("UPDATE jurisdictions SET name_en = 'Renamed' WHERE code = '11110'"))
    assert route(seoul).reason_params["district_en"] == "Renamed"
    savepoint.rollback()
    assert route(seoul).reason_params["district_en"] == before


def test_a_change_committed_by_another_connection_is_seen(template_db, db_url):
    url = clone_template(template_db, "mapapp_test_refcopy_a")
    try:
        engine = core_db.get_engine(url)
        with Session(engine) as s:
            load_seoul(s)
            s.commit()
        with Session(engine) as reader:
            assert route(reader).office.slug == "11110-roads"
            reader.commit()
            with engine.begin() as writer:  # another connection of the pool, another transaction
                writer.execute(text("UPDATE offices SET active = false WHERE slug = '11110-roads'"))
            assert route(reader).reason_code == "triage_no_office"
    finally:
        core_db.get_engine(url).dispose()
        with _admin().connect() as conn:
            conn.execute(text('DROP DATABASE IF EXISTS "mapapp_test_refcopy_a" WITH (FORCE)'))


def test_two_clones_with_different_changes_keep_their_own_copies(template_db, db_url):
    names = ("mapapp_test_refcopy_b", "mapapp_test_refcopy_c")
    urls = [clone_template(template_db, name) for name in names]
    try:
        for url, office_name in zip(urls, ("first", "second"), strict=True):
            with Session(core_db.get_engine(url)) as s:
                load_seoul(s)
                s.execute(text("UPDATE offices SET name_en = :n WHERE slug = '11110-roads'"), {"n": office_name})
                s.commit()
        for _ in range(2):  # each answer from its own database's copy, both copies kept
            for url, office_name in zip(urls, ("first", "second"), strict=True):
                with Session(core_db.get_engine(url)) as s:
                    assert route(s).reason_params["office_en"] == office_name
        versions = {key[1] for key in reference._copies}
        assert len(versions) >= 2
    finally:
        for url, name in zip(urls, names, strict=True):
            core_db.get_engine(url).dispose()
            with _admin().connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def test_the_in_memory_lookup_agrees_with_postgis_on_borders(seoul):
    """Points on the district parts' vertices — every shared border, where "contains" is decided by the
    boundary rule and the lowest code: the in-memory parts (GEOS in this process) and the SQL statement
    (PostGIS) find the same district."""
    points = seoul.execute(
        text(
            """
            SELECT ST_X(d.geom), ST_Y(d.geom) FROM (
                SELECT (ST_DumpPoints(geom)).geom, row_number() OVER () AS n
                FROM jurisdiction_parts WHERE level = 'district') d
            WHERE d.n % 7 = 0
            """
        )
    ).all()
    assert len(points) > 1000
    cursor = seoul.connection().connection.cursor()
    disagree = []
    for lon, lat in points:
        # The statement route() sends for points it cannot place in memory; tolerance 0: the containing part only.
        cursor.execute(PLAIN_ROUTE, {"p1": lon, "p2": lat, "p3": 0.0, "p4": 0.0})
        in_postgis = cursor.fetchone()[0]
        try:
            decision = routing.route(seoul, lon=lon, lat=lat, category="streetlight-out")
        except routing.OutsideServiceArea:
            decision = None
        if decision is not None and decision.method == "contains":
            in_memory = decision.jurisdiction("district").id
        else:  # nothing contained the point in memory either; it went to the gap rule
            in_memory = None
        if in_memory != in_postgis:
            disagree.append((lon, lat, in_memory, in_postgis))
    assert disagree == []
