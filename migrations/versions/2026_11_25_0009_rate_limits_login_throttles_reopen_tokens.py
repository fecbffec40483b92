"""rate limits, log-in throttles instead of account locks, reopen-link tokens, no staff e-mail in rules

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-25 09:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Manual routings recorded before 0009 named the person ("transferred by mgr@..."), and the rule is
# public: name the role or the person's office instead. The person stays in routing_decisions.decided_by.
SCRUB_RULES = """
UPDATE routing_decisions d
SET rule = split_part(d.rule, ' by ', 1) || ' by ' || coalesce(
    (SELECT CASE u.role
                WHEN 'triage' THEN '시 분류 담당 / the city''s triage team'
                WHEN 'admin' THEN '시 관리자 / the city''s administrators'
                ELSE o.name_ko || ' / ' || o.name_en END
     FROM users u LEFT JOIN offices o ON o.id = u.office_id WHERE u.email = d.decided_by),
    '시 담당자 / city staff')
WHERE d.manual AND d.rule LIKE '% by %@%'
"""


def upgrade() -> None:
    # UNLOGGED: rate-limit state needs no crash safety (a crash only forgives some requests), and
    # skipping the WAL makes the statement every limited request runs cheaper.
    op.create_table(
        "rate_limits",
        sa.Column("key", sa.String(length=96), nullable=False),
        sa.Column("tat", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_rate_limits")),
        prefixes=["UNLOGGED"],
    )
    op.create_index("ix_rate_limits_tat", "rate_limits", ["tat"])
    op.create_table(
        "login_throttles",
        sa.Column("key", sa.String(length=96), nullable=False),
        sa.Column("failures", sa.Integer(), server_default="0", nullable=False),
        sa.Column("last_failure_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("blocked_until", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_login_throttles")),
    )
    op.create_index("ix_login_throttles_last_failure_at", "login_throttles", ["last_failure_at"])
    # Accounts are no longer locked (five anonymous requests could lock out anyone, admins included).
    op.drop_column("users", "locked_until")
    op.drop_column("users", "failed_logins")
    op.add_column("reports", sa.Column("reopen_token_hash", sa.String(length=64), nullable=True))
    op.execute(SCRUB_RULES)


def downgrade() -> None:
    op.drop_column("reports", "reopen_token_hash")
    op.add_column("users", sa.Column("failed_logins", sa.Integer(), server_default="0", nullable=False))
    op.alter_column("users", "failed_logins", server_default=None)
    op.add_column("users", sa.Column("locked_until", sa.DateTime(timezone=True), nullable=True))
    op.drop_index("ix_login_throttles_last_failure_at", table_name="login_throttles")
    op.drop_table("login_throttles")
    op.drop_index("ix_rate_limits_tat", table_name="rate_limits")
    op.drop_table("rate_limits")
