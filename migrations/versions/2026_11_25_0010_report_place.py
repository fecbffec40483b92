"""a report's place: its dong, the address the citizen typed, and how precisely it was located

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-25 12:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Reports stored before 0010 get the dong their point lies in (the subdivided parts keep this quick).
FILL_DONG = """
UPDATE reports r SET dong_id = (
    SELECT p.jurisdiction_id FROM jurisdiction_parts p
    WHERE p.level = 'dong' AND ST_Intersects(p.geom, r.geom)
    ORDER BY p.code LIMIT 1)
WHERE r.dong_id IS NULL
"""


def upgrade() -> None:
    op.add_column("reports", sa.Column("dong_id", sa.Integer(), nullable=True))
    op.create_foreign_key(op.f("fk_reports_dong_id_jurisdictions"), "reports", "jurisdictions", ["dong_id"], ["id"])
    op.create_index("ix_reports_dong", "reports", ["dong_id"])
    op.add_column("reports", sa.Column("address", sa.Text(), nullable=True))
    op.add_column(
        "reports", sa.Column("location_precision", sa.String(length=16), server_default="point", nullable=False)
    )
    op.create_check_constraint(
        op.f("ck_reports_location_precision"),
        "reports",
        "location_precision IN ('point', 'dong', 'district', 'geocoder')",
    )
    # Before 0010 an address put the report at some point of the district it named: say so.
    op.execute("UPDATE reports SET location_precision = 'district' WHERE location_source = 'address'")
    op.execute(FILL_DONG)


def downgrade() -> None:
    op.drop_constraint(op.f("ck_reports_location_precision"), "reports", type_="check")
    op.drop_column("reports", "location_precision")
    op.drop_column("reports", "address")
    op.drop_index("ix_reports_dong", table_name="reports")
    op.drop_constraint(op.f("fk_reports_dong_id_jurisdictions"), "reports", type_="foreignkey")
    op.drop_column("reports", "dong_id")
