"""PostgreSQL's text index gets a table of its own

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-03 10:00:00.000000

A broad first-time query reads every document's tsvector (a sequential scan: most of the
catalog matches). Kept as a generated column of ``search_documents``, that scan read every
document's whole row, filter and ranking fields included, and twice as many pages again after
the signals refresh had rewritten them all. ``search_text`` holds just the key and the vector
(less than half the pages), as SQLite's FTS5 table sits beside the documents; the indexer
writes it (``PostgresFtsIndex._write_text_index``) and a document's deletion cascades to it.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The generated column of the initial migration, for the downgrade.
_VECTOR_COLUMN = """ALTER TABLE search_documents ADD COLUMN search_vector tsvector
    GENERATED ALWAYS AS (
      setweight(to_tsvector('simple', coalesce(name, '')), 'A') ||
      setweight(to_tsvector('simple', coalesce(tags_text, '') || ' ' || category), 'B') ||
      setweight(to_tsvector('simple', coalesce(provider_name, '')), 'C') ||
      setweight(to_tsvector('simple', coalesce(description, '')), 'D')) STORED"""


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(
        "ALTER TABLE search_documents ADD CONSTRAINT uq_search_documents_doc_key UNIQUE (doc_key)"
    )
    op.execute(
        """CREATE TABLE search_text (
             doc_key bigint PRIMARY KEY
               REFERENCES search_documents (doc_key) ON DELETE CASCADE,
             search_vector tsvector NOT NULL)"""
    )
    op.execute("INSERT INTO search_text SELECT doc_key, search_vector FROM search_documents")
    op.execute("DROP INDEX ix_search_documents_vector")
    op.execute("ALTER TABLE search_documents DROP COLUMN search_vector")
    op.execute("CREATE INDEX ix_search_text_vector ON search_text USING gin (search_vector)")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(_VECTOR_COLUMN)
    op.execute(
        "CREATE INDEX ix_search_documents_vector ON search_documents USING gin (search_vector)"
    )
    op.execute("DROP TABLE search_text")
    op.execute("ALTER TABLE search_documents DROP CONSTRAINT uq_search_documents_doc_key")
