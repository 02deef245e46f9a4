import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import select

from aula_ws.errors import SchemaOutdated
from aula_ws.store.database import (
    create_database_engine,
    current_revision,
    head_revision,
    require_current_schema,
    upgrade,
)
from aula_ws.store.tables import memberships, metadata, profiles, users
from tests.builders import PlatformBuilder


def test_the_migrations_build_exactly_the_tables_the_code_declares(engine):
    with engine.connect() as connection:
        assert compare_metadata(MigrationContext.configure(connection), metadata) == []


def test_the_platform_starts_with_anonimo_and_the_five_profiles(engine):
    with engine.connect() as connection:
        assert connection.scalars(select(users.c.username)).all() == ["_anonimo"]
        assert sorted(connection.scalars(select(profiles.c.code))) == ["A", "C", "D", "I", "T"]


def test_every_new_group_has_anonimo_as_guest_since_its_creation(engine):
    group_id = PlatformBuilder(engine).group("g1")
    with engine.connect() as connection:
        row = connection.execute(select(memberships).where(memberships.c.group_id == group_id)).one()
    assert (row.perfil, row.estado, row.fecha_alta.isoformat()) == ("I", True, "2015-06-01")


def test_groups_keep_a_given_id_and_later_groups_get_fresh_ones(engine):
    builder = PlatformBuilder(engine)
    assert builder.group("kept", group_id=500) == 500
    assert builder.group("assigned") > 500


def test_an_empty_database_is_refused_naming_the_command_that_fixes_it(tmp_path):
    engine = create_database_engine(f"sqlite:///{tmp_path / 'empty.sqlite3'}")
    with pytest.raises(SchemaOutdated, match="aula-ws db upgrade"):
        require_current_schema(engine)
    upgrade(engine)
    require_current_schema(engine)
    assert head_revision() == current_revision(engine)
    engine.dispose()  # else its SQLite connection is collected in a later test: a ResourceWarning on 3.13


def test_the_migrations_form_one_line_of_history():
    assert "+" not in head_revision()
