"""The settings of the CSV synchronisation (CONTRACT.md section 5) and of the alarm mail.

Part of the one Settings object (aula_ws.config): `settings.sync` and
`settings.smtp`, read from the same environment/TOML source (`AULA_SYNC_...`,
`AULA_SMTP_...`, `AULA_ADMIN_EMAIL`). Each setting is declared once below
(aula_ws/config_fields.py says how).
"""

from dataclasses import dataclass

from aula_ws import config_fields as cast
from aula_ws.config_fields import setting
from aula_ws.domain.sync_files import DEFAULT_FILE_NAMES, KINDS
from aula_ws.domain.sync_rows import GROUP_IDENTITIES, USER_IDENTITIES

ENCODINGS = ("utf-8", "iso-8859-1")


@dataclass(frozen=True)
class SyncSettings:
    """Keys `sync_<field>` (AULA_SYNC_<FIELD>); the per-kind ones `sync_<kind>_file`, `sync_<kind>_schedule`."""

    encoding: str = setting("utf-8", cast.one_of(ENCODINGS, lower=True))
    user_identity: str = setting("username", cast.one_of(USER_IDENTITIES))
    group_identity: str = setting("shortname", cast.one_of(GROUP_IDENTITIES))
    reports: bool = setting(True, cast.flag)  # write reports/<stamp>_report_<name>
    archive: bool = setting(True, cast.flag)  # move the input to archives/<stamp>_<name>
    tryback: bool = setting(True, cast.flag)  # write <base>_tryback_<stamp>.<ext> when lines failed
    lock_stale_minutes: int = setting(180, cast.whole(1, 100_000, "minutes"))  # an older lock file raises an alarm
    # a drop-folder file modified more recently is left for the next capture
    settle_seconds: int = setting(10, cast.whole(0, 86_400, "seconds"))
    file_names: dict[str, str] = setting(DEFAULT_FILE_NAMES, cast.file_name, key="sync_{}_file", per=KINDS)
    # kind -> cron expression; a kind without one is not scheduled
    schedules: dict[str, str] = setting({}, cast.cron_or_empty, key="sync_{}_schedule", per=KINDS)
    avatars_max_bytes: int = setting(
        100 * 1024 * 1024, cast.whole(1, 2**40, "bytes")
    )  # a ZIP expanding past this is refused
    avatar_max_bytes: int = setting(5 * 1024 * 1024, cast.whole(1, 2**31, "bytes"))  # one image
    avatar_max_pixels: int = setting(25_000_000, cast.whole(1, 2**31, "pixels"))


@dataclass(frozen=True)
class SmtpSettings:
    """Keys `smtp_<field>` (AULA_SMTP_<FIELD>), and `admin_email` (AULA_ADMIN_EMAIL)."""

    host: str = setting("", cast.stripped)  # empty: alarms are only logged
    port: int = setting(25, cast.whole(1, 65535))
    sender: str = setting("aula-ws@localhost", cast.address)
    admin_email: str = setting("", cast.address_or_empty, key="admin_email")
    starttls: bool = setting(False, cast.flag)
    username: str = setting("", cast.stripped)
    password: str = setting("", str, repr=False)  # never logged
    timeout: float = setting(10.0, cast.seconds(600))
