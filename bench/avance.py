"""Benchmark of obtener_avance_usuarios on one large group. It measures; it never asserts.

    .venv/bin/python bench/avance.py [--members 100000] [--units 20]
        [--database-url URL] [--keep DIR] [--drop-existing]

1. Builds a platform: one group of `--members` users (mostly perfil A), a few
   million lesson sessions, some course statuses and activity-log rows.
2. Measures:
   (a) the whole group over HTTP (in-process waitress), undated and dated;
   (b) its floor: the bare SQL aggregate (`member_facts`) + f-string XML;
   (c) one user, in-process (the WSGI callable called directly): p50/p95;
   (d) one user over HTTP, 16 keep-alive clients in separate processes,
       against waitress and gunicorn (if installed) in their own processes.
3. Prints a summary, plain and as a markdown table.

SQLite (default) goes to a temporary directory, or to `--keep DIR`, which is
kept. A `--database-url` (sqlite or postgresql+psycopg) must be an empty
database unless `--drop-existing` is given.
"""

import argparse
import http.client
import io
import multiprocessing
import os
import random
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape
from zoneinfo import ZoneInfo

import waitress
from sqlalchemy import Connection, Engine, inspect, text

from aula_ws.app import create_app
from aula_ws.config import Settings
from aula_ws.domain.contract_dates import end_of_day
from aula_ws.soap.namespaces import AULA, SOAP11_ENV
from aula_ws.store import platform
from aula_ws.store.database import create_database_engine, upgrade
from aula_ws.store.progress import member_facts
from aula_ws.store.tables import metadata

SEED = 20261125
GROUP_SHORTNAME = "bench-avance"
UTC_ZONE = ZoneInfo("UTC")
PERFILES = ["A"] * 18 + ["D", "T"]  # 90% learners
SESSION_STATUSES = "CCCCCCCPPPFFFIIIIINN"  # C 35%, P 15%, F 15%, I 25%, N 10%
NAME_STEMS = [
    "garcia",
    "lopez",
    "martin",
    "sosa",
    "rossi",
    "silva",
    "perez",
    "gomez",
    "diaz",
    "ruiz",
]
VENV_BIN = Path(sys.executable).parent
RUNS = 3  # medians of 3 for the whole-group figures
ONE_USER_CALLS = 2_000
LOAD_CONNECTIONS, LOAD_PROCESSES = 16, 2
LOAD_REQUESTS, LOAD_SECONDS, LOAD_ROUNDS = 5_000, 10.0, 3  # per round; the median round counts


# --------------------------------------------------------------------------- building


@dataclass(frozen=True)
class Platform:
    group_id: int
    unit_count: int
    logins: list[str]
    first_user_id: int  # logins[n] has id first_user_id + n
    start: datetime  # the two years of history begin here
    row_counts: dict[str, int]


def utc_now() -> datetime:
    """Naive UTC, as the store keeps time."""
    return datetime.now(UTC).replace(tzinfo=None)


def datetime_text(moment: datetime) -> str:
    """How SQLAlchemy's SQLite DateTime stores a value; comparisons need exactly this form.
    PostgreSQL's COPY parses the same text into a timestamp."""
    return moment.isoformat(" ", "microseconds")


def build_platform(engine: Engine, members: int, unit_count: int, now: datetime) -> Platform:
    rng = random.Random(SEED)
    start = (now - timedelta(days=730)).replace(microsecond=0)
    span = int((now - timedelta(days=1) - start).total_seconds())

    def moment() -> str:
        return datetime_text(start + timedelta(seconds=rng.randrange(span)))

    counts: dict[str, int] = {}
    with engine.begin() as connection:
        group_id = platform.add_group(connection, GROUP_SHORTNAME, start, fullname="Benchmark")
        unit_ids = [
            platform.add_unit(connection, group_id, f"U{n:02d}", "LAWTE"[n % 5], position=n)
            for n in range(1, unit_count + 1)
        ]
        first_id = connection.scalar(text("SELECT max(id) FROM users")) + 1
        user_ids = range(first_id, first_id + members)
        logins = [f"{rng.choice(NAME_STEMS)}.{n}" for n in range(members)]
        perfiles = [rng.choice(PERFILES) for _ in user_ids]
        learners = [u for u, perfil in zip(user_ids, perfiles, strict=True) if perfil == "A"]

        def users() -> Iterator[tuple[Any, ...]]:
            for user_id, login in zip(user_ids, logins, strict=True):
                yield user_id, login, login.split(".")[0].title(), f"{login}@example.org"

        def memberships() -> Iterator[tuple[Any, ...]]:
            for user_id, perfil in zip(user_ids, perfiles, strict=True):
                fecha_alta = (start + timedelta(days=rng.randrange(200))).date().isoformat()
                yield (
                    user_id,
                    group_id,
                    perfil,
                    perfil == "T",
                    perfil == "D",
                    rng.random() > 0.03,
                    fecha_alta,
                )

        def lesson_sessions() -> Iterator[tuple[Any, ...]]:
            for user_id in learners:
                engagement = (
                    rng.random() ** 0.25
                )  # share of the units this learner touches (mean 0.8)
                for unit_id in unit_ids:
                    if rng.random() < engagement:
                        for _ in range(1 + (rng.random() < 0.5)):  # 1 or 2 sessions
                            status = SESSION_STATUSES[rng.randrange(20)]
                            yield (
                                user_id,
                                unit_id,
                                status,
                                moment(),
                                rng.randrange(101),
                                rng.randrange(60, 5400),
                            )

        def course_statuses() -> Iterator[tuple[Any, ...]]:
            for user_id in learners:
                if rng.random() < 0.15:
                    started = start + timedelta(seconds=rng.randrange(span // 2))
                    yield user_id, group_id, "I", datetime_text(started)
                    if rng.random() < 0.5:
                        finished = started + timedelta(seconds=rng.randrange(span // 2))
                        yield user_id, group_id, "C", datetime_text(finished)

        def activity_log() -> Iterator[tuple[Any, ...]]:
            for user_id in user_ids:
                for _ in range(rng.randrange(5)):
                    yield (
                        user_id,
                        group_id,
                        rng.choice(unit_ids) if unit_ids else None,
                        moment(),
                        "viewed",
                    )

        loads: list[tuple[str, Sequence[str], Iterable[tuple[Any, ...]]]] = [
            ("users", ("id", "username", "firstname", "email"), users()),
            (
                "memberships",
                (
                    "user_id",
                    "group_id",
                    "perfil",
                    "administrador_grupo",
                    "responsable_grupo",
                    "estado",
                    "fecha_alta",
                ),
                memberships(),
            ),
            (
                "lesson_sessions",
                ("user_id", "unit_id", "status", "status_date", "score", "time_spent"),
                lesson_sessions(),
            ),
            (
                "course_statuses",
                ("user_id", "group_id", "status", "status_date"),
                course_statuses(),
            ),
            ("activity_log", ("user_id", "group_id", "unit_id", "time", "action"), activity_log()),
        ]
        for table, columns, rows in loads:
            began = time.perf_counter()
            counts[table] = bulk_load(connection, table, columns, rows)
            print(
                f"  {table:<16} {counts[table]:>10,} rows  {time.perf_counter() - began:6.1f} s",
                flush=True,
            )
        if connection.dialect.name == "postgresql":  # explicit ids do not move the sequence
            connection.exec_driver_sql(
                "SELECT setval(pg_get_serial_sequence('users', 'id'), max(id)) FROM users"
            )
    return Platform(group_id, unit_count, logins, first_id, start, counts)


def bulk_load(
    connection: Connection, table: str, columns: Sequence[str], rows: Iterable[tuple[Any, ...]]
) -> int:
    """Streams `rows` in through the driver: COPY on PostgreSQL, executemany on SQLite.
    Both read the generator lazily, so millions of rows never sit in one list."""
    counted = _Counter(rows)
    cursor = connection.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    names = ", ".join(columns)
    if connection.dialect.name == "postgresql":
        with cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
            for row in counted:
                copy.write_row(row)
    else:
        cursor.executemany(
            f"INSERT INTO {table} ({names}) VALUES ({', '.join('?' * len(columns))})", counted
        )
    cursor.close()
    return counted.count


class _Counter:
    def __init__(self, rows: Iterable[tuple[Any, ...]]):
        self.rows, self.count = rows, 0

    def __iter__(self) -> Iterator[tuple[Any, ...]]:
        for row in self.rows:
            self.count += 1
            yield row


def prepare_database(engine: Engine, drop_existing: bool) -> None:
    """An empty database at schema head; refuses to touch one that holds tables unless told."""
    existing = inspect(engine).get_table_names()
    if existing and not drop_existing:
        sys.exit(
            f"avance.py: the database already has tables ({', '.join(existing)}); "
            "give an empty one or --drop-existing"
        )
    if existing:
        metadata.drop_all(engine)
        with engine.begin() as connection:
            connection.exec_driver_sql("DROP TABLE IF EXISTS alembic_version")
    upgrade(engine)


def analyze(engine: Engine) -> None:
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.exec_driver_sql("VACUUM ANALYZE")
    else:
        with engine.begin() as connection:
            connection.exec_driver_sql("ANALYZE")
        with engine.connect() as connection:  # fold the bulk load's WAL back into the file
            connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")


# --------------------------------------------------------------------------- SOAP requests

SOAP_HEADERS = {
    "Content-Type": "text/xml; charset=utf-8",
    "SOAPAction": '"obtener_avance_usuarios"',
}


def progress_request(group_id: int, **parameters: str) -> bytes:
    fields = "".join(
        f"<aula:{name}>{escape(value)}</aula:{name}>" for name, value in parameters.items()
    )
    return (
        f'<soapenv:Envelope xmlns:soapenv="{SOAP11_ENV}" xmlns:aula="{AULA}"><soapenv:Body>'
        f"<aula:obtener_avance_usuarios><aula:id_grupo>{group_id}</aula:id_grupo>{fields}"
        "</aula:obtener_avance_usuarios></soapenv:Body></soapenv:Envelope>"
    ).encode()


def post(connection: http.client.HTTPConnection, body: bytes) -> tuple[int, bytes]:
    connection.request("POST", "/soap", body, SOAP_HEADERS)
    response = connection.getresponse()
    return response.status, response.read()


# --------------------------------------------------------------------------- (a) and (b)


@dataclass(frozen=True)
class WholeGroup:
    median: float
    runs: list[float]
    first_byte: float  # median time to the response's headers: the server's work before sending
    megabytes: float
    usuarios: int


def whole_group_http(port: int, body: bytes) -> WholeGroup:
    runs, first_bytes = [], []
    for _ in range(RUNS):
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
        began = time.perf_counter()
        connection.request("POST", "/soap", body, SOAP_HEADERS)
        response = connection.getresponse()
        first_bytes.append(time.perf_counter() - began)
        payload = response.read()
        runs.append(time.perf_counter() - began)
        connection.close()
    usuarios = payload.count(b"<usuarios>") if response.status == 200 else -response.status
    return WholeGroup(
        statistics.median(runs), runs, statistics.median(first_bytes), len(payload) / 1e6, usuarios
    )


_XML_OPEN = (
    f"<?xml version='1.0' encoding='UTF-8'?>\n<soap11env:Envelope xmlns:soap11env=\"{SOAP11_ENV}\">"
    f'<soap11env:Body><obtener_avance_usuarios_response xmlns="{AULA}">'
)
_XML_CLOSE = "</obtener_avance_usuarios_response></soap11env:Body></soap11env:Envelope>"


@dataclass(frozen=True)
class Floor:
    median: float
    runs: list[float]
    sql: float  # median of the SQL part alone
    rows: int


def floor(
    engine: Engine, group_id: int, unit_count: int, upper: datetime, lower: datetime
) -> Floor:
    """The least any implementation must do: the aggregate, then the same XML by f-strings.
    avance is a plain ratio here; the service's rules cost a little more."""
    runs, sql_runs = [], []
    for _ in range(RUNS):
        began = time.perf_counter()
        with engine.connect() as connection:
            facts = member_facts(connection, group_id, upper=upper, lower=lower)
        sql_runs.append(time.perf_counter() - began)
        units = max(unit_count, 1)
        text_of = {True: "true", False: "false"}
        parts = [_XML_OPEN]
        parts.extend(
            f"<usuarios><administrador_grupo>{text_of[f.administrador_grupo]}</administrador_grupo>"
            f"<estado>{text_of[f.estado]}</estado><id_grupo>{group_id}</id_grupo>"
            f"<perfil>{escape(f.perfil)}</perfil>"
            f"<fecha_alta>{f.fecha_alta.isoformat()}</fecha_alta>"
            f"<responsable_grupo>{text_of[f.responsable_grupo]}</responsable_grupo>"
            f"<avance>{100 * f.units_completed_upper // units}</avance>"
            f"<id_usuario>{escape(f.username)}</id_usuario></usuarios>"
            for f in facts
        )
        parts.append(_XML_CLOSE)
        "".join(parts).encode()
        runs.append(time.perf_counter() - began)
    return Floor(statistics.median(runs), runs, statistics.median(sql_runs), len(facts))


# --------------------------------------------------------------------------- (c)


def percentile(values: Sequence[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def wsgi_environ(body: bytes) -> dict[str, Any]:
    return {
        "REQUEST_METHOD": "POST",
        "PATH_INFO": "/soap",
        "QUERY_STRING": "",
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "80",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "HTTP_HOST": "127.0.0.1",
        "CONTENT_TYPE": SOAP_HEADERS["Content-Type"],
        "CONTENT_LENGTH": str(len(body)),
        "HTTP_SOAPACTION": SOAP_HEADERS["SOAPAction"],
        "wsgi.input": io.BytesIO(body),
        "wsgi.errors": sys.stderr,
        "wsgi.url_scheme": "http",
        "wsgi.version": (1, 0),
        "wsgi.multithread": True,
        "wsgi.multiprocess": False,
        "wsgi.run_once": False,
    }


def one_user_in_process(
    app: Callable[..., Iterable[bytes]], bodies: Sequence[bytes]
) -> tuple[list[float], int]:
    """Latencies (s) of the WSGI callable itself, and how many answers were not one <usuarios>."""
    statuses: list[str] = []

    def start_response(status: str, _headers: list[tuple[str, str]], _exc_info: Any = None) -> None:
        statuses.append(status)

    latencies, wrong = [], 0
    for body in bodies:
        environ = wsgi_environ(body)
        began = time.perf_counter()
        answer = b"".join(app(environ, start_response))
        latencies.append(time.perf_counter() - began)
        wrong += not (statuses[-1].startswith("200") and answer.count(b"<usuarios>") == 1)
    return latencies, wrong


def one_user_sql(
    engine: Engine, group_id: int, user_ids: Sequence[int], now: datetime
) -> list[float]:
    """Context for (c): the one-user aggregate alone, a pool checkout per call as in the service."""
    latencies = []
    for user_id in user_ids:
        began = time.perf_counter()
        with engine.connect() as connection:
            member_facts(connection, group_id, upper=now, lower=now, user_id=user_id)
        latencies.append(time.perf_counter() - began)
    return latencies


# --------------------------------------------------------------------------- (d)


@dataclass(frozen=True)
class Load:
    requests: int
    errors: int
    seconds: float
    latencies: list[float]

    @property
    def per_second(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


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
    totals = {"requests": 0, "errors": 0, "ended": 0.0}
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
    results.put(
        Load(totals["requests"], totals["errors"], totals["ended"] - window["start"], latencies)
    )


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


def start_server(
    command: list[str], environment: dict[str, str], log_path: Path, listening: str
) -> tuple[subprocess.Popen[bytes], int]:
    """Starts a server, its output to `log_path`; waits for the `listening` pattern's port."""
    with log_path.open("wb") as log:
        process = subprocess.Popen(command, env=environment, stdout=log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        found = re.search(listening, log_path.read_text(errors="replace"))
        if found:
            return process, int(found[1])
        if process.poll() is not None:
            break
        time.sleep(0.1)
    stop_server(process)
    raise RuntimeError(f"{command[0]} did not start; see {log_path}")


def stop_server(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


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


def load_against(
    name: str,
    command: list[str],
    environment: dict[str, str],
    workdir: Path,
    listening: str,
    bodies: list[bytes],
) -> list[Load]:
    """LOAD_ROUNDS rounds against one server process, fastest last."""
    process, port = start_server(command, environment, workdir / f"{name}.log", listening)
    try:
        warm_up(port, bodies)
        return sorted(
            (http_load(port, bodies) for _ in range(LOAD_ROUNDS)), key=lambda load: load.per_second
        )
    finally:
        stop_server(process)


# --------------------------------------------------------------------------- main


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.3f} ms"


def seconds_list(values: Iterable[float]) -> str:
    return ", ".join(f"{v:.3f}" for v in values)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--members", type=int, default=100_000)
    parser.add_argument("--units", type=int, default=20)
    parser.add_argument("--database-url", help="default: SQLite in the work directory")
    parser.add_argument(
        "--keep", type=Path, metavar="DIR", help="work directory to keep (default: a temporary one)"
    )
    parser.add_argument(
        "--drop-existing", action="store_true", help="drop the aula tables of --database-url first"
    )
    args = parser.parse_args(argv)

    temporary = None if args.keep else tempfile.TemporaryDirectory(prefix="aula-bench-")
    workdir = args.keep or Path(temporary.name)  # type: ignore[union-attr]
    workdir.mkdir(parents=True, exist_ok=True)
    url = args.database_url or f"sqlite:///{workdir / 'aula.sqlite3'}"
    try:
        run(url, workdir, args.members, args.units, args.drop_existing)
    finally:
        if temporary is not None:
            temporary.cleanup()


def run(url: str, workdir: Path, members: int, unit_count: int, drop_existing: bool) -> None:
    engine = create_database_engine(url)
    load_at_start = os.getloadavg()[0]  # other work on the machine skews every figure, (d) most
    print(
        f"database {engine.url.render_as_string(hide_password=True)}  work dir {workdir}  "
        f"load average {load_at_start:.2f}",
        flush=True,
    )
    now = utc_now()
    began = time.perf_counter()
    prepare_database(engine, drop_existing)
    bench = build_platform(engine, members, unit_count, now)
    analyze(engine)
    build_seconds = time.perf_counter() - began
    print(f"built in {build_seconds:.1f} s (ANALYZE included)\n", flush=True)

    settings = Settings(data_dir=workdir, database_url=url, timezone=UTC_ZONE)
    app = create_app(settings, engine)
    desde = (bench.start + timedelta(days=240)).date()
    hasta = (bench.start + timedelta(days=600)).date()
    variants = {
        "undated": ({}, utc_now(), utc_now()),
        f"{desde}..{hasta}": (
            {"fecha_desde": desde.isoformat(), "fecha_hasta": hasta.isoformat()},
            end_of_day(hasta, UTC_ZONE),
            end_of_day(desde, UTC_ZONE),
        ),
    }
    expected = members + 1  # and _anonimo

    # (a) + (b): one waitress in this process, as a deployment would run it
    server = waitress.create_server(app, host="127.0.0.1", port=0, threads=8)
    threading.Thread(target=server.run, daemon=True).start()
    whole: dict[str, tuple[WholeGroup, Floor]] = {}
    try:
        for label, (dates, upper, lower) in variants.items():
            http_figure = whole_group_http(
                server.effective_port, progress_request(bench.group_id, **dates)
            )
            floor_figure = floor(engine, bench.group_id, bench.unit_count, upper=upper, lower=lower)
            whole[label] = (http_figure, floor_figure)
            check = "ok" if http_figure.usuarios == expected else f"EXPECTED {expected:,}"
            ratio = http_figure.median / floor_figure.median
            print(
                f"(a) whole group {label}, HTTP: median {http_figure.median:.3f} s "
                f"(runs {seconds_list(http_figure.runs)}; headers after "
                f"{http_figure.first_byte:.3f} s), {http_figure.megabytes:.1f} MB, "
                f"{http_figure.usuarios:,} <usuarios> {check}"
            )
            print(
                f"(b) floor {label}: median {floor_figure.median:.3f} s "
                f"(runs {seconds_list(floor_figure.runs)}; SQL {floor_figure.sql:.3f} s), "
                f"{floor_figure.rows:,} rows;  (a)/(b) = {ratio:.2f}",
                flush=True,
            )
    finally:
        server.close()
        server.task_dispatcher.shutdown()

    # (c) one user, in-process
    rng = random.Random(SEED + 1)
    sample = rng.choices(range(members), k=ONE_USER_CALLS)
    bodies = [progress_request(bench.group_id, id_usuario=bench.logins[n]) for n in sample]
    one_user_in_process(app, bodies[:100])  # warm-up: statement caches, pool
    latencies, wrong = one_user_in_process(app, bodies)
    sql_latencies = one_user_sql(
        engine, bench.group_id, [bench.first_user_id + n for n in sample], now
    )
    print(
        f"\n(c) one user in-process, {len(bodies):,} calls: p50 {ms(percentile(latencies, 0.5))}, "
        f"p95 {ms(percentile(latencies, 0.95))}, {wrong} wrong answers; "
        f"member_facts alone p50 {ms(percentile(sql_latencies, 0.5))}",
        flush=True,
    )
    engine.dispose()

    # (d) one user over HTTP, servers in their own processes
    environment = {
        **os.environ,
        "AULA_DATABASE_URL": url,
        "AULA_DATA_DIR": str(workdir),
        "AULA_TIMEZONE": "UTC",
    }
    servers = {
        "waitress (threads=8)": (
            [str(VENV_BIN / "aula-ws"), "serve", "--port", "0", "--threads", "8"],
            r"serving on http://127\.0\.0\.1:(\d+)/",
        )
    }
    if (VENV_BIN / "gunicorn").exists():
        gunicorn = [
            str(VENV_BIN / "gunicorn"),
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
        if (
            "--no-control-socket"
            in subprocess.run(gunicorn[:1] + ["--help"], capture_output=True, text=True).stdout
        ):
            gunicorn.append("--no-control-socket")
        servers["gunicorn (2 gthread x 8)"] = (gunicorn, r"Listening at: http://127\.0\.0\.1:(\d+)")
    else:
        print("(d) gunicorn is not installed in the venv: skipped")
    loads: dict[str, Load] = {}
    for name, (command, listening) in servers.items():
        rounds = load_against(
            name.split()[0], command, environment, workdir, listening, bodies[:1000]
        )
        load = loads[name] = rounds[len(rounds) // 2]
        rates = ", ".join(f"{r.per_second:,.0f}" for r in rounds)
        print(
            f"(d) {name}: median {load.per_second:,.0f} req/s (rounds {rates}; median round "
            f"{load.requests:,} requests in {load.seconds:.2f} s; "
            f"{sum(r.errors for r in rounds)} errors in all rounds; "
            f"p50 {ms(percentile(load.latencies, 0.5))}, "
            f"p95 {ms(percentile(load.latencies, 0.95))})",
            flush=True,
        )

    # summary
    rows = [
        (
            "build",
            f"{build_seconds:.1f} s for {members:,} members, "
            f"{bench.row_counts['lesson_sessions']:,} sessions",
            "",
            "",
        )
    ]
    for label, (http_figure, floor_figure) in whole.items():
        ratio = http_figure.median / floor_figure.median
        rows.append((f"(a) whole group {label}, HTTP", f"{http_figure.median:.3f} s", "", ""))
        rows.append((f"(b) floor {label}", f"{floor_figure.median:.3f} s", "", ""))
        rows.append((f"(a)/(b) {label}", f"{ratio:.2f}", "<= 2", "ok" if ratio <= 2 else "MISSED"))
    p50 = percentile(latencies, 0.5)
    rows.append(
        ("(c) one user in-process p50", ms(p50), "<= 1 ms", "ok" if p50 <= 0.001 else "MISSED")
    )
    rows.append(("(c) one user in-process p95", ms(percentile(latencies, 0.95)), "", ""))
    for name, load in loads.items():
        rows.append(
            (
                f"(d) one user over HTTP, {name}",
                f"{load.per_second:,.0f} req/s",
                ">= 1,000 req/s",
                "ok" if load.per_second >= 1000 and not load.errors else "MISSED",
            )
        )
    rows.append(
        (
            "1-minute load average, start / end",
            f"{load_at_start:.2f} / {os.getloadavg()[0]:.2f}",
            "",
            "",
        )
    )
    print_summary(rows, engine.dialect.name, members, unit_count)


def print_summary(
    rows: list[tuple[str, str, str, str]], dialect: str, members: int, unit_count: int
) -> None:
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    print(f"\nSummary ({dialect}, {members:,} members, {unit_count} units, {os.cpu_count()} CPUs)")
    for row in rows:
        print(
            "  "
            + "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        )
    print("\n| measurement | figure | target | status |\n|---|---|---|---|")
    for row in rows:
        print("| " + " | ".join(row) + " |")


if __name__ == "__main__":
    main()
