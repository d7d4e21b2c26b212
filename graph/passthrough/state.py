"""What the passthrough holds for the process lifetime, started and stopped by the app."""

from __future__ import annotations

from dataclasses import dataclass

import httpx

from graph.passthrough.access import AccessResolver
from graph.passthrough.breaker import CircuitBreakers
from graph.runtime import Runtime
from graph.settings import Settings
from resolvers.metering.ratelimit import RateLimiter, create_rate_limiter
from resolvers.metering.relay import UsageRelay
from resolvers.metering.writer import UsageWriter


@dataclass
class PassthroughState:
    settings: Settings
    runtime: Runtime
    client: httpx.AsyncClient
    access: AccessResolver
    limiter: RateLimiter
    breakers: CircuitBreakers
    writer: UsageWriter
    relay: UsageRelay | None

    @classmethod
    def start(cls, runtime: Runtime) -> PassthroughState:
        settings = runtime.settings
        client = httpx.AsyncClient(
            timeout=httpx.Timeout(
                settings.upstream_read_timeout_seconds,
                connect=settings.upstream_connect_timeout_seconds,
            ),
            limits=httpx.Limits(
                max_connections=settings.upstream_max_connections,
                max_keepalive_connections=settings.upstream_max_connections,
            ),
            follow_redirects=False,
        )
        kafka = settings.usage_kafka_bootstrap_servers or settings.kafka_bootstrap_servers
        writer = UsageWriter(
            runtime.engine,
            flush_size=settings.usage_flush_size,
            flush_interval=settings.usage_flush_interval_seconds,
            max_buffered=settings.usage_buffer_max,
            with_outbox=kafka is not None,
        )
        writer.start()
        relay = None
        if kafka:
            relay = UsageRelay(
                runtime.engine,
                bootstrap_servers=kafka,
                topic=settings.usage_topic,
                interval=settings.usage_relay_interval_seconds,
            )
            relay.start()
        return cls(
            settings=settings,
            runtime=runtime,
            client=client,
            access=AccessResolver(runtime.session_factory, settings.api_key_cache_seconds),
            limiter=create_rate_limiter(
                settings.redis_url,
                fail_open=settings.rate_limit_fail_open,
                prefix=settings.rate_limit_key_prefix,
            ),
            breakers=CircuitBreakers(
                settings.circuit_breaker_failures, settings.circuit_breaker_reset_seconds
            ),
            writer=writer,
            relay=relay,
        )

    async def stop(self) -> None:
        """Flush the usage buffer first (it feeds the outbox), then the relay's last pass."""
        await self.writer.stop()
        if self.relay is not None:
            await self.relay.stop()
        await self.client.aclose()
        await self.limiter.close()
