"""SOAP 1.1 envelopes written as text.

The answer of obtener_avance_usuarios is written as the contract shows it: the
response element declares `urn:Educativa/Aula/` as its default namespace and
its children carry no prefix (legacy scripts match these strings). Writing it
as text is also ~10x cheaper than Spyne's object walk for large groups.
"""

import re
from collections.abc import Iterable, Sequence
from typing import Any
from xml.sax.saxutils import escape

from aula_ws.soap.namespaces import AULA, SOAP11_ENV

_OPEN = f"<?xml version='1.0' encoding='UTF-8'?>\n<soap11env:Envelope xmlns:soap11env=\"{SOAP11_ENV}\"><soap11env:Body>"
_CLOSE = "</soap11env:Body></soap11env:Envelope>"
# characters XML 1.0 cannot carry (section 2.2), even as character references
NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def progress_response(rows: Iterable[Sequence[Any]], free_text: Iterable[str]) -> bytes:
    """The whole answer, from rows of (administrador_grupo, estado, id_grupo, perfil, fecha_alta
    as YYYY-MM-DD text, responsable_grupo, avance, login), flags as bool or 0/1, iterated once.

    `free_text` holds the perfils and logins (joined or one by one): the only values not written
    from numbers, flags and dates, so the only ones checked for characters XML cannot carry (a
    scan of them is cheaper than one of the whole answer).
    """
    text_of = ("false", "true")
    parts = [_OPEN, f'<obtener_avance_usuarios_response xmlns="{AULA}">']
    parts.extend(
        f"<usuarios><administrador_grupo>{text_of[administrador]}</administrador_grupo>"
        f"<estado>{text_of[estado]}</estado><id_grupo>{id_grupo}</id_grupo>"
        f"<perfil>{escape(perfil) if '&' in perfil or '<' in perfil or '>' in perfil else perfil}</perfil>"
        f"<fecha_alta>{fecha_alta}</fecha_alta>"
        f"<responsable_grupo>{text_of[responsable]}</responsable_grupo><avance>{avance}</avance>"
        f"<id_usuario>{escape(login) if '&' in login or '<' in login or '>' in login else login}</id_usuario>"
        "</usuarios>"
        for administrador, estado, id_grupo, perfil, fecha_alta, responsable, avance, login in rows
    )
    parts.append("</obtener_avance_usuarios_response>")
    parts.append(_CLOSE)
    if any(NOT_XML.search(text) for text in free_text):
        raise ValueError("a value of the answer has a character XML 1.0 cannot carry")
    return "".join(parts).encode("utf-8")


def fault(code: str, faultstring: str, error_code: str, error_string: str) -> bytes:
    """A SOAP 1.1 Fault; `code` (`Client`, `Server`, or dotted as `Client.Authentication`)
    is written as a QName in the envelope's namespace.

    The detail mirrors how Educativa reports errors in its batch operations. A character
    XML 1.0 cannot carry (a message quoting a client's bytes) is written as U+FFFD.
    """
    faultstring, error_string = _xml_safe(faultstring), _xml_safe(error_string)
    return (
        f"{_OPEN}<soap11env:Fault><faultcode>soap11env:{code}</faultcode>"
        f"<faultstring>{escape(faultstring)}</faultstring>"
        f'<detail><error xmlns="{AULA}"><error_code>{escape(error_code)}</error_code>'
        f"<error_string>{escape(error_string)}</error_string></error></detail>"
        f"</soap11env:Fault>{_CLOSE}"
    ).encode()


def _xml_safe(text: str) -> str:
    return NOT_XML.sub("\ufffd", text)
