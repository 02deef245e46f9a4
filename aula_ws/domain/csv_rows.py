"""What the statistics import and the sync files share, line by line (pure).

One home for the pieces both pipelines use: the errors a line or a header
raises, matching a header's names to the known columns, reading a value out of
a line, turning a raw line into a record or the reason it is refused, and the
counters of a report. Each file format keeps its own rules (which columns, how
a value is read) in domain/statistics_rows.py and domain/sync_rows.py.
"""

from collections.abc import Callable
from dataclasses import dataclass, field, fields
from operator import itemgetter
from typing import Any, ClassVar, TypeVar

from aula_ws.domain.file_input import xml_problem

T = TypeVar("T")


class RowError(ValueError):
    """Why a line is refused (its message goes to the journal or report)."""


class HeaderError(ValueError):
    """The header cannot be used: the whole file is refused."""


def required(value: str, name: str) -> str:
    if not value:
        raise RowError(f"{name} is required")
    return value


def header_problem(line: int, raw: str) -> HeaderError | None:
    """A header holding what XML cannot carry refuses the file (reports quote column names)."""
    problem = xml_problem(raw)
    return None if problem is None else HeaderError(f"line {line} (the header): {problem}")


def read_line(raw: str, fields_: list[str] | None, read: Callable[..., T], *context: Any) -> T | RowError:
    """The record `read(fields, *context)` makes of a line, or why the line is refused.

    A line that is not valid CSV (no fields) or holds what XML cannot carry is
    refused before it is read: its message would end up in an XML answer."""
    if fields_ is None:
        return RowError("the line is not valid CSV (check its quotes)")
    if problem := xml_problem(raw):
        return RowError(problem)
    try:
        return read(fields_, *context)
    except RowError as error:
        return error


@dataclass(frozen=True)
class HeaderMatch:
    """A header's names matched against the known columns."""

    positions: dict[str, int]  # a name given twice: its last position
    unknown: tuple[str, ...]  # names we do not know (each worth a warning)
    repeated: tuple[str, ...]  # known names given more than once, in file order

    def missing(self, needed: tuple[str, ...] | list[str]) -> list[str]:
        return [name for name in needed if name not in self.positions]


def header_names(cells: list[str]) -> list[str]:
    """Header cells as column names: trimmed, a stray byte-order mark dropped, lower case."""
    return [cell.strip().lstrip("\ufeff").lower() for cell in cells]


def match_header(cells: list[str], is_known: Callable[[str], bool]) -> HeaderMatch:
    positions: dict[str, int] = {}
    unknown: list[str] = []
    repeated: list[str] = []
    for position, name in enumerate(header_names(cells)):
        if is_known(name):
            if name in positions:
                repeated.append(name)
            positions[name] = position
        elif name:
            unknown.append(name)
    return HeaderMatch(positions, tuple(unknown), tuple(repeated))


@dataclass(frozen=True)
class Columns:
    """Where each known column is in a line, and what the header had that we do not know."""

    positions: dict[str, int]
    unknown: tuple[str, ...] = ()
    course_slots: tuple[int, ...] = ()  # the sync users file's course<n>/role<n> pairs
    _getters: dict[tuple[str, ...], Any] = field(default_factory=dict, compare=False, repr=False)

    def value(self, fields_: list[str], name: str) -> str:
        """The value of column `name` as it is; "" for a column absent from the file or the line."""
        position = self.positions.get(name)
        if position is None or position >= len(fields_):
            return ""
        return fields_[position]

    def has(self, name: str) -> bool:
        return name in self.positions

    def pick(self, fields_: list[str], names: tuple[str, ...]) -> list[str]:
        """The values of `names` in a line, stripped; "" for a column absent from the file or the line."""
        getter = self._getters.get(names)
        if getter is None:
            getter = self._getters[names] = _getter(tuple(self.positions.get(n) for n in names))
        take, needed = getter
        if take is not None and len(fields_) >= needed:  # every column there: one C-level pick
            return [value.strip() for value in take(fields_)]
        count = len(fields_)
        return [fields_[p].strip() if p is not None and p < count else "" for p in map(self.positions.get, names)]


def _getter(
    positions: tuple[int | None, ...],
) -> tuple[Callable[[list[str]], tuple[str, ...]] | None, int]:
    if None in positions or len(positions) < 2:
        return None, 0
    return itemgetter(*positions), max(positions) + 1  # type: ignore[type-var, operator]


@dataclass
class Counters:
    """A report's counters. A kind declares its int fields and, as data, the label of each
    (LABELS, in report order) and the counters a refused line adds to (FAILED)."""

    LABELS: ClassVar[dict[str, str]] = {}
    FAILED: ClassVar[tuple[str, ...]] = ()

    def count(self, name: str, amount: int = 1) -> None:
        setattr(self, name, getattr(self, name) + amount)

    def lines(self) -> list[str]:
        return [f"{self.LABELS[f.name]}: {getattr(self, f.name)}" for f in fields(self)]


@dataclass
class ImportCounters(Counters):
    """The seed's six counters of a statistics import (CONTRACT.md section 4)."""

    LABELS: ClassVar[dict[str, str]] = {
        "processed": "records processed",
        "rejected": "records rejected",
        "added": "statistics added",
        "updated": "statistics updated",
        "errors": "errors",
        "warnings": "warnings",
    }
    FAILED: ClassVar[tuple[str, ...]] = ("rejected", "errors")
    processed: int = 0
    rejected: int = 0
    added: int = 0
    updated: int = 0
    errors: int = 0
    warnings: int = 0


@dataclass
class SyncCounters(Counters):
    """The counters of a sync run (CONTRACT.md section 5)."""

    LABELS: ClassVar[dict[str, str]] = {
        "processed": "lines processed",
        "added": "added",
        "updated": "updated",
        "removed": "removed",
        "unchanged": "unchanged",
        "failed": "lines failed",
        "warnings": "warnings",
    }
    FAILED: ClassVar[tuple[str, ...]] = ("failed",)
    processed: int = 0
    added: int = 0
    updated: int = 0
    removed: int = 0
    unchanged: int = 0
    failed: int = 0
    warnings: int = 0
