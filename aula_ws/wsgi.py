"""The WSGI pieces every HTTP edge shares: an endpoint behind its body limit, reading that
body, sending an answer.

Every endpoint that reads a body gets it through `limit_body`: at most its setting's
bytes, counted whatever the framing (Content-Length, or a chunked body that gunicorn
passes on as is), and anything larger is answered by that endpoint's own "too large"
answer (a SOAP fault, an XML-RPC fault, a Moodle error) without being read further.
Behind it an endpoint reads its body with `read_body` and nothing else: the limit is
applied in one place.
"""

import io
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

Environ = dict[str, Any]
StartResponse = Callable[..., Any]
WsgiApp = Callable[[Environ, StartResponse], Iterable[bytes]]
TooLarge = Callable[[Environ, StartResponse, int], Iterable[bytes]]

TOO_LARGE = "413 Request Entity Too Large"


@dataclass(frozen=True)
class Endpoint:
    """A WSGI application and, when it reads a body, its limit and its answer to a larger one."""

    app: WsgiApp
    max_body: int | None = None  # bytes; None: the endpoint reads no body
    too_large: TooLarge | None = None

    def __call__(self, environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        return self.app(environ, start_response)


def limited_endpoint(app: WsgiApp, max_body: int, too_large: TooLarge) -> Endpoint:
    """`app` behind `limit_body`, with what a server needs to refuse a body before it arrives."""
    return Endpoint(limit_body(app, max_body, too_large), max_body, too_large)


def limit_body(endpoint: WsgiApp, max_bytes: int, too_large: TooLarge) -> WsgiApp:
    """Pass POST bodies of at most `max_bytes` on, whole and with their Content-Length;
    answer larger ones with `too_large`, unread past the limit."""

    def limited(environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        if environ.get("REQUEST_METHOD") != "POST":
            return endpoint(environ, start_response)
        declared = environ.get("CONTENT_LENGTH") or ""
        if declared.isdigit():
            if int(declared) > max_bytes:
                return too_large(environ, start_response, max_bytes)
            body = _read(environ["wsgi.input"], int(declared))
        else:  # no length: a chunked body (gunicorn passes it as is), read to its end
            body = _read(environ["wsgi.input"], max_bytes + 1)
            if len(body) > max_bytes:
                return too_large(environ, start_response, max_bytes)
        environ["wsgi.input"] = io.BytesIO(body)
        environ["CONTENT_LENGTH"] = str(len(body))
        return endpoint(environ, start_response)

    return limited


def read_body(environ: Environ) -> bytes:
    """The request's body, as `limit_body` handed it on (whole, its length declared)."""
    declared = environ.get("CONTENT_LENGTH") or ""
    return _read(environ["wsgi.input"], int(declared)) if declared.isdigit() else b""


def _read(stream: Any, size: int) -> bytes:
    """Up to `size` bytes: a WSGI input may return fewer than asked before its end."""
    parts, left = [], size
    while left > 0:
        part = stream.read(min(left, 1 << 20))
        if not part:
            break
        parts.append(part)
        left -= len(part)
    return b"".join(parts)


def send(
    start_response: StartResponse,
    status: str,
    content_type: str,
    body: bytes,
    extra: Iterable[tuple[str, str]] = (),
) -> Iterable[bytes]:
    start_response(status, [("Content-Type", content_type), ("Content-Length", str(len(body))), *extra])
    return [body]
