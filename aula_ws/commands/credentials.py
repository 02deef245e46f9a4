"""`aula-ws user set-admin|set-password` and `aula-ws token create|list|revoke`."""

import argparse
import getpass
import sys
from datetime import datetime, timedelta

from aula_ws.commands.exits import EXIT_OK
from aula_ws.errors import InvalidRequest
from aula_ws.services import console, tokens
from aula_ws.services.runtime import Services
from aula_ws.store.credentials import TokenRecord

MAX_DAYS = 3650  # ten years: longer is "never", which is what no --days says


def _days(value: str) -> int:
    try:
        days = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a whole number of days") from None
    if not 1 <= days <= MAX_DAYS:
        raise argparse.ArgumentTypeError(f"{value} is not 1 to {MAX_DAYS} days")
    return days


def register(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    user = commands.add_parser("user", help="platform users")
    user_actions = user.add_subparsers(dest="user_command", required=True, metavar="ACTION")
    set_admin = user_actions.add_parser("set-admin", help="make a user a site admin (or not, with --off)")
    set_admin.add_argument("username")
    set_admin.add_argument("--off", action="store_true", help="remove the site-admin right")
    set_admin.set_defaults(handler=_set_admin)
    set_password = user_actions.add_parser(
        "set-password",
        help="set a user's password for the admin console (asked on the terminal, or one line of stdin)",
    )
    set_password.add_argument("username")
    set_password.set_defaults(handler=_set_password)

    token = commands.add_parser("token", help="tokens of the admin and ETL services")
    token_actions = token.add_subparsers(dest="token_command", required=True, metavar="ACTION")
    create = token_actions.add_parser("create", help="create a token for a site admin; prints it once")
    create.add_argument("--user", required=True, help="the site admin's login")
    create.add_argument("--service", required=True, choices=tokens.SERVICES)
    create.add_argument("--days", type=_days, help=f"expires after this many days, 1 to {MAX_DAYS} (default: never)")
    create.set_defaults(handler=_create)
    token_actions.add_parser("list", help="list tokens (never their secret)").set_defaults(handler=_list)
    revoke = token_actions.add_parser("revoke", help="revoke a token by its id")
    revoke.add_argument("token_id", type=int)
    revoke.set_defaults(handler=_revoke)


def _set_admin(args: argparse.Namespace, services: Services) -> int:
    tokens.set_site_admin(services.engine, args.username, on=not args.off)
    print(f"{args.username} is {'no longer ' if args.off else ''}a site admin")
    return EXIT_OK


def _set_password(args: argparse.Namespace, services: Services) -> int:
    if sys.stdin.isatty():
        password = getpass.getpass(f"password for {args.username}: ")
        if getpass.getpass("again: ") != password:
            raise InvalidRequest("the two passwords differ: nothing changed")
    else:
        password = sys.stdin.readline().rstrip("\r\n")
    console.set_password(services.engine, args.username, password, services.clock())
    print(f"password of {args.username} set")
    return EXIT_OK


def _create(args: argparse.Namespace, services: Services) -> int:
    now = services.clock()
    expires = None if args.days is None else now + timedelta(days=args.days)
    token_id, secret = tokens.create_token(services.engine, args.user, args.service, now, expires)
    # only the token on stdout, so TOKEN=$(aula-ws token create ...) catches it alone
    print(f"token {token_id} for {args.user} ({args.service}); it is shown only this once:", file=sys.stderr)
    print(secret)
    return EXIT_OK


def _list(args: argparse.Namespace, services: Services) -> int:
    now = services.clock()
    print("id\tuser\tservice\tcreated\texpires\tstate")
    for t in tokens.list_tokens(services.engine):
        print(
            f"{t.id}\t{t.username}\t{t.service}\t{_when(t.created_at)}\t"
            f"{_when(t.expires_at) or 'never'}\t{_state(t, now)}"
        )
    return EXIT_OK


def _state(token: TokenRecord, now: datetime) -> str:
    if token.revoked_at is not None:
        return f"revoked {_when(token.revoked_at)}"
    if token.expires_at is not None and token.expires_at <= now:
        return "expired"
    return "active" if token.site_admin else "inactive (user is not a site admin)"


def _when(moment: datetime | None) -> str:
    return "" if moment is None else moment.strftime("%Y-%m-%d %H:%M")


def _revoke(args: argparse.Namespace, services: Services) -> int:
    tokens.revoke_token(services.engine, args.token_id, services.clock())
    print(f"token {args.token_id} revoked")
    return EXIT_OK
