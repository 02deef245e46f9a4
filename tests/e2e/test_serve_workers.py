"""`aula-ws serve --workers N`: N pre-forked processes on one port, under a supervising parent
(aula_ws/workers.py)."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import requests
import zeep

from aula_ws.commands.serve import default_workers
from tests.databases import migrated_sqlite
from tests.e2e.server_process import aula_env, running_server
from tests.e2e.test_command_line import aula_ws
from tests.e2e.test_contract_endpoint import envelope, post, seed


def children(pid: int) -> set[int]:
    found = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:  # gone meanwhile
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:  # the field after the state: the parent's pid
                found.add(int(entry.name))
    return found


def alive(pid: int) -> bool:
    """Running: not gone, and not a zombie (an orphan's zombie waits for whoever reaps orphans here)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def wait_for(condition, seconds: float = 20.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "waited in vain"
        time.sleep(0.05)


def test_n_workers_answer_on_one_port_and_all_stop_on_sigterm(tmp_path, database_url):
    seed(database_url)  # on both databases: no pooled connection may cross the fork
    with running_server(aula_env(tmp_path, database_url), "--workers", "3") as server:
        wait_for(lambda: len(children(server.process.pid)) == 3)
        workers = children(server.process.pid)
        client = zeep.Client(f"{server.base_url}/soap?wsdl")
        for _ in range(6):  # fresh connections: whichever worker accepts answers the same
            [lovecraft] = client.service.obtener_avance_usuarios(id_grupo=64, id_usuario="lovecraft")
            assert lovecraft.avance == 20
        server.process.send_signal(signal.SIGTERM)
        assert server.process.wait(timeout=30) == 0
        assert not [pid for pid in workers if alive(pid)]
    assert "Traceback" not in server.log
    assert server.log.count("serving on") == 1  # the parent says it once, not each worker


def test_a_worker_that_dies_is_reported_and_started_again(tmp_path, database_url):
    seed(database_url)  # on both databases: no pooled connection may cross the fork
    with running_server(aula_env(tmp_path, database_url), "--workers", "2") as server:
        wait_for(lambda: len(children(server.process.pid)) == 2)
        victim = min(children(server.process.pid))
        os.kill(victim, signal.SIGKILL)
        wait_for(lambda: f"(pid {victim}) was killed by SIGKILL; starting another" in server.log)
        wait_for(lambda: len(children(server.process.pid)) == 2 and victim not in children(server.process.pid))
        for _ in range(4):
            assert "<avance>20</avance>" in post(server, envelope(id_grupo="64", id_usuario="lovecraft")).text
        assert requests.get(f"{server.base_url}/health", timeout=10).json()["status"] == "ok"


def test_one_worker_serves_in_the_process_itself_and_stops_on_sigterm(tmp_path):
    url = migrated_sqlite(tmp_path)
    seed(url)
    with running_server(aula_env(tmp_path, url), "--workers", "1") as server:
        assert "<avance>20</avance>" in post(server, envelope(id_grupo="64", id_usuario="lovecraft")).text
        assert not children(server.process.pid)
        server.process.send_signal(signal.SIGTERM)
        assert server.process.wait(timeout=30) == 0


def test_a_bad_workers_value_is_a_usage_error(tmp_path):
    env = aula_env(tmp_path, f"sqlite:///{tmp_path / 'x.sqlite3'}")
    for value, said in (("0", "0 is not 1 to 256"), ("many", "'many' is not a whole number"), ("257", "257 is not")):
        refused = aula_ws(env, "serve", "--workers", value)
        assert refused.returncode == 2
        assert "--workers" in refused.stderr and said in refused.stderr
        assert "Traceback" not in refused.stderr
    assert not (tmp_path / "x.sqlite3").exists()  # refused before anything was opened


def test_the_default_is_one_worker_per_usable_cpu():
    assert default_workers() == len(os.sched_getaffinity(0))
    assert f"here {default_workers()})" in aula_ws(os.environ.copy(), "serve", "--help").stdout.replace("\n", " ")


# the real scheduler ticks once a minute: a stand-in notes which process started it
_NOTING_SCHEDULER = """
import os, sys
from aula_ws.services import sync_schedule

class Noting:
    def __init__(self, services):
        pass

    def start(self):
        with open(os.environ["SCHEDULER_PIDS"], "a") as pids:
            pids.write(f"{os.getpid()}\\n")

    def stop(self):
        pass

sync_schedule.Scheduler = Noting
from aula_ws.cli import main
sys.exit(main(sys.argv[1:]))
"""


def test_the_scheduler_runs_in_one_worker_only(tmp_path):
    pids = tmp_path / "scheduler-pids"
    env = aula_env(tmp_path, migrated_sqlite(tmp_path), SCHEDULER_PIDS=str(pids))
    script = [sys.executable, "-c", _NOTING_SCHEDULER, "serve"]
    with running_server(env, "--workers", "3", "--scheduler", script=script) as server:
        wait_for(lambda: len(children(server.process.pid)) == 3)
        wait_for(pids.exists)
        time.sleep(0.5)  # time for any other worker to start one too
        [started_in] = pids.read_text().split()
        assert int(started_in) in children(server.process.pid)
        assert server.log.count("sync scheduler running") == 1


def test_workers_stop_by_themselves_when_the_parent_is_killed(tmp_path):
    with running_server(aula_env(tmp_path, migrated_sqlite(tmp_path)), "--workers", "2") as server:
        wait_for(lambda: len(children(server.process.pid)) == 2)
        workers = children(server.process.pid)
        server.process.kill()
        server.process.wait()
        wait_for(lambda: not [pid for pid in workers if alive(pid)])


_BROKEN_WORKERS = """
import sys
from aula_ws import serving

def broken(*args, **kwargs):
    raise RuntimeError("this worker cannot start")

serving.create_waitress = broken
from aula_ws.cli import main
sys.exit(main(sys.argv[1:]))
"""


def test_workers_that_keep_dying_as_they_start_stop_the_server_with_exit_1(tmp_path):
    env = aula_env(tmp_path, migrated_sqlite(tmp_path))
    script = [sys.executable, "-c", _BROKEN_WORKERS, "serve", "--port", "0", "--workers", "2"]
    ended = subprocess.run(script, env=env, capture_output=True, text=True, timeout=120)
    assert ended.returncode == 1
    assert "workers keep dying as they start: stopping" in ended.stderr
    assert "this worker cannot start" in ended.stderr  # each worker's own traceback
