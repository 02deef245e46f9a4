"""Two live servers on 127.0.0.1, each the other's peer, relaying use_stats both ways
(whereroot); a third identity (a hand-made Moodle) calls them through xmlrpc.client."""

import json
import socket
import subprocess
import sys
import time
import uuid
import xmlrpc.client
from contextlib import ExitStack
from datetime import timedelta

import pytest
import requests
from cryptography import x509

from aula_ws.rpc.client import MnetTransport
from aula_ws.services.clock import utc_now
from aula_ws.store.database import create_database_engine
from tests.databases import fresh_database
from tests.e2e.server_process import ROOT, aula_env, running_server
from tests.mnet_peer import HandMadePeer, moodle_peer
from tests.usage_dataset import build_usage_platform

PEER_TIMEOUT = 2
STATS = "blocks/use_stats/rpclib.php/use_stats_rpc_get_stats"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def peer_command(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "aula_ws", "peer", *args], env=env, cwd=ROOT, capture_output=True, text=True, timeout=60
    )


def seed(url: str, local_learner: str) -> None:
    """The usage dataset plus a learner only this server knows, taught by borges."""
    engine = create_database_engine(url)
    builder = build_usage_platform(engine, start=utc_now() - timedelta(hours=5))
    builder.member(local_learner, 64, "A")
    builder.activity(local_learner, 64, utc_now() - timedelta(minutes=30), "U1")
    engine.dispose()


class Site:
    def __init__(self, server, env, root):
        self.server, self.env, self.root = server, env, root
        self.certificate_pem = requests.get(f"{root}/mnet/publickey.php", timeout=10).text

    def register(self, root: str, certificate_pem: str, tmp_path, *options: str) -> None:
        path = tmp_path / f"{uuid.uuid4().hex}.pem"
        path.write_text(certificate_pem)
        result = peer_command(self.env, "add", root, "--cert", str(path), *options)
        assert result.returncode == 0, result.stderr

    def call(self, caller: HandMadePeer, method: str, *params: object) -> object:
        """`method` called as `caller` through the signed, sealed transport; JSON answers decoded."""
        public_key = x509.load_pem_x509_certificate(self.certificate_pem.encode()).public_key()
        transport = MnetTransport(caller.wwwroot, [caller.key], self.root, public_key, timeout=30)
        with xmlrpc.client.ServerProxy(f"{self.root}/mnet/xmlrpc/server.php", transport=transport) as proxy:
            value = getattr(proxy, method)(*params)
        return json.loads(value) if isinstance(value, str) else value


@pytest.fixture(scope="module")
def moodle() -> HandMadePeer:
    return moodle_peer()


@pytest.fixture(scope="module")
def silent_peer():
    """A peer that accepts connections and never answers."""
    with socket.create_server(("127.0.0.1", 0)) as listener:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}"


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def sites(request, tmp_path_factory, moodle, silent_peer):
    tmp = tmp_path_factory.mktemp("peers")
    started = {}
    with_servers = []
    for name, learner in (("a", "innsmouth"), ("b", "dunwich")):
        directory = tmp_path_factory.mktemp(f"site_{name}")
        url = fresh_database(request, directory, name)
        seed(url, learner)
        port = free_port()
        root = f"http://127.0.0.1:{port}"
        env = aula_env(directory, url, AULA_WWWROOT=root, AULA_MNET_PEER_TIMEOUT=str(PEER_TIMEOUT))
        with_servers.append((name, env, root, port))
    with ExitStack() as stack:
        for name, env, root, port in with_servers:
            server = stack.enter_context(running_server(env, "--port", str(port)))
            started[name] = Site(server, env, root)
        a, b = started["a"], started["b"]
        a.register(b.root, b.certificate_pem, tmp)
        b.register(a.root, a.certificate_pem, tmp, "--cipher", "aes")
        for site in (a, b):
            site.register(moodle.wwwroot, moodle.certificate_pem, tmp)
        a.register(silent_peer, HandMadePeer(silent_peer).certificate_pem, tmp)
        yield a, b


def test_a_call_to_a_with_whereroot_b_is_answered_by_b(sites, moodle):
    a, b = sites
    relayed = a.call(moodle, "use_stats_rpc_get_stats", moodle.caller("borges"), "dunwich", b.root, 3, 0, True)
    assert relayed["status"] == 200
    assert "<USERNAME>dunwich</USERNAME>" in relayed["message"] and "<MODULES>" in relayed["message"]
    direct = b.call(moodle, STATS, moodle.caller("borges"), "dunwich", "", 3, 0, True)
    assert relayed["message"] == direct["message"]
    local = a.call(moodle, STATS, moodle.caller("borges"), "dunwich", "", 3, 0, True)
    assert local == {"status": 520, "errors": ["Target user does not exist."]}


def test_a_call_to_b_with_whereroot_a_is_answered_by_a_as_a_struct(sites, moodle):
    a, b = sites
    relayed = b.call(moodle, STATS, moodle.caller("borges"), "innsmouth", a.root + "/", 1, 0, False)
    assert relayed["status"] == 200 and "<USERNAME>innsmouth</USERNAME>" in relayed["message"]


def test_scores_are_relayed_too(sites, moodle):
    a, b = sites
    relayed = a.call(moodle, "use_stats_rpc_get_scores", moodle.caller("borges"), "lovecraft", b.root)
    assert relayed["status"] == 200 and "<SCORE>85.00</SCORE>" in relayed["message"]


def test_the_peers_errors_are_relayed_with_the_remote_prefix(sites, moodle):
    a, b = sites
    relayed = a.call(moodle, STATS, moodle.caller("borges"), "nobody", b.root, 1)
    assert relayed == {"status": 500, "errors": ["REMOTE : Target user does not exist."]}


def test_a_peer_that_does_not_answer_gives_500_within_the_timeout(sites, moodle, silent_peer):
    a, _b = sites
    started = time.monotonic()
    relayed = a.call(moodle, STATS, moodle.caller("borges"), "lovecraft", silent_peer, 1)
    assert time.monotonic() - started < PEER_TIMEOUT + 5
    assert relayed == {"status": 500, "errors": [f"REMOTE : {silent_peer} did not answer within {PEER_TIMEOUT} s"]}


def test_an_unregistered_whereroot_is_unknown_host(sites, moodle):
    a, _b = sites
    relayed = a.call(moodle, STATS, moodle.caller("borges"), "lovecraft", "http://x.test", 1)
    assert relayed == {"status": 500, "errors": ["unknown host"]}


def test_a_plain_xmlrpc_client_is_refused_with_7021_on_both_paths(sites):
    a, _b = sites
    for path in ("/mnet/xmlrpc/server.php", "/xmlrpc"):
        with pytest.raises(xmlrpc.client.Fault) as caught, xmlrpc.client.ServerProxy(a.root + path) as proxy:
            proxy.system.listMethods()
        assert caught.value.faultCode == 7021


def test_keyswap_answers_the_certificate_we_publish(sites):
    a, _b = sites
    with xmlrpc.client.ServerProxy(a.root + "/mnet/xmlrpc/server.php") as proxy:
        assert getattr(proxy, "system/keyswap")("http://moodle.test", "", "moodle") == a.certificate_pem


def test_peer_list_shows_both_peers_and_the_cipher(sites):
    a, b = sites
    listing = peer_command(b.env, "list").stdout
    assert f"{a.root}\tcipher aes" in listing and "http://moodle.test\tcipher rc4" in listing
