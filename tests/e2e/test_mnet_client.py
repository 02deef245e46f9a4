"""What integrators use, through a real server: `peer add URL` by keyswap with a pinned
fingerprint, `aula-ws mnet call`, and the MnetClient Python API. SQLite and PostgreSQL."""

import json
import os
import pty
import subprocess
import sys
import xmlrpc.client
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta

import pytest
import requests
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization

from aula_ws.rpc.client import MnetClient
from aula_ws.services.clock import utc_now
from aula_ws.store.database import create_database_engine
from tests.databases import fresh_database
from tests.e2e.server_process import ROOT, aula_env, running_server
from tests.e2e.test_mnet_peers import free_port
from tests.mnet_peer import HandMadePeer
from tests.usage_dataset import build_usage_platform

INTEGRATOR = "https://lms.example.org"


@dataclass
class Site:
    root: str
    env: dict[str, str]

    def cli(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "aula_ws", *args],
            env=self.env,
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=120,
            stdin=subprocess.DEVNULL,
        )

    def caller(self, username: str) -> str:
        return json.dumps({"username": username, "remoteuserhostroot": self.root, "remotehostroot": self.root})


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def site(request, tmp_path_factory) -> Iterator[Site]:
    """A server whose users are local, registered as its own peer (as the README does on the demo)."""
    directory = tmp_path_factory.mktemp("client")
    url = fresh_database(request, directory, "client")
    engine = create_database_engine(url)
    build_usage_platform(engine, start=utc_now() - timedelta(hours=5), home=None)
    engine.dispose()
    port = free_port()
    root = f"http://127.0.0.1:{port}"
    env = aula_env(directory, url, AULA_WWWROOT=root)
    with running_server(env, "--port", str(port)):
        yield Site(root, env)


def test_peer_add_by_keyswap_needs_the_fingerprint_pinned_or_confirmed(site):
    refused = site.cli("peer", "add", site.root)
    assert refused.returncode == 2
    printed = refused.stdout.split("sha256 ", 1)[1].strip()
    assert "pass it as --fingerprint" in refused.stderr
    wrong = site.cli("peer", "add", site.root, "--fingerprint", "00:" * 31 + "00")
    assert wrong.returncode == 2 and f"has the fingerprint {printed}" in wrong.stderr
    pinned = site.cli("peer", "add", site.root, "--fingerprint", printed.replace(":", "").upper())
    assert pinned.returncode == 0, pinned.stderr
    assert f"{site.root}\tcipher rc4" in site.cli("peer", "list").stdout
    assert printed == _fingerprint(requests.get(f"{site.root}/mnet/publickey.php", timeout=10).text)


def test_mnet_call_prints_get_stats_and_get_scores_as_json(site):
    _registered(site)
    stats = site.cli(
        "mnet", "call", "use_stats_rpc_get_stats", site.caller("root"), "lovecraft", "", "2", "--peer", site.root
    )
    assert stats.returncode == 0, stats.stderr
    answer = json.loads(stats.stdout)
    assert answer["status"] == 200 and "<ELAPSED>80</ELAPSED></USER><COURSES>" in answer["message"]
    scores = site.cli(
        "mnet", "call", "use_stats_rpc_get_scores", site.caller("lovecraft"), "lovecraft", "", "--peer", site.root
    )
    assert json.loads(scores.stdout)["message"].count("<SCORE>85.00</SCORE>") == 1


def test_mnet_call_reports_a_fault_and_an_unregistered_peer(site):
    _registered(site)
    fault = site.cli("mnet", "call", "mod/forum/lib.php/forum_add_instance", "--peer", site.root)
    assert fault.returncode == 1
    assert fault.stderr.strip() == "aula-ws: fault 713: Unable to locate function, or function prohibited for RPC."
    stranger = site.cli("mnet", "call", "system/listMethods", "--peer", "http://127.0.0.1:9")
    assert stranger.returncode == 2 and "is not a registered peer" in stranger.stderr


def test_an_integrator_calls_with_the_python_api_once_its_certificate_is_registered(site, tmp_path):
    key, certificate_pem = _identity(INTEGRATOR)
    path = tmp_path / "lms.pem"
    path.write_text(certificate_pem)
    added = site.cli("peer", "add", INTEGRATOR, "--cert", str(path))
    assert added.returncode == 0, added.stderr
    ours = requests.get(f"{site.root}/mnet/publickey.php", timeout=10).text
    client = MnetClient(site.root, INTEGRATOR, key, ours)
    caller = {"username": "root", "remoteuserhostroot": site.root, "remotehostroot": INTEGRATOR}
    answer = json.loads(client.call("use_stats_rpc_get_stats", caller, "lovecraft", "", 1))
    assert answer["status"] == 200 and "<ELAPSED>80</ELAPSED>" in answer["message"]
    assert "use_stats_rpc_get_scores" in client.call("system/listMethods")
    # the same call unsigned, as a plain xmlrpc.client makes it
    plain = xmlrpc.client.ServerProxy(f"{site.root}/mnet/xmlrpc/server.php")
    with pytest.raises(xmlrpc.client.Fault) as caught, plain as proxy:
        proxy.use_stats_rpc_get_stats(caller, "lovecraft", "", 1)
    assert caught.value.faultCode == 7021


def _registered(site: Site) -> None:
    fingerprint = _fingerprint(requests.get(f"{site.root}/mnet/publickey.php", timeout=10).text)
    assert site.cli("peer", "add", site.root, "--fingerprint", fingerprint).returncode == 0


def _fingerprint(certificate_pem: str) -> str:
    return x509.load_pem_x509_certificate(certificate_pem.encode()).fingerprint(hashes.SHA256()).hex(":")


def _identity(wwwroot: str) -> tuple[str, str]:
    """A key pair (PEM, as an integrator keeps it) and a self-signed certificate naming `wwwroot`."""
    peer = HandMadePeer(wwwroot)
    key_pem = peer.key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    return key_pem, peer.certificate_pem


@pytest.mark.parametrize("reply, registered", [(b"y\n", True), (b"n\n", False)])
def test_peer_add_by_keyswap_asks_at_a_terminal(site, reply, registered):
    site.cli("peer", "remove", site.root)
    controller, terminal = pty.openpty()
    try:
        process = subprocess.Popen(
            [sys.executable, "-m", "aula_ws", "peer", "add", site.root],
            env=site.env,
            cwd=ROOT,
            stdin=terminal,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        os.write(controller, reply)
        out, err = process.communicate(timeout=120)
    finally:
        os.close(controller)
        os.close(terminal)
    assert "Is that the peer's fingerprint? [y/N]" in out
    assert (process.returncode, f"peer {site.root} added" in out) == ((0, True) if registered else (2, False))
    assert (site.root + "\t" in site.cli("peer", "list").stdout) is registered
    if not registered:
        assert "not confirmed: nothing registered" in err
