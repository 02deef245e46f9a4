"""The error tree of aula-ws. Each edge translates it once (SOAP fault, CLI exit code).

    AulaError
    ├── ContractError                 a request broke the Educativa contract (SOAP Client fault)
    │   ├── IdGrupoInvalido
    │   ├── GrupoInexistente
    │   ├── IdUsuarioInvalido
    │   ├── UsuarioInexistente
    │   ├── PerfilUsuarioInvalido
    │   ├── FechaFormatoInvalido
    │   ├── FechaInvalida
    │   └── RangoFechaInvalido
    ├── ConfigError                   a setting is missing or bad; stops the start
    ├── SchemaOutdated                the database is not at the migrations' head
    ├── NotFound                      a named user, token, ... does not exist (CLI: exit 2)
    ├── NotAllowed                    the operation is refused to that user (CLI: exit 2)
    ├── AuthenticationFailed          missing, wrong, expired or revoked token, or no right
    │   ├── TokenExpired                  the token was valid but has expired
    │   ├── NoRight                       the token's user is no longer a site admin
    │   └── SignInLimited                 the console: too many failed sign-ins (account or address)
    ├── InvalidRequest                an admin request's options or file are unusable
    │   └── SyncBusy                      another runner holds the sync file kind's lock
    ├── WriteFailed                   a file or the database could not be written (full disk...);
    │                                 nothing of the run was stored (CLI: exit 3)
    ├── UseStatsRefused               a use_stats call answered with an MNET status (`status`)
    │   ├── CallerRefused                 501 bad caller struct, empty or unknown username
    │   ├── HostRefused                   500 calling host not registered, unknown whereroot
    │   ├── RemoteFailed                  500 the relayed peer failed ("REMOTE : " errors)
    │   ├── StatsForbidden                510 the calling user may not see these statistics
    │   └── RecordMissing                 520 target user or course does not exist
    ├── MnetFault                     an XML-RPC fault (`code`): the envelope gate, bad calls
    └── EtlError                      a report_etl_get refused (`errorcode`, Moodle's `exception`)
        └── EtlBusy                       ETLBUSY: another extraction holds the instance

Errors keep their context as attributes, so adapters never parse messages.
"""


class AulaError(Exception):
    """Base of every error aula-ws raises on purpose."""


class ContractError(AulaError):
    """An error of the Educativa contract; `name` is its wire name (the faultstring)."""

    def __init__(self, message: str, value: object = None):
        super().__init__(message)
        self.message = message
        self.value = value

    @property
    def name(self) -> str:
        return f"Educativa::Aula::Error::{type(self).__name__}"


class IdGrupoInvalido(ContractError):
    pass


class GrupoInexistente(ContractError):
    pass


class IdUsuarioInvalido(ContractError):
    pass


class UsuarioInexistente(ContractError):
    pass


class PerfilUsuarioInvalido(ContractError):
    pass


class FechaFormatoInvalido(ContractError):
    pass


class FechaInvalida(ContractError):
    pass


class RangoFechaInvalido(ContractError):
    pass


class ConfigError(AulaError):
    """A bad or missing setting; `setting` names it as the user wrote it."""

    def __init__(self, setting: str, reason: str):
        super().__init__(f"bad setting {setting}: {reason}")
        self.setting = setting
        self.reason = reason


class SchemaOutdated(AulaError):
    """The database schema is behind the code's migrations."""

    def __init__(self, current: str | None, head: str):
        super().__init__(
            f"the database schema is at revision {current or 'none (empty database)'}, "
            f"the code needs {head}: run `aula-ws db upgrade`"
        )
        self.current = current
        self.head = head


class NotFound(AulaError):
    def __init__(self, what: str, name: object):
        super().__init__(f"no {what} {name!r}")
        self.what = what
        self.name = name


class NotAllowed(AulaError):
    pass


class AuthenticationFailed(AulaError):
    """`reason` is for the server log; callers get one message whatever the reason,
    so a caller cannot tell a wrong token from a revoked one."""

    def __init__(self, reason: str):
        super().__init__(f"authentication failed: {reason}")
        self.reason = reason


class TokenExpired(AuthenticationFailed):
    pass


class NoRight(AuthenticationFailed):
    pass


class SignInLimited(AuthenticationFailed):
    """Too many failed console sign-ins for the account or from the address (`minutes` to wait)."""

    def __init__(self, reason: str, minutes: int):
        super().__init__(reason)
        self.minutes = minutes


class InvalidRequest(AulaError):
    """A request to an admin operation that cannot be carried out; the message says why."""


class SyncBusy(InvalidRequest):
    """Another runner (process or host) is processing files of this kind; `kind` names it."""

    def __init__(self, kind: str):
        super().__init__(f"another runner is processing {kind} files; try again later")
        self.kind = kind


class WriteFailed(AulaError):
    """Something a run must write could not be written (a full disk, a read-only folder):
    `what` names it ("the journal", "the database"...), `path` where (None for the database),
    `reason` the system's words, `outcome` what became of the run, `applied` whether the run's
    changes were committed before (only its outputs' placing failed)."""

    NOTHING_STORED = "nothing was stored"

    def __init__(self, what: str, path: object, reason: str, outcome: str = NOTHING_STORED, applied: bool = False):
        where = f" {path}" if path is not None else ""
        super().__init__(f"could not write {what}{where}: {reason}; {outcome}")
        self.what = what
        self.path = path
        self.reason = reason
        self.outcome = outcome
        self.applied = applied

    @classmethod
    def of(
        cls, what: str, error: OSError, outcome: str = NOTHING_STORED, path: object = None, applied: bool = False
    ) -> "WriteFailed":
        """From an OSError; `path` when the error does not name the file (a failed write)."""
        return cls(what, path or error.filename, error.strerror or str(error), outcome, applied)


class UseStatsRefused(AulaError):
    """A use_stats answer that is not 200: `status` (MNET's code) and `errors` (the texts)."""

    status = 500

    def __init__(self, *errors: str):
        super().__init__("; ".join(errors))
        self.errors = list(errors)


class CallerRefused(UseStatsRefused):
    status = 501


class HostRefused(UseStatsRefused):
    status = 500


class RemoteFailed(UseStatsRefused):
    status = 500


class StatsForbidden(UseStatsRefused):
    status = 510


class RecordMissing(UseStatsRefused):
    status = 520


class MnetFault(AulaError):
    """An XML-RPC fault: `code` (Moodle's MNET code where it has one) and `text`."""

    def __init__(self, code: int, text: str):
        super().__init__(f"fault {code}: {text}")
        self.code = code
        self.text = text


class EtlError(AulaError):
    """A report_etl_get request refused, in Moodle's terms: `errorcode` (`invalidparameter`,
    `unknowninstance`, ...) and `exception` (the Moodle exception class a client expects)."""

    def __init__(
        self, errorcode: str, message: str, exception: str = "invalid_parameter_exception", debuginfo: str | None = None
    ):
        super().__init__(message if debuginfo is None else f"{message}: {debuginfo}")
        self.errorcode = errorcode
        self.message = message
        self.exception = exception
        self.debuginfo = debuginfo  # Moodle's detail (which parameter, why)


class EtlBusy(EtlError):
    def __init__(self, instance_id: int):
        super().__init__(
            "ETLBUSY",
            f"ETL already in progress. Only one extraction is allowed at a time (instance {instance_id})",
            "moodle_exception",
        )
        self.instance_id = instance_id
