"""Tokens (created, shown once, listed, revoked), MNET peers (added by URL after their
fingerprint is confirmed; our key rotated) and ETL instances (added, marks reset)."""

from datetime import timedelta

from werkzeug.utils import redirect
from werkzeug.wrappers import Response

from aula_ws.commands.peers import fetch_peer_certificate
from aula_ws.console.web import PREFIX, Console, Page
from aula_ws.domain.etl import PLUGINS
from aula_ws.errors import AulaError, InvalidRequest
from aula_ws.services import etl, peers, tokens

MAX_DAYS = 3650


def token_list(
    console: Console, page: Page, errors: dict[str, str] | None = None, status: int = 200, **values: object
) -> Response:
    found = tokens.list_tokens(page.services.engine)
    return console.render(
        page,
        "tokens.html",
        status=status,
        tokens=found,
        services=tokens.SERVICES,
        errors=errors or {},
        now=page.now,
        **values,
    )


def token_create(console: Console, page: Page) -> Response:
    form = page.request.form
    username, service, days = form.get("user", "").strip(), form.get("service", ""), form.get("days", "").strip()
    errors = {}
    if not username:
        errors["user"] = page.gettext("Enter the login of a site administrator.")
    if service not in tokens.SERVICES:
        errors["service"] = page.gettext("Choose the service.")
    if days and not (days.isdigit() and 1 <= int(days) <= MAX_DAYS):
        errors["days"] = page.gettext("A whole number of days from 1 to 3650, or empty for never.")
    if errors:
        return token_list(console, page, errors, 400, form=form)
    expires = page.now + timedelta(days=int(days)) if days else None
    try:
        token_id, secret = tokens.create_token(page.services.engine, username, service, page.now, expires)
    except AulaError as error:
        return token_list(console, page, {"user": str(error)}, 400, form=form)
    page.audit("token created", f"{token_id} for {username} ({service})")  # never the secret
    return token_list(console, page, created=(token_id, secret))


def token_revoke(console: Console, page: Page) -> Response:
    token_id = page.request.form.get("token_id", "")
    try:
        tokens.revoke_token(page.services.engine, int(token_id) if token_id.isdigit() else -1, page.now)
    except AulaError as error:
        return token_list(console, page, {"revoke": str(error)}, 400)
    page.audit("token revoked", token_id)
    return redirect(f"{PREFIX}/tokens?notice=revoked", 303)


def peer_list(
    console: Console, page: Page, errors: dict[str, str] | None = None, status: int = 200, **values: object
) -> Response:
    services = page.services
    own = peers.current_key(services.engine, services.key_policy, page.now)
    return console.render(
        page,
        "peers.html",
        status=status,
        peers=peers.list_peers(services.engine),
        own=own,
        own_fingerprint=peers.fingerprint(own.certificate_pem),
        errors=errors or {},
        **values,
    )


def peer_add(console: Console, page: Page) -> Response:
    """First the certificate is fetched and its fingerprint shown; the peer is registered only
    once the admin confirms it, and only if the certificate fetched again still has it."""
    form = page.request.form
    url = form.get("url", "").strip()
    if not url:
        return peer_list(console, page, {"url": page.gettext("Enter the peer's root URL.")}, 400)
    try:
        root = peers.normalise_root(url)
        pem = fetch_peer_certificate(root, page.services)
        fingerprint = peers.fingerprint(peers.checked_certificate(root, pem))
        if form.get("confirm") != "yes":
            return console.render(page, "peer_confirm.html", root=root, fingerprint=fingerprint)
        if form.get("fingerprint") != fingerprint:
            raise InvalidRequest("the peer's certificate changed since its fingerprint was shown: nothing registered")
        peers.add_peer(page.services.engine, root, pem, page.now)
    except AulaError as error:
        return peer_list(console, page, {"url": str(error)}, 400, url=url)
    page.audit("peer added", f"{root} {fingerprint}")
    return redirect(f"{PREFIX}/peers?notice=peer-added", 303)


def key_rotate(console: Console, page: Page) -> Response:
    own = peers.rotate_key(page.services.engine, page.services.key_policy, page.now)
    page.audit("MNET key rotated", f"generation {own.generation}")
    return redirect(f"{PREFIX}/peers?notice=rotated", 303)


def etl_list(console: Console, page: Page, errors: dict[str, str] | None = None, status: int = 200) -> Response:
    found = etl.list_instances(page.services.engine)
    return console.render(page, "etl.html", status=status, instances=found, plugins=PLUGINS, errors=errors or {})


def etl_add(console: Console, page: Page) -> Response:
    form = page.request.form
    plugin, name, masquerade = form.get("plugin", ""), form.get("name", "").strip(), form.get("masquerade") == "on"
    errors = {}
    if plugin not in PLUGINS:
        errors["plugin"] = page.gettext("Choose the plugin.")
    if not name:
        errors["name"] = page.gettext("Enter a name.")
    if not errors:
        try:
            instance_id = etl.add_instance(page.services.engine, plugin, name, page.now, masquerade)
        except AulaError as error:
            errors["name"] = str(error)
        else:
            page.audit("ETL instance added", f"{instance_id} {plugin} {name}")
            return redirect(f"{PREFIX}/etl?notice=instance-added", 303)
    return etl_list(console, page, errors, 400)


def etl_reset(console: Console, page: Page) -> Response:
    instance_id = page.request.form.get("instance_id", "")
    try:
        etl.reset_marks(page.services.engine, int(instance_id) if instance_id.isdigit() else -1)
    except AulaError as error:
        return etl_list(console, page, {"reset": str(error)}, 400)
    page.audit("ETL marks reset", instance_id)
    return redirect(f"{PREFIX}/etl?notice=marks-reset", 303)


def etl_remove(console: Console, page: Page) -> Response:
    instance_id = page.request.form.get("instance_id", "")
    try:
        etl.remove_instance(page.services.engine, int(instance_id) if instance_id.isdigit() else -1)
    except AulaError as error:
        return etl_list(console, page, {"reset": str(error)}, 400)
    page.audit("ETL instance removed", instance_id)
    return redirect(f"{PREFIX}/etl?notice=instance-removed", 303)


def peer_remove(console: Console, page: Page) -> Response:
    root = page.request.form.get("url", "")
    try:
        peers.remove_peer(page.services.engine, root)
    except AulaError as error:
        return peer_list(console, page, {"remove": str(error)}, 400)
    page.audit("peer removed", root)
    return redirect(f"{PREFIX}/peers?notice=peer-removed", 303)
