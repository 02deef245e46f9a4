"""`aula-ws serve`'s waitress sends a small answer with its header in one send
(aula_ws/serving.py, _OneSendTask): the bytes on the wire are those of waitress's own task,
whatever the answer (small, large, no length, a length shorter than the body, no body)."""

import re
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from waitress.task import WSGITask

from aula_ws.app import AulaApplication
from aula_ws.config import Settings
from aula_ws.serving import ONE_SEND_MAX, create_waitress, listening_socket
from aula_ws.wsgi import Endpoint

SMALL = b"<answer/>" * 10
LARGE = b"x" * (ONE_SEND_MAX + 1)

ANSWERS = {
    "/small": ("200 OK", [("Content-Length", str(len(SMALL)))], [SMALL]),
    "/large": ("200 OK", [("Content-Length", str(len(LARGE)))], [LARGE]),
    "/two-chunks": ("200 OK", [("Content-Length", str(2 * len(SMALL)))], [SMALL, SMALL]),
    "/no-length": ("200 OK", [], [SMALL, SMALL]),
    "/length-short": ("200 OK", [("Content-Length", "5")], [SMALL]),
    "/no-content": ("204 No Content", [], [SMALL]),
    "/empty-first": ("200 OK", [("Content-Length", str(len(SMALL)))], [b"", SMALL]),
}


def answer(path: str):
    status, headers, chunks = ANSWERS[path]

    def app(environ, start_response):
        start_response(status, [("Content-Type", "text/plain"), *headers])
        return iter(chunks)  # no len(): waitress adds no length of its own

    return app


@contextmanager
def serving(tmp_path: Path, task_class: type | None) -> Iterator[int]:
    app = AulaApplication({path: Endpoint(answer(path)) for path in ANSWERS})
    listening = listening_socket("127.0.0.1", 0)
    server = create_waitress(app, Settings(data_dir=tmp_path, database_url="sqlite://"), listening, 2, 10)
    if task_class is not None:
        server.channel_class.task_class = task_class
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        yield listening.getsockname()[1]
    finally:
        server.close()
        server.task_dispatcher.shutdown()
        listening.close()


def wire(port: int, path: str) -> bytes:
    """The whole answer as sent, the Date header blanked (the connection closed by the request)."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as connection:
        connection.sendall(f"GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
        received = b""
        while chunk := connection.recv(1 << 16):
            received += chunk
    return re.sub(rb"Date: [^\r]*", b"Date: -", received)


@pytest.mark.parametrize("path", ANSWERS)
def test_the_answer_on_the_wire_is_waitress_own(tmp_path, path):
    with serving(tmp_path, None) as port:
        ours = wire(port, path)
    with serving(tmp_path, WSGITask) as port:
        theirs = wire(port, path)
    assert ours == theirs
    assert ours.startswith(b"HTTP/1.1 ")
