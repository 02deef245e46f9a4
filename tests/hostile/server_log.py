"""The log lines a running server wrote while one request was served.

A REST call with an unknown token logs one known line; the log is one ordered
stream, so once that marker is read every line logged before it has been read.
"""

import time
from collections.abc import Callable
from typing import Any

import requests

from tests.e2e.server_process import RunningServer

LOG_MARKER = "report_etl_get refused: unknown token"


def log_mark(server: RunningServer) -> int:
    """The index just past a new marker line in the server's log."""
    count = sum(LOG_MARKER in line for line in server.output)
    requests.get(f"{server.base_url}/webservice/rest/server.php", params={"wstoken": "marker"}, timeout=10)
    for _ in range(1000):
        marks = [i for i, line in enumerate(list(server.output)) if LOG_MARKER in line]
        if len(marks) > count:
            return marks[count] + 1
        time.sleep(0.01)
    raise AssertionError(f"the log marker never came:\n{server.log}")


def logged_during(server: RunningServer, act: Callable[[], Any]) -> tuple[Any, list[str]]:
    """What `act` returns and the log lines the server wrote meanwhile."""
    start = log_mark(server)
    result = act()
    end = log_mark(server) - 1
    return result, server.output[start:end]
