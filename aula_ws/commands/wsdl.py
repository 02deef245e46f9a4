"""`aula-ws wsdl [contract|admin]`: print a WSDL as the server publishes it."""

import argparse
import sys

from aula_ws.config import Settings


def register(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    wsdl = commands.add_parser("wsdl", help="print the WSDL of the contract (or admin) endpoint")
    wsdl.add_argument("endpoint", nargs="?", choices=("contract", "admin"), default="contract")
    wsdl.add_argument("--url", default="http://localhost:8080", help="the server's base address to write in it")
    wsdl.set_defaults(handler=_wsdl)


def _wsdl(args: argparse.Namespace, settings: Settings) -> int:
    from aula_ws.soap.wsdl import wsdl_document

    sys.stdout.write(wsdl_document(args.endpoint, args.url))
    return 0
