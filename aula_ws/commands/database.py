"""`aula-ws db upgrade|status`."""

import argparse

from aula_ws.commands.exits import EXIT_OK
from aula_ws.services.runtime import Services
from aula_ws.store import database


def register(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    db = commands.add_parser("db", help="database schema")
    actions = db.add_subparsers(dest="db_command", required=True, metavar="ACTION")
    actions.add_parser("upgrade", help="apply the migrations (creates the database if needed)").set_defaults(
        handler=_upgrade
    )
    actions.add_parser("status", help="print the schema's revision and the code's").set_defaults(handler=_status)


def _upgrade(args: argparse.Namespace, services: Services) -> int:
    database.upgrade(database.create_database_engine(services.settings.database_url))
    return _status(args, services)


def _status(args: argparse.Namespace, services: Services) -> int:
    engine = database.create_database_engine(services.settings.database_url)
    print(f"schema revision {database.current_revision(engine)} (code needs {database.head_revision()})")
    return EXIT_OK
