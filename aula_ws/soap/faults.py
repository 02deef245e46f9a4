"""The faults aula-ws raises through Spyne, and how every fault is written.

Every fault is written by `envelopes.fault`: faultcode `Client` (the
contract's errors), `Client.<Cause>` (requests refused before or around a
method: `Client.XMLSyntaxError`, `Client.Authentication`...) or `Server`, a
QName in the envelope's namespace; Server faults carry a generic message only.
"""

from spyne import Fault

from aula_ws.errors import ContractError
from aula_ws.soap import envelopes

GENERIC_SERVER_ERROR = "Error interno del servidor; el detalle quedó en el registro del servicio"


class ContractFault(Fault):  # type: ignore[misc]
    """A ContractError crossing Spyne; written by `envelopes.fault`."""

    def __init__(self, error: ContractError):
        super().__init__("Client", error.name)
        self.error = error


class RequestRefused(Fault):  # type: ignore[misc]
    """A request the SOAP layer refuses before any method runs (`Client.<Cause>`, a readable message)."""

    def __init__(self, name: str, message: str):
        super().__init__(name, message)


class ServerRefusal(Fault):  # type: ignore[misc]
    """A failure on our side the caller must hear about by name (`Server.<Cause>`): its
    message is written as it is (a full disk: what could not be written, what was stored)."""

    def __init__(self, name: str, message: str):
        super().__init__(name, message)


def fault_envelope(error: Fault) -> bytes:
    if isinstance(error, ServerRefusal):
        return envelopes.fault(error.faultcode, error.faultcode, error.faultcode, str(error.faultstring))
    if isinstance(error, ContractFault):
        return envelopes.fault("Client", error.error.name, error.error.name, error.error.message)
    code = str(error.faultcode or "Server")
    if code == "Client" or code.startswith("Client."):
        return envelopes.fault(code, code, code, str(error.faultstring or code))
    return server_fault()


def server_fault() -> bytes:
    return envelopes.fault("Server", "Server", "Server.InternalError", GENERIC_SERVER_ERROR)
