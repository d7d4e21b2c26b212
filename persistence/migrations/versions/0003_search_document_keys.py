"""search documents get an integer key on PostgreSQL

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02 10:00:00.000000

A full-text query returns a key and a text score per hit (thousands for a common word), and
the ranking maps each key to its place in the in-memory ranking columns. The service id, a
36-character text, made PostgreSQL send and asyncpg decode one record per hit; an integer key
lets the query return them packed in one row (≈ 35 % of a broad first-time query's text
statement, docs/benchmarks.md). Like the tsvector column, it is PostgreSQL's own and not in the
SQLAlchemy model: on SQLite, the document row's ``rowid`` (shared with its FTS5 row) is the key.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        # Existing rows are numbered as the column is added.
        op.execute(
            "ALTER TABLE search_documents ADD COLUMN doc_key bigint GENERATED ALWAYS AS IDENTITY"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE search_documents DROP COLUMN doc_key")
