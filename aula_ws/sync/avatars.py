"""Avatar archives: a ZIP of images named `<user>.<ext>` (PNG, JPEG, GIF), in any sub-folder;
`<user>` is the value of the `userpictures_userfield` setting (tool_sync).

Each entry is checked before anything is written: a name climbing out (`../x.png`), absolute
or with another extension is refused; `__MACOSX/` and hidden files are skipped; the bytes are read
with a limit per image and for the whole archive (declared sizes are not
trusted); Pillow must decode it as a PNG, JPEG or GIF within the pixel limit.
A good image is normalised to a 100x100 and a 35x35 PNG (centre crop).
"""

import io
import warnings
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from typing import BinaryIO

from PIL import Image, ImageOps, UnidentifiedImageError

EXTENSIONS = {"png": "PNG", "jpg": "JPEG", "jpeg": "JPEG", "gif": "GIF"}
SIZES = (100, 35)
CHUNK = 64 * 1024


class ArchiveRefused(ValueError):
    """The archive as a whole is refused: nothing of it is stored."""


class EntryRefused(ValueError):
    pass


@dataclass(frozen=True)
class Limits:
    archive_bytes: int
    image_bytes: int
    image_pixels: int


@dataclass(frozen=True)
class Picture:
    user: str  # the value of the user field the picture is named by
    large_png: bytes
    small_png: bytes


def entries(source: BinaryIO, limits: Limits) -> Iterator[tuple[str, Picture | EntryRefused]]:
    """(entry name, its normalised picture or why it was refused), in archive order."""
    try:
        archive = zipfile.ZipFile(source)
    except (zipfile.BadZipFile, OSError) as error:
        raise ArchiveRefused(f"not a ZIP archive ({error})") from None
    with archive:
        infos = [info for info in archive.infolist() if not info.is_dir() and not _skipped(info.filename)]
        declared = sum(info.file_size for info in infos)
        if declared > limits.archive_bytes:
            raise ArchiveRefused(f"the archive expands to {declared} bytes, past the limit of {limits.archive_bytes}")
        budget = limits.archive_bytes
        for info in infos:
            try:
                user = _user(info.filename)
                data = _read(archive, info, limits.image_bytes, budget)
                budget -= len(data)
                yield info.filename, Picture(user, *normalised(data, limits.image_pixels))
            except EntryRefused as refused:
                yield info.filename, refused


def _parts(name: str) -> list[str]:
    return name.replace("\\", "/").split("/")


def _skipped(name: str) -> bool:
    """macOS's resource folder and hidden files: not pictures, not reported."""
    parts = _parts(name)
    return parts[0] == "__MACOSX" or (parts[-1].startswith(".") and parts[-1] not in (".", ".."))


def _user(name: str) -> str:
    parts = _parts(name)
    if name.startswith("/") or ":" in name or any(part in ("", ".", "..") for part in parts):
        raise EntryRefused("an absolute name or one climbing out of the archive is refused")
    stem, dot, extension = parts[-1].rpartition(".")
    if not dot or extension.lower() not in EXTENSIONS or not stem:
        raise EntryRefused("not named <user>.png, .jpg, .jpeg or .gif")
    return stem


def _read(archive: zipfile.ZipFile, info: zipfile.ZipInfo, image_limit: int, budget: int) -> bytes:
    """The entry's bytes, counted as they expand (a forged declared size changes nothing)."""
    data = bytearray()
    try:
        with archive.open(info) as entry:
            while chunk := entry.read(CHUNK):
                data += chunk
                if len(data) > budget:
                    raise ArchiveRefused(f"{info.filename}: the archive expands past the size limit")
                if len(data) > image_limit:
                    raise EntryRefused(f"larger than {image_limit} bytes")
    except (zipfile.BadZipFile, EOFError, RuntimeError, NotImplementedError) as error:
        raise EntryRefused(f"cannot be read ({error})") from None
    return bytes(data)


def normalised(data: bytes, max_pixels: int) -> tuple[bytes, bytes]:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as probe:
                if probe.format not in EXTENSIONS.values():
                    raise EntryRefused(f"a {probe.format} image, not PNG, JPEG or GIF")
                if probe.width * probe.height > max_pixels:
                    raise EntryRefused(f"{probe.width}x{probe.height} is more than {max_pixels} pixels")
                probe.verify()
            with Image.open(io.BytesIO(data)) as image:
                image.load()
                rgba = image.convert("RGBA")
    except (
        UnidentifiedImageError,
        OSError,
        SyntaxError,
        ValueError,
        Image.DecompressionBombError,
        Image.DecompressionBombWarning,
    ) as error:
        if isinstance(error, EntryRefused):
            raise
        raise EntryRefused(f"not a valid image ({type(error).__name__})") from None
    return tuple(_png(ImageOps.fit(rgba, (size, size))) for size in SIZES)  # type: ignore[return-value]


def _png(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True)
    return out.getvalue()
