"""Soap11 as aula-ws speaks it: our own reading, lenient parameters, faults the contract's way.

- The request is read by `reading.read_document` (charset, limits, no DOCTYPE,
  no entity ever expanded or fetched) instead of Spyne's parser; SOAP-encoding
  `href` references are not resolved (document/literal has none).
- An application may `admit` a request once its operation is known and before
  Spyne deserialises the body (the admin endpoint checks its token there).
- The lenient types an application names when it builds its protocol
  (`AulaSoap11(lenient=...)`) keep their WSDL type (xs:int, xs:date,
  xs:boolean) but reach the service as the text the client sent, so `abc` or
  `2014 11 05` get the contract's own faults, never a schema fault.
- Every fault is written by `faults.fault_envelope`; an answer that cannot be
  written (text XML 1.0 cannot carry) becomes a Server fault, never an
  envelope without its Body.
- A method whose service returns `envelopes`-ready rows is written as text.
"""

import base64
import binascii
import logging
from collections.abc import Callable, Iterable
from typing import Any

from spyne import Boolean, ByteArray, Fault
from spyne.const.http import HTTP_405, HTTP_500
from spyne.protocol.soap import Soap11
from spyne.server.http import HttpTransportContext

from aula_ws.errors import InvalidRequest
from aula_ws.soap.faults import RequestRefused, fault_envelope, server_fault
from aula_ws.soap.namespaces import SOAP11_ENV
from aula_ws.soap.reading import XmlLimits, read_document

log = logging.getLogger(__name__)

_XML_SPACE = " \t\r\n"


def required(spyne_type: type) -> Any:  # Any: spyne is untyped
    """`spyne_type` as a required, non-nillable element: generated clients get plain fields."""
    return spyne_type(min_occurs=1, nillable=False)


def xs_boolean(raw: str | None, name: str, default: bool) -> bool:
    """A lenient xs:boolean parameter: exactly `true`, `false`, `1` or `0` after the white
    space collapse XML Schema applies; absent, empty or blank means `default`."""
    text = (raw or "").strip(_XML_SPACE)
    if not text:
        return default
    if text in ("true", "1"):
        return True
    if text in ("false", "0"):
        return False
    shown = text if len(text) <= 40 else text[:40] + "…"
    raise InvalidRequest(f"{name} must be an xs:boolean (true, false, 1 or 0), not {shown!r}")


def xs_base64(raw: str | None, name: str) -> bytes:
    """A lenient xs:base64Binary parameter (white space allowed, as in MIME line breaks)."""
    text = "".join((raw or "").split())
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise InvalidRequest(f"{name} is not base64 (xs:base64Binary)") from None


# the admin flags and uploads, read by xs_boolean and xs_base64 (lenient: see AulaSoap11)
Flag = Boolean(min_occurs=0)
Upload = required(ByteArray)

Admission = Callable[[object], None]  # raises a Fault to refuse the request (a MethodContext)


class AulaSoap11(Soap11):  # type: ignore[misc]
    def __init__(
        self,
        text_writers: dict[str, object] | None = None,
        limits: XmlLimits = XmlLimits(),
        admit: Admission | None = None,
        lenient: Iterable[type] = (),
    ):
        """`lenient`: the types whose values reach the service as the text the client sent."""
        super().__init__(validator=None)
        self.text_writers = text_writers or {}
        self.limits = limits
        self.admit = admit
        self.lenient = frozenset(lenient)

    def from_unicode(self, class_, string, *args, **kwargs):  # type: ignore[no-untyped-def]
        if class_ not in self.lenient or string is None:
            return super().from_unicode(class_, string, *args, **kwargs)
        if not string and self.get_cls_attrs(class_).empty_is_none:  # as Spyne does before any type's reader
            return None
        return string

    def create_in_document(self, ctx, charset=None):  # type: ignore[no-untyped-def]
        if isinstance(ctx.transport, HttpTransportContext) and (
            ctx.transport.get_request_method() != "POST" or not ctx.transport.get_request_content_type()
        ):
            ctx.transport.resp_code = HTTP_405
            raise RequestRefused(
                "Client.RequestNotAllowed",
                "POST a SOAP envelope with a Content-Type (text/xml; charset=utf-8); the WSDL is at ?wsdl",
            )
        body = b"".join(ctx.in_string)
        ctx.in_document = (read_document(body, charset, self.limits), {})  # no xmlids: no hrefs

    def decompose_incoming_envelope(self, ctx, message):  # type: ignore[no-untyped-def]
        root = ctx.in_document[0]
        if root.tag != f"{{{SOAP11_ENV}}}Envelope":
            raise RequestRefused("Client.SoapError", f"The root element must be a SOAP 1.1 Envelope ({SOAP11_ENV})")
        body = root.find(f"{{{SOAP11_ENV}}}Body")
        if body is None or len(body) == 0:
            raise RequestRefused("Client.EmptyBody", "The SOAP Body must hold the operation's element")
        super().decompose_incoming_envelope(ctx, message)

    def generate_method_contexts(self, ctx):  # type: ignore[no-untyped-def]
        contexts = super().generate_method_contexts(ctx)
        if self.admit is not None:
            self.admit(contexts[0])
        return contexts

    def deserialize(self, ctx, message):  # type: ignore[no-untyped-def]
        try:
            super().deserialize(ctx, message)
        except Fault:
            raise
        except (ValueError, TypeError) as error:  # a value Spyne's types could not read
            raise RequestRefused("Client.InvalidValue", f"A parameter could not be read: {error}") from None

    def serialize(self, ctx, message):  # type: ignore[no-untyped-def]
        if ctx.out_error is not None:
            ctx.out_string = [fault_envelope(ctx.out_error)]
            return None
        try:
            writer = self.text_writers.get(ctx.descriptor.name)
            if writer is None:
                super().serialize(ctx, message)
                super().create_out_string(ctx)
            else:
                ctx.out_string = [writer(ctx.out_object[0])]  # type: ignore[operator]
        except Exception:
            log.exception("the answer of %s could not be written", ctx.descriptor.name)
            ctx.out_error = Fault("Server", "the answer could not be written")
            ctx.out_document = None
            ctx.out_string = [server_fault()]
            ctx.transport.resp_code = HTTP_500
        return None

    def create_out_string(self, ctx, charset=None):  # type: ignore[no-untyped-def]
        if ctx.out_string is None:
            super().create_out_string(ctx, charset)


def quiet_spyne_logging() -> None:
    """Spyne logs every client fault with a traceback and every malformed body in
    full; client mistakes are answered, not logged. Server errors stay logged
    (by Spyne's application logger and by `serialize` above)."""
    logging.getLogger("spyne").setLevel(logging.WARNING)
    # unexpected exceptions in a method: logged, with their traceback
    logging.getLogger("spyne.application.server").setLevel(logging.WARNING)
    for name in (
        "spyne.application",  # a deliberate Server.<Cause> fault: logged in one line where raised
        "spyne.application.client",
        "spyne.protocol.soap.soap11.invalid",
        "spyne.protocol.xml.invalid",
        "spyne.server._base",  # logs every Fault of deserialisation with a traceback
        "spyne.util.coopmt",  # logs a failed answer before `serialize` above handles it
    ):
        logging.getLogger(name).setLevel(logging.CRITICAL)
