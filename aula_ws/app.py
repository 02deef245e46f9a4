"""create_app(settings) -> the WSGI application serving every endpoint."""

import io
from collections.abc import Callable, Iterable
from functools import partial
from html import escape
from typing import Any

from spyne.server.wsgi import WsgiApplication
from sqlalchemy import Engine

from aula_ws import __version__
from aula_ws.config import Settings
from aula_ws.rest.etl import etl_endpoint
from aula_ws.services.progress import obtener_avance_usuarios
from aula_ws.soap import envelopes
from aula_ws.soap.admin import AdminApplication
from aula_ws.soap.contract import ContractApplication
from aula_ws.soap.protocol import quiet_spyne_logging
from aula_ws.store.database import create_database_engine, require_current_schema
from rpc.server import create_publickey_app, create_rpc_app

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


def create_app(settings: Settings, engine: Engine | None = None) -> WsgiApp:
    """All endpoints on one WSGI callable. Refuses an outdated schema (SchemaOutdated)."""
    engine = engine or create_database_engine(settings.database_url)
    require_current_schema(engine)
    quiet_spyne_logging()
    contract = WsgiApplication(
        ContractApplication(partial(obtener_avance_usuarios, engine, settings.timezone))
    )
    routes: dict[str, WsgiApp] = {
        "/": _index_page,
        "/soap": limit_body(contract, settings.contract_max_body),
        "/soap/admin": limit_body(
            WsgiApplication(AdminApplication(engine, settings)), settings.admin_max_body
        ),
        **dict.fromkeys(("/mnet/xmlrpc/server.php", "/xmlrpc"), create_rpc_app(settings, engine)),
        "/mnet/publickey.php": create_publickey_app(settings, engine),
        **dict.fromkeys(("/webservice/rest/server.php", "/service/rest/server.php"), etl_endpoint(engine, settings)),
        # further endpoints (admin SOAP, MNET XML-RPC, ETL REST) register here, one line each
    }

    def application(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "") or "/"
        endpoint = routes.get(path.rstrip("/") or "/")
        if endpoint is None:
            return _plain(start_response, "404 Not Found", f"No endpoint at {path}\n")
        return endpoint(environ, start_response)

    return application


def from_environment() -> WsgiApp:
    """Factory for WSGI servers: `gunicorn 'aula_ws.app:from_environment()'`."""
    return create_app(Settings.from_environment())


def limit_body(endpoint: WsgiApp, max_bytes: int) -> WsgiApp:
    """Refuse request bodies over `max_bytes` with a SOAP Client fault, unread."""

    def limited(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if environ.get("REQUEST_METHOD") != "POST":
            return endpoint(environ, start_response)
        declared = environ.get("CONTENT_LENGTH") or ""
        if declared.isdigit() and int(declared) > max_bytes:
            return _too_large(start_response, max_bytes)
        body = environ["wsgi.input"].read(int(declared) if declared.isdigit() else max_bytes + 1)
        if len(body) > max_bytes:
            return _too_large(start_response, max_bytes)
        environ["wsgi.input"] = io.BytesIO(body)
        environ["CONTENT_LENGTH"] = str(len(body))
        return endpoint(environ, start_response)

    return limited


def _too_large(start_response: Callable[..., Any], max_bytes: int) -> Iterable[bytes]:
    body = envelopes.fault(
        "Client.RequestTooLarge",
        "Client.RequestTooLarge",
        "Client.RequestTooLarge",
        f"The request body is larger than the {max_bytes} bytes this endpoint accepts",
    )
    start_response(
        "413 Request Entity Too Large",
        [("Content-Type", "text/xml; charset=utf-8"), ("Content-Length", str(len(body)))],
    )
    return [body]


def _plain(start_response: Callable[..., Any], status: str, text: str) -> Iterable[bytes]:
    body = text.encode()
    start_response(status, [("Content-Type", "text/plain; charset=utf-8"), ("Content-Length", str(len(body)))])
    return [body]


def _index_page(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    body = f"""<!DOCTYPE html>
<html lang="es"><head><meta charset="utf-8"><title>aula-ws {escape(__version__)}</title></head>
<body><h1>aula-ws {escape(__version__)}</h1>
<p>Avance de los usuarios y estadísticas de uso / learners' progress and usage statistics.</p>
<ul>
<li>Educativa Aula contract (SOAP 1.1): <code>POST /soap</code>, WSDL <a href="/soap?wsdl">/soap?wsdl</a></li>
<li>Administration (SOAP 1.1, admin token): <code>POST /soap/admin</code>, WSDL <a href="/soap/admin?wsdl">/soap/admin?wsdl</a></li>
<li>MNET usage statistics (XML-RPC, signed and sealed): <code>POST /mnet/xmlrpc/server.php</code> (or <code>/xmlrpc</code>), our certificate <a href="/mnet/publickey.php">/mnet/publickey.php</a></li>
<li>ETL extraction (REST, Moodle style, etl token): <code>GET|POST /webservice/rest/server.php?wsfunction=report_etl_get</code></li>
</ul></body></html>
""".encode()
    start_response("200 OK", [("Content-Type", "text/html; charset=utf-8"), ("Content-Length", str(len(body)))])
    return [body]
