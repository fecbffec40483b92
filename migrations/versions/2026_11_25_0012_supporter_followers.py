"""report followers: the reporter and the supporters who left an e-mail with "me too", told of each move

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-25 14:30:00

One row per (report, address). Unsubscribing keeps the row with `unsubscribed_at` set, so a later
"me too" from the same address does not quietly subscribe it again. Only a hash of the unsubscribe
token is stored (the token itself is an HMAC of the report and address, made again for each e-mail).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "report_followers",
        sa.Column("id", sa.BigInteger, primary_key=True),
        sa.Column("report_id", sa.BigInteger, sa.ForeignKey("reports.id", ondelete="CASCADE"), nullable=False),
        sa.Column("email", sa.Text, nullable=False),
        sa.Column("locale", sa.String(8), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("unsubscribe_token_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.Column("unsubscribed_at", sa.DateTime(timezone=True)),
        sa.CheckConstraint("role IN ('reporter', 'supporter')", name="ck_report_followers_role"),
        sa.UniqueConstraint("report_id", "email", name="uq_report_followers_report_email"),
    )


def downgrade() -> None:
    op.drop_table("report_followers")
