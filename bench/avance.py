"""Benchmark of obtener_avance_usuarios on one large group. It measures; it never asserts.

    .venv/bin/python bench/avance.py [--members 100000] [--units 20] [--postgres]
        [--database-url URL] [--keep DIR] [--drop-existing]

1. Builds a platform: one group of `--members` users (mostly perfil A), a few
   million lesson sessions, some course statuses and activity-log rows
   (avance_parts/build.py, through the benches' one builder, common/platform.py).
2. Measures:
   (a) the whole group over HTTP (`aula-ws serve` as documented, its own process), undated
       and dated;
   (b) its floor (the issue's): a `count(DISTINCT unit)` over the group's completed sessions
       of a plain query + f-string XML of the same rows;
   (c) one user, in-process (the WSGI callable called directly): p50/p95;
   (d) one user over HTTP, 16 keep-alive clients in separate processes,
       against `aula-ws serve` as documented (default options), the same with
       --workers 1, and gunicorn (if installed), each in its own process; and
       the call alone (one connection, one call at a time): p50.
3. Prints a summary, plain and as a markdown table.

SQLite (default) goes to a temporary directory, or to `--keep DIR`, which is
kept. A `--database-url` (sqlite or postgresql+psycopg) must be an empty
database unless `--drop-existing` is given.
"""

import argparse
import os
import random
import sys
from collections.abc import Iterable, Sequence
from datetime import timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import make_url

from aula_ws.config import Settings
from aula_ws.domain.contract_dates import end_of_day
from aula_ws.services.clock import utc_now
from avance_parts.build import SEED, Platform, build
from avance_parts.load import SERVE, Load, load_against, servers
from avance_parts.one_user import ONE_USER_CALLS, one_user_in_process, one_user_sql, percentile
from avance_parts.soap import progress_request
from avance_parts.whole_group import Floor, WholeGroup, floor, whole_group_http
from common.platform import add_database_options, workspace
from common.server import SERVING_ON, application, aula_env, own_process

UTC_ZONE = ZoneInfo("UTC")
VENV_BIN = Path(sys.executable).parent
Row = tuple[str, str, str, str]


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.3f} ms"


def seconds_list(values: Iterable[float]) -> str:
    return ", ".join(f"{v:.3f}" for v in values)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--members", type=int, default=100_000)
    parser.add_argument("--units", type=int, default=20)
    add_database_options(parser)
    args = parser.parse_args(argv)
    with workspace(args, "aula-bench-") as (workdir, url):
        run(url, workdir, args.members, args.units, args.drop_existing)


def run(url: str, workdir: Path, members: int, unit_count: int, drop_existing: bool) -> None:
    load_at_start = os.getloadavg()[0]  # other work on the machine skews every figure, (d) most
    now = utc_now()
    shown = make_url(url).render_as_string(hide_password=True)
    print(f"database {shown}  work dir {workdir}  load average {load_at_start:.2f}", flush=True)
    bench = build(url, members, unit_count, now, drop_existing)
    print(f"built in {bench.build_seconds:.1f} s (ANALYZE included)\n", flush=True)

    settings = Settings(data_dir=workdir, database_url=url, timezone=UTC_ZONE)
    environment = aula_env(workdir, url, AULA_TIMEZONE="UTC")
    whole = whole_group(bench, environment, workdir, members + 1)  # and _anonimo
    app = application(settings, bench.engine)

    # (c) one user, in-process
    rng = random.Random(SEED + 1)
    sample = rng.choices(range(members), k=ONE_USER_CALLS)
    bodies = [progress_request(bench.group_id, id_usuario=bench.logins[n]) for n in sample]
    one_user_in_process(app, bodies[:100])  # warm-up: statement caches, pool
    latencies, wrong = one_user_in_process(app, bodies)
    sql_latencies = one_user_sql(bench.engine, bench.group_id, [bench.first_user_id + n for n in sample], now)
    print(
        f"\n(c) one user in-process, {len(bodies):,} calls: p50 {ms(percentile(latencies, 0.5))}, "
        f"p95 {ms(percentile(latencies, 0.95))}, {wrong} wrong answers; "
        f"member_facts alone p50 {ms(percentile(sql_latencies, 0.5))}",
        flush=True,
    )
    bench.engine.dispose()

    # (d) one user over HTTP, servers in their own processes
    loads: dict[str, Load] = {}
    alone: dict[str, list[float]] = {}
    for name, (command, listening) in servers(VENV_BIN).items():
        served = load_against(name, command, environment, workdir, listening, bodies[:1000])
        rounds, alone[name] = served.rounds, served.alone
        load = loads[name] = rounds[len(rounds) // 2]
        rates = ", ".join(f"{r.per_second:,.0f}" for r in rounds)
        print(
            f"(d) {name}: median {load.per_second:,.0f} req/s (rounds {rates}; median round "
            f"{load.requests:,} requests in {load.seconds:.2f} s; "
            f"{sum(r.errors for r in rounds)} errors in all rounds; "
            f"p50 {ms(percentile(load.latencies, 0.5))}, "
            f"p95 {ms(percentile(load.latencies, 0.95))}); "
            f"alone: p50 {ms(percentile(alone[name], 0.5))}, p95 {ms(percentile(alone[name], 0.95))}",
            flush=True,
        )
    rows = summary_rows(bench, members, whole, latencies, loads, alone)
    rows.append(("1-minute load average, start / end", f"{load_at_start:.2f} / {os.getloadavg()[0]:.2f}", "", ""))
    print_summary(rows, bench.engine.dialect.name, members, unit_count)


def whole_group(
    bench: Platform, environment: dict[str, str], workdir: Path, expected: int
) -> dict[str, tuple[WholeGroup, Floor]]:
    """(a) + (b), undated and dated: `aula-ws serve` as the README documents it, in its own process."""
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
    whole: dict[str, tuple[WholeGroup, Floor]] = {}
    serve = [str(VENV_BIN / "aula-ws"), "serve", "--port", "0"]
    with own_process(serve, environment, workdir / "serve-whole-group.log", SERVING_ON) as port:
        whole_group_http(port, progress_request(bench.group_id))  # warm-up: page cache, statement caches
        for label, (dates, upper, lower) in variants.items():
            http_figure = whole_group_http(port, progress_request(bench.group_id, **dates))
            floor_figure = floor(bench.engine, bench.group_id, bench.unit_count, upper=upper, lower=lower)
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
    return whole


def summary_rows(
    bench: Platform,
    members: int,
    whole: dict[str, tuple[WholeGroup, Floor]],
    latencies: list[float],
    loads: dict[str, Load],
    alone: dict[str, list[float]],
) -> list[Row]:
    rows: list[Row] = [
        (
            "build",
            f"{bench.build_seconds:.1f} s for {members:,} members, {bench.row_counts['lesson_sessions']:,} sessions",
            "",
            "",
        )
    ]
    for label, (http_figure, floor_figure) in whole.items():
        ratio = http_figure.median / floor_figure.median
        rows.append((f"(a) whole group {label}, HTTP", f"{http_figure.median:.3f} s", "", ""))
        rows.append((f"(b) floor {label}", f"{floor_figure.median:.3f} s", "", ""))
        goal = 1.0 if label == "undated" else 2.0  # the goals: an undated call reads and serialises
        rows.append((f"(a)/(b) {label}", f"{ratio:.2f}", f"<= {goal:g}", "ok" if ratio <= goal else "MISSED"))
    p50 = percentile(latencies, 0.5)
    rows.append(("(c) one user in-process p50", ms(p50), "<= 1 ms", "ok" if p50 <= 0.001 else "MISSED"))
    rows.append(("(c) one user in-process p95", ms(percentile(latencies, 0.95)), "", ""))
    for name, load in loads.items():
        goal = name == SERVE  # the goals are for `aula-ws serve` as documented; the rest is context
        ok = load.per_second >= 1000 and not load.errors
        rows.append(
            (
                f"(d) one user over HTTP, 16 clients, {name}",
                f"{load.per_second:,.0f} req/s",
                ">= 1,000 req/s" if goal else "",
                ("ok" if ok else "MISSED") if goal else "",
            )
        )
        p50 = percentile(alone[name], 0.5)
        rows.append(
            (
                f"(d) one user over HTTP, alone, p50, {name}",
                ms(p50),
                "<= 1 ms" if goal else "",
                ("ok" if p50 <= 0.001 else "MISSED") if goal else "",
            )
        )
    return rows


def print_summary(rows: list[Row], dialect: str, members: int, unit_count: int) -> None:
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    print(f"\nSummary ({dialect}, {members:,} members, {unit_count} units, {os.cpu_count()} CPUs)")
    for row in rows:
        print("  " + "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip())
    print("\n| measurement | figure | target | status |\n|---|---|---|---|")
    for row in rows:
        print("| " + " | ".join(row) + " |")


if __name__ == "__main__":
    main()
