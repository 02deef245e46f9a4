"""Issue 9, item 1: the address in a WSDL is never taken from another request's Host header.
Through `aula-ws serve` on 127.0.0.1; zeep clients built from the served WSDL."""

import socket
import subprocess
import sys

import pytest
import requests
import zeep

from tests.databases import fresh_database
from tests.e2e.server_process import ROOT, aula_env, running_server
from tests.hostile.soap_edge import seed_platform

ENDPOINTS = ("/soap", "/soap/admin")


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def platform(request, tmp_path_factory):
    data_dir = tmp_path_factory.mktemp("wsdl")
    return seed_platform(data_dir, fresh_database(request, data_dir, "wsdl"))


def raw_get(base_url: str, path: str, host: str) -> bytes:
    """GET with a Host header of our choosing (requests would let urllib3 fix it up)."""
    address, port = base_url.removeprefix("http://").split(":")
    with socket.create_connection((address, int(port)), timeout=30) as connection:
        connection.sendall(f"GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n".encode())
        answer = b""
        while chunk := connection.recv(65536):
            answer += chunk
    return answer


@pytest.mark.parametrize("path", ENDPOINTS)
def test_a_strangers_host_header_reaches_only_the_strangers_own_answer(platform, path):
    with running_server(aula_env(platform.data_dir, platform.database_url)) as server:
        hostile = raw_get(server.base_url, f"{path}?wsdl", "evil:18432")
        assert b'location="http://evil:18432' + path.encode() + b'"' in hostile  # its own Host, for itself
        normal = requests.get(f"{server.base_url}{path}?wsdl", timeout=30)
        assert normal.status_code == 200 and "evil" not in normal.text
        assert f'location="{server.base_url}{path}"' in normal.text
        client = zeep.Client(f"{server.base_url}{path}?wsdl")
        addresses = [
            port.binding_options["address"]
            for service in client.wsdl.services.values()
            for port in service.ports.values()
        ]
        assert addresses and all(address == f"{server.base_url}{path}" for address in addresses)
        if path == "/soap":  # the generated client really posts to us
            assert client.service.obtener_avance_usuarios(id_grupo=64)[0].id_usuario in ("_anonimo", "demo")


def test_with_a_public_url_every_wsdl_carries_it_whatever_the_host(platform):
    env = aula_env(platform.data_dir, platform.database_url, AULA_PUBLIC_URL="https://aula.example.org/ws/")
    with running_server(env) as server:
        for path in ENDPOINTS:
            hostile = raw_get(server.base_url, f"{path}?wsdl", "evil:18432")
            assert b"evil" not in hostile
            assert f'location="https://aula.example.org/ws{path}"'.encode() in hostile
            normal = requests.get(f"{server.base_url}{path}?wsdl", timeout=30).text
            assert f'location="https://aula.example.org/ws{path}"' in normal and "evil" not in normal


def test_a_malformed_host_header_falls_back_to_the_servers_own_address(platform):
    with running_server(aula_env(platform.data_dir, platform.database_url)) as server:
        answer = raw_get(server.base_url, "/soap?wsdl", 'x"><evil a="')
        port = server.base_url.rsplit(":", 1)[1]
        assert b"evil" not in answer and f':{port}/soap"'.encode() in answer


def test_the_wsdl_command_writes_the_public_url_and_a_bad_one_stops_it(platform):
    env = aula_env(platform.data_dir, platform.database_url, AULA_PUBLIC_URL="https://aula.example.org")
    printed = subprocess.run(
        [sys.executable, "-m", "aula_ws", "wsdl", "admin"],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert printed.returncode == 0, printed.stderr
    assert 'location="https://aula.example.org/soap/admin"' in printed.stdout
    bad = aula_env(platform.data_dir, platform.database_url, AULA_PUBLIC_URL="ftp://aula.example.org")
    refused = subprocess.run(
        [sys.executable, "-m", "aula_ws", "wsdl"], env=bad, cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert refused.returncode == 2 and "AULA_PUBLIC_URL" in refused.stderr
    assert "Traceback" not in refused.stderr
