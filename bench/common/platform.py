"""The one platform builder of the benches.

A bench states its platform as row generators; this module gives it an empty
database at schema head, streams the rows in through the store's own bulk path
(`aula_ws.store.bulk.bulk_insert`: COPY on PostgreSQL, the driver's executemany
on SQLite with values converted as SQLAlchemy stores them, so dates compare
right) in chunks, so millions of rows never sit in one list, and refreshes the
planner's statistics before anything is measured.
"""

import argparse
import sys
import tempfile
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from itertools import islice
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, Table, inspect, text

from aula_ws.store.bulk import bulk_insert
from aula_ws.store.database import create_database_engine, upgrade
from aula_ws.store.tables import metadata

CHUNK = 100_000  # rows per bulk statement (or COPY)


def add_database_options(parser: argparse.ArgumentParser) -> None:
    """Where a bench builds its platform: SQLite in a work directory, or an empty database."""
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--database-url", help="sqlite or postgresql+psycopg (default: SQLite in the work directory)")
    where.add_argument(
        "--postgres", action="store_true", help="a throwaway PostgreSQL cluster, started as the test suite does"
    )
    parser.add_argument("--keep", type=Path, metavar="DIR", help="work directory to keep (default: a temporary one)")
    parser.add_argument("--drop-existing", action="store_true", help="drop the aula tables of --database-url first")


@contextmanager
def workspace(args: argparse.Namespace, prefix: str) -> Iterator[tuple[Path, str]]:
    """(work directory, database URL) from the options of `add_database_options`."""
    with _workdir(args, prefix) as workdir:
        if not args.postgres:
            yield workdir, args.database_url or f"sqlite:///{workdir / 'aula.sqlite3'}"
            return
        with throwaway_postgres() as cluster:
            yield workdir, cluster.create_database("bench")


@contextmanager
def _workdir(args: argparse.Namespace, prefix: str) -> Iterator[Path]:
    if args.keep:
        args.keep.mkdir(parents=True, exist_ok=True)
        yield args.keep
        return
    with tempfile.TemporaryDirectory(prefix=prefix) as directory:
        yield Path(directory)


@contextmanager
def throwaway_postgres() -> Iterator[Any]:
    """A PostgreSQL cluster of the test suite's kind (tests/postgres.py), stopped afterwards."""
    from tests.postgres import PostgresCluster, find_postgres_bindir

    bindir = find_postgres_bindir()
    if bindir is None:
        sys.exit("PostgreSQL binaries not found (see tests/postgres.py)")
    cluster = PostgresCluster(bindir)
    cluster.start()
    try:
        yield cluster
    finally:
        cluster.stop()


def empty_database(url: str, bench: str, drop_existing: bool = False) -> Engine:
    """An engine on an empty database at schema head; refuses one that holds tables unless told."""
    engine = create_database_engine(url)
    existing = inspect(engine).get_table_names()
    if existing and not drop_existing:
        sys.exit(
            f"{bench}: the database already has tables ({', '.join(existing)}); give an empty one or --drop-existing"
        )
    if existing:
        metadata.drop_all(engine)
        with engine.begin() as connection:
            connection.exec_driver_sql("DROP TABLE IF EXISTS alembic_version")
    upgrade(engine)
    return engine


def bulk_load(connection: Connection, table: Table, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> int:
    """Streams `rows` (read lazily) into `table`; prints and returns how many."""
    began, count = time.perf_counter(), 0
    iterator = iter(rows)
    while batch := list(islice(iterator, CHUNK)):
        bulk_insert(connection, table, columns, batch)
        count += len(batch)
    print(f"  {table.name:<16} {count:>10,} rows  {time.perf_counter() - began:6.1f} s", flush=True)
    return count


def next_user_id(connection: Connection) -> int:
    """The first id free for users loaded with explicit ids (the migrations add `_anonimo`)."""
    return int(connection.scalar(text("SELECT coalesce(max(id), 0) FROM users"))) + 1


def users_loaded(connection: Connection) -> None:
    """After users were loaded with explicit ids: PostgreSQL's sequence does not move by itself."""
    if connection.dialect.name == "postgresql":
        connection.exec_driver_sql("SELECT setval(pg_get_serial_sequence('users', 'id'), max(id)) FROM users")


def analyze(engine: Engine) -> None:
    """The planner's statistics after the bulk load, as a maintained database has them."""
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.exec_driver_sql("VACUUM ANALYZE")
    else:
        with engine.begin() as connection:
            connection.exec_driver_sql("ANALYZE")
        with engine.connect() as connection:  # fold the bulk load's WAL back into the file
            connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
