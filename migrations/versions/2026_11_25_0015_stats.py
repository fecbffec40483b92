"""public indicators: the stats_daily materialised view and the record of its refreshes

Revision ID: 0015
Revises: 0013
Create Date: 2026-11-25 16:00:00

The view's SELECT is rendered by mapapp.stats.views (from core.status and the close reasons), the same
code `mapapp stats refresh` uses to re-create it when the city's time zone changes. A later change of
those rules needs a migration that re-creates the view the same way.
"""

from collections.abc import Sequence

from alembic import op

from mapapp.core.settings import get_settings
from mapapp.stats import views

revision: str = "0015"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    for statement in views.create_sql(get_settings().time_zone):
        op.execute(statement)
    # One row: when the view was last rebuilt (its data is as of then) and how long that took.
    op.execute("""
        CREATE TABLE stats_refreshes (
            id smallint PRIMARY KEY DEFAULT 1 CHECK (id = 1),
            refreshed_at timestamptz NOT NULL,
            seconds double precision NOT NULL
        )
    """)
    op.execute("INSERT INTO stats_refreshes (refreshed_at, seconds) VALUES (now(), 0)")


def downgrade() -> None:
    op.execute("DROP TABLE stats_refreshes")
    op.execute(views.DROP_SQL)
