"""Runner locks in the database: two runners (processes, hosts) never process the same file kind.

PostgreSQL: a session advisory lock on a connection held for the run; the
server drops it as soon as the holder's connection dies (even on SIGKILL).
SQLite (one host by nature): a row in `sync_locks` naming its holder
(host:pid:process start); a holder whose process is gone is dead, and its
lock is taken over with a compare-and-swap on the holder.
"""

import hashlib
import os
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import Engine, delete, insert, select, text, update
from sqlalchemy.exc import IntegrityError

from aula_ws.store.tables import sync_locks


def _process_start(pid: int) -> str:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return "?"
    return stat.rsplit(")", 1)[1].split()[19]  # field 22: start time in clock ticks


def this_runner() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{_process_start(os.getpid())}"


def holder_alive(holder: str, acquired_at: datetime, now: datetime, stale_after: timedelta) -> bool:
    host, _, rest = holder.partition(":")
    pid_text, _, start = rest.partition(":")
    if host != socket.gethostname() or not pid_text.isdigit():
        return now - acquired_at < stale_after  # another host: trust it until stale
    pid = int(pid_text)
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return start in ("?", _process_start(pid))


def _advisory_key(name: str) -> int:
    return int.from_bytes(hashlib.sha256(f"aula-ws:{name}".encode()).digest()[:8], "big", signed=True)


@contextmanager
def runner_lock(engine: Engine, name: str, now: datetime, stale_after: timedelta) -> Iterator[bool]:
    """Yields True when this runner holds `name` until the block ends, False when another does."""
    if engine.dialect.name == "postgresql":
        with engine.connect() as connection:
            key = _advisory_key(name)
            held = bool(connection.scalar(text("SELECT pg_try_advisory_lock(:k)"), {"k": key}))
            connection.commit()
            try:
                yield held
            finally:
                if held:
                    connection.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": key})
                    connection.commit()
        return
    me = this_runner()
    held = _take_row(engine, name, me, now, stale_after)
    try:
        yield held
    finally:
        if held:
            with engine.begin() as connection:
                connection.execute(delete(sync_locks).where(sync_locks.c.name == name, sync_locks.c.holder == me))


def _take_row(engine: Engine, name: str, me: str, now: datetime, stale_after: timedelta) -> bool:
    with engine.begin() as connection:
        row = connection.execute(select(sync_locks).where(sync_locks.c.name == name)).first()
        if row is None:
            try:
                with connection.begin_nested():
                    connection.execute(insert(sync_locks).values(name=name, holder=me, acquired_at=now))
                return True
            except IntegrityError:
                return False
        if holder_alive(row.holder, row.acquired_at, now, stale_after):
            return False
        swapped = connection.execute(
            update(sync_locks)
            .where(sync_locks.c.name == name, sync_locks.c.holder == row.holder)
            .values(holder=me, acquired_at=now)
        )
        return swapped.rowcount == 1
