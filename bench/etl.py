"""Benchmark of report_etl_get. It measures; it never asserts.

    .venv/bin/python bench/etl.py [--events 1000000] [--members 100000] [--runs 5] [--postgres]
        [--database-url URL] [--keep DIR] [--drop-existing]

1. Builds (through the benches' one builder, common/platform.py) an activity log of
   `--events` events (1,000 users, 20 groups, many events sharing a second)
   and one group of `--members` members with 20 units and their sessions.
2. Measures, median of `--runs` (min in brackets):
   - one `special_actions` call of 5,000 records from the middle of the log:
     over HTTP (REST, in-process waitress), the service alone, the SQL page alone;
   - one `special_progress` call of 5,000 records of the large group:
     over HTTP and the service alone, then later pages of the same pass over HTTP.
SQLite (default) goes to a temporary directory, or to `--keep DIR`. A
`--database-url` (sqlite or postgresql+psycopg) must be an empty database
unless `--drop-existing` is given.
"""

import argparse
import json
import random
import statistics
import sys
import time
import tracemalloc
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator, Sequence
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from lxml import etree
from sqlalchemy import Engine

from aula_ws.config import Settings
from aula_ws.domain.etl import Position, from_unix, unix
from aula_ws.services import etl, tokens
from aula_ws.services.clock import utc_now
from aula_ws.store import etl as etl_store
from aula_ws.store import platform
from aula_ws.store.tables import activity_log, lesson_sessions, memberships, users
from common.platform import (
    add_database_options,
    analyze,
    bulk_load,
    empty_database,
    next_user_id,
    users_loaded,
    workspace,
)
from common.server import application, in_process

SEED = 20261125
GROUPS, UNITS, LOG_USERS = 20, 10, 1_000
ACTIONS = ["viewed", "submitted", "loggedin", "loggedout", "graded", "posted & replied"]


def build(engine: Engine, events: int, members: int, now: datetime) -> tuple[int, datetime, datetime]:
    """(the large group's id, the log's first and last time)."""
    rng = random.Random(SEED)
    start = (now - timedelta(days=365)).replace(microsecond=0)
    span = 365 * 86_400 - 86_400
    with engine.begin() as connection:
        group_ids = [platform.add_group(connection, f"bench-etl-{n}", start) for n in range(GROUPS)]
        unit_ids = {
            g: [platform.add_unit(connection, g, f"U{u}", "LAWTE"[u % 5]) for u in range(UNITS)] for g in group_ids
        }
        first_user = next_user_id(connection)
        total_users = LOG_USERS + members
        bulk_load(connection, users, ("id", "username"), ((first_user + n, f"bench.{n}") for n in range(total_users)))
        users_loaded(connection)

        def log_rows() -> Iterator[tuple[Any, ...]]:
            # sorted times, ~1 event per 30 s on average, bursts sharing one second
            moments = sorted(rng.randrange(span) for _ in range(events))
            for second in moments:
                group = rng.choice(group_ids)
                unit = rng.choice(unit_ids[group]) if rng.random() < 0.8 else None
                yield (
                    first_user + rng.randrange(LOG_USERS),
                    group,
                    unit,
                    start + timedelta(seconds=second),
                    rng.choice(ACTIONS),
                )

        bulk_load(connection, activity_log, ("user_id", "group_id", "unit_id", "time", "action"), log_rows())

        large = platform.add_group(connection, "bench-etl-large", start)
        large_units = [platform.add_unit(connection, large, f"L{u:02d}", "L") for u in range(20)]
        member_ids = range(first_user + LOG_USERS, first_user + total_users)
        bulk_load(
            connection,
            memberships,
            ("user_id", "group_id", "perfil", "estado", "fecha_alta"),
            ((u, large, "A", True, (start + timedelta(days=rng.randrange(200))).date()) for u in member_ids),
        )

        def sessions() -> Iterator[tuple[Any, ...]]:
            for user in member_ids:
                for unit in large_units:
                    if rng.random() < 0.5:
                        yield (
                            user,
                            unit,
                            rng.choice("CCPFIN"),
                            start + timedelta(seconds=rng.randrange(span)),
                            rng.randrange(101),
                        )

        bulk_load(connection, lesson_sessions, ("user_id", "unit_id", "status", "status_date", "score"), sessions())
    analyze(engine)
    return large, start, start + timedelta(seconds=span)


def timed(action: Callable[[], Any], runs: int) -> tuple[float, float, Any]:
    results, durations = None, []
    for _ in range(runs):
        began = time.perf_counter()
        results = action()
        durations.append(time.perf_counter() - began)
    return statistics.median(durations), min(durations), results


def rest_call(base: str, token: str, plugin: str, instance: int, params: dict[str, Any]) -> dict[str, Any]:
    body = urllib.parse.urlencode(
        {
            "wstoken": token,
            "wsfunction": "report_etl_get",
            "plugin": plugin,
            "id": instance,
            "queryparams": json.dumps(params),
            "testmode": "0",
        }
    ).encode()
    # Moodle's default XML format, as a boardz job reads it
    with urllib.request.urlopen(f"{base}/webservice/rest/server.php", data=body, timeout=120) as response:
        document = etree.fromstring(response.read())
    if document.tag != "RESPONSE":
        sys.exit(f"etl.py: the server refused: {etree.tostring(document)!r}")
    answer = {str(key.get("name")): key.findtext("VALUE") for key in document.iter("KEY")}
    return {**answer, "records": int(answer["records"] or 0)}


def ms(seconds: float) -> str:
    return f"{seconds * 1000:,.0f} ms"


def run(url: str, data_dir: Path, events: int, members: int, runs: int, drop_existing: bool) -> None:
    engine = empty_database(url, "etl.py", drop_existing)
    now = utc_now()
    print(f"building: {events:,} activity-log events, a group of {members:,} members ({engine.dialect.name})")
    large, first, last = build(engine, events, members, now)

    with engine.begin() as connection:
        platform.add_user(connection, "bench-admin")
    tokens.set_site_admin(engine, "bench-admin")
    _, token = tokens.create_token(engine, "bench-admin", "etl", now)
    settings = Settings(data_dir=data_dir, database_url=url, timezone=ZoneInfo("UTC"))
    actions = etl.add_instance(engine, "boardz", "bench-actions", now)
    progress = etl.add_instance(engine, "progress", "bench-progress", now)
    middle = unix(first + (last - first) / 2)
    action_params = {"query": "special_actions", "from": middle}
    progress_params = {"query": "special_progress", "id_grupo": large}

    rows: list[tuple[str, str, str]] = []
    with in_process(application(settings, engine), threads=4) as port:
        base = f"http://127.0.0.1:{port}"
        rest_call(base, token, "boardz", actions, action_params)  # warm up
        median, best, answer = timed(lambda: rest_call(base, token, "boardz", actions, action_params), runs)
        assert answer["records"] == 5000
        rows.append(("special_actions, 5,000 of the log, REST over HTTP", ms(median), ms(best)))
        median, best, _ = timed(
            lambda: etl.report_etl_get(engine, settings, "boardz", actions, json.dumps(action_params)), runs
        )
        rows.append(("special_actions, the service alone", ms(median), ms(best)))
        after = Position(from_unix(middle) + timedelta(microseconds=999_999))

        def page() -> Any:
            with engine.connect() as connection:
                return etl_store.activity_page(connection, after, from_unix(unix(now) + 1), 5000)

        median, best, _ = timed(page, runs)
        rows.append(("special_actions, the SQL page alone", ms(median), ms(best)))

        median, best, answer = timed(lambda: rest_call(base, token, "progress", progress, progress_params), runs)
        rows.append(
            (f"special_progress, 5,000 of a {members:,}-member group, REST (goal <= 300 ms)", ms(median), ms(best))
        )
        median, best, _ = timed(
            lambda: etl.report_etl_get(engine, settings, "progress", progress, json.dumps(progress_params)), runs
        )
        rows.append(("special_progress, the service alone", ms(median), ms(best)))
        assert answer["records"] == min(5000, members + 1)
        # the pages after it: each call continues the pass (`from` its lasttime) from the mark the
        # one before left, so every run reads a page further into the group (keyset, not a rescan)
        continuing = {**progress_params, "from": answer["lasttime"]}
        median, best, answer = timed(lambda: rest_call(base, token, "progress", progress, continuing), runs)
        rows.append(("special_progress, a later page of 5,000 of the group, REST", ms(median), ms(best)))
    # special_academics unpaged: the whole snapshot of memberships in one call
    academics = etl.add_instance(engine, "boardz", "bench-academics", now)
    whole = replace(settings, etl_max_records=1_000_000)
    academics_params = json.dumps({"query": "special_academics"})
    median, best, _ = timed(lambda: etl.report_etl_get(engine, whole, "boardz", academics, academics_params), runs)
    tracemalloc.start()
    answer = etl.report_etl_get(engine, whole, "boardz", academics, academics_params)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    rows.append((f"special_academics, {answer.records:,} memberships unpaged, the service", ms(median), ms(best)))
    rows.append(("special_academics, unpaged, peak Python memory (tracemalloc)", f"{peak / 2**20:,.0f} MB", "-"))
    engine.dispose()

    print(f"\n{engine.dialect.name}, {events:,} events, median of {runs} (min):")
    for name, median_text, best_text in rows:
        print(f"  {name:<58} {median_text:>10}  ({best_text})")
    print("\n| measure | median | min |\n|---|---|---|")
    for name, median_text, best_text in rows:
        print(f"| {name} | {median_text} | {best_text} |")


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--members", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=5)
    add_database_options(parser)
    args = parser.parse_args(argv)
    with workspace(args, "aula-bench-etl-") as (workdir, url):
        run(url, workdir, args.events, args.members, args.runs, args.drop_existing)


if __name__ == "__main__":
    main()
