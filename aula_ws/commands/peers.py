"""`aula-ws peer add|list|remove|certificate|rotate-key`: the MNET peers we trust, and our own key."""

import argparse
import sys
from pathlib import Path

from aula_ws.commands.exits import EXIT_OK
from aula_ws.errors import InvalidRequest
from aula_ws.services.runtime import Services


def register(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    peer = commands.add_parser("peer", help="MNET peers (XML-RPC use_stats)")
    actions = peer.add_subparsers(dest="peer_command", required=True, metavar="ACTION")
    add = actions.add_parser(
        "add",
        help="register a peer, or update one (its certificate, IP ranges, cipher, services)",
        description="Without --cert, the peer's certificate is fetched by keyswap and its SHA-256 fingerprint "
        "printed: confirm it (interactive) or pin it with --fingerprint.",
    )
    add.add_argument("root_url", metavar="ROOT_URL", help="the peer's root URL (its wwwroot)")
    source = add.add_mutually_exclusive_group()
    source.add_argument("--cert", type=Path, metavar="FILE", help="the peer's certificate (PEM), instead of a keyswap")
    source.add_argument(
        "--fingerprint", metavar="SHA256", help="the SHA-256 fingerprint the keyswapped certificate must have"
    )
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
    for flag, what in [("publish", "it may call on us"), ("subscribe", "we call on it")]:
        add.add_argument(
            f"--{flag}",
            action="append",
            choices=["use_stats", "none"],
            metavar="SERVICE",
            help=f"a service {what} (use_stats, or none; repeatable; default for a new peer: use_stats)",
        )
    add.set_defaults(handler=_add)
    actions.add_parser("list", help="the registered peers, their fingerprints and services").set_defaults(handler=_list)
    remove = actions.add_parser("remove", help="forget a peer")
    remove.add_argument("root_url", metavar="ROOT_URL")
    remove.set_defaults(handler=_remove)
    actions.add_parser(
        "certificate", help="print our own certificate (PEM), for the peer's administrator"
    ).set_defaults(handler=_certificate)
    actions.add_parser(
        "rotate-key", help="make a new key pair now (the previous ones still decrypt; peers learn it by 7025)"
    ).set_defaults(handler=_rotate_key)


def _add(args: argparse.Namespace, services: Services) -> int:
    from aula_ws.services import peers

    root = peers.normalise_root(args.root_url)
    pem = _read_certificate(args.cert) if args.cert is not None else _keyswapped(root, args.fingerprint, services)
    created = peers.add_peer(
        services.engine,
        root,
        pem,
        services.clock(),
        args.trusted_ip,
        args.cipher,
        publish=_services(args.publish),
        subscribe=_services(args.subscribe),
    )
    print(f"peer {root} {'added' if created else 'updated'}")
    return EXIT_OK


def _read_certificate(path: Path) -> str:
    try:
        return path.read_text(encoding="ascii")
    except (OSError, UnicodeDecodeError) as error:
        raise InvalidRequest(f"cannot read the certificate {path}: {error}") from None


def _keyswapped(root: str, pinned: str | None, services: Services) -> str:
    """The peer's certificate by keyswap, once its fingerprint is pinned or confirmed."""
    from aula_ws.services import peers

    pem = fetch_peer_certificate(root, services)
    found = peers.fingerprint(pem)
    print(f"{root} certificate sha256 {found}")
    if pinned is not None:
        if _bare(pinned) != _bare(found):
            raise InvalidRequest(f"the certificate of {root} has the fingerprint {found}, not {pinned}")
        return pem
    if not sys.stdin.isatty():
        raise InvalidRequest("compare the fingerprint with the peer's administrator, then pass it as --fingerprint")
    if input("Is that the peer's fingerprint? [y/N] ").strip().lower() not in ("y", "yes"):
        raise InvalidRequest("not confirmed: nothing registered")
    return pem


def fetch_peer_certificate(root: str, services: Services) -> str:
    """The peer's certificate by keyswap (also the console's "add a peer"); InvalidRequest says why not."""
    import http.client
    import xmlrpc.client

    from aula_ws.errors import MnetFault
    from aula_ws.rpc.client import AnswerRefused, fetch_certificate
    from aula_ws.services import peers

    own = peers.current_key(services.engine, services.key_policy, services.clock()).certificate_pem
    try:
        return str(fetch_certificate(root, services.key_policy.wwwroot, own, services.settings.mnet_peer_timeout))
    except xmlrpc.client.Fault as fault:
        raise InvalidRequest(f"{root} refused the keyswap: fault {fault.faultCode}") from None
    except (OSError, http.client.HTTPException, MnetFault, AnswerRefused) as error:
        raise InvalidRequest(f"no certificate from {root} by keyswap: {error}") from None


def _bare(fingerprint: str) -> str:
    return fingerprint.replace(":", "").strip().lower()


def _services(named: list[str] | None) -> list[str] | None:
    return None if named is None else [service for service in named if service != "none"]


def _list(args: argparse.Namespace, services: Services) -> int:
    from aula_ws.services import peers

    for peer in peers.list_peers(services.engine):
        networks = " ".join(str(n) for n in peer.networks) or "-"
        published = ",".join(sorted(peer.published)) or "-"
        subscribed = ",".join(sorted(peer.subscribed)) or "-"
        print(
            f"{peer.wwwroot}\tcipher {peer.cipher}\ttrusted {networks}\tpublish {published}\t"
            f"subscribe {subscribed}\tsha256 {peer.fingerprint}"
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


def _rotate_key(args: argparse.Namespace, services: Services) -> int:
    from aula_ws.services import peers

    key = peers.rotate_key(services.engine, services.key_policy, services.clock())
    print(f"key generation {key.generation}: sha256 {peers.fingerprint(key.certificate_pem)}")
    return EXIT_OK
