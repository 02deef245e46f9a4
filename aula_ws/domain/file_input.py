"""What an input file's name, its encoding and its lines may hold (imports and sync alike).

Pure rules over text. Each `..._problem` function returns why a value is
refused, or None; the services turn the reason into their own error.

- A line (or a header) may hold only what XML 1.0 can carry (tab, LF, CR, and
  U+0020 on, less U+FFFE/U+FFFF and lone surrogates): reports, journals and
  SOAP answers are XML or end up in XML, and a character lxml refuses to
  serialise would leave an answer without its Body.
- A file name is one plain name: no folder, not `.` or `..`, no control
  character, at most MAX_NAME_BYTES in UTF-8, so that every name derived from
  it (`<YYYYmmdd-HHMM>_report_<name>`, `..._tryback_...`, numbered variants)
  stays under the 255 bytes file systems allow.
- An encoding is a text encoding Python knows (`codecs.lookup(name)` with
  `_is_text_encoding`): `rot13`, `base64_codec` or `zlib_codec` are codecs,
  but not ways of writing text.
"""

import codecs
import re

MAX_NAME_BYTES = 200

_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f]")


def shown(value: str, limit: int = 60) -> str:
    """`value` as it may appear in a message: quoted, escaped, cut at `limit` characters."""
    return repr(value[:limit] + ("..." if len(value) > limit else ""))


_XML_ASCII = b"\t\n\r" + bytes(range(0x20, 0x80))  # what XML 1.0 carries of ASCII


def xml_problem(text: str) -> str | None:
    """Why `text` cannot be carried by XML 1.0 (the first such character), or None."""
    if text.isascii() and not text.encode("ascii").translate(None, _XML_ASCII):
        return None  # the usual text, at C speed: deleting what XML carries leaves nothing
    found = _NOT_XML.search(text)
    if found is None:
        return None
    return (
        f"character U+{ord(found.group()):04X} at position {found.start() + 1} cannot be carried "
        "by XML 1.0 (a control character, U+FFFE/U+FFFF or a lone surrogate)"
    )


def xml_safe(text: str) -> str:
    """`text` with every character XML 1.0 cannot carry written as `\\xNN`/`\\uNNNN`."""
    return _NOT_XML.sub(lambda found: found.group().encode("unicode_escape").decode("ascii"), text)


def file_name_problem(name: str) -> str | None:
    """Why `name` is not a plain file name we may store, or None."""
    if not name:
        return "file name is empty"
    if name in (".", ".."):
        return f"file name {shown(name)} is not a file name"
    if "/" in name or "\\" in name:
        return f"file name {shown(name)} holds a path separator (a plain name is expected)"
    if _CONTROL.search(name) or _NOT_XML.search(name):
        return f"file name {shown(name)} holds a control character"
    size = len(name.encode("utf-8", "surrogatepass"))
    if size > MAX_NAME_BYTES:
        return f"file name {shown(name)} is {size} bytes long, more than {MAX_NAME_BYTES}"
    return None


def encoding_problem(encoding: str) -> str | None:
    """Why `encoding` cannot be used to read a text file, or None."""
    try:
        info = codecs.lookup(encoding)
    except (LookupError, ValueError, TypeError):
        return f"unknown encoding {shown(encoding)}"
    if not getattr(info, "_is_text_encoding", True):
        return f"encoding {shown(encoding)} ({info.name}) is not a text encoding"
    return None
