"""The XML-RPC (MNET) endpoint as a WSGI application:
body limit -> gate (trust) -> resolve (the call) -> remember (replay) -> dispatch -> answer.

Every refusal is an XML-RPC fault (HTTP 200, as Moodle answers; 413 for a body
over the limit, 405 for a method other than POST). Anything unexpected is
logged with its traceback and answered with a generic fault: no exception text
or class name reaches the caller.
"""

import logging
from collections.abc import Callable, Iterable
from datetime import timedelta
from functools import partial
from typing import Any

from sqlalchemy import Engine

from aula_ws.config import Settings
from aula_ws.domain.elapsed import EngineSettings
from aula_ws.errors import MnetFault
from aula_ws.services import peers
from aula_ws.services.peers import KeyPolicy
from aula_ws.services.usage import utc_now
from aula_ws.rpc import codec, methods
from aula_ws.rpc.client import relay_call
from aula_ws.rpc.gate import Admitted, Gate, OldKeyUsed

log = logging.getLogger(__name__)

INTERNAL_ERROR = MnetFault(712, "An internal error prevented your request being fulfilled.")
WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


def key_policy(settings: Settings) -> KeyPolicy:
    return KeyPolicy(
        wwwroot=settings.wwwroot,
        rotation=timedelta(days=settings.mnet_key_rotation_days),
        grace=timedelta(days=settings.mnet_key_grace_days),
    )


def engine_settings(settings: Settings) -> EngineSettings:
    return EngineSettings(
        threshold=timedelta(minutes=settings.use_stats_threshold),
        last_ping_credit=timedelta(minutes=settings.use_stats_lastpingcredit),
    )


def create_rpc_app(settings: Settings, engine: Engine) -> WsgiApp:
    policy = key_policy(settings)
    drift = timedelta(seconds=settings.mnet_drift)
    gate = Gate(engine, policy, drift)
    relay = partial(relay_call, engine, policy, settings.mnet_peer_timeout, drift, now=utc_now)
    peers.current_key(engine, policy, utc_now())  # our key pair exists from the first start

    def application(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if environ.get("REQUEST_METHOD") != "POST":
            fault = codec.fault(codec.TRANSPORT_ERROR, "transport error. POST an XML-RPC methodCall here.")
            return _send(start_response, fault, "405 Method Not Allowed", extra=[("Allow", "POST")])
        body = _read_body(environ, settings.rpc_max_body)
        if body is None:
            fault = codec.fault(413, f"The request body is larger than the {settings.rpc_max_body} bytes accepted.")
            return _send(start_response, fault, "413 Request Entity Too Large")
        return _send(start_response, _serve(gate, relay, body, environ.get("REMOTE_ADDR", "")))

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
            call = methods.resolve(admitted.payload, authenticated=admitted.peer is not None)
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
        context = methods.Context(engine, policy, engine_settings(settings), relay, admitted.peer)
        try:
            return methods.dispatch(context, call)
        except MnetFault as fault:
            return codec.fault(fault.code, fault.text)
        except Exception:
            log.exception("MNET call failed")
            return codec.fault(INTERNAL_ERROR.code, INTERNAL_ERROR.text)

    return application


def create_publickey_app(settings: Settings, engine: Engine) -> WsgiApp:
    """GET /mnet/publickey.php: our current certificate (PEM), as Moodle publishes it."""
    policy = key_policy(settings)

    def application(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        pem = peers.current_key(engine, policy, utc_now()).certificate_pem
        return _send(start_response, pem.encode(), content_type="text/plain")

    return application


def _answered(gate: Gate, admitted: Admitted, document: bytes) -> bytes:
    try:
        return gate.answer(admitted, document)
    except Exception:
        log.exception("MNET answer could not be signed or sealed")
        return codec.fault(INTERNAL_ERROR.code, INTERNAL_ERROR.text)


def _read_body(environ: dict[str, Any], limit: int) -> bytes | None:
    declared = environ.get("CONTENT_LENGTH") or ""
    if declared.isdigit() and int(declared) > limit:
        return None
    body: bytes = environ["wsgi.input"].read(int(declared) if declared.isdigit() else limit + 1)
    return None if len(body) > limit else body


def _send(
    start_response: Callable[..., Any],
    body: bytes,
    status: str = "200 OK",
    content_type: str = "text/xml",
    extra: list[tuple[str, str]] | None = None,
) -> Iterable[bytes]:
    start_response(status, [
        ("Content-Type", f"{content_type}; charset=utf-8"), ("Content-Length", str(len(body))), *(extra or []),
    ])
    return [body]
