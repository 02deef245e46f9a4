"""Soap11 as aula-ws speaks it: lenient parameters, no DOCTYPE, faults the contract's way.

- Parameters declared with `lenient(...)` keep their WSDL type (xs:int,
  xs:date) but reach the service as the text the client sent, so `abc` or
  `2014 11 05` get the contract's own faults, never a schema fault.
- A DOCTYPE is refused (SOAP 1.1 section 3 forbids it); entities are never
  expanded (Spyne's parser: resolve_entities=False, no_network=True).
- Every fault is written by `envelopes.fault`: faultcode `Client` (the
  contract's errors), `Client.<Cause>` (requests refused before or around a
  method: `Client.XMLSyntaxError`, `Client.Authentication`...) or `Server`, a
  QName in the envelope's namespace; Server faults carry a generic message only.
- A method whose service returns `envelopes`-ready rows is written as text.
"""

import logging

from spyne import Fault
from spyne.protocol.soap import Soap11

from aula_ws.errors import ContractError
from aula_ws.soap import envelopes

GENERIC_SERVER_ERROR = "Error interno del servidor; el detalle quedó en el registro del servicio"

_lenient_types: list[type] = []


def lenient(spyne_type):  # type: ignore[no-untyped-def]
    """`spyne_type` in the WSDL, the raw text on input."""
    _lenient_types.append(spyne_type)
    return spyne_type


def required(spyne_type):  # type: ignore[no-untyped-def]
    """`spyne_type` as a required, non-nillable element: generated clients get plain fields."""
    return spyne_type(min_occurs=1, nillable=False)


class ContractFault(Fault):  # type: ignore[misc]
    """A ContractError crossing Spyne; written by `envelopes.fault`."""

    def __init__(self, error: ContractError):
        super().__init__("Client", error.name)
        self.error = error


class RequestRefused(Fault):  # type: ignore[misc]
    """A request the SOAP layer refuses before any method runs."""

    def __init__(self, name: str, message: str):
        super().__init__(name, message)


class AulaSoap11(Soap11):  # type: ignore[misc]
    def __init__(self, text_writers: dict[str, object] | None = None):
        super().__init__(validator=None)
        for spyne_type in _lenient_types:
            self._from_unicode_handlers[spyne_type] = _raw_text
        self.text_writers = text_writers or {}

    def create_in_document(self, ctx, charset=None):  # type: ignore[no-untyped-def]
        super().create_in_document(ctx, charset)
        root = ctx.in_document[0]
        if root.getroottree().docinfo.doctype:
            raise RequestRefused(
                "Client.DoctypeForbidden", "A SOAP message must not contain a DOCTYPE"
            )

    def serialize(self, ctx, message):  # type: ignore[no-untyped-def]
        if ctx.out_error is not None:
            ctx.out_string = [_fault_envelope(ctx.out_error)]
            return None
        writer = self.text_writers.get(ctx.descriptor.name)
        if writer is None:
            return super().serialize(ctx, message)
        ctx.out_string = [writer(ctx.out_object[0])]  # type: ignore[operator]
        return None

    def create_out_string(self, ctx, charset=None):  # type: ignore[no-untyped-def]
        if ctx.out_string is None:
            super().create_out_string(ctx, charset)


def _raw_text(_cls, text):  # type: ignore[no-untyped-def]
    return text


def _fault_envelope(error: Fault) -> bytes:
    if isinstance(error, ContractFault):
        return envelopes.fault("Client", error.error.name, error.error.name, error.error.message)
    code = str(error.faultcode or "Server")
    if code == "Client" or code.startswith("Client."):
        return envelopes.fault(code, code, code, str(error.faultstring or code))
    return envelopes.fault("Server", "Server", "Server.InternalError", GENERIC_SERVER_ERROR)


def quiet_spyne_logging() -> None:
    """Spyne logs every client fault with a traceback and every malformed body in
    full; client mistakes are answered, not logged. Server errors stay logged."""
    logging.getLogger("spyne").setLevel(logging.WARNING)
    for name in (
        "spyne.application.client",
        "spyne.protocol.soap.soap11.invalid",
        "spyne.protocol.xml.invalid",
    ):
        logging.getLogger(name).setLevel(logging.CRITICAL)
