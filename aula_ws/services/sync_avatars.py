"""Use case part: apply an avatar archive (users' pictures), one transaction for the archive."""

from datetime import datetime
from typing import BinaryIO

from sqlalchemy import Engine

from aula_ws.config import Settings
from aula_ws.csvkit.reader import FileRefused
from aula_ws.csvkit.report import Report
from aula_ws.domain.csv_rows import SyncCounters
from aula_ws.store import sync as store
from aula_ws.store.unit_of_work import UnitOfWork
from aula_ws.store.users import find_user
from aula_ws.sync.avatars import ArchiveRefused, EntryRefused, Limits, entries


def run_avatars(
    engine: Engine,
    settings: Settings,
    source: BinaryIO,
    report: Report[SyncCounters],
    now: datetime,
    simulate: bool,
    run_id: int | None,
) -> None:
    limits = Limits(settings.sync.avatars_max_bytes, settings.sync.avatar_max_bytes, settings.sync.avatar_max_pixels)
    try:
        with UnitOfWork(engine) as uow:
            for name, outcome in entries(source, limits):
                report.counters.processed += 1
                if isinstance(outcome, EntryRefused):
                    report.failure(name, str(outcome))
                    continue
                user = find_user(uow.connection, outcome.username)
                if user is None:
                    report.failure(name, f'no user "{outcome.username}"')
                    continue
                user_id = user.id
                existed = store.picture_of(uow.connection, user_id) is not None
                store.store_picture(uow.connection, user_id, outcome.large_png, outcome.small_png, now)
                counter = "updated" if existed else "added"
                report.action(name, counter, f'picture of "{outcome.username}" stored (100x100 and 35x35 PNG)')
            if run_id is not None:
                store.set_run_state(uow.connection, run_id, "applied")
            report.finish()  # before the commit: a report that cannot be written applies nothing
            if not simulate:
                uow.commit()
    except ArchiveRefused as refused:
        raise FileRefused(str(refused)) from None
