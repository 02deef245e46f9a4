"""`/webservice/rest/server.php` (and the seed's `/service/rest/server.php`): report_etl_get
the Moodle way (CONTRACT.md section 6).

GET or POST (form-encoded; POST values win), parameters `wstoken`, `wsfunction`,
`plugin`, `id`, `queryparams` (JSON), `testmode`, `moodlewsrestformat`: JSON when
`json`, else (absent, `xml`, anything) Moodle's XML, as Moodle's REST server
(webservice/rest/locallib.php). Errors have Moodle's shape,
`{"exception", "errorcode", "message", "debuginfo"}` or `<EXCEPTION>`, and, as Moodle sends them, HTTP status 200 (405 for another HTTP
method). The token is checked first, so nothing is said to a caller without one,
except that parameters which cannot be read at all (not UTF-8, a POST body that
is not a form) are refused before: without them there is no token to check. The
token is never logged.
"""

import json
import logging
from collections.abc import Iterable
from urllib.parse import parse_qs, parse_qsl
from xml.sax.saxutils import escape, quoteattr

from aula_ws.domain.etl import invalid, xml_text
from aula_ws.errors import AuthenticationFailed, EtlError, NoRight, TokenExpired
from aula_ws.services.etl import EtlAnswer, report_etl_get
from aula_ws.services.runtime import Services
from aula_ws.services.tokens import authenticate
from aula_ws.wsgi import TOO_LARGE, Endpoint, Environ, StartResponse, limited_endpoint, read_body, send

log = logging.getLogger(__name__)

FUNCTION = "report_etl_get"
TOKEN_SERVICES = ("etl", "admin")
FORM = "application/x-www-form-urlencoded"
QUOTE = {'"': "&quot;"}
ANSWER_KEYS = ("recordset", "records", "firsttime", "lasttime", "xmlcontent")


def refusal(failure: AuthenticationFailed) -> EtlError:
    """Moodle's answer to a token that does not open report_etl_get: the contract's
    `invalidtoken` for every case, the message saying which."""
    if isinstance(failure, TokenExpired):
        return EtlError("invalidtoken", "Invalid token - token expired", "moodle_exception")
    if isinstance(failure, NoRight):
        return EtlError(
            "invalidtoken",
            "Invalid token - the token's user has no right to the etl service",
            "moodle_exception",
        )
    return EtlError("invalidtoken", "Invalid token - token not found", "moodle_exception")


def etl_endpoint(services: Services) -> Endpoint:
    """The endpoint behind AULA_REST_MAX_BODY (form parameters only: queryparams is a small JSON object)."""

    def endpoint(environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        method = environ.get("REQUEST_METHOD")
        if method not in ("GET", "POST"):
            error = EtlError(
                "invalidmethod", f"{FUNCTION} is called with GET or POST, not {str(method)[:20]}", "moodle_exception"
            )
            return _send(
                start_response,
                "405 Method Not Allowed",
                "application/json; charset=utf-8",
                _json_error(error),
                [("Allow", "GET, POST")],
            )
        try:
            params = _parameters(environ)
        except EtlError as error:
            log.info("report_etl_get refused: %s", error.message)
            return _error(start_response, error, _xml_asked(environ))
        xml = params.get("moodlewsrestformat") != "json"
        try:
            answer = _call(services, params)
        except EtlError as error:
            return _error(start_response, error, xml)
        except Exception:
            log.exception("report_etl_get failed (instance %r)", params.get("id"))
            return _error(
                start_response,
                EtlError(
                    "internalerror", "Internal server error; the details are in the server log", "moodle_exception"
                ),
                xml,
            )
        if xml:
            return _send(start_response, "200 OK", "application/xml; charset=utf-8", _xml_answer(answer))
        body = json.dumps({k: getattr(answer, k) for k in ANSWER_KEYS}, ensure_ascii=False)
        return _send(start_response, "200 OK", "application/json; charset=utf-8", body.encode())

    return limited_endpoint(endpoint, services.settings.rest_max_body, too_large)


def too_large(environ: Environ, start_response: StartResponse, max_bytes: int) -> Iterable[bytes]:
    """Moodle's error shape, in the format the query string asks for (the body is not read)."""
    error = invalid(f"The request is larger than {max_bytes} bytes")
    return _error(start_response, error, _xml_asked(environ), TOO_LARGE)


def _xml_asked(environ: Environ) -> bool:
    """The format the query string asks for, when the parameters cannot be read (the body is not)."""
    asked: str = parse_qs(environ.get("QUERY_STRING", "")).get("moodlewsrestformat", [""])[-1]
    return asked != "json"


def _call(services: Services, params: dict[str, str]) -> EtlAnswer:
    engine, settings = services.engine, services.settings
    try:
        holder = authenticate(engine, params.get("wstoken"), TOKEN_SERVICES, services.clock())
    except AuthenticationFailed as failure:
        log.warning("report_etl_get refused: %s", failure.reason)
        raise refusal(failure) from None
    function = params.get("wsfunction")
    if function != FUNCTION:
        raise EtlError(
            "invalidfunction",
            f"Unknown web service function {(function or '')[:60]!r}: this endpoint serves {FUNCTION}",
            "moodle_exception",
        )
    log.info("report_etl_get by %s: plugin %r, instance %r", holder.username, params.get("plugin"), params.get("id"))
    return report_etl_get(
        engine,
        settings,
        params.get("plugin"),
        params.get("id"),
        params.get("queryparams"),
        testmode=params.get("testmode"),
    )


def _parameters(environ: Environ) -> dict[str, str]:
    """The query string's parameters, then the form body's (the last of a repeated name wins, as in PHP)."""
    # WSGI hands the query string over as latin-1 text: back to its bytes, then UTF-8 strictly
    values = _pairs(environ.get("QUERY_STRING", "").encode("latin-1", "replace"), "the query string")
    if environ.get("REQUEST_METHOD") == "POST":
        body = read_body(environ)
        content_type = (environ.get("CONTENT_TYPE") or "").split(";")[0].strip().lower()
        if body.strip() and content_type not in ("", FORM):
            # what PHP fills $_POST from (multipart aside): anything else would be read as garbage
            raise invalid(f"a POST body must be {FORM}, not {content_type[:60]}")
        values.update(_pairs(body, "the POST body"))
    return values


def _pairs(encoded: bytes, where: str) -> dict[str, str]:
    """Name -> value of a form-encoded text, UTF-8 throughout (raw and %-escaped): no U+FFFD
    stands in silently for what the caller sent."""
    try:
        return dict(parse_qsl(encoded.decode(), keep_blank_values=True, encoding="utf-8", errors="strict"))
    except UnicodeDecodeError:
        raise invalid(f"{where} is not UTF-8 text") from None


def _json_error(error: EtlError) -> bytes:
    # backslashreplace: a lone surrogate echoed from the request becomes its JSON escape \udXXX
    body = {"exception": error.exception, "errorcode": error.errorcode, "message": error.message}
    if error.debuginfo is not None:
        body["debuginfo"] = error.debuginfo
    return json.dumps(body, ensure_ascii=False).encode("utf-8", "backslashreplace")


def _error(start_response: StartResponse, error: EtlError, xml: bool, status: str = "200 OK") -> Iterable[bytes]:
    if not xml:
        return _send(start_response, status, "application/json; charset=utf-8", _json_error(error))
    body = (
        '<?xml version="1.0" encoding="UTF-8" ?>\n'
        f"<EXCEPTION class={quoteattr(error.exception)}>\n"
        f"<ERRORCODE>{xml_text(error.errorcode)}</ERRORCODE>\n"
        f"<MESSAGE>{xml_text(error.message)}</MESSAGE>\n"
        + ("" if error.debuginfo is None else f"<DEBUGINFO>{xml_text(error.debuginfo)}</DEBUGINFO>\n")
        + "</EXCEPTION>\n"
    )
    return _send(start_response, status, "application/xml; charset=utf-8", body.encode())


def _xml_answer(answer: EtlAnswer) -> bytes:
    """Moodle's SINGLE: one KEY per line; VALUE escapes `& < > "` (not `'`), null is `null="null"`."""
    keys = "".join(f'<KEY name="{key}">{_xml_value(getattr(answer, key))}\n</KEY>\n' for key in ANSWER_KEYS)
    return f'<?xml version="1.0" encoding="UTF-8" ?>\n<RESPONSE>\n<SINGLE>\n{keys}</SINGLE>\n</RESPONSE>\n'.encode()


def _xml_value(value: object) -> str:
    if value is None:
        return '<VALUE null="null"/>'
    return "<VALUE>" + escape(str(value), QUOTE) + "</VALUE>"


def _send(
    start_response: StartResponse, status: str, content_type: str, body: bytes, extra: Iterable[tuple[str, str]] = ()
) -> Iterable[bytes]:
    return send(start_response, status, content_type, body, [("Cache-Control", "private, no-store"), *extra])
