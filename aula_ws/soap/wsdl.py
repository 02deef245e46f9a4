"""The WSDL documents as the server publishes them (checked in under wsdl/)."""

from lxml import etree
from spyne.interface.wsdl import Wsdl11
from spyne.server.wsgi import WsgiApplication

from aula_ws.soap.contract import ContractApplication


def contract_wsdl(url: str) -> str:
    application = ContractApplication(read_progress=None)  # type: ignore[arg-type]
    WsgiApplication(application)  # sets the HTTP transport the binding declares
    document = Wsdl11(application.interface)
    document.build_interface_document(url)
    tree = etree.fromstring(document.get_interface_document())
    return etree.tostring(tree, pretty_print=True, encoding="unicode")
