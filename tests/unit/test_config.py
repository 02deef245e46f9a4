from pathlib import Path

import pytest

from aula_ws.config import Settings
from aula_ws.errors import ConfigError


def test_defaults_are_sqlite_under_the_data_directory_and_utc(tmp_path):
    settings = Settings.from_environment({"AULA_DATA_DIR": str(tmp_path)})
    assert settings.database_url == f"sqlite:///{tmp_path / 'aula.sqlite3'}"
    assert settings.timezone.key == "UTC"
    assert settings.contract_max_body == 1024 * 1024
    assert settings.admin_max_body == 50 * 1024 * 1024


def test_a_plain_postgresql_url_uses_the_psycopg_driver(tmp_path):
    settings = Settings.from_environment(
        {"AULA_DATA_DIR": str(tmp_path), "AULA_DATABASE_URL": "postgresql://u@db/aula"}
    )
    assert settings.database_url == "postgresql+psycopg://u@db/aula"


def test_the_toml_file_in_the_data_directory_is_read_and_the_environment_wins(tmp_path):
    (tmp_path / "aula-ws.toml").write_text('timezone = "America/Montevideo"\nport = 9000\n')
    settings = Settings.from_environment({"AULA_DATA_DIR": str(tmp_path), "AULA_PORT": "9100"})
    assert settings.timezone.key == "America/Montevideo"
    assert settings.port == 9100


def test_aula_config_names_another_toml_file(tmp_path):
    config = tmp_path / "elsewhere.toml"
    config.write_text("contract_max_body = 2048\n")
    settings = Settings.from_environment({"AULA_DATA_DIR": str(tmp_path), "AULA_CONFIG": str(config)})
    assert settings.contract_max_body == 2048


@pytest.mark.parametrize(
    "environ, named",
    [
        ({"AULA_TIMEZONE": "Mars/Olympus_Mons"}, "AULA_TIMEZONE"),
        ({"AULA_PORT": "eighty"}, "AULA_PORT"),
        ({"AULA_PORT": "70000"}, "AULA_PORT"),
        ({"AULA_CONTRACT_MAX_BODY": "-1"}, "AULA_CONTRACT_MAX_BODY"),
        ({"AULA_DATABASE_URL": "mysql://x/y"}, "AULA_DATABASE_URL"),
        ({"AULA_CONFIG": "/nonexistent/aula.toml"}, "AULA_CONFIG"),
    ],
)
def test_a_bad_setting_stops_with_a_message_naming_it(tmp_path, environ, named):
    with pytest.raises(ConfigError) as caught:
        Settings.from_environment({"AULA_DATA_DIR": str(tmp_path), **environ})
    assert caught.value.setting == named
    assert "\n" not in str(caught.value)


def test_a_broken_toml_file_stops_with_a_message(tmp_path):
    (tmp_path / "aula-ws.toml").write_text("timezone = \n")
    with pytest.raises(ConfigError, match="TOML"):
        Settings.from_environment({"AULA_DATA_DIR": str(tmp_path)})


def test_the_default_data_directory_is_relative_to_the_working_directory():
    assert Settings.from_environment({}).data_dir == Path("aula-data")


def test_mnet_defaults_and_the_root_url_from_host_and_port(tmp_path):
    settings = Settings.from_environment({"AULA_DATA_DIR": str(tmp_path), "AULA_PORT": "9001"})
    assert settings.wwwroot == "http://127.0.0.1:9001"
    assert (settings.use_stats_threshold, settings.use_stats_lastpingcredit) == (60, 15)
    assert (settings.mnet_key_rotation_days, settings.mnet_drift, settings.rpc_max_body) == (28, 15, 1024 * 1024)
    explicit = Settings.from_environment({"AULA_DATA_DIR": str(tmp_path), "AULA_WWWROOT": "https://aula.example.org/"})
    assert explicit.wwwroot == "https://aula.example.org"


@pytest.mark.parametrize(
    "environ, named",
    [
        ({"AULA_WWWROOT": "aula.example.org"}, "AULA_WWWROOT"),
        ({"AULA_WWWROOT": "ftp://aula.example.org"}, "AULA_WWWROOT"),
        ({"AULA_USE_STATS_THRESHOLD": "0"}, "AULA_USE_STATS_THRESHOLD"),
        ({"AULA_USE_STATS_THRESHOLD": "an hour"}, "AULA_USE_STATS_THRESHOLD"),
        ({"AULA_USE_STATS_LASTPINGCREDIT": "-5"}, "AULA_USE_STATS_LASTPINGCREDIT"),
        ({"AULA_USE_STATS_THRESHOLD": "10", "AULA_USE_STATS_LASTPINGCREDIT": "15"}, "AULA_USE_STATS_LASTPINGCREDIT"),
        ({"AULA_MNET_KEY_ROTATION_DAYS": "0"}, "AULA_MNET_KEY_ROTATION_DAYS"),
        ({"AULA_MNET_KEY_GENERATIONS": "0"}, "AULA_MNET_KEY_GENERATIONS"),
        ({"AULA_MNET_PEER_TIMEOUT": "0"}, "AULA_MNET_PEER_TIMEOUT"),
        ({"AULA_MNET_PEER_TIMEOUT": "nan"}, "AULA_MNET_PEER_TIMEOUT"),
        ({"AULA_MNET_DRIFT": "0"}, "AULA_MNET_DRIFT"),
        ({"AULA_RPC_MAX_BODY": "0"}, "AULA_RPC_MAX_BODY"),
    ],
)
def test_a_bad_mnet_setting_stops_with_a_message_naming_it(tmp_path, environ, named):
    with pytest.raises(ConfigError) as caught:
        Settings.from_environment({"AULA_DATA_DIR": str(tmp_path), **environ})
    assert caught.value.setting == named


def test_etl_defaults_are_5000_records_per_call_and_a_ten_minute_lease(tmp_path):
    settings = Settings.from_environment({"AULA_DATA_DIR": str(tmp_path)})
    assert (settings.etl_max_records, settings.etl_lease_seconds) == (5000, 600)
    (tmp_path / "aula-ws.toml").write_text("etl_max_records = 1000\n")
    assert Settings.from_environment({"AULA_DATA_DIR": str(tmp_path)}).etl_max_records == 1000


@pytest.mark.parametrize(
    "environ, named",
    [
        ({"AULA_ETL_MAX_RECORDS": "0"}, "AULA_ETL_MAX_RECORDS"),
        ({"AULA_ETL_MAX_RECORDS": "lots"}, "AULA_ETL_MAX_RECORDS"),
        ({"AULA_ETL_MAX_RECORDS": "1000000"}, "AULA_ETL_MAX_RECORDS"),
        ({"AULA_ETL_LEASE_SECONDS": "1"}, "AULA_ETL_LEASE_SECONDS"),
        ({"AULA_ETL_LEASE_SECONDS": "ten minutes"}, "AULA_ETL_LEASE_SECONDS"),
    ],
)
def test_a_bad_etl_setting_stops_with_a_message_naming_it(tmp_path, environ, named):
    with pytest.raises(ConfigError) as caught:
        Settings.from_environment({"AULA_DATA_DIR": str(tmp_path), **environ})
    assert caught.value.setting == named


def test_sync_and_smtp_settings_default_to_the_contract_and_are_read(tmp_path):
    default = Settings.from_environment({"AULA_DATA_DIR": str(tmp_path)})
    assert default.sync.lock_stale_minutes == 180 and default.sync.file_names["users"] == "userimport.csv"
    assert default.sync.schedules == {} and default.smtp.host == ""
    tool_sync_defaults = (
        default.sync.users_primaryidentity,
        default.sync.enrols_useridentifier,
        default.sync.enrols_courseidentifier,
        default.sync.cohorts_useridentifier,
        default.sync.cohorts_cohortidentifier,
        default.sync.cohorts_courseidentifier,
        default.sync.userpictures_userfield,
        default.sync.fileareacleanupdelay,
        default.sync.users_protectemails,
        default.sync.courses_forceupdate,
    )
    assert tool_sync_defaults == (
        "idnumber",
        "username",
        "shortname",
        "idnumber",
        "idnumber",
        "idnumber",
        "idnumber",
        90,
        True,
        False,
    )
    (tmp_path / "aula-ws.toml").write_text(
        'sync_users_schedule = "*/5 * * * *"\nsmtp_starttls = true\n'
        '[sync]\nstorereport = false\nenrols_useridentifier = "idnumber"\nuserpictures_userfield = 0\n'
    )
    settings = Settings.from_environment(
        {
            "AULA_DATA_DIR": str(tmp_path),
            "AULA_SYNC_USERS_PRIMARYIDENTITY": "email",
            "AULA_SYNC_ENCODING": "ISO-8859-1",
            "AULA_SMTP_PORT": "2525",
            "AULA_SMTP_PASSWORD": "hunter2",
            "AULA_ADMIN_EMAIL": "admin@example.org",
            "AULA_SYNC_ENROLMENTS_FILE": "enrolments-feed.csv",
        }
    )
    assert settings.sync.schedules == {"users": "*/5 * * * *"} and settings.sync.storereport is False
    assert (settings.sync.users_primaryidentity, settings.smtp.port, settings.smtp.starttls) == ("email", 2525, True)
    assert (settings.sync.encoding, settings.sync.enrols_useridentifier) == ("iso-8859-1", "idnumber")
    assert settings.sync.userpictures_userfield == "username"  # tool_sync's form stores a code: 0
    assert settings.sync.file_names["enrolments"] == "enrolments-feed.csv"
    assert "hunter2" not in repr(settings)


@pytest.mark.parametrize(
    "environ, named",
    [
        ({"AULA_SYNC_USERS_SCHEDULE": "every five minutes"}, "AULA_SYNC_USERS_SCHEDULE"),
        ({"AULA_SYNC_USERS_PRIMARYIDENTITY": "name"}, "AULA_SYNC_USERS_PRIMARYIDENTITY"),
        ({"AULA_SYNC_ENROLS_COURSEIDENTIFIER": "name"}, "AULA_SYNC_ENROLS_COURSEIDENTIFIER"),
        ({"AULA_SYNC_COHORTS_ROLEIDENTIFIER": "idnumber"}, "AULA_SYNC_COHORTS_ROLEIDENTIFIER"),
        ({"AULA_SYNC_CSVSEPARATOR": "|"}, "AULA_SYNC_CSVSEPARATOR"),
        ({"AULA_SYNC_FILEAREACLEANUPDELAY": "-1"}, "AULA_SYNC_FILEAREACLEANUPDELAY"),
        ({"AULA_SYNC_ENCODING": "utf-16"}, "AULA_SYNC_ENCODING"),
        ({"AULA_SYNC_LOCK_STALE_MINUTES": "0"}, "AULA_SYNC_LOCK_STALE_MINUTES"),
        ({"AULA_SYNC_FILEARCHIVE": "maybe"}, "AULA_SYNC_FILEARCHIVE"),
        ({"AULA_SYNC_USERS_FILE": "../etc/passwd"}, "AULA_SYNC_USERS_FILE"),
        ({"AULA_SYNC_COURSES_FILE": "lock.txt"}, "AULA_SYNC_COURSES_FILE"),
        ({"AULA_SMTP_PORT": "0"}, "AULA_SMTP_PORT"),
        ({"AULA_ADMIN_EMAIL": "not an address"}, "AULA_ADMIN_EMAIL"),
        ({"AULA_SMTP_STARTTLS": "sometimes"}, "AULA_SMTP_STARTTLS"),
        ({"AULA_SYNC_AVATARS_MAX_BYTES": "-5"}, "AULA_SYNC_AVATARS_MAX_BYTES"),
    ],
)
def test_a_bad_sync_or_smtp_setting_stops_with_a_message_naming_it(tmp_path, environ, named):
    with pytest.raises(ConfigError) as caught:
        Settings.from_environment({"AULA_DATA_DIR": str(tmp_path), **environ})
    assert caught.value.setting == named
    assert "\n" not in str(caught.value)


def test_each_default_is_the_fields_own_whether_read_or_constructed(tmp_path):
    assert Settings.from_environment({"AULA_DATA_DIR": str(tmp_path)}) == Settings(data_dir=tmp_path)


@pytest.mark.parametrize(
    "toml, named",
    [
        ("port = true\n", "port (TOML file)"),
        ("rpc_max_body = true\n", "rpc_max_body (TOML file)"),
        ("sync_lock_stale_minutes = true\n", "sync_lock_stale_minutes (TOML file)"),
        ("mnet_key_generations = 3.5\n", "mnet_key_generations (TOML file)"),
        ("mnet_peer_timeout = true\n", "mnet_peer_timeout (TOML file)"),
        ("host = 8080\n", "host (TOML file)"),
    ],
)
def test_a_boolean_or_a_fraction_is_never_read_as_a_whole_number(tmp_path, toml, named):
    (tmp_path / "aula-ws.toml").write_text(toml)
    with pytest.raises(ConfigError) as caught:
        Settings.from_environment({"AULA_DATA_DIR": str(tmp_path)})
    assert caught.value.setting == named


def test_toml_numbers_are_read_as_numbers(tmp_path):
    (tmp_path / "aula-ws.toml").write_text("port = 9000\nmnet_key_generations = 3.0\nsmtp_timeout = 2\n")
    settings = Settings.from_environment({"AULA_DATA_DIR": str(tmp_path)})
    assert (settings.port, settings.mnet_key_generations, settings.smtp.timeout) == (9000, 3, 2.0)
