"""`aula-ws peer add|list|remove|certificate`: the MNET peers we trust, and our own certificate."""

import argparse
from pathlib import Path

from aula_ws.commands.exits import EXIT_OK
from aula_ws.errors import InvalidRequest
from aula_ws.services.runtime import Services


def register(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    peer = commands.add_parser("peer", help="MNET peers (XML-RPC use_stats)")
    actions = peer.add_subparsers(dest="peer_command", required=True, metavar="ACTION")
    add = actions.add_parser("add", help="register a peer, or update one (its certificate, IP ranges, cipher)")
    add.add_argument("root_url", metavar="ROOT_URL", help="the peer's root URL (its wwwroot)")
    add.add_argument("--cert", required=True, type=Path, metavar="FILE", help="the peer's certificate (PEM)")
    add.add_argument(
        "--trusted-ip",
        action="append",
        default=[],
        metavar="CIDR",
        help="an address or range from which the peer may call signed but not encrypted (repeatable)",
    )
    add.add_argument(
        "--cipher",
        choices=["rc4", "aes"],
        default="rc4",
        help="how we seal calls to it: rc4 as Moodle peers expect (default), aes for aula-ws peers",
    )
    add.set_defaults(handler=_add)
    actions.add_parser("list", help="the registered peers").set_defaults(handler=_list)
    remove = actions.add_parser("remove", help="forget a peer")
    remove.add_argument("root_url", metavar="ROOT_URL")
    remove.set_defaults(handler=_remove)
    actions.add_parser(
        "certificate", help="print our own certificate (PEM), for the peer's administrator"
    ).set_defaults(handler=_certificate)


def _add(args: argparse.Namespace, services: Services) -> int:
    from aula_ws.services import peers

    try:
        pem = args.cert.read_text(encoding="ascii")
    except (OSError, UnicodeDecodeError) as error:
        raise InvalidRequest(f"cannot read the certificate {args.cert}: {error}") from None
    created = peers.add_peer(services.engine, args.root_url, pem, services.clock(), args.trusted_ip, args.cipher)
    print(f"peer {args.root_url.rstrip('/')} {'added' if created else 'updated'}")
    return EXIT_OK


def _list(args: argparse.Namespace, services: Services) -> int:
    from aula_ws.services import peers

    for peer in peers.list_peers(services.engine):
        networks = " ".join(str(n) for n in peer.networks) or "-"
        print(
            f"{peer.wwwroot}\tcipher {peer.cipher}\ttrusted {networks}\tsha256 {peers.fingerprint(peer.certificate_pem)}"
        )
    return EXIT_OK


def _remove(args: argparse.Namespace, services: Services) -> int:
    from aula_ws.services import peers

    peers.remove_peer(services.engine, args.root_url)
    print(f"peer {args.root_url.rstrip('/')} removed")
    return EXIT_OK


def _certificate(args: argparse.Namespace, services: Services) -> int:
    from aula_ws.services import peers

    print(peers.current_key(services.engine, services.key_policy, services.clock()).certificate_pem, end="")
    return EXIT_OK
