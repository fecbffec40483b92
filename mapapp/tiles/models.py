"""The tables the tile triggers maintain (migrations 0011 and 0013b). The application only reads them.

They are on their own MetaData, not the ORM's: no code path writes them, the triggers on `reports` do,
in the same transaction as the change to the report.
"""

from sqlalchemy import BigInteger, Column, Float, Integer, MetaData, SmallInteger, String, Table

from mapapp.core import cells

# The levels whose cells are counted (mapapp.core.cells): each cluster zoom from 8 to 14 reads its own grid
# level z + CLUSTER_SHIFT, a few hundred rows a tile.
LEVELS = cells.LEVELS
# A low-zoom tile draws one cluster per cell of zoom z + CLUSTER_SHIFT: 4 × 4 cells, 64 px apart on a 256 px
# tile, about the spacing at which 40 px cluster badges do not overlap.
CLUSTER_SHIFT = 2

metadata = MetaData()

# Reports per (cell, layer, category, status), with the sums of their Mercator coordinates.
tile_cells = Table(
    "tile_cells",
    metadata,
    Column("level", SmallInteger, primary_key=True),
    Column("x", Integer, primary_key=True),
    Column("y", Integer, primary_key=True),
    Column("layer_id", Integer, primary_key=True),
    Column("category_id", Integer, primary_key=True),
    Column("status", String(16), primary_key=True),
    Column("n", Integer, nullable=False),
    Column("sum_x", Float, nullable=False),
    Column("sum_y", Float, nullable=False),
)

# A number that changes whenever a report the layer shows changes: the ETags are built from it.
tile_layer_versions = Table(
    "tile_layer_versions",
    metadata,
    Column("layer_id", Integer, primary_key=True),
    Column("version", BigInteger, nullable=False),
)


def cell_level(z: int) -> tuple[int, int]:
    """The stored level a tile at zoom z sums, and the bits to drop from it to reach the cluster grid."""
    display = z + CLUSTER_SHIFT
    level = min((lv for lv in LEVELS if lv >= display), default=LEVELS[0])
    return level, max(level - display, 0)
