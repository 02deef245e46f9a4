"""Bulk statements for the import and sync pipelines: fast writes, and IN lists in chunks.

SQLAlchemy Core's executemany is 3-5x slower than the driver's own bulk path
(see the performance baselines): on SQLite we hand the driver tuples, with
values converted exactly as SQLAlchemy stores them (so dates compare right);
on PostgreSQL we COPY.
"""

from collections.abc import Callable, Collection, Iterable, Sequence
from functools import lru_cache
from typing import Any, TypeVar

from sqlalchemy import Boolean, Connection, Date, DateTime, Table

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
    converters = [(i, c) for i, c in enumerate(_bind_converters(connection, table, columns)) if c]
    if converters:
        rows = [_converted(row, converters) for row in rows]
    placeholders = ", ".join("?" for _ in columns)
    connection.exec_driver_sql(f"INSERT INTO {table.name} ({', '.join(columns)}) VALUES ({placeholders})", list(rows))


def _converted(row: Sequence[Any], converters: list[tuple[int, Callable[[Any], Any]]]) -> tuple[Any, ...]:
    values = list(row)
    for index, convert in converters:
        if values[index] is not None:
            values[index] = convert(values[index])
    return tuple(values)


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


def _copy(connection: Connection, table: Table, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    cursor = connection.connection.driver_connection.cursor()  # type: ignore[union-attr]
    with cursor.copy(f"COPY {table.name} ({', '.join(columns)}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)
