"""Bulk statements for the import and sync pipelines: fast writes, and IN lists in chunks.

SQLAlchemy Core's executemany is 3-5x slower than the driver's own bulk path
(see the performance baselines): on SQLite we hand the driver tuples, with
values converted exactly as SQLAlchemy stores them (so dates compare right);
on PostgreSQL we COPY.
"""

import os
from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from contextlib import contextmanager
from functools import lru_cache
from typing import Any, TypeVar

from sqlalchemy import Boolean, Connection, Date, DateTime, Index, Table, func, select

from aula_ws.store.database import FOREIGN_KEYS_OFF

CHUNK = 900  # SQLite allows 999 bound parameters per statement
T = TypeVar("T")


def chunks(values: Collection[T]) -> Iterable[list[T]]:
    """The values in lists short enough for one `IN (...)` on any database."""
    items = list(values)
    for start in range(0, len(items), CHUNK):
        yield items[start : start + CHUNK]


def bulk_insert(connection: Connection, table: Table, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    if not rows:
        return
    if connection.dialect.name == "postgresql":
        _copy(connection, table, columns, rows)
        return
    converters = _bind_converters(connection, table, columns)
    if any(converters):
        _insert_columns(connection, table, columns, list(zip(*rows, strict=True)), converters)
    else:
        _insert(connection, table, columns, rows)


def bulk_insert_columns(
    connection: Connection, table: Table, columns: Sequence[str], values: Sequence[Sequence[Any]]
) -> None:
    """bulk_insert of rows given column by column (one sequence of values per column)."""
    if not values or not values[0]:
        return
    if connection.dialect.name == "postgresql":
        _copy(connection, table, columns, zip(*values, strict=True))
        return
    _insert_columns(connection, table, columns, values, _bind_converters(connection, table, columns))


def _insert_columns(
    connection: Connection,
    table: Table,
    columns: Sequence[str],
    values: Sequence[Sequence[Any]],
    converters: list[Callable[[Any], Any] | None],
) -> None:
    """SQLite: rows given column by column, each converted as SQLAlchemy stores it."""
    named: list[str] = []
    converted: list[Iterable[Any]] = []
    for name, column, convert in zip(columns, values, converters, strict=True):
        if column.count(None) == len(column) and _stores_null_when_left_out(table, name):
            continue  # the driver binds None ~0.5 us slower than a value (adapter look-ups): left out
        named.append(name)
        converted.append(column if convert is None else map(convert, column))  # (converters pass None on)
    if not named:  # nothing but None: every column bound as it is
        named, converted = list(columns), list(values)
    _insert(connection, table, named, list(zip(*converted, strict=True)))


def _stores_null_when_left_out(table: Table, name: str) -> bool:
    column = table.c[name]
    return column.default is None and column.server_default is None and column.nullable is True


def _insert(connection: Connection, table: Table, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    placeholders = ", ".join("?" for _ in columns)
    connection.exec_driver_sql(f"INSERT INTO {table.name} ({', '.join(columns)}) VALUES ({placeholders})", list(rows))


def _bind_converters(connection: Connection, table: Table, columns: Sequence[str]) -> list[Callable[[Any], Any] | None]:
    """SQLAlchemy's own conversions for the types the driver would store differently
    (dates and times as text, booleans); cached, since imported values repeat a lot."""
    dialect = connection.dialect
    converters: list[Callable[[Any], Any] | None] = []
    for name in columns:
        column_type = table.c[name].type
        process = column_type._cached_bind_processor(dialect)
        needed = isinstance(column_type, (DateTime, Date, Boolean))
        converters.append(lru_cache(maxsize=65536)(process) if process and needed else None)
    return converters


def _copy(connection: Connection, table: Table, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    cursor = connection.connection.driver_connection.cursor()  # type: ignore[union-attr]
    with cursor.copy(f"COPY {table.name} ({', '.join(columns)}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)


class DeferredIndexes:
    """The secondary indexes a load dropped, each built again once: early by `build`, when a
    statement of the load needs it, or at the load's end."""

    def __init__(self, connection: Connection, indexes: list[Index]):
        self.connection = connection
        self.waiting = indexes

    def build(self, *names: str) -> None:
        """Builds the named indexes (all that are left when none is named) if still dropped."""
        chosen = [index for index in self.waiting if not names or index.name in names]
        if not chosen:
            return
        # SQLite sorts an index's keys in helper threads when allowed to (one core each, at most 4)
        threads = self.connection.exec_driver_sql("PRAGMA threads").scalar()
        self.connection.exec_driver_sql(f"PRAGMA threads = {min(4, os.cpu_count() or 1)}")
        try:
            for index in chosen:
                index.create(self.connection)
                self.waiting.remove(index)
        finally:
            self.connection.exec_driver_sql(f"PRAGMA threads = {int(threads or 0)}")


@contextmanager
def indexes_deferred(connection: Connection, table: Table, keep: Collection[str]) -> Iterator[DeferredIndexes]:
    """SQLite: `table`'s secondary indexes other than `keep` are dropped for a large load and built
    again after it (on sorted data, one pass, sorted in helper threads: ~1.7x faster than keeping
    them up to date row by row), inside the caller's transaction, so a rollback brings them back
    as they were. The caller commits after this context ends, never inside it.

    PostgreSQL: nothing (the load is COPY already, and DROP INDEX would lock readers out of the
    table until the commit)."""
    if connection.dialect.name != "sqlite":
        yield DeferredIndexes(connection, [])
        return
    # sqlite3 opens its implicit transaction only at a DML statement, never at DDL: open it first
    connection.exec_driver_sql(f"DELETE FROM {table.name} WHERE 0")
    if not connection.connection.driver_connection.in_transaction:  # type: ignore[union-attr]
        raise RuntimeError("indexes_deferred needs a transaction")
    deferred = sorted((index for index in table.indexes if index.name not in keep), key=lambda i: str(i.name))
    for index in deferred:
        index.drop(connection)
    indexes = DeferredIndexes(connection, deferred)
    yield indexes
    if not connection.connection.driver_connection.in_transaction:  # type: ignore[union-attr]
        raise RuntimeError("the load was committed before its indexes were built again")
    indexes.build()


@contextmanager
def checks_ignored(connection: Connection) -> Iterator[None]:
    """SQLite: CHECK constraints are not evaluated during a load whose rows were checked
    already (the domain's rules are stricter); `status IN (...)` alone doubles the cost of a
    bulk insert (an IN list is built again at every row). Restored after, even on failure.
    PostgreSQL: nothing (COPY checks at a fraction of that cost)."""
    if connection.dialect.name != "sqlite":
        yield
        return
    connection.exec_driver_sql("PRAGMA ignore_check_constraints = ON")
    try:
        yield
    finally:
        connection.exec_driver_sql("PRAGMA ignore_check_constraints = OFF")


@contextmanager
def foreign_keys_unchecked(connection: Connection) -> Iterator[None]:
    """SQLite: foreign keys are not checked during a load whose references were looked up in
    its own write transaction (~0.7 s of 1,000,000 rows). The pragma only takes before the
    transaction opens, and on again only after it ends: the engine turns it on again when the
    connection goes back to the pool (database.FOREIGN_KEYS_OFF). PostgreSQL: nothing."""
    driver = connection.connection.driver_connection
    if connection.dialect.name == "sqlite" and not driver.in_transaction:  # type: ignore[union-attr]
        connection.connection.info[FOREIGN_KEYS_OFF] = True
        connection.exec_driver_sql("PRAGMA foreign_keys = OFF")
    yield


def highest_id(connection: Connection, table: Table) -> int:
    """The table's highest id (0 when empty): a cheap upper bound of its row count."""
    return int(connection.execute(select(func.coalesce(func.max(table.c.id), 0))).scalar_one())
