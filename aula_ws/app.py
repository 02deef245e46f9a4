"""create_app(settings) -> the WSGI application serving every endpoint.

Every endpoint that reads a body gets it through `limit_body`: at most its
setting's bytes, counted whatever the framing (Content-Length, or a chunked
body that gunicorn passes on as is), and anything larger is answered by that
endpoint's own "too large" answer (a SOAP fault, an XML-RPC fault, a Moodle
error) without being read further.
"""

import io
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import partial
from html import escape
from typing import Any
from urllib.parse import parse_qs
from xml.sax.saxutils import escape as xml_escape

from spyne import Application
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
from aula_ws.soap.wsdl import PublishedWsdl, request_base_url
from aula_ws.store.database import create_database_engine, require_current_schema
from aula_ws.rpc import codec
from aula_ws.rpc.server import create_publickey_app, create_rpc_app

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]
TooLarge = Callable[[dict[str, Any], Callable[..., Any], int], Iterable[bytes]]

# set by a server that refused the body itself (aula_ws/serving.py): answer "too large"
BODY_TOO_LARGE = "aula_ws.body_too_large"


@dataclass(frozen=True)
class Endpoint:
    app: WsgiApp
    max_body: int | None = None  # bytes; None: the endpoint reads no body
    too_large: TooLarge | None = None


class AulaApplication:
    """Every endpoint on one WSGI callable, routed by path."""

    def __init__(self, routes: dict[str, Endpoint]):
        self.routes = routes

    def endpoint(self, path: str) -> Endpoint | None:
        return self.routes.get(path.rstrip("/") or "/")

    def body_limit(self, path: str) -> int | None:
        """The body limit of the endpoint at `path` (None: it reads no body)."""
        endpoint = self.endpoint(path)
        return endpoint.max_body if endpoint else None

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "") or "/"
        endpoint = self.endpoint(path)
        if environ.get(BODY_TOO_LARGE):
            if endpoint is None or endpoint.too_large is None or endpoint.max_body is None:
                return _plain(start_response, "413 Request Entity Too Large", "The request body is too large\n")
            return endpoint.too_large(environ, start_response, endpoint.max_body)
        if endpoint is None:
            return _plain(start_response, "404 Not Found", f"No endpoint at {path}\n")
        return endpoint.app(environ, start_response)


def create_app(settings: Settings, engine: Engine | None = None) -> AulaApplication:
    """All endpoints on one WSGI callable. Refuses an outdated schema (SchemaOutdated)."""
    engine = engine or create_database_engine(settings.database_url)
    require_current_schema(engine)
    quiet_spyne_logging()
    contract = ContractApplication(partial(obtener_avance_usuarios, engine, settings.timezone))
    admin = AdminApplication(engine, settings)
    mnet = Endpoint(limit_body(create_rpc_app(settings, engine), settings.rpc_max_body, _xmlrpc_too_large),
                    settings.rpc_max_body, _xmlrpc_too_large)
    rest = Endpoint(limit_body(etl_endpoint(engine, settings), settings.rest_max_body, _rest_too_large),
                    settings.rest_max_body, _rest_too_large)
    return AulaApplication({
        "/": Endpoint(_index_page),
        "/soap": soap_endpoint(contract, "contract", settings.contract_max_body, settings.public_url),
        "/soap/admin": soap_endpoint(admin, "admin", settings.admin_max_body, settings.public_url),
        **dict.fromkeys(("/mnet/xmlrpc/server.php", "/xmlrpc"), mnet),
        "/mnet/publickey.php": Endpoint(create_publickey_app(settings, engine)),
        **dict.fromkeys(("/webservice/rest/server.php", "/service/rest/server.php"), rest),
    })


def from_environment() -> AulaApplication:
    """Factory for WSGI servers: `gunicorn 'aula_ws.app:from_environment()'`."""
    return create_app(Settings.from_environment())


def soap_endpoint(application: Application, name: str, max_body: int, public_url: str | None) -> Endpoint:
    """A Spyne application behind the body limit; `?wsdl` answered by us (see soap/wsdl.py)."""
    # Spyne's own cap (2 MiB by default, answered as 500 Client.RequestTooLong) must never
    # undercut ours: the body it sees is already limited
    spyne_app = WsgiApplication(application, max_content_length=max_body)
    wsdl = PublishedWsdl(name)

    def endpoint(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if environ.get("REQUEST_METHOD") == "GET" and _asks_wsdl(environ.get("QUERY_STRING", "")):
            body = wsdl.document(public_url or request_base_url(environ))
            start_response("200 OK", [("Content-Type", "text/xml; charset=utf-8"), ("Content-Length", str(len(body)))])
            return [body]
        return spyne_app(environ, start_response)  # type: ignore[no-any-return]

    return Endpoint(limit_body(endpoint, max_body, _soap_too_large), max_body, _soap_too_large)


def _asks_wsdl(query: str) -> bool:
    return query.split("=", 1)[0].split("&", 1)[0].lower() == "wsdl"


def limit_body(endpoint: WsgiApp, max_bytes: int, too_large: TooLarge) -> WsgiApp:
    """Pass POST bodies of at most `max_bytes` on, whole and with their Content-Length;
    answer larger ones with `too_large`, unread past the limit."""

    def limited(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if environ.get("REQUEST_METHOD") != "POST":
            return endpoint(environ, start_response)
        declared = environ.get("CONTENT_LENGTH") or ""
        if declared.isdigit():
            if int(declared) > max_bytes:
                return too_large(environ, start_response, max_bytes)
            body = _read(environ["wsgi.input"], int(declared))
        else:  # no length: a chunked body (gunicorn passes it as is), read to its end
            body = _read(environ["wsgi.input"], max_bytes + 1)
            if len(body) > max_bytes:
                return too_large(environ, start_response, max_bytes)
        environ["wsgi.input"] = io.BytesIO(body)
        environ["CONTENT_LENGTH"] = str(len(body))
        return endpoint(environ, start_response)

    return limited


def _read(stream: Any, size: int) -> bytes:
    """Up to `size` bytes: a WSGI input may return fewer than asked before its end."""
    parts, left = [], size
    while left > 0:
        part = stream.read(min(left, 1 << 20))
        if not part:
            break
        parts.append(part)
        left -= len(part)
    return b"".join(parts)


def _soap_too_large(environ: dict[str, Any], start_response: Callable[..., Any], max_bytes: int) -> Iterable[bytes]:
    body = envelopes.fault(
        "Client.RequestTooLarge",
        "Client.RequestTooLarge",
        "Client.RequestTooLarge",
        f"The request body is larger than the {max_bytes} bytes this endpoint accepts",
    )
    return _send(start_response, "413 Request Entity Too Large", "text/xml; charset=utf-8", body)


def _xmlrpc_too_large(environ: dict[str, Any], start_response: Callable[..., Any], max_bytes: int) -> Iterable[bytes]:
    body = codec.fault(413, f"The request body is larger than the {max_bytes} bytes accepted.")
    return _send(start_response, "413 Request Entity Too Large", "text/xml; charset=utf-8", body)


def _rest_too_large(environ: dict[str, Any], start_response: Callable[..., Any], max_bytes: int) -> Iterable[bytes]:
    """Moodle's error shape, in the format the query string asks for (the body is not read)."""
    message = f"The request is larger than {max_bytes} bytes"
    query = parse_qs(environ.get("QUERY_STRING", ""))
    if query.get("moodlewsrestformat", [""])[-1] == "xml":
        body = (
            '<?xml version="1.0" encoding="UTF-8" ?>\n<EXCEPTION class="invalid_parameter_exception">\n'
            f"<ERRORCODE>invalidparameter</ERRORCODE>\n<MESSAGE>{xml_escape(message)}</MESSAGE>\n</EXCEPTION>\n"
        ).encode()
        return _send(start_response, "413 Request Entity Too Large", "application/xml; charset=utf-8", body)
    error = {"exception": "invalid_parameter_exception", "errorcode": "invalidparameter", "message": message}
    return _send(start_response, "413 Request Entity Too Large", "application/json; charset=utf-8",
                 json.dumps(error).encode())


def _send(start_response: Callable[..., Any], status: str, content_type: str, body: bytes) -> Iterable[bytes]:
    start_response(status, [("Content-Type", content_type), ("Content-Length", str(len(body)))])
    return [body]


def _plain(start_response: Callable[..., Any], status: str, text: str) -> Iterable[bytes]:
    return _send(start_response, status, "text/plain; charset=utf-8", text.encode())


def _index_page(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
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
<li>ETL extraction (REST, Moodle style, etl token): <code>GET|POST /webservice/rest/server.php?wsfunction=report_etl_get</code></li>
</ul></body></html>
""".encode()
    return _send(start_response, "200 OK", "text/html; charset=utf-8", body)
