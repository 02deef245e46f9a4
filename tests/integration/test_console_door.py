"""The console's door on SQLite and PostgreSQL: sign-in with the argon2 password, sessions kept
as hashes for 8 hours, attempts limited per account and per address, the audit log without
secrets, `aula-ws user set-password`."""

import subprocess
import sys
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from aula_ws.errors import AuthenticationFailed, InvalidRequest, NotFound, SignInLimited
from aula_ws.services import console
from aula_ws.store.tables import audit_log, console_sessions, users
from tests.builders import PlatformBuilder
from tests.e2e.server_process import ROOT, aula_env

NOW = datetime(2026, 12, 3, 9, 0)
PASSWORD = "a long enough password"


@pytest.fixture
def admins(engine):
    builder = PlatformBuilder(engine)
    builder.user("admin", site_admin=True)
    builder.user("learner")
    console.set_password(engine, "admin", PASSWORD, NOW)
    console.set_password(engine, "learner", PASSWORD, NOW)
    return engine


def test_a_site_admin_signs_in_and_the_session_lasts_eight_hours(admins):
    signed = console.sign_in(admins, "admin", PASSWORD, "10.0.0.1", NOW)
    kept = console.session(admins, signed.token, NOW + timedelta(hours=7, minutes=59))
    assert kept is not None and kept.username == "admin"
    assert console.session(admins, signed.token, NOW + timedelta(hours=8)) is None
    with admins.connect() as connection:
        stored = connection.scalars(select(console_sessions.c.token_hash)).all()
    assert signed.token not in stored and len(stored[0]) == 64  # its SHA-256, never the token


def test_signing_out_ends_the_session(admins):
    signed = console.sign_in(admins, "admin", PASSWORD, "10.0.0.1", NOW)
    console.sign_out(admins, signed, "10.0.0.1", NOW)
    assert console.session(admins, signed.token, NOW) is None


def test_a_user_who_is_not_a_site_admin_cannot_sign_in(admins):
    with pytest.raises(AuthenticationFailed):
        console.sign_in(admins, "learner", PASSWORD, "10.0.0.1", NOW)


def test_an_admin_demoted_loses_the_open_session(admins):
    signed = console.sign_in(admins, "admin", PASSWORD, "10.0.0.1", NOW)
    with admins.begin() as connection:
        connection.execute(users.update().where(users.c.username == "admin").values(site_admin=False))
    assert console.session(admins, signed.token, NOW) is None


def test_five_wrong_passwords_lock_the_account_for_fifteen_minutes(admins):
    for _ in range(5):
        with pytest.raises(AuthenticationFailed) as refused:
            console.sign_in(admins, "admin", "wrong", "10.0.0.1", NOW)
        assert not isinstance(refused.value, SignInLimited)
    with pytest.raises(SignInLimited):
        console.sign_in(admins, "admin", PASSWORD, "10.0.0.2", NOW + timedelta(minutes=14))
    assert console.sign_in(admins, "admin", PASSWORD, "10.0.0.2", NOW + timedelta(minutes=16)).username == "admin"


def test_twenty_failures_from_one_address_stop_it_whatever_the_account(admins):
    for number in range(20):
        with pytest.raises(AuthenticationFailed):
            console.sign_in(admins, f"guess{number}", "wrong", "10.0.0.9", NOW)
    with pytest.raises(SignInLimited):
        console.sign_in(admins, "admin", PASSWORD, "10.0.0.9", NOW)
    assert console.sign_in(admins, "admin", PASSWORD, "10.0.0.1", NOW).username == "admin"


def test_the_audit_log_says_who_did_what_never_a_secret(admins):
    with pytest.raises(AuthenticationFailed):
        console.sign_in(admins, "admin", "my secret guess", "10.0.0.1", NOW)
    signed = console.sign_in(admins, "admin", PASSWORD, "10.0.0.1", NOW)
    console.audit(admins, "admin", "token created", "7 for admin (admin)", "10.0.0.1", NOW)
    entries = console.last_audit(admins)
    assert [e.action for e in entries][:3] == ["token created", "sign-in", "sign-in refused"]
    with admins.connect() as connection:
        text = " ".join(str(value) for row in connection.execute(select(audit_log)) for value in row)
    assert PASSWORD not in text and "my secret guess" not in text and signed.token not in text


def test_the_csrf_token_belongs_to_its_session(admins):
    one = console.sign_in(admins, "admin", PASSWORD, "10.0.0.1", NOW)
    two = console.sign_in(admins, "admin", PASSWORD, "10.0.0.1", NOW)
    assert console.csrf_matches(one.token, one.csrf)
    assert not console.csrf_matches(one.token, two.csrf)
    assert not console.csrf_matches(one.token, "")


def test_a_password_must_be_long_enough_and_the_user_must_exist(admins):
    with pytest.raises(InvalidRequest):
        console.set_password(admins, "admin", "short", NOW)
    with pytest.raises(NotFound):
        console.set_password(admins, "nobody", PASSWORD, NOW)


def test_set_password_from_the_command_line_reads_stdin(tmp_path, database_url, admins):
    env = aula_env(tmp_path, database_url)
    done = subprocess.run(
        [sys.executable, "-m", "aula_ws", "user", "set-password", "admin"],
        input="another fine password\n",
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert "another fine password" not in done.stdout + done.stderr
    assert console.sign_in(admins, "admin", "another fine password", "10.0.0.1", NOW).username == "admin"
    with pytest.raises(AuthenticationFailed):
        console.sign_in(admins, "admin", PASSWORD, "10.0.0.1", NOW)
