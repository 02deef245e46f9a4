"""The XML-RPC (MNET) endpoint as a WSGI application:
body limit -> gate (trust) -> resolve (the call) -> remember (replay) -> dispatch -> answer.

Every refusal is an XML-RPC fault (HTTP 200, as Moodle answers; 413 for a body
over the limit, 405 for a method other than POST). Anything unexpected is
logged with its traceback and answered with a generic fault: no exception text
or class name reaches the caller.
"""

import http.client
import logging
import xmlrpc.client
from collections.abc import Iterable
from functools import partial

from aula_ws.errors import InvalidRequest, MnetFault
from aula_ws.services import peers
from aula_ws.services.peers import Peer
from aula_ws.services.runtime import Services
from aula_ws.wsgi import TOO_LARGE, Endpoint, Environ, StartResponse, limited_endpoint, read_body, send

from . import codec, methods
from .client import AnswerRefused, fetch_certificate, relay_call
from .gate import Admitted, Gate, OldKeyUsed

log = logging.getLogger(__name__)

INTERNAL_ERROR = MnetFault(712, "An internal error prevented your request being fulfilled.")
XML = "text/xml; charset=utf-8"


def create_rpc_app(services: Services) -> Endpoint:
    settings = services.settings

    def refresh(peer: Peer) -> Peer | str:
        """One keyswap to a peer whose signature failed: the peer with its new stored
        certificate, or why not (the gate logs it)."""
        own = peers.current_key(services.engine, services.key_policy, services.clock()).certificate_pem
        try:
            pem = fetch_certificate(peer.wwwroot, services.key_policy.wwwroot, own, settings.mnet_peer_timeout)
            return peers.renew_peer_certificate(services.engine, peer.wwwroot, pem, services.clock())
        except (OSError, http.client.HTTPException, xmlrpc.client.Fault, MnetFault, AnswerRefused) as error:
            return f"failed: {_reason(error)}"
        except InvalidRequest as error:
            return f"answered a certificate we refuse: {error}"

    gate = Gate(services.engine, services.key_policy, services.mnet_drift, refresh=refresh)
    relay = partial(
        relay_call,
        services.engine,
        services.key_policy,
        settings.mnet_peer_timeout,
        services.mnet_drift,
        now=services.clock,
    )
    peers.current_key(
        services.engine, services.key_policy, services.clock()
    )  # our key pair exists from the first start

    def application(environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        if environ.get("REQUEST_METHOD") != "POST":
            fault = codec.fault(codec.TRANSPORT_ERROR, "transport error. POST an XML-RPC methodCall here.")
            return send(start_response, "405 Method Not Allowed", XML, fault, [("Allow", "POST")])
        answer = _serve(gate, relay, read_body(environ), environ.get("REMOTE_ADDR", ""))
        return send(start_response, "200 OK", XML, answer)

    def _serve(gate: Gate, relay: methods.Relay, body: bytes, address: str) -> bytes:
        try:
            admitted = gate.admit(body, address)
        except OldKeyUsed as old:
            return gate.answer(old.admitted, codec.fault(7025, old.certificate_pem))
        except MnetFault as fault:
            return codec.fault(fault.code, fault.text)
        except Exception:
            log.exception("MNET gate failed")
            return codec.fault(INTERNAL_ERROR.code, INTERNAL_ERROR.text)
        try:
            call = methods.resolve(admitted.payload, admitted.peer)
        except MnetFault as fault:  # a malformed call inside a good envelope: answered as the call would be
            return _answered(gate, admitted, codec.fault(fault.code, fault.text))
        try:
            gate.remember(admitted)
        except MnetFault as fault:
            return codec.fault(fault.code, fault.text)
        except Exception:
            log.exception("MNET envelope could not be remembered")
            return codec.fault(INTERNAL_ERROR.code, INTERNAL_ERROR.text)
        return _answered(gate, admitted, _dispatched(admitted, call, relay))

    def _dispatched(admitted: Admitted, call: methods.Call, relay: methods.Relay) -> bytes:
        try:
            return methods.dispatch(methods.Request(services, relay, admitted.peer), call)
        except MnetFault as fault:
            return codec.fault(fault.code, fault.text)
        except Exception:
            log.exception("MNET call failed")
            return codec.fault(INTERNAL_ERROR.code, INTERNAL_ERROR.text)

    return limited_endpoint(application, settings.rpc_max_body, too_large)


def too_large(environ: Environ, start_response: StartResponse, max_bytes: int) -> Iterable[bytes]:
    body = codec.fault(413, f"The request body is larger than the {max_bytes} bytes accepted.")
    return send(start_response, TOO_LARGE, XML, body)


def create_publickey_app(services: Services) -> Endpoint:
    """GET /mnet/publickey.php: our current certificate (PEM), as Moodle publishes it."""

    def application(environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        pem = peers.current_key(services.engine, services.key_policy, services.clock()).certificate_pem
        return send(start_response, "200 OK", "text/plain; charset=utf-8", pem.encode())

    return Endpoint(application)


def _answered(gate: Gate, admitted: Admitted, document: bytes) -> bytes:
    try:
        return gate.answer(admitted, document)
    except Exception:
        log.exception("MNET answer could not be signed or sealed")
        return codec.fault(INTERNAL_ERROR.code, INTERNAL_ERROR.text)


def _reason(error: Exception) -> str:
    if isinstance(error, xmlrpc.client.Fault):
        return f"fault {error.faultCode}"
    if isinstance(error, MnetFault):
        return "its answer is not XML-RPC"
    return str(error)[:200] or type(error).__name__
