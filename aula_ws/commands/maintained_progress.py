"""`aula-ws progress rebuild`: recompute the maintained progress from the statistics tables."""

import argparse
import time

from aula_ws.commands.exits import EXIT_OK
from aula_ws.services.progress import rebuild_progress
from aula_ws.services.runtime import Services


def register(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    progress = commands.add_parser("progress", help="the maintained progress of obtener_avance_usuarios")
    actions = progress.add_subparsers(dest="progress_command", required=True, metavar="ACTION")
    actions.add_parser(
        "rebuild", help="recompute it from the sessions, course statuses and activity (one transaction)"
    ).set_defaults(handler=_rebuild)


def _rebuild(args: argparse.Namespace, services: Services) -> int:
    started = time.monotonic()
    members = rebuild_progress(services.engine)
    print(f"progress rebuilt: {members:,} (user, group) rows in {time.monotonic() - started:.1f} s")
    return EXIT_OK
