"""search documents store their ranking factors

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-01 10:00:00.000000

The engines rank by the combined score themselves, so the query-independent factors live in
each document. Existing documents get neutral values until the indexer's next signals refresh
rewrites them (``marketplace-gateway search reindex`` does it at once).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

FACTORS = (("popularity_factor", "0"), ("performance_factor", "0.5"), ("compliance_factor", "0.5"))


def upgrade() -> None:
    with op.batch_alter_table("search_documents") as batch:
        for name, default in FACTORS:
            batch.add_column(
                sa.Column(name, sa.Float(), nullable=False, server_default=sa.text(default))
            )


def downgrade() -> None:
    with op.batch_alter_table("search_documents") as batch:
        for name, _ in FACTORS:
            batch.drop_column(name)
