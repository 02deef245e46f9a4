"""`aula-ws serve`."""

import argparse
import os
from collections.abc import Callable

from aula_ws.services.runtime import Services
from aula_ws.store import database


def register(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    serve = commands.add_parser("serve", help="serve every endpoint on one port")
    serve.add_argument("--host", help="address to listen on (setting AULA_HOST, default 127.0.0.1)")
    serve.add_argument(
        "--port", type=whole(0, 65535), help="port, 0 to 65535 (setting AULA_PORT, default 8080; 0 picks a free one)"
    )
    serve.add_argument("--demo", action="store_true", help="create the demo platform first (once)")
    serve.add_argument(
        "--workers",
        type=whole(1, 256),
        default=default_workers(),
        help=f"worker processes, 1 to 256, each with --threads threads (default: the CPUs usable, here {default_workers()})",
    )
    serve.add_argument(
        "--threads", type=whole(1, 1024), default=8, help="worker threads of each worker, 1 to 1024 (default 8)"
    )
    serve.add_argument(
        "--upgrade",
        action="store_true",
        help="bring the database schema to the code's first (always done for the embedded SQLite database)",
    )
    serve.add_argument(
        "--scheduler",
        action="store_true",
        help="also run the sync schedule in-process (what `aula-ws sync run` does), every minute",
    )
    serve.set_defaults(handler=_serve)


def default_workers() -> int:
    """One worker process per CPU this process may run on (its affinity, e.g. a container's share)."""
    usable = os.sched_getaffinity(0) if hasattr(os, "sched_getaffinity") else range(os.cpu_count() or 1)
    return max(1, len(usable))


def whole(low: int, high: int) -> Callable[[str], int]:
    """An argparse type: a whole number from `low` to `high`, else a usage error naming the range."""

    def parse(value: str) -> int:
        try:
            number = int(value)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{value!r} is not a whole number") from None
        if not low <= number <= high:
            raise argparse.ArgumentTypeError(f"{value} is not {low} to {high}")
        return number

    return parse


def _serve(args: argparse.Namespace, services: Services) -> int:
    from aula_ws.serving import serve

    url = services.settings.database_url
    if args.upgrade or url.startswith("sqlite"):
        # the embedded default just starts: a fresh or older SQLite file is brought to the code's
        # schema; PostgreSQL, shared by other processes, only when asked (--upgrade)
        engine = database.create_database_engine(url)
        try:
            if database.current_revision(engine) != database.head_revision():
                database.upgrade(engine)
        finally:
            engine.dispose()

    return serve(
        services,
        host=args.host,
        port=args.port,
        demo=args.demo,
        threads=args.threads,
        scheduler=args.scheduler,
        workers=args.workers,
    )
