"""The WSDL documents as the server publishes them (checked in under wsdl/).

Spyne builds a WSDL once per process with the address of the first `?wsdl`
request's Host header and serves it to everybody after (one request with
`Host: evil:18432` and every client generated afterwards posts there). So the
server does not let Spyne answer `?wsdl`: `PublishedWsdl` builds the document
once with a placeholder address and writes each answer's address itself, from
`AULA_PUBLIC_URL` or else from that request's own Host (`request_base_url`).
"""

import inspect
import re
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import quote
from xml.sax.saxutils import quoteattr

from lxml import etree
from spyne import Application
from spyne.interface.wsdl import Wsdl11
from spyne.server.wsgi import WsgiApplication

from aula_ws.soap.admin import AdminApplication
from aula_ws.soap.contract import ContractApplication

ENDPOINTS: dict[str, tuple[str, Callable[[], Application]]] = {
    # the WSDL needs no services: the applications are built without them
    "contract": ("/soap", lambda: ContractApplication(services=None)),  # type: ignore[arg-type]
    "admin": ("/soap/admin", lambda: AdminApplication(services=None)),  # type: ignore[arg-type]
}
_PLACEHOLDER = "http://aula-ws.invalid"
# a Host header as RFC 9110 allows it: a name, IPv4 or [IPv6], an optional port
_HOST = re.compile(r"(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9._-]+)(:[0-9]{1,5})?")


def _built(endpoint: str, base_url: str) -> bytes:
    path, build = ENDPOINTS[endpoint]
    application: Application = build()
    WsgiApplication(application)  # sets the HTTP transport the binding declares
    document = Wsdl11(application.interface)
    document.build_interface_document(base_url.rstrip("/") + path)
    return _same_documentation(document.get_interface_document())


def _same_documentation(document: bytes) -> bytes:
    """The operations' documentation (their docstrings) as `inspect.cleandoc` gives it: Python
    3.13 strips docstrings' indentation when compiling, earlier ones keep it; one WSDL for all."""
    tree = etree.fromstring(document)
    for node in tree.iter("{http://schemas.xmlsoap.org/wsdl/}documentation"):
        if node.text:
            node.text = inspect.cleandoc(node.text)
    return etree.tostring(tree, xml_declaration=True, encoding="UTF-8")


def wsdl_document(endpoint: str, base_url: str) -> str:
    """The WSDL of `endpoint` ("contract" or "admin") with its address under `base_url`, pretty."""
    tree = etree.fromstring(_built(endpoint, base_url))
    return etree.tostring(tree, pretty_print=True, encoding="unicode")


class PublishedWsdl:
    """One endpoint's WSDL, its address written per answer."""

    def __init__(self, endpoint: str):
        self.path = ENDPOINTS[endpoint][0]
        marker = f'location="{_PLACEHOLDER}{self.path}"'.encode()
        document = _built(endpoint, _PLACEHOLDER)
        if marker not in document:  # Spyne changed how it writes soap:address
            raise RuntimeError(f"the {endpoint} WSDL does not hold its address")
        self._parts = document.split(marker)  # one soap:address per port (service class)

    def document(self, base_url: str) -> bytes:
        location = "location=" + quoteattr(base_url.rstrip("/") + self.path)
        return location.encode().join(self._parts)


def request_base_url(environ: Mapping[str, Any]) -> str:
    """The base URL this request reached us at: its scheme, its own Host (when well formed,
    else the server's name and port) and the WSGI mount point."""
    scheme = "https" if environ.get("wsgi.url_scheme") == "https" else "http"
    host = environ.get("HTTP_HOST", "")
    if not _HOST.fullmatch(host):
        port = str(environ.get("SERVER_PORT", ""))
        default = (scheme, port) in (("http", "80"), ("https", "443"))
        host = str(environ.get("SERVER_NAME", "localhost")) + ("" if default or not port else f":{port}")
    return f"{scheme}://{host}{quote(environ.get('SCRIPT_NAME', ''))}"
