"""The sync file store under the data directory (Moodle's "local file manager").

    <data>/sync/          the drop folder external feeders write into
    <data>/syncfiles/     captured and uploaded input files; trybacks beside them
        reports/ archives/
        .work/            files being written (never seen as inputs)
"""

import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from aula_ws.domain.sync_files import numbered


@dataclass(frozen=True)
class FileStore:
    data_dir: Path

    @property
    def drop(self) -> Path:
        return self.data_dir / "sync"

    @property
    def root(self) -> Path:
        return self.data_dir / "syncfiles"

    @property
    def reports(self) -> Path:
        return self.root / "reports"

    @property
    def archives(self) -> Path:
        return self.root / "archives"

    @property
    def work(self) -> Path:
        return self.root / ".work"

    def create(self) -> None:
        for folder in (self.drop, self.root, self.reports, self.archives, self.work):
            folder.mkdir(parents=True, exist_ok=True)

    def resolve(self, name: str) -> Path:
        """A name of the store (no folders), or a path."""
        candidate = Path(name)
        if not candidate.exists() and candidate.name == name and (self.root / name).exists():
            return self.root / name
        return candidate


def free_path(folder: Path, name: str) -> Path:
    """`folder/name`, or a numbered variant when it is taken (two runs in one minute)."""
    taken = 0
    while (folder / numbered(name, taken)).exists():
        taken += 1
    return folder / numbered(name, taken)


def move(source: Path, target: Path) -> Path:
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.replace(source, target)
    except OSError:  # another file system: copy, then remove
        shutil.copyfile(source, target)
        source.unlink()
    return target
