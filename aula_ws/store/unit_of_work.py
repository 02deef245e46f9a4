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


class Reading(UnitOfWork):
    """A unit of work that only reads: it ends with COMMIT, which writes nothing but,
    unlike ROLLBACK, keeps psycopg's prepared statements (PostgreSQL plans a hot read
    once per connection, not once per call). A failure still rolls back."""

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if exc_type is None and self._transaction.is_active:
            self._transaction.commit()
        super().__exit__(exc_type, exc, traceback)
