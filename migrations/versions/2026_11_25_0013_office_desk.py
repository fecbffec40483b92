"""office desk: a maintained due time, queue indexes, full-text search on descriptions, internal notes

Revision ID: 0013
Revises: 0014
Create Date: 2026-11-25 16:00:00

`reports.due_at` (created_at plus the category's response target) is kept by triggers: set on insert
(COPY too) and when a report's category or creation time changes, and moved when a category's target
changes. "Overdue" then compares a column, and the queue's sorts and filters walk partial indexes on
open reports instead of computing the due time for every report of an office.
Internal notes live in their own table, so no public read can ever select one.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OPEN = "status NOT IN ('resolved', 'closed')"


def upgrade() -> None:
    op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    op.add_column("reports", sa.Column("due_at", sa.DateTime(timezone=True)))
    op.add_column("reports", sa.Column("assigned_to", sa.Integer, sa.ForeignKey("users.id"), nullable=True))
    op.execute(
        """
        CREATE FUNCTION reports_set_due_at() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            SELECT NEW.created_at + make_interval(hours => c.response_hours) INTO NEW.due_at
            FROM categories c WHERE c.id = NEW.category_id;
            RETURN NEW;
        END $$;
        CREATE TRIGGER reports_due_at BEFORE INSERT OR UPDATE OF created_at, category_id ON reports
            FOR EACH ROW EXECUTE FUNCTION reports_set_due_at();
        CREATE FUNCTION categories_move_due_at() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            UPDATE reports SET due_at = created_at + make_interval(hours => NEW.response_hours)
            WHERE category_id = NEW.id;
            RETURN NULL;
        END $$;
        CREATE TRIGGER categories_due_at AFTER UPDATE OF response_hours ON categories
            FOR EACH ROW WHEN (OLD.response_hours IS DISTINCT FROM NEW.response_hours)
            EXECUTE FUNCTION categories_move_due_at();
        UPDATE reports r SET due_at = r.created_at + make_interval(hours => c.response_hours)
        FROM categories c WHERE c.id = r.category_id;
        """
    )
    op.alter_column("reports", "due_at", nullable=False)
    op.create_index("ix_reports_office_created", "reports", ["office_id", "created_at"])
    op.create_index("ix_reports_office_open_created", "reports", ["office_id", "created_at"], postgresql_where=OPEN)
    op.create_index("ix_reports_office_due", "reports", ["office_id", "due_at"])
    op.create_index("ix_reports_office_open_due", "reports", ["office_id", "due_at"], postgresql_where=OPEN)
    op.create_index(
        "ix_reports_office_open_supporters", "reports", ["office_id", "support_count"], postgresql_where=OPEN
    )
    op.create_index("ix_reports_triage", "reports", ["created_at"], postgresql_where="status = 'triage'")
    op.create_index(
        "ix_reports_description_trgm",
        "reports",
        ["description"],
        postgresql_using="gin",
        postgresql_ops={"description": "gin_trgm_ops"},
    )
    op.create_table(
        "report_notes",
        sa.Column("id", sa.BigInteger, primary_key=True),
        sa.Column("report_id", sa.BigInteger, sa.ForeignKey("reports.id", ondelete="CASCADE"), nullable=False),
        sa.Column("author", sa.Text, nullable=False),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    )
    op.create_index("ix_report_notes_report", "report_notes", ["report_id", "id"])
    # Reports per office and status, kept by statement triggers from the transition tables (one upsert per
    # office and status a statement touches, so COPY of a million rows costs one grouped insert).
    op.create_table(
        "office_status_counts",
        sa.Column("office_id", sa.Integer, sa.ForeignKey("offices.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("status", sa.String(16), primary_key=True),
        sa.Column("reports", sa.BigInteger, nullable=False),
    )
    op.execute(
        """
        CREATE FUNCTION office_status_counts_apply() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF TG_OP = 'INSERT' THEN
                INSERT INTO office_status_counts (office_id, status, reports)
                SELECT office_id, status, count(*) FROM new_rows WHERE office_id IS NOT NULL GROUP BY 1, 2
                ON CONFLICT (office_id, status) DO UPDATE SET reports = office_status_counts.reports + excluded.reports;
            ELSIF TG_OP = 'DELETE' THEN
                INSERT INTO office_status_counts (office_id, status, reports)
                SELECT office_id, status, -count(*) FROM old_rows WHERE office_id IS NOT NULL GROUP BY 1, 2
                ON CONFLICT (office_id, status) DO UPDATE SET reports = office_status_counts.reports + excluded.reports;
            ELSE
                INSERT INTO office_status_counts (office_id, status, reports)
                SELECT office_id, status, sum(delta) FROM (
                    SELECT o.office_id, o.status, -1 AS delta FROM old_rows o JOIN new_rows n ON n.id = o.id
                    WHERE (o.office_id, o.status) IS DISTINCT FROM (n.office_id, n.status) AND o.office_id IS NOT NULL
                    UNION ALL
                    SELECT n.office_id, n.status, 1 FROM old_rows o JOIN new_rows n ON n.id = o.id
                    WHERE (o.office_id, o.status) IS DISTINCT FROM (n.office_id, n.status) AND n.office_id IS NOT NULL
                ) moved GROUP BY 1, 2 HAVING sum(delta) <> 0
                ON CONFLICT (office_id, status) DO UPDATE SET reports = office_status_counts.reports + excluded.reports;
            END IF;
            RETURN NULL;
        END $$;
        CREATE TRIGGER office_counts_insert AFTER INSERT ON reports REFERENCING NEW TABLE AS new_rows
            FOR EACH STATEMENT EXECUTE FUNCTION office_status_counts_apply();
        CREATE TRIGGER office_counts_update AFTER UPDATE ON reports
            REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
            FOR EACH STATEMENT EXECUTE FUNCTION office_status_counts_apply();
        CREATE TRIGGER office_counts_delete AFTER DELETE ON reports REFERENCING OLD TABLE AS old_rows
            FOR EACH STATEMENT EXECUTE FUNCTION office_status_counts_apply();
        CREATE FUNCTION office_status_counts_clear() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            DELETE FROM office_status_counts;
            RETURN NULL;
        END $$;
        CREATE TRIGGER office_counts_truncate AFTER TRUNCATE ON reports
            FOR EACH STATEMENT EXECUTE FUNCTION office_status_counts_clear();
        INSERT INTO office_status_counts (office_id, status, reports)
        SELECT office_id, status, count(*) FROM reports WHERE office_id IS NOT NULL GROUP BY 1, 2;
        """
    )


def downgrade() -> None:
    op.execute(
        """
        DROP TRIGGER office_counts_truncate ON reports;
        DROP TRIGGER office_counts_delete ON reports;
        DROP TRIGGER office_counts_update ON reports;
        DROP TRIGGER office_counts_insert ON reports;
        DROP FUNCTION office_status_counts_clear();
        DROP FUNCTION office_status_counts_apply();
        """
    )
    op.drop_table("office_status_counts")
    op.drop_table("report_notes")
    for name in (
        "ix_reports_description_trgm",
        "ix_reports_triage",
        "ix_reports_office_open_supporters",
        "ix_reports_office_open_due",
        "ix_reports_office_due",
        "ix_reports_office_open_created",
        "ix_reports_office_created",
    ):
        op.drop_index(name, table_name="reports")
    op.execute(
        """
        DROP TRIGGER categories_due_at ON categories;
        DROP FUNCTION categories_move_due_at();
        DROP TRIGGER reports_due_at ON reports;
        DROP FUNCTION reports_set_due_at();
        """
    )
    op.drop_column("reports", "assigned_to")
    op.drop_column("reports", "due_at")
