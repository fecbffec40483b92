"""Which reports a feed, an export or an alert is about: the map's filters plus an area, public reports only.

The map's own clauses (layer, category, status, box, since) come from reports.filters, the one home of
report filters; this adds the areas people subscribe to: a district, an office, a point and a radius.
The readers alias reports `r`, categories `c`, layers `l`, offices `o` and districts `d`
(reports.queries.FROM_SQL).
"""

import math
from dataclasses import dataclass, field
from datetime import datetime

from mapapp.core import visibility
from mapapp.core.errors import InvalidInput
from mapapp.reports import filters
from mapapp.routing.rule import tolerance_degrees

# A feed or alert around a point covers at most this radius: beyond it, a district is the better area.
MAX_RADIUS_M = 5000.0


@dataclass(frozen=True)
class Near:
    """A point and a radius in metres."""

    lon: float
    lat: float
    radius_m: float


@dataclass(frozen=True)
class Scope:
    """The reports of one feed, export or alert; every field is optional."""

    layer: str | None = None
    category: str | None = None
    statuses: list[str] | None = field(default=None, hash=False)
    bbox: tuple[float, float, float, float] | None = None
    since: datetime | None = None
    district: str | None = None  # district code
    office: str | None = None  # office slug
    near: Near | None = None

    def where(self, where: filters.Where | None = None) -> filters.Where:
        """The scope's clauses, added to `where` (or a new one); only reports the public may see."""
        where = where if where is not None else filters.Where()
        where.add(visibility.report_public_sql("r"))  # feeds, exports and alerts are all public reads
        filters.bbox(where, self.bbox)
        filters.shown_on_layer(where, self.layer)
        filters.categories(where, [self.category] if self.category else None)
        filters.statuses(where, self.statuses)
        filters.updated_since(where, self.since)
        if self.district:
            where.add("d.code = :district", district=self.district)
        if self.office:
            where.add("o.slug = :office", office=self.office)
        if self.near:
            n = self.near
            # A box on the indexed column first (GiST), then the exact distance on the few inside it.
            where.add(
                "r.geom && ST_Expand(ST_SetSRID(ST_MakePoint(:near_lon, :near_lat), 4326), :near_deg) "
                "AND ST_DWithin(r.geom::geography, ST_SetSRID(ST_MakePoint(:near_lon, :near_lat), 4326)::geography, "
                ":near_m)",
                near_lon=n.lon,
                near_lat=n.lat,
                near_deg=tolerance_degrees(n.radius_m, n.lat),
                near_m=n.radius_m,
            )
        return where


def near_or_none(lat: float | None, lon: float | None, radius: float | None) -> Near | None:
    """A checked point and radius from query parameters; all three or none."""
    given = [v is not None for v in (lat, lon, radius)]
    if not any(given):
        return None
    if not all(given):
        raise InvalidInput("give lat, lon and radius together (radius in metres)", field="radius")
    assert lat is not None and lon is not None and radius is not None
    if not (math.isfinite(lat) and math.isfinite(lon) and -90 <= lat <= 90 and -180 <= lon <= 180):
        raise InvalidInput("lat must be within -90..90 and lon within -180..180", field="lat")
    if not (math.isfinite(radius) and 1 <= radius <= MAX_RADIUS_M):
        raise InvalidInput(f"radius must be between 1 and {MAX_RADIUS_M:.0f} metres", field="radius")
    return Near(lon=lon, lat=lat, radius_m=radius)
