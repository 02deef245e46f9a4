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
    └── SchemaOutdated                the database is not at the migrations' head

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
