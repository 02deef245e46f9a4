"""Command groups of `aula-ws`: each module's register(subparsers) adds its commands.

A handler takes (args, services: aula_ws.services.runtime.Services) and returns an exit code
of aula_ws/commands/exits.py."""

from aula_ws.commands import credentials, database, etl, imports, maintained_progress, mnet, peers, serve, sync, wsdl

COMMAND_GROUPS = [serve, database, wsdl, credentials, imports, peers, mnet, etl, sync]
COMMAND_GROUPS.append(maintained_progress)  # issue 15
