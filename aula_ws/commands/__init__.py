"""Command groups of `aula-ws`: each module's register(subparsers) adds its commands."""

from aula_ws.commands import credentials, database, etl, imports, peers, serve, sync, wsdl

EXIT_OK, EXIT_REJECTED, EXIT_USAGE, EXIT_NOT_STORED = 0, 1, 2, 3

COMMAND_GROUPS = [serve, database, wsdl, credentials, imports, peers, etl, sync]
