"""The sync file store under the data directory (Moodle's "local file manager").

    <data>/sync/          the drop folder external feeders write into
    <data>/syncfiles/     captured and uploaded input files; trybacks beside them
        reports/ archives/
        .work/            files being written (never seen as inputs)

Folders are created 0700, files 0600, names claimed for one run alone
(aula_ws/private_files.py).
"""

from dataclasses import dataclass
from pathlib import Path

from aula_ws.errors import WriteFailed
from aula_ws.private_files import private_dir


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
        try:
            for folder in (self.drop, self.root, self.reports, self.archives, self.work):
                private_dir(folder)
        except OSError as error:
            raise WriteFailed.of("the sync file store", error) from None

    def resolve(self, name: str) -> Path:
        """A name of the store (no folders), or a path."""
        candidate = Path(name)
        if not candidate.exists() and candidate.name == name and (self.root / name).exists():
            return self.root / name
        return candidate
