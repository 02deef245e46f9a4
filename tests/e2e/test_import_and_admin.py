"""The statistics import as administrators use it: the CLI, and the admin SOAP endpoint through zeep."""

import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
import requests
import zeep
from lxml import etree
from sqlalchemy import func, select

from aula_ws.services import tokens
from aula_ws.services.clock import utc_now
from aula_ws.store.database import create_database_engine
from aula_ws.store.tables import lesson_sessions
from tests.builders import PlatformBuilder
from tests.databases import migrated_sqlite
from tests.e2e.server_process import ROOT, aula_env, kill_mid_write, running_server

HEADER = "user_loginid\tcrsvname\tlsnvname\tlnk_type\tlesson_status\tlesson_status_date\tlesson_score\tlesson_time\tilt_status\n"
GOOD = "demo\tComics\tU1\tL\tP\t22/03/2013\t90\t1800\t\n"
BAD = "nobody\tComics\tU1\tL\tP\t22/03/2013\t90\t1800\t\n"


@pytest.fixture
def platform(tmp_path):
    url = migrated_sqlite(tmp_path)
    engine = create_database_engine(url)
    builder = PlatformBuilder(engine)
    builder.group("Comics", units=["U1", "U2"], group_id=7)
    builder.member("demo", 7)
    builder.user("admin", site_admin=True)
    builder.user("teacher")
    yield engine, aula_env(tmp_path, url)
    engine.dispose()


def aula_ws(env, *args):
    return subprocess.run(
        [sys.executable, "-m", "aula_ws", *args], env=env, cwd=ROOT, capture_output=True, text=True, timeout=300
    )


def stored(engine):
    with engine.connect() as connection:
        return connection.scalar(select(func.count()).select_from(lesson_sessions))


def test_the_cli_prints_the_report_paths_and_the_counters_last_and_exits_by_outcome(platform, tmp_path):
    engine, env = platform
    clean, mixed = tmp_path / "clean.tsv", tmp_path / "mixed.tsv"
    clean.write_text(HEADER + GOOD)
    mixed.write_text(HEADER + GOOD + BAD)
    ok = aula_ws(env, "import", "lessons", str(clean))
    assert ok.returncode == 0, ok.stderr
    assert ok.stdout.strip().splitlines()[-6:] == [
        "records processed: 1",
        "records rejected: 0",
        "statistics added: 1",
        "statistics updated: 0",
        "errors: 0",
        "warnings: 0",
    ]
    rejected = aula_ws(env, "import", "lessons", str(mixed), "--on-existing", "reject")
    assert rejected.returncode == 1
    rejects_line = next(line for line in rejected.stdout.splitlines() if line.startswith("rejects: "))
    rejects = Path(rejects_line.split(": ", 1)[1].split(" (")[0])
    assert rejects.read_text() == HEADER + GOOD + BAD  # GOOD now exists: rejected by policy
    journal = next(line for line in rejected.stdout.splitlines() if line.startswith("journal: ")).split(": ", 1)[1]
    assert 'line 3: error: unknown user "nobody"' in Path(journal).read_text()
    assert stored(engine) == 1


def test_the_cli_refuses_bad_usage_and_bad_files_with_exit_2(platform, tmp_path):
    engine, env = platform
    assert aula_ws(env, "import", "lessons", str(tmp_path / "missing.tsv")).returncode == 2
    assert aula_ws(env, "import", "grades", str(tmp_path)).returncode == 2
    broken = tmp_path / "broken.tsv"
    broken.write_bytes(HEADER.encode() + b"d\xe9mo\n")
    result = aula_ws(env, "import", "lessons", str(broken))
    assert result.returncode == 2 and "line 2 is not valid utf-8" in result.stderr
    assert stored(engine) == 0


def test_an_import_killed_mid_file_stores_nothing_and_can_be_run_again(platform, tmp_path):
    engine, env = platform
    big = tmp_path / "big.tsv"
    with big.open("w") as handle:
        handle.write(HEADER)
        for n in range(300_000):
            handle.write(f"demo\tComics\tU{1 + n % 2}\tL\tI\t2015/01/01\t{n % 100}\t{n}\t\n")
    process = subprocess.Popen(
        [sys.executable, "-m", "aula_ws", "import", "lessons", str(big)],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    kill_mid_write(process, tmp_path / "aula.sqlite3-wal", "import")
    assert stored(engine) == 0
    again = aula_ws(env, "import", "lessons", str(big))
    assert again.returncode == 0, again.stderr
    assert stored(engine) == 300_000


@pytest.fixture
def admin_server(platform):
    engine, env = platform
    created = aula_ws(env, "token", "create", "--user", "admin", "--service", "admin")
    assert created.returncode == 0, created.stderr
    secret = created.stdout.split()[-1]
    with running_server(env) as server:
        yield engine, env, server, secret


def header(secret):
    element = etree.Element("{urn:Educativa/Aula/Admin/}wstoken")
    element.text = secret
    return [element]


def test_an_admin_imports_through_zeep_with_the_token_in_a_soap_header(admin_server):
    engine, env, server, secret = admin_server
    client = zeep.Client(f"{server.base_url}/soap/admin?wsdl")
    report = client.service.import_lesson_stats(
        content=(HEADER + GOOD + BAD).encode(), file_name="stats.tsv", _soapheaders=header(secret)
    )
    assert (report.processed, report.rejected, report.added, report.errors) == (2, 1, 1, 1)
    assert 'line 3: error: unknown user "nobody"' in report.journal
    assert report.rejects == (HEADER + BAD).encode()
    assert stored(engine) == 1
    assert secret not in server.log


def test_the_token_may_come_as_a_query_parameter(admin_server):
    engine, env, server, secret = admin_server
    client = zeep.Client(f"{server.base_url}/soap/admin?wsdl")
    service = client.create_service(next(iter(client.wsdl.bindings)), f"{server.base_url}/soap/admin?wstoken={secret}")
    course_file = "user_loginid;crsvname;course_status\ndemo;Comics;C\n"
    report = service.import_course_stats(content=course_file.encode(), dry_run=True)
    assert (report.added, report.rejected) == (1, 0)


def test_the_admin_wsdl_lists_the_import_operations(admin_server):
    _, _, server, _ = admin_server
    wsdl = requests.get(f"{server.base_url}/soap/admin?wsdl", timeout=30)
    assert wsdl.status_code == 200 and 'targetNamespace="urn:Educativa/Aula/Admin/"' in wsdl.text
    for operation in ("import_lesson_stats", "import_course_stats", "import_activity"):
        assert f'name="{operation}"' in wsdl.text


def expect_refused(client, engine, **extra):
    with pytest.raises(zeep.exceptions.Fault) as caught:
        client.service.import_lesson_stats(content=(HEADER + GOOD).encode(), **extra)
    assert caught.value.code.endswith(":Client.Authentication")
    assert caught.value.message == "Client.Authentication"
    assert stored(engine) == 0


def test_missing_wrong_expired_revoked_or_powerless_tokens_change_nothing(admin_server):
    engine, env, server, secret = admin_server
    client = zeep.Client(f"{server.base_url}/soap/admin?wsdl")
    expect_refused(client, engine)
    expect_refused(client, engine, _soapheaders=header("0" * 64))
    etl = aula_ws(env, "token", "create", "--user", "admin", "--service", "etl").stdout.split()[-1]
    expect_refused(client, engine, _soapheaders=header(etl))
    # the CLI refuses a dead token (--days 0): one created two days ago for one day has expired
    _, expired = tokens.create_token(
        engine, "admin", "admin", utc_now() - timedelta(days=2), utc_now() - timedelta(days=1)
    )
    expect_refused(client, engine, _soapheaders=header(expired))
    assert aula_ws(env, "user", "set-admin", "admin", "--off").returncode == 0
    expect_refused(client, engine, _soapheaders=header(secret))
    assert aula_ws(env, "user", "set-admin", "admin").returncode == 0
    listing = aula_ws(env, "token", "list").stdout
    token_id = listing.splitlines()[1].split("\t")[0]
    assert aula_ws(env, "token", "revoke", token_id).returncode == 0
    expect_refused(client, engine, _soapheaders=header(secret))
    for token in (secret, etl, expired):
        assert token not in server.log and token not in listing


def test_tokens_are_only_for_site_admins(admin_server):
    _, env, _, _ = admin_server
    refused = aula_ws(env, "token", "create", "--user", "teacher", "--service", "admin")
    assert refused.returncode == 2 and "not a site admin" in refused.stderr
