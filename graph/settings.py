"""Gateway settings: environment variables prefixed ``MARKETPLACE_`` (and ``.env``).

Every setting has an embedded default, so an empty environment runs the whole gateway on
SQLite with in-process bus, limits and search. Setting a backend URL switches that part to
the real backend.
"""

from __future__ import annotations

from enum import StrEnum
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

DEV_JWT_SECRET = "marketplace-dev-secret-not-for-production-use"
DEV_API_KEY_PEPPER = "marketplace-dev-pepper-not-for-production-use"

_DRIVER_ALIASES = {
    "postgres": "postgresql+asyncpg",
    "postgresql": "postgresql+asyncpg",
    "postgresql+asyncpg": "postgresql+asyncpg",
    "sqlite": "sqlite+aiosqlite",
    "sqlite+aiosqlite": "sqlite+aiosqlite",
}


class Environment(StrEnum):
    DEVELOPMENT = "development"
    PRODUCTION = "production"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="MARKETPLACE_", env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    env: Environment = Environment.DEVELOPMENT
    data_dir: Path = Path(".data")
    database_url: str | None = Field(
        default=None, description="SQLAlchemy async URL; unset = SQLite file under data_dir"
    )
    database_echo: bool = False
    redis_url: str | None = None
    kafka_bootstrap_servers: str | None = None
    elasticsearch_url: str | None = None
    elasticsearch_index: str = Field(
        default="marketplace-services",
        pattern=r"^[a-z0-9][a-z0-9_-]{0,100}$",
        description="alias searched on Elasticsearch; each rebuild makes a new index behind it",
    )
    # Search ranking: relative weights of the four factors (normalised to sum to 1).
    search_weight_relevance: float = Field(default=0.4, ge=0)
    search_weight_popularity: float = Field(default=0.2, ge=0)
    search_weight_performance: float = Field(default=0.2, ge=0)
    search_weight_compliance: float = Field(default=0.2, ge=0)
    search_index_poll_seconds: float = Field(default=0.2, gt=0, le=60)
    search_signals_refresh_seconds: float = Field(default=300, gt=0)

    jwt_secret: str = DEV_JWT_SECRET
    jwt_algorithm: str = "HS256"
    jwt_issuer: str | None = None
    jwt_audience: str | None = None
    jwks_url: str | None = None
    jwt_roles_claim: str = "roles"
    jwt_leeway_seconds: int = Field(default=30, ge=0, le=600)
    jwks_cache_seconds: int = Field(default=600, ge=0)
    jwks_min_refresh_seconds: float = Field(default=30.0, ge=0)
    jwks_timeout_seconds: float = Field(default=5.0, gt=0)

    # Hardened GraphQL surface (see docs/security.md).
    graphql_max_depth: int = Field(default=10, ge=1)
    graphql_max_aliases: int = Field(default=30, ge=0)
    graphql_max_tokens: int = Field(default=2000, ge=1)
    graphql_max_root_fields: int = Field(default=20, ge=1)
    graphql_max_cost: int = Field(default=5000, ge=1)
    graphql_default_list_size: int = Field(default=20, ge=1)
    # Like Hive Gateway's includeExtensionMetadata: add extensions.cost to every response.
    # On by default: clients and dashboards read the estimate to see how close an operation
    # comes to GRAPHQL_MAX_COST before it is refused.
    graphql_cost_in_extensions: bool = True
    graphql_max_batch: int = Field(default=0, ge=0, description="0 = batching off")
    graphql_max_body_bytes: int = Field(default=1_000_000, ge=1024)
    request_timeout_seconds: float = Field(default=30.0, gt=0)
    apq_ttl_seconds: int = Field(default=86_400, ge=1)
    trusted_documents: Path | None = None
    subgraph_secret: str | None = None
    cors_allow_origins: list[str] = Field(default_factory=list)

    allow_private_upstreams: bool = False
    # Governance: how long an approval request stays open, how often ACTIVE services are
    # re-checked against the BLOCKING policies (0 turns the background re-check off).
    approval_expiry_hours: int = Field(default=72, ge=1, le=24 * 365)
    compliance_recheck_interval_seconds: int = Field(default=300, ge=0)

    # Usage / metered passthrough (see docs/usage.md).
    api_key_pepper: str = Field(
        default=DEV_API_KEY_PEPPER,
        description="server secret keyed into the HMAC-SHA256 of every API key",
    )
    plan_overrides: dict[str, dict[str, Any]] = Field(
        default_factory=dict,
        description='per-tier limit overrides, e.g. {"FREE": {"requests_per_second": 2}}',
    )
    rate_limit_fail_open: bool = True
    upstream_connect_timeout_seconds: float = Field(default=5.0, gt=0)
    upstream_read_timeout_seconds: float = Field(default=60.0, gt=0)
    upstream_max_connections: int = Field(default=200, ge=1)
    max_request_body_bytes: int = Field(default=1_048_576, ge=1)
    circuit_breaker_failures: int = Field(default=5, ge=1)
    circuit_breaker_reset_seconds: float = Field(default=10.0, gt=0)
    usage_flush_size: int = Field(default=200, ge=1)
    usage_flush_interval_seconds: float = Field(default=0.5, gt=0)
    usage_buffer_max: int = Field(default=10_000, ge=1)
    usage_topic: str = "marketplace.usage.v1"
    usage_kafka_bootstrap_servers: str | None = Field(
        default=None, description="Kafka for usage events; unset = kafka_bootstrap_servers"
    )
    usage_relay_interval_seconds: float = Field(default=0.5, gt=0)
    api_key_cache_seconds: float = Field(default=1.0, ge=0)
    rate_limit_key_prefix: str = "mk:rl:"
    # Off only to measure the naive one-query-per-parent baseline (bench/catalog_loaders.py).
    dataloader_batching: bool = True

    # Live governance events (see docs/subscriptions.md).
    governance_topic: str = "marketplace.governance.v1"
    # "auto": Kafka if configured, else Redis if configured, else in-process.
    governance_bus: Literal["auto", "in-process", "redis", "kafka"] = "auto"
    governance_relay_interval_seconds: float = Field(default=0.25, gt=0)
    governance_relay_batch_size: int = Field(default=500, ge=1)
    subscription_queue_size: int = Field(default=1000, ge=1)
    subscription_keep_alive_seconds: float = Field(default=15.0, gt=0)
    subscription_init_timeout_seconds: float = Field(default=10.0, gt=0)
    max_subscriptions_per_connection: int = Field(default=20, ge=1)
    # Freeze long-lived objects out of the collector's scans (graph/gc_tuning.py): for a
    # process holding many subscribers, where a full collection pauses fan-out. Off by default.
    gc_tuning: bool = False
    # The longest one shutdown step (graph/shutdown.py) may take before it is left behind.
    shutdown_step_seconds: float = Field(default=20, gt=0, le=600)
    log_level: str = "INFO"

    @field_validator("database_url")
    @classmethod
    def _normalise_database_url(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        try:
            url = make_url(value.strip())
        except ArgumentError as exc:
            raise ValueError(f"cannot parse database URL {value!r}") from exc
        driver = _DRIVER_ALIASES.get(url.drivername)
        if driver is None:
            raise ValueError(
                f"unsupported database driver {url.drivername!r} "
                "(use postgresql+asyncpg://… or sqlite+aiosqlite:///…)"
            )
        return url.set(drivername=driver).render_as_string(hide_password=False)

    @field_validator("redis_url")
    @classmethod
    def _check_redis_url(cls, value: str | None) -> str | None:
        if value and not value.startswith(("redis://", "rediss://", "unix://")):
            raise ValueError(f"redis URL must start with redis://, rediss:// or unix://: {value!r}")
        return value or None

    @field_validator("elasticsearch_url")
    @classmethod
    def _check_es_url(cls, value: str | None) -> str | None:
        if value and not value.startswith(("http://", "https://")):
            raise ValueError(f"Elasticsearch URL must start with http:// or https://: {value!r}")
        return value or None

    @field_validator("log_level")
    @classmethod
    def _check_log_level(cls, value: str) -> str:
        level = value.upper()
        if level not in {"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"}:
            raise ValueError(f"unknown log level {value!r}")
        return level

    @model_validator(mode="after")
    def _no_development_secrets_in_production(self) -> Settings:
        if self.env is Environment.PRODUCTION:
            if self.jwt_secret == DEV_JWT_SECRET and not self.jwks_url:
                raise ValueError("jwt_secret: set MARKETPLACE_JWT_SECRET or MARKETPLACE_JWKS_URL")
            if self.api_key_pepper == DEV_API_KEY_PEPPER:
                raise ValueError("api_key_pepper: set MARKETPLACE_API_KEY_PEPPER in production")
        return self

    @property
    def is_production(self) -> bool:
        return self.env is Environment.PRODUCTION

    @property
    def effective_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite+aiosqlite:///{(self.data_dir / 'marketplace.db').resolve()}"

    @property
    def is_postgres(self) -> bool:
        return self.effective_database_url.startswith("postgresql")


class SettingsError(Exception):
    """A setting has a bad value; the message is one line fit for a terminal."""


def load_settings(**overrides: object) -> Settings:
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        first = exc.errors()[0]
        message = str(first["msg"]).removeprefix("Value error, ")
        if first["loc"]:
            field = str(first["loc"][0])
        else:  # a check across settings names its field first: "field: message"
            field, _, message = message.partition(": ")
        raise SettingsError(f"invalid setting MARKETPLACE_{field.upper()}: {message}") from None


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return load_settings()
