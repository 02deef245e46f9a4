"""Benchmark: the statistics import end to end against the raw driver floor.

    .venv/bin/python bench/import.py [--lines 1000000] [--postgres]

Generates a lesson-statistics file (100,000 users x 10 lessons), imports it
through the CLI (`aula-ws import lessons FILE`, a child process, so its peak
memory is measured alone), then inserts the same rows with the raw driver into
a plain table with one index (the issue's floor: what the disk and the database take for the
same rows, none of our schema's indexes): `sqlite3.executemany` in one transaction, or COPY on
PostgreSQL (--postgres starts a throwaway cluster as the test suite does).
Prints both rates, their ratio (target >= 0.25) and the import's peak memory
(target <= 200 MB). Measures; asserts nothing.
"""

import argparse
import csv
import shutil
import sqlite3
import sys
import tempfile
import time
from datetime import date, datetime
from pathlib import Path

from aula_ws.store import platform
from aula_ws.store.database import create_database_engine
from aula_ws.store.tables import users
from common.platform import bulk_load, empty_database, throwaway_postgres
from common.server import aula_env, run_cli

UNITS = 10
# user id, unit id, status, status date, score, seconds spent, ILT presence: a lesson_sessions row
RawRow = tuple[int, int, str, datetime, float, int, None]
HEADER = "user_loginid\tcrsvname\tlsnvname\tlnk_type\tlesson_status\tlesson_status_date\tlesson_score\tlesson_time\tilt_status\n"


def build_platform(url: str, user_count: int) -> None:
    engine = empty_database(url, "import.py")
    with engine.begin() as connection:
        group_id = platform.add_group(connection, "BENCH", datetime(2015, 1, 1))
        for n in range(UNITS):
            platform.add_unit(connection, group_id, f"L{n:02d}", "L")
        bulk_load(connection, users, ("username",), ((f"user{n:06d}",) for n in range(user_count)))
        connection.exec_driver_sql(
            "INSERT INTO memberships (user_id, group_id, perfil, fecha_alta) "
            f"SELECT id, {group_id}, 'A', '2015-01-01' FROM users WHERE username <> '_anonimo'"
        )
    engine.dispose()


def write_file(path: Path, lines: int) -> None:
    user_count = lines // UNITS
    with path.open("w", encoding="utf-8") as handle:
        handle.write(HEADER)
        for n in range(lines):
            user, unit = divmod(n, UNITS)
            day = date(2015, 1 + n % 12, 1 + n % 28)
            handle.write(
                f"user{user % user_count:06d}\tBENCH\tL{unit:02d}\tL\t{'CPFIN'[n % 5]}\t"
                f"{day:%Y/%m/%d}\t{n % 101}\t{n % 3600}\t\n"
            )


def raw_rows(path: Path, url: str) -> list[RawRow]:
    """The same rows as the import stores them, resolved beforehand (untimed)."""
    engine = create_database_engine(url)
    with engine.connect() as connection:
        ids: dict[str, int] = dict(connection.exec_driver_sql("SELECT username, id FROM users").all())
        units: dict[str, int] = dict(connection.exec_driver_sql("SELECT code, id FROM units").all())
    engine.dispose()
    rows: list[RawRow] = []
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.reader(handle, delimiter="\t")
        next(reader)
        for login, _, unit, _, status, day, score, seconds, _ in reader:
            y, m, d = day.split("/")
            rows.append(
                (ids[login], units[unit], status, datetime(int(y), int(m), int(d)), float(score), int(seconds), None)
            )
    return rows


# the CLI's own entry point, reporting its own peak memory: VmHWM, since ru_maxrss
# survives exec and would report this (large) parent's peak after a fork
CLI_WITH_PEAK = (
    "import re, sys; from aula_ws.cli import main; code = main(sys.argv[1:]); "
    "status = open('/proc/self/status').read(); "
    "print('peak_kb', re.search(r'VmHWM:\\s+(\\d+)', status).group(1)); sys.exit(code)"
)


def timed_cli_import(path: Path, env: dict[str, str]) -> tuple[float, float]:
    """Wall time and peak memory (MB) of `aula-ws import lessons FILE` in a child process."""
    elapsed, result = run_cli(["import", "lessons", str(path)], env, python_code=CLI_WITH_PEAK)
    if result.returncode != 0:
        sys.exit(f"the import failed:\n{result.stdout}\n{result.stderr}")
    lines = result.stdout.strip().splitlines()
    print("   " + "\n   ".join(lines[-7:-1]))
    return elapsed, int(lines[-1].split()[1]) / 1024


FLOOR_TABLE = (
    "CREATE TABLE floor_rows (id INTEGER PRIMARY KEY, user_id INTEGER NOT NULL, unit_id INTEGER NOT NULL,"
    " status VARCHAR(1) NOT NULL, status_date TIMESTAMP NOT NULL, score FLOAT, time_spent INTEGER,"
    " ilt_present BOOLEAN)"
)
FLOOR_INDEX = "CREATE INDEX ix_floor_rows_user_unit ON floor_rows (user_id, unit_id)"
FLOOR_INSERT = "floor_rows (user_id, unit_id, status, status_date, score, time_spent, ilt_present)"


def sqlite_raw(db_path: Path, rows: list[RawRow]) -> float:
    connection = sqlite3.connect(db_path)
    connection.execute(FLOOR_TABLE)
    connection.execute(FLOOR_INDEX)
    connection.commit()
    sql = f"INSERT INTO {FLOOR_INSERT} VALUES (?, ?, ?, ?, ?, ?, ?)"
    # the same text SQLAlchemy stores, so that both runs write the same bytes
    prepared = [(u, n, s, d.strftime("%Y-%m-%d %H:%M:%S.%f"), sc, t, i) for u, n, s, d, sc, t, i in rows]
    started = time.perf_counter()
    connection.executemany(sql, prepared)
    connection.commit()
    elapsed = time.perf_counter() - started
    connection.close()
    return elapsed


def postgres_raw(url: str, rows: list[RawRow]) -> float:
    import psycopg

    with psycopg.connect(url.replace("+psycopg", "")) as connection:
        connection.execute(FLOOR_TABLE.replace("INTEGER PRIMARY KEY", "SERIAL PRIMARY KEY"))
        connection.execute(FLOOR_INDEX)
        connection.commit()
        started = time.perf_counter()
        with connection.cursor() as cursor, cursor.copy(f"COPY {FLOOR_INSERT} FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        connection.commit()
        return time.perf_counter() - started


def report(engine_name: str, lines: int, import_s: float, raw_s: float, peak_mb: float) -> None:
    import_rate, raw_rate = lines / import_s, lines / raw_s
    print(f"\n{engine_name}: {lines:,} lines")
    print(f"  import (CLI, end to end) {import_s:7.2f} s  {import_rate:>10,.0f} lines/s")
    print(f"  raw floor, 1 table 1 idx {raw_s:7.2f} s  {raw_rate:>10,.0f} rows/s")
    print(f"  ratio import/raw         {import_rate / raw_rate:7.2f}   (target >= 0.25)")
    print(f"  import peak memory       {peak_mb:7.0f} MB (target <= 200 MB)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--lines", type=int, default=1_000_000)
    parser.add_argument("--postgres", action="store_true", help="also run on a throwaway PostgreSQL")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="aula-bench-import-"))
    try:
        data = work / "lessons.tsv"
        write_file(data, args.lines)
        print(f"generated {data} ({data.stat().st_size / 1e6:.0f} MB)")

        imported_db, raw_db = work / "import.sqlite3", work / "raw.sqlite3"
        build_platform(f"sqlite:///{imported_db}", args.lines // UNITS)
        shutil.copy(imported_db, raw_db)
        env = aula_env(work, f"sqlite:///{imported_db}")
        import_s, peak = timed_cli_import(data, env)
        rows = raw_rows(data, f"sqlite:///{raw_db}")
        report("SQLite", args.lines, import_s, sqlite_raw(raw_db, rows), peak)
        del rows

        if args.postgres:
            with throwaway_postgres() as cluster:
                urls = [cluster.create_database(name) for name in ("imported", "raw")]
                for url in urls:
                    build_platform(url, args.lines // UNITS)
                env = aula_env(work, urls[0])
                import_s, peak = timed_cli_import(data, env)
                rows = raw_rows(data, urls[1])
                report("PostgreSQL", args.lines, import_s, postgres_raw(urls[1], rows), peak)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
