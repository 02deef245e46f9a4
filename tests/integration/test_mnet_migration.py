"""Migration 0007 on a database in use at 0005: peers registered before keep use_stats both ways,
users stay local, and the migration goes down again. SQLite and PostgreSQL."""

from alembic import command
from sqlalchemy import text

from aula_ws.store.database import _alembic_config, create_database_engine, current_revision, head_revision, upgrade
from tests.mnet_peer import MOODLE, moodle_peer


def test_0007_upgrades_a_database_in_use_and_goes_down_again(empty_url):
    engine = create_database_engine(empty_url)
    upgrade(engine, "0005")
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO mnet_peers (wwwroot, certificate_pem, cipher, trusted_ips, created_at) VALUES (:r, :c, 'rc4', '', :t)"
            ),
            # the date as text: sqlite3's default datetime adapter warns on Python 3.12+
            {"r": MOODLE, "c": moodle_peer().certificate_pem, "t": "2026-01-01 00:00:00"},
        )
        connection.execute(text("INSERT INTO users (username) VALUES ('lovecraft')"))
    upgrade(engine)
    assert current_revision(engine) == head_revision()
    with engine.connect() as connection:
        services = connection.execute(text("SELECT service, publish, subscribe FROM mnet_peer_services")).all()
        homes = connection.execute(text("SELECT username, mnethost FROM users WHERE username = 'lovecraft'")).all()
    assert [(service, bool(publish), bool(subscribe)) for service, publish, subscribe in services] == [
        ("use_stats", True, True)
    ]
    assert homes == [("lovecraft", None)]
    command.downgrade(_alembic_config(engine), "0005")
    assert current_revision(engine) == "0005"
    upgrade(engine)
    assert current_revision(engine) == head_revision()
    engine.dispose()
