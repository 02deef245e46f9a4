"""Engines and the schema's revision: the only place that knows how to open the database."""

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.exc import DBAPIError

from aula_ws.errors import SchemaOutdated, WriteFailed
from aula_ws.private_files import FILE_MODE, private_dir

MIGRATIONS = Path(__file__).parent / "migrations"


def create_database_engine(url: str) -> Engine:
    """An engine for `url`, with SQLite set up for a multi-threaded server."""
    if url.startswith("sqlite"):
        _ensure_sqlite_directory(url)
        engine = create_engine(url, connect_args={"timeout": 30})
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "checkin", _foreign_keys_restored)
        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=10)


def _ensure_sqlite_directory(url: str) -> None:
    """The file holds the MNET private key and token hashes: its folder is created 0700 and the
    file 0600 before SQLite opens it; SQLite gives its -wal/-shm/-journal files the database
    file's own mode, so they are 0600 too. A database file others may read is made 0600."""
    if "///" not in url:
        return  # sqlite:// is an in-memory database
    path = url.split("///", 1)[1].split("?", 1)[0]
    if not path or path == ":memory:" or path.startswith("file:"):
        return
    database = Path(path)
    private_dir(database.parent)
    try:
        os.close(os.open(database, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE))
    except FileExistsError:
        if database.stat().st_mode & 0o077 and database.stat().st_uid == os.geteuid():
            os.chmod(database, FILE_MODE)


def _sqlite_pragmas(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")  # readers do not block the writer
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


FOREIGN_KEYS_OFF = "aula_foreign_keys_off"  # set in a connection's info by a load that turned them off


def _foreign_keys_restored(dbapi_connection, record) -> None:  # type: ignore[no-untyped-def]
    """Back in the pool, after its commit or rollback (SQLite ignores the pragma inside a
    transaction): a connection a bulk load took foreign keys off from has them on again."""
    if record.info.pop(FOREIGN_KEYS_OFF, False) and dbapi_connection is not None:
        dbapi_connection.execute("PRAGMA foreign_keys=ON")


def _alembic_config(engine: Engine) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["engine"] = engine
    return config


def head_revision() -> str:
    """The revision(s) the code needs, as text ("0003" or "0003+0004" while branches are open)."""
    return "+".join(sorted(ScriptDirectory(str(MIGRATIONS)).get_heads()))


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as connection:
        heads = MigrationContext.configure(connection).get_current_heads()
    return "+".join(sorted(heads)) or None


def upgrade(engine: Engine, revision: str = "heads") -> None:
    """Apply the migrations up to `revision` (`aula-ws db upgrade`)."""
    command.upgrade(_alembic_config(engine), revision)


def require_current_schema(engine: Engine) -> None:
    """SchemaOutdated unless the database is at the migrations' head."""
    current, head = current_revision(engine), head_revision()
    if current != head:
        raise SchemaOutdated(current, head)


def open_database(url: str) -> Engine:
    """An engine on a database at the code's schema; SchemaOutdated otherwise."""
    engine = create_database_engine(url)
    require_current_schema(engine)
    return engine


# SQLite's SQLITE_FULL, PostgreSQL's disk_full (SQLSTATE 53100)
_SQLITE_FULL = 13
_DISK_FULL = "53100"


@contextmanager
def full_database_reported(outcome: str = "nothing was stored") -> Iterator[None]:
    """Turns "database or disk is full" (either engine) into WriteFailed("the database");
    any other database error goes on as it is."""
    try:
        yield
    except DBAPIError as error:
        original = error.orig
        full = getattr(original, "sqlite_errorcode", None) == _SQLITE_FULL or (
            getattr(original, "sqlstate", None) == _DISK_FULL
        )
        if not full:
            raise
        raise WriteFailed("the database", None, str(original).strip() or "disk full", outcome) from None
