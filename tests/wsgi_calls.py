"""A WSGI POST called in process: what a server would hand the app, and what it answers."""

import io
from typing import Any

XML = "text/xml; charset=utf-8"


def post_wsgi(
    app: Any, path: str, body: bytes, content_type: str = XML, query: str = ""
) -> tuple[str, list[tuple[str, str]], bytes]:
    """(status line, headers, whole body) of `app`'s answer to a POST of `body` to `path`."""
    environ = {
        "REQUEST_METHOD": "POST",
        "PATH_INFO": path,
        "QUERY_STRING": query,
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "80",
        "HTTP_HOST": "127.0.0.1",
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(body),
        "CONTENT_LENGTH": str(len(body)),
        "CONTENT_TYPE": content_type,
    }
    started: list[tuple[str, list[tuple[str, str]]]] = []
    answer = b"".join(app(environ, lambda status, headers, exc_info=None: started.append((status, headers))))
    return started[0][0], started[0][1], answer
