"""`aula-ws wsdl`: print the contract's WSDL."""

import argparse
import sys

from aula_ws.config import Settings


def register(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    wsdl = commands.add_parser("wsdl", help="print the contract's WSDL")
    wsdl.add_argument("--url", default="http://localhost:8080/soap", help="the endpoint address to write in it")
    wsdl.set_defaults(handler=_wsdl)


def _wsdl(args: argparse.Namespace, settings: Settings) -> int:
    from aula_ws.soap.wsdl import contract_wsdl

    sys.stdout.write(contract_wsdl(args.url))
    return 0
