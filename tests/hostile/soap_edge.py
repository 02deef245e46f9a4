"""Shared pieces of the HTTP/SOAP edge tests: a seeded platform with an admin token, envelopes,
fault parsing, and what "nothing was written" means (every table's row count, every file)."""

import base64
import re
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

import requests
from lxml import etree
from sqlalchemy import func, select

from aula_ws.services.tokens import create_token
from aula_ws.store.database import create_database_engine
from aula_ws.store.tables import metadata
from tests.builders import PlatformBuilder
from tests.e2e.server_process import RunningServer, running_process, running_server

ENV = "http://schemas.xmlsoap.org/soap/envelope/"
AULA = "urn:Educativa/Aula/"
ADMIN = "urn:Educativa/Aula/Admin/"
XML = {"Content-Type": "text/xml; charset=utf-8"}
USERS_CSV = b"username;firstname;lastname;course1\nann;A;N;C1\n"
LESSONS_TSV = (
    b"user_loginid\tcrsvname\tlsnvname\tlnk_type\tlesson_status\tlesson_status_date\tlesson_score"
    b"\tlesson_time\tilt_status\ndemo\tC1\tU1\tL\tP\t22/03/2013\t90\t1800\t\n"
)


@dataclass
class Platform:
    data_dir: Path
    database_url: str
    token: str


def seed_platform(data_dir: Path, database_url: str) -> Platform:
    """Group 64 (`C1`, units U1 U2) with `demo` enrolled, and a site admin `admin` with a token."""
    engine = create_database_engine(database_url)
    builder = PlatformBuilder(engine)
    builder.group("C1", units=["U1", "U2"], group_id=64)
    builder.member("demo", 64, "A", fecha_alta=date(2015, 6, 17))
    builder.user("admin", site_admin=True)
    _, token = create_token(engine, "admin", "admin", datetime.now())
    engine.dispose()
    return Platform(data_dir, database_url, token)


def contract_envelope(**params: str) -> bytes:
    children = "".join(f"<a:{k}>{v}</a:{k}>" for k, v in params.items())
    return (
        f'<s:Envelope xmlns:s="{ENV}" xmlns:a="{AULA}"><s:Body>'
        f"<a:obtener_avance_usuarios>{children}</a:obtener_avance_usuarios></s:Body></s:Envelope>"
    ).encode()


def admin_envelope(operation: str, token: str | None, **params: str | bytes) -> bytes:
    """An admin call; bytes parameters are sent as base64, text as it is."""
    header = f"<s:Header><a:wstoken>{token}</a:wstoken></s:Header>" if token else ""
    children = "".join(
        f"<a:{k}>{base64.b64encode(v).decode() if isinstance(v, bytes) else v}</a:{k}>" for k, v in params.items()
    )
    return (
        f'<s:Envelope xmlns:s="{ENV}" xmlns:a="{ADMIN}">{header}<s:Body>'
        f"<a:{operation}>{children}</a:{operation}></s:Body></s:Envelope>"
    ).encode()


def fault_of(content: bytes) -> dict[str, str]:
    """faultcode (local part, checked to be in the envelope's namespace), faultstring, error_string."""
    root = etree.fromstring(content)
    fault = root.find(f"{{{ENV}}}Body/{{{ENV}}}Fault")
    assert fault is not None, content[:500]
    faultcode, faultstring = fault.findtext("faultcode"), fault.findtext("faultstring")
    assert faultcode is not None and faultstring is not None, content[:500]
    prefix, _, code = faultcode.partition(":")
    assert fault.nsmap[prefix] == ENV
    return {
        "faultcode": code,
        "faultstring": faultstring,
        "error_string": fault.findtext(f"detail/{{{AULA}}}error/{{{AULA}}}error_string") or "",
    }


def soap_body_of(content: bytes) -> etree._Element:
    """The answer's Body, which must hold exactly one element (an answer or a Fault)."""
    body = etree.fromstring(content).find(f"{{{ENV}}}Body")
    assert body is not None and len(body) == 1, content[:500]
    return body


def row_counts(database_url: str) -> dict[str, int]:
    engine = create_database_engine(database_url)
    try:
        with engine.connect() as connection:
            counts = {}
            for t in metadata.sorted_tables:
                counted = connection.scalar(select(func.count()).select_from(t))
                assert counted is not None
                counts[t.name] = counted
            return counts
    finally:
        engine.dispose()


def files_in(data_dir: Path) -> set[str]:
    """Every file the service keeps under its data directory, the database's own files aside."""
    return {
        str(p.relative_to(data_dir))
        for p in data_dir.rglob("*")
        if p.is_file() and not p.name.startswith("aula.sqlite3")
    }


def stored_state(platform: Platform) -> tuple[dict[str, int], set[str]]:
    return row_counts(platform.database_url), files_in(platform.data_dir)


LISTENING = re.compile(r"Listening at: (http://127\.0\.0\.1:\d+)")


@contextmanager
def running_gunicorn(env: dict[str, str]) -> Iterator[RunningServer]:
    """The production setting: gunicorn (gthread workers) serving `aula_ws.app:from_environment()`."""
    from gunicorn import config

    # gunicorn 25+ opens a control socket at one fixed path per user: parallel runs would share it
    private = ["--no-control-socket"] if any(s.name == "control_socket_disable" for s in config.KNOWN_SETTINGS) else []
    command = [
        sys.executable,
        "-m",
        "gunicorn",
        "--bind",
        "127.0.0.1:0",
        "--workers",
        "1",
        "--worker-class",
        "gthread",
        "--threads",
        "4",
        "--graceful-timeout",
        "2",
        *private,
        "aula_ws.app:from_environment()",
    ]
    with running_process(command, env, LISTENING, ready="Booting worker") as server:
        _wait_until_answering(server.base_url)
        yield server


def _wait_until_answering(base_url: str) -> None:
    deadline = time.monotonic() + 30
    while True:
        try:
            requests.get(base_url + "/", timeout=5)
            return
        except requests.ConnectionError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


@contextmanager
def serving(kind: str, env: dict[str, str]) -> Iterator[RunningServer]:
    """`aula-ws serve` (waitress) or gunicorn, on a free port of 127.0.0.1."""
    with running_server(env) if kind == "waitress" else running_gunicorn(env) as server:
        yield server
