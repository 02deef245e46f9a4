"""Build a platform in a test database through the store's own functions."""

from collections.abc import Iterable
from datetime import date, datetime
from typing import Any

from sqlalchemy import Engine

from aula_ws.store import platform
from aula_ws.store.unit_of_work import UnitOfWork


class PlatformBuilder:
    def __init__(self, engine: Engine):
        self.engine = engine
        self.user_ids: dict[str, int] = {}
        self.unit_ids: dict[tuple[int, str], int] = {}

    def user(self, login: str, **fields: Any) -> int:
        with UnitOfWork(self.engine) as uow:
            self.user_ids[login] = platform.add_user(uow.connection, login, **fields)
            uow.commit()
        return self.user_ids[login]

    def group(
        self,
        shortname: str,
        units: Iterable[str] = (),
        group_id: int | None = None,
        created_at: datetime = datetime(2015, 6, 1),
        **fields: Any,
    ) -> int:
        with UnitOfWork(self.engine) as uow:
            new_id = platform.add_group(uow.connection, shortname, created_at, group_id=group_id, **fields)
            for position, code in enumerate(units):
                self.unit_ids[new_id, code] = platform.add_unit(uow.connection, new_id, code, "L", position=position)
            uow.commit()
        return new_id

    def member(
        self, login: str, group_id: int, perfil: str = "A", fecha_alta: date = date(2015, 6, 17), **fields: Any
    ) -> None:
        if login not in self.user_ids:
            self.user(login)
        with UnitOfWork(self.engine) as uow:
            platform.enrol(uow.connection, self.user_ids[login], group_id, perfil, fecha_alta, **fields)
            uow.commit()

    def _rows(self, table: str, rows: list[dict[str, Any]]) -> None:
        with UnitOfWork(self.engine) as uow:
            platform.add_rows(uow.connection, table, rows)
            uow.commit()

    def session(self, login: str, group_id: int, unit: str, status: str, at: datetime) -> None:
        self.sessions([(login, group_id, unit, status, at)])

    def sessions(self, records: Iterable[tuple[str, int, str, str, datetime]]) -> None:
        self._rows(
            "lesson_sessions",
            [
                dict(user_id=self.user_ids[login], unit_id=self.unit_ids[group_id, unit], status=status, status_date=at)
                for login, group_id, unit, status, at in records
            ],
        )

    def course_status(self, login: str, group_id: int, status: str, at: datetime) -> None:
        self._rows(
            "course_statuses", [dict(user_id=self.user_ids[login], group_id=group_id, status=status, status_date=at)]
        )

    def activity(
        self, login: str, group_id: int, at: datetime, unit: str | None = None, action: str = "viewed"
    ) -> None:
        self._rows(
            "activity_log",
            [
                dict(
                    user_id=self.user_ids[login],
                    group_id=group_id,
                    time=at,
                    action=action,
                    unit_id=None if unit is None else self.unit_ids[group_id, unit],
                )
            ],
        )
