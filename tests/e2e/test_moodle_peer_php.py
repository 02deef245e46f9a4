"""A Moodle-style peer written in PHP (tests/e2e/moodle_peer/: PHP's own openssl_sign, openssl_seal
with RC4 from OpenSSL's legacy provider, Moodle's serial-0 certificates), served by `php -S` on
127.0.0.1, against a real aula-ws: calls both ways, its key rotation, ours, a 20 s slow clock,
a relay through it. SQLite and PostgreSQL."""

import json
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import requests

from aula_ws.services.clock import utc_now
from aula_ws.store.database import create_database_engine
from tests.databases import fresh_database
from tests.e2e.server_process import aula_env, running_server
from tests.e2e.test_mnet_peers import free_port, peer_command
from tests.usage_dataset import build_usage_platform

PEER_DIR = Path(__file__).parent / "moodle_peer"
STATS = "blocks/use_stats/rpclib.php/use_stats_rpc_get_stats"
# OpenSSL 3 keeps RC4 in its legacy provider: enabled for the PHP process only, by this file
OPENSSL_CONF = """openssl_conf = openssl_init
[openssl_init]
providers = provider_sect
[provider_sect]
default = default_sect
legacy = legacy_sect
[default_sect]
activate = 1
[legacy_sect]
activate = 1
[req]
default_bits = 2048
distinguished_name = req_distinguished_name
[req_distinguished_name]
"""


@dataclass
class PhpPeer:
    root: str
    env: dict[str, str]
    state: Path

    def run(self, *args: str) -> str:
        result = subprocess.run(
            ["php", str(PEER_DIR / "peer.php"), *args],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert result.returncode == 0, result.stderr
        return result.stdout

    def call(self, method: str, *params: object) -> dict[str, Any]:
        """The PHP peer calls aula-ws as Moodle's client does: {value | fault | error, log}."""
        answer = json.loads(self.run("call", method, json.dumps(params)))
        if isinstance(answer.get("value"), str) and answer["value"].startswith("{"):
            answer["value"] = json.loads(answer["value"])
        return answer

    def caller(self, username: str) -> dict[str, str]:
        return {"username": username, "remoteuserhostroot": self.root, "remotehostroot": self.root}

    @property
    def log(self) -> str:
        path = self.state / "peer.log"
        return path.read_text() if path.exists() else ""


@dataclass
class Aula:
    root: str
    env: dict[str, str]

    def peer(self, *args: str) -> str:
        result = peer_command(self.env, *args)
        assert result.returncode == 0, result.stderr
        return result.stdout


@pytest.fixture(scope="module")
def php_peer(tmp_path_factory) -> Iterator[PhpPeer]:
    state = tmp_path_factory.mktemp("php_peer")
    (state / "openssl.cnf").write_text(OPENSSL_CONF)
    port = free_port()
    root = f"http://127.0.0.1:{port}"
    env = {"PATH": "/usr/bin:/bin", "OPENSSL_CONF": str(state / "openssl.cnf"), "MOODLE_PEER_STATE": str(state)}
    peer = PhpPeer(root, env, state)
    peer.run("init", root)
    server = subprocess.Popen(
        ["php", "-S", f"127.0.0.1:{port}", str(PEER_DIR / "server.php")],
        env={**env, "PHP_CLI_SERVER_WORKERS": "4"},
        cwd=PEER_DIR,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        _wait_for(port)
        yield peer
    finally:
        server.terminate()
        server.wait(timeout=10)


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def linked(request, tmp_path_factory, php_peer) -> Iterator[tuple[Aula, PhpPeer]]:
    """aula-ws and the PHP peer, each registered with the other (keyswap, fingerprint pinned)."""
    directory = tmp_path_factory.mktemp("aula")
    url = fresh_database(request, directory, "aula")
    engine = create_database_engine(url)
    builder = build_usage_platform(engine, start=utc_now() - timedelta(hours=5))
    builder.user("poe", firstname="Edgar", lastname="Poe", site_admin=True, mnethost=php_peer.root)
    engine.dispose()
    port = free_port()
    root = f"http://127.0.0.1:{port}"
    env = aula_env(directory, url, AULA_WWWROOT=root, AULA_MNET_PEER_TIMEOUT="30")
    with running_server(env, "--port", str(port)):
        aula = Aula(root, env)
        certificate = requests.get(f"{root}/mnet/publickey.php", timeout=10).text
        path = directory / "aula.pem"
        path.write_text(certificate)
        php_peer.run("trust", root, str(path))
        fingerprint = _openssl_fingerprint(php_peer.run("certificate"))
        added = aula.peer("add", php_peer.root, "--fingerprint", fingerprint)
        assert added.splitlines() == [
            f"{php_peer.root} certificate sha256 {fingerprint}",
            f"peer {php_peer.root} added",
        ]
        yield aula, php_peer


def test_the_php_peer_calls_aula_ws_and_reads_the_answer(linked):
    aula, php = linked
    answer = php.call(STATS, php.caller("poe"), "lovecraft", "", 1, 0, True)
    assert answer["value"]["status"] == 200, answer
    assert "<USERNAME>lovecraft</USERNAME>" in answer["value"]["message"]


def test_aula_ws_relays_to_the_php_peer_and_relays_its_answer(linked):
    aula, php = linked
    answer = php.call(STATS, php.caller("poe"), "dunwich", php.root, 1, 0, True)
    assert answer["value"]["status"] == 200, answer
    # the PHP peer answered, called by aula-ws as itself, for the user named by the caller
    assert (
        f"<USERNAME>dunwich</USERNAME><FIRSTNAME>PHP</FIRSTNAME><LASTNAME>poe@{aula.root}"
        in (answer["value"]["message"])
    )


def test_the_php_peer_rotates_its_key_and_aula_ws_fetches_the_new_certificate(linked):
    aula, php = linked
    before = _listed_fingerprint(aula, php)
    new_certificate = php.run("rotate")
    answer = php.call(STATS, php.caller("poe"), "lovecraft", "", 1, 0, True)
    assert answer["value"]["status"] == 200, answer
    assert _listed_fingerprint(aula, php) == _openssl_fingerprint(new_certificate) != before
    # and aula-ws calling it (a relay) seals to the new certificate at once
    relayed = php.call(STATS, php.caller("poe"), "dunwich", php.root, 1, 0, True)
    assert relayed["value"]["status"] == 200, relayed


def test_aula_ws_rotates_its_key_and_the_php_peer_follows_by_7025(linked):
    aula, php = linked
    aula.peer("rotate-key")
    answer = php.call(STATS, php.caller("poe"), "lovecraft", "", 1, 0, True)
    assert answer["value"]["status"] == 200, answer
    assert "7025: storing the new certificate and sending again" in answer["log"]
    # the PHP peer's server, called by aula-ws signing with the new key, follows too (by keyswap)
    relayed = php.call(STATS, php.caller("poe"), "dunwich", php.root, 1, 0, True)
    assert relayed["value"]["status"] == 200, relayed


def test_a_php_peer_silent_past_our_key_history_recovers_by_keyswap_and_list_services(linked):
    aula, php = linked
    for _ in range(3):  # the key the PHP peer knows is no longer among our last 3
        aula.peer("rotate-key")
    answer = php.call(STATS, php.caller("poe"), "lovecraft", "", 1, 0, True)
    assert answer["value"]["status"] == 200, answer
    assert "7023: keyswap, then system/listServices, then again" in answer["log"]
    assert 'listServices: {"value":[{"name":"use_stats","apiversion":1,"publish":1,"subscribe":1}]}' in answer["log"]


def test_a_php_peer_20_seconds_slow_talks_both_ways(linked):
    aula, php = linked
    php.run("clock", "-20")
    try:
        answer = php.call(STATS, php.caller("poe"), "lovecraft", "", 1, 0, True)
        assert answer["value"]["status"] == 200, answer
        relayed = php.call(STATS, php.caller("poe"), "dunwich", php.root, 1, 0, True)
        assert relayed["value"]["status"] == 200, relayed
    finally:
        php.run("clock", "0")


def test_the_php_peers_certificate_has_serial_0_as_moodle_makes_them(linked):
    _aula, php = linked
    serial = subprocess.run(
        ["openssl", "x509", "-noout", "-serial"], input=php.run("certificate"), capture_output=True, text=True
    )
    assert serial.stdout.strip() == "serial=00"


def _listed_fingerprint(aula: Aula, php: PhpPeer) -> str:
    line = next(line for line in aula.peer("list").splitlines() if line.startswith(php.root + "\t"))
    return line.rsplit("sha256 ", 1)[1]


def _openssl_fingerprint(certificate_pem: str) -> str:
    result = subprocess.run(
        ["openssl", "x509", "-noout", "-fingerprint", "-sha256"],
        input=certificate_pem,
        capture_output=True,
        text=True,
        check=True,
    )
    return result.stdout.strip().split("=", 1)[1].lower()


def _wait_for(port: int) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"php -S did not listen on {port}")


def test_a_local_account_with_the_php_peers_username_but_another_home_is_not_the_caller(linked):
    _aula, php = linked
    answer = php.call(STATS, php.caller("lovecraft"), "lovecraft", "", 1, 0, True)  # lovecraft is moodle.test's
    assert answer["value"] == {
        "status": 501,
        "errors": ["Calling user has no local account. Register remote user first"],
    }


def test_mnet_call_reaches_the_php_peer_as_this_site(linked):
    aula, php = linked
    caller = json.dumps({"username": "poe", "remoteuserhostroot": php.root, "remotehostroot": aula.root})
    result = peer_command_line(aula, "mnet", "call", STATS, caller, "dunwich", "", "1", "--peer", php.root)
    assert result.returncode == 0, result.stderr
    answer = json.loads(result.stdout)
    assert answer["status"] == 200 and f"<LASTNAME>poe@{aula.root}</LASTNAME>" in answer["message"]


def peer_command_line(aula: Aula, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "aula_ws", *args], env=aula.env, capture_output=True, text=True, timeout=120
    )
