"""requirements/ci.lock (what CI installs) covers pyproject.toml: every dependency of the
package and of the extras CI installs is pinned there, at a version its specifier allows,
with hashes. Fails when a dependency is added or its floor raised without refreshing the
lock (README, Dependencies and the lock)."""

import re
import tomllib
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).resolve().parents[2]
LOCKED_EXTRAS = ("test", "dev", "production", "postgres")


def _locked() -> dict[str, Version]:
    pins = re.findall(r"^([A-Za-z0-9_.\-]+)==([^\s;\\]+)", (ROOT / "requirements/ci.lock").read_text(), re.M)
    return {canonicalize_name(name): Version(version) for name, version in pins}


def _declared() -> list[Requirement]:
    with (ROOT / "pyproject.toml").open("rb") as handle:
        project = tomllib.load(handle)["project"]
    names = [*project["dependencies"]]
    for extra in LOCKED_EXTRAS:
        names += project["optional-dependencies"][extra]
    return [Requirement(text) for text in names if not text.startswith("aula-ws")]


def test_every_declared_dependency_is_locked_at_an_allowed_version() -> None:
    locked = _locked()
    for requirement in _declared():
        name = canonicalize_name(requirement.name)
        assert name in locked, f"{requirement.name} is not in requirements/ci.lock: refresh it (README)"
        assert requirement.specifier.contains(locked[name], prereleases=True), (
            f"{requirement.name} is locked at {locked[name]}, pyproject.toml asks {requirement.specifier}"
        )


def test_every_pin_has_a_hash() -> None:
    text = (ROOT / "requirements/ci.lock").read_text()
    blocks = re.split(r"\n(?=[A-Za-z0-9])", text.split("\n", 2)[2])
    assert blocks and all("--hash=sha256:" in block for block in blocks if "==" in block)
