"""(d) one user over HTTP: 16 keep-alive clients in separate processes against a server
started in its own process: `aula-ws serve` as the README documents it (default options),
the same with one worker process (what it was before --workers), gunicorn if installed;
and the one-user call's latency alone, on one keep-alive connection, one call at a time."""

import http.client
import multiprocessing
import subprocess
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypedDict

from avance_parts.soap import post
from common.server import SERVING_ON, own_process

LOAD_CONNECTIONS, LOAD_PROCESSES = 16, 2
LOAD_REQUESTS, LOAD_SECONDS, LOAD_ROUNDS = 5_000, 10.0, 3  # per round; the median round counts
ALONE_CALLS = 1_000  # one connection, one call at a time: the latency of the call itself
SERVE = "aula-ws serve"  # as documented: its default options


class _Totals(TypedDict):
    requests: int
    errors: int
    ended: float


@dataclass(frozen=True)
class Load:
    requests: int
    errors: int
    seconds: float
    latencies: list[float]

    @property
    def per_second(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


def servers(venv_bin: Path) -> dict[str, tuple[list[str], str]]:
    """name: (command, the pattern of its "listening" line, the port in group 1)."""
    found = {
        SERVE: ([str(venv_bin / "aula-ws"), "serve", "--port", "0"], SERVING_ON),
        "aula-ws serve --workers 1": (
            [str(venv_bin / "aula-ws"), "serve", "--port", "0", "--workers", "1"],
            SERVING_ON,
        ),
    }
    if not (venv_bin / "gunicorn").exists():
        print("(d) gunicorn is not installed in the venv: skipped")
        return found
    gunicorn = [
        str(venv_bin / "gunicorn"),
        "-w",
        "2",
        "-k",
        "gthread",
        "--threads",
        "8",
        "-b",
        "127.0.0.1:0",
        "aula_ws.app:from_environment()",
    ]
    # recent gunicorn (27 here) opens a control socket in ~/.gunicorn, shared by every gunicorn
    if "--no-control-socket" in subprocess.run(gunicorn[:1] + ["--help"], capture_output=True, text=True).stdout:
        gunicorn.append("--no-control-socket")
    found["gunicorn (2 gthread x 8)"] = (gunicorn, r"Listening at: http://127\.0\.0\.1:(\d+)")
    return found


def _client_process(
    port: int,
    bodies: list[bytes],
    quota: int,
    seconds: float,
    threads: int,
    all_ready: Any,
    results: Any,
) -> None:
    """One load process: `threads` keep-alive connections, sharing `quota` requests."""
    issued = iter(range(quota))  # next() on a range iterator is atomic under the GIL
    lock = threading.Lock()
    window: dict[str, float] = {}
    totals: _Totals = {"requests": 0, "errors": 0, "ended": 0.0}
    latencies: list[float] = []

    def open_window() -> None:  # runs once, when every thread here is connected
        all_ready.wait(timeout=60)  # ... and every other process's threads too
        window["start"] = time.perf_counter()
        window["stop"] = window["start"] + seconds

    gate = threading.Barrier(threads, action=open_window, timeout=60)  # a timeout, never a hang

    def client(offset: int) -> None:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        mine, errors = [], 0

        def request(n: int) -> None:
            nonlocal errors
            try:
                status, answer = post(connection, bodies[n % len(bodies)])
                errors += status != 200 or b"<usuarios>" not in answer
            except (OSError, http.client.HTTPException):
                errors += 1
                connection.close()  # the next request reconnects

        request(offset)  # warm-up: opens the keep-alive connection
        errors = 0  # warm-up failures do not count
        gate.wait()
        n = offset
        while next(issued, None) is not None and time.perf_counter() < window["stop"]:
            n += 1
            began = time.perf_counter()
            request(n)
            mine.append(time.perf_counter() - began)
        ended = time.perf_counter()
        connection.close()
        with lock:
            latencies.extend(mine)
            totals["requests"] += len(mine)
            totals["errors"] += errors
            totals["ended"] = max(totals["ended"], ended)

    workers = [threading.Thread(target=client, args=(i * 97,)) for i in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    results.put(Load(totals["requests"], totals["errors"], totals["ended"] - window["start"], latencies))


def http_load(port: int, bodies: list[bytes]) -> Load:
    """LOAD_CONNECTIONS keep-alive clients spread over LOAD_PROCESSES processes, so the
    load generator does not share one GIL; bounded by LOAD_REQUESTS or LOAD_SECONDS."""
    context = multiprocessing.get_context("spawn")
    all_ready, results = context.Barrier(LOAD_PROCESSES), context.Queue()
    processes = [
        context.Process(
            target=_client_process,
            args=(
                port,
                bodies,
                LOAD_REQUESTS // LOAD_PROCESSES,
                LOAD_SECONDS,
                LOAD_CONNECTIONS // LOAD_PROCESSES,
                all_ready,
                results,
            ),
        )
        for _ in range(LOAD_PROCESSES)
    ]
    for process in processes:
        process.start()
    try:
        loads = [results.get(timeout=LOAD_SECONDS + 90) for _ in processes]
    finally:
        for process in processes:
            process.join(timeout=10)
            if process.is_alive():  # a client that failed to start: do not wait for it forever
                process.terminate()
    return Load(
        sum(x.requests for x in loads),
        sum(x.errors for x in loads),
        max(x.seconds for x in loads),
        [t for x in loads for t in x.latencies],
    )


def warm_up(port: int, bodies: Sequence[bytes], connections: int = 32) -> None:
    """Fresh connections, so every worker process has loaded the app before the clock starts."""
    deadline = time.monotonic() + 60
    for n in range(connections):
        while True:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
            try:
                post(connection, bodies[n % len(bodies)])
                break
            except (OSError, http.client.HTTPException):
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
            finally:
                connection.close()


def one_at_a_time(port: int, bodies: Sequence[bytes]) -> list[float]:
    """Latencies (s) of ALONE_CALLS calls on one keep-alive connection, nothing else running."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    latencies = []
    try:
        for n in range(ALONE_CALLS):
            began = time.perf_counter()
            status, answer = post(connection, bodies[n % len(bodies)])
            latencies.append(time.perf_counter() - began)
            if status != 200 or b"<usuarios>" not in answer:
                raise RuntimeError(f"one-user call answered {status}: {answer[:200]!r}")
    finally:
        connection.close()
    return latencies


@dataclass(frozen=True)
class Served:
    rounds: list[Load]  # fastest last
    alone: list[float]  # one_at_a_time's latencies


def load_against(
    name: str,
    command: list[str],
    environment: dict[str, str],
    workdir: Path,
    listening: str,
    bodies: list[bytes],
) -> Served:
    """LOAD_ROUNDS rounds against one server process, then the calls one at a time."""
    log_name = "-".join(name.replace("-", " ").split())
    with own_process(command, environment, workdir / f"{log_name}.log", listening) as port:
        warm_up(port, bodies)
        rounds = sorted((http_load(port, bodies) for _ in range(LOAD_ROUNDS)), key=lambda load: load.per_second)
        return Served(rounds, one_at_a_time(port, bodies))
