"""Fresh databases at the schema's head, for fixtures of every tier."""

import uuid
from pathlib import Path

import pytest

from aula_ws.store.database import create_database_engine, upgrade


def migrated_sqlite(directory: Path, name: str = "aula.sqlite3") -> str:
    url = f"sqlite:///{directory / name}"
    engine = create_database_engine(url)
    upgrade(engine)
    engine.dispose()
    return url


def fresh_database(request: pytest.FixtureRequest, directory: Path, name: str) -> str:
    """A database on the engine named by the fixture's param ("sqlite" or "postgresql")."""
    if request.param == "sqlite":
        return migrated_sqlite(directory)
    cluster = request.getfixturevalue("postgres_cluster")
    return cluster.create_database(f"{name}_{uuid.uuid4().hex[:8]}", template="aula_template")
