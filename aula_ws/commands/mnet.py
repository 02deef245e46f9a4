"""`aula-ws mnet call METHOD ARGS... --peer URL`: call a registered MNET peer as this site."""

import argparse
import json
import sys
from typing import Any

from aula_ws.commands.exits import EXIT_OK, EXIT_REJECTED
from aula_ws.errors import InvalidRequest
from aula_ws.services.runtime import Services


def register(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    mnet = commands.add_parser("mnet", help="call an MNET peer (XML-RPC) as this site")
    actions = mnet.add_subparsers(dest="mnet_command", required=True, metavar="ACTION")
    call = actions.add_parser(
        "call",
        help="call METHOD on a registered peer, signed with our key and sealed to it; print the answer",
        description='Each ARG is read as JSON when it is JSON (2, true, {...}, [...], "text"), else as a '
        "string. The answer is printed as JSON (a use_stats JSON answer decoded); a fault or a failure "
        "goes to stderr with exit code 1.",
    )
    call.add_argument("method", metavar="METHOD", help="e.g. use_stats_rpc_get_stats, system/listMethods")
    call.add_argument("params", nargs="*", metavar="ARG")
    call.add_argument("--peer", required=True, metavar="URL", help="the peer's root URL (registered by `peer add`)")
    call.add_argument(
        "--format", choices=["json", "xml"], default="json", help="json (default) or the XML-RPC methodResponse"
    )
    call.set_defaults(handler=_call)


def _call(args: argparse.Namespace, services: Services) -> int:
    import http.client
    import xmlrpc.client

    from aula_ws.errors import MnetFault
    from aula_ws.rpc import codec, methods
    from aula_ws.rpc.client import AnswerRefused, site_client
    from aula_ws.services import peers

    peer = peers.find_peer(services.engine, args.peer)
    if peer is None:
        raise InvalidRequest(f"{args.peer} is not a registered peer (aula-ws peer add {args.peer} first)")
    method = methods.METHODS.get(args.method)
    if method is not None and method.service is not None and method.service not in peer.subscribed:
        raise InvalidRequest(f"this site does not subscribe to {method.service} on {peer.wwwroot}")
    params = [_argument(text) for text in args.params]
    timeout = services.settings.mnet_peer_timeout
    client = site_client(services.engine, services.key_policy, peer, timeout, services.mnet_drift, services.clock)
    try:
        value = client.call(args.method, *params)
    except xmlrpc.client.Fault as fault:
        print(f"aula-ws: fault {fault.faultCode}: {fault.faultString}", file=sys.stderr)
        return EXIT_REJECTED
    except TimeoutError:
        print(f"aula-ws: {peer.wwwroot} did not answer within {timeout:g} s", file=sys.stderr)
        return EXIT_REJECTED
    except (AnswerRefused, MnetFault, OSError, http.client.HTTPException, xmlrpc.client.ProtocolError) as error:
        reason = "its answer is not XML-RPC" if isinstance(error, MnetFault) else str(error)
        print(f"aula-ws: {peer.wwwroot}: {reason}", file=sys.stderr)
        return EXIT_REJECTED
    if args.format == "xml":
        print(codec.response(value).decode())
    else:
        print(json.dumps(_decoded(value), indent=2, ensure_ascii=False, default=str))
    return EXIT_OK


def _argument(text: str) -> Any:
    """JSON when it is JSON (and XML-RPC can carry it: not null), else the text itself."""
    try:
        value = json.loads(text)
    except ValueError:
        return text
    return text if value is None else value


def _decoded(value: Any) -> Any:
    """A string holding a JSON object (use_stats answers with json_response) as that object."""
    if isinstance(value, str) and value.startswith("{"):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value
