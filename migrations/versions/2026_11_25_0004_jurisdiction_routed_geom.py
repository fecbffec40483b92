"""jurisdictions.routed_geom: the polygon as the last batch re-routing saw it

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25 01:00:00
"""

from collections.abc import Sequence

import geoalchemy2
import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "jurisdictions",
        sa.Column(
            "routed_geom",
            geoalchemy2.types.Geometry(geometry_type="MULTIPOLYGON", srid=4326, spatial_index=False),
            nullable=True,
        ),
    )


def downgrade() -> None:
    op.drop_column("jurisdictions", "routed_geom")
