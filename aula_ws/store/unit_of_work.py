"""The unit of work: one connection, one transaction, rolled back unless committed."""

from types import TracebackType

from sqlalchemy import Connection, Engine


class UnitOfWork:
    def __init__(self, engine: Engine):
        self.engine = engine

    def __enter__(self) -> "UnitOfWork":
        self.connection: Connection = self.engine.connect()
        self._transaction = self.connection.begin()
        return self

    def commit(self) -> None:
        self._transaction.commit()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        try:
            if self._transaction.is_active:
                self._transaction.rollback()
        finally:
            self.connection.close()
