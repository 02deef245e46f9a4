"""Users' home host (MNET identity) set through the CLI: the users sync file's `mnethost` (or
`wwwroot`) column. SQLite and PostgreSQL."""

from pathlib import Path

from sqlalchemy import select

from aula_ws.store.tables import users
from tests.builders import PlatformBuilder
from tests.e2e.server_process import aula_env
from tests.e2e.test_import_and_admin import aula_ws


def homes(engine) -> dict[str, str | None]:
    with engine.connect() as connection:
        query = select(users.c.username, users.c.mnethost).where(users.c.username != "_anonimo")
        return {username: home for username, home in connection.execute(query)}


def test_the_users_file_sets_each_users_home_host(engine, database_url, tmp_path):
    PlatformBuilder(engine).group("C1", group_id=64)
    env = aula_env(tmp_path, database_url)
    users_file = tmp_path / "userimport.csv"
    users_file.write_text(
        "username;firstname;lastname;mnethost\nann;A;N;https://moodle.example.org/\nbob;B;O;\ncy;C;Y;ftp://nowhere\n"
    )
    result = aula_ws(env, "sync", "users", str(users_file))
    assert result.returncode == 1, result.stderr  # cy's line failed
    report = next(line.split(": ", 1)[1] for line in result.stdout.splitlines() if line.startswith("report: "))
    assert 'mnethost "ftp://nowhere" is not a root URL' in Path(report).read_text()
    assert homes(engine) == {"ann": "https://moodle.example.org", "bob": None}
    # the `wwwroot` spelling; a file without either column leaves the homes as they are
    users_file.write_text("username;firstname;lastname;wwwroot\nbob;B;O;http://other.test\n")
    assert aula_ws(env, "sync", "users", str(users_file)).returncode == 0
    users_file.write_text("username;firstname;lastname\nann;Ann;N\n")
    assert aula_ws(env, "sync", "users", str(users_file)).returncode == 0
    assert homes(engine) == {"ann": "https://moodle.example.org", "bob": "http://other.test"}
    # an empty value makes the user local again
    users_file.write_text("username;firstname;lastname;mnethost\nann;Ann;N;\n")
    assert aula_ws(env, "sync", "users", str(users_file)).returncode == 0
    assert homes(engine)["ann"] is None
