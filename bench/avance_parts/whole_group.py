"""(a) the whole group over HTTP and (b) its floor: a `count(DISTINCT unit)` over the completed
sessions of the group + f-string XML of the same rows (the issue's floor: no dates, no rules, no
maintained table; dated calls are compared with the same floor)."""

import http.client
import statistics
import time
from dataclasses import dataclass
from datetime import datetime
from xml.sax.saxutils import escape

from sqlalchemy import Engine, text

from aula_ws.soap.namespaces import AULA, SOAP11_ENV
from avance_parts.soap import SOAP_HEADERS

RUNS = 5  # medians of 5 for the whole-group figures (a warm-up is one such round)


@dataclass(frozen=True)
class WholeGroup:
    median: float
    runs: list[float]
    first_byte: float  # median time to the response's headers: the server's work before sending
    megabytes: float
    usuarios: int


def whole_group_http(port: int, body: bytes) -> WholeGroup:
    runs, first_bytes = [], []
    for _ in range(RUNS):
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
        began = time.perf_counter()
        connection.request("POST", "/soap", body, SOAP_HEADERS)
        response = connection.getresponse()
        first_bytes.append(time.perf_counter() - began)
        payload = response.read()
        runs.append(time.perf_counter() - began)
        connection.close()
    usuarios = payload.count(b"<usuarios>") if response.status == 200 else -response.status
    return WholeGroup(statistics.median(runs), runs, statistics.median(first_bytes), len(payload) / 1e6, usuarios)


_XML_OPEN = (
    f"<?xml version='1.0' encoding='UTF-8'?>\n<soap11env:Envelope xmlns:soap11env=\"{SOAP11_ENV}\">"
    f'<soap11env:Body><obtener_avance_usuarios_response xmlns="{AULA}">'
)
_XML_CLOSE = "</obtener_avance_usuarios_response></soap11env:Body></soap11env:Envelope>"


_FLOOR_SQL = text(
    "SELECT u.username, m.administrador_grupo, m.estado, m.perfil, m.fecha_alta, m.responsable_grupo,"
    " coalesce(d.done, 0) FROM memberships m JOIN users u ON u.id = m.user_id"
    " LEFT JOIN (SELECT user_id, count(DISTINCT unit_id) AS done FROM lesson_sessions"
    "  WHERE status IN ('C', 'P') AND unit_id IN (SELECT id FROM units WHERE group_id = :g)"
    "  GROUP BY user_id) d ON d.user_id = m.user_id"
    " WHERE m.group_id = :g ORDER BY u.username"
)


@dataclass(frozen=True)
class Floor:
    median: float
    runs: list[float]
    sql: float  # median of the SQL part alone
    rows: int


def floor(engine: Engine, group_id: int, unit_count: int, upper: datetime, lower: datetime) -> Floor:
    """The least any implementation must do: the aggregate, then the same XML by f-strings.
    avance is a plain ratio here; the service's rules cost a little more."""
    runs, sql_runs = [], []
    for _ in range(RUNS):
        began = time.perf_counter()
        with engine.connect() as connection:
            facts = connection.execute(_FLOOR_SQL, {"g": group_id}).all()
        sql_runs.append(time.perf_counter() - began)
        units = max(unit_count, 1)
        text_of = {True: "true", False: "false"}
        parts = [_XML_OPEN]
        parts.extend(
            f"<usuarios><administrador_grupo>{text_of[bool(admin)]}</administrador_grupo>"
            f"<estado>{text_of[bool(estado)]}</estado><id_grupo>{group_id}</id_grupo>"
            f"<perfil>{escape(perfil)}</perfil>"
            f"<fecha_alta>{fecha_alta}</fecha_alta>"
            f"<responsable_grupo>{text_of[bool(responsable)]}</responsable_grupo>"
            f"<avance>{100 * done // units}</avance>"
            f"<id_usuario>{escape(username)}</id_usuario></usuarios>"
            for username, admin, estado, perfil, fecha_alta, responsable, done in facts
        )
        parts.append(_XML_CLOSE)
        "".join(parts).encode()
        runs.append(time.perf_counter() - began)
    return Floor(statistics.median(runs), runs, statistics.median(sql_runs), len(facts))
