"""routing reference version: the lookup's names and offices cached per process, checked on every lookup

Revision ID: 0019
Revises: 0012
Create Date: 2026-11-25 16:00:00

route() answers with ids only and takes names, parents, categories and offices from a per-process
copy. One row holds the version of that reference data: every statement that changes jurisdictions,
offices or categories sets it to its transaction id and a number from a sequence. No other transaction
on the server has that id and the sequence never goes back, so a version names one state of one
database: a copy is never taken for a clone's, a rolled-back change's, or an earlier statement's of the
same transaction. The lookup returns the version, and a process whose copy does not match loads it again.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0019"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = ("jurisdictions", "offices", "categories")


def upgrade() -> None:
    op.execute(
        """
        CREATE SEQUENCE routing_reference_seq;
        CREATE FUNCTION routing_reference_next() RETURNS text LANGUAGE sql VOLATILE
            RETURN pg_current_xact_id()::text || '.' || nextval('routing_reference_seq')::text;
        CREATE TABLE routing_reference (
            singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
            version text NOT NULL
        );
        INSERT INTO routing_reference (version) VALUES (routing_reference_next());
        CREATE FUNCTION bump_routing_reference() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            UPDATE routing_reference SET version = routing_reference_next();
            RETURN NULL;
        END $$;
        """
    )
    for table in TABLES:
        op.execute(
            f"CREATE TRIGGER {table}_bump_routing_reference AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE "
            f"ON {table} FOR EACH STATEMENT EXECUTE FUNCTION bump_routing_reference()"
        )


def downgrade() -> None:
    for table in TABLES:
        op.execute(f"DROP TRIGGER {table}_bump_routing_reference ON {table}")
    op.execute(
        "DROP FUNCTION bump_routing_reference(); DROP TABLE routing_reference; "
        "DROP FUNCTION routing_reference_next(); DROP SEQUENCE routing_reference_seq"
    )
