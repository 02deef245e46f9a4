"""The command line: `aula-ws COMMAND ...`. parse_arguments(argv) + main(argv) -> exit code.

Exit codes: 0 success, 1 lines rejected, 2 bad usage, a bad setting or a refused file.
"""

import argparse
import logging
import sys
from collections.abc import Sequence

from aula_ws import __version__
from aula_ws.config import Settings
from aula_ws.errors import AulaError

EXIT_OK, EXIT_REJECTED, EXIT_USAGE = 0, 1, 2


def parse_arguments(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="aula-ws", description="aula-ws: learners' progress and usage statistics")
    parser.add_argument("--version", action="version", version=f"aula-ws {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    serve = commands.add_parser("serve", help="serve every endpoint on one port")
    serve.add_argument("--host", help="address to listen on (setting AULA_HOST, default 127.0.0.1)")
    serve.add_argument("--port", type=int, help="port (setting AULA_PORT, default 8080; 0 picks a free one)")
    serve.add_argument("--demo", action="store_true", help="create the demo platform first (once)")
    serve.add_argument("--threads", type=int, default=8, help="worker threads (default 8)")

    db = commands.add_parser("db", help="database schema")
    db_commands = db.add_subparsers(dest="db_command", required=True, metavar="ACTION")
    db_commands.add_parser("upgrade", help="apply the migrations (creates the database if needed)")
    db_commands.add_parser("status", help="print the schema's revision and the code's")

    wsdl = commands.add_parser("wsdl", help="print the contract's WSDL")
    wsdl.add_argument("--url", default="http://localhost:8080/soap", help="the endpoint address to write in it")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_arguments(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("alembic").setLevel(logging.WARNING)
    try:
        settings = Settings.from_environment()
        return COMMANDS[args.command](args, settings)
    except AulaError as error:
        print(f"aula-ws: {error}", file=sys.stderr)
        return EXIT_USAGE


def _serve(args: argparse.Namespace, settings: Settings) -> int:
    from aula_ws.serving import serve

    return serve(settings, host=args.host, port=args.port, demo=args.demo, threads=args.threads)


def _db(args: argparse.Namespace, settings: Settings) -> int:
    from aula_ws.store import database

    engine = database.create_database_engine(settings.database_url)
    if args.db_command == "upgrade":
        database.upgrade(engine)
    print(f"schema revision {database.current_revision(engine)} (code needs {database.head_revision()})")
    return EXIT_OK


def _wsdl(args: argparse.Namespace, settings: Settings) -> int:
    from aula_ws.soap.wsdl import contract_wsdl

    sys.stdout.write(contract_wsdl(args.url))
    return EXIT_OK


COMMANDS = {"serve": _serve, "db": _db, "wsdl": _wsdl}

if __name__ == "__main__":
    sys.exit(main())
