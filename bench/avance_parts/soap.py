"""The obtener_avance_usuarios requests bench/avance.py sends, over HTTP or as a WSGI environ."""

import http.client
import io
import sys
from typing import Any
from xml.sax.saxutils import escape

from aula_ws.soap.namespaces import AULA, SOAP11_ENV

SOAP_HEADERS = {
    "Content-Type": "text/xml; charset=utf-8",
    "SOAPAction": '"obtener_avance_usuarios"',
}


def progress_request(group_id: int, **parameters: str) -> bytes:
    fields = "".join(f"<aula:{name}>{escape(value)}</aula:{name}>" for name, value in parameters.items())
    return (
        f'<soapenv:Envelope xmlns:soapenv="{SOAP11_ENV}" xmlns:aula="{AULA}"><soapenv:Body>'
        f"<aula:obtener_avance_usuarios><aula:id_grupo>{group_id}</aula:id_grupo>{fields}"
        "</aula:obtener_avance_usuarios></soapenv:Body></soapenv:Envelope>"
    ).encode()


def post(connection: http.client.HTTPConnection, body: bytes) -> tuple[int, bytes]:
    connection.request("POST", "/soap", body, SOAP_HEADERS)
    response = connection.getresponse()
    return response.status, response.read()


def wsgi_environ(body: bytes) -> dict[str, Any]:
    return {
        "REQUEST_METHOD": "POST",
        "PATH_INFO": "/soap",
        "QUERY_STRING": "",
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "80",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "HTTP_HOST": "127.0.0.1",
        "CONTENT_TYPE": SOAP_HEADERS["Content-Type"],
        "CONTENT_LENGTH": str(len(body)),
        "HTTP_SOAPACTION": SOAP_HEADERS["SOAPAction"],
        "wsgi.input": io.BytesIO(body),
        "wsgi.errors": sys.stderr,
        "wsgi.url_scheme": "http",
        "wsgi.version": (1, 0),
        "wsgi.multithread": True,
        "wsgi.multiprocess": False,
        "wsgi.run_once": False,
    }
