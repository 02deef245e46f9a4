"""How a SOAP request body becomes an lxml tree, before Spyne sees it.

Spyne's own reading is quadratic in odd places (143,000 attributes on one
element: 94 s of CPU in its deserialiser, 6 ms in lxml) and lets decoding
errors escape as bare exceptions. So the body is read here, once:

- the charset: the Content-Type's `charset`, else a UTF-16 byte-order mark,
  else UTF-8. UTF-8 and UTF-16 only (the two every SOAP stack must accept,
  WS-I Basic Profile R1012); the bytes must be valid in it.
- the document: lxml's iterparse, so the limits below stop the parse at the
  first element past one instead of after the whole body. No DTD is loaded,
  no entity resolved or fetched, comments and processing instructions dropped.
- a DOCTYPE is refused (SOAP 1.1 section 3 forbids it).

Every refusal is a `RequestRefused` (a Client fault naming the problem).
"""

import codecs
import io
from dataclasses import dataclass
from typing import Any

from lxml import etree

from aula_ws.soap.faults import RequestRefused

_CHARSETS = {
    "utf-8": "utf-8",
    "utf8": "utf-8",
    "us-ascii": "utf-8",
    "ascii": "utf-8",
    "utf-16": "utf-16",
    "utf-16le": "utf-16-le",
    "utf-16be": "utf-16-be",
}

_BOMS = (
    (codecs.BOM_UTF32_LE, "UTF-32"),
    (codecs.BOM_UTF32_BE, "UTF-32"),
    (codecs.BOM_UTF16_LE, "UTF-16"),
    (codecs.BOM_UTF16_BE, "UTF-16"),
)


@dataclass(frozen=True)
class XmlLimits:
    """What one request may hold. A request of the operations we publish needs
    depth 5, a dozen elements, no attributes beyond `xsi:nil`/`xsi:type`."""

    max_depth: int = 20
    max_elements: int = 1_000
    max_attributes: int = 32  # per element
    max_namespaces: int = 100  # namespace declarations in the whole document
    max_text: int | None = 64 * 1024  # characters of one element's text; None: the body limit only

    def refusal(self, what: str, limit: int) -> RequestRefused:
        return RequestRefused("Client.RequestTooComplex", f"The request has {what} (at most {limit})")


def charset_of(declared: str | None, body: bytes) -> str:
    """The Python codec to read `body` with (see the module docstring)."""
    if declared:
        name = declared.strip().strip('"').lower()
        if name not in _CHARSETS:
            raise RequestRefused(
                "Client.UnsupportedCharset",
                f"The charset {name[:40]!r} is not accepted: send UTF-8 (or UTF-16)",
            )
        charset = _CHARSETS[name]
        if charset == "utf-16" and not body.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
            charset = "utf-16-be"  # RFC 2781: no byte-order mark means big-endian
        return charset
    if body.startswith((codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE)):  # before UTF-16: same first bytes
        raise RequestRefused("Client.UnsupportedCharset", "The body is UTF-32: send UTF-8 (or UTF-16)")
    if body.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    return "utf-8"


# How every SOAP request is parsed: UTF-8 (decoded and checked before; a declaration cannot
# override it), no entity resolved, no DTD or network loaded, comments and PIs dropped
HARDENED: dict[str, Any] = {
    "encoding": "utf-8",
    "resolve_entities": False,
    "load_dtd": False,
    "no_network": True,
    "remove_comments": True,
    "remove_pis": True,
}


def read_document(body: bytes, charset: str | None, limits: XmlLimits) -> etree._Element:
    """The request's root element, read under `limits`."""
    if not body.strip():
        raise RequestRefused("Client.EmptyRequest", "The request body is empty: POST a SOAP envelope")
    codec = charset_of(charset, body)
    try:
        text = body.decode(codec)
    except UnicodeDecodeError as error:
        bom = next((name for mark, name in _BOMS if body.startswith(mark)), None)
        looks = f" (it starts with a {bom} byte-order mark)" if bom and bom != codec.upper() else ""
        raise RequestRefused(
            "Client.InvalidEncoding",
            f"The body is not valid {codec.upper()}{looks}: byte {error.start} "
            f"({body[error.start : error.start + 1]!r})",
        ) from None
    if codec != "utf-8":
        body = text.encode("utf-8")
    try:
        return _parse(body.removeprefix(codecs.BOM_UTF8), limits)
    except etree.XMLSyntaxError as error:
        raise RequestRefused("Client.XMLSyntaxError", str(error)) from None


def _parse(body: bytes, limits: XmlLimits) -> etree._Element:
    events = etree.iterparse(
        io.BytesIO(body),
        events=("start", "end", "start-ns"),
        **HARDENED,
        dtd_validation=False,
        # libxml2's own caps (10 MB of text, depth 256) would refuse an admin upload:
        # the limits below are tighter everywhere except the text of one element
        huge_tree=limits.max_text is None,
    )
    depth = elements = namespaces = 0
    root: etree._Element | None = None
    for event, item in events:
        if event == "start-ns":
            namespaces += 1
            if namespaces > limits.max_namespaces:
                raise limits.refusal("too many namespace declarations", limits.max_namespaces)
        elif event == "start":
            if root is None:
                root = item
                if item.getroottree().docinfo.doctype:
                    raise RequestRefused("Client.DoctypeForbidden", "A SOAP message must not contain a DOCTYPE")
            depth += 1
            elements += 1
            if depth > limits.max_depth:
                raise limits.refusal("elements nested too deep", limits.max_depth)
            if elements > limits.max_elements:
                raise limits.refusal("too many elements", limits.max_elements)
            if len(item.attrib) > limits.max_attributes:
                raise limits.refusal("too many attributes on one element", limits.max_attributes)
        else:
            depth -= 1
            if limits.max_text is not None and item.text is not None and len(item.text) > limits.max_text:
                raise limits.refusal("an element whose text is too long", limits.max_text)
    assert root is not None  # iterparse raises XMLSyntaxError on a document without one
    return root
