"""Use cases of the console's file manager: the sync file store's inputs, reports/, archives/
and trybacks, and the statistics imports' journals and rejects (`imports/`).

Every name is checked as the store's own names are (aula_ws/domain/sync_files.py): one name,
no folder, so nothing outside an area can be read, written or deleted.
"""

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from aula_ws.config import Settings
from aula_ws.domain import sync_files as names
from aula_ws.domain.file_input import file_name_problem
from aula_ws.errors import InvalidRequest, NotFound
from aula_ws.services.sync import store_upload
from aula_ws.sync.filestore import FileStore

AREAS = ("inputs", "reports", "archives", "imports")
_COUNTER = re.compile(r"^\s*([A-Za-z][A-Za-z ]+): (\d+)\s*$")


@dataclass(frozen=True)
class StoredFile:
    area: str
    name: str
    size: int
    modified: datetime  # naive UTC
    tryback: bool


def imports_dir(settings: Settings) -> Path:
    """Where statistics imports write their journals and rejects (the CLI's place too)."""
    return settings.data_dir / "imports"


def area_dir(settings: Settings, area: str) -> Path:
    files = FileStore(settings.data_dir)
    folders = {"inputs": files.root, "reports": files.reports, "archives": files.archives}
    if area == "imports":
        return imports_dir(settings)
    if area not in folders:
        raise InvalidRequest(f"unknown area {area!r}: one of {', '.join(AREAS)}")
    return folders[area]


def list_area(settings: Settings, area: str) -> list[StoredFile]:
    """The area's files, newest first."""
    folder = area_dir(settings, area)
    found = []
    try:
        entries = list(folder.iterdir())
    except OSError:
        return []
    for path in entries:
        if path.name.startswith(".") or path.is_symlink() or not path.is_file():
            continue
        stat = path.stat()
        modified = datetime.fromtimestamp(stat.st_mtime, UTC).replace(tzinfo=None)
        found.append(StoredFile(area, path.name, stat.st_size, modified, names.is_tryback(path.name)))
    return sorted(found, key=lambda f: (f.modified, f.name), reverse=True)


def file_path(settings: Settings, area: str, name: str) -> Path:
    """An existing file of an area, by its bare name; NotFound otherwise."""
    if file_name_problem(name) is not None or name.startswith("."):
        raise NotFound("file", name)
    path = area_dir(settings, area) / name
    if path.is_symlink() or not path.is_file():
        raise NotFound("file", name)
    return path


def store_input(settings: Settings, name: str, content: bytes) -> Path:
    """An uploaded file into the store's inputs, under the first free name of `name`."""
    if problem := names.store_name_problem(name):
        raise InvalidRequest(problem)
    files = FileStore(settings.data_dir)
    files.create()
    return store_upload(files, name, content)


def delete_file(settings: Settings, area: str, name: str) -> None:
    file_path(settings, area, name).unlink()


def kind_of(settings: Settings, name: str) -> str | None:
    """The sync kind whose configured file name `name` is (or a tryback of), if any."""
    for kind, configured in settings.sync.file_names.items():
        stem, dot, suffix = configured.partition(".")
        if name == configured or (name.startswith(stem) and name.endswith(dot + suffix)):
            return kind
    return None


def counters_of(path: Path | None) -> list[tuple[str, int]]:
    """The counters a report or journal ends with ("label: number" lines)."""
    if path is None:
        return []
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return []
    found = [(m.group(1), int(m.group(2))) for line in text.splitlines()[-20:] if (m := _COUNTER.match(line))]
    return found


def lines_mentioning(settings: Settings, needle: str, reports: int = 30, limit: int = 20) -> list[tuple[str, str]]:
    """The last report lines (of the newest `reports` sync reports) that name `needle`: (report, line)."""
    if not needle:
        return []
    word = re.compile(rf"(?<![\w.@-]){re.escape(needle)}(?![\w.@-])")
    found: list[tuple[str, str]] = []
    for stored in list_area(settings, "reports")[:reports]:
        try:
            text = (area_dir(settings, "reports") / stored.name).read_text(encoding="utf-8", errors="replace")
        except OSError:
            continue
        found.extend((stored.name, line) for line in text.splitlines() if word.search(line))
        if len(found) >= limit:
            break
    return found[:limit]
