"""Set-based routing of stored reports: the same rules as `route`, for many reports at once.

Two statements. The first finds the reports whose routing may have changed, driven by the district
parts so that each polygon is prepared once and probes the reports' GiST index (the shape of the
fastest bare join). The second decides and writes only for those candidates.
"""

from sqlalchemy import text

from mapapp.core import status as report_status
from mapapp.routing import rule

# Candidates: a containing district other than the stored one (new boundaries, or points on a shared
# border), reports in the part of a polygon its district lost since the last run (or all of a retired
# district), reports still waiting for an office, and reports whose office was closed.
CANDIDATES_SQL = text(
    f"""
    CREATE TEMP TABLE reroute_candidates ON COMMIT DROP AS
    WITH lost AS MATERIALIZED (  -- computed once, cut small so that the reports index does the work
        SELECT x.id, (ST_Dump(ST_Subdivide(x.area, 255))).geom AS area
        FROM (SELECT j.id, CASE WHEN j.retired_at IS NOT NULL THEN j.routed_geom
                                ELSE ST_Difference(j.routed_geom, j.geom) END AS area
              FROM jurisdictions j
              WHERE j.level = 'district' AND j.routed_geom IS NOT NULL) x
        WHERE NOT ST_IsEmpty(x.area)
    )
    SELECT r.id FROM jurisdiction_parts p JOIN reports r ON ST_Intersects(p.geom, r.geom)
    WHERE p.level = 'district' AND r.district_id IS DISTINCT FROM p.jurisdiction_id
    UNION
    SELECT r.id FROM lost JOIN reports r ON ST_Intersects(lost.area, r.geom) AND r.district_id = lost.id
    UNION
    SELECT r.id FROM reports r WHERE {report_status.in_sql("r.status", report_status.AWAITING_OFFICE)}
                                 AND NOT r.routing_manual
    UNION
    SELECT r.id FROM reports r JOIN offices o ON o.id = r.office_id
    WHERE NOT o.active AND {report_status.is_sql("r.status", "routed")}
    """  # noqa: S608 - fixed fragments, no values
)

# Decide for the candidates, update them, record decisions and timeline events for moved reports.
# Like `route`, the indexed geometry columns are never wrapped in a function in a WHERE clause.
REROUTE_SQL = text(
    f"""
    WITH t AS MATERIALIZED (
        SELECT r.id, r.geom, r.category_id, r.status, r.office_id, r.district_id, r.city_id, r.routing_manual
        FROM reports r JOIN reroute_candidates c ON c.id = r.id
    ),
    contained AS MATERIALIZED (
        SELECT t.*, ({rule.part_containing_sql("district", "t.geom")}) AS in_district
        FROM t
    ),
    located AS MATERIALIZED (
        SELECT x.*,
               coalesce(x.in_district, n.jurisdiction_id) AS new_district_id,
               CASE WHEN x.in_district IS NOT NULL THEN 0.0 ELSE n.distance_m END AS distance_m
        FROM contained x
        LEFT JOIN LATERAL (
            {
        rule.nearest_district_sql(
            "x.geom", rule.tolerance_degrees_sql(":tolerance_m", "ST_Y(x.geom)"), when="x.in_district IS NULL"
        )
    }
        ) n ON n.distance_m <= :tolerance_m
    ),
    placed AS MATERIALIZED (
        SELECT l.*, {rule.city_sql("l.new_district_id", "d.parent_id", "l.geom")} AS new_city_id
        FROM located l
        LEFT JOIN jurisdictions d ON d.id = l.new_district_id
    ),
    decided AS MATERIALIZED (
        SELECT pl.*, c.slug AS category_slug, c.level AS category_level, c.department, o.id AS new_office_id,
               ({rule.reroutable_sql("pl")}
                AND ({report_status.is_sql("pl.status", "submitted")} OR pl.office_id IS DISTINCT FROM o.id)) AS movable
        FROM placed pl
        JOIN categories c ON c.id = pl.category_id
        LEFT JOIN offices o ON {rule.office_match_sql("o", "c", "pl.new_district_id", "pl.new_city_id")}
    ),
    upd AS (
        UPDATE reports r SET
            district_id = x.new_district_id,
            city_id = x.new_city_id,
            office_id = CASE WHEN x.movable THEN x.new_office_id ELSE r.office_id END,
            status = CASE WHEN x.movable THEN {rule.status_after_sql("x.new_office_id")} ELSE r.status END,
            routing_rule = CASE WHEN x.movable
                                THEN {
        rule.rule_sql(category="x.category_slug", level="x.category_level", department="x.department")
    }
                                ELSE r.routing_rule END,
            updated_at = CASE WHEN x.movable OR r.district_id IS DISTINCT FROM x.new_district_id THEN now()
                              ELSE r.updated_at END,
            routed_at = now()
        FROM decided x
        WHERE r.id = x.id
        RETURNING r.id, r.status AS new_status, x.status AS old_status, x.movable, x.new_office_id,
                  x.new_district_id, x.new_city_id, x.distance_m, x.category_id, x.category_level, x.department,
                  (x.district_id IS DISTINCT FROM x.new_district_id) AS relocated,
                  r.routing_rule AS rule
    ),
    decisions AS (
        INSERT INTO routing_decisions
            (report_id, office_id, city_id, district_id, method, rule, reason_code, reason_params, manual, decided_by)
        SELECT u.id, u.new_office_id, u.new_city_id, u.new_district_id,
               {rule.method_sql("u.new_district_id", "u.distance_m")},
               u.rule,
               {rule.reason_code_sql("u.new_district_id", "u.new_city_id", "u.new_office_id", "u.distance_m")},
               jsonb_strip_nulls(jsonb_build_object(
                   'category', c.slug, 'category_ko', c.name_ko, 'category_en', c.name_en,
                   'level', c.level, 'level_ko', {rule.level_ko_sql("c.level")},
                   'department', c.department, 'tolerance_m', round(CAST(:tolerance_m AS numeric)),
                   'district_code', d.code, 'district_ko', d.name_ko, 'district_en', d.name_en,
                   'distance_m', round(CAST(u.distance_m AS numeric), 1),
                   'city_code', ci.code, 'city_ko', ci.name_ko, 'city_en', ci.name_en,
                   'jurisdiction_code', rj.code, 'jurisdiction_ko', rj.name_ko, 'jurisdiction_en', rj.name_en,
                   'office', o.slug, 'office_ko', o.name_ko, 'office_en', o.name_en)),
               false, 'reroute'
        FROM upd u
        JOIN categories c ON c.id = u.category_id
        LEFT JOIN jurisdictions d ON d.id = u.new_district_id
        LEFT JOIN jurisdictions ci ON ci.id = u.new_city_id
        LEFT JOIN jurisdictions rj ON u.new_district_id IS NOT NULL
             AND rj.id = CASE u.category_level WHEN 'district' THEN u.new_district_id ELSE u.new_city_id END
        LEFT JOIN offices o ON o.id = u.new_office_id
        WHERE u.movable
        RETURNING report_id
    ),
    events AS (
        INSERT INTO report_events (report_id, kind, from_status, to_status, actor, public_note, private_note)
        SELECT u.id, 'routed', u.old_status, u.new_status, 'system', '', ''
        FROM upd u WHERE u.movable
        RETURNING report_id
    )
    SELECT (SELECT count(*) FROM reports) AS checked,
           (SELECT count(*) FROM t) AS candidates,
           (SELECT count(*) FROM decisions) AS moved,
           (SELECT count(*) FROM upd WHERE relocated) AS relocated,
           (SELECT count(*) FROM upd WHERE movable AND new_office_id IS NULL) AS triage,
           (SELECT count(*) FROM events) AS events
    """  # noqa: S608 - fixed fragments; the tolerance is a bound parameter
)
