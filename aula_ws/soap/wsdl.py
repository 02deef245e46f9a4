"""The WSDL documents as Spyne writes them (checked in under wsdl/)."""

from lxml import etree
from spyne.interface.wsdl import Wsdl11

from aula_ws.soap.contract import ContractApplication


def contract_wsdl(url: str) -> str:
    document = Wsdl11(ContractApplication(read_progress=None).interface)  # type: ignore[arg-type]
    document.build_interface_document(url)
    tree = etree.fromstring(document.get_interface_document())
    return etree.tostring(tree, pretty_print=True, encoding="unicode")
