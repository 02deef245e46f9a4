"""Settings: one object, built from an injectable mapping (the environment) and a TOML file.

Nothing else in aula-ws reads os.environ. The data directory comes from
`AULA_DATA_DIR` (default `./aula-data`); every other `AULA_<NAME>` may also be
given as `<name>` in the TOML file named by `AULA_CONFIG` (default
`<data dir>/aula-ws.toml` when it exists); the environment wins.
"""

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from aula_ws.config_sync import SmtpSettings, SyncSettings, smtp_settings, sync_settings
from aula_ws.errors import ConfigError

DEFAULT_DATA_DIR = "aula-data"


@dataclass(frozen=True)
class Settings:
    data_dir: Path
    database_url: str
    timezone: ZoneInfo
    host: str = "127.0.0.1"
    port: int = 8080
    contract_max_body: int = 1024 * 1024  # bytes, the contract endpoint /soap
    admin_max_body: int = 50 * 1024 * 1024  # bytes, admin uploads
    rest_max_body: int = 1024 * 1024  # bytes, the ETL REST endpoint (form parameters only)
    public_url: str | None = None  # the public base URL written into WSDLs; None: each request's Host
    # the embedded server (waitress): slow or idle clients must not exhaust it
    max_connections: int = 1000  # open connections; past it new ones wait in the listen backlog
    channel_timeout: int = 30  # seconds an idle connection is kept open
    # MNET XML-RPC (use_stats), CONTRACT.md section 3
    wwwroot: str = "http://127.0.0.1:8080"  # our root URL: the CN of our certificate
    use_stats_threshold: int = 60  # minutes: a longer gap is replaced by the last-ping credit
    use_stats_lastpingcredit: int = 15  # minutes
    mnet_key_rotation_days: int = 28
    mnet_key_grace_days: int = 7  # an old key still decrypts this long after its successor
    mnet_peer_timeout: float = 10.0  # seconds a relayed call waits for the peer
    mnet_drift: int = 15  # seconds of clock drift allowed on a signed message
    rpc_max_body: int = 1024 * 1024  # bytes, the XML-RPC endpoint
    # CSV synchronisation and its alarm mail, CONTRACT.md section 5 (aula_ws/config_sync.py)
    sync: SyncSettings = field(default_factory=SyncSettings)
    smtp: SmtpSettings = field(default_factory=SmtpSettings)
    # ETL extraction (report_etl), CONTRACT.md section 6
    etl_max_records: int = 5000  # records per report_etl_get call
    etl_lease_seconds: int = 600  # an extraction's hold on its instance; a crashed one expires

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] | None = None) -> "Settings":
        """Settings from `environ` (default: the process environment) and its TOML file."""
        env = dict(os.environ if environ is None else environ)
        data_dir = Path(env.get("AULA_DATA_DIR", DEFAULT_DATA_DIR))
        toml_values = _read_toml(env, data_dir)
        source = _Source(env, toml_values)
        return cls(
            data_dir=data_dir,
            database_url=_database_url(
                source.text("database_url", f"sqlite:///{data_dir / 'aula.sqlite3'}")
            ),
            timezone=source.cast("timezone", "UTC", _zone),
            host=source.text("host", "127.0.0.1"),
            port=source.cast("port", 8080, _port),
            contract_max_body=source.cast("contract_max_body", 1024 * 1024, _positive_int),
            admin_max_body=source.cast("admin_max_body", 50 * 1024 * 1024, _positive_int),
            rest_max_body=source.cast("rest_max_body", 1024 * 1024, _positive_int),
            public_url=source.cast("public_url", None, _public_url),
            max_connections=source.cast("max_connections", 1000, _int_between(10, 100_000, "connections")),
            channel_timeout=source.cast("channel_timeout", 30, _int_between(1, 3600, "seconds")),
            **_mnet_settings(source),
            sync=sync_settings(source),
            smtp=smtp_settings(source),
            etl_max_records=source.cast("etl_max_records", 5000, _int_between(1, 100_000, "records")),
            etl_lease_seconds=source.cast("etl_lease_seconds", 600, _int_between(5, 86_400, "seconds")),
        )


class _Source:
    """Looks a setting up in the environment, then in the TOML file, and casts it."""

    def __init__(self, env: Mapping[str, str], toml_values: Mapping[str, Any]):
        self.env = env
        self.toml_values = toml_values

    def raw(self, name: str) -> tuple[str, Any] | None:
        env_name = f"AULA_{name.upper()}"
        if env_name in self.env:
            return env_name, self.env[env_name]
        if name in self.toml_values:
            return f"{name} (TOML file)", self.toml_values[name]
        return None

    def text(self, name: str, default: str) -> str:
        found = self.raw(name)
        if found is None:
            return default
        where, value = found
        if not isinstance(value, str) or not value.strip():
            raise ConfigError(where, f"expected a non-empty text, got {value!r}")
        return value.strip()

    def cast(self, name: str, default: Any, caster: Any) -> Any:
        found = self.raw(name)
        if found is None:
            return caster(default) if isinstance(default, str) else default
        where, value = found
        try:
            return caster(value)
        except (ValueError, TypeError) as exc:
            raise ConfigError(where, f"{value!r}: {exc}") from None


def _read_toml(env: Mapping[str, str], data_dir: Path) -> dict[str, Any]:
    explicit = env.get("AULA_CONFIG")
    path = Path(explicit) if explicit else data_dir / "aula-ws.toml"
    if not path.exists():
        if explicit:
            raise ConfigError("AULA_CONFIG", f"no such file: {path}")
        return {}
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(str(path), f"cannot read the TOML file: {exc}") from None


def _zone(value: Any) -> ZoneInfo:
    try:
        return ZoneInfo(str(value))
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError("unknown time zone (use an IANA name such as UTC or America/Argentina/Buenos_Aires)") from None


def _port(value: Any) -> int:
    port = int(value)
    if not 0 <= port <= 65535:
        raise ValueError("a port is 0 to 65535")
    return port


def _positive_int(value: Any) -> int:
    number = int(value)
    if number <= 0:
        raise ValueError("must be a positive number of bytes")
    return number


def _database_url(url: str) -> str:
    """SQLAlchemy URL; plain postgresql:// means the psycopg 3 driver we ship."""
    for plain in ("postgresql://", "postgres://"):
        if url.startswith(plain):
            return "postgresql+psycopg://" + url[len(plain):]
    if not (url.startswith("sqlite") or url.startswith("postgresql+psycopg")):
        raise ConfigError("AULA_DATABASE_URL", "only sqlite:/// and postgresql:// URLs are supported")
    return url


def _mnet_settings(source: _Source) -> dict[str, Any]:
    """The MNET settings; the root URL defaults to http://<host>:<port>."""
    host, port = source.text("host", "127.0.0.1"), source.cast("port", 8080, _port)
    values = dict(
        wwwroot=source.cast("wwwroot", f"http://{host}:{port}", _root_url),
        use_stats_threshold=source.cast("use_stats_threshold", 60, _int_between(1, 1440, "minutes")),
        use_stats_lastpingcredit=source.cast("use_stats_lastpingcredit", 15, _int_between(0, 1440, "minutes")),
        mnet_key_rotation_days=source.cast("mnet_key_rotation_days", 28, _int_between(1, 3650, "days")),
        mnet_key_grace_days=source.cast("mnet_key_grace_days", 7, _int_between(0, 3650, "days")),
        mnet_peer_timeout=source.cast("mnet_peer_timeout", 10.0, _seconds),
        mnet_drift=source.cast("mnet_drift", 15, _int_between(1, 3600, "seconds")),
        rpc_max_body=source.cast("rpc_max_body", 1024 * 1024, _positive_int),
    )
    if values["use_stats_lastpingcredit"] > values["use_stats_threshold"]:
        where = (source.raw("use_stats_lastpingcredit") or ("AULA_USE_STATS_LASTPINGCREDIT",))[0]
        raise ConfigError(where, "the last-ping credit cannot exceed the threshold")
    return values


def _root_url(value: Any) -> str:
    url = str(value).strip().rstrip("/")
    scheme, _, rest = url.partition("://")
    if scheme not in ("http", "https") or not rest or any(c.isspace() for c in url):
        raise ValueError("expected a root URL such as https://aula.example.org")
    return url


def _public_url(value: Any) -> str:
    """`https://host[:port][/prefix]`: where clients reach us, without a trailing slash."""
    url = str(value).strip().rstrip("/")
    parts = urlsplit(url)
    if (
        parts.scheme not in ("http", "https") or not parts.hostname or parts.query or parts.fragment
        or parts.username or parts.password or any(c.isspace() or c in "\"'<>" for c in url)
    ):
        raise ValueError("expected the public base URL, such as https://aula.example.org or https://example.org/aula")
    parts.port  # raises ValueError on a bad port
    return url


def _int_between(low: int, high: int, unit: str) -> Any:
    def cast(value: Any) -> int:
        number = int(value)
        if not low <= number <= high:
            raise ValueError(f"must be {low} to {high} {unit}")
        return number

    return cast


def _seconds(value: Any) -> float:
    number = float(value)
    if not 0 < number <= 3600:
        raise ValueError("must be more than 0 and at most 3600 seconds")
    return number
