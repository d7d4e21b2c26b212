"""initial schema

Revision ID: 0001
Revises:
Create Date: 2026-11-27 06:17:12.689462
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from persistence.models.base import Money, UTCDateTime

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "audit_log",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("occurred_at", UTCDateTime(), nullable=False),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("action", sa.String(length=64), nullable=False),
        sa.Column("target_type", sa.String(length=64), nullable=False),
        sa.Column("target_id", sa.String(length=64), nullable=False),
        sa.Column(
            "diff",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("request_id", sa.String(length=64), nullable=True),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_log")),
    )
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_audit_log_action"), ["action"], unique=False)
        batch_op.create_index(batch_op.f("ix_audit_log_actor"), ["actor"], unique=False)
        batch_op.create_index(batch_op.f("ix_audit_log_occurred_at"), ["occurred_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_audit_log_target_id"), ["target_id"], unique=False)
    _create_audit_log_guards()

    op.create_table(
        "consumers",
        sa.Column("subject", sa.String(length=200), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=True),
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_consumers")),
        sa.UniqueConstraint("subject", name=op.f("uq_consumers_subject")),
    )
    op.create_table(
        "governance_events",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("type", sa.String(length=64), nullable=False),
        sa.Column("occurred_at", UTCDateTime(), nullable=False),
        sa.Column("service_id", sa.String(length=36), nullable=True),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column(
            "payload",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("published_at", UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_governance_events")),
    )
    with op.batch_alter_table("governance_events", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_governance_events_published_at"), ["published_at"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_governance_events_service_id"), ["service_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_governance_events_type"), ["type"], unique=False)

    op.create_table(
        "plans",
        sa.Column("tier", sa.String(length=16), nullable=False),
        sa.Column("requests_per_second", sa.Integer(), nullable=False),
        sa.Column("burst", sa.Integer(), nullable=False),
        sa.Column("monthly_request_quota", sa.BigInteger(), nullable=True),
        sa.Column("monthly_token_quota", sa.BigInteger(), nullable=True),
        sa.Column("monthly_budget", Money(), nullable=True),
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_plans")),
        sa.UniqueConstraint("tier", name=op.f("uq_plans_tier")),
    )
    op.create_table(
        "policies",
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("enforcement", sa.String(length=16), nullable=False),
        sa.Column(
            "rules",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_policies")),
        sa.UniqueConstraint("name", name=op.f("uq_policies_name")),
    )
    op.create_table(
        "providers",
        sa.Column("slug", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("website", sa.String(length=500), nullable=True),
        sa.Column("contact_email", sa.String(length=320), nullable=True),
        sa.Column("owner_subject", sa.String(length=200), nullable=True),
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_providers")),
        sa.UniqueConstraint("slug", name=op.f("uq_providers_slug")),
    )
    with op.batch_alter_table("providers", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_providers_owner_subject"), ["owner_subject"], unique=False
        )

    op.create_table(
        "usage_records",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("occurred_at", UTCDateTime(), nullable=False),
        sa.Column("consumer_id", sa.String(length=36), nullable=False),
        sa.Column("service_id", sa.String(length=36), nullable=False),
        sa.Column("api_key_id", sa.String(length=36), nullable=True),
        sa.Column("status_code", sa.Integer(), nullable=False),
        sa.Column("input_tokens", sa.BigInteger(), nullable=False),
        sa.Column("output_tokens", sa.BigInteger(), nullable=False),
        sa.Column("cost", Money(), nullable=False),
        sa.Column("latency_ms", sa.Integer(), nullable=False),
        sa.Column("ttfb_ms", sa.Integer(), nullable=True),
        sa.Column("bytes_in", sa.BigInteger(), nullable=False),
        sa.Column("bytes_out", sa.BigInteger(), nullable=False),
        sa.Column("estimated", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id", "occurred_at", name=op.f("pk_usage_records")),
        postgresql_partition_by="RANGE (occurred_at)",
    )
    if op.get_bind().dialect.name == "postgresql":
        _create_postgres_extras()
    with op.batch_alter_table("usage_records", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_usage_records_consumer_id"), ["consumer_id"], unique=False
        )
        batch_op.create_index(
            "ix_usage_records_service_time", ["service_id", "occurred_at"], unique=False
        )

    op.create_table(
        "usage_outbox",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("service_id", sa.String(length=36), nullable=False),
        sa.Column(
            "payload",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_usage_outbox")),
    )
    with op.batch_alter_table("usage_outbox", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_usage_outbox_created_at"), ["created_at"], unique=False
        )

    op.create_table(
        "quota_counters",
        sa.Column("subscription_id", sa.String(length=36), nullable=False),
        sa.Column("period", sa.String(length=7), nullable=False),
        sa.Column("requests", sa.BigInteger(), nullable=False),
        sa.Column("tokens", sa.BigInteger(), nullable=False),
        sa.Column("spend", Money(), nullable=False),
        sa.PrimaryKeyConstraint("subscription_id", "period", name=op.f("pk_quota_counters")),
    )

    op.create_table(
        "api_keys",
        sa.Column("consumer_id", sa.String(length=36), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("prefix", sa.String(length=16), nullable=False),
        sa.Column("key_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("expires_at", UTCDateTime(), nullable=True),
        sa.Column("revoked_at", UTCDateTime(), nullable=True),
        sa.Column("last_used_at", UTCDateTime(), nullable=True),
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.ForeignKeyConstraint(
            ["consumer_id"], ["consumers.id"], name=op.f("fk_api_keys_consumer_id_consumers")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_keys")),
        sa.UniqueConstraint("key_hash", name=op.f("uq_api_keys_key_hash")),
    )
    with op.batch_alter_table("api_keys", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_api_keys_consumer_id"), ["consumer_id"], unique=False)

    op.create_table(
        "services",
        sa.Column("provider_id", sa.String(length=36), nullable=False),
        sa.Column("slug", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("category", sa.String(length=64), nullable=False),
        sa.Column(
            "tags",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("current_version", sa.String(length=64), nullable=False),
        sa.Column("endpoint_url", sa.String(length=2000), nullable=False),
        sa.Column("upstream_auth_header", sa.String(length=2000), nullable=True),
        sa.Column("data_region", sa.String(length=32), nullable=True),
        sa.Column("privacy_policy_url", sa.String(length=2000), nullable=True),
        sa.Column("terms_url", sa.String(length=2000), nullable=True),
        sa.Column("pii_handling", sa.String(length=32), nullable=True),
        sa.Column("status_reason", sa.Text(), nullable=True),
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["provider_id"], ["providers.id"], name=op.f("fk_services_provider_id_providers")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_services")),
        sa.UniqueConstraint("slug", name=op.f("uq_services_slug")),
    )
    with op.batch_alter_table("services", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_services_category"), ["category"], unique=False)
        batch_op.create_index(batch_op.f("ix_services_provider_id"), ["provider_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_services_status"), ["status"], unique=False)
        batch_op.create_index("ix_services_status_name", ["status", "name", "id"], unique=False)

    op.create_table(
        "approval_requests",
        sa.Column("service_id", sa.String(length=36), nullable=False),
        sa.Column("requested_by", sa.String(length=200), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("decided_by", sa.String(length=200), nullable=True),
        sa.Column("decision_comment", sa.Text(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("decided_at", UTCDateTime(), nullable=True),
        sa.Column("expires_at", UTCDateTime(), nullable=False),
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.ForeignKeyConstraint(
            ["service_id"], ["services.id"], name=op.f("fk_approval_requests_service_id_services")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_approval_requests")),
    )
    with op.batch_alter_table("approval_requests", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_approval_requests_service_id"), ["service_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_approval_requests_status"), ["status"], unique=False)

    op.create_table(
        "compliance_checks",
        sa.Column("service_id", sa.String(length=36), nullable=False),
        sa.Column("checked_at", UTCDateTime(), nullable=False),
        sa.Column("compliant", sa.Boolean(), nullable=False),
        sa.Column("score", sa.Numeric(precision=5, scale=4), nullable=False),
        sa.Column(
            "violations",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.ForeignKeyConstraint(
            ["service_id"], ["services.id"], name=op.f("fk_compliance_checks_service_id_services")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_compliance_checks")),
    )
    with op.batch_alter_table("compliance_checks", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_compliance_checks_checked_at"), ["checked_at"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_compliance_checks_service_id"), ["service_id"], unique=False
        )

    op.create_table(
        "service_pricing",
        sa.Column("service_id", sa.String(length=36), nullable=False),
        sa.Column("model", sa.String(length=16), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("input_price_per_1k", Money(), nullable=True),
        sa.Column("output_price_per_1k", Money(), nullable=True),
        sa.Column("request_price", Money(), nullable=True),
        sa.Column("effective_from", UTCDateTime(), nullable=False),
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.ForeignKeyConstraint(
            ["service_id"], ["services.id"], name=op.f("fk_service_pricing_service_id_services")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_service_pricing")),
    )
    with op.batch_alter_table("service_pricing", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_service_pricing_service_id"), ["service_id"], unique=False
        )

    op.create_table(
        "service_versions",
        sa.Column("service_id", sa.String(length=36), nullable=False),
        sa.Column("version", sa.String(length=64), nullable=False),
        sa.Column("changelog", sa.Text(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.ForeignKeyConstraint(
            ["service_id"], ["services.id"], name=op.f("fk_service_versions_service_id_services")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_service_versions")),
        sa.UniqueConstraint(
            "service_id", "version", name=op.f("uq_service_versions_service_id_version")
        ),
    )
    with op.batch_alter_table("service_versions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_service_versions_service_id"), ["service_id"], unique=False
        )

    op.create_table(
        "subscriptions",
        sa.Column("consumer_id", sa.String(length=36), nullable=False),
        sa.Column("service_id", sa.String(length=36), nullable=False),
        sa.Column("plan_id", sa.String(length=36), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("cancelled_at", UTCDateTime(), nullable=True),
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["consumer_id"], ["consumers.id"], name=op.f("fk_subscriptions_consumer_id_consumers")
        ),
        sa.ForeignKeyConstraint(
            ["plan_id"], ["plans.id"], name=op.f("fk_subscriptions_plan_id_plans")
        ),
        sa.ForeignKeyConstraint(
            ["service_id"], ["services.id"], name=op.f("fk_subscriptions_service_id_services")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_subscriptions")),
    )
    with op.batch_alter_table("subscriptions", schema=None) as batch_op:
        batch_op.create_index(
            "ix_subscriptions_consumer_service", ["consumer_id", "service_id"], unique=False
        )
        batch_op.create_index(
            "uq_subscriptions_one_active",
            ["consumer_id", "service_id"],
            unique=True,
            postgresql_where=sa.text("status = 'ACTIVE'"),
            sqlite_where=sa.text("status = 'ACTIVE'"),
        )
        batch_op.create_index(
            batch_op.f("ix_subscriptions_service_id"), ["service_id"], unique=False
        )
    if op.get_bind().dialect.name == "postgresql":
        _create_postgres_indexes()
    _create_search_index()


def _create_postgres_extras() -> None:
    """Monthly usage partitions (a DEFAULT one catches the rest) and a GIN index on tags."""
    op.execute("CREATE TABLE usage_records_default PARTITION OF usage_records DEFAULT")
    for year in (2026, 2027):
        for month in range(1, 13):
            nxt_year, nxt_month = (year + 1, 1) if month == 12 else (year, month + 1)
            op.execute(
                f"CREATE TABLE usage_records_{year}_{month:02d} PARTITION OF usage_records "
                f"FOR VALUES FROM ('{year}-{month:02d}-01') TO ('{nxt_year}-{nxt_month:02d}-01')"
            )


def _create_postgres_indexes() -> None:
    op.execute("CREATE INDEX ix_services_tags_gin ON services USING gin (tags jsonb_path_ops)")
    op.execute("CREATE INDEX ix_policies_rules_gin ON policies USING gin (rules jsonb_path_ops)")


# The audit log is append-only: UPDATE and DELETE are refused by the database itself.
# (TRUNCATE, a table owner's maintenance operation, is not a row change and stays possible.)
AUDIT_LOG_GUARDS_SQLITE = (
    """CREATE TRIGGER audit_log_refuse_update BEFORE UPDATE ON audit_log
       BEGIN SELECT RAISE(ABORT, 'audit_log is append-only: UPDATE refused'); END""",
    """CREATE TRIGGER audit_log_refuse_delete BEFORE DELETE ON audit_log
       BEGIN SELECT RAISE(ABORT, 'audit_log is append-only: DELETE refused'); END""",
)
AUDIT_LOG_GUARDS_POSTGRES = (
    """CREATE FUNCTION audit_log_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
       BEGIN
         RAISE EXCEPTION 'audit_log is append-only: % refused', TG_OP
           USING ERRCODE = 'insufficient_privilege';
       END $$""",
    """CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log
       FOR EACH ROW EXECUTE FUNCTION audit_log_refuse_change()""",
)


def _create_audit_log_guards() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    for statement in AUDIT_LOG_GUARDS_POSTGRES if postgres else AUDIT_LOG_GUARDS_SQLITE:
        op.execute(statement)


def _drop_audit_log_guards() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS audit_log_append_only ON audit_log")
        op.execute("DROP FUNCTION IF EXISTS audit_log_refuse_change()")
    else:
        op.execute("DROP TRIGGER IF EXISTS audit_log_refuse_update")
        op.execute("DROP TRIGGER IF EXISTS audit_log_refuse_delete")


# --- search: documents, vocabulary, consumer cursor and the backend's own text index -------

SEARCH_FTS_SQLITE = (
    # Own-content FTS5 table (the indexer writes it beside search_documents). unicode61 without
    # stemming keeps whole words, which is what typo correction compares against.
    """CREATE VIRTUAL TABLE search_fts USING fts5(
         service_id UNINDEXED, name, tags, category, provider, description,
         tokenize = 'unicode61 remove_diacritics 2', prefix = '2 3')""",
)
SEARCH_FTS_POSTGRES = (
    # pg_trgm is a trusted extension (PostgreSQL 13+): the database owner may create it.
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    """ALTER TABLE search_documents ADD COLUMN search_vector tsvector GENERATED ALWAYS AS (
         setweight(to_tsvector('simple', coalesce(name, '')), 'A') ||
         setweight(to_tsvector('simple', coalesce(tags_text, '') || ' ' || category), 'B') ||
         setweight(to_tsvector('simple', coalesce(provider_name, '')), 'C') ||
         setweight(to_tsvector('simple', coalesce(description, '')), 'D')) STORED""",
    "CREATE INDEX ix_search_documents_vector ON search_documents USING gin (search_vector)",
    "CREATE INDEX ix_search_terms_trgm ON search_terms USING gin (term gin_trgm_ops)",
)


def _create_search_index() -> None:
    op.create_table(
        "search_documents",
        sa.Column("service_id", sa.String(length=36), nullable=False),
        sa.Column("slug", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("category", sa.String(length=64), nullable=False),
        sa.Column(
            "tags",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("tags_text", sa.Text(), nullable=False),
        sa.Column("provider_id", sa.String(length=36), nullable=False),
        sa.Column("provider_name", sa.String(length=200), nullable=False),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("pricing_model", sa.String(length=16), nullable=True),
        sa.Column("price_per_1k", Money(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("usage_count", sa.BigInteger(), nullable=False),
        sa.Column("p95_latency_ms", sa.Integer(), nullable=True),
        sa.Column("error_rate", sa.Float(), nullable=True),
        sa.Column("compliance_score", sa.Numeric(precision=5, scale=4), nullable=True),
        sa.Column("indexed_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("service_id", name=op.f("pk_search_documents")),
    )
    with op.batch_alter_table("search_documents", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_search_documents_category"), ["category"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_search_documents_provider_id"), ["provider_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_search_documents_status"), ["status"], unique=False)
    op.create_table(
        "search_terms",
        sa.Column("term", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("term", name=op.f("pk_search_terms")),
    )
    op.create_table(
        "search_index_state",
        sa.Column("name", sa.String(length=32), nullable=False),
        sa.Column("last_event_id", sa.BigInteger(), nullable=False),
        sa.Column("last_full_refresh_at", UTCDateTime(), nullable=True),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_search_index_state")),
    )
    postgres = op.get_bind().dialect.name == "postgresql"
    for statement in SEARCH_FTS_POSTGRES if postgres else SEARCH_FTS_SQLITE:
        op.execute(statement)


def _drop_search_index() -> None:
    if op.get_bind().dialect.name != "postgresql":
        op.execute("DROP TABLE IF EXISTS search_fts")
    op.drop_table("search_index_state")
    op.drop_table("search_terms")
    op.drop_table("search_documents")


def downgrade() -> None:
    _drop_search_index()

    with op.batch_alter_table("subscriptions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_subscriptions_service_id"))
        batch_op.drop_index("uq_subscriptions_one_active")
        batch_op.drop_index("ix_subscriptions_consumer_service")

    op.drop_table("subscriptions")
    with op.batch_alter_table("service_versions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_service_versions_service_id"))

    op.drop_table("service_versions")
    with op.batch_alter_table("service_pricing", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_service_pricing_service_id"))

    op.drop_table("service_pricing")
    with op.batch_alter_table("compliance_checks", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_compliance_checks_service_id"))
        batch_op.drop_index(batch_op.f("ix_compliance_checks_checked_at"))

    op.drop_table("compliance_checks")
    with op.batch_alter_table("approval_requests", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_approval_requests_status"))
        batch_op.drop_index(batch_op.f("ix_approval_requests_service_id"))

    op.drop_table("approval_requests")
    with op.batch_alter_table("services", schema=None) as batch_op:
        batch_op.drop_index("ix_services_status_name")
        batch_op.drop_index(batch_op.f("ix_services_status"))
        batch_op.drop_index(batch_op.f("ix_services_provider_id"))
        batch_op.drop_index(batch_op.f("ix_services_category"))

    op.drop_table("services")
    with op.batch_alter_table("api_keys", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_api_keys_consumer_id"))

    op.drop_table("api_keys")
    op.drop_table("quota_counters")
    with op.batch_alter_table("usage_outbox", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_usage_outbox_created_at"))

    op.drop_table("usage_outbox")
    with op.batch_alter_table("usage_records", schema=None) as batch_op:
        batch_op.drop_index("ix_usage_records_service_time")
        batch_op.drop_index(batch_op.f("ix_usage_records_consumer_id"))

    op.drop_table("usage_records")
    with op.batch_alter_table("providers", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_providers_owner_subject"))

    op.drop_table("providers")
    op.drop_table("policies")
    op.drop_table("plans")
    with op.batch_alter_table("governance_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_governance_events_type"))
        batch_op.drop_index(batch_op.f("ix_governance_events_service_id"))
        batch_op.drop_index(batch_op.f("ix_governance_events_published_at"))

    op.drop_table("governance_events")
    op.drop_table("consumers")
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_audit_log_target_id"))
        batch_op.drop_index(batch_op.f("ix_audit_log_occurred_at"))
        batch_op.drop_index(batch_op.f("ix_audit_log_actor"))
        batch_op.drop_index(batch_op.f("ix_audit_log_action"))

    _drop_audit_log_guards()
    op.drop_table("audit_log")
