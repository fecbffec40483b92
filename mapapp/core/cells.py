"""The Web Mercator grid cells in which the tile triggers count reports (migrations 0011 and 0013b).

Tiles sum them for their clusters (mapapp.tiles); GET /api/reports sums them to estimate how many reports a
box holds before it picks how to read it (mapapp.reports.queries). The grid is ST_TileEnvelope's.
"""

import math

# The levels whose cells are counted (migration 0013b's LEVELS), finest first.
LEVELS = (16, 15, 14, 13, 12, 11, 10)


def cell_of(lon: float, lat: float, level: int) -> tuple[int, int]:
    """The cell (x, y) holding a WGS84 point at a level, clamped to the grid."""
    n = 2**level
    phi = math.radians(max(min(lat, 85.0511), -85.0511))
    x = int((lon + 180) / 360 * n)
    y = int((1 - math.log(math.tan(phi) + 1 / math.cos(phi)) / math.pi) / 2 * n)
    return min(max(x, 0), n - 1), min(max(y, 0), n - 1)
