import pytest
from sqlalchemy import func, select

from aula_ws.store import platform
from aula_ws.store.tables import users
from aula_ws.store.unit_of_work import Reading, UnitOfWork


def user_count(engine):
    with engine.connect() as connection:
        return connection.scalar(select(func.count()).select_from(users))


def test_a_unit_of_work_rolls_back_unless_told_to_commit(engine):
    with UnitOfWork(engine) as uow:
        platform.add_user(uow.connection, "ghost")
    assert user_count(engine) == 1  # only _anonimo


def test_a_reading_ends_its_transaction_with_commit_and_rolls_back_on_failure(engine):
    with Reading(engine) as uow:
        platform.add_user(uow.connection, "kept")  # a reading should not write; if it does, COMMIT keeps it
        transaction = uow._transaction
    assert not transaction.is_active and user_count(engine) == 2
    with pytest.raises(RuntimeError), Reading(engine) as uow:
        platform.add_user(uow.connection, "lost")
        raise RuntimeError("failure mid-read")
    assert user_count(engine) == 2


def test_the_reads_of_one_reading_share_one_snapshot(engine):
    """A write committed between two reads of one Reading is not seen by the second (SQLite's
    driver opens no transaction before a SELECT: each would read its own snapshot)."""
    with Reading(engine) as reading:
        before = reading.connection.scalar(select(func.count()).select_from(users)) or 0
        with UnitOfWork(engine) as writer:
            platform.add_user(writer.connection, "meanwhile")
            writer.commit()
        assert reading.connection.scalar(select(func.count()).select_from(users)) == before
    assert user_count(engine) == before + 1
