"""The faults aula-ws raises through Spyne: the one place our errors become faults, and how
every fault is written.

`fault_for` turns an error of aula_ws/errors.py into its fault; every service class
of both endpoints derives from `TranslatingService`, whose `call_wrapper` applies it
(the admin endpoint's token check, which runs before any method, applies it too).
Every fault is written by `envelopes.fault`: faultcode `Client` (the contract's
errors), `Client.<Cause>` (requests refused before or around a method:
`Client.XMLSyntaxError`, `Client.Authentication`...), `Server.<Cause>` (a failure on
our side the caller must hear about by name: `Server.WriteFailed`) or `Server`, a
QName in the envelope's namespace; a plain Server fault carries a generic message only.
"""

import logging
from typing import Any, overload

from spyne import Fault, ServiceBase

from aula_ws.errors import (
    AulaError,
    AuthenticationFailed,
    ContractError,
    EtlError,
    InvalidRequest,
    WriteFailed,
)
from aula_ws.soap import envelopes

log = logging.getLogger(__name__)

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


AUTHENTICATION_REQUIRED = "A valid admin token is required (wstoken)"


@overload
def fault_for(error: AuthenticationFailed, call: str) -> Fault: ...
@overload
def fault_for(error: AulaError, call: str) -> Fault | None: ...
def fault_for(error: AulaError, call: str) -> Fault | None:
    """The fault that answers `error` raised by the operation `call`; None for an error
    no caller should hear about (it stays unexpected: a generic Server fault, its traceback logged)."""
    if isinstance(error, ContractError):
        return ContractFault(error)
    if isinstance(error, AuthenticationFailed):  # one answer whatever the reason; the reason to the log
        log.warning("admin call %s refused: %s", call, error.reason)
        return Fault("Client.Authentication", AUTHENTICATION_REQUIRED)
    if isinstance(error, InvalidRequest):
        return Fault("Client.InvalidRequest", str(error))
    if isinstance(error, EtlError):  # Client.ETLBUSY, Client.invalidparameter, ...
        return Fault(f"Client.{error.errorcode}", str(error))  # the message and Moodle's debuginfo
    if isinstance(error, WriteFailed):  # a full disk: one line, no traceback, the caller told what
        log.error("admin call %s: %s", call, error)
        return ServerRefusal("Server.WriteFailed", str(error))
    return None


class TranslatingService(ServiceBase):  # type: ignore[misc]
    """Base of every service class: its methods' errors answered by `fault_for`."""

    @classmethod
    def call_wrapper(cls, ctx: Any) -> Any:  # ctx: spyne's MethodContext
        try:
            return super().call_wrapper(ctx)
        except AulaError as error:
            fault = fault_for(error, ctx.method_request_string)
            if fault is None:
                raise
            raise fault from None


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


def too_large_envelope(max_bytes: int) -> bytes:
    """A body over the endpoint's limit (answered with HTTP 413, the body unread)."""
    code = "Client.RequestTooLarge"
    return envelopes.fault(
        code, code, code, f"The request body is larger than the {max_bytes} bytes this endpoint accepts"
    )
