"""(a) the whole group over HTTP and (b) its floor: the bare SQL aggregate + f-string XML."""

import http.client
import statistics
import time
from dataclasses import dataclass
from datetime import datetime
from xml.sax.saxutils import escape

from sqlalchemy import Engine

from aula_ws.soap.namespaces import AULA, SOAP11_ENV
from aula_ws.store.progress import member_facts
from avance_parts.soap import SOAP_HEADERS

RUNS = 3  # medians of 3 for the whole-group figures


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
            facts = member_facts(connection, group_id, upper=upper, lower=lower, dated=True)
        sql_runs.append(time.perf_counter() - began)
        units = max(unit_count, 1)
        text_of = {True: "true", False: "false"}
        parts = [_XML_OPEN]
        parts.extend(
            f"<usuarios><administrador_grupo>{text_of[f.administrador_grupo]}</administrador_grupo>"
            f"<estado>{text_of[f.estado]}</estado><id_grupo>{group_id}</id_grupo>"
            f"<perfil>{escape(f.perfil)}</perfil>"
            f"<fecha_alta>{f.fecha_alta.isoformat()}</fecha_alta>"
            f"<responsable_grupo>{text_of[f.responsable_grupo]}</responsable_grupo>"
            f"<avance>{100 * f.units_completed_upper // units}</avance>"
            f"<id_usuario>{escape(f.username)}</id_usuario></usuarios>"
            for f in facts
        )
        parts.append(_XML_CLOSE)
        "".join(parts).encode()
        runs.append(time.perf_counter() - began)
    return Floor(statistics.median(runs), runs, statistics.median(sql_runs), len(facts))
