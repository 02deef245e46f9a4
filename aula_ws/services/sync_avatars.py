"""Use case part: apply an avatar archive (users' pictures), one transaction for the archive.

Each picture names its user by the `userpictures_userfield` setting; with `userpictures_overwrite`
off, a user who has a picture keeps it (tool_sync)."""

from datetime import datetime
from typing import BinaryIO

from sqlalchemy import Engine

from aula_ws.config import Settings
from aula_ws.csvkit.reader import FileRefused
from aula_ws.csvkit.report import Report
from aula_ws.domain.csv_rows import SyncCounters
from aula_ws.store import sync as store
from aula_ws.store.unit_of_work import UnitOfWork
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
    field_name = settings.sync.userpictures_userfield
    limits = Limits(settings.sync.avatars_max_bytes, settings.sync.avatar_max_bytes, settings.sync.avatar_max_pixels)
    try:
        with UnitOfWork(engine) as uow:
            for name, outcome in entries(source, limits):
                report.counters.processed += 1
                if isinstance(outcome, EntryRefused):
                    report.failure(name, str(outcome))
                    continue
                found = store.user_ids_by(uow.connection, field_name, outcome.user)
                if len(found) != 1:
                    why = "no user" if not found else f"{len(found)} users have"
                    report.failure(name, f'{why} {field_name} "{outcome.user}"')
                    continue
                user_id = found[0]
                existed = store.picture_of(uow.connection, user_id) is not None
                if existed and not settings.sync.userpictures_overwrite:
                    report.action(name, "unchanged", f'{field_name} "{outcome.user}" has a picture, kept')
                    continue
                store.store_picture(uow.connection, user_id, outcome.large_png, outcome.small_png, now)
                counter = "updated" if existed else "added"
                report.action(name, counter, f'picture of {field_name} "{outcome.user}" stored (100x100 and 35x35 PNG)')
            if run_id is not None:
                store.set_run_state(uow.connection, run_id, "applied")
            report.finish()  # before the commit: a report that cannot be written applies nothing
            if not simulate:
                uow.commit()
    except ArchiveRefused as refused:
        raise FileRefused(str(refused)) from None
