"""The WSDL documents as the server publishes them (checked in under wsdl/)."""

from lxml import etree
from spyne import Application
from spyne.interface.wsdl import Wsdl11
from spyne.server.wsgi import WsgiApplication

from aula_ws.soap.admin import AdminApplication
from aula_ws.soap.contract import ContractApplication

ENDPOINTS = {
    "contract": ("/soap", lambda: ContractApplication(read_progress=None)),  # type: ignore[arg-type]
    "admin": ("/soap/admin", lambda: AdminApplication(engine=None, settings=None)),  # type: ignore[arg-type]
}


def wsdl_document(endpoint: str, base_url: str) -> str:
    """The WSDL of `endpoint` ("contract" or "admin") with its address under `base_url`."""
    path, build = ENDPOINTS[endpoint]
    application: Application = build()
    WsgiApplication(application)  # sets the HTTP transport the binding declares
    document = Wsdl11(application.interface)
    document.build_interface_document(base_url.rstrip("/") + path)
    tree = etree.fromstring(document.get_interface_document())
    return etree.tostring(tree, pretty_print=True, encoding="unicode")
