"""The one-user obtener_avance_usuarios call, answered without Spyne's dispatch.

Spyne's context, deserialiser and event machinery cost ~0.3 ms of a ~0.45 ms one-user call
(the query and the answer ~0.13 ms): most of what a client waits for. The shortcut reads only
the plain shape such a request has (the envelope, an optional empty Header, the operation, its
five parameters at most, each once, as text; no attributes, entities, comments, CDATA or
DOCTYPE; UTF-8; small) with id_usuario given, and answers it with the same service and the same
writer (`contract.write_answer`) as the Spyne method, or the contract's fault as
`faults.fault_envelope` writes it. Any other request, and any failure that is not the
contract's, is left to Spyne (the call is a read: running it again there is harmless), so
every other answer and fault stays the endpoint's own. tests/integration/test_soap_shortcut.py
compares both paths on the same requests.
"""

import threading
from collections.abc import Callable, Iterable

from lxml import etree

from aula_ws.errors import ContractError
from aula_ws.services.progress import ProgressQuery, ProgressRows
from aula_ws.soap.contract import write_answer
from aula_ws.soap.faults import ContractFault, fault_envelope
from aula_ws.soap.namespaces import AULA, SOAP11_ENV
from aula_ws.soap.reading import HARDENED
from aula_ws.wsgi import Environ, StartResponse, send

Answer = Callable[[ProgressQuery], ProgressRows]  # the rows contract.write_answer writes

MAX_BODY = 4096  # bytes; a plain one-user request is ~350
PARAMETERS = {f"{{{AULA}}}{name}": name for name in ProgressQuery.__dataclass_fields__}
OPERATION = f"{{{AULA}}}obtener_avance_usuarios"
_ENVELOPE, _HEADER, _BODY = (f"{{{SOAP11_ENV}}}{name}" for name in ("Envelope", "Header", "Body"))
# what Spyne's WsgiApplication sends with every answer of this endpoint
_CONTENT_TYPE = "text/xml; charset=utf-8"
_CONTENT_TYPES = frozenset(("text/xml", "text/xml; charset=utf-8", "text/xml; charset=UTF-8"))
_XML_SPACE = " \t\r\n"
_parsers = threading.local()  # an lxml parser is not to be shared between threads


def one_user_shortcut(answer: Answer) -> Callable[[Environ, StartResponse, bytes], Iterable[bytes] | None]:
    """A WSGI answer for a plain one-user request (`body` is the whole request body), else None."""

    def shortcut(environ: Environ, start_response: StartResponse, body: bytes) -> Iterable[bytes] | None:
        query = plain_query(environ, body)
        if query is None:
            return None
        try:
            text = write_answer(answer(query))
        except ContractError as error:
            return send(
                start_response, "500 Internal Server Error", _CONTENT_TYPE, fault_envelope(ContractFault(error))
            )
        except Exception:  # not the contract's: Spyne answers it (and logs it) as it always has
            return None
        return send(start_response, "200 OK", _CONTENT_TYPE, text)

    return shortcut


def plain_query(environ: Environ, body: bytes) -> ProgressQuery | None:
    """The parameters of a plain one-user request, as the client sent them; None for any other."""
    if (
        environ.get("CONTENT_TYPE") not in _CONTENT_TYPES
        or environ.get("QUERY_STRING")
        or len(body) > MAX_BODY
        or not body.startswith(b"<")  # no byte-order mark
        or b"&" in body  # no entity or character reference
        or b"<!" in body  # no DOCTYPE, comment or CDATA
        or b"<?" in body[1:]  # no processing instruction past the XML declaration
    ):
        return None
    try:
        body.decode("utf-8")
        root = etree.fromstring(body, _parser())
    except (UnicodeDecodeError, etree.XMLSyntaxError):
        return None
    operation = _operation(root)
    if operation is None:
        return None
    given: dict[str, str | None] = {}
    for parameter in operation:
        name = PARAMETERS.get(parameter.tag)
        if name is None or name in given or parameter.attrib or len(parameter) or not _blank(parameter.tail):
            return None
        given[name] = parameter.text
    if not (given.get("id_usuario") or "").strip(_XML_SPACE):
        return None  # the whole group: Spyne's (and the whole-group path's) to answer
    return ProgressQuery(given.pop("id_grupo", None), **given)


def _operation(root: etree._Element) -> etree._Element | None:
    """The operation element of an Envelope holding [an empty Header and] a Body with it alone."""
    if root.tag != _ENVELOPE or not _bare(root) or not 1 <= len(root) <= 2:
        return None
    if len(root) == 2 and (root[0].tag != _HEADER or len(root[0]) or not _bare(root[0])):
        return None
    body = root[-1]
    if body.tag != _BODY or not _bare(body) or len(body) != 1:
        return None
    operation = body[0]
    if operation.tag != OPERATION or not _bare(operation) or not _blank(operation.tail):
        return None
    return operation


def _bare(element: etree._Element) -> bool:
    """No attributes, and only white space around its children."""
    return not element.attrib and _blank(element.text) and _blank(element.tail)


def _blank(text: str | None) -> bool:
    return text is None or not text.strip(_XML_SPACE)


def _parser() -> etree.XMLParser:
    parser = getattr(_parsers, "parser", None)
    if parser is None:  # as reading.read_document parses
        parser = _parsers.parser = etree.XMLParser(**HARDENED)
    return parser
