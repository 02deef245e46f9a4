"""(c) one user, in-process: the WSGI callable called directly, and the one-user aggregate alone."""

import time
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Engine

from aula_ws.store.progress import member_facts
from avance_parts.soap import wsgi_environ

ONE_USER_CALLS = 2_000


def percentile(values: Sequence[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def one_user_in_process(app: Callable[..., Iterable[bytes]], bodies: Sequence[bytes]) -> tuple[list[float], int]:
    """Latencies (s) of the WSGI callable itself, and how many answers were not one <usuarios>."""
    statuses: list[str] = []

    def start_response(status: str, _headers: list[tuple[str, str]], _exc_info: Any = None) -> None:
        statuses.append(status)

    latencies, wrong = [], 0
    for body in bodies:
        environ = wsgi_environ(body)
        began = time.perf_counter()
        answer = b"".join(app(environ, start_response))
        latencies.append(time.perf_counter() - began)
        wrong += not (statuses[-1].startswith("200") and answer.count(b"<usuarios>") == 1)
    return latencies, wrong


def one_user_sql(engine: Engine, group_id: int, user_ids: Sequence[int], now: datetime) -> list[float]:
    """Context for (c): the one-user aggregate alone, a pool checkout per call as in the service."""
    latencies = []
    for user_id in user_ids:
        began = time.perf_counter()
        with engine.connect() as connection:
            member_facts(connection, group_id, upper=now, lower=now, dated=False, user_id=user_id)
        latencies.append(time.perf_counter() - began)
    return latencies
