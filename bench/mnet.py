"""Benchmark of use_stats get_stats, scope 3 (site, courses and units). It measures; it never asserts.

    .venv/bin/python bench/mnet.py [--events 100000] [--courses 20] [--calls 20]
        [--database-url URL] [--keep DIR] [--drop-existing]

1. Builds a platform: one learner with `--events` activity-log rows spread over
   a year across `--courses` courses of 10 units each (70% of rows in a unit),
   plus imported lesson time, and a registered peer (a hand-made Moodle key),
   through the benches' one builder (common/platform.py).
2. Measures, median and p95 over `--calls` calls (target: <= 200 ms per call):
   (a) the use case: services.usage.get_stats + the <USE_STATS> message;
   (b) the same call through the endpoint (in-process WSGI): an XML-RPC
       methodCall signed (RSA/SHA-1) and sealed (RC4) by the caller, the gate,
       the call, and the answer signed and sealed back, then opened by the caller.
SQLite goes to a temporary directory, or to `--keep DIR`, unless `--database-url`
names an empty database (or `--drop-existing` is given).
"""

import argparse
import io
import random
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Engine

from aula_ws.config import Settings
from aula_ws.rpc import messages, server
from aula_ws.services import peers, usage
from aula_ws.services.clock import utc_now
from aula_ws.services.runtime import Services
from aula_ws.store import platform
from aula_ws.store.tables import activity_log, lesson_sessions
from common.platform import add_database_options, bulk_load, empty_database, workspace
from tests.mnet_peer import HandMadePeer, answer_value, method_call

SEED = 20261125
MOODLE = "http://moodle.bench"
UNITS_PER_COURSE = 10


def build(engine: Engine, events: int, courses: int, now: datetime) -> None:
    rng = random.Random(SEED)
    with engine.begin() as connection:
        learner = platform.add_user(connection, "lovecraft", firstname="Howard", lastname="Lovecraft", mnethost=MOODLE)
        units: dict[int, list[int]] = {}
        for n in range(courses):
            group = platform.add_group(connection, f"course{n:02}", now - timedelta(days=400), fullname=f"Course {n}")
            platform.enrol(connection, learner, group, "A", (now - timedelta(days=400)).date())
            units[group] = [
                platform.add_unit(connection, group, f"U{k}", "L", name=f"Unit {k}", position=k)
                for k in range(UNITS_PER_COURSE)
            ]
        start = now - timedelta(days=365)

        def log_rows() -> Iterator[tuple[Any, ...]]:
            for _ in range(events):
                group = rng.choice(list(units))
                unit = rng.choice(units[group]) if rng.random() < 0.7 else None
                yield learner, group, "viewed", unit, start + timedelta(seconds=rng.randrange(365 * 86400))

        bulk_load(connection, activity_log, ("user_id", "group_id", "action", "unit_id", "time"), log_rows())
        bulk_load(
            connection,
            lesson_sessions,
            ("user_id", "unit_id", "status", "status_date", "score", "time_spent"),
            (
                (learner, unit, "C", start + timedelta(days=k), 80, 900)
                for k, unit in enumerate(u for group_units in units.values() for u in group_units[:3])
            ),
        )


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
    add_database_options(parser)
    args = parser.parse_args()

    with workspace(args, "aula-bench-mnet-") as (directory, url):
        engine = empty_database(url, "mnet.py", args.drop_existing)
        now = utc_now()
        started = time.perf_counter()
        build(engine, args.events, args.courses, now)
        print(
            f"built {args.events} events over {args.courses} courses in {time.perf_counter() - started:.1f} s ({engine.dialect.name})"
        )

        settings = Settings(data_dir=directory, database_url=url, timezone=ZoneInfo("UTC"))
        moodle = HandMadePeer(MOODLE)
        peers.add_peer(engine, MOODLE, moodle.certificate_pem, now)
        caller = usage.Caller("lovecraft", MOODLE, MOODLE)

        def use_case() -> str:
            report = usage.get_stats(engine, caller, "lovecraft", 3, 0)
            return messages.success(messages.stats_message(report), True)

        services = Services(settings, engine)
        app = server.create_rpc_app(services)
        ours = peers.current_key(engine, services.key_policy, now).certificate_pem
        payload = method_call(
            "blocks/use_stats/rpclib.php/use_stats_rpc_get_stats",
            moodle.caller("lovecraft"),
            "lovecraft",
            "",
            3,
            0,
            True,
        )

        def through_envelope() -> object:
            body = moodle.sealed(moodle.signed(payload), ours)
            environ = {
                "REQUEST_METHOD": "POST",
                "CONTENT_LENGTH": str(len(body)),
                "wsgi.input": io.BytesIO(body),
                "REMOTE_ADDR": "192.0.2.1",
            }
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
