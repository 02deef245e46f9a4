"""Files the service writes: private, and never shared by two runs.

Private: folders we create are 0700 and files we create 0600, whatever the
process umask (explicit modes, not only the umask the CLI sets: a WSGI server
may run us under any umask). Folders that already exist keep their mode (an
operator may open the drop folder to a feeder's group on purpose).

Never shared: a name is claimed atomically, `O_EXCL` for a new file and
link(2) for a move, so two runs that want the same name (two uploads of
`users.csv` in one minute, two imports of one file in one second) get `name`,
`name.2`, `name.3`... whatever the timing, and a move never replaces a file.
"""

import errno
import itertools
import os
import shutil
from pathlib import Path
from typing import BinaryIO, TextIO

from aula_ws.domain.sync_files import numbered

DIR_MODE = 0o700
FILE_MODE = 0o600
_CREATE = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
# link(2) is refused by file systems without hard links (or across file systems): copy instead
_NO_LINK = {errno.EXDEV, errno.EPERM, errno.EOPNOTSUPP, errno.EMLINK}


def private_dir(path: Path) -> Path:
    """`path` and its missing parents, created 0700; existing folders are left as they are."""
    missing = []
    folder = path
    while not os.path.lexists(folder) and folder != folder.parent:
        missing.append(folder)
        folder = folder.parent
    for folder in reversed(missing):
        try:
            os.mkdir(folder, DIR_MODE)
        except FileExistsError:
            continue
        os.chmod(folder, DIR_MODE)  # an umask may take owner bits too
    return path


def claim(folder: Path, name: str) -> tuple[Path, int]:
    """A new file 0600 at the first free name of `name`, `name.2`... in `folder`: (path, fd)."""
    private_dir(folder)
    for taken in itertools.count():
        path = folder / numbered(name, taken)
        try:
            fd = os.open(path, _CREATE, FILE_MODE)
        except FileExistsError:
            continue
        os.fchmod(fd, FILE_MODE)
        return path, fd
    raise AssertionError("unreachable")


def create_text(folder: Path, name: str, encoding: str, errors: str = "strict") -> tuple[Path, TextIO]:
    """A new private text file (see claim); line ends are written as given."""
    path, fd = claim(folder, name)
    return path, os.fdopen(fd, "w", encoding=encoding, errors=errors, newline="")


def create_binary(folder: Path, name: str) -> tuple[Path, BinaryIO]:
    path, fd = claim(folder, name)
    return path, os.fdopen(fd, "wb")


def place(source: Path, folder: Path, name: str) -> Path:
    """Moves `source` to the first free name of `name`, `name.2`... in `folder`; the result is 0600.
    Never replaces a file: the name is claimed by link(2), then `source` is removed."""
    private_dir(folder)
    for taken in itertools.count():
        target = folder / numbered(name, taken)
        try:
            os.link(source, target, follow_symlinks=False)
        except FileExistsError:
            continue
        except OSError as error:
            if error.errno not in _NO_LINK:
                raise
            return _copy_place(source, folder, name)
        os.chmod(target, FILE_MODE)
        os.unlink(source)
        return target
    raise AssertionError("unreachable")


def _copy_place(source: Path, folder: Path, name: str) -> Path:
    target, output = create_binary(folder, name)
    try:
        with output, source.open("rb") as data:
            shutil.copyfileobj(data, output)
    except BaseException:
        target.unlink(missing_ok=True)
        raise
    os.unlink(source)
    return target
