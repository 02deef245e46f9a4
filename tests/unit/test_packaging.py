"""The wheel's package list (pyproject.toml) names every package folder, and rpc/ only as aula_ws.rpc."""

import tomllib
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]


def _setuptools_table() -> dict[str, Any]:
    with (ROOT / "pyproject.toml").open("rb") as handle:
        table: dict[str, Any] = tomllib.load(handle)["tool"]["setuptools"]
    return table


def _packages(folder: Path, name: str) -> set[str]:
    return {".".join([name, *init.parent.relative_to(folder).parts]) for init in folder.rglob("__init__.py")}


def test_every_package_folder_is_listed_for_the_wheel() -> None:
    folders = _packages(ROOT / "aula_ws", "aula_ws") | _packages(ROOT / "rpc", "aula_ws.rpc")
    assert set(_setuptools_table()["packages"]) == folders


def test_rpc_is_installed_inside_the_aula_ws_namespace() -> None:
    table = _setuptools_table()
    assert table["package-dir"] == {"aula_ws.rpc": "rpc"}
    assert not any(name == "rpc" or name.startswith("rpc.") for name in table["packages"])
