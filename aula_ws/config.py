"""Settings: one object, built from an injectable mapping (the environment) and a TOML file.

Nothing else in aula-ws reads os.environ. The data directory comes from
`AULA_DATA_DIR` (default `./aula-data`); every other `AULA_<NAME>` may also be
given as `<name>` in the TOML file named by `AULA_CONFIG` (default
`<data dir>/aula-ws.toml` when it exists); the environment wins.
"""

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from aula_ws import config_fields as cast
from aula_ws.config_fields import Source, group, read_group, setting
from aula_ws.config_sync import SmtpSettings, SyncSettings
from aula_ws.errors import ConfigError

BYTES = cast.whole(1, unit="bytes")


@dataclass(frozen=True)
class Settings:
    """Every setting, each declared once: its default, and how its value is read
    (key `<field>`, AULA_<FIELD>; aula_ws/config_fields.py)."""

    data_dir: Path = Path("aula-data")  # only from the environment (it holds the TOML file)
    database_url: str = setting("", cast.database_url)  # empty: sqlite:///<data dir>/aula.sqlite3
    timezone: ZoneInfo = setting(ZoneInfo("UTC"), cast.zone)
    host: str = setting("127.0.0.1", cast.text)
    port: int = setting(8080, cast.whole(0, 65535))
    contract_max_body: int = setting(1024 * 1024, BYTES)  # the contract endpoint /soap
    admin_max_body: int = setting(50 * 1024 * 1024, BYTES)  # admin uploads
    rest_max_body: int = setting(1024 * 1024, BYTES)  # the ETL REST endpoint (form parameters only)
    public_url: str | None = setting(None, cast.public_url)  # written into WSDLs; None: each request's Host
    # the embedded server (waitress): slow or idle clients must not exhaust it
    max_connections: int = setting(1000, cast.whole(10, 100_000, "connections"))  # past it: the listen backlog
    channel_timeout: int = setting(30, cast.whole(1, 3600, "seconds"))  # an idle connection is kept this long
    # MNET XML-RPC (use_stats), CONTRACT.md section 3
    wwwroot: str = setting("", cast.root_url)  # our root URL, the CN of our certificate; empty: http://<host>:<port>
    use_stats_threshold: int = setting(60, cast.whole(1, 1440, "minutes"))  # a longer gap: the last-ping credit
    use_stats_lastpingcredit: int = setting(15, cast.whole(0, 1440, "minutes"))
    mnet_key_rotation_days: int = setting(28, cast.whole(1, 3650, "days"))
    mnet_key_generations: int = setting(3, cast.whole(1, 20, "generations"))  # our last keys that still decrypt
    mnet_peer_timeout: float = setting(10.0, cast.seconds(3600))  # a relayed call waits this long for the peer
    mnet_drift: int = setting(15, cast.whole(1, 3600, "seconds"))  # clock drift allowed on a signed message
    rpc_max_body: int = setting(1024 * 1024, BYTES)  # the XML-RPC endpoint
    # CSV synchronisation and its alarm mail, CONTRACT.md section 5 (aula_ws/config_sync.py)
    sync: SyncSettings = group("sync_", SyncSettings)
    smtp: SmtpSettings = group("smtp_", SmtpSettings)
    # ETL extraction (report_etl), CONTRACT.md section 6
    etl_max_records: int = setting(5000, cast.whole(1, 100_000, "records"))  # records per report_etl_get call
    etl_lease_seconds: int = setting(600, cast.whole(5, 86_400, "seconds"))  # a crashed extraction's hold expires
    # logging (aula_ws/logs.py): the level, and `text` lines or `json` objects
    log_level: str = setting("info", cast.one_of(("debug", "info", "warning", "error"), lower=True))
    log_format: str = setting("text", cast.one_of(("text", "json"), lower=True))

    def __post_init__(self) -> None:  # the defaults that follow from other settings
        if not self.database_url:
            object.__setattr__(self, "database_url", f"sqlite:///{self.data_dir / 'aula.sqlite3'}")
        if not self.wwwroot:
            object.__setattr__(self, "wwwroot", f"http://{self.host}:{self.port}")

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] | None = None) -> "Settings":
        """Settings from `environ` (default: the process environment) and its TOML file."""
        env = dict(os.environ if environ is None else environ)
        data_dir = Path(env["AULA_DATA_DIR"]) if "AULA_DATA_DIR" in env else cls.data_dir
        source = Source(env, _read_toml(env, data_dir))
        settings = cls(data_dir=data_dir, **read_group(cls, source))
        if settings.use_stats_lastpingcredit > settings.use_stats_threshold:
            raise ConfigError(
                source.where("use_stats_lastpingcredit"), "the last-ping credit cannot exceed the threshold"
            )
        return settings


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
