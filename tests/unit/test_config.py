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
    config.write_text('contract_max_body = 2048\n')
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
