"""The published methods: use_stats under Moodle's wire names and short names, and the system ones."""

import json
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from aula_ws.errors import CallerRefused, MnetFault, RemoteFailed, UseStatsRefused
from aula_ws.services import peers, usage
from aula_ws.services.peers import Peer
from aula_ws.services.runtime import Services

from . import codec, messages

GET_STATS = "blocks/use_stats/rpclib.php/use_stats_rpc_get_stats"
GET_SCORES = "blocks/use_stats/rpclib.php/use_stats_rpc_get_scores"
NO_SUCH_FUNCTION = MnetFault(713, "Unable to locate function, or function prohibited for RPC.")
NOT_PUBLISHED = MnetFault(707, "Unable to locate function, or function prohibited for RPC.")  # Moodle's code
USE_STATS = "use_stats"
XMLRPC_INT = range(-(2**31), 2**31)  # an XML-RPC <int> is a 32-bit signed integer

Relay = Callable[[Peer, str, tuple[Any, ...]], Any]


@dataclass(frozen=True)
class Request:
    """One call: the services, how to relay it, and who made it."""

    services: Services
    relay: Relay
    peer: Peer | None  # the authenticated caller; None for an unauthenticated keyswap


@dataclass(frozen=True)
class Method:
    function: Callable[[Request, list[Any]], Any]
    signature: list[str]  # return type, then the parameters' types
    help: str
    required: int  # parameters that must be given; the others have defaults
    service: str | None = None  # the MNET service it belongs to (None: a system method, always there)


@dataclass(frozen=True)
class Call:
    name: str
    method: Method
    params: list[Any]


def resolve(payload: bytes, peer: Peer | None) -> Call:
    """The call in `payload`: a methodCall of a method published to `peer` with as many
    parameters as it takes (only keyswap for an unauthenticated caller); MnetFault otherwise."""
    params, name = codec.loads_call(payload)
    method = METHODS.get(name)
    if method is None or (peer is None and name not in ("system/keyswap", "system.keyswap")):
        raise NO_SUCH_FUNCTION
    if peer is not None and method.service is not None and method.service not in peer.published:
        raise NOT_PUBLISHED
    if not method.required <= len(params) <= len(method.signature) - 1:
        raise MnetFault(
            codec.BAD_PARAMETERS,
            f"{codec.xml_text(name)[:100]} takes {method.required} to {len(method.signature) - 1} parameters.",
        )
    return Call(name, method, list(params))


def dispatch(request: Request, call: Call) -> bytes:
    return codec.response(call.method.function(request, call.params))


# --------------------------------------------------------------------------- use_stats


def get_stats(request: Request, params: list[Any]) -> Any:
    """use_stats_rpc_get_stats(callinguser, targetuser, whereroot, statsscope=1, timefrom=0, json_response=true)"""
    callinguser, targetuser, whereroot, statsscope, timefrom, json_response = _defaults(params, 1, 0, True)
    as_json = True  # the answer's form when json_response itself is unusable
    try:
        as_json = _flag(json_response, "json_response")
        caller = _caller(callinguser)
        target = _text(targetuser, "targetuser")
        scope = _integer(statsscope, "Unknown stats scope (1 site, 2 course, 3 module).")
        since = _integer(timefrom, "timefrom must be a Unix time: an integer from -2147483648 to 2147483647.")
        peer = _route(request, caller, whereroot)
        if peer is not None:
            forwarded = (_as_ourselves(request, caller), target, peer.wwwroot, scope, since, True)
            return _relayed(request, peer, GET_STATS, forwarded, as_json)
        services = request.services
        report = usage.get_stats(
            services.engine,
            caller,
            target,
            scope,
            since,
            services.elapsed_settings,
            _signer(request),
            services.clock,
            own_root=services.key_policy.wwwroot,
        )
        return messages.success(messages.stats_message(report), as_json)
    except UseStatsRefused as refused:
        return messages.refusal(refused, as_json)


def get_scores(request: Request, params: list[Any]) -> Any:
    """use_stats_rpc_get_scores(callinguser, targetuser, whereroot, scorescope='notes/global',
    courseidfield='shortname', courseidentifier='', json_response=true)"""
    callinguser, targetuser, whereroot, scorescope, idfield, identifier, json_response = _defaults(
        params, "notes/global", "shortname", "", True
    )
    as_json = True  # the answer's form when json_response itself is unusable
    try:
        as_json = _flag(json_response, "json_response")
        caller = _caller(callinguser)
        texts = (
            _text(targetuser, "targetuser"),
            _text(scorescope, "scorescope"),
            _text(idfield, "courseidfield"),
            _text(identifier, "courseidentifier"),
        )
        peer = _route(request, caller, whereroot)
        if peer is not None:
            target, *rest = texts
            forwarded = (_as_ourselves(request, caller), target, peer.wwwroot, *rest, True)
            return _relayed(request, peer, GET_SCORES, forwarded, as_json)
        services = request.services
        report = usage.get_scores(
            services.engine, caller, *texts, _signer(request), own_root=services.key_policy.wwwroot
        )
        return messages.success(messages.scores_message(report), as_json)
    except UseStatsRefused as refused:
        return messages.refusal(refused, as_json)


def _defaults(params: list[Any], *defaults: Any) -> list[Any]:
    given = len(params) - 3
    return params + list(defaults[max(given, 0) :])


def _caller(value: Any) -> usage.Caller:
    keys = ("username", "remoteuserhostroot", "remotehostroot")
    if not isinstance(value, dict) or any(not isinstance(value.get(key), str) for key in keys):
        raise CallerRefused("Bad client user format.")
    return usage.Caller(*(value[key] for key in keys))


def _route(request: Request, caller: usage.Caller, whereroot: Any) -> Peer | None:
    return peers.relay_target(
        request.services.engine,
        request.services.key_policy.wwwroot,
        caller,
        _text(whereroot, "whereroot"),
        _signer(request),
    )


def _as_ourselves(request: Request, caller: usage.Caller) -> dict[str, str]:
    return {
        "username": caller.username,
        "remoteuserhostroot": caller.remoteuserhostroot,
        "remotehostroot": request.services.key_policy.wwwroot,
    }


def _relayed(request: Request, peer: Peer, method: str, params: tuple[Any, ...], as_json: bool) -> Any:
    value = request.relay(peer, method, params)
    try:
        answer = json.loads(value) if isinstance(value, str) else value
    except (ValueError, RecursionError):  # RecursionError: JSON nested deeper than Python parses
        answer = None
    if not isinstance(answer, dict) or not isinstance(answer.get("message", ""), str):
        raise RemoteFailed("REMOTE : the peer's answer is not a use_stats answer.")
    if answer.get("status") == messages.SUCCESS:
        return messages.success(answer.get("message", ""), as_json)
    errors = [text for text in _strings(answer.get("errors")) if text]
    status = answer.get("status")
    raise RemoteFailed(*[f"REMOTE : {text}" for text in errors or [f"status {_scalar(status)}"]])


def _strings(value: Any) -> list[str]:
    """The peer's error texts: a list of scalars (anything nested is not an error text)."""
    items = value if isinstance(value, list) else [value]
    return [str(item) for item in items if isinstance(item, (str, int, float))]


def _scalar(value: Any) -> str:
    return repr(value)[:200] if isinstance(value, (str, int, float, bool, type(None))) else "(not a status)"


def _signer(request: Request) -> str | None:
    return None if request.peer is None else request.peer.wwwroot


def _text(value: Any, name: str) -> str:
    """A string parameter: a string, or a number as its text, nil as empty (as PHP reads them)."""
    if value is None:
        return ""
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise UseStatsRefused(f"{name} must be a string.")
    return str(value)


def _integer(value: Any, refusal: str) -> int:
    """An int parameter: an int, or a string or double holding one, within XML-RPC's int range."""
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise UseStatsRefused(refusal)
    try:
        number = math.floor(value) if isinstance(value, float) else int(value)
    except (ValueError, OverflowError):  # not a number, NaN, infinite, longer than int() reads
        raise UseStatsRefused(refusal) from None
    if number not in XMLRPC_INT:
        raise UseStatsRefused(refusal)
    return number


def _flag(value: Any, name: str) -> bool:
    if isinstance(value, str):
        return value.strip().lower() not in ("0", "false", "no", "off")
    if not isinstance(value, (bool, int, float)):
        raise UseStatsRefused(f"{name} must be a boolean.")
    return bool(value)


# --------------------------------------------------------------------------- system


def list_methods(request: Request, params: list[Any]) -> list[str]:
    """The methods the caller may call: the system ones and those of the services published to it."""
    published = request.peer.published if request.peer is not None else frozenset()
    return sorted(name for name, method in METHODS.items() if method.service is None or method.service in published)


def list_services(request: Request, params: list[Any]) -> list[dict[str, Any]]:
    """As Moodle answers it: each service we publish to or subscribe to on the caller."""
    peer = request.peer
    if peer is None:
        return []
    return [
        {
            "name": service,
            "apiversion": 1,
            "publish": int(service in peer.published),
            "subscribe": int(service in peer.subscribed),
        }
        for service in peers.SERVICES
        if service in peer.published or service in peer.subscribed
    ]


def method_signature(request: Request, params: list[Any]) -> list[list[str]]:
    method = METHODS.get(params[0]) if isinstance(params[0], str) else None
    if method is None:
        raise NO_SUCH_FUNCTION
    return [method.signature]


def method_help(request: Request, params: list[Any]) -> str:
    method = METHODS.get(params[0]) if isinstance(params[0], str) else None
    if method is None:
        raise NO_SUCH_FUNCTION
    return method.help


def keyswap(request: Request, params: list[Any]) -> str:
    """Our current certificate. The caller is not registered by this (peers are added by an admin)."""
    services = request.services
    return peers.current_key(services.engine, services.key_policy, services.clock()).certificate_pem


_STATS = Method(
    get_stats,
    ["string", "struct", "string", "string", "int", "int", "boolean"],
    "Elapsed time (whole minutes) of targetuser since timefrom: site (statsscope 1), per course (2), "
    "per unit (3). Answers {status, errors, message} as JSON (json_response true) or a struct.",
    3,
    USE_STATS,
)
_SCORES = Method(
    get_scores,
    ["string", "struct", "string", "string", "string", "string", "string", "boolean"],
    "Mean of targetuser's best unit scores per course (scorescope notes/global), for the course named by "
    "courseidfield/courseidentifier or every course of the user. Answers {status, errors, message}.",
    3,
    USE_STATS,
)
_LIST = Method(list_methods, ["array"], "The methods this server publishes to you.", 0)
_SERVICES = Method(
    list_services, ["array"], "The services this server publishes to you or subscribes to on you (Moodle's form).", 0
)
_SIGNATURE = Method(method_signature, ["array", "string"], "A method's signature: return type, then parameters.", 1)
_HELP = Method(method_help, ["string", "string"], "A method's description.", 1)
_KEYSWAP = Method(keyswap, ["string", "string", "string", "string"], "Exchange certificates: returns ours.", 0)

METHODS: dict[str, Method] = {
    GET_STATS: _STATS,
    "use_stats_rpc_get_stats": _STATS,
    GET_SCORES: _SCORES,
    "use_stats_rpc_get_scores": _SCORES,
    **{
        f"system{sep}{name}": method
        for sep in "./"
        for name, method in [
            ("listMethods", _LIST),
            ("listServices", _SERVICES),
            ("methodSignature", _SIGNATURE),
            ("methodHelp", _HELP),
            ("keyswap", _KEYSWAP),
        ]
    },
}
