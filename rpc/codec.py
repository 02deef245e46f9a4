"""XML-RPC documents in and out: parsed through defusedxml (no DTD, no entity), marshalled by the stdlib."""

import re
import xmlrpc.client
from typing import Any
from xml.parsers.expat import ExpatError

from defusedxml.xmlrpc import DefusedExpatParser

from aula_ws.errors import MnetFault

# the xmlrpc-epi codes PHP's XML-RPC extension (so Moodle) answers with
PARSE_ERROR = -32700
UNSUPPORTED_ENCODING = -32701
INVALID_REQUEST = -32600
BAD_PARAMETERS = -32602
TRANSPORT_ERROR = -32300
NOT_A_CALL = MnetFault(INVALID_REQUEST, "server error. invalid xml-rpc. not conforming to spec. (not a methodCall)")
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def loads(data: bytes) -> tuple[tuple[Any, ...], str | None]:
    """(params, method name) of a methodCall, or the value of a methodResponse in a 1-tuple.
    A methodResponse fault raises xmlrpc.client.Fault; anything unreadable MnetFault(-32700)."""
    unmarshaller = xmlrpc.client.Unmarshaller(use_datetime=False, use_builtin_types=True)
    parser = DefusedExpatParser(unmarshaller, forbid_dtd=True)
    try:
        parser.feed(data)
        parser.close()
        return unmarshaller.close(), unmarshaller.getmethodname()
    except xmlrpc.client.Fault:
        raise
    except LookupError:  # an XML declaration naming an encoding Python does not know
        raise MnetFault(UNSUPPORTED_ENCODING, "parse error. unsupported encoding") from None
    except (ExpatError, ValueError, TypeError, KeyError, IndexError, xmlrpc.client.ResponseError):
        raise MnetFault(PARSE_ERROR, "parse error. not well formed") from None


def loads_call(data: bytes) -> tuple[tuple[Any, ...], str]:
    """(params, method name) of a methodCall; a methodResponse (a fault included) is not a call."""
    try:
        params, name = loads(data)
    except xmlrpc.client.Fault:
        raise NOT_A_CALL from None
    if name is None:
        raise NOT_A_CALL
    return params, name


def response(value: Any) -> bytes:
    return xmlrpc.client.dumps((value,), methodresponse=True, allow_none=False).encode()


def fault(code: int, text: str) -> bytes:
    return xmlrpc.client.dumps(xmlrpc.client.Fault(code, xml_text(text))).encode()


def call(method: str, params: tuple[Any, ...]) -> bytes:
    return xmlrpc.client.dumps(params, method).encode()


def xml_text(text: str) -> str:
    """`text` without the characters XML 1.0 cannot carry (control characters, lone surrogates)."""
    return _NOT_XML.sub("", text)
