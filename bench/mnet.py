"""Benchmark of use_stats get_stats, scope 3 (site, courses and units). It measures; it never asserts.

    .venv/bin/python bench/mnet.py [--events 100000] [--courses 20] [--calls 20] [--database-url URL]

1. Builds a platform: one learner with `--events` activity-log rows spread over
   a year across `--courses` courses of 10 units each (70% of rows in a unit),
   plus imported lesson time, and a registered peer (a hand-made Moodle key).
2. Measures, median and p95 over `--calls` calls (target: <= 200 ms per call):
   (a) the use case: services.usage.get_stats + the <USE_STATS> message;
   (b) the same call through the endpoint (in-process WSGI): an XML-RPC
       methodCall signed (RSA/SHA-1) and sealed (RC4) by the caller, the gate,
       the call, and the answer signed and sealed back, then opened by the caller.
SQLite goes to a temporary directory unless `--database-url` names an empty database.
"""

import argparse
import io
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from aula_ws.config import Settings  # noqa: E402
from aula_ws.services import peers, usage  # noqa: E402
from aula_ws.services.usage import utc_now  # noqa: E402
from aula_ws.store import platform  # noqa: E402
from aula_ws.store.database import create_database_engine, upgrade  # noqa: E402
from aula_ws.store.unit_of_work import UnitOfWork  # noqa: E402
from aula_ws.rpc import messages, server  # noqa: E402
from tests.mnet_peer import HandMadePeer, answer_value, method_call  # noqa: E402

SEED = 20261125
MOODLE = "http://moodle.bench"
UNITS_PER_COURSE = 10
BATCH = 10_000


def build(engine, events: int, courses: int, now: datetime) -> None:
    rng = random.Random(SEED)
    with UnitOfWork(engine) as uow:
        connection = uow.connection
        learner = platform.add_user(connection, "lovecraft", firstname="Howard", lastname="Lovecraft")
        units: dict[int, list[int]] = {}
        for n in range(courses):
            group = platform.add_group(connection, f"course{n:02}", now - timedelta(days=400), fullname=f"Course {n}")
            platform.enrol(connection, learner, group, "A", (now - timedelta(days=400)).date())
            units[group] = [
                platform.add_unit(connection, group, f"U{k}", "L", name=f"Unit {k}", position=k)
                for k in range(UNITS_PER_COURSE)
            ]
        start = now - timedelta(days=365)
        rows = []
        for _ in range(events):
            group = rng.choice(list(units))
            rows.append(dict(
                user_id=learner, group_id=group, action="viewed",
                unit_id=rng.choice(units[group]) if rng.random() < 0.7 else None,
                time=start + timedelta(seconds=rng.randrange(365 * 86400)),
            ))
            if len(rows) == BATCH:
                platform.add_rows(connection, "activity_log", rows)
                rows = []
        platform.add_rows(connection, "activity_log", rows)
        platform.add_rows(connection, "lesson_sessions", [
            dict(user_id=learner, unit_id=unit, status="C", status_date=start + timedelta(days=k), score=80, time_spent=900)
            for k, unit in enumerate(u for group_units in units.values() for u in group_units[:3])
        ])
        uow.commit()


def timed(calls: int, call: Callable[[], object]) -> tuple[float, float]:
    call()  # warm up (keys parsed, statements compiled)
    seconds = []
    for _ in range(calls):
        started = time.perf_counter()
        call()
        seconds.append(time.perf_counter() - started)
    seconds.sort()
    return statistics.median(seconds) * 1000, seconds[min(len(seconds) - 1, int(len(seconds) * 0.95))] * 1000


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--courses", type=int, default=20)
    parser.add_argument("--calls", type=int, default=20)
    parser.add_argument("--database-url")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as directory:
        url = args.database_url or f"sqlite:///{Path(directory) / 'bench.sqlite3'}"
        engine = create_database_engine(url)
        upgrade(engine)
        now = utc_now()
        started = time.perf_counter()
        build(engine, args.events, args.courses, now)
        print(f"built {args.events} events over {args.courses} courses in {time.perf_counter() - started:.1f} s ({engine.dialect.name})")

        settings = Settings(data_dir=Path(directory), database_url=url, timezone=ZoneInfo("UTC"))
        moodle = HandMadePeer(MOODLE)
        peers.add_peer(engine, MOODLE, moodle.certificate_pem, now)
        caller = usage.Caller("lovecraft", MOODLE, MOODLE)

        def use_case() -> str:
            report = usage.get_stats(engine, caller, "lovecraft", 3, 0)
            return messages.success(messages.stats_message(report), True)

        app = server.create_rpc_app(settings, engine)
        ours = peers.current_key(engine, server.key_policy(settings), now).certificate_pem
        payload = method_call(
            "blocks/use_stats/rpclib.php/use_stats_rpc_get_stats", moodle.caller("lovecraft"), "lovecraft", "", 3, 0, True
        )

        def through_envelope() -> object:
            body = moodle.sealed(moodle.signed(payload), ours)
            environ = {"REQUEST_METHOD": "POST", "CONTENT_LENGTH": str(len(body)), "wsgi.input": io.BytesIO(body),
                       "REMOTE_ADDR": "192.0.2.1"}
            answer = b"".join(app(environ, lambda status, headers: None))
            return answer_value(moodle.open_answer(answer, ours))

        sample = use_case()
        assert '"status": 200' in sample, sample[:300]
        results = {
            "get_stats scope 3, use case (query + engine + message)": timed(args.calls, use_case),
            "get_stats scope 3, signed + sealed envelope (in-process WSGI)": timed(args.calls, through_envelope),
        }
        print(f"\nanswer: {len(sample)} bytes, {sample.count('<MODULE>')} modules, {sample.count('<COURSE>')} courses")
        print(f"\n| call ({args.events} events, {args.courses} courses) | median ms | p95 ms |\n|---|---|---|")
        for name, (median, p95) in results.items():
            print(f"| {name} | {median:.1f} | {p95:.1f} |")
        engine.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
