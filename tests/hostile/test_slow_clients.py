"""Issue 9, item 10: 200 connections trickling one header line every 2 s do not stop normal
calls on the embedded server (`aula-ws serve`, waitress). Bounded: about 6 seconds of trickle."""

import socket
import time

import pytest
import requests

from tests.databases import fresh_database
from tests.e2e.server_process import aula_env, running_server
from tests.hostile.soap_edge import XML, contract_envelope, seed_platform

SLOW_CLIENTS = 200


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def platform(request, tmp_path):
    return seed_platform(tmp_path, fresh_database(request, tmp_path, "slow"))


def normal_call(base_url: str) -> None:
    response = requests.post(f"{base_url}/soap", data=contract_envelope(id_grupo="64"), headers=XML, timeout=10)
    assert response.status_code == 200 and b"<id_usuario>demo</id_usuario>" in response.content


def test_normal_calls_are_answered_while_200_clients_trickle_their_headers(platform):
    with running_server(aula_env(platform.data_dir, platform.database_url)) as server:
        address, port = server.base_url.removeprefix("http://").split(":")
        slow = [socket.create_connection((address, int(port)), timeout=10) for _ in range(SLOW_CLIENTS)]
        try:
            for connection in slow:
                connection.sendall(b"POST /soap HTTP/1.1\r\nHost: slow\r\n")
            answered = 0
            for round_ in range(3):  # a header line from every slow client every 2 s
                time.sleep(2)
                for connection in slow:
                    connection.sendall(f"X-Trickle-{round_}: 1\r\n".encode())
                for _ in range(3):
                    normal_call(server.base_url)  # a timeout here fails the test
                    answered += 1
            assert answered == 9
            still_open = sum(1 for connection in slow if _open(connection))
            assert still_open == SLOW_CLIENTS  # the trickle really lasted: nobody was dropped
        finally:
            for connection in slow:
                connection.close()
        assert "Traceback" not in server.log


def _open(connection: socket.socket) -> bool:
    connection.setblocking(False)
    try:
        return connection.recv(1) != b""
    except BlockingIOError:
        return True  # nothing to read, not closed
    except OSError:
        return False
    finally:
        connection.setblocking(True)
