"""The commands as a newcomer runs them: db upgrade, serve --demo, python server.py, refusals."""

import subprocess
import sys

import requests
import zeep
from sqlalchemy import text

from aula_ws.store.database import create_database_engine, head_revision
from tests.databases import migrated_sqlite
from tests.e2e.server_process import ROOT, aula_env, running_server
from tests.e2e.test_contract_endpoint import ENV, envelope, fault_of, post, seed


def aula_ws(env, *args):
    return subprocess.run(
        [sys.executable, "-m", "aula_ws", *args], env=env, cwd=ROOT, capture_output=True, text=True, timeout=120
    )


def test_db_upgrade_then_serve_demo_answers_the_contract_example(tmp_path):
    env = aula_env(tmp_path, f"sqlite:///{tmp_path / 'demo.sqlite3'}")
    upgraded = aula_ws(env, "db", "upgrade")
    assert upgraded.returncode == 0, upgraded.stderr
    assert f"schema revision {head_revision()}" in upgraded.stdout
    with running_server(env, "--demo") as server:
        assert "demo platform created" in server.log
        client = zeep.Client(f"{server.base_url}/soap?wsdl")
        [lovecraft] = client.service.obtener_avance_usuarios(id_grupo=64, id_usuario="lovecraft")
        assert (lovecraft.avance, lovecraft.fecha_alta.isoformat()) == (20, "2015-06-17")
        large = client.service.obtener_avance_usuarios(id_grupo=65)
        assert len(large) == 301 and len({r.avance for r in large}) > 5
        assert {r.avance for r in client.service.obtener_avance_usuarios(id_grupo=66)} == {100}
        assert len({r.perfil for r in large}) == 5
    # a second --demo start keeps the data it made
    with running_server(env, "--demo") as server:
        assert "demo platform already present" in server.log


def test_python_server_py_serves_the_same_application(tmp_path):
    url = migrated_sqlite(tmp_path)
    seed(url)
    with running_server(aula_env(tmp_path, url), script=[sys.executable, "server.py"]) as server:
        response = post(server, envelope(id_grupo="64", id_usuario="lovecraft"))
        assert "<avance>20</avance>" in response.text


def test_a_command_refuses_an_outdated_schema_and_names_the_fix(tmp_path):
    # `serve` brings the embedded database up itself (tests/e2e/test_operations.py); other commands do not
    result = aula_ws(aula_env(tmp_path, f"sqlite:///{tmp_path / 'empty.sqlite3'}"), "token", "list")
    assert result.returncode == 2
    assert "aula-ws db upgrade" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_bad_setting_stops_the_start_with_one_line(tmp_path):
    env = aula_env(tmp_path, f"sqlite:///{tmp_path / 'x.sqlite3'}", AULA_TIMEZONE="Mars/Olympus_Mons")
    result = aula_ws(env, "serve")
    assert result.returncode == 2
    assert result.stderr.strip().count("\n") == 0
    assert "AULA_TIMEZONE" in result.stderr


def test_an_unexpected_failure_is_a_generic_server_fault_and_logged(tmp_path):
    url = migrated_sqlite(tmp_path)
    engine = create_database_engine(url)
    seed(url)
    with running_server(aula_env(tmp_path, url)) as server:
        with engine.begin() as connection:
            connection.execute(text("DROP TABLE member_progress"))
        response = post(server, envelope(id_grupo="64"))
        assert response.status_code == 500
        fault = fault_of(response)
        assert fault["faultcode"] == (ENV, "Server")
        assert "member_progress" not in response.text and "Traceback" not in response.text
        assert requests.get(f"{server.base_url}/", timeout=10).status_code == 200
    engine.dispose()
    assert "member_progress" in server.log and "Traceback" in server.log


def test_progress_rebuild_recomputes_the_maintained_progress(tmp_path):
    from zoneinfo import ZoneInfo

    from aula_ws.services.progress import ProgressQuery, obtener_avance_usuarios

    url = migrated_sqlite(tmp_path)
    seed(url)
    engine = create_database_engine(url)
    zone = ZoneInfo("UTC")
    before = obtener_avance_usuarios(engine, zone, ProgressQuery("64"))
    assert {row.avance for row in before} - {0}, "the seed has progress"
    with engine.begin() as connection:  # lost or damaged by hand: every member reads 0
        connection.execute(text("DELETE FROM member_progress"))
        connection.execute(text("DELETE FROM unit_progress"))
    assert {row.avance for row in obtener_avance_usuarios(engine, zone, ProgressQuery("64"))} == {0}
    rebuilt = aula_ws(aula_env(tmp_path, url), "progress", "rebuild")
    assert rebuilt.returncode == 0, rebuilt.stderr
    assert "progress rebuilt:" in rebuilt.stdout
    assert obtener_avance_usuarios(engine, zone, ProgressQuery("64")) == before
    engine.dispose()
