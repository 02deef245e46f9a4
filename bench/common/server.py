"""The one server start-up of the benches.

Two ways to serve, as the measures need them: `in_process` runs waitress in a
thread of the bench's own process (the whole-group and ETL calls, timed from the
client side of a real socket); `own_process` starts a server command (`aula-ws
serve`, gunicorn) in its own process, its output to a log file rather than a
pipe so the bench's process does no work while it loads the server. The test
suite's `running_server` reads the output through a pipe and knows only `aula-ws
serve`, so it is not reused here; its `aula_env` is.
"""

import re
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Engine
from waitress.server import create_server

import common  # noqa: F401  (the project root on sys.path, for tests.*)
from aula_ws.app import AulaApplication, create_app
from aula_ws.config import Settings
from aula_ws.services.runtime import Services
from tests.e2e.server_process import ROOT, aula_env

__all__ = ["SERVING_ON", "aula_env", "application", "in_process", "own_process", "run_cli"]

SERVING_ON = r"serving on http://127\.0\.0\.1:(\d+)/"  # `aula-ws serve`'s line with its port


def application(settings: Settings, engine: Engine) -> AulaApplication:
    """The whole WSGI application on an engine the bench already holds."""
    return create_app(Services(settings, engine))


@contextmanager
def in_process(app: AulaApplication, threads: int) -> Iterator[int]:
    """waitress on 127.0.0.1 in a thread of this process; yields its port."""
    server = create_server(app, host="127.0.0.1", port=0, threads=threads)
    threading.Thread(target=server.run, daemon=True).start()
    try:
        # one host: a BaseWSGIServer, whose effective_port (set in its __init__) types-waitress omits
        yield server.effective_port  # type: ignore[union-attr]
    finally:
        server.close()
        server.task_dispatcher.shutdown()


@contextmanager
def own_process(command: Sequence[str], environment: dict[str, str], log_path: Path, listening: str) -> Iterator[int]:
    """Starts `command`, its output to `log_path`; yields the port the `listening` pattern names."""
    with log_path.open("wb") as log:
        process = subprocess.Popen(command, env=environment, stdout=log, stderr=subprocess.STDOUT)
    try:
        yield _port(process, command[0], log_path, listening)
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _port(process: subprocess.Popen[bytes], program: str, log_path: Path, listening: str) -> int:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        found = re.search(listening, log_path.read_text(errors="replace"))
        if found:
            return int(found[1])
        if process.poll() is not None:
            break
        time.sleep(0.1)
    raise RuntimeError(f"{program} did not start; see {log_path}")


def run_cli(
    arguments: Sequence[str], environment: dict[str, str], python_code: str | None = None
) -> tuple[float, subprocess.CompletedProcess[str]]:
    """`aula-ws ARGUMENTS` in a child process (so its memory is its own): wall time and result.
    `python_code`, if given, runs instead of `-m aula_ws` and gets the same arguments."""
    entry = ["-c", python_code] if python_code else ["-m", "aula_ws"]
    started = time.perf_counter()
    result = subprocess.run(
        [sys.executable, *entry, *arguments], env=environment, cwd=ROOT, capture_output=True, text=True
    )
    return time.perf_counter() - started, result
