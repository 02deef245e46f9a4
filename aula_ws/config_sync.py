"""The settings of the CSV synchronisation (CONTRACT.md section 5) and of the alarm mail.

Part of the one Settings object (aula_ws.config): `settings.sync` and
`settings.smtp`, read from the same environment/TOML source (`AULA_SYNC_...`,
`AULA_SMTP_...`, `AULA_ADMIN_EMAIL`).
"""

from dataclasses import dataclass, field
from typing import Any, Protocol

from croniter import croniter

from aula_ws.domain.sync_files import DEFAULT_FILE_NAMES, KINDS
from aula_ws.domain.sync_rows import GROUP_IDENTITIES, USER_IDENTITIES

ENCODINGS = ("utf-8", "iso-8859-1")


class _Source(Protocol):
    def text(self, name: str, default: str) -> str: ...
    def cast(self, name: str, default: Any, caster: Any) -> Any: ...
    def raw(self, name: str) -> tuple[str, Any] | None: ...


@dataclass(frozen=True)
class SyncSettings:
    encoding: str = "utf-8"
    user_identity: str = "username"
    group_identity: str = "shortname"
    reports: bool = True  # write reports/<stamp>_report_<name>
    archive: bool = True  # move the input to archives/<stamp>_<name>
    tryback: bool = True  # write <base>_tryback_<stamp>.<ext> when lines failed
    lock_stale_minutes: int = 180  # a lock file older than this raises an alarm
    settle_seconds: int = 10  # a drop-folder file modified more recently is left for the next capture
    file_names: dict[str, str] = field(default_factory=lambda: dict(DEFAULT_FILE_NAMES))
    schedules: dict[str, str] = field(default_factory=dict)  # kind -> cron expression
    avatars_max_bytes: int = 100 * 1024 * 1024  # a ZIP expanding past this is refused
    avatar_max_bytes: int = 5 * 1024 * 1024  # one image
    avatar_max_pixels: int = 25_000_000


@dataclass(frozen=True)
class SmtpSettings:
    host: str = ""  # empty: alarms are only logged
    port: int = 25
    sender: str = "aula-ws@localhost"
    admin_email: str = ""
    starttls: bool = False
    username: str = ""
    password: str = field(default="", repr=False)  # never logged
    timeout: float = 10.0


def sync_settings(source: _Source) -> SyncSettings:
    return SyncSettings(
        encoding=source.cast("sync_encoding", "utf-8", _one_of(ENCODINGS, lower=True)),
        user_identity=source.cast("sync_user_identity", "username", _one_of(USER_IDENTITIES)),
        group_identity=source.cast("sync_group_identity", "shortname", _one_of(GROUP_IDENTITIES)),
        reports=source.cast("sync_reports", True, flag),
        archive=source.cast("sync_archive", True, flag),
        tryback=source.cast("sync_tryback", True, flag),
        lock_stale_minutes=source.cast("sync_lock_stale_minutes", 180, _int_range(1, 100_000)),
        settle_seconds=source.cast("sync_settle_seconds", 10, _int_range(0, 86_400)),
        file_names={k: source.cast(f"sync_{k}_file", DEFAULT_FILE_NAMES[k], _file_name) for k in KINDS},
        schedules={
            k: v for k in KINDS if (v := source.cast(f"sync_{k}_schedule", "", _cron_or_empty))
        },
        avatars_max_bytes=source.cast("sync_avatars_max_bytes", 100 * 1024 * 1024, _int_range(1, 2**40)),
        avatar_max_bytes=source.cast("sync_avatar_max_bytes", 5 * 1024 * 1024, _int_range(1, 2**31)),
        avatar_max_pixels=source.cast("sync_avatar_max_pixels", 25_000_000, _int_range(1, 2**31)),
    )


def smtp_settings(source: _Source) -> SmtpSettings:
    return SmtpSettings(
        host=source.cast("smtp_host", "", _stripped),
        port=source.cast("smtp_port", 25, _int_range(1, 65535)),
        sender=source.cast("smtp_sender", "aula-ws@localhost", _address),
        admin_email=source.cast("admin_email", "", _address_or_empty),
        starttls=source.cast("smtp_starttls", False, flag),
        username=source.cast("smtp_username", "", _stripped),
        password=source.cast("smtp_password", "", str),
        timeout=source.cast("smtp_timeout", 10.0, _timeout),
    )


def flag(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    lowered = str(value).strip().lower()
    if lowered in ("1", "true", "yes", "on"):
        return True
    if lowered in ("0", "false", "no", "off"):
        return False
    raise ValueError("expected true or false (1/0, yes/no, on/off)")


def _one_of(allowed: tuple[str, ...], lower: bool = False) -> Any:
    def cast(value: Any) -> str:
        text = str(value).strip()
        text = text.lower() if lower else text
        if text not in allowed:
            raise ValueError(f"must be one of {', '.join(allowed)}")
        return text

    return cast


def _int_range(low: int, high: int) -> Any:
    def cast(value: Any) -> int:
        if isinstance(value, bool):
            raise ValueError("expected a whole number")
        number = int(value)
        if not low <= number <= high:
            raise ValueError(f"must be {low} to {high}")
        return number

    return cast


def _file_name(value: Any) -> str:
    name = str(value).strip()
    if not name or "/" in name or "\\" in name or name.startswith((".", "_")) or name in ("lock.txt", "alock.txt"):
        raise ValueError("expected a plain file name (no folder, not starting with . or _, not a lock file)")
    return name


def _cron_or_empty(value: Any) -> str:
    expression = " ".join(str(value).split())
    if expression and not croniter.is_valid(expression):
        raise ValueError("not a cron expression (five fields: minute hour day month weekday)")
    return expression


def _stripped(value: Any) -> str:
    return str(value).strip()


def _address(value: Any) -> str:
    address = str(value).strip()
    if address.count("@") != 1 or any(c.isspace() for c in address) or address.startswith("@"):
        raise ValueError("expected a mail address such as admin@example.org")
    return address


def _address_or_empty(value: Any) -> str:
    return _address(value) if str(value).strip() else ""


def _timeout(value: Any) -> float:
    number = float(value)
    if not 0 < number <= 600:
        raise ValueError("must be more than 0 and at most 600 seconds")
    return number
