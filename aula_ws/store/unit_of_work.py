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
    once per connection, not once per call). A failure still rolls back.

    Its reads share one snapshot, so the reads of one call (the group, the user, the members)
    see the same commits: REPEATABLE READ on PostgreSQL (psycopg sends it with its BEGIN); on
    SQLite the transaction is opened at once (the driver opens one only before a write, and
    each SELECT would otherwise read its own snapshot)."""

    def __enter__(self) -> "Reading":
        self.connection = self.engine.connect()
        dialect = self.connection.dialect.name
        if dialect == "postgresql":
            self.connection.execution_options(isolation_level="REPEATABLE READ")
        self._transaction = self.connection.begin()
        if dialect == "sqlite":
            self.connection.exec_driver_sql("BEGIN")
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if exc_type is None and self._transaction.is_active:
            self._transaction.commit()
        super().__exit__(exc_type, exc, traceback)
