"""Engines and the schema's revision: the only place that knows how to open the database."""

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, event

from aula_ws.errors import SchemaOutdated

MIGRATIONS = Path(__file__).parent / "migrations"


def create_database_engine(url: str) -> Engine:
    """An engine for `url`, with SQLite set up for a multi-threaded server."""
    if url.startswith("sqlite"):
        _ensure_sqlite_directory(url)
        engine = create_engine(url, connect_args={"timeout": 30})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=10)


def _ensure_sqlite_directory(url: str) -> None:
    path = url.split("///", 1)[-1]
    if path and path != ":memory:":
        Path(path).parent.mkdir(parents=True, exist_ok=True)


def _sqlite_pragmas(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")  # readers do not block the writer
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


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
