"""The sync file store under the data directory (Moodle's "local file manager").

    <data>/sync/          the drop folder external feeders write into
    <data>/syncfiles/     captured and uploaded input files; trybacks beside them
        reports/ archives/
        .work/            files being written (never seen as inputs)

Folders are created 0700, files 0600, names claimed for one run alone
(aula_ws/private_files.py).
"""

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from aula_ws.domain.sync_files import is_tryback
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

    def clean(self, older_than: datetime) -> list[Path]:
        """Removes reports, archives and trybacks last modified before `older_than` (naive UTC),
        as tool_sync's clean-up task does (inputs waiting to run are kept)."""
        limit = older_than.replace(tzinfo=UTC).timestamp()
        removed = []
        candidates = [*self._files(self.reports), *self._files(self.archives)]
        candidates += [path for path in self._files(self.root) if is_tryback(path.name)]
        for path in candidates:
            try:
                if path.stat().st_mtime < limit:
                    path.unlink()
                    removed.append(path)
            except OSError:  # gone meanwhile, or not ours to remove: the next clean-up sees it
                continue
        return removed

    @staticmethod
    def _files(folder: Path) -> list[Path]:
        try:
            return [path for path in folder.iterdir() if path.is_file() and not path.is_symlink()]
        except OSError:
            return []
