"""The synthesis screen and the audit log."""

from werkzeug.wrappers import Response

from aula_ws.console.web import Console, Page
from aula_ws.services import console as door
from aula_ws.services.console_records import synthesis


def home(console: Console, page: Page) -> Response:
    services = page.services
    found = synthesis(services.engine, services.settings, services.key_policy, page.now)
    return console.render(page, "home.html", s=found, now=page.now)


def audit(console: Console, page: Page) -> Response:
    return console.render(page, "audit.html", entries=door.last_audit(page.services.engine, 200))
