"""How a setting is declared, and the one family of casters.

A setting is a dataclass field declared once with `setting(default, caster)`:
the default is the field's default (the one place it is written), the caster
reads a value from the environment (text) or the TOML file (text, numbers,
booleans). `read_group` builds a settings dataclass by iterating its fields;
the key of a field is `<prefix><field name>` unless the field names its own.

The casters are strict where the two families they replace disagreed:
a boolean is never a number (TOML `port = true` is refused, not read as 1),
and a number with a fraction is never a whole number (`3.7` days is refused).
Each raises ValueError with what is expected; the reader turns it into a
ConfigError naming the setting as the user wrote it.
"""

from collections.abc import Callable, Iterable, Mapping
from dataclasses import MISSING, Field, field, fields
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from croniter import croniter

from aula_ws.errors import ConfigError

Caster = Callable[[Any], Any]


def setting(default: Any, cast: Caster, key: str | None = None, per: Iterable[str] = (), **options: Any) -> Any:
    """A setting's field: `default` (a dict for a `per` setting: one value per name, read from
    the key `key.format(name)`), read by `cast`; `key` overrides `<prefix><field name>`."""
    metadata = {"cast": cast, "key": key, "per": tuple(per)}
    if isinstance(default, dict):
        return field(default_factory=lambda: dict(default), metadata=metadata, **options)
    return field(default=default, metadata=metadata, **options)


def group(prefix: str, factory: Callable[[], Any]) -> Any:
    """A nested settings dataclass whose keys start with `prefix`."""
    return field(default_factory=factory, metadata={"group": prefix})


class Source:
    """Looks a setting up in the environment (`AULA_<KEY>`), then in the TOML file (`<key>`)."""

    def __init__(self, env: Mapping[str, str], toml_values: Mapping[str, Any]):
        self.env = env
        self.toml_values = toml_values

    def raw(self, key: str) -> tuple[str, Any] | None:
        env_name = f"AULA_{key.upper()}"
        if env_name in self.env:
            return env_name, self.env[env_name]
        if key in self.toml_values:
            return f"{key} (TOML file)", self.toml_values[key]
        table, _, name = key.partition("_")  # `sync_encoding` is also `encoding` in a [sync] table
        values = self.toml_values.get(table)
        if name and isinstance(values, Mapping) and name in values:
            return f"[{table}] {name} (TOML file)", values[name]
        return None

    def where(self, key: str) -> str:
        """How the user wrote `key` (its environment name when it was not given)."""
        return (self.raw(key) or (f"AULA_{key.upper()}",))[0]

    def cast(self, key: str, default: Any, cast: Caster) -> Any:
        found = self.raw(key)
        if found is None:
            return default
        where, value = found
        try:
            return cast(value)
        except (ValueError, TypeError) as exc:
            raise ConfigError(where, f"{value!r}: {exc}") from None


def read_group(cls: type, source: Source, prefix: str = "") -> dict[str, Any]:
    """The keyword arguments of `cls` given in `source` (fields not given keep their default)."""
    values: dict[str, Any] = {}
    for spec in fields(cls):
        if "group" in spec.metadata:
            factory = spec.default_factory
            assert factory is not MISSING
            values[spec.name] = factory(**read_group(factory, source, spec.metadata["group"]))  # type: ignore[arg-type]
        elif "cast" in spec.metadata:
            key = spec.metadata["key"] or prefix + spec.name
            default = _default(spec)
            if spec.metadata["per"]:
                values[spec.name] = {
                    name: value
                    for name in spec.metadata["per"]
                    if (value := source.cast(key.format(name), default.get(name, ""), spec.metadata["cast"]))
                }
            elif source.raw(key) is not None:
                values[spec.name] = source.cast(key, default, spec.metadata["cast"])
    return values


def _default(spec: Field[Any]) -> Any:
    return spec.default_factory() if spec.default_factory is not MISSING else spec.default


# --------------------------------------------------------------------------- casters


def whole(low: int, high: int | None = None, unit: str = "") -> Caster:
    """A whole number from `low` to `high` (None: no upper bound)."""
    span = f"at least {low}" if high is None else f"{low} to {high}"

    def cast(value: Any) -> int:
        if isinstance(value, bool) or (isinstance(value, float) and not value.is_integer()):
            raise ValueError(f"expected a whole number, {span} {unit}".rstrip())
        number = int(value)
        if number < low or (high is not None and number > high):
            raise ValueError(f"must be {span} {unit}".rstrip())
        return number

    return cast


def seconds(high: float) -> Caster:
    """A duration of more than 0 and at most `high` seconds."""

    def cast(value: Any) -> float:
        if isinstance(value, bool):
            raise ValueError("expected a number of seconds")
        number = float(value)
        if not 0 < number <= high:  # NaN fails this too
            raise ValueError(f"must be more than 0 and at most {high:g} seconds")
        return number

    return cast


def flag(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    lowered = str(value).strip().lower()
    if lowered in ("1", "true", "yes", "on"):
        return True
    if lowered in ("0", "false", "no", "off"):
        return False
    raise ValueError("expected true or false (1/0, yes/no, on/off)")


def text(value: Any) -> str:
    """A non-empty text."""
    if not isinstance(value, str) or not value.strip():
        raise ValueError("expected a non-empty text")
    return value.strip()


def stripped(value: Any) -> str:
    return str(value).strip()


def one_of(allowed: tuple[str, ...], lower: bool = False) -> Caster:
    def cast(value: Any) -> str:
        chosen = str(value).strip()
        chosen = chosen.lower() if lower else chosen
        if chosen not in allowed:
            raise ValueError(f"must be one of {', '.join(allowed)}")
        return chosen

    return cast


def zone(value: Any) -> ZoneInfo:
    try:
        return ZoneInfo(str(value))
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError("unknown time zone (use an IANA name such as UTC or America/Argentina/Buenos_Aires)") from None


def database_url(value: Any) -> str:
    """SQLAlchemy URL; plain postgresql:// means the psycopg 3 driver we ship."""
    url = text(value)
    for plain in ("postgresql://", "postgres://"):
        if url.startswith(plain):
            return "postgresql+psycopg://" + url[len(plain) :]
    if not (url.startswith("sqlite") or url.startswith("postgresql+psycopg")):
        raise ValueError("only sqlite:/// and postgresql:// URLs are supported")
    return url


def root_url(value: Any) -> str:
    url = str(value).strip().rstrip("/")
    scheme, _, rest = url.partition("://")
    if scheme not in ("http", "https") or not rest or any(c.isspace() for c in url):
        raise ValueError("expected a root URL such as https://aula.example.org")
    return url


def public_url(value: Any) -> str:
    """`https://host[:port][/prefix]`: where clients reach us, without a trailing slash."""
    url = str(value).strip().rstrip("/")
    parts = urlsplit(url)
    if (
        parts.scheme not in ("http", "https")
        or not parts.hostname
        or parts.query
        or parts.fragment
        or parts.username
        or parts.password
        or any(c.isspace() or c in "\"'<>" for c in url)
    ):
        raise ValueError("expected the public base URL, such as https://aula.example.org or https://example.org/aula")
    _ = parts.port  # raises ValueError on a bad port
    return url


def file_name(value: Any) -> str:
    name = str(value).strip()
    if not name or "/" in name or "\\" in name or name.startswith((".", "_")) or name in ("lock.txt", "alock.txt"):
        raise ValueError("expected a plain file name (no folder, not starting with . or _, not a lock file)")
    return name


def cron_or_empty(value: Any) -> str:
    expression = " ".join(str(value).split())
    if expression and not croniter.is_valid(expression):
        raise ValueError("not a cron expression (five fields: minute hour day month weekday)")
    return expression


def address(value: Any) -> str:
    mail = str(value).strip()
    if mail.count("@") != 1 or any(c.isspace() for c in mail) or mail.startswith("@"):
        raise ValueError("expected a mail address such as admin@example.org")
    return mail


def address_or_empty(value: Any) -> str:
    return address(value) if str(value).strip() else ""
