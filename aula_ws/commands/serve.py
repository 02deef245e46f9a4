"""`aula-ws serve`."""

import argparse

from aula_ws.services.runtime import Services


def register(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    serve = commands.add_parser("serve", help="serve every endpoint on one port")
    serve.add_argument("--host", help="address to listen on (setting AULA_HOST, default 127.0.0.1)")
    serve.add_argument("--port", type=int, help="port (setting AULA_PORT, default 8080; 0 picks a free one)")
    serve.add_argument("--demo", action="store_true", help="create the demo platform first (once)")
    serve.add_argument("--threads", type=int, default=8, help="worker threads (default 8)")
    serve.add_argument(
        "--scheduler",
        action="store_true",
        help="also run the sync schedule in-process (what `aula-ws sync run` does), every minute",
    )
    serve.set_defaults(handler=_serve)


def _serve(args: argparse.Namespace, services: Services) -> int:
    from aula_ws.serving import serve

    return serve(
        services, host=args.host, port=args.port, demo=args.demo, threads=args.threads, scheduler=args.scheduler
    )
