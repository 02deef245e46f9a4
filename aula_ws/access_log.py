"""The access log: one line per request (logger `aula_ws.access`, level INFO), on every server.

A WSGI middleware, so the embedded server (waitress, which has none) and gunicorn write the
same line: method, path with the query's secrets masked (`wstoken` and any other parameter
named like a token, password or secret), status, bytes sent, duration in milliseconds, peer.
gunicorn's own access log cannot mask query parameters, so it stays off (deploy/gunicorn.conf.py).
"""

import logging
import time
from collections.abc import Iterable, Iterator
from typing import Any
from urllib.parse import parse_qsl, quote, urlencode

from aula_ws.wsgi import Environ, StartResponse, WsgiApp

log = logging.getLogger("aula_ws.access")

MASK = "***"
_SECRET_WORDS = ("token", "password", "passwd", "secret", "key", "signature")


def masked_query(query: str) -> str:
    """The query string with every secret parameter's value replaced by ***."""
    if not query:
        return ""
    pairs = parse_qsl(query, keep_blank_values=True)
    return urlencode(
        [(name, MASK if any(word in name.lower() for word in _SECRET_WORDS) else value) for name, value in pairs],
        safe="*[]",
    )


def request_line(environ: Environ) -> str:
    path = quote(environ.get("SCRIPT_NAME", "") + environ.get("PATH_INFO", ""), safe="/:@!$&'()*+,;=-._~")
    query = masked_query(environ.get("QUERY_STRING", ""))
    return f"{path}?{query}" if query else path


class AccessLog:
    """Wraps a WSGI application; logs each request once its answer has been sent (or abandoned)."""

    def __init__(self, app: WsgiApp):
        self.app = app

    def __getattr__(self, name: str) -> Any:  # body_limit, endpoint, routes: the wrapped application's
        return getattr(self.app, name)

    def __call__(self, environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        started = time.perf_counter()
        status: list[str] = []

        def recording_start_response(status_line: str, headers: Any, exc_info: Any = None) -> Any:
            status[:] = [status_line.split(" ", 1)[0]]
            return start_response(status_line, headers, exc_info) if exc_info else start_response(status_line, headers)

        try:
            body = self.app(environ, recording_start_response)
        except BaseException:
            _write(environ, "500", 0, started)
            raise
        return _Counted(body, environ, status, started)


class _Counted:
    def __init__(self, body: Iterable[bytes], environ: Environ, status: list[str], started: float):
        self.body, self.environ, self.status, self.started = body, environ, status, started
        self.sent = 0

    def __iter__(self) -> Iterator[bytes]:
        for chunk in self.body:
            self.sent += len(chunk)
            yield chunk

    def close(self) -> None:
        try:
            close = getattr(self.body, "close", None)
            if close is not None:
                close()
        finally:
            _write(self.environ, self.status[0] if self.status else "-", self.sent, self.started)


def _write(environ: Environ, status: str, sent: int, started: float) -> None:
    if not log.isEnabledFor(logging.INFO):
        return
    method = environ.get("REQUEST_METHOD", "-")
    path = request_line(environ)
    duration = round((time.perf_counter() - started) * 1000, 1)
    peer = environ.get("REMOTE_ADDR") or "-"
    log.info(
        "%s %s %s %d %.1fms %s",
        method,
        path,
        status,
        sent,
        duration,
        peer,
        extra={"method": method, "path": path, "status": status, "bytes": sent, "ms": duration, "peer": peer},
    )
