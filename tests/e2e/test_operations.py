"""Operations and the first run: /health, the access log, the log settings, serve's own
schema upgrade on the embedded database, the CLI's refusals (one line, the documented exit
code), and deploy/gunicorn.conf.py under gunicorn against PostgreSQL."""

import json
import re
import socket
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime

import pytest
import requests
import zeep
from sqlalchemy import text

from aula_ws.services.demo import create_demo_platform
from aula_ws.store.database import create_database_engine, head_revision
from tests.databases import migrated_sqlite
from tests.e2e.server_process import ROOT, RunningServer, aula_env, running_process, running_server
from tests.e2e.test_command_line import aula_ws
from tests.hostile.server_log import log_mark

LISTENING = re.compile(r"Listening at: (http://127\.0\.0\.1:\d+)")


def test_serve_demo_on_a_fresh_data_directory_upgrades_the_embedded_database_and_answers(tmp_path):
    env = aula_env(tmp_path / "aula-data", "")
    del env["AULA_DATABASE_URL"]  # the embedded default, as a newcomer has it
    with running_server(env, "--demo") as server:
        health = requests.get(f"{server.base_url}/health", timeout=10)
        assert health.status_code == 200
        assert health.json() == {
            "status": "ok",
            "database": "reachable",
            "schema_revision": head_revision(),
            "version": "0.1.0",
        }
        client = zeep.Client(f"{server.base_url}/soap?wsdl")
        [lovecraft] = client.service.obtener_avance_usuarios(id_grupo=64, id_usuario="lovecraft")
        assert lovecraft.avance == 20
        assert "Users: lovecraft" in server.log


def test_serve_refuses_an_outdated_postgresql_schema_unless_told(tmp_path, postgres_cluster):
    name = f"o_{uuid.uuid4().hex[:12]}"
    url = postgres_cluster.create_database(name)
    try:
        env = aula_env(tmp_path, url)
        refused = aula_ws(env, "serve", "--port", "0")
        assert refused.returncode == 2 and "aula-ws db upgrade" in refused.stderr
        with running_server(env, "--upgrade") as server:
            assert requests.get(f"{server.base_url}/health", timeout=10).json()["schema_revision"] == head_revision()
    finally:
        postgres_cluster.drop_database(name)


def test_health_is_503_when_the_schema_is_behind_or_the_database_is_gone(tmp_path):
    url = migrated_sqlite(tmp_path)
    with running_server(aula_env(tmp_path, url)) as server:
        engine = create_database_engine(url)
        with engine.begin() as connection:
            connection.execute(text("UPDATE alembic_version SET version_num = '0001'"))
        engine.dispose()
        behind = requests.get(f"{server.base_url}/health", timeout=10)
        assert behind.status_code == 503
        assert behind.json()["status"] == "schema behind" and behind.json()["schema_revision"] == "0001"
        (tmp_path / "aula.sqlite3").unlink()
        (tmp_path / "aula.sqlite3").mkdir()  # the file is gone and cannot be made again
        gone = requests.get(f"{server.base_url}/health", timeout=10)
        assert gone.status_code == 503
        assert gone.json()["database"] in ("unreachable", "reachable")


def test_the_access_log_masks_the_token_and_follows_the_log_settings(tmp_path):
    env = aula_env(tmp_path, migrated_sqlite(tmp_path), AULA_LOG_FORMAT="json", AULA_LOG_LEVEL="INFO")
    with running_server(env) as server:
        secret = "s3cr3t-token-value"
        requests.get(f"{server.base_url}/webservice/rest/server.php?wstoken={secret}&wsfunction=x", timeout=10)
        requests.get(f"{server.base_url}/health", timeout=10)
        _wait_for(server, '"GET", "path": "/health"')
    assert secret not in server.log + "".join(server.access)
    assert all(json.loads(line)["level"] for line in server.output if line.startswith("{"))
    access = [json.loads(line) for line in server.access]
    assert [(e["method"], e["path"], e["status"]) for e in access] == [
        ("GET", "/webservice/rest/server.php?wstoken=***&wsfunction=x", "200"),
        ("GET", "/health", "200"),
    ]
    assert all(e["bytes"] > 0 and e["ms"] >= 0 and e["peer"] == "127.0.0.1" for e in access)


def test_log_level_warning_drops_the_access_log_and_a_bad_level_is_refused(tmp_path):
    env = aula_env(tmp_path, migrated_sqlite(tmp_path), AULA_LOG_LEVEL="warning")
    with running_server(env) as server:
        requests.get(f"{server.base_url}/health", timeout=10)
        log_mark(server)  # a WARNING line logged after it, and read
        assert not server.access
    refused = aula_ws(aula_env(tmp_path, migrated_sqlite(tmp_path, "b.sqlite3"), AULA_LOG_LEVEL="loud"), "serve")
    assert refused.returncode == 2 and "AULA_LOG_LEVEL" in refused.stderr


@pytest.mark.parametrize(
    "args", [["--port", "99999"], ["--port", "-1"], ["--threads", "0"], ["--threads", "many"]], ids=str
)
def test_serve_options_out_of_range_are_usage_errors(tmp_path, args):
    result = aula_ws(aula_env(tmp_path, migrated_sqlite(tmp_path)), "serve", *args)
    assert result.returncode == 2
    assert "is not" in result.stderr and "Traceback" not in result.stderr


def test_a_busy_port_is_one_line_and_exit_2(tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = aula_ws(aula_env(tmp_path, migrated_sqlite(tmp_path)), "serve", "--port", str(port))
    assert result.returncode == 2
    assert result.stderr.strip() == f"aula-ws: cannot listen on 127.0.0.1:{port}: Address already in use"


def test_a_closed_pipe_ends_quietly_with_exit_3(tmp_path):
    env = aula_env(tmp_path, migrated_sqlite(tmp_path))
    script = f"{sys.executable} -m aula_ws import template lessons | head -c 1 >/dev/null; echo ${{PIPESTATUS[0]}}"
    # the template is short: a writer slower than the reader's exit is needed, so a long output
    script = f"{sys.executable} -m aula_ws wsdl contract | head -c 1 >/dev/null; echo ${{PIPESTATUS[0]}}"
    result = subprocess.run(["bash", "-c", script], env=env, cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert result.stdout.strip() in ("0", "3")  # 0 only when all was written before head left
    assert "Traceback" not in result.stderr and "BrokenPipe" not in result.stderr


def test_token_create_prints_only_the_token_on_stdout(tmp_path):
    env = aula_env(tmp_path, migrated_sqlite(tmp_path))
    engine = create_database_engine(env["AULA_DATABASE_URL"])
    create_demo_platform(engine, datetime.now(UTC).replace(tzinfo=None))
    engine.dispose()
    created = aula_ws(env, "token", "create", "--user", "admin", "--service", "etl")
    assert created.returncode == 0, created.stderr
    assert re.fullmatch(r"\S{20,}\n", created.stdout)
    assert "shown only this once" in created.stderr


@pytest.mark.postgres
def test_gunicorn_with_the_deploy_config_serves_health_and_soap_against_postgresql(tmp_path, postgres_cluster):
    name = f"g_{uuid.uuid4().hex[:12]}"
    url = postgres_cluster.create_database(name, template="aula_template")
    try:
        engine = create_database_engine(url)
        create_demo_platform(engine, datetime.now(UTC).replace(tzinfo=None))
        engine.dispose()
        command = [
            sys.executable,
            "-m",
            "gunicorn",
            "-c",
            str(ROOT / "deploy" / "gunicorn.conf.py"),
            "--bind",
            "127.0.0.1:0",
            "--workers",
            "1",
            "aula_ws.app:from_environment()",
        ]
        env = aula_env(tmp_path, url, AULA_LOG_FORMAT="text")
        with running_process(command, env, LISTENING, ready="Booting worker") as server:
            health = _get_when_up(f"{server.base_url}/health")
            assert health.status_code == 200 and health.json()["schema_revision"] == head_revision()
            client = zeep.Client(f"{server.base_url}/soap?wsdl")
            [lovecraft] = client.service.obtener_avance_usuarios(id_grupo=64, id_usuario="lovecraft")
            assert lovecraft.avance == 20
            requests.get(f"{server.base_url}/webservice/rest/server.php?wstoken=hidden-one", timeout=10)
            _wait_for(server, "wstoken=***")
        access = "".join(server.access)
        assert "aula_ws.access: GET /health 200" in access
        assert "aula_ws.access: POST /soap 200" in access
        assert "wstoken=***" in access and "hidden-one" not in access + server.log
    finally:
        postgres_cluster.drop_database(name)


def _get_when_up(url: str) -> requests.Response:
    for _ in range(100):
        try:
            return requests.get(url, timeout=10)
        except requests.ConnectionError:
            time.sleep(0.1)
    return requests.get(url, timeout=10)


def _wait_for(server: RunningServer, needle: str) -> None:
    """The access line is written once the answer is sent: wait for it to reach the output."""
    deadline = time.monotonic() + 10
    while needle not in "".join(server.access) and time.monotonic() < deadline:
        time.sleep(0.05)


def test_a_file_in_another_encoding_is_refused_in_one_line_with_the_hint(tmp_path):
    env = aula_env(tmp_path, migrated_sqlite(tmp_path))
    latin1 = tmp_path / "courses.txt"
    latin1.write_bytes("user_loginid\tcrsvname\tcourse_status\nJosé\tdemo\tI\n".encode("latin-1"))
    refused = aula_ws(env, "import", "courses", str(latin1))
    assert refused.returncode == 2
    assert "is not valid utf-8" in refused.stderr and "--encoding" in refused.stderr
    users = tmp_path / "users.csv"
    users.write_bytes("username;firstname;lastname\njosé;José;Pérez\n".encode("latin-1"))
    synced = aula_ws(env, "sync", "users", str(users), "--simulate")
    assert synced.returncode == 2 and "--encoding: utf-8, iso-8859-1" in synced.stderr
    decoded = aula_ws(env, "sync", "users", str(users), "--simulate", "--encoding", "iso-8859-1")
    assert "refused" not in decoded.stderr and "lines processed: 1" in decoded.stdout


def test_each_file_kind_help_lists_its_columns(tmp_path):
    env = aula_env(tmp_path, migrated_sqlite(tmp_path))
    lessons = aula_ws(env, "import", "lessons", "--help").stdout
    assert "lessons: user_loginid* crsvname* lsnvname* lnk_type* lesson_status*" in lessons
    users = aula_ws(env, "sync", "users", "--help").stdout
    assert "required: username firstname lastname" in users and "profile_field_<name>" in users
    enrolments = aula_ws(env, "sync", "enrolments", "--help").stdout
    assert "required: cid uid rolename" in enrolments
