"""The console's WSGI application: routing, the session and CSRF checks, rendering.

Every page but sign-in needs a session (else a redirect to sign-in); every POST carries the
form's CSRF token (the HMAC of the session, or for the sign-in form a double-submitted
random value), else 403 and nothing done. Views live in views_*.py, one module per screen
group; each calls service functions only."""

import hmac
import logging
import secrets
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from gettext import NullTranslations
from typing import Any
from urllib.parse import quote

from jinja2 import Environment, PackageLoader, select_autoescape
from werkzeug.exceptions import HTTPException, NotFound
from werkzeug.routing import Map, Rule
from werkzeug.utils import redirect
from werkzeug.wrappers import Request, Response

from aula_ws.console import i18n
from aula_ws.services import console as door
from aula_ws.services.runtime import Services
from aula_ws.wsgi import Environ, StartResponse

log = logging.getLogger(__name__)

PREFIX = "/admin"
SESSION_COOKIE = "aula_session"
PRE_COOKIE = "aula_pre"  # the sign-in form's double-submitted CSRF value


def N_(message: str) -> str:
    """Marks a message for the catalogues; translated where it is shown."""
    return message


# what a redirect may announce on the next page (?notice=key): never free text from the URL
NOTICES = {
    "signed-out": N_("You are signed out."),
    "uploaded": N_("The file was uploaded."),
    "deleted": N_("The file was deleted."),
    "captured": N_("The drop folder was captured."),
    "revoked": N_("The token was revoked."),
    "rotated": N_("A new MNET key pair was made."),
    "peer-added": N_("The peer was registered."),
    "instance-added": N_("The ETL instance was added."),
    "marks-reset": N_("The ETL instance's marks were reset."),
    "instance-removed": N_("The ETL instance was removed."),
    "peer-removed": N_("The peer was removed."),
}
# the pages' own script and style only (the progress poll, a confirm, a bar's width are inline)
CSP = (
    "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
OPEN = {"sign_in", "language", "style"}  # endpoints reachable without a session


@dataclass
class Page:
    """One request as the views see it."""

    request: Request
    services: Services
    language: str
    translations: NullTranslations
    signed: door.SignedIn | None
    now: datetime
    cookies: list[tuple[str, str, dict[str, Any]]] = field(default_factory=list)

    def gettext(self, message: str) -> str:
        return self.translations.gettext(message)

    @property
    def address(self) -> str:
        return self.request.remote_addr or ""

    @property
    def username(self) -> str:
        return self.signed.username if self.signed else ""

    def audit(self, action: str, detail: str = "") -> None:
        door.audit(self.services.engine, self.username, action, detail, self.address, self.now)


View = Callable[..., Response]


class Console:
    def __init__(self, services: Services, routes: list[tuple[str, str, View, list[str]]]):
        self.services = services
        self.views = {endpoint: view for _path, endpoint, view, _methods in routes}
        self.url_map = Map(
            [Rule(PREFIX + path, endpoint=endpoint, methods=methods) for path, endpoint, _v, methods in routes]
        )
        self.catalogues = i18n.load_catalogues()
        self.templates = Environment(
            loader=PackageLoader("aula_ws.console"),
            autoescape=select_autoescape(default=True),
            extensions=["jinja2.ext.i18n"],
            trim_blocks=True,
            lstrip_blocks=True,
        )
        self.secure = (services.settings.public_url or "").lower().startswith("https:")

    def __call__(self, environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        request = Request(environ)
        try:
            response = self.dispatch(request)
        except HTTPException as error:
            response = error.get_response(environ)
        except Exception:
            log.exception("console: %s %s failed", request.method, request.path)
            response = Response("Internal error: see the server log.\n", 500, mimetype="text/plain")
        response.headers.setdefault("Cache-Control", "no-store")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Content-Security-Policy", CSP)
        return response(environ, start_response)

    def dispatch(self, request: Request) -> Response:
        adapter = self.url_map.bind_to_environ(request.environ)
        endpoint, arguments = adapter.match()
        now = self.services.clock()
        language = i18n.choose(request.cookies.get(i18n.COOKIE), list(request.accept_languages))
        signed = door.session(self.services.engine, request.cookies.get(SESSION_COOKIE), now)
        page = Page(request, self.services, language, self.catalogues[language], signed, now)
        if signed is None and endpoint not in OPEN:
            target = request.full_path if request.method == "GET" else PREFIX + "/"
            return redirect(f"{PREFIX}/sign-in?next={quote(target.rstrip('?'))}", 303)
        if request.method == "POST" and not self._csrf_ok(page, endpoint):
            page.audit("refused: no CSRF token", request.path)
            return self.render(
                page,
                "error.html",
                status=403,
                message=page.gettext(
                    "This form has expired or did not come from this console. Go back, reload the page and try again."
                ),
            )
        response = self.views[endpoint](self, page, **arguments)
        for name, value, options in page.cookies:
            response.set_cookie(name, value, **options)
        return response

    def too_large(self, environ: Environ, start_response: StartResponse, max_bytes: int) -> Iterable[bytes]:
        """A body over the admin limit, refused unread: a page in the reader's language says so."""
        request = Request(environ)
        language = i18n.choose(request.cookies.get(i18n.COOKIE), list(request.accept_languages))
        page = Page(request, self.services, language, self.catalogues[language], None, self.services.clock())
        message = page.gettext(
            "The request body is larger than the %(limit)s bytes this endpoint accepts (AULA_ADMIN_MAX_BODY): "
            "nothing was stored."
        )
        response = self.render(page, "error.html", status=413, message=message % {"limit": max_bytes})
        return response(environ, start_response)

    def _csrf_ok(self, page: Page, endpoint: str) -> bool:
        sent = page.request.form.get("csrf", "")
        if endpoint == "sign_in":
            pre = page.request.cookies.get(PRE_COOKIE, "")
            return bool(pre) and hmac.compare_digest(pre, sent)
        return page.signed is not None and door.csrf_matches(page.signed.token, sent)

    def cookie(self, page: Page, name: str, value: str, max_age: int | None = None, http_only: bool = True) -> None:
        page.cookies.append(
            (
                name,
                value,
                {
                    "max_age": max_age,
                    "httponly": http_only,
                    "samesite": "Strict",
                    "secure": self.secure,
                    "path": PREFIX,
                },
            )
        )

    def pre_token(self, page: Page) -> str:
        token = page.request.cookies.get(PRE_COOKIE) or secrets.token_urlsafe(24)
        self.cookie(page, PRE_COOKIE, token)
        return token

    def render(self, page: Page, template: str, status: int = 200, **values: Any) -> Response:
        csrf = page.signed.csrf if page.signed else values.pop("csrf", "")
        body = self.templates.get_template(template).render(
            gettext=page.translations.gettext,
            ngettext=page.translations.ngettext,
            _=page.translations.gettext,
            lang=page.language,
            languages=i18n.NAMES,
            base=PREFIX,
            signed=page.signed,
            csrf=csrf,
            path=page.request.full_path.rstrip("?"),
            notice=page.translations.gettext(NOTICES[key])
            if (key := page.request.args.get("notice", "")) in NOTICES
            else "",
            **values,
        )
        return Response(body, status, mimetype="text/html")


def local_target(target: str | None) -> str:
    """A redirect target of ours: a path under /admin, never another site."""
    if target and target.startswith(PREFIX) and not target.startswith("//") and "\\" not in target:
        return target
    return PREFIX + "/"


def not_found() -> NotFound:
    return NotFound()
