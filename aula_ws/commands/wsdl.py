"""`aula-ws wsdl [contract|admin]`: print a WSDL as the server publishes it."""

import argparse
import sys

from aula_ws.commands.exits import EXIT_OK
from aula_ws.services.runtime import Services


def register(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    wsdl = commands.add_parser("wsdl", help="print the WSDL of the contract (or admin) endpoint")
    wsdl.add_argument("endpoint", nargs="?", choices=("contract", "admin"), default="contract")
    wsdl.add_argument(
        "--url",
        help="the server's base address to write in it "
        "(default: the setting AULA_PUBLIC_URL, else http://localhost:8080)",
    )
    wsdl.set_defaults(handler=_wsdl)


def _wsdl(args: argparse.Namespace, services: Services) -> int:
    from aula_ws.soap.wsdl import wsdl_document

    sys.stdout.write(wsdl_document(args.endpoint, args.url or services.settings.public_url or "http://localhost:8080"))
    return EXIT_OK
