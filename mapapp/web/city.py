"""The city as its map sees it: the extent to open on and the district labels, read from its boundaries."""

from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

# Whichever city is configured: the extent of its current districts (or of the city polygon when it has
# none), so a second city opens on itself with no code change. One district's extent for a widget of one.
_EXTENT = text(
    """
    SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e) FROM (
      SELECT coalesce(
        (SELECT ST_Extent(geom) FROM jurisdictions
          WHERE level = 'district' AND retired_at IS NULL AND geom IS NOT NULL AND code = CAST(:code AS text)),
        (SELECT ST_Extent(geom) FROM jurisdictions
          WHERE level = 'district' AND retired_at IS NULL AND geom IS NOT NULL),
        (SELECT ST_Extent(geom) FROM jurisdictions
          WHERE level = 'city' AND retired_at IS NULL AND geom IS NOT NULL)
      ) AS e
    ) AS extent
    """
)

# A label inside each district (ST_PointOnSurface, never outside a crescent-shaped one) with the district's
# box, from which the page decides at each zoom whether the district is wide enough on screen for its name.
_LABELS = text(
    """
    SELECT code, name_ko, name_en, ST_Y(p) AS lat, ST_X(p) AS lon,
           ST_XMin(geom) AS west, ST_YMin(geom) AS south, ST_XMax(geom) AS east, ST_YMax(geom) AS north
    FROM (SELECT code, name_ko, name_en, geom, ST_PointOnSurface(geom) AS p FROM jurisdictions
          WHERE level = 'district' AND retired_at IS NULL AND geom IS NOT NULL
            AND (CAST(:code AS text) IS NULL OR code = :code)) AS d
    ORDER BY code
    """
)


def extent(session: Session, *, district: str | None = None) -> list[float] | None:
    """[west, south, east, north] of the district (when given and known) or of the city; None with no city."""
    row = session.execute(_EXTENT, {"code": district}).one()
    return None if row[0] is None else [float(v) for v in row]


def district_labels(session: Session, *, locale: str, district: str | None = None) -> list[dict[str, Any]]:
    """Each current district's name in `locale` (the other language when that one is empty) and where to draw it."""
    labels = []
    for r in session.execute(_LABELS, {"code": district}).mappings():
        first, other = (r["name_en"], r["name_ko"]) if locale == "en" else (r["name_ko"], r["name_en"])
        labels.append(
            {
                "code": r["code"],
                "name": first or other or r["code"],
                "lat": round(r["lat"], 6),
                "lon": round(r["lon"], 6),
                "box": [round(r[k], 6) for k in ("west", "south", "east", "north")],
            }
        )
    return labels
