"""create_app(services) -> the WSGI application serving every endpoint.

Each edge builds its endpoint from the one `Services` (aula_ws/services/runtime.py)
behind its body limit (aula_ws/wsgi.py); this module routes paths to them.
"""

import gc
import io
import json
from collections.abc import Callable, Iterable
from functools import partial
from html import escape

from spyne import Application
from spyne.server.wsgi import WsgiApplication

from aula_ws import __version__, logs
from aula_ws.access_log import AccessLog
from aula_ws.config import Settings
from aula_ws.console.routes import console_endpoint
from aula_ws.rest.etl import etl_endpoint
from aula_ws.rpc.server import create_publickey_app, create_rpc_app
from aula_ws.services.runtime import Services
from aula_ws.soap.admin import AdminApplication
from aula_ws.soap.contract import ContractApplication, progress
from aula_ws.soap.faults import too_large_envelope
from aula_ws.soap.protocol import quiet_spyne_logging
from aula_ws.soap.shortcut import one_user_shortcut
from aula_ws.soap.wsdl import PublishedWsdl, request_base_url
from aula_ws.store import database
from aula_ws.wsgi import TOO_LARGE, Endpoint, Environ, StartResponse, WsgiApp, limited_endpoint, read_body, send

# set by a server that refused the body itself (aula_ws/serving.py): answer "too large"
BODY_TOO_LARGE = "aula_ws.body_too_large"
CONSOLE = "/admin"  # the administrator's console (aula_ws/console/) and every path under it


class AulaApplication:
    """Every endpoint on one WSGI callable, routed by path."""

    def __init__(self, routes: dict[str, Endpoint]):
        self.routes = routes

    def endpoint(self, path: str) -> Endpoint | None:
        found = self.routes.get(path.rstrip("/") or "/")
        if found is None and path.startswith(CONSOLE + "/"):  # the console routes its own paths
            found = self.routes.get(CONSOLE)
        return found

    def body_limit(self, path: str) -> int | None:
        """The body limit of the endpoint at `path` (None: it reads no body)."""
        endpoint = self.endpoint(path)
        return endpoint.max_body if endpoint else None

    def __call__(self, environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "") or "/"
        endpoint = self.endpoint(path)
        if environ.get(BODY_TOO_LARGE):
            if endpoint is None or endpoint.too_large is None or endpoint.max_body is None:
                return _plain(start_response, "413 Request Entity Too Large", "The request body is too large\n")
            return endpoint.too_large(environ, start_response, endpoint.max_body)
        if endpoint is None:
            return _plain(start_response, "404 Not Found", f"No endpoint at {path}\n")
        return endpoint.app(environ, start_response)


def create_app(services: Services) -> AulaApplication:
    """All endpoints on one WSGI callable. Refuses an outdated schema (SchemaOutdated)."""
    _ = services.engine  # opened (and its schema checked) now, not on the first request
    settings = services.settings
    quiet_spyne_logging()
    mnet = create_rpc_app(services)
    rest = etl_endpoint(services)
    return AulaApplication(
        {
            "/": Endpoint(_index_page),
            "/health": Endpoint(health_endpoint(services)),
            "/soap": soap_endpoint(
                ContractApplication(services),
                "contract",
                settings.contract_max_body,
                settings.public_url,
                shortcut=one_user_shortcut(partial(progress, services)),
            ),
            "/soap/admin": soap_endpoint(
                AdminApplication(services), "admin", settings.admin_max_body, settings.public_url
            ),
            **dict.fromkeys(("/mnet/xmlrpc/server.php", "/xmlrpc"), mnet),
            "/mnet/publickey.php": create_publickey_app(services),
            **dict.fromkeys(("/webservice/rest/server.php", "/service/rest/server.php"), rest),
            CONSOLE: console_endpoint(services),
        }
    )


def from_environment() -> AccessLog:
    """Factory for WSGI servers: `gunicorn 'aula_ws.app:from_environment()'` (deploy/gunicorn.conf.py):
    logging as the settings say, the access log, every endpoint."""
    settings = Settings.from_environment()
    logs.configure(settings.log_level, settings.log_format)
    app = AccessLog(create_app(Services(settings)))
    settle_memory()
    return app


def settle_memory() -> None:
    """Once the app is built, what exists lives as long as the server: gc.freeze() takes it out of
    the cyclic collector's sight (and keeps a forked worker's copy of it shared), and a higher
    first threshold runs the collector less often. The collector cost ~0.2 s of a 0.7 s
    100,000-member call; with both, 0.68 s -> 0.51 s (in-process)."""
    gc.freeze()
    gc.set_threshold(10_000, 10, 10)


def health_endpoint(services: Services) -> WsgiApp:
    """GET /health: {status, database, schema_revision, version}; 503 when the database cannot be
    reached or its schema is not the code's (README, Operations)."""

    def health(environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        report: dict[str, object] = {"status": "ok", "database": "reachable", "schema_revision": None}
        try:
            current = database.current_revision(services.engine)
        except Exception:  # any failure to reach it is the answer, not an error of ours
            report.update(status="unavailable", database="unreachable")
        else:
            report["schema_revision"] = current
            if current != database.head_revision():
                report.update(status="schema behind", schema_required=database.head_revision())
        report["version"] = __version__
        status = "200 OK" if report["status"] == "ok" else "503 Service Unavailable"
        body = json.dumps(report).encode()
        return send(start_response, status, "application/json", body, [("Cache-Control", "no-store")])

    return health


Shortcut = Callable[[Environ, StartResponse, bytes], Iterable[bytes] | None]


def soap_endpoint(
    application: Application, name: str, max_body: int, public_url: str | None, shortcut: Shortcut | None = None
) -> Endpoint:
    """A Spyne application behind the body limit; `?wsdl` answered by us (see soap/wsdl.py);
    a POST `shortcut` answers (given the whole body) or returns None, and Spyne answers."""
    # Spyne's own cap (2 MiB by default, answered as 500 Client.RequestTooLong) must never
    # undercut ours: the body it sees is already limited
    spyne_app = WsgiApplication(application, max_content_length=max_body)
    wsdl = PublishedWsdl(name)

    def endpoint(environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        if environ.get("REQUEST_METHOD") == "GET" and _asks_wsdl(environ.get("QUERY_STRING", "")):
            body = wsdl.document(public_url or request_base_url(environ))
            return send(start_response, "200 OK", "text/xml; charset=utf-8", body)
        if shortcut is not None and environ.get("REQUEST_METHOD") == "POST":
            request = read_body(environ)
            answered = shortcut(environ, start_response, request)
            if answered is not None:
                return answered
            environ["wsgi.input"] = io.BytesIO(request)  # read again, by Spyne
        return spyne_app(environ, start_response)  # type: ignore[no-any-return]

    return limited_endpoint(endpoint, max_body, _soap_too_large)


def _asks_wsdl(query: str) -> bool:
    return query.split("=", 1)[0].split("&", 1)[0].lower() == "wsdl"


def _soap_too_large(environ: Environ, start_response: StartResponse, max_bytes: int) -> Iterable[bytes]:
    return send(start_response, TOO_LARGE, "text/xml; charset=utf-8", too_large_envelope(max_bytes))


def _plain(start_response: StartResponse, status: str, text: str) -> Iterable[bytes]:
    return send(start_response, status, "text/plain; charset=utf-8", text.encode())


def _index_page(environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
    # relative links: right behind a proxy that mounts us under a prefix, and no address of ours
    # is written from a request's Host
    body = f"""<!DOCTYPE html>
<html lang="es"><head><meta charset="utf-8"><title>aula-ws {escape(__version__)}</title></head>
<body><h1>aula-ws {escape(__version__)}</h1>
<p>Avance de los usuarios y estadísticas de uso / learners' progress and usage statistics.</p>
<ul>
<li>Educativa Aula contract (SOAP 1.1): <code>POST /soap</code>, WSDL <a href="soap?wsdl">/soap?wsdl</a></li>
<li>Administration (SOAP 1.1, admin token): <code>POST /soap/admin</code>, WSDL <a href="soap/admin?wsdl">/soap/admin?wsdl</a></li>
<li>MNET usage statistics (XML-RPC, signed and sealed): <code>POST /mnet/xmlrpc/server.php</code> (or <code>/xmlrpc</code>), our certificate <a href="mnet/publickey.php">/mnet/publickey.php</a></li>
<li>Health (JSON, 503 when the database is unreachable or behind): <a href="health">/health</a></li>
<li>ETL extraction (REST, Moodle style, etl token): <code>GET|POST /webservice/rest/server.php?wsfunction=report_etl_get</code></li>
<li>Administrator's console (a browser, site admins): <a href="admin/">/admin/</a></li>
</ul></body></html>
""".encode()
    return send(start_response, "200 OK", "text/html; charset=utf-8", body)
