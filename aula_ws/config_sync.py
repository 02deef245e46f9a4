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

ENCODINGS = ("utf-8", "iso-8859-1")
SEPARATORS = (";", ",")
USER_IDENTITIES = ("id", "idnumber", "username", "email")
COURSE_IDENTITIES = ("id", "idnumber", "shortname")
COHORT_IDENTITIES = ("id", "idnumber", "name")
ROLE_IDENTITIES = ("shortname",)  # roles have no idnumber (tool_sync's default `idnumber` is its bug)
PICTURE_FIELDS = ("id", "idnumber", "username", "email")
# userpictures_userfield as tool_sync's settings form stores it: a code
PICTURE_FIELD_CODES = {"0": "username", "1": "idnumber", "2": "id"}


def _picture_field(value: object) -> str:
    chosen: str = cast.one_of(PICTURE_FIELDS)(PICTURE_FIELD_CODES.get(str(value).strip(), value))
    return chosen


def _days(value: object) -> int:
    return int(cast.whole(0, 36_500, "days")(value))


@dataclass(frozen=True)
class SyncSettings:
    """Keys `sync_<field>` (AULA_SYNC_<FIELD>, or `<field>` in the TOML file's [sync] table): the
    tool_sync settings keep tool_sync's own names and defaults (reference/tool-sync-files.md section 2);
    the others are ours. The per-kind ones: `sync_<kind>_file`, `sync_<kind>_schedule`."""

    # --- tool_sync's names
    encoding: str = setting("utf-8", cast.one_of(ENCODINGS, lower=True))
    csvseparator: str = setting(";", cast.one_of(SEPARATORS))  # a header holding only the other one uses it
    storereport: bool = setting(True, cast.flag)  # write reports/<stamp>_report_<name> (tool_sync: off)
    filearchive: bool = setting(True, cast.flag)  # move the input to archives/<stamp>_<name> (tool_sync: off)
    filefailed: bool = setting(True, cast.flag)  # write <base>_tryback_<stamp>.<ext> (tool_sync: off)
    filecleanup: bool = setting(False, cast.flag)  # delete an applied input that is not archived
    fileareacleanupdelay: int = setting(90, _days)  # `sync run` removes reports/archives older (0: never)
    users_primaryidentity: str = setting("idnumber", cast.one_of(USER_IDENTITIES))
    courses_primaryidentity: str = setting("shortname", cast.one_of(COURSE_IDENTITIES))  # users' course<n>
    users_allowrename: bool = setting(False, cast.flag)  # honour the users file's `oldusername`
    users_protectemails: bool = setting(True, cast.flag)  # an existing account's e-mail is never changed
    enrols_useridentifier: str = setting("username", cast.one_of(USER_IDENTITIES))
    enrols_courseidentifier: str = setting("shortname", cast.one_of(COURSE_IDENTITIES))
    enrols_defaultcmd: str = setting("add", cast.one_of(("add", "del", "shift")))
    enrols_protectgroups: bool = setting(False, cast.flag)  # greplace/gdel touch only groups the sync joined
    cohorts_useridentifier: str = setting("idnumber", cast.one_of(USER_IDENTITIES))
    cohorts_cohortidentifier: str = setting("idnumber", cast.one_of(COHORT_IDENTITIES))
    cohorts_courseidentifier: str = setting("idnumber", cast.one_of(COURSE_IDENTITIES))
    cohorts_roleidentifier: str = setting("shortname", cast.one_of(ROLE_IDENTITIES))
    cohorts_autocreate: bool = setting(True, cast.flag)  # cohorts `add` creates a missing cohort
    courses_fileuploadidentifier: str = setting("shortname", cast.one_of(COURSE_IDENTITIES))
    courses_forceupdate: bool = setting(False, cast.flag)  # off: an existing course is left as it is
    courses_filedeleteidentifier: str = setting("shortname", cast.one_of(COURSE_IDENTITIES))
    userpictures_fileprefix: str = setting("userpictures_", cast.stripped)
    userpictures_userfield: str = setting("idnumber", _picture_field)
    userpictures_overwrite: bool = setting(True, cast.flag)  # off: a user with a picture keeps it
    # --- ours
    lock_stale_minutes: int = setting(180, cast.whole(1, 100_000, "minutes"))  # an older lock file raises an alarm
    # a drop-folder file modified more recently is left for the next capture
    settle_seconds: int = setting(10, cast.whole(0, 86_400, "seconds"))
    # kind -> file name in the store; `*` and `?` match several, run in name order
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
