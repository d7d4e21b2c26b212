"""The ``marketplace-gateway`` command line."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Sequence

from graph.settings import Settings, SettingsError, load_settings

SUBGRAPH_NAMES = ("catalog", "search", "usage", "governance")
EXIT_BAD_SETTINGS = 2


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="marketplace-gateway", description="LLM Marketplace Gateway"
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    serve = commands.add_parser("serve", help="run the composed gateway")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--workers", type=int, default=1)

    subgraph = commands.add_parser("serve-subgraph", help="run one subgraph alone")
    subgraph.add_argument("name", choices=SUBGRAPH_NAMES)
    subgraph.add_argument("--host", default="127.0.0.1")
    subgraph.add_argument("--port", type=int, default=8001)

    commands.add_parser("migrate", help="apply the database migrations")

    seed = commands.add_parser("seed", help="load the demo catalog, policies and consumers")
    seed.add_argument("--demo", action="store_true", help="load the demo data set (default)")

    token = commands.add_parser("token", help="print a JWT signed with the configured secret")
    token.add_argument("--sub", required=True, help="the subject (user id)")
    token.add_argument("--role", action="append", required=True, help="a role; repeatable")
    token.add_argument("--ttl", type=int, default=3600, help="lifetime in seconds")

    commands.add_parser("schema", help="print the composed SDL")

    api_key = commands.add_parser("api-key", help="manage consumers' API keys")
    api_key_commands = api_key.add_subparsers(dest="api_key_command", required=True)
    create_key = api_key_commands.add_parser("create", help="print a new API key once")
    create_key.add_argument("--consumer", required=True, help="consumer id or JWT subject")
    create_key.add_argument("--name", required=True, help="a name to tell the key apart")

    search = commands.add_parser("search", help="search index maintenance")
    search_commands = search.add_subparsers(dest="search_command", required=True)
    search_commands.add_parser(
        "reindex", help="rebuild the search index(es) from the database, with progress"
    )
    return parser


def _serve(settings: Settings, args: argparse.Namespace) -> int:
    import uvicorn

    uvicorn.run(
        "graph.app:create_app",
        factory=True,
        host=args.host,
        port=args.port,
        workers=args.workers,
        log_level=settings.log_level.lower(),
        log_config=None,  # the gateway's JSON logging (graph.telemetry.logging)
        access_log=False,  # replaced by one structured access line per request
        # Subscription events are small JSON messages sent to many sockets at once:
        # per-connection deflate costs CPU per subscriber and event (and a zlib context
        # per socket) for little saving, so it is off (see docs/subscriptions.md).
        ws_per_message_deflate=False,
    )
    return 0


def _serve_subgraph(settings: Settings, args: argparse.Namespace) -> int:
    import uvicorn

    from graph.app import create_subgraph_app

    uvicorn.run(
        create_subgraph_app(args.name, settings),
        host=args.host,
        port=args.port,
        log_level=settings.log_level.lower(),
        log_config=None,  # the gateway's JSON logging (graph.telemetry.logging)
        access_log=False,  # replaced by one structured access line per request
        ws_per_message_deflate=False,  # as in ``serve``
    )
    return 0


def _migrate(settings: Settings) -> int:
    from persistence.migrate import upgrade

    asyncio.run(upgrade(settings.effective_database_url))
    print(f"database at head: {_redacted(settings.effective_database_url)}")
    return 0


def _seed(settings: Settings) -> int:
    from persistence.database import create_engine, create_session_factory
    from persistence.seed import seed_demo

    async def run() -> str:
        engine = create_engine(settings.effective_database_url)
        try:
            return str(await seed_demo(create_session_factory(engine)))
        finally:
            await engine.dispose()

    print(asyncio.run(run()))
    return 0


def _token(settings: Settings, args: argparse.Namespace) -> int:
    from graph.auth import issue_token

    print(issue_token(settings, subject=args.sub, roles=args.role, ttl_seconds=args.ttl))
    return 0


def _schema() -> int:
    from graph.schema import composed_sdl

    sys.stdout.write(composed_sdl())
    return 0


def _create_api_key(settings: Settings, args: argparse.Namespace) -> int:
    from resolvers.usage_cli import create_api_key_for

    try:
        secret = asyncio.run(create_api_key_for(settings, args.consumer, args.name))
    except LookupError as exc:
        print(f"marketplace-gateway: {exc}", file=sys.stderr)
        return 1
    print(secret)
    return 0


def _redacted(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        settings = load_settings()
    except SettingsError as exc:
        print(f"marketplace-gateway: {exc}", file=sys.stderr)
        return EXIT_BAD_SETTINGS
    match args.command:
        case "serve":
            return _serve(settings, args)
        case "serve-subgraph":
            return _serve_subgraph(settings, args)
        case "migrate":
            return _migrate(settings)
        case "seed":
            return _seed(settings)
        case "token":
            return _token(settings, args)
        case "schema":
            return _schema()
        case "api-key":
            return _create_api_key(settings, args)
        case "search":
            from persistence.search.cli import reindex

            return reindex(settings)
    return 1  # unreachable: argparse enforces the command


if __name__ == "__main__":
    raise SystemExit(main())
