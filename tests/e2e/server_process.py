"""Run `aula-ws serve` as a real process on 127.0.0.1 and find its port."""

import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

SERVING = re.compile(r"serving on (http://127\.0\.0\.1:\d+)/")
ROOT = Path(__file__).resolve().parents[2]


@dataclass
class RunningServer:
    base_url: str
    process: subprocess.Popen  # type: ignore[type-arg]
    output: list[str] = field(default_factory=list)  # every line but the access log's
    access: list[str] = field(default_factory=list)  # the access log's lines (aula_ws/access_log.py)

    def read(self, line: str) -> None:
        """Sort one line of the server's output: tests of what is logged count lines, and the
        access log's one line per request (written once the answer is sent) is not among them."""
        if " aula_ws.access: " in line or '"logger": "aula_ws.access"' in line:
            self.access.append(line)
        else:
            self.output.append(line)

    @property
    def log(self) -> str:
        return "".join(self.output)

    def logged(self, text: str, seconds: float = 10) -> bool:
        """Whether `text` is in the log within `seconds`: a line the server writes while it
        answers reaches `output` through the draining thread, maybe after the answer."""
        deadline = time.monotonic() + seconds
        while text not in self.log:
            if time.monotonic() > deadline:
                return False
            time.sleep(0.01)
        return True


def aula_env(data_dir: Path, database_url: str, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AULA_")}
    env.update(AULA_DATA_DIR=str(data_dir), AULA_DATABASE_URL=database_url, **extra)
    return env


@contextmanager
def running_server(env: dict[str, str], *args: str, script: list[str] | None = None) -> Iterator[RunningServer]:
    command = script or [sys.executable, "-m", "aula_ws", "serve"]
    with running_process([*command, "--host", "127.0.0.1", "--port", "0", *args], env, SERVING) as server:
        yield server


@contextmanager
def running_process(
    command: list[str], env: dict[str, str], address: re.Pattern[str], ready: str | None = None
) -> Iterator[RunningServer]:
    """Start `command`; its base URL is the first match of `address` in its output, and it is
    started once that line (or, given `ready`, a line holding `ready`) is printed. Stopped after."""
    process = subprocess.Popen(
        command,
        env=env,
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    server = RunningServer("", process)
    assert process.stdout is not None
    for line in process.stdout:
        server.read(line)
        match = address.search(line)
        if match and not server.base_url:
            server.base_url = match.group(1)
        if server.base_url and (ready is None or ready in line):
            break
    if not server.base_url:
        process.wait(timeout=10)
        raise RuntimeError(f"{command[0]} did not start:\n{server.log}")
    # keep draining the output so the server never blocks on a full pipe
    threading.Thread(target=_drain, args=(process.stdout, server), daemon=True).start()
    try:
        yield server
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        process.stdout.close()


def _drain(stream: Iterator[str], server: RunningServer) -> None:
    for line in stream:
        server.read(line)


def kill_mid_write(process: subprocess.Popen, wal: Path, what: str) -> None:  # type: ignore[type-arg]
    """SIGKILL `process` once its SQLite write-ahead log shows it is writing (> 2 MB)."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and (not wal.exists() or wal.stat().st_size < 2_000_000):
        time.sleep(0.02)
    assert process.poll() is None, f"the {what} finished before it could be killed"
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
