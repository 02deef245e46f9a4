"""The command line: `aula-ws COMMAND ...`; parse_arguments(argv) + main(argv) -> exit code.

Each command group lives in aula_ws/commands/ and registers its subcommands;
a handler takes (args, services) -- the one `Services` built here from the settings
(aula_ws/services/runtime.py) -- and returns an exit code of aula_ws/commands/exits.py.

Every command runs under umask 077 (set here, the one place all pass through), so
whatever a library creates in the data directory (SQLite's -wal/-shm files, alembic)
is private too; the files we write are also created with explicit modes
(aula_ws/private_files.py), for WSGI servers that start us elsewhere.
"""

import argparse
import os
import sys
from collections.abc import Sequence

from aula_ws import __version__, logs
from aula_ws.commands import COMMAND_GROUPS
from aula_ws.commands.exits import EXIT_NOT_STORED, EXIT_USAGE
from aula_ws.config import Settings
from aula_ws.errors import AulaError, WriteFailed
from aula_ws.services.runtime import Services


def parse_arguments(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="aula-ws", description="aula-ws: learners' progress and usage statistics")
    parser.add_argument("--version", action="version", version=f"aula-ws {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for group in COMMAND_GROUPS:
        group.register(commands)
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    os.umask(0o077)
    args = parse_arguments(argv)
    logs.configure()  # until the settings are read: their errors are reported too
    try:
        settings = Settings.from_environment()
        logs.configure(settings.log_level, settings.log_format)
        services = Services(settings)
        return int(args.handler(args, services))
    except BrokenPipeError:
        # the reader went away (`| head`): no traceback; what was not written is lost, so not success
        _silence_stdout()
        return EXIT_NOT_STORED
    except WriteFailed as error:
        print(f"aula-ws: {error}", file=sys.stderr)
        return EXIT_NOT_STORED
    except AulaError as error:
        print(f"aula-ws: {error}", file=sys.stderr)
        return EXIT_USAGE


def _silence_stdout() -> None:
    """Point stdout at /dev/null so the interpreter's final flush does not fail again
    (the Python documentation's recipe for SIGPIPE)."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())


if __name__ == "__main__":
    sys.exit(main())
